//! Watching a runner from outside while it runs, for the insights: its process tree sampled
//! (threads ready to run, zombies, Python interpreters), the machine's load, and at the end
//! what the kernel charged the whole run. Done by whoever started the runner, so scenarios
//! collect nothing and the runner stays as it was: no extra thread, no extra CPU. Under the
//! dashboard the tree is the sampler's reading ([`Feed`]); without one it reads `/proc` itself.

use crate::insights::observed::{Observed, TraceSeen, TreeSamples, Usage, Zombie};
use crate::lab::cpu_stat::{CoreTimes, LoadShare};
use crate::procfs;
use crate::sampler::{TreeProc, TreeTick};
use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The sampler's readings of the runs' trees, every tick (`sampler::Tracked::observe`).
pub type Feed = Receiver<Arc<TreeTick>>;

/// The longest sampling interval whose readings serve the observer; with a longer one it
/// reads for itself, so a zombie of a second or a short run's threads are still seen.
pub const FEED_MAX_INTERVAL: Duration = Duration::from_millis(500);

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
    attached: Option<u32>,
}

impl Watch {
    /// Starts sampling the tree under `runner`, and under `attached` (a running process the
    /// runner watches, not one of its descendants): from `feed` when there is one.
    pub fn start(
        run: super::RunId,
        runner: u32,
        attached: Option<u32>,
        feed: Option<Feed>,
    ) -> Watch {
        let roots: Vec<u32> = std::iter::once(runner).chain(attached).collect();
        let (stop, stopped) = crossbeam_channel::bounded(1);
        let sampler = std::thread::Builder::new()
            .name(format!("runner-{run}-watch"))
            .spawn(move || match feed {
                Some(feed) => take_until(&roots, &feed, &stopped),
                None => sample_until(&roots, &stopped),
            })
            .ok();
        Watch {
            stop,
            sampler,
            started: Instant::now(),
            cores: CoreTimes::now(),
            attached,
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
        let own = Own::of(self.attached, usage, &trace, wall);
        let load = LoadShare::between(
            &self.cores,
            &CoreTimes::now(),
            own.cpu_secs,
            wall.as_secs_f64(),
        );
        Observed {
            cores: load.cores,
            wall_ms: own.wall_ms,
            usage: own.usage,
            tree,
            others_cores: (load.cores > 0 && own.usage.is_some()).then_some(load.others_cores),
            trace,
        }
    }
}

/// What the run itself used, as the lints judge it, and the CPU that is not other programs'.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Own {
    usage: Option<Usage>,
    /// The window `usage` covers.
    wall_ms: f64,
    /// CPU seconds of the run and its runner over the whole watch: the rest of the machine's
    /// busy time is other programs'.
    cpu_secs: f64,
}

