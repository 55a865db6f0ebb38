//! The sampler thread: one `sysinfo::System` for the dashboard's life. Every interval it
//! measures per-core CPU, the dashboard's own CPU%, and the runners with their descendants,
//! and sends one boxed snapshot to the UI thread.

use crossbeam_channel::{Receiver, Sender};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use sysinfo::{Pid, ProcessRefreshKind, ProcessesToUpdate, System};

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
                if samples.send(Box::new(sample)).is_err() {
                    return;
                }
            }
        })
}

/// The one `sysinfo::System`, and which processes it is asked to refresh.
struct Machine {
    system: System,
    me: Pid,
    /// The PIDs refreshed at the last tick that sysinfo still holds. Each is refreshed again
    /// until it is gone, even once it has left the tree: sysinfo forgets a dead process only
    /// when asked to refresh it, and a process refreshed every tick never gets its CPU% from
    /// a stale baseline.
    watched: Vec<Pid>,
}

impl Machine {
    fn new() -> Option<Machine> {
        let mut system = System::new().ok()?;
        // The first CPU reading only sets the baseline; usage comes from the difference.
        system.refresh_cpu_usage();
        Some(Machine {
            system,
            me: Pid::from_u32(std::process::id()),
            watched: Vec::new(),
        })
    }

    /// Per-core CPU, and the roots with their descendants: only those processes (and the
    /// dashboard) are refreshed, never the whole machine. A process's CPU% comes from two
    /// refreshes in a row, so one first seen now has it from the next tick on.
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
        for orphan in crate::procfs::adopted_from(&roots) {
            let ended = crate::procfs::stat(orphan).is_some_and(|s| s.state == 'Z');
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
        let tree = crate::procfs::descendants(&roots);
        let mut pids: Vec<Pid> = tree.iter().map(|&pid| Pid::from_u32(pid)).collect();
        pids.push(self.me);
        pids.append(&mut self.watched);
        let kind = ProcessRefreshKind::nothing().with_cpu().without_tasks();
        system.refresh_processes_specifics(ProcessesToUpdate::Some(&pids), true, kind);
        pids.sort_unstable();
        pids.dedup();
        pids.retain(|&pid| system.process(pid).is_some());
        self.watched = pids;
        let self_cpu_pct = system.process(self.me).map_or(0.0, |p| p.cpu_usage());
        let processes = tree
            .into_iter()
            .filter_map(|pid| Some(describe(pid, system.process(Pid::from_u32(pid))?)))
            .collect();
        Sample {
            cores,
            total,
            self_cpu_pct,
            processes,
            reaped,
        }
    }
}

fn describe(pid: u32, p: &sysinfo::Process) -> ProcSample {
    let stat = crate::procfs::stat(pid);
    ProcSample {
        pid,
        // From /proc, not sysinfo's memory of it: an adopted orphan's parent changes.
        ppid: stat
            .map(|s| s.ppid)
            .or(p.parent().map(|pp| pp.as_u32()))
            .unwrap_or(0),
        pgrp: stat.map_or(0, |s| s.pgrp as u32),
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
        // `yes` is busy from the start; CPU% needs a second refresh (sysinfo also skips a
        // process whose first reading was zero ticks), so allow a few ticks.
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
            machine.system.process(Pid::from_u32(pid)).is_none()
                && !machine.watched.contains(&Pid::from_u32(pid)),
            "sysinfo still holds the reaped {pid}"
        );
    }
}
