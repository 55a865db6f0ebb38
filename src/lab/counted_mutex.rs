//! A mutex that counts what happens to it: acquisitions, contended acquisitions (the try-lock
//! failed), wait time on the slow path only (with a cheap tick clock), and owner changes
//! (hand-offs between threads). A holder that panics releases it (the guard's drop); the
//! poison std marks on it is ignored: the lock scenario's bodies fail before they write.
//!
//! The counters live beside the data and are written only by the lock holder, with plain
//! relaxed load+store (no extra atomic read-modify-write), so the uncontended path costs
//! little more than `std::sync::Mutex`. Other threads may read them at any time for a
//! live display; they see a recent, slightly stale value.

use super::ticks;
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Mutex, MutexGuard, TryLockError};

/// A snapshot of a [`CountedMutex`]'s counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LockStats {
    pub acquisitions: u64,
    pub contended: u64,
    pub wait_ns_total: u64,
    pub wait_ns_max: u64,
    pub owner_changes: u64,
}

/// What a lock counts, written only by its holder; shared by [`CountedMutex`] and the fair
/// lock, so both report the same figures the same way.
#[derive(Default)]
pub(super) struct Counters {
    acquisitions: AtomicU64,
    contended: AtomicU64,
    /// In [`ticks`]: converted to nanoseconds only when read.
    wait_ticks_total: AtomicU64,
    wait_ticks_max: AtomicU64,
    owner_changes: AtomicU64,
    last_owner: AtomicU64,
}

/// Bumps a counter that only the lock holder writes.
#[inline]
fn holder_add(counter: &AtomicU64, n: u64) {
    counter.store(counter.load(Relaxed).wrapping_add(n), Relaxed);
}

thread_local! {
    /// Its address tells threads apart: unique among live threads, free to compute.
    static OWNER_MARK: u8 = const { 0 };
}

#[inline]
fn owner_id() -> u64 {
    OWNER_MARK.with(|mark| mark as *const u8 as u64)
}

/// `last_owner` before the first acquisition.
const NOBODY: u64 = 0;

impl Counters {
    /// Called by the new holder after a contended acquisition that began waiting at
    /// `waited_from` (a [`ticks::now`]).
    #[inline]
    pub(super) fn count_wait(&self, waited_from: u64) {
        let waited = ticks::now().saturating_sub(waited_from);
        holder_add(&self.contended, 1);
        holder_add(&self.wait_ticks_total, waited);
        if waited > self.wait_ticks_max.load(Relaxed) {
            self.wait_ticks_max.store(waited, Relaxed);
        }
    }

    /// Called by the new holder.
    #[inline]
    pub(super) fn count_acquisition(&self) {
        holder_add(&self.acquisitions, 1);
        let me = owner_id();
        if self.last_owner.load(Relaxed) != me {
            // The very first acquisition is not a hand-off.
            if self.last_owner.load(Relaxed) != NOBODY {
                holder_add(&self.owner_changes, 1);
            }
            self.last_owner.store(me, Relaxed);
        }
    }

    pub(super) fn stats(&self) -> LockStats {
        // One ratio for both, so a single wait reads the same as total and as maximum.
        let ns_per_tick = ticks::ns_per_tick();
        LockStats {
            acquisitions: self.acquisitions.load(Relaxed),
            contended: self.contended.load(Relaxed),
            wait_ns_total: (self.wait_ticks_total.load(Relaxed) as f64 * ns_per_tick) as u64,
            wait_ns_max: (self.wait_ticks_max.load(Relaxed) as f64 * ns_per_tick) as u64,
            owner_changes: self.owner_changes.load(Relaxed),
        }
    }
}

/// Aligned to a cache line: with a small `T`, the lock word, the data and the counters the
/// holder bumps then share one line, and a hand-off moves one line between cores, not two.
#[repr(align(64))]
pub struct CountedMutex<T> {
    inner: Mutex<T>,
    counters: Counters,
}

pub struct CountedGuard<'a, T> {
    guard: MutexGuard<'a, T>,
}

