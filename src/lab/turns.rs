//! Tasks that take turns on the CPU, as threads or as forked processes: K tasks share a fixed
//! amount of busy work. In a ring, each works a quantum and hands a token to the next (a futex:
//! the giver sleeps, the kernel wakes the taker — a real switch); plain, all start together and
//! the kernel's time slices share the CPUs. Each task counts, on its own CPU clock, the time
//! inside its work and the time it used in all, and the kernel's count of its context switches.

use crate::lab::affinity;
use crate::lab::busy::busy_ops;
use crate::lab::cpu_stat::thread_cpu_time;
use crate::lab::futex::{self, Shared, SharedWords};
use crate::procfs;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

/// How long a task waits for the token before it looks whether to stop.
const PATIENCE: Duration = Duration::from_millis(50);
/// Work between looks at the stop flag, in microseconds: a long quantum can still be stopped.
pub const CHECK_US: f64 = 2000.0;

/// How the K tasks of a point take turns.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Turns {
    /// Each works `ops_per_go`, then hands the token to the next round the ring, `rounds` times.
    Ring { rounds: u64 },
    /// No hand-off: all start at once, each does its whole share, the kernel shares the CPUs.
    Plain,
}

/// One point's tasks and their work.
#[derive(Debug, Clone, Copy)]
pub struct Work {
    pub tasks: usize,
    pub ops_per_go: u64,
    pub turns: Turns,
    pub cpus: usize,
    /// Operations between looks at the stop flag.
    pub check_ops: u64,
}

impl Work {
    /// The goes (times a task works) the point has in all.
    pub fn goes(&self) -> u64 {
        match self.turns {
            Turns::Ring { rounds } => rounds * self.tasks as u64,
            Turns::Plain => self.tasks as u64,
        }
    }
}

/// What one point measured.
#[derive(Debug, Clone, Copy, Default)]
pub struct Measured {
    pub wall_ns: u64,
    /// Goes completed (each a hand-off in a ring).
    pub goes: u64,
    pub spent: Spent,
    /// Resident memory the tasks added.
    pub memory_kib: u64,
}

/// What the kernel counted for the tasks: their context switches (getrusage), and the CPU
/// time they used (their CPU clocks, to the nanosecond; getrusage's times move in whole
/// ticks) — which another program's load does not add to.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Spent {
    pub voluntary: u64,
    pub involuntary: u64,
    pub cpu_ns: u64,
    /// The part of `cpu_ns` inside the work itself (each go timed on the thread's CPU clock).
    pub work_ns: u64,
}

impl Spent {
    /// The calling thread's, so far, `work_ns` of it in the work; system calls only, so a
    /// forked task may ask.
    fn of_this_thread(work_ns: u64) -> Spent {
        let cpu_ns = thread_cpu_time().as_nanos() as u64;
        let (voluntary, involuntary) =
            match nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_THREAD) {
                Ok(u) => (
                    u.voluntary_context_switches() as u64,
                    u.involuntary_context_switches() as u64,
                ),
                Err(_) => (0, 0),
            };
        Spent {
            voluntary,
            involuntary,
            cpu_ns,
            work_ns,
        }
    }

    fn since(self, before: Spent) -> Spent {
        Spent {
            voluntary: self.voluntary.saturating_sub(before.voluntary),
            involuntary: self.involuntary.saturating_sub(before.involuntary),
            cpu_ns: self.cpu_ns.saturating_sub(before.cpu_ns),
            work_ns: self.work_ns.saturating_sub(before.work_ns),
        }
    }
}

/// What the tasks of a point share: a token per task, the signals, and what they count.
struct Board {
    words: SharedWords,
    /// What each task adds of its [`Spent`] as it ends.
    spent: Shared<AtomicU64>,
    tasks: usize,
}

impl Board {
    fn new(tasks: usize) -> Result<Board, String> {
        let shared = |e| format!("shared memory: {e}");
        Ok(Board {
            words: SharedWords::new(tasks + 5).map_err(shared)?,
            spent: Shared::new(4).map_err(shared)?,
            tasks,
        })
    }

