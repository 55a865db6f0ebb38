//! Watching a runner from outside while it runs, for the insights: its process tree sampled
//! from `/proc` (threads ready to run, zombies, Python interpreters), the machine's load, and
//! at the end what the kernel charged the whole run. Done by whoever started the runner, so
//! scenarios collect nothing and the runner stays as it was: no extra thread, no extra CPU.

use crate::insights::observed::{Observed, TraceSeen, TreeSamples, Usage, Zombie};
use crate::lab::cpu_stat::{CoreTimes, LoadShare};
use crate::procfs;
use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};
use std::collections::HashMap;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How often the tree is sampled, at most: often enough to see a zombie that lasts a second
/// and to average the threads ready to run, rarely enough that the dashboard stays light
/// (without `/proc/PID/task/TID/children` a sample reads every process on the machine).
const EVERY: Duration = Duration::from_millis(250);
/// A sample may cost at most 1/MAX_SHARE of the time between samples: a run of thousands of
/// threads is sampled less often rather than costing the dashboard a core.
const MAX_SHARE: u32 = 100;

/// A runner being watched.
pub struct Watch {
    stop: Sender<()>,
    sampler: Option<JoinHandle<TreeSamples>>,
    started: Instant,
    cores: CoreTimes,
}

impl Watch {
    /// Starts sampling the tree under `runner`.
    pub fn start(run: super::RunId, runner: u32) -> Watch {
        let (stop, stopped) = crossbeam_channel::bounded(1);
        let sampler = std::thread::Builder::new()
            .name(format!("runner-{run}-watch"))
            .spawn(move || sample_until(runner, &stopped))
            .ok();
        Watch {
            stop,
            sampler,
            started: Instant::now(),
            cores: CoreTimes::now(),
        }
    }

    /// Stops sampling once the runner is reaped; `usage` is what its reaping reported.
    pub fn finish(mut self, usage: Option<Usage>, trace: TraceSeen) -> Observed {
        let wall = self.started.elapsed();
        let _ = self.stop.send(());
        let tree = self
            .sampler
            .take()
            .and_then(|s| s.join().ok())
            .unwrap_or_default();
        let own_secs = usage.map_or(0.0, |u| u.cpu_ms / 1000.0);
        let load = LoadShare::between(&self.cores, &CoreTimes::now(), own_secs, wall.as_secs_f64());
        Observed {
            cores: load.cores,
            wall_ms: wall.as_secs_f64() * 1000.0,
            usage,
            tree,
            others_cores: (load.cores > 0 && usage.is_some()).then_some(load.others_cores),
            trace,
        }
    }
}

/// What a reaped process and the descendants it reaped were charged, from `wait4`.
pub fn usage_of(r: &nix::libc::rusage) -> Usage {
    let ms = |t: nix::libc::timeval| t.tv_sec as f64 * 1000.0 + t.tv_usec as f64 / 1000.0;
    Usage {
        cpu_ms: ms(r.ru_utime) + ms(r.ru_stime),
        voluntary_switches: r.ru_nvcsw.max(0) as u64,
        involuntary_switches: r.ru_nivcsw.max(0) as u64,
    }
}

fn sample_until(runner: u32, stop: &Receiver<()>) -> TreeSamples {
    let mut tree = Tree::new(runner);
    loop {
        let began = Instant::now();
        tree.sample(began);
        let pause = EVERY.max(began.elapsed() * MAX_SHARE);
        match stop.recv_timeout(pause) {
            Err(RecvTimeoutError::Timeout) => {}
            _ => return tree.finish(),
        }
    }
}

/// The sampling state: what has been seen so far.
struct Tree {
    runner: u32,
    seen: TreeSamples,
    /// Zombies: when each was first and last seen so.
    zombies: HashMap<u32, (Instant, Instant)>,
}

impl Tree {
    fn new(runner: u32) -> Tree {
        Tree {
            runner,
            seen: TreeSamples::default(),
            zombies: HashMap::new(),
        }
    }

    fn sample(&mut self, now: Instant) {
        let (mut runnable, mut threads) = (0u32, 0u32);
        let mut zombies_now = Vec::new();
        for pid in procfs::descendants(&[self.runner]) {
            let Some(stat) = procfs::stat(pid) else {
                continue;
            };
            if stat.state == 'Z' {
                // The runner itself is a zombie only while it is being reaped.
                if pid != self.runner {
                    zombies_now.push(pid);
                }
                continue;
            }
            // A process of one thread is in its thread's state: no need to read the thread.
            let states = match stat.threads {
                0 | 1 => vec![stat.state],
                _ => procfs::task_states(pid),
            };
            runnable += states.iter().filter(|&&s| s == 'R').count() as u32;
            threads += states.len() as u32;
            // Only interpreters with threads matter to the GIL lint. Read each time: a child
            // is conlab until it execs python3.
            if states.len() > 1 && is_python(pid) {
                let n = states.len() as u32;
                self.seen.python_threads_max = self.seen.python_threads_max.max(n);
            }
        }
        // A zombie no longer seen was reaped (or its PID is gone): its time is known.
        let gone: Vec<u32> = self
            .zombies
            .keys()
            .filter(|pid| !zombies_now.contains(pid))
            .copied()
            .collect();
        for pid in gone {
            self.close_zombie(pid);
        }
        for pid in zombies_now {
            self.zombies
                .entry(pid)
                .and_modify(|(_, last)| *last = now)
                .or_insert((now, now));
        }
        self.seen.samples += 1;
        self.seen.runnable_sum += u64::from(runnable);
        self.seen.runnable_max = self.seen.runnable_max.max(runnable);
        self.seen.threads_max = self.seen.threads_max.max(threads);
    }

    fn close_zombie(&mut self, pid: u32) {
        if let Some((first, last)) = self.zombies.remove(&pid) {
            let ms = last.duration_since(first).as_secs_f64() * 1000.0;
            if self.seen.longest_zombie.is_none_or(|z| ms > z.ms) {
                self.seen.longest_zombie = Some(Zombie { pid, ms });
            }
        }
    }

    fn finish(mut self) -> TreeSamples {
        let open: Vec<u32> = self.zombies.keys().copied().collect();
        for pid in open {
            self.close_zombie(pid);
        }
        self.seen
    }
}

/// `python3`, `python3.11`, `python`: by the name the kernel keeps for the process.
fn is_python(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|c| c.starts_with("python"))
}
