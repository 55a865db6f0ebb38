//! The sampler thread: one `sysinfo::System` for the dashboard's life, for per-core CPU.
//! Every interval it measures per-core CPU, the dashboard's own CPU%, and the runners with
//! their descendants (one `stat` read each), sends one boxed snapshot to the UI thread, and
//! hands the runs' observers what it read of their trees, so no tree is walked twice.

use crate::procfs;
use crossbeam_channel::{Receiver, Sender};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use sysinfo::System;

/// One process as the sampler saw it (a dashboard recording keeps it as it is).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProcSample {
    pub pid: u32,
    pub ppid: u32,
    /// Process group: a runner's PID for everything its run started.
    pub pgrp: u32,
    pub name: String,
    /// One letter as in `ps`: R running, S sleeping, D disk wait, Z zombie, T stopped.
    pub state: char,
    /// Percent of one core.
    pub cpu_pct: f32,
    pub threads: u32,
    /// Its threads, with their own CPU% and context switches (only while they are shown).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tasks: Vec<ThreadSample>,
}

/// One thread of a watched process.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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

/// Each process's or thread's CPU ticks at the previous sample, to turn totals into a rate.
/// One not seen at a sample is forgotten.
#[derive(Default)]
struct TickHistory {
    at: Option<Instant>,
    ticks: HashMap<u32, u64>,
}

impl TickHistory {
    /// Starts a sample taken `now`: percent of one core per tick, over the time since the last.
    fn begin(&self, now: Instant) -> Rates {
        let elapsed = self.at.map(|t| now - t).unwrap_or_default();
        Rates {
            at: now,
            pct_per_tick_sec: 100.0 / procfs::ticks_per_second() / elapsed.as_secs_f64(),
            ticks: HashMap::new(),
        }
    }
}

/// A sample being taken: each id's ticks now, and its CPU% since the last sample.
struct Rates {
    at: Instant,
    pct_per_tick_sec: f64,
    ticks: HashMap<u32, u64>,
}

impl Rates {
    /// `id`'s CPU% since the previous sample; 0 when it is new (two readings are needed).
    fn cpu_pct(&mut self, before: &TickHistory, id: u32, ticks: u64) -> f32 {
        self.ticks.insert(id, ticks);
        match before.ticks.get(&id) {
            Some(&b) if self.pct_per_tick_sec.is_finite() => {
                (ticks.saturating_sub(b) as f64 * self.pct_per_tick_sec) as f32
            }
            _ => 0.0,
        }
    }

    fn finish(self) -> TickHistory {
        TickHistory {
            at: Some(self.at),
            ticks: self.ticks,
        }
    }
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
    /// Orphans of a run (adopted by this process) that ended and were reaped here, with how
    /// they ended: nobody else is waiting for them while their run goes on.
    pub reaped: Vec<(u32, crate::exit::Exit)>,
}

/// What the sampler should watch, set by the UI thread: the runners (with their process
/// trees), and whether their threads are on screen (reading every thread's /proc files is
/// only worth it then).
#[derive(Debug, Default)]
pub struct Tracked {
    runners: Mutex<HashSet<u32>>,
    threads: AtomicBool,
    /// The runs' observers, each handed every tick's reading of the trees.
    observers: Mutex<Vec<Sender<Arc<TreeTick>>>>,
}

/// What one tick read of the tracked trees, as an observer of a run needs it
/// (`runner::observe`): the sampler's own readings, so a run's tree is walked once a tick.
#[derive(Debug, Clone, PartialEq)]
pub struct TreeTick {
    pub at: Instant,
    /// Parents before children.
    pub processes: Vec<TreeProc>,
}

/// One process of a tree at one tick.
#[derive(Debug, Clone, PartialEq)]
pub struct TreeProc {
    pub pid: u32,
    pub ppid: u32,
    pub state: char,
    /// The name the kernel keeps (`comm`), read at this tick: it changes at `exec`.
    pub name: String,
    pub threads: u32,
    /// Its threads ready to run (state R: on a core, or waiting for one).
    pub runnable: u32,
}

impl TreeProc {
    /// `pid` as `/proc` shows it now (`None` once it is gone).
    pub fn read(pid: u32) -> Option<TreeProc> {
        let (stat, name) = procfs::stat_and_name(pid)?;
        Some(TreeProc::with_states(
            pid,
            stat.ppid,
            stat.state,
            name,
            stat.threads,
            None,
        ))
    }

