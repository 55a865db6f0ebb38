//! The same tasks through Redis Streams, for when one master is not enough: the master adds
//! each task to a stream (`XADD`); workers read it through a consumer group (`XREADGROUP`),
//! which remembers who holds what; a worker acknowledges a task (`XACK`) with its result on a
//! second stream; an entry held longer than the lease is taken over by another worker
//! (`XAUTOCLAIM`). The queues then live in Redis, not in the master: they outlive it.

use super::master::{Happening, Outcome, Plan, Stats, Watcher};
use redis::Value;
use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

/// The consumer group every worker reads through.
pub const GROUP: &str = "workers";
/// Where `conlab master --redis` and `conlab worker --redis` meet unless told otherwise.
pub const DEFAULT_QUEUE: &str = "conlab";

/// The keys of one queue: its tasks, its results, the lease, and the "every task is done" flag.
#[derive(Debug, Clone)]
pub struct Keys {
    tasks: String,
    results: String,
    lease: String,
    done: String,
}

impl Keys {
    pub fn new(queue: &str) -> Keys {
        Keys {
            tasks: format!("{queue}:tasks"),
            results: format!("{queue}:results"),
            lease: format!("{queue}:lease_ms"),
            done: format!("{queue}:done"),
        }
    }
}

/// A connection to the Redis at `url`, or an error that names the URL tried.
pub fn connect(url: &str) -> Result<redis::Connection, String> {
    let client = redis::Client::open(url)
        .map_err(|e| format!("{url} is not a Redis URL (redis://HOST:PORT/): {e}"))?;
    client
        .get_connection_with_timeout(Duration::from_secs(2))
        .map_err(|e| format!("cannot reach Redis at {url}: {e}"))
}

fn failed(e: redis::RedisError) -> String {
    format!("Redis: {e}")
}

fn text(v: &Value) -> String {
    match v {
        Value::BulkString(b) => String::from_utf8_lossy(b).into_owned(),
        Value::SimpleString(s) => s.clone(),
        Value::Int(n) => n.to_string(),
        _ => String::new(),
    }
}

/// A stream entry: its id and its fields.
type Entry = (String, HashMap<String, String>);

/// The entries of one `[id, [field, value, ...]]` list (deleted entries, nil, are skipped).
fn entries(list: &Value) -> Vec<Entry> {
    let Value::Array(items) = list else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(|item| {
            let Value::Array(pair) = item else {
                return None;
            };
            let (id, Value::Array(fields)) = (pair.first()?, pair.get(1)?) else {
                return None;
            };
            let fields = fields
                .chunks(2)
                .filter_map(|kv| Some((text(kv.first()?), text(kv.get(1)?))))
                .collect();
            Some((text(id), fields))
        })
        .collect()
}

/// The entries of an `XREAD`/`XREADGROUP` reply on one stream (nil: none arrived).
fn read_reply(v: &Value) -> Vec<Entry> {
    match v {
        Value::Array(streams) => streams
            .iter()
            .filter_map(|s| match s {
                Value::Array(pair) => pair.get(1).map(entries),
                _ => None,
            })
            .flatten()
            .collect(),
        Value::Map(streams) => streams.iter().flat_map(|(_, e)| entries(e)).collect(),
        _ => Vec::new(),
    }
}

/// The master's side: puts the tasks, then collects results until each task has one.
pub struct RedisMaster {
    con: redis::Connection,
    keys: Keys,
    plan: Plan,
    results: BTreeMap<u64, String>,
    dead: Vec<u64>,
    stats: Stats,
    last_result: String,
    last_scan: Instant,
}

impl RedisMaster {
    /// Starts afresh on `queue` (its old keys are removed) with `plan`'s tasks.
    pub fn start(url: &str, queue: &str, plan: Plan) -> Result<RedisMaster, String> {
        let mut con = connect(url)?;
        let keys = Keys::new(queue);
        redis::cmd("DEL")
            .arg(&keys.tasks)
            .arg(&keys.results)
            .arg(&keys.done)
            .arg(&keys.lease)
            .exec(&mut con)
            .map_err(failed)?;
        redis::cmd("SET")
            .arg(&keys.lease)
            .arg(plan.lease.as_millis() as u64)
            .exec(&mut con)
            .map_err(failed)?;
        redis::cmd("XGROUP")
            .arg("CREATE")
            .arg(&keys.tasks)
            .arg(GROUP)
            .arg("0")
            .arg("MKSTREAM")
            .exec(&mut con)
            .map_err(failed)?;
        for (chunk_start, chunk) in plan.numbers.chunks(1000).enumerate() {
            let mut pipe = redis::pipe();
            for (i, n) in chunk.iter().enumerate() {
                let task = (chunk_start * 1000 + i) as u64;
                pipe.cmd("XADD")
                    .arg(&keys.tasks)
                    .arg("*")
                    .arg("task")
                    .arg(task)
                    .arg("n")
                    .arg(*n)
                    .arg("work_ms")
                    .arg(plan.work_ms)
                    .ignore();
            }
            pipe.exec(&mut con).map_err(failed)?;
        }
        Ok(RedisMaster {
            con,
            keys,
            plan,
            results: BTreeMap::new(),
            dead: Vec::new(),
            stats: Stats::default(),
            last_result: "0-0".into(),
            last_scan: Instant::now(),
        })
    }

