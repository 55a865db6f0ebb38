//! A cost measured the way a calibration should be: a warm-up run first, then repeated runs of
//! a batch of operations, each run's time per operation kept, and the median of the runs
//! reported with its spread (the quartiles), so one run disturbed by the rest of the machine
//! moves neither. Reported as `<key>_ns`, `<key>_q1_ns`, `<key>_q3_ns` and `<key>_spread_pct`.

use crate::report::Metrics;
use std::time::{Duration, Instant};

/// What repeated runs of one measurement found, per operation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cost {
    pub median_ns: f64,
    /// The first and third quartile of the runs: half of them fell between the two.
    pub q1_ns: f64,
    pub q3_ns: f64,
    pub runs: usize,
}

/// The figures of a [`Cost`] in a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Figure {
    Median,
    Q1,
    Q3,
    SpreadPct,
}

/// `fork` and [`Figure::Q1`] → `fork_q1_ns`.
pub fn metric_name(key: &str, figure: Figure) -> String {
    match figure {
        Figure::Median => format!("{key}_ns"),
        Figure::Q1 => format!("{key}_q1_ns"),
        Figure::Q3 => format!("{key}_q3_ns"),
        Figure::SpreadPct => format!("{key}_spread_pct"),
    }
}

impl Cost {
    /// The median and quartiles (nearest rank) of the runs' times per operation.
    pub fn of(per_op_ns: &[f64]) -> Option<Cost> {
        if per_op_ns.is_empty() {
            return None;
        }
        let mut sorted = per_op_ns.to_vec();
        sorted.sort_by(f64::total_cmp);
        let rank = |q: f64| {
            let r = (q * sorted.len() as f64).ceil() as usize;
            sorted[r.clamp(1, sorted.len()) - 1]
        };
        Some(Cost {
            median_ns: rank(0.5),
            q1_ns: rank(0.25),
            q3_ns: rank(0.75),
            runs: sorted.len(),
        })
    }

    /// The interquartile range as a share of the median.
    pub fn spread_pct(&self) -> f64 {
        if self.median_ns > 0.0 {
            (self.q3_ns - self.q1_ns) / self.median_ns * 100.0
        } else {
            0.0
        }
    }

    pub fn add_to(&self, metrics: &mut Metrics, key: &str) {
        let ns = |x: f64| (x * 10.0).round() / 10.0;
        metrics.set(&metric_name(key, Figure::Median), ns(self.median_ns));
        metrics.set(&metric_name(key, Figure::Q1), ns(self.q1_ns));
        metrics.set(&metric_name(key, Figure::Q3), ns(self.q3_ns));
        let spread = (self.spread_pct() * 10.0).round() / 10.0;
        metrics.set(&metric_name(key, Figure::SpreadPct), spread);
    }
}

/// One warm-up run, then up to `runs` runs of `ops` operations each; `run(ops)` does them and
/// says how long they took (so what it sets up around them is not counted). Stops early, with
/// what it has, when `cancelled()` turns true.
pub fn measure(
    runs: usize,
    ops: u64,
    cancelled: impl Fn() -> bool,
    mut run: impl FnMut(u64) -> Result<Duration, String>,
) -> Result<Option<Cost>, String> {
    let ops = ops.max(1);
    run(ops)?;
    let mut per_op = Vec::with_capacity(runs);
    for _ in 0..runs {
        if cancelled() {
            break;
        }
        per_op.push(run(ops)?.as_nanos() as f64 / ops as f64);
    }
    Ok(Cost::of(&per_op))
}

/// The time `ops` calls of `op` take, in one stretch.
#[inline]
pub fn time_ops(ops: u64, mut op: impl FnMut()) -> Duration {
    let started = Instant::now();
    for _ in 0..ops {
        op();
    }
    started.elapsed()
}

/// As [`time_ops`], for an operation that can fail: the first failure ends the batch.
pub fn time_fallible(
    ops: u64,
    mut op: impl FnMut() -> Result<(), String>,
) -> Result<Duration, String> {
    let started = Instant::now();
    for _ in 0..ops {
        op()?;
    }
    Ok(started.elapsed())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_and_quartiles_by_nearest_rank() {
        let c = Cost::of(&[9.0, 1.0, 5.0, 3.0, 7.0, 2.0, 8.0, 4.0, 6.0]).unwrap();
        assert_eq!((c.q1_ns, c.median_ns, c.q3_ns, c.runs), (3.0, 5.0, 7.0, 9));
        assert!((c.spread_pct() - 80.0).abs() < 1e-9);
        assert!(Cost::of(&[]).is_none());
        let one = Cost::of(&[4.0]).unwrap();
        assert_eq!((one.q1_ns, one.median_ns, one.q3_ns), (4.0, 4.0, 4.0));
    }

    #[test]
    fn an_outlier_moves_neither_the_median_nor_the_quartiles_much() {
        let c = Cost::of(&[10.0, 11.0, 10.0, 12.0, 10.0, 11.0, 5000.0]).unwrap();
        assert_eq!(c.median_ns, 11.0);
        assert!(c.q3_ns <= 12.0, "{c:?}");
    }

    #[test]
    fn measure_warms_up_then_keeps_each_run_per_operation() {
        let mut calls = Vec::new();
        let cost = measure(
            3,
            4,
            || false,
            |ops| {
                calls.push(ops);
                Ok(Duration::from_nanos(400))
            },
        )
        .unwrap()
        .unwrap();
        assert_eq!(calls, [4, 4, 4, 4], "a warm-up and three runs");
        assert_eq!(cost.median_ns, 100.0);
        let mut m = Metrics::default();
        cost.add_to(&mut m, "x");
        let names: Vec<&str> = m.iter().map(|(n, _)| n).collect();
        assert_eq!(names, ["x_ns", "x_q1_ns", "x_q3_ns", "x_spread_pct"]);
    }

    #[test]
    fn a_cancelled_measurement_keeps_what_it_has_and_a_failure_is_said() {
        let none = measure(5, 1, || true, |_| Ok(Duration::from_nanos(1))).unwrap();
        assert!(none.is_none());
        let e = measure(5, 1, || false, |_| Err("no pipe".to_string())).unwrap_err();
        assert_eq!(e, "no pipe");
    }
}
