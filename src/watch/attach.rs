//! Attached to a running process, read-only: `/proc` is read every [`PERIOD`] for the process
//! and its descendants, their threads, CPU time, memory and context switches. Nothing is
//! signalled and nothing is traced, so the process runs exactly as it would unwatched; the
//! price is that a process or thread living less than a period may be missed, and an exit is
//! known only if the process was seen as a zombie (its parent reaps it, not conlab).

use super::counts::Counts;
use super::summary::Summary;
use crate::event::Body;
use crate::exit::Exit;
use crate::probe::Probe;
use crate::procfs;
use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

/// How often `/proc` is read.
const PERIOD: Duration = Duration::from_millis(50);

/// What the last reading said of one process.
#[derive(Debug, Default)]
struct Seen {
    user_ticks: u64,
    system_ticks: u64,
    peak_kib: u64,
    /// Each thread's (voluntary, involuntary) switches at its last reading, ended ones kept.
    switches: HashMap<u32, (u64, u64)>,
    /// Threads alive at the last reading.
    live_threads: Vec<u32>,
    /// How it ended, once it has.
    exit: Option<Exit>,
    /// CPU ticks and switches it had already used when conlab attached (zero for a process
    /// born since): the summary counts what it used while watched.
    before: Before,
}

#[derive(Debug, Default)]
struct Before {
    user_ticks: u64,
    system_ticks: u64,
    switches: HashMap<u32, (u64, u64)>,
}

impl Seen {
    fn ended(&self) -> bool {
        self.exit.is_some()
    }
}

/// Watches `root` and its descendants until `root` ends or the run is cancelled.
pub fn watch(probe: &Probe, root: u32) -> Result<Summary, String> {
    let started = Instant::now();
    let counts = Counts::default();
    let mut seen: BTreeMap<u32, Seen> = BTreeMap::new();
    let mut attaching = true;
    let root_ended = probe.with_live(
        |m| counts.snapshot(m),
        || loop {
            read_tree(probe, root, &counts, &mut seen, attaching);
            attaching = false;
            if seen.get(&root).is_none_or(Seen::ended) {
                return true;
            }
            if probe.cancelled() {
                return false;
            }
            std::thread::sleep(PERIOD);
        },
    );
    let wall_ms = started.elapsed().as_secs_f64() * 1000.0;
    // Whatever still runs is left running, and said to be.
    let mut left_running = 0;
    for (&pid, s) in seen.iter_mut().filter(|(_, s)| !s.ended()) {
        s.exit = Some(Exit::StillRunning);
        left_running += 1;
        probe.emit_as(
            pid,
            Body::ProcessExit {
                exit: Exit::StillRunning,
            },
        );
    }
    let tick_ms = 1000.0 / procfs::ticks_per_second();
    let (processes_seen, threads_seen) = counts.seen();
    let switches = |pick: fn(&(u64, u64)) -> u64| -> u64 {
        seen.values()
            .flat_map(|s| {
                s.switches.iter().map(|(tid, now)| {
                    let before = s.before.switches.get(tid).map_or(0, pick);
                    pick(now).saturating_sub(before)
                })
            })
            .sum()
    };
    let ticks = |pick: fn(&Seen) -> (u64, u64)| -> f64 {
        let used: u64 = seen
            .values()
            .map(|s| {
                let (now, before) = pick(s);
                now.saturating_sub(before)
            })
            .sum();
        used as f64 * tick_ms
    };
    Ok(Summary {
        program: name(root),
        pid: root,
        wall_ms,
        cpu_user_ms: ticks(|s| (s.user_ticks, s.before.user_ticks)),
        cpu_system_ms: ticks(|s| (s.system_ticks, s.before.system_ticks)),
        peak_rss_kib: seen.values().map(|s| s.peak_kib).max().unwrap_or(0),
        processes_seen,
        threads_seen,
        voluntary_switches: switches(|s| s.0),
        involuntary_switches: switches(|s| s.1),
        exit: seen.get(&root).and_then(|s| s.exit).filter(|_| root_ended),
        left_running,
        attached: true,
    })
}

/// One reading: new processes and threads are announced, ended ones too. At the first
/// (`attaching`), what each process had already used is set aside.
fn read_tree(
    probe: &Probe,
    root: u32,
    counts: &Counts,
    seen: &mut BTreeMap<u32, Seen>,
    attaching: bool,
) {
    let tree = match procfs::stat(root) {
        Some(_) => procfs::descendants(&[root]),
        None => Vec::new(),
    };
    for &pid in &tree {
        let Some(stat) = procfs::stat(pid) else {
            continue;
        };
        if let std::collections::btree_map::Entry::Vacant(entry) = seen.entry(pid) {
            if stat.state == 'Z' {
                // Ended before it was ever seen running: not worth a row.
                continue;
            }
            counts.process_started();
            probe.emit_as(
                pid,
                Body::Process {
                    ppid: stat.ppid,
                    role: name(pid),
                },
            );
            entry.insert(Seen::default());
        }
        let Some(s) = seen.get_mut(&pid).filter(|s| !s.ended()) else {
            continue;
        };
        if let Some(exit) = procfs::zombie_exit(pid) {
            end_process(probe, counts, pid, s, exit);
            continue;
        }
        read_process(probe, counts, pid, s);
        if attaching {
            s.before = Before {
                user_ticks: s.user_ticks,
                system_ticks: s.system_ticks,
                switches: s.switches.clone(),
            };
        }
    }
    // Gone from the tree without being seen as a zombie: its parent reaped it first.
    let gone: Vec<u32> = seen
        .iter()
        .filter(|(pid, s)| !s.ended() && !tree.contains(pid))
        .map(|(&pid, _)| pid)
        .collect();
    for pid in gone {
        if let Some(s) = seen.get_mut(&pid) {
            end_process(probe, counts, pid, s, Exit::Unseen);
        }
    }
}

fn read_process(probe: &Probe, counts: &Counts, pid: u32, s: &mut Seen) {
    if let Some((user, system)) = procfs::user_system_ticks(pid) {
        (s.user_ticks, s.system_ticks) = (user, system);
    }
    if let Some(memory) = procfs::memory(pid) {
        s.peak_kib = s.peak_kib.max(memory.peak_kib);
    }
    let tasks = procfs::tasks(pid);
    let first_reading = s.live_threads.is_empty();
    for t in &tasks {
        if !s.switches.contains_key(&t.tid) {
            // The main thread came with its process.
            if t.tid != pid {
                counts.thread_started();
                probe.emit_as(
                    pid,
                    Body::Thread {
                        tid: t.tid,
                        name: t.name.clone(),
                    },
                );
            }
        }
        s.switches
            .insert(t.tid, (t.voluntary_switches, t.involuntary_switches));
    }
    let now: Vec<u32> = tasks.iter().map(|t| t.tid).collect();
    if !first_reading {
        for tid in s.live_threads.iter().filter(|t| !now.contains(t)) {
            if *tid != pid {
                counts.thread_ended();
            }
        }
    }
    s.live_threads = now;
}

fn end_process(probe: &Probe, counts: &Counts, pid: u32, s: &mut Seen, exit: Exit) {
    s.exit = Some(exit);
    for _ in s.live_threads.drain(..).filter(|&t| t != pid) {
        counts.thread_ended();
    }
    counts.process_ended();
    probe.emit_as(pid, Body::ProcessExit { exit });
}

fn name(pid: u32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .map(|s| s.trim_end().to_string())
        .unwrap_or_else(|_| format!("PID {pid}"))
}