    pub fn finished(&self) -> bool {
        self.results.len() + self.dead.len() >= self.plan.numbers.len()
    }

    /// Results so far, and how many tasks are still to do.
    pub fn progress(&self) -> (usize, usize) {
        let settled = self.results.len() + self.dead.len();
        (self.results.len(), self.plan.numbers.len() - settled)
    }

    /// Takes the results that arrive within `wait` (each task's first; later ones are
    /// duplicates), and sets aside tasks whose entries were delivered `max_attempts` times.
    pub fn poll(&mut self, wait: Duration, watcher: &dyn Watcher) -> Result<(), String> {
        let reply: Value = redis::cmd("XREAD")
            .arg("COUNT")
            .arg(1000)
            .arg("BLOCK")
            .arg(wait.as_millis().max(1) as u64)
            .arg("STREAMS")
            .arg(&self.keys.results)
            .arg(&self.last_result)
            .query(&mut self.con)
            .map_err(failed)?;
        for (id, f) in read_reply(&reply) {
            self.last_result = id;
            let (Some(task), Some(value)) = (
                f.get("task").and_then(|t| t.parse::<u64>().ok()),
                f.get("value"),
            ) else {
                self.stats.bad_messages += 1;
                continue;
            };
            let pid = f.get("pid").and_then(|p| p.parse().ok()).unwrap_or(0);
            if f.get("claimed").is_some_and(|c| c == "1") {
                self.stats.leases_expired += 1;
                self.stats.retried += 1;
            }
            if task >= self.plan.numbers.len() as u64 {
                self.stats.bad_messages += 1;
            } else if self.results.contains_key(&task) {
                self.stats.duplicates += 1;
                watcher.saw(Happening::Duplicate { task, pid });
            } else {
                self.dead.retain(|&t| t != task);
                self.results.insert(task, value.clone());
                watcher.saw(Happening::Done {
                    task,
                    pid,
                    value: value.clone(),
                });
            }
        }
        if self.last_scan.elapsed() >= self.plan.lease / 2 {
            self.last_scan = Instant::now();
            self.set_aside_dead(watcher)?;
        }
        if self.finished() {
            redis::cmd("SET")
                .arg(&self.keys.done)
                .arg(1)
                .exec(&mut self.con)
                .map_err(failed)?;
        }
        Ok(())
    }

    /// Entries idle past their lease after `max_attempts` deliveries: acknowledged, so no
    /// worker claims them again, and listed as dead letters.
    fn set_aside_dead(&mut self, watcher: &dyn Watcher) -> Result<(), String> {
        let pending: Value = redis::cmd("XPENDING")
            .arg(&self.keys.tasks)
            .arg(GROUP)
            .arg("IDLE")
            .arg(self.plan.lease.as_millis() as u64)
            .arg("-")
            .arg("+")
            .arg(100)
            .query(&mut self.con)
            .map_err(failed)?;
        let Value::Array(rows) = pending else {
            return Ok(());
        };
        for row in rows {
            let Value::Array(row) = row else { continue };
            let (Some(id), Some(Value::Int(deliveries))) = (row.first().map(text), row.get(3))
            else {
                continue;
            };
            if *deliveries < i64::from(self.plan.max_attempts) {
                continue;
            }
            let entry: Value = redis::cmd("XRANGE")
                .arg(&self.keys.tasks)
                .arg(&id)
                .arg(&id)
                .query(&mut self.con)
                .map_err(failed)?;
            redis::cmd("XACK")
                .arg(&self.keys.tasks)
                .arg(GROUP)
                .arg(&id)
                .exec(&mut self.con)
                .map_err(failed)?;
            let task = entries(&entry)
                .first()
                .and_then(|(_, f)| f.get("task")?.parse::<u64>().ok());
            if let Some(task) = task.filter(|t| !self.results.contains_key(t)) {
                self.dead.push(task);
                watcher.saw(Happening::DeadLetter {
                    task,
                    attempts: *deliveries as u32,
                });
            }
        }
        Ok(())
    }

    /// The results, and the queue's keys removed.
    pub fn shut_down(mut self) -> Outcome {
        let _ = redis::cmd("DEL")
            .arg(&self.keys.tasks)
            .arg(&self.keys.results)
            .arg(&self.keys.done)
            .arg(&self.keys.lease)
            .exec(&mut self.con);
        Outcome {
            results: self.results,
            dead: self.dead,
            stats: self.stats,
        }
    }
}

/// Whether `e` says the queue is no more (its stream or group was removed).
fn gone(e: &redis::RedisError) -> bool {
    let said = e.to_string();
    said.contains("UNBLOCKED") || said.contains("NOGROUP")
}

