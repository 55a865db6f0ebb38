//! `lock` — the tutorial's shared balance: threads add and subtract on one number. Without a
//! lock, updates are lost; with a lock, the balance is right but threads queue; with atomics,
//! it is right without a lock.

use super::{Findings, Group, Panel, Scenario};
use crate::i18n::Text;
use crate::lab::counted_mutex::CountedMutex;
use crate::lab::per_thread::PerThread;
use crate::lab::start_gate::StartGate;
use crate::params::{ParamKind, ParamSpec, choice_enum};
use crate::probe::Probe;
use crate::report::{Metrics, group_thousands};
use std::hint::black_box;
use std::sync::atomic::{AtomicI64, Ordering::Relaxed};
use std::time::Instant;

pub static SCENARIO: Scenario = Scenario::lesson(
    "lock",
    Group::Threads,
    "Lock — the shared balance",
    "threads add and subtract on one balance: no lock loses updates, a lock queues, atomics do neither",
    include_str!("../../assets/lessons/lock.md"),
    &[
        Mode::spec(
            "mode",
            Mode::NoLock,
            "nolock: separate load and store; lock: a counted mutex; atomic: fetch_add/fetch_sub",
        ),
        ParamSpec {
            key: "threads",
            kind: ParamKind::Int { min: 1, max: 64 },
            default: "2",
            help: "threads changing the balance at once (thread i adds and subtracts 5 + 3i)",
        },
        ParamSpec {
            key: "iterations",
            kind: ParamKind::Int {
                min: 1,
                max: 2_000_000_000,
            },
            default: "1000000",
            help: "changes per thread (one change = balance += n, then balance -= n)",
        },
    ],
    run,
)
.with_compare("mode", &["nolock", "lock", "atomic"])
.with_highlights(&[
    "balance",
    "lost_updates",
    "contended",
    "wait_ns_total",
    "owner_changes",
    "wall_ms",
    "ops_per_sec",
])
.with_panel(Panel::Lock);

choice_enum! {
    /// How the threads change the balance.
    pub(super) enum Mode {
        NoLock = "nolock",
        Lock = "lock",
        Atomic = "atomic",
    }
}

/// Iterations between progress publications and cancellation checks.
const BATCH: u64 = 4096;

/// What all threads share, plus per-thread counters padded against false sharing.
struct Shared {
    racy_balance: AtomicI64,
    locked_balance: CountedMutex<i64>,
    done: PerThread,
    lost: PerThread,
}

/// Thread `index` changes the balance by this amount (5, 8, 11, ... as in the tutorial).
fn amount(index: usize) -> i64 {
    5 + 3 * index as i64
}

/// `balance += n; balance -= n` as two unsynchronized read-modify-writes. The load and the
/// store are separate atomic operations, so another thread can write in between and that
/// write is overwritten — a genuinely lost update, without undefined behaviour. The store is
/// a `swap`, whose return value shows exactly when someone else wrote in between.
#[inline]
fn racy_change(balance: &AtomicI64, n: i64) -> u64 {
    let seen = balance.load(Relaxed);
    let lost_add = balance.swap(seen + n, Relaxed) != seen;
    let seen = balance.load(Relaxed);
    let lost_sub = balance.swap(seen - n, Relaxed) != seen;
    lost_add as u64 + lost_sub as u64
}

fn worker(
    shared: &Shared,
    index: usize,
    mode: Mode,
    iterations: u64,
    start: &StartGate,
    probe: &Probe,
) {
    let n = amount(index);
    let mut lost = 0;
    let mut done = 0;
    if !start.arrive() {
        return;
    }
    while done < iterations && !probe.cancelled() {
        let batch = BATCH.min(iterations - done);
        match mode {
            Mode::NoLock => {
                for _ in 0..batch {
                    lost += racy_change(&shared.racy_balance, n);
                }
            }
            Mode::Lock => {
                for _ in 0..batch {
                    let mut balance = shared.locked_balance.lock();
                    // black_box keeps the compiler from folding `+ n - n` away.
                    *balance = black_box(*balance + n);
                    *balance = black_box(*balance - n);
                }
            }
            Mode::Atomic => {
                for _ in 0..batch {
                    shared.racy_balance.fetch_add(n, Relaxed);
                    shared.racy_balance.fetch_sub(n, Relaxed);
                }
            }
        }
        done += batch;
        shared.done.set(index, done);
        shared.lost.set(index, lost);
    }
}