impl<T> CountedMutex<T> {
    pub fn new(value: T) -> Self {
        ticks::calibrate();
        CountedMutex {
            inner: Mutex::new(value),
            counters: Counters::default(),
        }
    }

    #[inline]
    pub fn lock(&self) -> CountedGuard<'_, T> {
        let guard = match self.inner.try_lock() {
            Ok(guard) => guard,
            Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
            Err(TryLockError::WouldBlock) => {
                // The tick clock keeps the time spent inside the critical section small.
                let waited_from = ticks::now();
                let guard = self.inner.lock().unwrap_or_else(|p| p.into_inner());
                self.counters.count_wait(waited_from);
                guard
            }
        };
        self.counters.count_acquisition();
        CountedGuard { guard }
    }

    /// Takes the lock if it is free, without waiting: `None` when another thread holds it
    /// (nothing is counted then; only an acquisition is).
    #[inline]
    pub fn try_lock(&self) -> Option<CountedGuard<'_, T>> {
        let guard = match self.inner.try_lock() {
            Ok(guard) => guard,
            Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
            Err(TryLockError::WouldBlock) => return None,
        };
        self.counters.count_acquisition();
        Some(CountedGuard { guard })
    }

    /// Whether no thread holds the lock right now (looked at without counting an acquisition).
    pub fn is_free(&self) -> bool {
        !matches!(self.inner.try_lock(), Err(TryLockError::WouldBlock))
    }

    pub fn stats(&self) -> LockStats {
        self.counters.stats()
    }

    pub fn into_inner(self) -> T {
        self.inner.into_inner().unwrap_or_else(|p| p.into_inner())
    }
}

impl<T> Deref for CountedGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.guard
    }
}

impl<T> DerefMut for CountedGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.guard
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Barrier;

    #[test]
    fn counts_uncontended_acquisitions_without_handoffs() {
        let m = CountedMutex::new(0);
        for _ in 0..10 {
            *m.lock() += 1;
        }
        let s = m.stats();
        assert_eq!(s.acquisitions, 10);
        assert_eq!(s.contended, 0);
        assert_eq!(s.owner_changes, 0);
        assert_eq!(m.into_inner(), 10);
    }

    #[test]
    fn try_lock_takes_a_free_lock_and_counts_only_what_it_took() {
        let m = CountedMutex::new(0);
        assert!(m.is_free());
        let held = m.try_lock().expect("a free lock is taken");
        assert!(!m.is_free());
        std::thread::scope(|s| {
            s.spawn(|| assert!(m.try_lock().is_none(), "held by the other thread"));
        });
        drop(held);
        assert!(m.is_free());
        let s = m.stats();
        assert_eq!((s.acquisitions, s.contended, s.owner_changes), (1, 0, 0));
    }

    #[test]
    fn a_panic_while_holding_the_guard_releases_the_lock() {
        let m = CountedMutex::new(0);
        let failed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let mut guard = m.lock();
            *guard += 1;
            panic!("the body failed");
        }));
        assert!(failed.is_err());
        assert!(m.is_free(), "the guard's drop released it on the way out");
        *m.lock() += 1;
        assert_eq!(m.into_inner(), 2);
    }

    #[test]
    fn a_held_lock_makes_the_next_acquisition_contended() {
        let m = CountedMutex::new(0);
        let barrier = Barrier::new(2);
        std::thread::scope(|s| {
            let guard = m.lock();
            s.spawn(|| {
                barrier.wait();
                *m.lock() += 1;
            });
            barrier.wait();
            // The other thread's try-lock fails while we hold the guard.
            std::thread::sleep(std::time::Duration::from_millis(50));
            drop(guard);
        });
        let s = m.stats();
        assert_eq!(s.acquisitions, 2);
        assert_eq!(s.contended, 1);
        assert_eq!(s.owner_changes, 1);
        assert!(
            s.wait_ns_max >= 10_000_000,
            "waited only {} ns",
            s.wait_ns_max
        );
        assert_eq!(s.wait_ns_total, s.wait_ns_max);
    }
}
