//! `mode=deadlock`: threads take two locks in opposite orders until two of them each hold the
//! lock the other waits for. Then nothing moves, for ever: the run never ends on its own.
//!
//! The threads are blocked in the kernel inside `Mutex::lock`, which no timeout or flag can
//! interrupt — as the tutorial says, only the operating system can end them. So they are not
//! scoped threads the run waits for: the run's main thread watches them (what each holds and
//! waits for, whether it moves, its state in /proc), and on cancel it reports and returns;
//! the runner then exits, and the threads end with the process.

use super::Plan;
use super::changes::{ACCOUNTS, Changer, Shared, quiet_failed_bodies};
use super::notes::{self, Deadlocked, Stuck};
use crate::lab::per_thread::PerThread;
use crate::probe::Probe;
use crate::report::Metrics;
use crate::scenarios::Findings;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How often the main thread looks at the threads.
const LOOK_EVERY: Duration = Duration::from_millis(50);

/// How long a wait cycle must stand, with no thread moving, before it is called a deadlock:
/// the holds and waits are written just before and after each lock, so a passing glance can
/// catch a cycle that is not there.
const STUCK_FOR: Duration = Duration::from_millis(300);

/// How long threads not seen deadlocked get to see the stop and end, on cancel: a thread that
/// is not blocked ends within one change. Kept short, because the report must be out well
/// within the grace a cancelled runner gets (0.8 s).
const STOP_GRACE: Duration = Duration::from_millis(200);

/// What the watching thread found, for the reporter and the report.
struct Watch {
    /// Each thread is asleep in the kernel (state S or D in /proc), as last seen.
    asleep: PerThread,
    deadlocked: AtomicBool,
    /// Nanoseconds since the run began: the last time any thread moved.
    moved_ns: AtomicU64,
    /// When the deadlock was seen.
    seen_ns: AtomicU64,
}

/// Two threads each holding the lock the other waits for: `(i, j)`, with `i` holding the lock
/// `j` waits for and the other way round.
fn wait_cycle(holds: &[u64], waits_for: &[u64]) -> Option<(usize, usize)> {
    let holds_what_waited = |holder: usize, waiter: usize| {
        waits_for[waiter] > 0 && holds[holder] & (1 << (waits_for[waiter] - 1)) != 0
    };
    (0..holds.len()).find_map(|i| {
        (i + 1..holds.len())
            .find(|&j| holds_what_waited(i, j) && holds_what_waited(j, i))
            .map(|j| (i, j))
    })
}

