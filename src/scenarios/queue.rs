//! `queue` — a writer process puts A, B, C on a queue with random pauses, a reader process gets
//! them in an endless loop; the parent joins the writer and then terminates the reader.
//! `mode=rate` pushes many items as fast as possible and measures throughput and latency.
//!
//! The queue is a POSIX message queue (see [`crate::lab::mqueue`]). Each message carries the
//! CLOCK_MONOTONIC time of its put and a sequence number. In items mode the writer and the
//! reader trace every put and get as a channel's spans (see [`crate::lab::channel`]); the
//! runner reads them as they are relayed, as the dashboard does, for latencies and the depth.

use super::{ChannelSpec, Findings, Group, Panel, Scenario};
use crate::event::{Body, Event};
use crate::exit::Exit;
use crate::i18n::Text;
use crate::lab::channel::{self, Traffic};
use crate::lab::children;
use crate::lab::join;
use crate::lab::latency::{Latencies, LatencyHistogram};
use crate::lab::mqueue::{self, MessageQueue};
use crate::lab::run_clock::{SplitMix64, mono_ns, sleep_unless};
use crate::params::{ParamKind, ParamSpec, Params, choice_enum};
use crate::probe::Probe;
use crate::report::Metrics;
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

choice_enum! {
    /// What the writer puts.
    pub(super) enum Mode {
        Items = "items",
        Rate = "rate",
    }
}

const MODE: ParamSpec = Mode::spec(
    "mode",
    Mode::Items,
    "items: put `items` with random pauses, as the tutorial; rate: `count` items as fast as possible",
);

/// Whether the run pushes `count` items as fast as it can, rather than the tutorial's few.
fn is_rate(p: &Params) -> Result<bool, String> {
    Ok(match p.choice::<Mode>("mode")? {
        Mode::Rate => true,
        Mode::Items => false,
    })
}
const ITEMS: ParamSpec = ParamSpec {
    key: "items",
    kind: ParamKind::List {
        max_items: 16,
        max_len: 16,
    },
    default: "A,B,C",
    help: "what the writer puts, comma-separated",
};
const MAX_DELAY: ParamSpec = ParamSpec {
    key: "max_delay_ms",
    kind: ParamKind::Int {
        min: 0,
        max: 10_000,
    },
    default: "1000",
    help: "items: after each put the writer pauses a random 0..this many ms",
};
const CAPACITY: ParamSpec = ParamSpec {
    key: "capacity",
    kind: ParamKind::Int {
        min: 1,
        max: mqueue::DEFAULT_MSG_MAX,
    },
    default: "10",
    help: "messages the queue holds before a put blocks (Linux's default limit is 10)",
};
const COUNT: ParamSpec = ParamSpec {
    key: "count",
    kind: ParamKind::Int {
        min: 1,
        max: 10_000_000,
    },
    default: "100000",
    help: "rate: items to push through the queue",
};
const SEED: ParamSpec = ParamSpec {
    key: "seed",
    kind: ParamKind::Int {
        min: 0,
        max: 1_000_000_000,
    },
    default: "1",
    help: "seed of the random pauses",
};

pub static SCENARIO: Scenario = Scenario::lesson(
    "queue",
    Group::Processes,
    "Queue — a writer and a reader process",
    "a writer process puts items on a kernel message queue, a reader process gets them; the parent joins the writer and terminates the reader",
    include_str!("../../assets/lessons/queue.en.md"),
    &[MODE, ITEMS, MAX_DELAY, CAPACITY, COUNT, SEED],
    run,
)
.with_chinese(
    "Queue — 一个写进程，一个读进程",
    "写进程把数据放进内核消息队列，读进程取出；父进程 join 写进程，再强制终止读进程",
    include_str!("../../assets/lessons/queue.zh.md"),
)
.with_compare("capacity", &["1", "10"])
.with_highlights(&[
    "items_got",
    "items_per_sec",
    "latency_p50_us",
    "latency_p99_us",
    "latency_max_us",
    "depth_max",
    "wall_ms",
])
.with_panel(Panel::Channel(ChannelSpec {
    name: crate::i18n::Phrase::new("queue", "队列"),
}));

