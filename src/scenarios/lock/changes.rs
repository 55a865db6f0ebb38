//! What the changing threads share, and one change in each mode: the racy load-and-store, the
//! locked change, the atomic one, and the two-lock change of the deadlock modes. Hot loops
//! publish their counters once a batch, never once a change.

use super::Mode;
use crate::lab::affinity;
use crate::lab::counted_mutex::{CountedMutex, LockStats};
use crate::lab::fair_mutex::FairMutex;
use crate::lab::per_thread::PerThread;
use std::hint::black_box;
use std::ops::DerefMut;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicI64, Ordering::Relaxed};

/// Changes between progress publications and cancellation checks.
pub(super) const BATCH: u64 = 4096;

/// The two accounts of the two-lock modes, by index (bit `i` of a thread's holds, `i + 1`
/// as what it waits for).
pub const ACCOUNTS: [&str; 2] = ["A", "B"];

/// What all threads share, plus per-thread counters padded against false sharing.
pub(super) struct Shared {
    pub racy_balance: AtomicI64,
    pub locked_balance: CountedMutex<i64>,
    /// The balance behind the fair lock (mode fair).
    pub fair_balance: FairMutex<i64>,
    /// Accounts A and B, each behind its own lock (the two-lock modes).
    pub accounts: [CountedMutex<i64>; 2],
    pub done: PerThread,
    pub lost: PerThread,
    pub failed: PerThread,
    pub backoffs: PerThread,
    /// The locks each thread holds: bit 0 for A, bit 1 for B.
    pub holds: PerThread,
    /// The lock each thread waits for: 1 for A, 2 for B, 0 for none.
    pub waits_for: PerThread,
    /// Each thread's kernel TID, once it started.
    pub tids: PerThread,
    /// The CPU each thread was pinned to, plus one (0: not pinned).
    pub pinned_to: PerThread,
    fail_every: u64,
    /// The CPUs to pin the threads to in turn; empty: the scheduler places them.
    cpus: Vec<usize>,
}

impl Shared {
    pub fn new(threads: usize, fail_every: u64, cpus: Vec<usize>) -> Shared {
        Shared {
            racy_balance: AtomicI64::new(0),
            locked_balance: CountedMutex::new(0),
            fair_balance: FairMutex::new(0),
            accounts: [CountedMutex::new(0), CountedMutex::new(0)],
            done: PerThread::new(threads),
            lost: PerThread::new(threads),
            failed: PerThread::new(threads),
            backoffs: PerThread::new(threads),
            holds: PerThread::new(threads),
            waits_for: PerThread::new(threads),
            tids: PerThread::new(threads),
            pinned_to: PerThread::new(threads),
            fail_every,
            cpus,
        }
    }

    /// The CPUs the threads were pinned to, by thread (only those that were).
    pub fn pinned_cpus(&self) -> Vec<usize> {
        self.pinned_to
            .iter()
            .filter(|&cpu| cpu > 0)
            .map(|cpu| cpu as usize - 1)
            .collect()
    }

    /// Pins the calling thread, thread `index`, to its CPU if the threads are pinned.
    fn pin(&self, index: usize) {
        if self.cpus.is_empty() {
            return;
        }
        let cpu = self.cpus[index % self.cpus.len()];
        // The CPU is one this process may use; if pinning still fails the thread runs where
        // the scheduler puts it, and the report counts only the threads that were pinned.
        if affinity::pin(0, &[cpu]).is_ok() {
            self.pinned_to.set(index, cpu as u64 + 1);
        }
    }

    /// The counters of the lock(s) `mode` takes, summed (the longest wait is the longest of any).
    pub fn lock_stats(&self, mode: Mode) -> LockStats {
        if mode == Mode::Fair {
            return self.fair_balance.stats();
        }
        let locks: &[&CountedMutex<i64>] = if mode.takes_two_locks() {
            &[&self.accounts[0], &self.accounts[1]]
        } else {
            &[&self.locked_balance]
        };
        locks
            .iter()
            .map(|l| l.stats())
            .fold(LockStats::default(), |sum, s| LockStats {
                acquisitions: sum.acquisitions + s.acquisitions,
                contended: sum.contended + s.contended,
                wait_ns_total: sum.wait_ns_total + s.wait_ns_total,
                wait_ns_max: sum.wait_ns_max.max(s.wait_ns_max),
                owner_changes: sum.owner_changes + s.owner_changes,
            })
    }

