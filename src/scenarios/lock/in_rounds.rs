//! The modes that end (nolock, lock, fair, atomic, ordered, trylock), run in rounds: in each round
//! every thread makes `iterations` changes, all starting together, and rounds repeat until
//! `seconds` have passed. A round is the tutorial's run; the rounds that lost updates show how
//! often the race showed itself, and a run of a second or more can be watched on the CPU panel.

use super::changes::{BATCH, Changer, Shared, quiet_failed_bodies};
use super::notes::{self, RoundsRun};
use super::{Mode, Pin, Plan};
use crate::lab::cpu_stat::CoreTimes;
use crate::lab::rounds::Rounds;
use crate::probe::Probe;
use crate::report::Metrics;
use crate::scenarios::Findings;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

/// Where the rounds stand, written by whichever worker closes a round (see [`Rounds::next`]),
/// read by the reporter; times in nanoseconds since the run began.
#[derive(Default)]
struct Standing {
    /// Rounds begun so far.
    begun: AtomicU64,
    /// Rounds ended, and how many of them lost at least one update.
    ended: AtomicU64,
    with_lost: AtomicU64,
    first_open_ns: AtomicU64,
    round_open_ns: AtomicU64,
    last_close_ns: AtomicU64,
    done_at_open: AtomicU64,
    lost_at_open: AtomicU64,
}

fn ns_since(from: Instant) -> u64 {
    from.elapsed().as_nanos() as u64
}

/// How far a run is, in percent, at `now`: the run ends with the first round to end after
/// `minimum`, so at the later of that moment and when the round under way (opened at `open`,
/// `round_share` of it done) will end at its pace so far. Times in ns since the run began; a
/// round may open between the reading of `now` and of `open`.
fn progress_pct(now: u64, first: u64, open: u64, round_share: f64, minimum: u64) -> f64 {
    let share = round_share.max(0.01);
    let round_end = open as f64 + now.saturating_sub(open) as f64 / share;
    let end = (first + minimum) as f64;
    let pct =
        now.saturating_sub(first) as f64 * 100.0 / (end.max(round_end) - first as f64).max(1.0);
    pct.clamp(0.0, 100.0)
}

