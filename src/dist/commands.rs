//! `conlab master` and `conlab worker`: the tutorial's task_master.py and task_worker.py as
//! two commands for two terminals, or two machines. The key comes from a file or
//! `CONLAB_AUTHKEY`, never from the command line, where `ps` shows it to every user.

use super::handshake::AuthKey;
use super::master::{self, Happening, Master, Outcome, Plan, Watcher};
use super::redis_backend::{self, RedisMaster};
use super::wire;
use super::worker::{self, Hooks};
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What `conlab master` serves, from its flags.
#[derive(Debug, Clone)]
pub struct MasterOptions {
    pub bind: String,
    pub tasks: u32,
    pub work_ms: u64,
    pub lease_ms: u64,
    pub max_attempts: u32,
    pub seed: u64,
    /// Through Redis Streams: its URL and the keys' prefix.
    pub redis: Option<(String, String)>,
}

/// Prints what the master sees, one line each, as task_master.py prints its progress.
struct Print;

impl Watcher for Print {
    fn saw(&self, h: Happening) {
        let line = match h {
            Happening::Joined {
                pid, addr, host, ..
            } => {
                format!("worker {pid} on {host} joined from {addr}")
            }
            Happening::Refused { addr, why } => format!("refused {addr}: {}", why.word()),
            Happening::Busy { addr } => format!("refused {addr}: too many handshakes at once"),
            Happening::Leased {
                task,
                n,
                pid,
                attempt,
                ..
            } if attempt > 1 => {
                format!("task {task} ({n}) to worker {pid}, attempt {attempt}")
            }
            Happening::Done { value, pid, .. } => format!("Result: {value} (worker {pid})"),
            Happening::Duplicate { task, pid } => {
                format!("late result of task {task} from worker {pid} dropped: it already has one")
            }
            Happening::Expired { task, pid } => {
                format!("worker {pid} held task {task} past its lease: back on the queue")
            }
            Happening::Lost { task, pid } => {
                format!("worker {pid} left holding task {task}: back on the queue")
            }
            Happening::DeadLetter { task, attempts } => {
                format!("task {task} lost {attempts} leases: set aside (dead letter)")
            }
            Happening::Left { pid, addr, .. } => format!("worker {pid} ({addr}) left"),
            _ => return,
        };
        println!("{line}");
    }
}

/// `conlab master`: puts the tasks, serves them until every one has its result (or is set
/// aside), prints the results, and exits (0 when every task has its result).
pub fn master(options: &MasterOptions, key_file: Option<&Path>) -> ExitCode {
    if options.lease_ms <= options.work_ms {
        return usage(&format!(
            "--lease-ms {} is not longer than --work-ms {}: every task would be taken back before its worker could finish it",
            options.lease_ms, options.work_ms
        ));
    }
    let mut rng = crate::lab::run_clock::SplitMix64::new(options.seed);
    let numbers: Vec<i64> = (0..options.tasks)
        .map(|_| rng.up_to(10_000) as i64)
        .collect();
    let plan = Plan {
        numbers: numbers.clone(),
        work_ms: options.work_ms,
        lease: Duration::from_millis(options.lease_ms),
        max_attempts: options.max_attempts,
    };
    if let Some((url, queue)) = &options.redis {
        return redis_master(url, queue, plan);
    }
    let key = match AuthKey::load(key_file) {
        Ok(key) => key,
        Err(e) => return usage(&e),
    };
    let master = match Master::start(&options.bind, key, plan, Arc::new(Print)) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("conlab: {e}");
            return ExitCode::from(1);
        }
    };
    let addr = master.addr();
    if !master::is_loopback(&addr) {
        eprintln!("conlab: {}", master::exposure_warning(&addr.to_string()));
    }
    println!("master {} listening on {addr}", std::process::id());
    for n in &numbers {
        println!("Put task {n}...");
    }
    println!("Try get results...");
    let started = Instant::now();
    while !master.finished() {
        master.wait_for_change(Duration::from_millis(100));
    }
    let secs = started.elapsed().as_secs_f64();
    finish(&numbers, master.shut_down(), secs)
}

/// The tasks put in Redis at `url` under `queue`; the results read back until each task has one.
fn redis_master(url: &str, queue: &str, plan: Plan) -> ExitCode {
    let numbers = plan.numbers.clone();
    let mut master = match RedisMaster::start(url, queue, plan) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("conlab: {e}");
            return ExitCode::from(1);
        }
    };
    println!(
        "master {} put {} tasks on {queue}:tasks at {url}",
        std::process::id(),
        numbers.len()
    );
    println!("Try get results...");
    let started = Instant::now();
    while !master.finished() {
        if let Err(e) = master.poll(Duration::from_millis(100), &Print) {
            eprintln!("conlab: {e}");
            return ExitCode::from(1);
        }
    }
    let secs = started.elapsed().as_secs_f64();
    finish(&numbers, master.shut_down(), secs)
}

/// Prints what the master counted; success when every task has its right result.
fn finish(numbers: &[i64], outcome: Outcome, secs: f64) -> ExitCode {
    let s = &outcome.stats;
    println!(
        "{} results in {secs:.2} s ({:.0} tasks/s); leases expired {}, lost {}, retried {}, duplicates dropped {}, dead letters {}; refused: wrong key {}, oversize {}, garbage {}, timed out {}",
        outcome.results.len(),
        outcome.results.len() as f64 / secs,
        s.leases_expired,
        s.leases_lost,
        s.retried,
        s.duplicates,
        outcome.dead.len(),
        s.refused_wrong_key,
        s.refused_oversize,
        s.refused_garbage,
        s.timed_out
    );
    let all = outcome
        .results
        .iter()
        .all(|(t, v)| wire::square(numbers[*t as usize]) == *v);
    if all && outcome.dead.is_empty() {
        println!("master exit.");
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// Prints each task as task_worker.py does.
struct Say;

impl Hooks for Say {
    fn joined(&mut self, master: &str) {
        println!("worker {} connected to {master}", std::process::id());
    }
    fn started(&mut self, _task: u64, n: i64) {
        println!("run task {n} * {n}...");
    }
    fn finished(&mut self, _task: u64, value: &str) {
        println!("{value}");
    }
}

/// `conlab worker`: works for the master at `connect` until it has no more tasks.
/// With `redis` (its URL and the keys' prefix), through Redis Streams instead.
pub fn worker(
    connect: Option<&str>,
    redis: Option<&(String, String)>,
    key_file: Option<&Path>,
) -> ExitCode {
    let worked = match (redis, connect) {
        (Some((url, queue)), _) => {
            let consumer = format!("worker-{}", std::process::id());
            redis_backend::work(url, queue, &consumer, &mut Say)
        }
        (None, Some(connect)) => match AuthKey::load(key_file) {
            Ok(key) => worker::run(connect, &key, &mut Say),
            Err(e) => return usage(&e),
        },
        (None, None) => {
            return usage("give the master's address with --connect HOST:PORT, or --redis URL");
        }
    };
    match worked {
        Ok(done) => {
            println!("worker done: {done} tasks.");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("conlab: {}", crate::text_safe::printable(&e));
            ExitCode::from(1)
        }
    }
}

fn usage(message: &str) -> ExitCode {
    eprintln!("conlab: {message}");
    ExitCode::from(2)
}
