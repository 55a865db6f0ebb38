//! What a watch has seen so far, counted where it is seen and published every 100 ms as the
//! run's live figures.

use crate::report::Metrics;
use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Debug, Default)]
pub struct Counts {
    pub processes_seen: AtomicU64,
    pub threads_seen: AtomicU64,
    pub processes_live: AtomicU64,
    pub threads_live: AtomicU64,
}

impl Counts {
    pub fn process_started(&self) {
        self.processes_seen.fetch_add(1, Ordering::Relaxed);
        self.processes_live.fetch_add(1, Ordering::Relaxed);
        self.thread_started();
    }

    pub fn process_ended(&self) {
        dec(&self.processes_live);
        self.thread_ended();
    }

    pub fn thread_started(&self) {
        self.threads_seen.fetch_add(1, Ordering::Relaxed);
        self.threads_live.fetch_add(1, Ordering::Relaxed);
    }

    pub fn thread_ended(&self) {
        dec(&self.threads_live);
    }

    pub fn seen(&self) -> (u64, u64) {
        (
            self.processes_seen.load(Ordering::Relaxed),
            self.threads_seen.load(Ordering::Relaxed),
        )
    }

    /// The live figures: what was seen, and what runs now.
    pub fn snapshot(&self, metrics: &mut Metrics) {
        let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
        metrics.set("processes_seen", load(&self.processes_seen));
        metrics.set("threads_seen", load(&self.threads_seen));
        metrics.set("processes_live", load(&self.processes_live));
        metrics.set("threads_live", load(&self.threads_live));
    }
}

fn dec(counter: &AtomicU64) {
    let _ = counter.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1));
}
