//! A latency distribution from raw samples: nearest-rank percentiles, mean and extremes, put
//! into a report as `<prefix>_p50_us` and friends.

use crate::report::Metrics;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Latencies {
    pub count: usize,
    pub min_ns: u64,
    pub p50_ns: u64,
    pub p99_ns: u64,
    pub max_ns: u64,
    pub mean_ns: f64,
}

impl Latencies {
    /// The distribution of `samples` (sorted in place), or None when there are none.
    pub fn of(samples: &mut [u64]) -> Option<Latencies> {
        if samples.is_empty() {
            return None;
        }
        samples.sort_unstable();
        let rank = |p: f64| {
            // Nearest rank: the smallest sample with at least p% of the samples at or below it.
            let r = (p / 100.0 * samples.len() as f64).ceil() as usize;
            samples[r.clamp(1, samples.len()) - 1]
        };
        Some(Latencies {
            count: samples.len(),
            min_ns: samples[0],
            p50_ns: rank(50.0),
            p99_ns: rank(99.0),
            max_ns: samples[samples.len() - 1],
            mean_ns: samples.iter().map(|&s| s as f64).sum::<f64>() / samples.len() as f64,
        })
    }

    /// `<prefix>_min_us`, `_p50_us`, `_p99_us`, `_max_us`, `_mean_us`, to the nanosecond.
    pub fn add_to(&self, metrics: &mut Metrics, prefix: &str) {
        let us = |ns: f64| (ns / 1e3 * 1000.0).round() / 1000.0;
        metrics.set(&format!("{prefix}_min_us"), us(self.min_ns as f64));
        metrics.set(&format!("{prefix}_p50_us"), us(self.p50_ns as f64));
        metrics.set(&format!("{prefix}_p99_us"), us(self.p99_ns as f64));
        metrics.set(&format!("{prefix}_max_us"), us(self.max_ns as f64));
        metrics.set(&format!("{prefix}_mean_us"), us(self.mean_ns));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let mut s: Vec<u64> = (1..=100).rev().collect();
        let l = Latencies::of(&mut s).unwrap();
        assert_eq!((l.min_ns, l.p50_ns, l.p99_ns, l.max_ns), (1, 50, 99, 100));
        assert_eq!(l.mean_ns, 50.5);
        let one = Latencies::of(&mut [7]).unwrap();
        assert_eq!((one.p50_ns, one.p99_ns, one.max_ns), (7, 7, 7));
        assert!(Latencies::of(&mut []).is_none());
    }

    #[test]
    fn metrics_in_microseconds() {
        let l = Latencies::of(&mut [1_500, 2_500]).unwrap();
        let mut m = Metrics::default();
        l.add_to(&mut m, "rtt");
        assert_eq!(m.get("rtt_p50_us").unwrap().as_f64(), 1.5);
        assert_eq!(m.get("rtt_max_us").unwrap().as_f64(), 2.5);
        assert_eq!(m.get("rtt_mean_us").unwrap().as_f64(), 2.0);
    }
}