    /// A process the sampler read this tick, with its threads when they were read too.
    fn sampled(p: &ProcSample) -> TreeProc {
        let states = (!p.tasks.is_empty()).then(|| p.tasks.iter().map(|t| t.state).collect());
        TreeProc::with_states(p.pid, p.ppid, p.state, p.name.clone(), p.threads, states)
    }

    /// `states`: its threads' states if they were read already; else a process of one thread
    /// is in its thread's state, and only one of several threads has its threads read.
    fn with_states(
        pid: u32,
        ppid: u32,
        state: char,
        name: String,
        threads: u32,
        states: Option<Vec<char>>,
    ) -> TreeProc {
        let states = match states {
            Some(states) => states,
            None if state == 'Z' || threads <= 1 => vec![state],
            None => procfs::task_states(pid),
        };
        TreeProc {
            pid,
            ppid,
            state,
            name,
            threads: states.len() as u32,
            runnable: states.iter().filter(|&&s| s == 'R').count() as u32,
        }
    }
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

    /// Every tick's reading of the trees from now on, until the receiver is dropped.
    pub fn observe(&self) -> Receiver<Arc<TreeTick>> {
        let (tx, rx) = crossbeam_channel::unbounded();
        if let Ok(mut observers) = self.observers.lock() {
            observers.push(tx);
        }
        rx
    }

    /// Hands this tick's processes to every observer still listening.
    fn publish(&self, at: Instant, processes: &[ProcSample]) {
        let Ok(mut observers) = self.observers.lock() else {
            return;
        };
        if observers.is_empty() {
            return;
        }
        let tick = Arc::new(TreeTick {
            at,
            processes: processes.iter().map(TreeProc::sampled).collect(),
        });
        observers.retain(|tx| tx.send(tick.clone()).is_ok());
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
            let Some(mut machine) = Machine::new() else {
                return;
            };
            let mut history = TickHistory::default();
            loop {
                match stop.recv_timeout(interval) {
                    Err(crossbeam_channel::RecvTimeoutError::Timeout) => {}
                    _ => return,
                }
                let mut sample = machine.sample(&tracked.runners());
                if tracked.threads.load(Ordering::Relaxed) {
                    add_threads(&mut sample.processes, &mut history);
                } else {
                    history = TickHistory::default();
                }
                tracked.publish(
                    machine.processes.at.unwrap_or_else(Instant::now),
                    &sample.processes,
                );
                if samples.send(Box::new(sample)).is_err() {
                    return;
                }
            }
        })
}

/// The one `sysinfo::System` (per-core CPU), and the processes' ticks at the last sample.
struct Machine {
    system: System,
    me: u32,
    processes: TickHistory,
}

impl Machine {
    fn new() -> Option<Machine> {
        let mut system = System::new().ok()?;
        // The first CPU reading only sets the baseline; usage comes from the difference.
        system.refresh_cpu_usage();
        Some(Machine {
            system,
            me: std::process::id(),
            processes: TickHistory::default(),
        })
    }

    /// Per-core CPU, and the roots with their descendants: only those processes (and the
    /// dashboard) are read, never the whole machine, each from one `stat` read. A process's
    /// CPU% comes from two readings in a row, so one first seen now has it from the next
    /// tick on.
    fn sample(&mut self, roots: &[u32]) -> Sample {
        let system = &mut self.system;
        system.refresh_cpu_usage();
        let cores: Vec<f32> = system.cpus().iter().map(|c| c.usage()).collect();
        let total = system.global_cpu_usage();
        // A process whose parent died was adopted by the dashboard (a subreaper): it is
        // found by its process group, which is its runner's PID. Once it ends, it is ours
        // to reap.
        let mut reaped = Vec::new();
        let mut roots = roots.to_vec();
        for orphan in procfs::adopted_from(&roots) {
            let ended = procfs::stat(orphan).is_some_and(|s| s.state == 'Z');
            let exit = if ended {
                crate::lifeline::reap_if_ended(orphan)
            } else {
                None
            };
            match exit {
                Some(exit) => reaped.push((orphan, exit)),
                None => roots.push(orphan),
            }
        }
        let mut rates = self.processes.begin(Instant::now());
        let self_cpu_pct = procfs::stat(self.me).map_or(0.0, |s| {
            rates.cpu_pct(&self.processes, self.me, s.cpu_ticks)
        });
        // One stat read a process, which also tells the walk how many threads it has.
        let tree = procfs::walk(&roots, |pid| {
            let (stat, name) = procfs::stat_and_name(pid)?;
            Some(((stat, name), stat.threads))
        });
        let processes = tree
            .into_iter()
            .map(|(pid, (stat, name))| ProcSample {
                pid,
                // From /proc at each tick: an adopted orphan's parent changes.
                ppid: stat.ppid,
                pgrp: stat.pgrp as u32,
                name,
                state: stat.state,
                cpu_pct: rates.cpu_pct(&self.processes, pid, stat.cpu_ticks),
                threads: stat.threads,
                tasks: Vec::new(),
            })
            .collect();
        self.processes = rates.finish();
        Sample {
            cores,
            total,
            self_cpu_pct,
            processes,
            reaped,
        }
    }
}

