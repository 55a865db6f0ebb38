//! A simulated global interpreter lock, after CPython's (3.2+): one thread at a time may run
//! "bytecode". A thread that waits longer than the switch interval sets a drop request; the
//! holder checks it between bytecodes, releases, and waits until another thread has taken the
//! lock (forced switching), so waiting threads are not starved. With `ticks` set instead, the
//! holder releases after that many bytecodes and anyone (itself included) may retake it — the
//! old pre-3.2 rule.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

#[derive(Default)]
struct State {
    locked: bool,
    /// The thread that holds (or last held) the lock; `usize::MAX` before the first.
    holder: usize,
    /// Bumped on every hand-off to a different thread.
    switches: u64,
    waiters: usize,
}

pub struct Gil {
    state: Mutex<State>,
    /// Signalled when the lock is released.
    released: Condvar,
    /// Signalled when a (new) holder takes it, for forced switching.
    taken: Condvar,
    drop_request: AtomicBool,
    interval: Duration,
    handoffs: AtomicU64,
    releases: AtomicU64,
}

impl Gil {
    pub fn new(interval: Duration) -> Gil {
        Gil {
            state: Mutex::new(State {
                holder: usize::MAX,
                ..State::default()
            }),
            released: Condvar::new(),
            taken: Condvar::new(),
            drop_request: AtomicBool::new(false),
            interval,
            handoffs: AtomicU64::new(0),
            releases: AtomicU64::new(0),
        }
    }

    fn lock_state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Takes the lock for thread `me`; returns how long it waited.
    pub fn take(&self, me: usize) -> Duration {
        let from = Instant::now();
        let mut state = self.lock_state();
        if state.locked {
            state.waiters += 1;
            while state.locked {
                let switches = state.switches;
                let (next, wait) = self
                    .released
                    .wait_timeout(state, self.interval)
                    .unwrap_or_else(|p| p.into_inner());
                state = next;
                // A whole interval passed and nobody switched: ask the holder to let go.
                if wait.timed_out() && state.locked && state.switches == switches {
                    self.drop_request.store(true, Relaxed);
                }
            }
            state.waiters -= 1;
        }
        state.locked = true;
        if state.holder != me {
            if state.holder != usize::MAX {
                state.switches += 1;
                self.handoffs.fetch_add(1, Relaxed);
            }
            state.holder = me;
        }
        self.drop_request.store(false, Relaxed);
        self.taken.notify_all();
        from.elapsed()
    }

    /// Has a waiting thread asked the holder to let go? Checked between bytecodes.
    #[inline]
    pub fn drop_requested(&self) -> bool {
        self.drop_request.load(Relaxed)
    }

    /// Releases the lock. When `forced` (a drop was requested), waits until another thread
    /// has taken it, as CPython does, so the releasing thread cannot grab it straight back.
    pub fn release(&self, forced: bool) {
        let mut state = self.lock_state();
        state.locked = false;
        self.releases.fetch_add(1, Relaxed);
        self.released.notify_one();
        if forced {
            let switches = state.switches;
            // Bounded: a waiter that gave up (its time ran out) must not strand us.
            while state.switches == switches && state.waiters > 0 {
                let (next, _) = self
                    .taken
                    .wait_timeout(state, self.interval)
                    .unwrap_or_else(|p| p.into_inner());
                state = next;
            }
        }
    }

    /// Hand-offs from one thread to a different one.
    pub fn handoffs(&self) -> u64 {
        self.handoffs.load(Relaxed)
    }

    pub fn releases(&self) -> u64 {
        self.releases.load(Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicU64;

    /// Two threads that only release on request still alternate: forced switching works.
    #[test]
    fn waiting_threads_get_a_turn() {
        let gil = Gil::new(Duration::from_millis(2));
        let turns = [AtomicU64::new(0), AtomicU64::new(0)];
        let deadline = Instant::now() + Duration::from_millis(300);
        std::thread::scope(|s| {
            for me in 0..2 {
                let (gil, turns) = (&gil, &turns);
                s.spawn(move || {
                    while Instant::now() < deadline {
                        gil.take(me);
                        turns[me].fetch_add(1, Relaxed);
                        while !gil.drop_requested() && Instant::now() < deadline {
                            std::hint::spin_loop();
                        }
                        gil.release(gil.drop_requested());
                    }
                });
            }
        });
        assert!(
            turns[0].load(Relaxed) >= 5 && turns[1].load(Relaxed) >= 5,
            "{turns:?}"
        );
        assert!(gil.handoffs() >= 10, "{} hand-offs", gil.handoffs());
    }

    #[test]
    fn one_thread_never_hands_off() {
        let gil = Gil::new(Duration::from_millis(1));
        for _ in 0..100 {
            gil.take(0);
            gil.release(false);
        }
        assert_eq!(gil.handoffs(), 0);
        assert_eq!(gil.releases(), 100);
        assert!(!gil.drop_requested());
    }
}