/// What the writer and the reader are given: the run's shape (its clock comes with their
/// environment, see `probe::RUN_EPOCH_VAR`).
const CHILD_PARAMS: &[ParamSpec] = &[MODE, ITEMS, MAX_DELAY, COUNT, SEED];

/// The writer process: it puts items on the queue it has as stdin.
pub static WRITER: Scenario = Scenario::child("queue-writer", "Queue writer", CHILD_PARAMS, write);

/// The reader process: it gets items from the queue it has as stdin.
pub static READER: Scenario = Scenario::child("queue-reader", "Queue reader", CHILD_PARAMS, read);

/// Largest message: time stamp, sequence number, and an item of 16 characters of UTF-8.
const MSG_SIZE: i64 = 128;
/// How long one blocking put or get waits before looking at the cancel flag.
const WAIT: Duration = Duration::from_millis(100);
/// Rate mode: the writer reads the queue's depth after every this many puts.
const DEPTH_EVERY: u64 = 256;
/// Per-item metrics go into the report for this many items (a report is one event line).
const ITEM_METRICS: usize = 16;

fn encode(put_ns: u64, seq: u32, item: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(12 + item.len());
    m.extend_from_slice(&put_ns.to_le_bytes());
    m.extend_from_slice(&seq.to_le_bytes());
    m.extend_from_slice(item);
    m
}

fn decode(message: &[u8]) -> Option<(u64, u32, &[u8])> {
    let put_ns = u64::from_le_bytes(message.get(..8)?.try_into().ok()?);
    let seq = u32::from_le_bytes(message.get(8..12)?.try_into().ok()?);
    Some((put_ns, seq, &message[12..]))
}

fn items_of(probe: &Probe) -> Vec<String> {
    probe
        .params()
        .word("items")
        .split(',')
        .map(str::to_string)
        .collect()
}

/// The child's assignments: every parameter it shares with the runner.
fn child_assignments(probe: &Probe) -> Vec<String> {
    probe
        .params()
        .iter()
        .filter(|(k, _)| CHILD_PARAMS.iter().any(|s| s.key == *k))
        .map(|(k, v)| format!("{k}={v}"))
        .collect()
}

/// What the runner learns from its children's events while they run.
#[derive(Default)]
struct Watched {
    traffic: Mutex<Traffic>,
    put: AtomicU64,
    got: AtomicU64,
}

impl Watched {
    /// Called on the relay thread for every event a child writes.
    fn observe(&self, event: &Event) {
        match &event.body {
            Body::Begin { .. } | Body::End { .. } | Body::Count { .. } => {
                let mut traffic = self.traffic.lock().unwrap_or_else(|p| p.into_inner());
                if traffic.observe(event) {
                    self.put.store(traffic.puts.len() as u64, Relaxed);
                    self.got.store(traffic.gets.len() as u64, Relaxed);
                }
            }
            // Rate mode: no line per item, only the children's counters.
            Body::Live { metrics } => {
                if let Some(n) = metrics.get("items_put") {
                    self.put.fetch_max(n.as_f64() as u64, Relaxed);
                }
                if let Some(n) = metrics.get("items_got") {
                    self.got.fetch_max(n.as_f64() as u64, Relaxed);
                }
            }
            _ => {}
        }
    }
}