pub(super) fn run(probe: &Probe, plan: &Plan) -> Result<Findings, String> {
    let Plan {
        mode,
        threads,
        iterations,
        seconds,
        fail_every,
        pin: _,
    } = *plan;
    if fail_every > 0 {
        quiet_failed_bodies();
    }
    let shared = Shared::new(threads, fail_every, plan.cpus()?);
    let rounds = Rounds::new(threads);
    let standing = Standing::default();
    let per_round = iterations * threads as u64;
    let minimum = Duration::from_secs(seconds).as_nanos() as u64;
    let begun = Instant::now();

    // Runs with every worker waiting: count the round that ended, and open another while
    // the run is young enough and nobody asked it to stop.
    let between = |ended: u64| -> bool {
        let now = ns_since(begun);
        let s = &standing;
        if ended > 0 {
            s.ended.store(ended, Relaxed);
            if shared.lost.sum() > s.lost_at_open.load(Relaxed) {
                s.with_lost.fetch_add(1, Relaxed);
            }
            s.last_close_ns.store(now, Relaxed);
        }
        let first_open = if ended == 0 {
            now
        } else {
            s.first_open_ns.load(Relaxed)
        };
        let again = !probe.cancelled() && (ended == 0 || now - first_open < minimum);
        if again {
            s.first_open_ns.store(first_open, Relaxed);
            s.round_open_ns.store(now, Relaxed);
            s.done_at_open.store(shared.done.sum(), Relaxed);
            s.lost_at_open.store(shared.lost.sum(), Relaxed);
            s.begun.store(ended + 1, Relaxed);
        }
        again
    };

    let snapshot = |m: &mut Metrics| {
        let s = &standing;
        let done = shared.done.sum();
        let begun_rounds = s.begun.load(Relaxed).max(1);
        m.set("iterations_done", done);
        m.set("iterations_total", per_round * begun_rounds);
        for (i, d) in shared.done.iter().enumerate() {
            m.set(&format!("thread_{i}_done"), d);
        }
        if matches!(mode, Mode::NoLock | Mode::Atomic) {
            // Inside a lock the balance cannot be read without taking the lock.
            m.set("balance", shared.racy_balance.load(Relaxed));
        }
        m.set("lost_updates", shared.lost.sum());
        m.set("repeats", s.ended.load(Relaxed));
        m.set("repeats_with_lost_updates", s.with_lost.load(Relaxed));
        let stats = shared.lock_stats(mode);
        m.set("acquisitions", stats.acquisitions);
        m.set("contended", stats.contended);
        m.set("wait_ns_total", stats.wait_ns_total);
        m.set("wait_ns_max", stats.wait_ns_max);
        m.set("owner_changes", stats.owner_changes);
        m.set("failed_bodies", shared.failed.sum());
        if mode == Mode::TryLock {
            m.set("backoffs", shared.backoffs.sum());
        }
        let now = ns_since(begun);
        let secs = now as f64 / 1e9;
        if secs > 0.0 {
            m.set("ops_per_sec", done as f64 / secs);
        }
        if s.begun.load(Relaxed) > 0 {
            let in_round = done.saturating_sub(s.done_at_open.load(Relaxed));
            let pct = progress_pct(
                now,
                s.first_open_ns.load(Relaxed),
                s.round_open_ns.load(Relaxed),
                in_round as f64 / per_round as f64,
                minimum,
            );
            m.set("progress_pct", pct);
        }
    };

    let cores_before = CoreTimes::now();
    let cpu_before = probe.cpu_ms();
    probe.with_live(snapshot, || {
        std::thread::scope(|scope| {
            for index in 0..threads {
                let (shared, rounds, between) = (&shared, &rounds, &between);
                let name = format!("changer-{index}");
                let spawned =
                    std::thread::Builder::new()
                        .name(name.clone())
                        .spawn_scoped(scope, move || {
                            probe.thread_named(name.clone());
                            let _changing = probe.span("changes", name);
                            let mut changer = Changer::new(shared, index, mode);
                            let mut round = 0;
                            while let Some(r) = rounds.next(round, between) {
                                round = r;
                                let mut left = iterations;
                                while left > 0 && !probe.cancelled() {
                                    let batch = BATCH.min(left);
                                    changer.batch(shared, batch);
                                    left -= batch;
                                }
                            }
                        });
                if let Err(e) = spawned {
                    rounds.close();
                    return Err(format!("could not start thread {index}: {e}"));
                }
            }
            Ok(())
        })
    })?;
    let ended_ns = ns_since(begun);
    let cpu_ms = probe.cpu_ms() - cpu_before;
    let wall_ns = ended_ns - standing.first_open_ns.load(Relaxed).min(ended_ns);
    // A run cancelled before its first round still took the time its threads took to start.
    let wall = Duration::from_nanos(if wall_ns > 0 { wall_ns } else { ended_ns });
    let busy: f64 = cores_before
        .busy_pct_until(&CoreTimes::now())
        .iter()
        .sum::<f64>()
        / 100.0;

    let done = shared.done.sum();
    let stats = shared.lock_stats(mode);
    let lock_free = shared.locks_free(mode);
    let pinned = shared.pinned_cpus();
    let (lost, failed_bodies, backoffs) = (
        shared.lost.sum(),
        shared.failed.sum(),
        shared.backoffs.sum(),
    );
    let [account_a, account_b] = shared.accounts;
    let balance_b = account_b.into_inner();
    let balance = match mode {
        Mode::Lock => shared.locked_balance.into_inner(),
        Mode::Fair => shared.fair_balance.into_inner(),
        Mode::Ordered | Mode::TryLock => account_a.into_inner(),
        _ => shared.racy_balance.load(Relaxed),
    };
    let wall_ms = wall.as_secs_f64() * 1000.0;
    let figures = RoundsRun {
        mode,
        threads,
        iterations,
        balance,
        lost,
        repeats: standing.ended.load(Relaxed),
        repeats_with_lost: standing.with_lost.load(Relaxed),
        stats,
        failed_bodies,
        lock_free,
        backoffs,
        pinned,
        // What the cores did besides this run: their busy time less this process's own.
        other_load_cores: (busy - cpu_ms / wall_ms.max(1e-9)).max(0.0),
    };

    let mut metrics = Metrics::default();
    metrics.set("balance", balance);
    if mode.takes_two_locks() {
        metrics.set("balance_b", balance_b);
    }
    metrics.set("expected_balance", 0i64);
    metrics.set("lost_updates", figures.lost);
    metrics.set("repeats", figures.repeats);
    metrics.set("repeats_with_lost_updates", figures.repeats_with_lost);
    metrics.set("acquisitions", stats.acquisitions);
    metrics.set("contended", stats.contended);
    metrics.set(
        "contended_pct",
        notes::pct(stats.contended, stats.acquisitions),
    );
    metrics.set("wait_ns_total", stats.wait_ns_total);
    metrics.set("wait_ns_max", stats.wait_ns_max);
    metrics.set("owner_changes", stats.owner_changes);
    if mode == Mode::TryLock {
        metrics.set("backoffs", figures.backoffs);
    }
    metrics.set("failed_bodies", figures.failed_bodies);
    if plan.pin == Pin::Spread {
        metrics.set("threads_pinned", figures.pinned.len() as u64);
    }
    if mode.locks() {
        metrics.set("lock_free_at_end", u64::from(lock_free));
    }
    metrics.set("ops", done);
    metrics.set("ops_per_sec", done as f64 / wall.as_secs_f64().max(1e-9));
    metrics.set("wall_ms", wall_ms);
    metrics.set("cpu_ms", cpu_ms);
    metrics.set("other_load_cores", figures.other_load_cores);

    // Every mode but nolock must keep the balance; if one does not, the lab itself is broken.
    let ok = mode == Mode::NoLock || (balance == 0 && balance_b == 0 && lock_free);
    Ok(Findings {
        ok,
        wall_ms,
        metrics,
        notes: notes::rounds(&figures),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params::Params;

    fn run_with(assignments: &[&str]) -> Findings {
        let params = Params::from_assignments(super::super::SCENARIO.params, assignments).unwrap();
        super::super::run(&Probe::new(params, false)).unwrap()
    }

    fn int(f: &Findings, name: &str) -> i64 {
        match f.metrics.get(name) {
            Some(crate::report::Num::Int(n)) => n,
            other => panic!("{name}: {other:?}"),
        }
    }

    #[test]
    fn progress_follows_the_clock_and_the_last_round() {
        const S: u64 = 1_000_000_000;
        // Half the time asked, rounds short: half done.
        assert_eq!(progress_pct(S, 0, S - 1000, 0.5, 2 * S), 50.0);
        // Past the time asked, in a round half done that began at 1.5 s: it ends at 2.5 s.
        assert_eq!(progress_pct(2 * S, 0, 3 * S / 2, 0.5, 2 * S), 80.0);
        // A round opened after `now` was read: no overflow, still a percentage.
        let pct = progress_pct(S, 0, S + 5, 0.0, 2 * S);
        assert!((0.0..=100.0).contains(&pct), "{pct}");
    }

    #[test]
    fn lock_and_atomic_keep_the_balance_in_every_round() {
        for mode in [
            "mode=lock",
            "mode=fair",
            "mode=atomic",
            "mode=ordered",
            "mode=trylock",
        ] {
            let f = run_with(&[mode, "iterations=20000", "threads=3", "seconds=0"]);
            assert_eq!(int(&f, "balance"), 0, "{mode}");
            assert_eq!(int(&f, "repeats"), 1, "{mode}");
            assert_eq!(int(&f, "ops"), 60000, "{mode}");
            assert!(f.ok, "{mode}");
        }
    }

    #[test]
    fn rounds_repeat_for_the_time_asked_and_every_acquisition_is_counted() {
        let f = run_with(&["mode=lock", "iterations=5000", "threads=2", "seconds=1"]);
        let repeats = int(&f, "repeats");
        assert!(repeats > 1, "{repeats} rounds in a second");
        assert_eq!(int(&f, "ops"), 10000 * repeats);
        assert_eq!(int(&f, "acquisitions"), 10000 * repeats);
        let wall_ms = match f.metrics.get("wall_ms") {
            Some(n) => n.as_f64(),
            None => panic!("no wall_ms"),
        };
        assert!(wall_ms >= 1000.0, "{wall_ms} ms");
    }

    #[test]
    fn a_single_thread_loses_nothing() {
        let f = run_with(&["mode=nolock", "iterations=100000", "threads=1", "seconds=0"]);
        assert_eq!(int(&f, "lost_updates"), 0);
        assert_eq!(int(&f, "repeats_with_lost_updates"), 0);
        assert_eq!(int(&f, "balance"), 0);
    }

    #[test]
    fn trylock_counts_the_first_lock_of_every_back_off() {
        let f = run_with(&[
            "mode=trylock",
            "iterations=200000",
            "threads=2",
            "seconds=0",
        ]);
        assert_eq!(
            int(&f, "acquisitions"),
            2 * 2 * 200_000 + int(&f, "backoffs"),
            "two locks a change, and the first again for every back-off"
        );
        assert_eq!((int(&f, "balance"), int(&f, "balance_b")), (0, 0));
    }
}
