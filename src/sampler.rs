//! The sampler thread: one `sysinfo::System` for the dashboard's life. Every interval it
//! measures per-core CPU, the dashboard's own CPU%, and the runners with their descendants,
//! and sends one boxed snapshot to the UI thread.

use crossbeam_channel::{Receiver, Sender};
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use sysinfo::{Pid, ProcessRefreshKind, ProcessesToUpdate, System};

/// One process as the sampler saw it.
#[derive(Debug, Clone, PartialEq)]
pub struct ProcSample {
    pub pid: u32,
    pub ppid: u32,
    pub name: String,
    /// One letter as in `ps`: R running, S sleeping, D disk wait, Z zombie, T stopped.
    pub state: char,
    /// Percent of one core.
    pub cpu_pct: f32,
    pub threads: u32,
    /// Its threads, with their own CPU% and context switches.
    pub tasks: Vec<ThreadSample>,
}

/// One thread of a watched process.
#[derive(Debug, Clone, PartialEq)]
pub struct ThreadSample {
    pub tid: u32,
    pub name: String,
    pub state: char,
    /// Percent of one core since the previous sample.
    pub cpu_pct: f32,
    /// The core it last ran on.
    pub core: u32,
    pub voluntary_switches: u64,
    pub involuntary_switches: u64,
}

/// Each thread's CPU ticks at the previous sample, to turn totals into a rate.
#[derive(Default)]
struct TickHistory {
    at: Option<Instant>,
    ticks: HashMap<u32, u64>,
}

/// What one sampling tick saw.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Sample {
    /// Busy percent of each core, 0–100.
    pub cores: Vec<f32>,
    /// Busy percent over all cores, 0–100.
    pub total: f32,
    /// The dashboard's own CPU, percent of one core.
    pub self_cpu_pct: f32,
    /// The tracked runners and all their descendants.
    pub processes: Vec<ProcSample>,
}

/// What the sampler should watch, set by the UI thread: the runners (with their process
/// trees), and whether their threads are on screen (reading every thread's /proc files is
/// only worth it then).
#[derive(Debug, Default)]
pub struct Tracked {
    runners: Mutex<HashSet<u32>>,
    threads: AtomicBool,
}

impl Tracked {
    pub fn set_runners(&self, pids: HashSet<u32>) {
        if let Ok(mut set) = self.runners.lock()
            && *set != pids
        {
            *set = pids;
        }
    }

    pub fn set_threads(&self, wanted: bool) {
        self.threads.store(wanted, Ordering::Relaxed);
    }

    fn runners(&self) -> Vec<u32> {
        self.runners
            .lock()
            .map(|t| t.iter().copied().collect())
            .unwrap_or_default()
    }
}

/// Starts the sampler. It stops when the receiving side of `samples` is dropped, or
/// when `stop` receives (or is disconnected).
pub fn spawn(
    interval: Duration,
    tracked: Arc<Tracked>,
    samples: Sender<Box<Sample>>,
    stop: Receiver<()>,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    let interval = interval.max(sysinfo::MINIMUM_CPU_UPDATE_INTERVAL);
    std::thread::Builder::new()
        .name("sampler".into())
        .spawn(move || {
            let Ok(mut system) = System::new() else {
                return;
            };
            let me = Pid::from_u32(std::process::id());
            let mut history = TickHistory::default();
            // The first CPU reading only sets the baseline; usage comes from the difference.
            system.refresh_cpu_usage();
            loop {
                match stop.recv_timeout(interval) {
                    Err(crossbeam_channel::RecvTimeoutError::Timeout) => {}
                    _ => return,
                }
                let mut sample = take_sample(&mut system, me, &tracked.runners());
                if tracked.threads.load(Ordering::Relaxed) {
                    add_threads(&mut sample.processes, &mut history);
                } else {
                    history = TickHistory::default();
                }
                if samples.send(Box::new(sample)).is_err() {
                    return;
                }
            }
        })
}

fn take_sample(system: &mut System, me: Pid, roots: &[u32]) -> Sample {
    system.refresh_cpu_usage();
    let cores: Vec<f32> = system.cpus().iter().map(|c| c.usage()).collect();
    let total = system.global_cpu_usage();
    let kind = ProcessRefreshKind::nothing().with_cpu().without_tasks();
    // Scanning every process is only worth it while runners exist; at idle, only ourselves.
    let to_update = if roots.is_empty() {
        ProcessesToUpdate::Some(&[me])
    } else {
        ProcessesToUpdate::All
    };
    system.refresh_processes_specifics(to_update, true, kind);
    let self_cpu_pct = system.process(me).map(|p| p.cpu_usage()).unwrap_or(0.0);
    let processes = if roots.is_empty() {
        Vec::new()
    } else {
        descendants(system, roots)
    };
    Sample {
        cores,
        total,
        self_cpu_pct,
        processes,
    }
}

/// The roots and every process below them, parents before children.
fn descendants(system: &System, roots: &[u32]) -> Vec<ProcSample> {
    let mut children: HashMap<u32, Vec<u32>> = HashMap::new();
    for (pid, p) in system.processes() {
        if let Some(parent) = p.parent() {
            children
                .entry(parent.as_u32())
                .or_default()
                .push(pid.as_u32());
        }
    }
    let mut out = Vec::new();
    let mut queue: VecDeque<u32> = roots.iter().copied().collect();
    while let Some(pid) = queue.pop_front() {
        let Some(p) = system.process(Pid::from_u32(pid)) else {
            continue;
        };
        out.push(describe(pid, p));
        queue.extend(children.get(&pid).into_iter().flatten());
    }
    out
}

fn describe(pid: u32, p: &sysinfo::Process) -> ProcSample {
    let stat = crate::procfs::stat(pid);
    ProcSample {
        pid,
        ppid: p.parent().map(|pp| pp.as_u32()).unwrap_or(0),
        name: p.name().to_string_lossy().into_owned(),
        state: stat.map(|s| s.state).unwrap_or('?'),
        cpu_pct: p.cpu_usage(),
        threads: stat.map(|s| s.threads).unwrap_or(0),
        tasks: Vec::new(),
    }
}

/// Fills in every watched process's threads, with CPU% from the tick difference.
fn add_threads(processes: &mut [ProcSample], history: &mut TickHistory) {
    let now = Instant::now();
    let elapsed = history
        .at
        .map(|t| now - t)
        .unwrap_or_default()
        .as_secs_f64();
    let per_tick = 100.0 / crate::procfs::ticks_per_second();
    let mut ticks = HashMap::new();
    for p in processes.iter_mut() {
        p.tasks = crate::procfs::tasks(p.pid)
            .into_iter()
            .map(|t| {
                let before = history.ticks.get(&t.tid).copied();
                ticks.insert(t.tid, t.stat.cpu_ticks);
                let cpu_pct = match before {
                    Some(b) if elapsed > 0.0 => {
                        (t.stat.cpu_ticks.saturating_sub(b) as f64 * per_tick / elapsed) as f32
                    }
                    _ => 0.0,
                };
                ThreadSample {
                    tid: t.tid,
                    name: t.name,
                    state: t.stat.state,
                    cpu_pct,
                    core: t.stat.processor,
                    voluntary_switches: t.voluntary_switches,
                    involuntary_switches: t.involuntary_switches,
                }
            })
            .collect();
    }
    *history = TickHistory {
        at: Some(now),
        ticks,
    };
}