pub(super) fn run(probe: &Probe, plan: &Plan) -> Result<Findings, String> {
    let threads = plan.threads;
    if plan.fail_every > 0 {
        quiet_failed_bodies();
    }
    let shared = Arc::new(Shared::new(threads, plan.fail_every, plan.cpus()?));
    let stop = Arc::new(AtomicBool::new(false));
    let watch = Watch {
        asleep: PerThread::new(threads),
        deadlocked: AtomicBool::new(false),
        moved_ns: AtomicU64::new(0),
        seen_ns: AtomicU64::new(0),
    };
    let begun = Instant::now();
    let since = |at: Instant| at.duration_since(begun).as_nanos() as u64;
    probe.log("mode=deadlock never ends on its own: stop it with s in the dashboard, or Ctrl-C");

    let mut handles: Vec<JoinHandle<()>> = Vec::with_capacity(threads);
    let mut spawn_error = None;
    for index in 0..threads {
        let (shared, stop) = (Arc::clone(&shared), Arc::clone(&stop));
        let spawned = std::thread::Builder::new()
            .name(format!("changer-{index}"))
            .spawn(move || {
                let mut changer = Changer::new(&shared, index, super::Mode::Deadlock);
                // One change a batch: the counts a deadlock stops at are exact.
                while !stop.load(Relaxed) {
                    changer.batch(&shared, 1);
                }
            });
        match spawned {
            Ok(handle) => handles.push(handle),
            Err(e) => {
                spawn_error = Some(format!("could not start thread {index}: {e}"));
                break;
            }
        }
    }
    if let Some(e) = spawn_error {
        stop.store(true, Relaxed);
        return Err(e);
    }

    let snapshot = |m: &mut Metrics| {
        m.set("iterations_done", shared.done.sum());
        let holds: Vec<u64> = shared.holds.iter().collect();
        let waits: Vec<u64> = shared.waits_for.iter().collect();
        let asleep: Vec<u64> = watch.asleep.iter().collect();
        for (i, done) in shared.done.iter().enumerate() {
            m.set(&format!("thread_{i}_done"), done);
            m.set(&format!("thread_{i}_holds"), holds[i]);
            m.set(&format!("thread_{i}_waits_for"), waits[i]);
            m.set(&format!("thread_{i}_asleep"), asleep[i]);
        }
        m.set("deadlocked", u64::from(watch.deadlocked.load(Relaxed)));
        let still_ns = since(Instant::now()).saturating_sub(watch.moved_ns.load(Relaxed));
        m.set("stalled_ms", still_ns as f64 / 1e6);
        add_lock_stats(m, &shared);
    };

    let mut named = vec![false; threads];
    let mut last_done: Vec<u64> = vec![0; threads];
    probe.with_live(snapshot, || {
        while !probe.cancelled() {
            std::thread::sleep(LOOK_EVERY);
            let now = Instant::now();
            name_threads(probe, &shared, &mut named);
            let done: Vec<u64> = shared.done.iter().collect();
            if done != last_done {
                watch.moved_ns.store(since(now), Relaxed);
                last_done = done;
            }
            look_at_states(&shared, &watch);
            let holds: Vec<u64> = shared.holds.iter().collect();
            let waits: Vec<u64> = shared.waits_for.iter().collect();
            let still = since(now).saturating_sub(watch.moved_ns.load(Relaxed));
            if let Some((i, j)) = wait_cycle(&holds, &waits)
                && still >= STUCK_FOR.as_nanos() as u64
                && !watch.deadlocked.swap(true, Relaxed)
            {
                watch.seen_ns.store(since(now), Relaxed);
                let what = describe(i, &holds, &waits) + "; " + &describe(j, &holds, &waits);
                probe.mark("deadlock", what.clone(), None);
                probe.log(format!(
                    "deadlock: {what}; neither can go on, and nothing will move until the run is stopped"
                ));
            }
        }
    });

    // Threads that are not stuck see the stop and end; stuck ones stay where they are, and
    // nobody waits for them.
    stop.store(true, Relaxed);
    let grace = Instant::now()
        + if watch.deadlocked.load(Relaxed) {
            Duration::ZERO
        } else {
            STOP_GRACE
        };
    while handles.iter().any(|h| !h.is_finished()) && Instant::now() < grace {
        std::thread::sleep(Duration::from_millis(10));
    }
    let all_ended = handles.iter().all(JoinHandle::is_finished);
    if all_ended {
        for h in handles {
            let _ = h.join();
        }
    }

    let ended = Instant::now();
    let wall_ms = ended.duration_since(begun).as_secs_f64() * 1000.0;
    let holds: Vec<u64> = shared.holds.iter().collect();
    let waits: Vec<u64> = shared.waits_for.iter().collect();
    let deadlocked = watch.deadlocked.load(Relaxed);
    let stats = shared.lock_stats(super::Mode::Deadlock);
    let mut metrics = Metrics::default();
    metrics.set("deadlocked", u64::from(deadlocked));
    let moved_ms = watch.moved_ns.load(Relaxed) as f64 / 1e6;
    metrics.set("deadlock_after_ms", if deadlocked { moved_ms } else { 0.0 });
    metrics.set(
        "stalled_ms",
        (since(ended) as f64 / 1e6 - moved_ms).max(0.0),
    );
    for (i, done) in shared.done.iter().enumerate() {
        metrics.set(&format!("thread_{i}_done"), done);
        metrics.set(&format!("thread_{i}_holds"), holds[i]);
        metrics.set(&format!("thread_{i}_waits_for"), waits[i]);
    }
    if all_ended {
        // Only threads that let go of both locks leave the accounts readable.
        metrics.set("balance", *shared.accounts[0].lock());
        metrics.set("balance_b", *shared.accounts[1].lock());
        metrics.set("expected_balance", 0i64);
    }
    metrics.set("acquisitions", stats.acquisitions);
    metrics.set("contended", stats.contended);
    metrics.set("owner_changes", stats.owner_changes);
    metrics.set("failed_bodies", shared.failed.sum());
    metrics.set("ops", shared.done.sum());
    metrics.set("wall_ms", wall_ms);

    let cycle = wait_cycle(&holds, &waits).filter(|_| deadlocked);
    let stuck = cycle.map(|(i, j)| Stuck {
        first: (i, lock_held(holds[i]), lock_waited(waits[i])),
        second: (j, lock_held(holds[j]), lock_waited(waits[j])),
        after_changes: shared.done.sum(),
        after_ms: moved_ms,
        stalled_ms: (since(ended) as f64 / 1e6 - moved_ms).max(0.0),
    });
    Ok(Findings {
        ok: true,
        wall_ms,
        metrics,
        notes: notes::deadlock(&Deadlocked {
            threads,
            stuck,
            changes: shared.done.sum(),
            failed_bodies: shared.failed.sum(),
        }),
    })
}

