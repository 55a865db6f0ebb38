//! A latency distribution kept in fixed memory, however many samples it is given: an HDR
//! histogram for the percentiles, exact count, extremes and mean beside it; put into a report
//! as `<prefix>_p50_us` and friends.

use crate::report::Metrics;
use hdrhistogram::Histogram;

/// The histogram keeps 3 significant figures: a percentile is the exact nearest-rank sample or
/// at most 0.1% above it — exact up to 2.047 µs, within 8 ns at 10 µs, 64 ns at 100 µs, 512 ns
/// at 1 ms. Reports round to the nanosecond, and the figures people read are microseconds.
const SIGNIFICANT_FIGURES: u8 = 3;
/// The longest latency the histogram tells apart, an hour. A longer one counts as an hour in the
/// percentiles only; min, max and mean stay exact. This range takes 264 KiB of counts.
const LONGEST_NS: u64 = 3_600_000_000_000;

/// Records latencies one by one in memory that does not grow with their number.
#[derive(Debug, Clone)]
pub struct LatencyHistogram {
    histogram: Histogram<u64>,
    min_ns: u64,
    max_ns: u64,
    sum_ns: u128,
}

impl Default for LatencyHistogram {
    fn default() -> Self {
        LatencyHistogram {
            histogram: Histogram::new_with_bounds(1, LONGEST_NS, SIGNIFICANT_FIGURES)
                .expect("constant bounds are valid"),
            min_ns: u64::MAX,
            max_ns: 0,
            sum_ns: 0,
        }
    }
}

impl LatencyHistogram {
    pub fn record(&mut self, ns: u64) {
        self.histogram.saturating_record(ns);
        self.min_ns = self.min_ns.min(ns);
        self.max_ns = self.max_ns.max(ns);
        self.sum_ns += u128::from(ns);
    }

    /// Samples recorded so far.
    pub fn len(&self) -> u64 {
        self.histogram.len()
    }

    pub fn is_empty(&self) -> bool {
        self.histogram.is_empty()
    }

    /// The distribution so far, or None when nothing was recorded.
    pub fn summary(&self) -> Option<Latencies> {
        if self.is_empty() {
            return None;
        }
        // Nearest rank: the smallest sample with at least p% of the samples at or below it, as
        // the top of its histogram bucket; never outside what was really seen.
        let rank = |quantile: f64| {
            let v = self.histogram.value_at_quantile(quantile);
            v.clamp(self.min_ns, self.max_ns)
        };
        let count = self.len();
        Some(Latencies {
            count: count as usize,
            min_ns: self.min_ns,
            p50_ns: rank(0.50),
            p99_ns: rank(0.99),
            max_ns: self.max_ns,
            mean_ns: self.sum_ns as f64 / count as f64,
        })
    }
}

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
    /// The distribution of `samples`, or None when there are none.
    pub fn of(samples: &[u64]) -> Option<Latencies> {
        let mut histogram = LatencyHistogram::default();
        for &ns in samples {
            histogram.record(ns);
        }
        histogram.summary()
    }

    /// `<prefix>_min_us`, `_p50_us`, `_p99_us`, `_max_us`, `_mean_us`, to the nanosecond.
    pub fn add_to(&self, metrics: &mut Metrics, prefix: &str) {
        let us = |ns: f64| (ns / 1e3 * 1000.0).round() / 1000.0;
        metrics.set(&metric_name(prefix, "min"), us(self.min_ns as f64));
        metrics.set(&metric_name(prefix, "p50"), us(self.p50_ns as f64));
        metrics.set(&metric_name(prefix, "p99"), us(self.p99_ns as f64));
        metrics.set(&metric_name(prefix, "max"), us(self.max_ns as f64));
        metrics.set(&metric_name(prefix, "mean"), us(self.mean_ns));
    }
}