/// How often a worker looks for entries another worker held past their lease.
const RECLAIM_EVERY: Duration = Duration::from_millis(100);

/// The worker's side: takes tasks through the consumer group as `consumer`, first any entry
/// held past its lease by a worker that died or hangs, until the master says all are done.
pub fn work(
    url: &str,
    queue: &str,
    consumer: &str,
    hooks: &mut dyn super::worker::Hooks,
) -> Result<u64, String> {
    let mut con = connect(url)?;
    let keys = Keys::new(queue);
    let lease_ms: u64 = redis::cmd("GET")
        .arg(&keys.lease)
        .query::<Option<u64>>(&mut con)
        .map_err(failed)?
        .unwrap_or(3000);
    hooks.joined(url);
    let mut done = 0;
    let mut last_reclaim = Instant::now();
    loop {
        if hooks.cancelled() {
            return Ok(done);
        }
        let mut taken = None;
        if last_reclaim.elapsed() >= RECLAIM_EVERY {
            last_reclaim = Instant::now();
            let reply: redis::RedisResult<Value> = redis::cmd("XAUTOCLAIM")
                .arg(&keys.tasks)
                .arg(GROUP)
                .arg(consumer)
                .arg(lease_ms)
                .arg("0-0")
                .arg("COUNT")
                .arg(1)
                .query(&mut con);
            let reply = match reply {
                Ok(reply) => reply,
                Err(e) if gone(&e) => return Ok(done),
                Err(e) => return Err(failed(e)),
            };
            if let Value::Array(parts) = &reply {
                taken = parts.get(1).and_then(|e| entries(e).into_iter().next());
            }
        }
        let claimed = taken.is_some();
        if taken.is_none() {
            let reply: redis::RedisResult<Value> = redis::cmd("XREADGROUP")
                .arg("GROUP")
                .arg(GROUP)
                .arg(consumer)
                .arg("COUNT")
                .arg(1)
                .arg("BLOCK")
                .arg(100)
                .arg("STREAMS")
                .arg(&keys.tasks)
                .arg(">")
                .query(&mut con);
            match reply {
                Ok(reply) => taken = read_reply(&reply).into_iter().next(),
                // The master removed the queue once every task had its result.
                Err(e) if gone(&e) => return Ok(done),
                Err(e) => return Err(failed(e)),
            }
        }
        let Some((id, fields)) = taken else {
            let finished: bool = redis::cmd("EXISTS")
                .arg(&keys.done)
                .query(&mut con)
                .map_err(failed)?;
            if finished {
                return Ok(done);
            }
            continue;
        };
        let field = |k: &str| fields.get(k).and_then(|v| v.parse::<i64>().ok());
        let (Some(task), Some(n)) = (field("task"), field("n")) else {
            // Not one of ours: acknowledged, so nobody chokes on it again.
            let _ = redis::cmd("XACK")
                .arg(&keys.tasks)
                .arg(GROUP)
                .arg(&id)
                .exec(&mut con);
            continue;
        };
        let task = task as u64;
        let work_ms = field("work_ms").unwrap_or(0) as u64;
        let Some(value) = super::worker::work_on(task, n, work_ms, hooks) else {
            return Ok(done);
        };
        redis::pipe()
            .cmd("XADD")
            .arg(&keys.results)
            .arg("*")
            .arg("task")
            .arg(task)
            .arg("value")
            .arg(&value)
            .arg("pid")
            .arg(std::process::id())
            .arg("claimed")
            .arg(u8::from(claimed))
            .ignore()
            .cmd("XACK")
            .arg(&keys.tasks)
            .arg(GROUP)
            .arg(&id)
            .ignore()
            .exec(&mut con)
            .map_err(failed)?;
        done += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bulk(s: &str) -> Value {
        Value::BulkString(s.as_bytes().to_vec())
    }

    #[test]
    fn a_read_reply_gives_its_entries_and_skips_deleted_ones() {
        let entry = Value::Array(vec![
            bulk("1-0"),
            Value::Array(vec![bulk("task"), bulk("3"), bulk("n"), bulk("7")]),
        ]);
        let reply = Value::Array(vec![Value::Array(vec![
            bulk("q:tasks"),
            Value::Array(vec![entry, Value::Nil]),
        ])]);
        let got = read_reply(&reply);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].0, "1-0");
        assert_eq!(got[0].1["task"], "3");
        assert!(read_reply(&Value::Nil).is_empty());
    }

    #[test]
    fn no_server_is_an_error_naming_the_url() {
        // Port 1 on loopback: nothing listens there.
        let e = connect("redis://127.0.0.1:1/").err().unwrap();
        assert!(
            e.contains("cannot reach Redis at redis://127.0.0.1:1/"),
            "{e}"
        );
        let e = connect("http://x").err().unwrap();
        assert!(e.contains("http://x is not a Redis URL"), "{e}");
    }
}
