//! A start line for worker threads: the clock starts only when every worker is waiting at it,
//! and if starting one of them fails, the others are released to give up instead of waiting
//! forever (which a `std::sync::Barrier` cannot do). Workers spin at the line rather than
//! sleep: a thread woken from a futex may start milliseconds late, and a short race can be
//! over before the late one begins — the threads would never overlap.

use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};

const GO: u8 = 1;
const CALLED_OFF: u8 = 2;

#[derive(Default)]
pub struct StartGate {
    ready: AtomicUsize,
    /// 0 until decided, then [`GO`] or [`CALLED_OFF`].
    verdict: AtomicU8,
}

/// Spins between yields: short enough to react at once, long enough not to hog a core.
const SPINS_PER_YIELD: u32 = 1024;

impl StartGate {
    pub fn new() -> StartGate {
        StartGate::default()
    }

    /// A worker arrives and waits for the start; `false` means the run was called off.
    pub fn arrive(&self) -> bool {
        self.ready.fetch_add(1, Ordering::AcqRel);
        let mut spins = 0u32;
        loop {
            match self.verdict.load(Ordering::Acquire) {
                GO => return true,
                CALLED_OFF => return false,
                _ => {}
            }
            spins = spins.wrapping_add(1);
            if spins.is_multiple_of(SPINS_PER_YIELD) {
                std::thread::yield_now();
            } else {
                std::hint::spin_loop();
            }
        }
    }

    /// Waits until `workers` have arrived, then lets them all go at once.
    pub fn open_when_ready(&self, workers: usize) {
        while self.ready.load(Ordering::Acquire) < workers {
            std::thread::yield_now();
        }
        self.verdict.store(GO, Ordering::Release);
    }

    /// Releases every waiting (and future) worker with "give up".
    pub fn call_off(&self) {
        self.verdict.store(CALLED_OFF, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn opens_only_when_all_have_arrived() {
        let gate = StartGate::new();
        let started = AtomicUsize::new(0);
        std::thread::scope(|s| {
            for _ in 0..3 {
                s.spawn(|| {
                    if gate.arrive() {
                        started.fetch_add(1, Ordering::SeqCst);
                    }
                });
            }
            gate.open_when_ready(3);
        });
        assert_eq!(started.load(Ordering::SeqCst), 3);
    }

    #[test]
    fn calling_off_releases_waiters() {
        let gate = StartGate::new();
        let went = std::thread::scope(|s| {
            let waiter = s.spawn(|| gate.arrive());
            gate.call_off();
            waiter.join().unwrap()
        });
        assert!(!went);
    }
}
