//! What a run looked like from outside it: the resources the kernel charged to its processes,
//! what sampling its process tree showed, the machine's other load, and what its trace said of
//! its queues. Whoever starts the runner collects it (`runner::observe`); the lints read it,
//! and a recording keeps it (as this JSON), so a replay has the same insights as the run.

use crate::event::{Body, Event};
use crate::lab::channel::DEPTH;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Everything the lints know of a run besides its report.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Observed {
    /// Cores the machine has (`/proc/stat`).
    pub cores: usize,
    /// From the runner's start to its reaping; attached to a running process, from attaching
    /// to the watch's end (the window `usage` covers).
    pub wall_ms: f64,
    /// What the kernel charged the runner and every descendant it reaped (`wait4`'s rusage);
    /// `None` when the runner could not be reaped. Attached to a running process, what it and
    /// its descendants used while watched, by the watch's report (`None` without one): the
    /// kernel charges them to their own parent, and the runner's own CPU is not theirs.
    pub usage: Option<Usage>,
    pub tree: TreeSamples,
    /// Cores other programs kept busy over the run, on average (`/proc/stat` less the run's CPU).
    pub others_cores: Option<f64>,
    pub trace: TraceSeen,
}

/// CPU time and context switches of a whole run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Usage {
    pub cpu_ms: f64,
    /// The run gave up the CPU to wait: for a lock, a pipe, a sleep.
    pub voluntary_switches: u64,
    /// The kernel took the CPU away: its time slice ran out while another thread was ready.
    pub involuntary_switches: u64,
}

/// What sampling the runner's process tree showed: every 250 ms, or at each of the dashboard's
/// samples.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TreeSamples {
    pub samples: u32,
    /// Threads ready to run (state R: on a core, or waiting for one), summed over the samples.
    pub runnable_sum: u64,
    pub runnable_max: u32,
    pub threads_max: u32,
    /// The most threads one Python interpreter of the run had at once.
    pub python_threads_max: u32,
    /// The process that stayed a zombie (exited, not yet waited for) the longest.
    pub longest_zombie: Option<Zombie>,
}

impl TreeSamples {
    pub fn runnable_mean(&self) -> f64 {
        if self.samples == 0 {
            0.0
        } else {
            self.runnable_sum as f64 / f64::from(self.samples)
        }
    }
}

/// A process seen as a zombie from one sample to a later one.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Zombie {
    pub pid: u32,
    /// Between the first and the last sample that saw it a zombie: a lower bound.
    pub ms: f64,
}

/// What the run's trace events said that its report does not: how full its queues were.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TraceSeen {
    /// Each queue depth the trace counted, and how many times.
    pub depths: BTreeMap<u64, u64>,
    /// An attached watch's report, as far as the observer needs it: what the program used
    /// while watched (the runner reads it from the report as the event passes). Not
    /// recorded: the observer makes it the run's `usage`.
    #[serde(skip)]
    pub attached: Option<AttachedUsage>,
}

/// What an attached program and its descendants used while a watch read them from `/proc`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AttachedUsage {
    /// The process attached to.
    pub pid: u32,
    pub usage: Usage,
    /// From attaching to the watch's end.
    pub wall_ms: f64,
}

impl TraceSeen {
    pub fn observe(&mut self, event: &Event) {
        match &event.body {
            Body::Count { name, value } if name == DEPTH && value.is_finite() && *value >= 0.0 => {
                *self.depths.entry(value.round() as u64).or_default() += 1;
            }
            _ => {}
        }
    }

    /// The share of depth readings at `capacity` or above, if there were any readings.
    pub fn full_share(&self, capacity: u64) -> Option<f64> {
        let all: u64 = self.depths.values().sum();
        let full: u64 = self.depths.range(capacity..).map(|(_, n)| n).sum();
        (all > 0).then(|| full as f64 / all as f64)
    }
}