/// Names each changer in the trace once it has told its kernel TID.
fn name_threads(probe: &Probe, shared: &Shared, named: &mut [bool]) {
    for (i, tid) in shared.tids.iter().enumerate() {
        if tid != 0 && !named[i] {
            named[i] = true;
            probe.emit(crate::event::Body::Thread {
                tid: tid as u32,
                name: format!("changer-{i}"),
            });
        }
    }
}

/// Reads each changer's state from /proc: asleep (S, D) or not.
fn look_at_states(shared: &Shared, watch: &Watch) {
    let tasks = crate::procfs::tasks(std::process::id());
    for (i, tid) in shared.tids.iter().enumerate() {
        if let Some(task) = tasks.iter().find(|t| u64::from(t.tid) == tid) {
            watch
                .asleep
                .set(i, u64::from(matches!(task.stat.state, 'S' | 'D')));
        }
    }
}

/// The one lock a `holds` bit set names (the first, if both).
fn lock_held(holds: u64) -> &'static str {
    ACCOUNTS[if holds & 1 != 0 { 0 } else { 1 }]
}

/// The lock a `waits_for` value names.
fn lock_waited(waits_for: u64) -> &'static str {
    ACCOUNTS[(waits_for.max(1) - 1) as usize]
}

/// `changer-0 holds A and waits for B`.
fn describe(i: usize, holds: &[u64], waits: &[u64]) -> String {
    let (held, waited) = (lock_held(holds[i]), lock_waited(waits[i]));
    format!("changer-{i} holds {held} and waits for {waited}")
}

fn add_lock_stats(m: &mut Metrics, shared: &Shared) {
    let s = shared.lock_stats(super::Mode::Deadlock);
    m.set("acquisitions", s.acquisitions);
    m.set("contended", s.contended);
    m.set("owner_changes", s.owner_changes);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wait_cycle_is_two_threads_each_holding_what_the_other_waits_for() {
        // changer-0 holds A, waits for B; changer-1 holds B, waits for A.
        assert_eq!(wait_cycle(&[0b01, 0b10], &[2, 1]), Some((0, 1)));
        // changer-1 waits for A, which nobody holds: it is about to get it.
        assert_eq!(wait_cycle(&[0b01, 0], &[2, 1]), None);
        // Both wait for B, which changer-2 holds while it waits for nothing.
        assert_eq!(wait_cycle(&[0b01, 0, 0b10], &[2, 2, 0]), None);
        // A third thread queues behind the two that are stuck.
        assert_eq!(wait_cycle(&[0, 0b01, 0b10], &[1, 2, 1]), Some((1, 2)));
    }
}