fn run(probe: &Probe) -> Result<Findings, String> {
    let p = probe.params();
    let rate = is_rate(p)?;
    let items = items_of(probe);
    let capacity = p.int("capacity");
    let count = p.int("count") as u64;
    let expected = if rate { count } else { items.len() as u64 };
    let started = Instant::now();

    let ends = mqueue::create(capacity, MSG_SIZE)
        .map_err(|e| format!("could not create the message queue: {e}"))?;
    probe.log(format!(
        "parent process {} made a message queue of capacity {capacity}",
        std::process::id()
    ));
    let watched = Arc::new(Watched::default());
    let args = child_assignments(probe);
    let spawn = |scenario: &Scenario, role: &str, end| {
        let w = watched.clone();
        children::spawn_with(
            probe,
            scenario.id,
            role,
            &args,
            Stdio::from(end),
            move |e: &Event| w.observe(e),
        )
        .map_err(|e| format!("could not start the {role} process: {e}"))
    };
    // The reader first: A's latency then measures the queue, not a process starting up.
    let reader = spawn(&READER, "reader", ends.reader)?;
    let writer = spawn(&WRITER, "writer", ends.writer)?;
    let watch = ends.watch;
    let depth_max = AtomicU64::new(0);
    let snapshot = |m: &mut Metrics| {
        let depth = watch.depth().unwrap_or(0);
        depth_max.fetch_max(depth, Relaxed);
        let got = watched.got.load(Relaxed);
        m.set("queue_depth", depth);
        m.set("capacity", capacity);
        m.set("items_put", watched.put.load(Relaxed));
        m.set("items_got", got);
        m.set("progress_pct", got as f64 * 100.0 / expected as f64);
        m.set(channel::ITEMS_EXPECTED, expected);
    };
    let (writer_end, reader_end) = probe.with_live(snapshot, || {
        let w = join::join(writer, probe);
        probe.log(format!("writer {} joined: {}", w.pid, w.exit));
        if rate {
            // The reader stops by itself after `count` items.
            return (w, join::join(reader, probe));
        }
        // The reader loops forever; let it take what is in the queue, then terminate it.
        let deadline = Instant::now() + Duration::from_secs(2);
        while watched.got.load(Relaxed) < watched.put.load(Relaxed)
            && Instant::now() < deadline
            && !probe.cancelled()
        {
            std::thread::sleep(Duration::from_millis(2));
        }
        probe.log(format!(
            "the reader {} loops forever: terminate() sends it SIGTERM",
            reader.pid
        ));
        reader.terminate();
        let r = join::join(reader, probe);
        probe.log(format!("reader {} ended: {}", r.pid, r.exit));
        (w, r)
    });
    let wall_ms = started.elapsed().as_secs_f64() * 1000.0;

    let mut m = Metrics::default();
    let mut notes = Vec::new();
    m.set("capacity", capacity);
    let ok = if rate {
        let writer = writer_end.report.as_ref().map(|r| &r.metrics);
        let sampled = writer.and_then(|w| w.get("depth_max"));
        depth_max.fetch_max(sampled.map_or(0, |d| d.as_f64() as u64), Relaxed);
        let put = writer.and_then(|w| w.get("items_put"));
        m.set("items_put", put.map_or(0, |n| n.as_f64() as u64));
        rate_findings(&mut m, &mut notes, &reader_end, count, capacity)
    } else {
        let traffic = watched
            .traffic
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        item_findings(&mut m, &mut notes, &traffic, &items, reader_end.exit)
    };
    // Items mode knows the depth after every put and get; rate mode only samples it.
    let from_events = m.get("depth_max").map_or(0, |d| d.as_f64() as u64);
    m.set("depth_max", from_events.max(depth_max.load(Relaxed)));
    m.set("wall_ms", wall_ms);
    if !writer_end.exit.success() {
        let exit = writer_end.exit;
        notes.push(Text::new(
            format!("the writer ended with {exit}"),
            format!("写进程以 {exit} 结束"),
        ));
    }
    Ok(Findings {
        ok: ok && writer_end.exit.success() && !probe.cancelled(),
        wall_ms,
        metrics: m,
        notes,
    })
}