impl Own {
    /// From what reaping the runner reported (`runner`) over `wall`; attached to a process,
    /// from what the watch's report (in `trace`) says it used while watched.
    fn of(attached: Option<u32>, runner: Option<Usage>, trace: &TraceSeen, wall: Duration) -> Own {
        let runner_secs = runner.map_or(0.0, |u| u.cpu_ms / 1000.0);
        let Some(pid) = attached else {
            return Own {
                usage: runner,
                wall_ms: wall.as_secs_f64() * 1000.0,
                cpu_secs: runner_secs,
            };
        };
        // An attached process's CPU is charged to its own parent, never to the runner: what
        // the runner was charged is only the watching, never taken for the program's usage.
        match trace.attached.filter(|a| a.pid == pid) {
            Some(seen) => Own {
                usage: Some(seen.usage),
                wall_ms: seen.wall_ms,
                cpu_secs: seen.usage.cpu_ms / 1000.0 + runner_secs,
            },
            None => Own {
                usage: None,
                wall_ms: wall.as_secs_f64() * 1000.0,
                cpu_secs: runner_secs,
            },
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

/// Reads the trees under `roots` (the runner first) from `/proc` every [`EVERY`], until told
/// to stop.
fn sample_until(roots: &[u32], stop: &Receiver<()>) -> TreeSamples {
    let mut tree = Tree::new(roots[0]);
    loop {
        let began = Instant::now();
        let processes = procfs::walk(roots, |pid| {
            let p = TreeProc::read(pid)?;
            let threads = p.threads;
            Some((p, threads))
        });
        tree.sample(began, processes.into_iter().map(|(_, p)| p));
        let pause = EVERY.max(began.elapsed() * MAX_SHARE);
        match stop.recv_timeout(pause) {
            Err(RecvTimeoutError::Timeout) => {}
            _ => return tree.finish(),
        }
    }
}

/// Takes each of the sampler's readings of the trees under `roots` (the runner first), until
/// told to stop (or the sampler ends).
fn take_until(roots: &[u32], feed: &Feed, stop: &Receiver<()>) -> TreeSamples {
    let mut tree = Tree::new(roots[0]);
    loop {
        crossbeam_channel::select! {
            recv(feed) -> tick => match tick {
                Ok(tick) => {
                    let processes = subtree(roots, &tick.processes);
                    tree.sample(tick.at, processes.into_iter().cloned());
                }
                Err(_) => return tree.finish(),
            },
            recv(stop) -> _ => return tree.finish(),
        }
    }
}

/// `roots` and their descendants among `processes` (parents before children), as
/// `procfs::descendants` would find them: the sampler's trees hold every run's.
fn subtree<'a>(roots: &[u32], processes: &'a [TreeProc]) -> Vec<&'a TreeProc> {
    let mut inside: HashSet<u32> = roots.iter().copied().collect();
    processes
        .iter()
        .filter(|p| {
            let mine = inside.contains(&p.pid) || inside.contains(&p.ppid);
            if mine {
                inside.insert(p.pid);
            }
            mine
        })
        .collect()
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

    /// One reading of the tree, taken `now`.
    fn sample(&mut self, now: Instant, processes: impl Iterator<Item = TreeProc>) {
        let (mut runnable, mut threads) = (0u32, 0u32);
        let mut zombies_now = Vec::new();
        for p in processes {
            if p.state == 'Z' {
                // The runner itself is a zombie only while it is being reaped.
                if p.pid != self.runner {
                    zombies_now.push(p.pid);
                }
                continue;
            }
            runnable += p.runnable;
            threads += p.threads;
            // Only interpreters with threads matter to the GIL lint. The name is read at each
            // sample: a child is conlab until it execs python3.
            if p.threads > 1 && is_python(&p.name) {
                self.seen.python_threads_max = self.seen.python_threads_max.max(p.threads);
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
fn is_python(name: &str) -> bool {
    name.starts_with("python")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proc(pid: u32, ppid: u32, state: char, name: &str, threads: u32, runnable: u32) -> TreeProc {
        TreeProc {
            pid,
            ppid,
            state,
            name: name.into(),
            threads,
            runnable,
        }
    }

    #[test]
    fn the_samplers_readings_count_only_the_runs_own_tree() {
        let (feed_tx, feed) = crossbeam_channel::unbounded();
        let start = Instant::now();
        for i in 0..3u64 {
            let processes = vec![
                // Another run's runner and a busy child: not ours.
                proc(20, 1, 'S', "conlab", 2, 0),
                proc(10, 1, 'S', "conlab", 3, 1),
                proc(21, 20, 'R', "conlab", 8, 8),
                proc(11, 10, 'R', "python3", 4, 2),
                proc(12, 11, 'Z', "conlab", 1, 0),
            ];
            let at = start + Duration::from_millis(600 * i);
            feed_tx.send(Arc::new(TreeTick { at, processes })).unwrap();
        }
        // The sampler ends: the observer has taken every tick.
        drop(feed_tx);
        let seen = take_until(&[10], &feed, &crossbeam_channel::never());
        assert_eq!(seen.samples, 3);
        assert_eq!((seen.runnable_sum, seen.runnable_max), (9, 3));
        assert_eq!((seen.threads_max, seen.python_threads_max), (7, 4));
        assert_eq!(
            seen.longest_zombie,
            Some(Zombie {
                pid: 12,
                ms: 1200.0
            })
        );
    }

    #[test]
    fn an_attached_process_is_followed_though_it_is_no_descendant_of_the_runner() {
        let (feed_tx, feed) = crossbeam_channel::unbounded();
        let start = Instant::now();
        for i in 0..2u64 {
            let processes = vec![
                proc(10, 1, 'S', "conlab", 2, 0),
                proc(30, 7, 'S', "sleep", 1, 0),
                proc(31, 30, 'Z', "sleep", 1, 0),
                proc(40, 7, 'Z', "other", 1, 0),
            ];
            let at = start + Duration::from_millis(1100 * i);
            feed_tx.send(Arc::new(TreeTick { at, processes })).unwrap();
        }
        drop(feed_tx);
        let seen = take_until(&[10, 30], &feed, &crossbeam_channel::never());
        assert_eq!(seen.threads_max, 3);
        assert_eq!(
            seen.longest_zombie,
            Some(Zombie {
                pid: 31,
                ms: 1100.0
            })
        );
    }

    fn usage(cpu_ms: f64) -> Usage {
        Usage {
            cpu_ms,
            voluntary_switches: 1,
            involuntary_switches: 2,
        }
    }

    /// Attached, the run's usage is what the watch's report says the program used while
    /// watched, over that window; the runner's CPU is only the watching's, never the program's,
    /// yet no other program's load either.
    #[test]
    fn attached_the_programs_usage_comes_from_the_watchs_report() {
        let runner = Some(usage(300.0));
        let trace = TraceSeen {
            attached: Some(crate::insights::observed::AttachedUsage {
                pid: 30,
                usage: usage(1500.0),
                wall_ms: 1800.0,
            }),
            ..TraceSeen::default()
        };
        let wall = Duration::from_secs(2);
        assert_eq!(
            Own::of(Some(30), runner, &trace, wall),
            Own {
                usage: Some(usage(1500.0)),
                wall_ms: 1800.0,
                cpu_secs: 1.8,
            }
        );
        // Without the watch's report (the runner died), or with another process's, nothing.
        let none = Own::of(Some(30), runner, &TraceSeen::default(), wall);
        assert_eq!((none.usage, none.cpu_secs), (None, 0.3));
        assert_eq!(Own::of(Some(31), runner, &trace, wall).usage, None);
        // A command's run is the runner and everything it reaped.
        assert_eq!(
            Own::of(None, runner, &trace, wall),
            Own {
                usage: runner,
                wall_ms: 2000.0,
                cpu_secs: 0.3,
            }
        );
    }

    #[test]
    fn an_observer_stops_when_told_though_its_feed_goes_on() {
        let (_feed_tx, feed) = crossbeam_channel::unbounded::<Arc<TreeTick>>();
        let (stop_tx, stop) = crossbeam_channel::bounded(1);
        stop_tx.send(()).unwrap();
        assert_eq!(take_until(&[10], &feed, &stop).samples, 0);
    }
}