    fn add_spent(&self, s: Spent) {
        let values = [s.voluntary, s.involuntary, s.cpu_ns, s.work_ns];
        for (i, v) in values.into_iter().enumerate() {
            self.spent.get(i).fetch_add(v, Relaxed);
        }
    }

    fn spent(&self) -> Spent {
        let get = |i| self.spent.get(i).load(Relaxed);
        Spent {
            voluntary: get(0),
            involuntary: get(1),
            cpu_ns: get(2),
            work_ns: get(3),
        }
    }

    fn goes_done(&self, work: &Work) -> u64 {
        u64::from(self.goes().load(Relaxed)).min(work.goes())
    }
    fn token(&self, i: usize) -> &AtomicU32 {
        self.words.get(i)
    }
    /// Plain tasks start when this is given.
    fn go(&self) -> &AtomicU32 {
        self.words.get(self.tasks)
    }
    /// Given by the task that finished the point's work last.
    fn done(&self) -> &AtomicU32 {
        self.words.get(self.tasks + 1)
    }
    /// Given when the tasks must stop (the run was cancelled, or starting them failed).
    fn stop(&self) -> &AtomicU32 {
        self.words.get(self.tasks + 2)
    }
    fn ready(&self) -> &AtomicU32 {
        self.words.get(self.tasks + 3)
    }
    pub fn goes(&self) -> &AtomicU32 {
        self.words.get(self.tasks + 4)
    }
}

/// What reading the thread's CPU clock costs, in nanoseconds (the cheapest of a few tries).
pub fn clock_read_ns() -> f64 {
    const READS: u32 = 2000;
    (0..5)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..READS {
                std::hint::black_box(thread_cpu_time());
            }
            t.elapsed().as_nanos() as f64 / f64::from(READS)
        })
        .fold(f64::INFINITY, f64::min)
}

/// The CPUs the tasks may use: the one this thread is on first, then others it may run on.
fn chosen_cpus(cpus: usize) -> Result<Vec<usize>, String> {
    let here = affinity::current().unwrap_or(0);
    let mut allowed = affinity::allowed()?;
    if let Some(at) = allowed.iter().position(|&cpu| cpu == here) {
        allowed[..=at].rotate_right(1);
    }
    allowed.truncate(cpus);
    Ok(allowed)
}

/// One task: waits for its turn, works, hands over; or, plain, waits for the start and works
/// its share. Only atomics, futex calls and arithmetic: safe in a child forked from a process
/// with threads, and it allocates nothing.
fn task(board: &Board, i: usize, work: &Work, stop: &dyn Fn() -> bool) {
    // Counted from here: starting a task costs too, but that is not switching.
    let ready = Spent::of_this_thread(0);
    board.ready().fetch_add(1, Relaxed);
    let work_ns = take_turns(board, i, work, stop);
    board.add_spent(Spent::of_this_thread(work_ns).since(ready));
}

/// A task's turns; the CPU time it spent in the work.
fn take_turns(board: &Board, i: usize, work: &Work, stop: &dyn Fn() -> bool) -> u64 {
    let stopped = || futex::is_given(board.stop()) || stop();
    let wait = |got: &dyn Fn() -> bool| loop {
        if got() {
            return true;
        }
        if stopped() {
            return false;
        }
    };
    let mut x = i as u64 + 1;
    let mut work_ns = 0;
    let mut work_go = || {
        let began = thread_cpu_time();
        let mut left = work.ops_per_go;
        while left > 0 {
            let chunk = left.min(work.check_ops);
            busy_ops(&mut x, chunk);
            left -= chunk;
            if left > 0 && stopped() {
                return false;
            }
        }
        work_ns += thread_cpu_time().saturating_sub(began).as_nanos() as u64;
        board.goes().fetch_add(1, Relaxed);
        true
    };
    match work.turns {
        Turns::Ring { rounds } => {
            for round in 0..rounds {
                // A lone task takes its own token at once, without ever waiting: it looks
                // whether to stop each round.
                if stopped() || !wait(&|| futex::take(board.token(i), PATIENCE)) || !work_go() {
                    break;
                }
                let last = round + 1 == rounds && i + 1 == work.tasks;
                futex::give(if last {
                    board.done()
                } else {
                    board.token((i + 1) % work.tasks)
                });
            }
        }
        Turns::Plain => {
            if wait(&|| futex::wait_given(board.go(), PATIENCE))
                && work_go()
                && board.goes().load(Relaxed) as usize == work.tasks
            {
                futex::give(board.done());
            }
        }
    }
    work_ns
}