/// Items mode: what was put and got, in which order, with which latency; the reader's end.
fn item_findings(
    m: &mut Metrics,
    notes: &mut Vec<Text>,
    traffic: &Traffic,
    items: &[String],
    reader_exit: Exit,
) -> bool {
    m.set("items", items.len() as u64);
    m.set("items_put", traffic.puts.len() as u64);
    m.set("items_got", traffic.gets.len() as u64);
    // The gets in the order they happened, whatever order their events arrived in.
    let mut gets: Vec<&channel::Step> = traffic.gets.values().collect();
    gets.sort_by(|a, b| a.at_ms.total_cmp(&b.at_ms));
    let in_order = gets
        .iter()
        .map(|g| g.item.as_str())
        .eq(items.iter().map(String::as_str));
    m.set("got_in_order", u64::from(in_order));
    // A queue is first in, first out: the i-th get took the i-th put.
    let mut latencies: Vec<u64> = Vec::new();
    for (&i, put) in &traffic.puts {
        let (Some(get), Some(ms)) = (traffic.gets.get(&i), traffic.latency_ms(i)) else {
            continue;
        };
        let ns = (ms * 1e6).round() as u64;
        latencies.push(ns);
        if (i as usize) < ITEM_METRICS {
            m.set(&format!("item_{i}_put_ms"), put.at_ms);
            m.set(&format!("item_{i}_get_ms"), get.at_ms);
            m.set(&format!("item_{i}_latency_us"), ns as f64 / 1e3);
        }
    }
    if let Some(l) = Latencies::of(&latencies) {
        l.add_to(m, "latency");
    }
    // The depth each process read just after its put or get: measured, not inferred (a
    // writer blocked in put() would count as queued if it were worked out from the times).
    m.set("depth_max", traffic.depth_max());
    let terminated = reader_exit == Exit::Signal(nix::libc::SIGTERM);
    m.set("reader_terminated", u64::from(terminated));

    let got: Vec<&str> = gets.iter().map(|g| g.item.as_str()).collect();
    notes.push(order_note(&got, items));
    notes.push(if terminated {
        Text::new(
            "the reader, blocked in get() waiting for more, was terminated: signal 15 (SIGTERM)",
            "读进程阻塞在 get() 里等待更多数据，被 terminate() 强制终止：信号 15（SIGTERM）",
        )
    } else {
        Text::new(
            format!("the reader was not ended by SIGTERM: {reader_exit}"),
            format!("读进程不是被 SIGTERM 终止的：{reader_exit}"),
        )
    });
    in_order && terminated
}

/// Whether the reader got every item, in the order they were put: first in, first out.
fn order_note(got: &[&str], items: &[String]) -> Text {
    let (got_list, put_list) = (got.join(", "), items.join(", "));
    let in_order = got.iter().copied().eq(items.iter().map(String::as_str));
    // In order as far as it went: the items it got are the first ones put, in their order.
    let a_prefix = items
        .iter()
        .map(String::as_str)
        .take(got.len())
        .eq(got.iter().copied());
    let (n, all) = (got.len(), items.len());
    if in_order {
        Text::new(
            format!("the reader got {got_list} in the order they were put: first in, first out"),
            format!("读进程按放入的顺序取到了 {got_list}：先进先出"),
        )
    } else if a_prefix {
        Text::new(
            format!(
                "the reader got only {n} of {all} items ({got_list}), in the order they were put"
            ),
            format!("读进程只取到了 {all} 项中的 {n} 项（{got_list}），顺序与放入时相同"),
        )
    } else {
        Text::new(
            format!("the reader got [{got_list}], not in the order they were put: [{put_list}]"),
            format!("读进程取到的是 [{got_list}]，与放入的顺序 [{put_list}] 不同"),
        )
    }
}