fn run(probe: &Probe) -> Result<Findings, String> {
    let params = probe.params();
    let mode = params.choice::<Mode>("mode")?;
    let threads = params.int("threads") as usize;
    let iterations = params.int("iterations") as u64;
    let shared = Shared {
        racy_balance: AtomicI64::new(0),
        locked_balance: CountedMutex::new(0),
        done: PerThread::new(threads),
        lost: PerThread::new(threads),
    };
    // The clock starts when every worker is ready to go, so they truly overlap.
    let start = StartGate::new();
    let total = iterations * threads as u64;
    let begun = Instant::now();

    let snapshot = |m: &mut Metrics| {
        let done = shared.done.sum();
        m.set("iterations_done", done);
        m.set("iterations_total", total);
        for (i, d) in shared.done.iter().enumerate() {
            m.set(&format!("thread_{i}_done"), d);
        }
        if mode != Mode::Lock {
            // Inside the lock the balance cannot be read without taking the lock.
            m.set("balance", shared.racy_balance.load(Relaxed));
        }
        m.set("lost_updates", shared.lost.sum());
        add_lock_stats(m, &shared.locked_balance);
        let secs = begun.elapsed().as_secs_f64();
        if secs > 0.0 {
            m.set("ops_per_sec", done as f64 / secs);
        }
    };

    let cpu_before = probe.cpu_ms();
    let wall = probe.with_live(snapshot, || {
        std::thread::scope(|scope| {
            for index in 0..threads {
                let (shared, start) = (&shared, &start);
                let spawned = std::thread::Builder::new()
                    .name(format!("changer-{index}"))
                    .spawn_scoped(scope, move || {
                        probe.thread_named(format!("changer-{index}"));
                        let _changing = probe.span("changes", format!("changer-{index}"));
                        worker(shared, index, mode, iterations, start, probe)
                    });
                if let Err(e) = spawned {
                    start.call_off();
                    return Err(format!("could not start thread {index}: {e}"));
                }
            }
            start.open_when_ready(threads);
            let from = Instant::now();
            Ok::<_, String>(from)
        })
        .map(|from| from.elapsed())
    })?;
    let cpu_ms = probe.cpu_ms() - cpu_before;

    let done = shared.done.sum();
    let lost = shared.lost.sum();
    let stats = shared.locked_balance.stats();
    let balance = match mode {
        Mode::Lock => shared.locked_balance.into_inner(),
        _ => shared.racy_balance.load(Relaxed),
    };
    let wall_ms = wall.as_secs_f64() * 1000.0;

    let mut metrics = Metrics::default();
    metrics.set("balance", balance);
    metrics.set("expected_balance", 0i64);
    metrics.set("lost_updates", lost);
    metrics.set("acquisitions", stats.acquisitions);
    metrics.set("contended", stats.contended);
    metrics.set("contended_pct", pct(stats.contended, stats.acquisitions));
    metrics.set("wait_ns_total", stats.wait_ns_total);
    metrics.set("wait_ns_max", stats.wait_ns_max);
    metrics.set("owner_changes", stats.owner_changes);
    metrics.set("ops", done);
    metrics.set("ops_per_sec", done as f64 / wall.as_secs_f64().max(1e-9));
    metrics.set("wall_ms", wall_ms);
    metrics.set("cpu_ms", cpu_ms);

    let notes = verdict(
        mode,
        threads,
        balance,
        lost,
        stats.contended,
        stats.acquisitions,
        stats.owner_changes,
    );
    // Lock and atomic must end at 0; if they don't, the lab itself is broken.
    let ok = mode == Mode::NoLock || balance == 0;
    Ok(Findings {
        ok,
        wall_ms,
        metrics,
        notes: notes.into_iter().map(Text::from).collect(),
    })
}

fn add_lock_stats(m: &mut Metrics, lock: &CountedMutex<i64>) {
    let s = lock.stats();
    m.set("acquisitions", s.acquisitions);
    m.set("contended", s.contended);
    m.set("wait_ns_total", s.wait_ns_total);
    m.set("wait_ns_max", s.wait_ns_max);
    m.set("owner_changes", s.owner_changes);
}

