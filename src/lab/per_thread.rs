//! One counter per thread, each on its own cache line so threads never share one: written only
//! by its own thread (a plain store, no read-modify-write), read and summed by the reporter.

use crossbeam_utils::CachePadded;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

pub struct PerThread(Vec<CachePadded<AtomicU64>>);

impl PerThread {
    pub fn new(threads: usize) -> PerThread {
        PerThread(
            (0..threads)
                .map(|_| CachePadded::new(AtomicU64::new(0)))
                .collect(),
        )
    }

    /// Called by thread `thread` only.
    #[inline]
    pub fn set(&self, thread: usize, value: u64) {
        self.0[thread].store(value, Relaxed);
    }

    pub fn iter(&self) -> impl Iterator<Item = u64> + '_ {
        self.0.iter().map(|c| c.load(Relaxed))
    }

    pub fn sum(&self) -> u64 {
        self.iter().sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_thread_writes_its_own_and_the_sum_sees_all() {
        let counters = PerThread::new(3);
        std::thread::scope(|s| {
            for t in 0..3 {
                let counters = &counters;
                s.spawn(move || counters.set(t, 10 * (t as u64 + 1)));
            }
        });
        assert_eq!(counters.iter().collect::<Vec<_>>(), vec![10, 20, 30]);
        assert_eq!(counters.sum(), 60);
    }
}