/// Rate mode: the reader's own figures (it measured every item's latency).
fn rate_findings(
    m: &mut Metrics,
    notes: &mut Vec<Text>,
    reader: &children::WorkerEnd,
    count: u64,
    capacity: i64,
) -> bool {
    let Some(report) = &reader.report else {
        notes.push(Text::new(
            format!("the reader ended ({}) without a report", reader.exit),
            format!("读进程结束了（{}），没有留下报告", reader.exit),
        ));
        return false;
    };
    m.set("count", count);
    for (name, value) in report.metrics.iter() {
        if name != "wall_ms" {
            m.set(name, value);
        }
    }
    let got = report
        .metrics
        .get("items_got")
        .map_or(0, |n| n.as_f64() as u64);
    let rate = report
        .metrics
        .get("items_per_sec")
        .map_or(0.0, |n| n.as_f64());
    let p50 = report
        .metrics
        .get("latency_p50_us")
        .map_or(0.0, |n| n.as_f64());
    notes.push(Text::new(
        format!(
            "{got} items through a queue of {capacity}: {rate:.0} items/s; median latency {p50:.1} µs, from just before put() to just after get(), waiting in line included"
        ),
        format!(
            "{got} 项经过容量为 {capacity} 的队列：每秒 {rate:.0} 项；延迟中位数 {p50:.1} µs，从 put() 之前到 get() 之后，排队的时间也算在内"
        ),
    ));
    if got < count {
        notes.push(Text::new(
            format!("only {got} of the {count} items came through before the run ended"),
            format!("运行结束前只有 {count} 项中的 {got} 项通过了队列"),
        ));
    }
    got == count && reader.exit.success()
}

/// Puts one message, waiting for room as long as it takes, unless the run is cancelled.
fn put(queue: &MessageQueue, message: &[u8], probe: &Probe) -> Result<bool, String> {
    loop {
        if probe.cancelled() {
            return Ok(false);
        }
        match queue.send(message, WAIT) {
            Ok(true) => return Ok(true),
            Ok(false) => {}
            Err(e) => return Err(format!("put failed: {e}")),
        }
    }
}

/// The writer: puts every item (items) or `count` numbered items as fast as it can (rate).
fn write(probe: &Probe) -> Result<Findings, String> {
    let p = probe.params();
    // SAFETY: the runner gave this process the queue's write end as stdin; nothing else uses fd 0.
    let queue = unsafe { MessageQueue::from_stdin() };
    let started = Instant::now();
    let put_count = AtomicU64::new(0);
    let depth_max = AtomicU64::new(0);
    probe.log(format!("process to write: {}", std::process::id()));
    if is_rate(p)? {
        let count = p.int("count") as u64;
        let snapshot = |m: &mut Metrics| m.set("items_put", put_count.load(Relaxed));
        probe.with_live(snapshot, || -> Result<(), String> {
            for seq in 0..count {
                let message = encode(mono_ns(), seq as u32, b"");
                if !put(&queue, &message, probe)? {
                    break;
                }
                put_count.store(seq + 1, Relaxed);
                // A fast run can end between two of the runner's looks: sample the depth here too.
                if seq % DEPTH_EVERY == 0 {
                    depth_max.fetch_max(queue.depth().unwrap_or(0), Relaxed);
                }
            }
            Ok(())
        })?;
    } else {
        let mut rng = SplitMix64::new(p.int("seed") as u64);
        let max_delay = p.int("max_delay_ms") as u64;
        for (seq, item) in items_of(probe).iter().enumerate() {
            let span = probe.span_in(channel::PUT, item.clone(), Some(seq as u64));
            let put_ns = mono_ns();
            if !put(&queue, &encode(put_ns, seq as u32, item.as_bytes()), probe)? {
                break;
            }
            drop(span);
            put_count.fetch_add(1, Relaxed);
            probe.count(channel::DEPTH, queue.depth().unwrap_or(0) as f64);
            // As the tutorial's writer prints it.
            probe.log(format!("put {item} to queue..."));
            if !sleep_unless(rng.up_to(max_delay), || probe.cancelled()) {
                break;
            }
        }
    }
    let mut m = Metrics::default();
    m.set("items_put", put_count.load(Relaxed));
    m.set("depth_max", depth_max.load(Relaxed));
    Ok(Findings {
        ok: true,
        wall_ms: started.elapsed().as_secs_f64() * 1000.0,
        metrics: m,
        notes: vec![],
    })
}