/// Starts the point's work once every task is ready, and waits for the end; the wall time,
/// or None if it was stopped.
fn start_and_wait(board: &Board, work: &Work, stop: &dyn Fn() -> bool) -> Option<u64> {
    let t = Instant::now();
    match work.turns {
        Turns::Ring { .. } => futex::give(board.token(0)),
        Turns::Plain => futex::give_all(board.go()),
    }
    loop {
        if futex::take(board.done(), PATIENCE) {
            return Some(t.elapsed().as_nanos() as u64);
        }
        if stop() {
            futex::give_all(board.stop());
            return None;
        }
    }
}

/// Waits until every task is ready (or `stop`); false if stopped.
fn wait_ready(board: &Board, tasks: usize, stop: &dyn Fn() -> bool) -> bool {
    while (board.ready().load(Relaxed) as usize) < tasks {
        if stop() {
            futex::give_all(board.stop());
            return false;
        }
        std::thread::sleep(Duration::from_micros(200));
    }
    true
}

/// A point's tasks as threads of this process; None if it was stopped.
pub fn in_threads(
    work: &Work,
    stop: &(dyn Fn() -> bool + Sync),
) -> Result<Option<Measured>, String> {
    let board = Board::new(work.tasks)?;
    let cpus = chosen_cpus(work.cpus)?;
    let resident = procfs::resident_kib();
    let outcome = std::thread::scope(|s| -> Result<Option<(u64, u64)>, String> {
        for i in 0..work.tasks {
            let (board, cpus) = (&board, &cpus);
            let spawned = std::thread::Builder::new()
                .name(format!("task-{i}"))
                .spawn_scoped(s, move || {
                    let _ = affinity::pin(0, cpus);
                    task(board, i, work, stop);
                });
            if let Err(e) = spawned {
                futex::give_all(board.stop());
                return Err(format!("could not start task {i} of {}: {e}", work.tasks));
            }
        }
        if !wait_ready(&board, work.tasks, stop) {
            return Ok(None);
        }
        let memory = procfs::resident_kib().saturating_sub(resident);
        Ok(start_and_wait(&board, work, stop).map(|wall| (wall, memory)))
    })?;
    Ok(outcome.map(|(wall_ns, memory_kib)| Measured {
        wall_ns,
        goes: board.goes_done(work),
        spent: board.spent(),
        memory_kib,
    }))
}