/// Fills in every watched process's threads, with CPU% from the tick difference.
fn add_threads(processes: &mut [ProcSample], history: &mut TickHistory) {
    let mut rates = history.begin(Instant::now());
    for p in processes.iter_mut() {
        p.tasks = procfs::tasks(p.pid)
            .into_iter()
            .map(|t| ThreadSample {
                tid: t.tid,
                cpu_pct: rates.cpu_pct(history, t.tid, t.stat.cpu_ticks),
                name: t.name,
                state: t.stat.state,
                core: t.stat.processor,
                voluntary_switches: t.voluntary_switches,
                involuntary_switches: t.involuntary_switches,
            })
            .collect();
    }
    *history = rates.finish();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_child_of_a_child_is_sampled_with_its_cpu() {
        let tree = crate::procfs::TestTree::spawn();
        let pids = tree.pids();
        let mut machine = Machine::new().unwrap();
        let first = machine.sample(&pids[..1]);
        let found: Vec<(u32, u32)> = first.processes.iter().map(|p| (p.pid, p.ppid)).collect();
        assert_eq!(
            found,
            vec![
                (pids[0], std::process::id()),
                (pids[1], pids[0]),
                (pids[2], pids[1])
            ]
        );
        // `yes` is busy from the start; CPU% needs a second reading, and a tick of CPU time
        // is 10 ms, so allow a few samples.
        let mut leaf_cpu = Vec::new();
        for _ in 0..10 {
            std::thread::sleep(sysinfo::MINIMUM_CPU_UPDATE_INTERVAL);
            let sample = machine.sample(&pids[..1]);
            leaf_cpu.extend(
                sample
                    .processes
                    .iter()
                    .filter(|p| p.pid == pids[2])
                    .map(|p| p.cpu_pct),
            );
            if leaf_cpu.last().is_some_and(|&c| c > 0.0) {
                break;
            }
        }
        assert!(leaf_cpu.last().is_some_and(|&c| c > 0.0), "{leaf_cpu:?}");
    }

    #[test]
    fn observers_get_what_the_tick_read_of_the_tree() {
        let tree = crate::procfs::TestTree::spawn();
        let pids = tree.pids();
        let tracked = Tracked::default();
        let feed = tracked.observe();
        let mut machine = Machine::new().unwrap();
        let sample = machine.sample(&pids[..1]);
        tracked.publish(Instant::now(), &sample.processes);
        let tick = feed.try_recv().expect("a tick for the observer");
        let read: Vec<TreeProc> = pids.iter().filter_map(|&p| TreeProc::read(p)).collect();
        let fields = |p: &TreeProc| (p.pid, p.ppid, p.name.clone(), p.threads);
        assert_eq!(
            tick.processes.iter().map(fields).collect::<Vec<_>>(),
            read.iter().map(fields).collect::<Vec<_>>()
        );
        assert_eq!(tick.processes[2].name, "yes");
        // An observer that is gone is no longer fed.
        drop(feed);
        tracked.publish(Instant::now(), &sample.processes);
        assert!(tracked.observers.lock().unwrap().is_empty());
    }

    #[test]
    fn an_exited_child_shows_as_a_zombie_until_reaped_then_is_forgotten() {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        let deadline = Instant::now() + Duration::from_secs(10);
        while crate::procfs::stat(pid).is_none_or(|s| s.state != 'Z') {
            assert!(Instant::now() < deadline, "{pid} never exited");
            std::thread::sleep(Duration::from_millis(10));
        }
        let mut machine = Machine::new().unwrap();
        let states: Vec<(u32, char)> = machine
            .sample(&[pid])
            .processes
            .iter()
            .map(|p| (p.pid, p.state))
            .collect();
        assert_eq!(states, vec![(pid, 'Z')]);
        child.wait().unwrap();
        assert!(machine.sample(&[pid]).processes.is_empty());
        assert!(
            !machine.processes.ticks.contains_key(&pid),
            "the sampler still holds the reaped {pid}"
        );
    }
}