/// The reader: gets forever (items; SIGTERM ends it), or exactly `count` items (rate).
fn read(probe: &Probe) -> Result<Findings, String> {
    let p = probe.params();
    // SAFETY: the runner gave this process the queue's read end as stdin; nothing else uses fd 0.
    let queue = unsafe { MessageQueue::from_stdin() };
    let mut buf = vec![0u8; queue.msg_size().map_err(|e| e.to_string())?];
    let started = Instant::now();
    probe.log(format!("process to read: {}", std::process::id()));
    if is_rate(p)? {
        return read_rate(probe, &queue, &mut buf, p.int("count") as u64);
    }
    // Like a Python process, let SIGTERM kill: terminate() ends the endless loop for good.
    // SAFETY: restoring a signal's default action has no preconditions.
    unsafe {
        let _ = nix::sys::signal::signal(
            nix::sys::signal::Signal::SIGTERM,
            nix::sys::signal::SigHandler::SigDfl,
        );
    }
    let mut got = 0u64;
    let mut waiting_since = probe.elapsed_ms();
    while !probe.cancelled() {
        let Some(n) = queue
            .receive(&mut buf, WAIT)
            .map_err(|e| format!("get failed: {e}"))?
        else {
            continue;
        };
        let Some((_, _, item)) = decode(&buf[..n]) else {
            return Err(format!(
                "a message of {n} bytes is not one this scenario put"
            ));
        };
        let item = String::from_utf8_lossy(item).into_owned();
        // The get: from when the reader began to wait for this item to now, the got-th.
        probe.span_since(waiting_since, channel::GET, item.clone(), Some(got));
        got += 1;
        probe.count(channel::DEPTH, queue.depth().unwrap_or(0) as f64);
        waiting_since = probe.elapsed_ms();
        // As the tutorial's reader prints it.
        probe.log(format!("get {item} from queue"));
    }
    let mut m = Metrics::default();
    m.set("items_got", got);
    Ok(Findings {
        ok: true,
        wall_ms: started.elapsed().as_secs_f64() * 1000.0,
        metrics: m,
        notes: vec![],
    })
}