fn pct(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 * 100.0 / whole as f64
    }
}

fn verdict(
    mode: Mode,
    threads: usize,
    balance: i64,
    lost: u64,
    contended: u64,
    acquisitions: u64,
    handoffs: u64,
) -> Vec<String> {
    let line = match mode {
        Mode::NoLock if threads == 1 => {
            "one thread cannot race with itself: no update lost, balance 0".to_string()
        }
        Mode::NoLock if lost == 0 => {
            "no update was lost this time: the threads barely overlapped; try more iterations"
                .to_string()
        }
        Mode::NoLock => format!(
            "{} updates were lost: a thread read the balance, another wrote in between, and \
             the first overwrote that write; balance ended at {}, not 0",
            group_thousands(lost as i64),
            group_thousands(balance)
        ),
        Mode::Lock | Mode::Atomic if balance != 0 => format!(
            "balance ended at {}, not 0: the {} failed to protect it — a bug in the lab itself",
            group_thousands(balance),
            if mode == Mode::Lock {
                "lock"
            } else {
                "atomic operations"
            }
        ),
        Mode::Lock => format!(
            "balance stayed {balance}: each change ran alone; {} of {} acquisitions ({:.1}%) \
             had to wait, and the lock changed hands {} times",
            group_thousands(contended as i64),
            group_thousands(acquisitions as i64),
            pct(contended, acquisitions),
            group_thousands(handoffs as i64)
        ),
        Mode::Atomic => format!(
            "balance stayed {balance} without any lock: fetch_add and fetch_sub are each one \
             indivisible read-modify-write"
        ),
    };
    let mut notes = vec![line];
    // Few hand-offs is the mutex being unfair on purpose (the releasing thread usually takes it
    // again): worth saying, because it is why a lock can run faster than no lock at all.
    if mode == Mode::Lock && threads > 1 && handoffs > 0 && handoffs * 100 < acquisitions {
        notes.push(format!(
            "each thread kept the lock for long stretches (about {} changes a turn), so the \
             balance stayed in one core's cache — why a lock can beat nolock, whose threads \
             pull the balance from core to core on every change",
            group_thousands((acquisitions / (handoffs + 1)) as i64)
        ));
    }
    notes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params::Params;

    fn run_with(assignments: &[&str]) -> Findings {
        let params = Params::from_assignments(SCENARIO.params, assignments).unwrap();
        run(&Probe::new(params, false)).unwrap()
    }

    #[test]
    fn a_lock_kept_for_long_stretches_is_explained() {
        let notes = verdict(Mode::Lock, 2, 0, 0, 2, 2_000_000, 3);
        assert_eq!(notes.len(), 2, "{notes:?}");
        assert!(
            notes[1].contains("about 500,000 changes a turn"),
            "{notes:?}"
        );
        // Passed back and forth often: nothing more to explain.
        assert_eq!(
            verdict(Mode::Lock, 2, 0, 0, 127_352, 2_000_000, 130_349).len(),
            1
        );
        assert_eq!(verdict(Mode::Lock, 1, 0, 0, 0, 1_000_000, 0).len(), 1);
    }

    #[test]
    fn lock_and_atomic_keep_the_balance() {
        for mode in ["mode=lock", "mode=atomic"] {
            let f = run_with(&[mode, "iterations=20000", "threads=3"]);
            assert_eq!(f.metrics.get("balance"), Some(0i64.into()), "{mode}");
            assert_eq!(f.metrics.get("ops"), Some(60000u64.into()), "{mode}");
            assert!(f.ok);
        }
    }

    #[test]
    fn lock_counts_every_acquisition() {
        let f = run_with(&["mode=lock", "iterations=5000", "threads=2"]);
        assert_eq!(f.metrics.get("acquisitions"), Some(10000u64.into()));
    }

    #[test]
    fn a_single_thread_loses_nothing() {
        let f = run_with(&["mode=nolock", "iterations=100000", "threads=1"]);
        assert_eq!(f.metrics.get("lost_updates"), Some(0u64.into()));
        assert_eq!(f.metrics.get("balance"), Some(0i64.into()));
    }
}
