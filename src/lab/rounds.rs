//! The same work run again and again by a fixed set of threads, every round begun by all of
//! them together. A race run once can be over before the second thread even starts (a
//! million changes take ~15 ms, less than a time slice on a busy machine); run for a second
//! or two in rounds, the threads overlap in most rounds, and the rounds that lost nothing
//! show how easily a short run hides the race.
//!
//! No thread leads: the last worker to finish a round does the round's bookkeeping, while
//! every other worker waits, and opens the next round. Waiting workers spin at first — a
//! thread woken from a futex may start milliseconds late, and a short round can be over
//! before the late one begins — and sleep in short steps once the wait has lasted (a lock
//! round can leave one thread waiting a quarter of a second for the other), so a waiter does
//! not show as a busy core.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// The value of `open` once no round will open again.
const CLOSED: u64 = u64::MAX;

/// How long a waiting worker spins before it sleeps between looks.
const SPIN_FOR: Duration = Duration::from_micros(200);

/// How long it sleeps between looks after that.
const NAP: Duration = Duration::from_micros(100);

/// Spins between yields while spinning.
const SPINS_PER_YIELD: u32 = 1024;

pub struct Rounds {
    workers: usize,
    /// Workers waiting for the next round.
    arrived: AtomicUsize,
    /// The round workers may run (1, 2, ...); 0 before the first, [`CLOSED`] after the last.
    open: AtomicU64,
}

impl Rounds {
    pub fn new(workers: usize) -> Rounds {
        Rounds {
            workers,
            arrived: AtomicUsize::new(0),
            open: AtomicU64::new(0),
        }
    }

    /// A worker has finished round `last` (0 before its first) and waits for the next one;
    /// `None` when there is none. The last of the workers to get here calls `between(last)`
    /// with every other worker waiting — the place to count what the round did — and opens
    /// the next round if it returns true, or ends the rounds.
    pub fn next(&self, last: u64, between: &dyn Fn(u64) -> bool) -> Option<u64> {
        if self.open.load(Ordering::Acquire) == CLOSED {
            return None;
        }
        // AcqRel: the last to arrive sees everything the others wrote during the round.
        if self.arrived.fetch_add(1, Ordering::AcqRel) + 1 == self.workers {
            self.arrived.store(0, Ordering::Relaxed);
            let next = if between(last) { last + 1 } else { CLOSED };
            // Release: the reset above and the bookkeeping happen before anyone starts again.
            self.open.store(next, Ordering::Release);
        }
        let since = Instant::now();
        let mut spins = 0u32;
        loop {
            let open = self.open.load(Ordering::Acquire);
            if open != last {
                return (open != CLOSED).then_some(open);
            }
            spins = spins.wrapping_add(1);
            if !spins.is_multiple_of(SPINS_PER_YIELD) {
                std::hint::spin_loop();
            } else if since.elapsed() < SPIN_FOR {
                std::thread::yield_now();
            } else {
                std::thread::sleep(NAP);
            }
        }
    }

    /// Ends the rounds from outside (a worker could not be started): waiting workers get
    /// `None`, and so does every worker that arrives later.
    pub fn close(&self) {
        self.open.store(CLOSED, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;
    use std::sync::atomic::AtomicU64;

    #[test]
    fn every_worker_runs_every_round_and_the_last_to_arrive_counts_it() {
        let rounds = Rounds::new(3);
        let work = AtomicU64::new(0);
        let counted: Mutex<Vec<(u64, u64)>> = Mutex::new(Vec::new());
        let between = |ended: u64| {
            // Every worker has finished round `ended`: all its work is there.
            counted
                .lock()
                .unwrap()
                .push((ended, work.load(Ordering::Relaxed)));
            ended < 4
        };
        std::thread::scope(|s| {
            for _ in 0..3 {
                s.spawn(|| {
                    let mut round = 0;
                    while let Some(r) = rounds.next(round, &between) {
                        assert_eq!(r, round + 1, "rounds come in order");
                        round = r;
                        work.fetch_add(1, Ordering::Relaxed);
                    }
                    assert_eq!(round, 4);
                });
            }
        });
        assert_eq!(
            *counted.lock().unwrap(),
            vec![(0, 0), (1, 3), (2, 6), (3, 9), (4, 12)]
        );
    }

    #[test]
    fn closing_releases_waiting_workers() {
        let rounds = Rounds::new(2);
        let never = |_: u64| -> bool { panic!("the second worker never arrives") };
        let got = std::thread::scope(|s| {
            let waiter = s.spawn(|| rounds.next(0, &never));
            std::thread::sleep(Duration::from_millis(20));
            rounds.close();
            waiter.join().unwrap()
        });
        assert_eq!(got, None);
        assert_eq!(rounds.next(0, &never), None, "a latecomer is told at once");
    }

    #[test]
    fn a_round_that_is_refused_ends_the_rounds() {
        let rounds = Rounds::new(1);
        assert_eq!(rounds.next(0, &|_| true), Some(1));
        assert_eq!(rounds.next(1, &|_| false), None);
    }
}
