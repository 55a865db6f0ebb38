//! Per-core CPU history for the CPU panel.

use crate::sampler::Sample;
use std::collections::VecDeque;

/// Samples kept per core: enough for the widest history graph, a braille graph (two samples a
/// cell) across the CPU panel of a 400-column terminal.
pub const HISTORY: usize = 512;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct CpuHistory {
    /// Busy percent per core, oldest first.
    pub cores: Vec<VecDeque<f32>>,
    pub total: VecDeque<f32>,
    /// The dashboard's own CPU, percent of one core.
    pub self_pct: f32,
}

fn push(history: &mut VecDeque<f32>, value: f32) {
    if history.len() == HISTORY {
        history.pop_front();
    }
    history.push_back(value.clamp(0.0, 100.0));
}

impl CpuHistory {
    pub fn record(&mut self, sample: &Sample) {
        if self.cores.len() != sample.cores.len() {
            self.cores = vec![VecDeque::with_capacity(HISTORY); sample.cores.len()];
        }
        for (history, value) in self.cores.iter_mut().zip(&sample.cores) {
            push(history, *value);
        }
        push(&mut self.total, sample.total);
        self.self_pct = sample.self_cpu_pct;
    }

    /// Latest busy percent of core `i`.
    pub fn now(&self, i: usize) -> f32 {
        self.cores
            .get(i)
            .and_then(|h| h.back().copied())
            .unwrap_or(0.0)
    }

    pub fn total_now(&self) -> f32 {
        self.total.back().copied().unwrap_or(0.0)
    }
}