fn read_rate(
    probe: &Probe,
    queue: &MessageQueue,
    buf: &mut [u8],
    count: u64,
) -> Result<Findings, String> {
    let started = Instant::now();
    let got = AtomicU64::new(0);
    let mut latencies = LatencyHistogram::default();
    let mut first_put = None;
    let mut last_get = 0;
    let snapshot = |m: &mut Metrics| m.set("items_got", got.load(Relaxed));
    probe.with_live(snapshot, || -> Result<(), String> {
        while latencies.len() < count && !probe.cancelled() {
            let Some(n) = queue
                .receive(buf, WAIT)
                .map_err(|e| format!("get failed: {e}"))?
            else {
                continue;
            };
            let now = mono_ns();
            let (put_ns, _, _) = decode(&buf[..n]).ok_or("a message too short to be ours")?;
            first_put.get_or_insert(put_ns);
            last_get = now;
            latencies.record(now.saturating_sub(put_ns));
            got.store(latencies.len(), Relaxed);
        }
        Ok(())
    })?;
    let n = latencies.len();
    let mut m = Metrics::default();
    m.set("items_got", n);
    if let Some(first) = first_put {
        let secs = last_get.saturating_sub(first) as f64 / 1e9;
        m.set(
            "items_per_sec",
            if secs > 0.0 { n as f64 / secs } else { 0.0 },
        );
    }
    if let Some(l) = latencies.summary() {
        l.add_to(&mut m, "latency");
    }
    Ok(Findings {
        ok: true,
        wall_ms: started.elapsed().as_secs_f64() * 1000.0,
        metrics: m,
        notes: vec![],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_carry_time_sequence_and_item() {
        let m = encode(123_456_789, 7, "Ä".as_bytes());
        assert_eq!(decode(&m), Some((123_456_789, 7, "Ä".as_bytes())));
        assert_eq!(decode(&m[..5]), None);
    }

    fn items(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn items_out_of_order_are_not_called_in_order() {
        let put = items(&["A", "B", "C"]);
        let v = order_note(&["B", "A", "C"], &put);
        assert!(
            v.en.contains("not in the order they were put: [A, B, C]"),
            "{v:?}"
        );
        assert!(v.zh.contains("不同"), "{v:?}");
        // Fewer than were put: in order as far as it went, and says how many.
        let v = order_note(&["A", "B"], &put);
        assert!(v.en.contains("only 2 of 3 items (A, B)"), "{v:?}");
        assert!(!v.en.contains("first in, first out"), "{v:?}");
        let v = order_note(&["A", "C"], &put);
        assert!(v.en.contains("not in the order"), "{v:?}");
        let v = order_note(&["A", "B", "C"], &put);
        assert!(
            v.en.contains("got A, B, C in the order they were put"),
            "{v:?}"
        );
        assert!(v.zh.contains("先进先出"), "{v:?}");
    }

    #[test]
    fn a_rate_run_that_fell_short_says_so() {
        let mut metrics = Metrics::default();
        metrics.set("items_got", 50u64);
        metrics.set("items_per_sec", 1000.0);
        metrics.set("latency_p50_us", 12.5);
        let reader = children::WorkerEnd {
            pid: 9,
            exit: Exit::Code(0),
            report: Some(crate::report::Report {
                scenario: READER.id.into(),
                ok: true,
                wall_ms: 50.0,
                metrics,
                cancelled: true,
                ..crate::report::Report::default()
            }),
        };
        let (mut m, mut notes) = (Metrics::default(), Vec::new());
        assert!(!rate_findings(&mut m, &mut notes, &reader, 100, 10));
        assert!(
            notes[0].en.starts_with("50 items through a queue of 10"),
            "{notes:?}"
        );
        assert!(
            notes[1].en.contains("only 50 of the 100 items"),
            "{notes:?}"
        );
        assert!(notes.iter().all(|n| n.is_translated()), "{notes:?}");
        let (mut m, mut notes) = (Metrics::default(), Vec::new());
        assert!(rate_findings(&mut m, &mut notes, &reader, 50, 10));
        assert_eq!(notes.len(), 1, "{notes:?}");
    }

    #[test]
    fn items_in_order_and_terminated() {
        // As the writer (pid 2) and the reader (pid 3) trace them.
        let step = |t, pid, body| Event::new(t, pid, body);
        let begin = |span, cat: &str, item: &str, flow| Body::Begin {
            span,
            cat: cat.into(),
            name: item.into(),
            tid: None,
            flow: Some(flow),
        };
        let depth = |d: f64| Body::Count {
            name: channel::DEPTH.into(),
            value: d,
        };
        let mut seen = Traffic::default();
        for e in [
            step(1.0, 2, begin(1, channel::PUT, "A", 0)),
            step(1.0, 2, depth(1.0)),
            step(0.5, 3, begin(1, channel::GET, "A", 0)),
            step(1.05, 3, Body::End { span: 1 }),
            step(1.05, 3, depth(0.0)),
            step(2.0, 2, begin(2, channel::PUT, "B", 1)),
            step(2.0, 2, depth(1.0)),
            step(1.05, 3, begin(2, channel::GET, "B", 1)),
            step(2.5, 3, Body::End { span: 2 }),
            step(2.5, 3, depth(0.0)),
        ] {
            seen.observe(&e);
        }
        let mut m = Metrics::default();
        let mut notes = Vec::new();
        let items = vec!["A".to_string(), "B".to_string()];
        assert!(item_findings(
            &mut m,
            &mut notes,
            &seen,
            &items,
            Exit::Signal(nix::libc::SIGTERM)
        ));
        assert_eq!(m.get("got_in_order").unwrap().as_f64(), 1.0);
        assert_eq!(m.get("item_1_latency_us").unwrap().as_f64(), 500.0);
        assert_eq!(m.get("depth_max").unwrap().as_f64(), 1.0);
        assert!(!item_findings(
            &mut m,
            &mut notes,
            &seen,
            &items,
            Exit::Code(0)
        ));
    }
}