/// A point's tasks as processes forked from this one, which must have a single thread (so
/// each child is a whole copy, with no lock left held by a thread it lacks); None if `stop`
/// stopped it. Each child runs its task and leaves with `_exit`.
pub fn in_forked_processes(
    work: &Work,
    stop: &dyn Fn() -> bool,
) -> Result<Option<Measured>, String> {
    use nix::unistd::{ForkResult, fork, getpid};
    let threads = procfs::stat(std::process::id()).map(|s| s.threads);
    if threads != Some(1) {
        return Err(format!(
            "the tasks' parent has {threads:?} threads; it forks only with one"
        ));
    }
    let tasks = work.tasks;
    let board = Board::new(tasks)?;
    // The tasks inherit the pinning; this process waits, asleep, on the same CPUs.
    affinity::pin(0, &chosen_cpus(work.cpus)?)?;
    let me = getpid();
    let mut pids = Vec::with_capacity(tasks);
    let mut failed = None;
    for i in 0..tasks {
        // SAFETY: this process has one thread (checked above); the child runs `task` (atomics,
        // futex calls, arithmetic) and leaves with _exit, never returning into our code.
        match unsafe { fork() } {
            Ok(ForkResult::Child) => {
                // SAFETY: prctl, getppid and _exit are plain system calls.
                unsafe {
                    nix::libc::prctl(nix::libc::PR_SET_PDEATHSIG, nix::libc::SIGKILL);
                    if nix::libc::getppid() != me.as_raw() {
                        nix::libc::_exit(1);
                    }
                    task(&board, i, work, stop);
                    nix::libc::_exit(0);
                }
            }
            Ok(ForkResult::Parent { child }) => pids.push(child),
            Err(e) => {
                failed = Some(format!("fork() of task {i} of {tasks} failed: {e}"));
                break;
            }
        }
    }
    let measured = match &failed {
        Some(_) => {
            futex::give_all(board.stop());
            None
        }
        None if !wait_ready(&board, tasks, stop) => None,
        None => {
            let memory_kib = pids
                .iter()
                .map(|pid| procfs::private_kib(pid.as_raw() as u32))
                .sum::<u64>();
            start_and_wait(&board, work, stop).map(|wall_ns| (wall_ns, memory_kib))
        }
    };
    for pid in &pids {
        reap(*pid);
    }
    if let Some(e) = failed {
        return Err(e);
    }
    Ok(measured.map(|(wall_ns, memory_kib)| Measured {
        wall_ns,
        goes: board.goes_done(work),
        spent: board.spent(),
        memory_kib,
    }))
}

/// Waits for a forked task (a signal may interrupt the wait; it is waited for again).
fn reap(pid: nix::unistd::Pid) {
    loop {
        match nix::sys::wait::waitpid(pid, None) {
            Err(nix::errno::Errno::EINTR) => continue,
            _ => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ring_of_threads_hands_over_every_go_and_counts_its_switches() {
        let work = Work {
            tasks: 4,
            ops_per_go: 100,
            turns: Turns::Ring { rounds: 50 },
            cpus: 1,
            check_ops: 1000,
        };
        let m = in_threads(&work, &|| false).unwrap().expect("not stopped");
        assert_eq!(m.goes, 200);
        // On one CPU every hand-off to another thread puts the giver to sleep.
        assert!(m.spent.voluntary >= 150, "{m:?}");
        assert!(m.spent.cpu_ns > 0, "{m:?}");
        let plain = Work {
            turns: Turns::Plain,
            ..work
        };
        let m = in_threads(&plain, &|| false).unwrap().expect("not stopped");
        assert_eq!(m.goes, 4);
    }

    #[test]
    fn a_lone_task_that_never_waits_still_stops() {
        let work = Work {
            tasks: 1,
            ops_per_go: 10,
            turns: Turns::Ring { rounds: u64::MAX },
            cpus: 1,
            check_ops: 10,
        };
        let asked = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (done, ended) = std::sync::mpsc::channel();
        let stop = asked.clone();
        std::thread::spawn(move || {
            let _ = done.send(in_threads(&work, &|| stop.load(Relaxed)).map(|m| m.is_none()));
        });
        std::thread::sleep(Duration::from_millis(100));
        asked.store(true, Relaxed);
        let stopped = ended
            .recv_timeout(Duration::from_secs(10))
            .expect("the point ends soon after it is asked to stop");
        assert_eq!(stopped, Ok(true), "a stopped point is no point");
    }

    #[test]
    fn a_stopped_point_is_no_point() {
        let work = Work {
            tasks: 3,
            ops_per_go: 10,
            turns: Turns::Ring { rounds: 10 },
            cpus: 1,
            check_ops: 10,
        };
        assert!(in_threads(&work, &|| true).unwrap().is_none());
    }
}
