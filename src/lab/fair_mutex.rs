//! A fair lock: a ticket lock whose waiters sleep on a futex. Each thread takes a ticket and
//! holds the lock when "now serving" reaches it, so the lock goes to the waiters in the order
//! they arrived — and the thread that lets it go cannot take it straight back, it queues
//! behind them. With two busy threads the lock changes hands on nearly every acquisition, and
//! each hand-off wakes a sleeping thread: a lock convoy, the price of fairness.
//!
//! It counts what [`CountedMutex`](super::counted_mutex::CountedMutex) counts, with the same
//! counters, so a run reports the same figures in either. A holder that panics releases it
//! (the guard's drop); there is no poisoning.

use super::counted_mutex::{Counters, LockStats};
use super::{futex, ticks};
use std::cell::UnsafeCell;
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicU32, Ordering::SeqCst};

/// Aligned to a cache line, like the counted mutex, so the two compare like for like.
#[repr(align(64))]
pub struct FairMutex<T> {
    /// The next ticket to hand out.
    next_ticket: AtomicU32,
    /// The ticket that holds the lock; waiters sleep on it. Tickets wrap around: only
    /// equality is ever asked, and far fewer than 2³² threads wait at once.
    now_serving: AtomicU32,
    counters: Counters,
    value: UnsafeCell<T>,
}

// SAFETY: the value is reached only through a guard, and one ticket holds the lock at a time.
unsafe impl<T: Send> Send for FairMutex<T> {}
unsafe impl<T: Send> Sync for FairMutex<T> {}

pub struct FairGuard<'a, T> {
    lock: &'a FairMutex<T>,
}

impl<T> FairMutex<T> {
    pub fn new(value: T) -> Self {
        ticks::calibrate();
        FairMutex {
            next_ticket: AtomicU32::new(0),
            now_serving: AtomicU32::new(0),
            counters: Counters::default(),
            value: UnsafeCell::new(value),
        }
    }

    /// Takes a ticket and waits, asleep, until it is served.
    pub fn lock(&self) -> FairGuard<'_, T> {
        // SeqCst here and in `unlock`: either the releasing thread sees this ticket and wakes
        // its owner, or this thread sees the release and does not sleep.
        let ticket = self.next_ticket.fetch_add(1, SeqCst);
        let mut serving = self.now_serving.load(SeqCst);
        if serving != ticket {
            let waited_from = ticks::now();
            while serving != ticket {
                // Returns at once if "now serving" moved since it was read.
                futex::sleep_while(&self.now_serving, serving);
                serving = self.now_serving.load(SeqCst);
            }
            self.counters.count_wait(waited_from);
        }
        self.counters.count_acquisition();
        FairGuard { lock: self }
    }

    /// Serves the next ticket, waking its owner if one is waiting.
    fn unlock(&self) {
        let next = self.now_serving.fetch_add(1, SeqCst).wrapping_add(1);
        if self.next_ticket.load(SeqCst) != next {
            // Every waiter wakes and looks; all but the one served sleep again. A waiter per
            // word would wake one, but with the lesson's few threads this costs little.
            futex::wake_all(&self.now_serving);
        }
    }

    /// Whether no thread holds the lock or waits for it right now.
    pub fn is_free(&self) -> bool {
        self.next_ticket.load(SeqCst) == self.now_serving.load(SeqCst)
    }

    /// Threads that hold a ticket but are not served yet (the tests wait for them to queue).
    #[cfg(test)]
    fn waiters(&self) -> u32 {
        let taken = self
            .next_ticket
            .load(SeqCst)
            .wrapping_sub(self.now_serving.load(SeqCst));
        taken.saturating_sub(1)
    }

    pub fn stats(&self) -> LockStats {
        self.counters.stats()
    }

    pub fn into_inner(self) -> T {
        self.value.into_inner()
    }
}

impl<T> Drop for FairGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.unlock();
    }
}

impl<T> Deref for FairGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: this guard's ticket is served: no other thread reaches the value.
        unsafe { &*self.lock.value.get() }
    }
}

impl<T> DerefMut for FairGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`, and the guard is borrowed mutably.
        unsafe { &mut *self.lock.value.get() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    /// Waits, bounded, until `lock` has `n` waiters.
    fn until_waiting<T>(lock: &FairMutex<T>, n: u32) {
        let since = Instant::now();
        while lock.waiters() < n {
            assert!(since.elapsed() < Duration::from_secs(10), "no {n} waiters");
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    #[test]
    fn threads_exclude_each_other_and_no_change_is_lost() {
        const THREADS: usize = 4;
        const CHANGES: u64 = 20_000;
        let m = FairMutex::new((0u64, false));
        std::thread::scope(|s| {
            for _ in 0..THREADS {
                s.spawn(|| {
                    for _ in 0..CHANGES {
                        let mut g = m.lock();
                        assert!(!g.1, "two holders at once");
                        g.1 = true;
                        // A separate read and write: lost if another thread ran in between.
                        let seen = std::hint::black_box(g.0);
                        g.0 = seen + 1;
                        g.1 = false;
                    }
                });
            }
        });
        assert!(m.is_free());
        let s = m.stats();
        assert_eq!(s.acquisitions, THREADS as u64 * CHANGES);
        assert_eq!(m.into_inner().0, THREADS as u64 * CHANGES);
    }

    #[test]
    fn the_lock_goes_to_the_waiters_in_the_order_they_came() {
        let m = FairMutex::new(Vec::new());
        std::thread::scope(|s| {
            let held = m.lock();
            for i in 0..4 {
                let m = &m;
                s.spawn(move || m.lock().push(i));
                // The next one starts only once this one holds its ticket.
                until_waiting(m, i as u32 + 1);
            }
            drop(held);
        });
        assert!(m.is_free());
        let s = m.stats();
        assert_eq!((s.acquisitions, s.contended, s.owner_changes), (5, 4, 4));
        assert_eq!(m.into_inner(), vec![0, 1, 2, 3]);
    }

    #[test]
    fn the_releasing_thread_queues_behind_a_waiter() {
        let m = FairMutex::new(Vec::new());
        std::thread::scope(|s| {
            let mut held = m.lock();
            held.push("main");
            s.spawn(|| m.lock().push("other"));
            until_waiting(&m, 1);
            drop(held);
            // Taken again at once: a std Mutex usually lets this thread have it back.
            m.lock().push("main");
        });
        assert_eq!(m.into_inner(), vec!["main", "other", "main"]);
    }

    #[test]
    fn a_panic_while_holding_the_guard_releases_the_lock() {
        let m = FairMutex::new(0);
        let failed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let mut guard = m.lock();
            *guard += 1;
            panic!("the body failed");
        }));
        assert!(failed.is_err());
        assert!(m.is_free(), "the guard's drop released it on the way out");
        std::thread::scope(|s| {
            s.spawn(|| *m.lock() += 1);
        });
        assert_eq!(m.into_inner(), 2);
    }
}