    /// Whether every lock `mode` takes is free now.
    pub fn locks_free(&self, mode: Mode) -> bool {
        if mode.takes_two_locks() {
            self.accounts.iter().all(CountedMutex::is_free)
        } else if mode == Mode::Fair {
            self.fair_balance.is_free()
        } else {
            self.locked_balance.is_free()
        }
    }
}

/// Thread `index` changes the balance by this amount (5, 8, 11, ... as in the tutorial).
pub(super) fn amount(index: usize) -> i64 {
    5 + 3 * index as i64
}

/// The panic a failing body raises inside the lock; the hook [`quiet_failed_bodies`] installs
/// keeps it off stderr, since it is the lesson, not a fault.
struct FailedBody;

/// Installs, once, a panic hook that says nothing about a [`FailedBody`] and passes every other
/// panic on to the hook that was there before.
pub(super) fn quiet_failed_bodies() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let before = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !info.payload().is::<FailedBody>() {
                before(info);
            }
        }));
    });
}

/// The order in which thread `index` takes the two accounts' locks: in `ordered` mode A then B
/// for every thread; otherwise even threads A then B, odd ones B then A.
pub(super) fn lock_order(mode: Mode, index: usize) -> (usize, usize) {
    if mode == Mode::Ordered || index.is_multiple_of(2) {
        (0, 1)
    } else {
        (1, 0)
    }
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

/// The change inside the lock whose guard is `balance`; `fail`: the body fails after taking
/// the lock, before it writes.
#[inline]
fn locked_change(mut balance: impl DerefMut<Target = i64>, n: i64, fail: bool) {
    if fail {
        std::panic::panic_any(FailedBody);
    }
    // black_box keeps the compiler from folding `+ n - n` away.
    *balance = black_box(*balance + n);
    *balance = black_box(*balance - n);
}

/// How a change that takes two locks went.
enum TwoLocks {
    Changed,
    /// The try-lock of the second lock failed: the first was let go.
    BackedOff,
}

/// One thread's side of the work: its counters, published to [`Shared`] once a batch.
pub(super) struct Changer {
    index: usize,
    mode: Mode,
    n: i64,
    first: usize,
    second: usize,
    done: u64,
    lost: u64,
    failed: u64,
    backoffs: u64,
    /// Changes until the next one fails (never reaches 0 when bodies do not fail).
    until_failure: u64,
    /// For randomized back-off.
    rng: u64,
}

impl Changer {
    pub fn new(shared: &Shared, index: usize, mode: Mode) -> Changer {
        shared
            .tids
            .set(index, nix::unistd::gettid().as_raw() as u64);
        shared.pin(index);
        let (first, second) = lock_order(mode, index);
        Changer {
            index,
            mode,
            n: amount(index),
            first,
            second,
            done: 0,
            lost: 0,
            failed: 0,
            backoffs: 0,
            until_failure: if shared.fail_every == 0 {
                u64::MAX
            } else {
                shared.fail_every
            },
            rng: 0x9E37_79B9_7F4A_7C15 ^ (index as u64 + 1),
        }
    }

    /// Whether the change about to be made fails (every `fail_every`th of this thread).
    #[inline]
    fn fails_now(&mut self, shared: &Shared) -> bool {
        self.until_failure -= 1;
        if self.until_failure == 0 {
            self.until_failure = shared.fail_every;
            true
        } else {
            false
        }
    }

    /// Makes `count` changes, then publishes this thread's counters.
    pub fn batch(&mut self, shared: &Shared, count: u64) {
        for _ in 0..count {
            let fail = self.fails_now(shared);
            if fail {
                // Only a failing change pays for catching: the others run as they are.
                let caught = catch_unwind(AssertUnwindSafe(|| self.change(shared, true)));
                if caught.is_err() {
                    self.failed += 1;
                    // The failed body let go of everything it held, as the unwinding went.
                    shared.holds.set(self.index, 0);
                    shared.waits_for.set(self.index, 0);
                }
            } else {
                self.change(shared, false);
            }
        }
        self.done += count;
        self.publish(shared);
    }

    fn publish(&self, shared: &Shared) {
        let i = self.index;
        shared.done.set(i, self.done);
        shared.lost.set(i, self.lost);
        shared.failed.set(i, self.failed);
        shared.backoffs.set(i, self.backoffs);
    }

    /// One change in this thread's mode; a failing body panics with [`FailedBody`].
    #[inline]
    fn change(&mut self, shared: &Shared, fail: bool) {
        let n = self.n;
        match self.mode {
            Mode::NoLock | Mode::Atomic if fail => std::panic::panic_any(FailedBody),
            Mode::NoLock => self.lost += racy_change(&shared.racy_balance, n),
            Mode::Atomic => {
                shared.racy_balance.fetch_add(n, Relaxed);
                shared.racy_balance.fetch_sub(n, Relaxed);
            }
            Mode::Lock => locked_change(shared.locked_balance.lock(), n, fail),
            Mode::Fair => locked_change(shared.fair_balance.lock(), n, fail),
            Mode::Deadlock | Mode::Ordered => {
                self.two_locks(shared, fail, false);
            }
            Mode::TryLock => {
                while let TwoLocks::BackedOff = self.two_locks(shared, fail, true) {
                    self.backoffs += 1;
                    self.back_off();
                }
            }
            Mode::Python => unreachable!("python mode changes nothing in Rust"),
        }
    }

    /// Takes this thread's first lock, then its second — waiting for it, or with `try_second`
    /// only trying, letting go of the first when it is taken — and moves `n` from one account
    /// to the other and back. What it holds and waits for is written down as it goes, so a
    /// deadlock can be shown.
    #[inline]
    fn two_locks(&self, shared: &Shared, fail: bool, try_second: bool) -> TwoLocks {
        let (i, first, second) = (self.index, self.first, self.second);
        shared.waits_for.set(i, first as u64 + 1);
        let first_guard = shared.accounts[first].lock();
        shared.holds.set(i, 1 << first);
        shared.waits_for.set(i, second as u64 + 1);
        let second_guard = if try_second {
            match shared.accounts[second].try_lock() {
                Some(guard) => guard,
                None => {
                    shared.waits_for.set(i, 0);
                    drop(first_guard);
                    shared.holds.set(i, 0);
                    return TwoLocks::BackedOff;
                }
            }
        } else {
            shared.accounts[second].lock()
        };
        shared.holds.set(i, (1 << first) | (1 << second));
        shared.waits_for.set(i, 0);
        if fail {
            std::panic::panic_any(FailedBody);
        }
        let (mut a, mut b) = if first == 0 {
            (first_guard, second_guard)
        } else {
            (second_guard, first_guard)
        };
        let n = self.n;
        *a = black_box(*a + n);
        *b = black_box(*b - n);
        *a = black_box(*a - n);
        *b = black_box(*b + n);
        drop((a, b));
        shared.holds.set(i, 0);
        TwoLocks::Changed
    }

    /// Waits a short random while, so two threads that backed off do not collide again in step.
    fn back_off(&mut self) {
        // xorshift64: cheap, and different for every thread.
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        for _ in 0..(self.rng % 256) {
            std::hint::spin_loop();
        }
        std::thread::yield_now();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordered_threads_take_a_then_b_and_others_take_opposite_orders() {
        assert_eq!(lock_order(Mode::Ordered, 0), (0, 1));
        assert_eq!(lock_order(Mode::Ordered, 1), (0, 1));
        assert_eq!(lock_order(Mode::Deadlock, 0), (0, 1));
        assert_eq!(lock_order(Mode::Deadlock, 1), (1, 0));
        assert_eq!(lock_order(Mode::TryLock, 3), (1, 0));
    }

    #[test]
    fn every_nth_body_fails_and_the_lock_is_free_after_each() {
        quiet_failed_bodies();
        for mode in [Mode::Lock, Mode::Fair, Mode::Ordered, Mode::TryLock] {
            let shared = Shared::new(1, 10, Vec::new());
            let mut changer = Changer::new(&shared, 0, mode);
            changer.batch(&shared, 95);
            assert_eq!(shared.failed.sum(), 9, "{mode:?}");
            assert_eq!(shared.done.sum(), 95, "{mode:?}");
            assert!(shared.locks_free(mode), "{mode:?}");
            assert_eq!(shared.holds.sum(), 0, "{mode:?}");
            let stats = shared.lock_stats(mode);
            let locks = if mode.takes_two_locks() { 2 } else { 1 };
            assert_eq!(
                stats.acquisitions,
                95 * locks,
                "{mode:?}: failed bodies took it too"
            );
        }
    }

    #[test]
    fn a_failed_body_changes_nothing() {
        quiet_failed_bodies();
        let shared = Shared::new(1, 3, Vec::new());
        let mut changer = Changer::new(&shared, 0, Mode::Ordered);
        changer.batch(&shared, 30);
        let [a, b] = shared.accounts;
        assert_eq!((a.into_inner(), b.into_inner()), (0, 0));
    }
}