/// The name of one figure of a latency summary: `latency` and `p50` → `latency_p50_us`.
pub fn metric_name(prefix: &str, figure: &str) -> String {
    format!("{prefix}_{figure}_us")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::run_clock::SplitMix64;

    #[test]
    fn nearest_rank_percentiles() {
        let s: Vec<u64> = (1..=100).rev().collect();
        let l = Latencies::of(&s).unwrap();
        assert_eq!((l.min_ns, l.p50_ns, l.p99_ns, l.max_ns), (1, 50, 99, 100));
        assert_eq!(l.mean_ns, 50.5);
        let one = Latencies::of(&[7]).unwrap();
        assert_eq!((one.p50_ns, one.p99_ns, one.max_ns), (7, 7, 7));
        assert!(Latencies::of(&[]).is_none());
    }

    #[test]
    fn metrics_in_microseconds() {
        let l = Latencies::of(&[1_500, 2_500]).unwrap();
        let mut m = Metrics::default();
        l.add_to(&mut m, "rtt");
        assert_eq!(m.get("rtt_p50_us").unwrap().as_f64(), 1.5);
        assert_eq!(m.get("rtt_max_us").unwrap().as_f64(), 2.5);
        assert_eq!(m.get("rtt_mean_us").unwrap().as_f64(), 2.0);
    }

    /// The exact nearest-rank sample at `quantile` of sorted `samples`.
    fn exact(sorted: &[u64], quantile: f64) -> u64 {
        let rank = (quantile * sorted.len() as f64).ceil() as usize;
        sorted[rank.clamp(1, sorted.len()) - 1]
    }

    #[test]
    fn percentiles_keep_three_significant_figures() {
        for seed in 1..=5 {
            let mut rng = SplitMix64::new(seed);
            // From nanoseconds to tens of milliseconds, many samples per decade.
            let mut samples: Vec<u64> = (0..20_000)
                .map(|_| {
                    let decade = 10u64.pow(1 + rng.up_to(7) as u32);
                    rng.up_to(decade)
                })
                .collect();
            let l = Latencies::of(&samples).unwrap();
            samples.sort_unstable();
            for (quantile, got) in [(0.5, l.p50_ns), (0.99, l.p99_ns)] {
                let want = exact(&samples, quantile);
                // Exact below 2048 ns, then at most 1/1024 above: 0.1%.
                assert!(
                    want <= got && got <= want + want / 1024,
                    "seed {seed}, quantile {quantile}: {got} ns for {want} ns"
                );
            }
            assert_eq!(l.min_ns, samples[0]);
            assert_eq!(l.max_ns, samples[samples.len() - 1]);
            let mean = samples.iter().map(|&s| s as f64).sum::<f64>() / samples.len() as f64;
            assert!(
                (l.mean_ns - mean).abs() < 1e-6 * mean,
                "{} vs {mean}",
                l.mean_ns
            );
            assert_eq!(l.count, samples.len());
        }
    }

    #[test]
    fn extremes_beyond_the_range_stay_exact() {
        let mut h = LatencyHistogram::default();
        for _ in 0..99 {
            h.record(9_000);
        }
        h.record(2 * LONGEST_NS);
        h.record(0);
        let l = h.summary().unwrap();
        assert_eq!((l.min_ns, l.max_ns), (0, 2 * LONGEST_NS));
        assert!(
            l.p50_ns >= 9_000 && l.p50_ns <= 9_000 + 9_000 / 1024,
            "{l:?}"
        );
        assert!(l.p99_ns <= l.max_ns, "{l:?}");
        assert_eq!(h.len(), 101);
        assert!(LatencyHistogram::default().summary().is_none());
    }

    #[test]
    fn memory_is_fixed_whatever_is_recorded() {
        let mut h = LatencyHistogram::default();
        let before = h.histogram.distinct_values();
        let mut rng = SplitMix64::new(7);
        for _ in 0..100_000 {
            h.record(rng.next_u64());
        }
        assert_eq!(h.histogram.distinct_values(), before);
        let bytes = before * std::mem::size_of::<u64>();
        assert!(bytes < 300 * 1024, "{bytes} bytes of counts");
        eprintln!("{before} counts, {bytes} bytes");
    }
}
