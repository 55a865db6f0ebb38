//! The statistics of repeated runs, as pure functions of their figures: a summary (mean, σ,
//! min, max), the ratio of two means with a 95 % interval, and the runs far from the others.
//!
//! The interval comes from propagating relative standard errors, not from a bootstrap: a
//! comparison repeats each variant a handful of times (3 to 30), where resampling three values
//! knows only ten distinct resamples and says less than the normal approximation, and the same
//! runs always give the same interval, so a verdict can be checked against the figures it quotes.
//! The errors propagate on a log scale: a ratio of times is a factor, its interval a factor
//! either way — never below 0 however noisy the runs, and `b / a`'s is `a / b`'s turned round.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A run as unlikely as a normal one this many σ out is an outlier (see [`outliers`]).
pub const OUTLIER_SIGMAS: f64 = 3.0;

/// The least spread the others are taken to have, as a share of their mean: two runs that
/// happen to agree to the microsecond do not make every third run an outlier.
pub const LEAST_SPREAD: f64 = 0.01;

/// One figure over repeated runs.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub runs: usize,
    pub mean: f64,
    /// The sample standard deviation (n − 1); 0 for a single run.
    pub stddev: f64,
    pub min: f64,
    pub max: f64,
}

impl Summary {
    /// None for no values, or any that is not a finite number.
    pub fn of(values: &[f64]) -> Option<Summary> {
        if values.is_empty() || values.iter().any(|v| !v.is_finite()) {
            return None;
        }
        let n = values.len() as f64;
        let mean = values.iter().sum::<f64>() / n;
        let stddev = if values.len() > 1 {
            (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt()
        } else {
            0.0
        };
        Some(Summary {
            runs: values.len(),
            mean,
            stddev,
            min: values.iter().copied().fold(f64::INFINITY, f64::min),
            max: values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        })
    }

    /// The standard error of the mean relative to the mean (how well the mean is known).
    fn relative_error(&self) -> f64 {
        self.stddev / (self.runs as f64).sqrt() / self.mean.abs()
    }
}

/// `a / b` of two means, and the 95 % interval it lies in.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Ratio {
    pub ratio: f64,
    pub low: f64,
    pub high: f64,
}

/// The widest interval, as a factor either way (10 %), still written `1.93 ± 0.05`; a wider
/// one is lopsided enough to be written as its ends, `6.26 (2.71…14.5)`.
const SHOWN_AS_PLUS_MINUS: f64 = 0.1;

impl Ratio {
    /// Half the interval's width: the `± 0.05` of `1.93 ± 0.05`.
    pub fn plus_minus(&self) -> f64 {
        (self.high - self.low) / 2.0
    }

    /// `1.93 ± 0.05` for a narrow interval, `6.26 (2.71…14.5)` for a wide one.
    pub fn shown(&self) -> String {
        let factor = (self.high / self.low.max(f64::MIN_POSITIVE)).ln() / 2.0;
        if factor <= SHOWN_AS_PLUS_MINUS {
            format!("{:.2} ± {:.2}", self.ratio, self.plus_minus())
        } else {
            format!(
                "{:.2} ({}…{})",
                self.ratio,
                short(self.low),
                short(self.high)
            )
        }
    }

    pub fn contains(&self, x: f64) -> bool {
        self.low <= x && x <= self.high
    }

    /// Whether the whole interval lies beyond `noise` (0.05: ±5 %) of 1 on either side: a
    /// difference the runs show, bigger than what moves every run of a shared machine alike.
    pub fn clear_of(&self, noise: f64) -> bool {
        self.low > 1.0 + noise || self.high < 1.0 / (1.0 + noise)
    }

    /// The same interval seen the other way round: `b / a`.
    pub fn inverse(&self) -> Ratio {
        let flip = |x: f64| if x > 0.0 { 1.0 / x } else { f64::INFINITY };
        Ratio {
            ratio: flip(self.ratio),
            low: flip(self.high),
            high: flip(self.low),
        }
    }
}

/// `a.mean / b.mean` with its 95 % interval: the relative standard errors of the two means
/// add in quadrature (the standard error of the ratio's logarithm), and Student's t for the
/// Welch–Satterthwaite degrees of freedom widens the interval as few runs deserve. None when
/// either side has under two runs (no spread is known), or a mean is not above 0.
pub fn ratio(a: &Summary, b: &Summary) -> Option<Ratio> {
    if a.runs < 2 || b.runs < 2 || a.mean <= 0.0 || b.mean <= 0.0 {
        return None;
    }
    let value = a.mean / b.mean;
    let (ea, eb) = (a.relative_error(), b.relative_error());
    let variance = ea * ea + eb * eb;
    let factor = if variance > 0.0 {
        let df = variance * variance
            / (ea.powi(4) / (a.runs - 1) as f64 + eb.powi(4) / (b.runs - 1) as f64);
        (t_975(df) * variance.sqrt()).exp()
    } else {
        1.0
    };
    Some(Ratio {
        ratio: value,
        low: value / factor,
        high: value * factor,
    })
}

/// Three significant digits: `2.71`, `14.5`, `131`.
fn short(x: f64) -> String {
    match x.abs() {
        x if x >= 100.0 => format!("{x:.0}"),
        x if x >= 10.0 => format!("{x:.1}"),
        _ => format!("{x:.2}"),
    }
}

/// Student's t at 97.5 % (a two-sided 95 % interval) for `df` degrees of freedom, rounded down
/// to a whole number of them (a slightly wider interval, never a narrower one).
pub fn t_975(df: f64) -> f64 {
    const TABLE: [f64; 30] = [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
        2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
        2.052, 2.048, 2.045, 2.042,
    ];
    t_of(&TABLE, 1.960, df)
}

/// Student's t that leaves in each tail what the normal leaves beyond 3σ (0.135 %), for `df`
/// degrees of freedom, rounded down like [`t_975`]: how far, in σ estimated from few runs, a
/// run must lie to be as unlikely as a normal one 3σ out.
pub fn t_3sigma(df: f64) -> f64 {
    const TABLE: [f64; 30] = [
        235.801, 19.207, 9.219, 6.620, 5.507, 4.904, 4.530, 4.277, 4.094, 3.957, 3.850, 3.764,
        3.694, 3.636, 3.586, 3.544, 3.507, 3.475, 3.447, 3.422, 3.400, 3.380, 3.361, 3.345, 3.330,
        3.316, 3.303, 3.291, 3.280, 3.270,
    ];
    t_of(&TABLE, OUTLIER_SIGMAS, df)
}

/// `table[df - 1]` for 1 to 30 degrees of freedom (rounded down, at least 1); past 30, between
/// the table's last and the normal's `normal`, closing in as 30/df.
fn t_of(table: &[f64; 30], normal: f64, df: f64) -> f64 {
    if !df.is_finite() || df >= 30.0 {
        let df = if df.is_finite() { df.floor() } else { f64::MAX };
        return normal + (table[29] - normal) * 30.0 / df;
    }
    table[(df.floor().max(1.0) as usize) - 1]
}

/// The runs (by index) the others make unlikely: further from the others' mean than their
/// 3σ prediction interval reaches — [`t_3sigma`] of their σ (at least [`LEAST_SPREAD`] of their
/// mean), widened by √(1 + 1/k) for k others, since their mean and σ are themselves estimates.
/// With a handful of runs σ is poorly known and the reach is wide: three runs flag one only
/// when it is hundreds of σ away; a plain 3σ would call a third of honest runs odd.
pub fn outliers(values: &[f64]) -> Vec<usize> {
    if values.len() < 3 {
        return Vec::new();
    }
    (0..values.len())
        .filter(|&i| {
            let others: Vec<f64> = values
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != i)
                .map(|(_, v)| *v)
                .collect();
            let Some(rest) = Summary::of(&others) else {
                return false;
            };
            let k = others.len() as f64;
            let spread = rest.stddev.max(LEAST_SPREAD * rest.mean.abs());
            let reach = t_3sigma(k - 1.0) * spread * (1.0 + 1.0 / k).sqrt();
            spread > 0.0 && (values[i] - rest.mean).abs() > reach
        })
        .collect()
}

/// What one variant's runs add up to: the per-variant part of the compare JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VariantStats {
    pub value: String,
    pub runs: usize,
    /// Every figure all its runs have, `wall_ms` too.
    pub metrics: BTreeMap<String, Summary>,
    /// Time and throughput over the first variant's, with a 95 % interval.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub ratios: BTreeMap<String, Ratio>,
    /// Other programs' load during each run, in cores, in the order the runs ran.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub others_cores: Vec<f64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub outliers: Vec<Outlier>,
}

/// A run further than 3σ from the others, by the figure the comparison ranks on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outlier {
    /// Which run of the variant, from 1.
    pub run: usize,
    pub metric: String,
    pub value: f64,
    /// The mean of the other runs.
    pub others_mean: f64,
    /// `"other_load"` when other programs took more cores during it than during the rest
    /// and the run came out worse; absent when nothing seen explains it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub likely_cause: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub others_cores: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub others_cores_elsewhen: Option<f64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9 * a.abs().max(1.0)
    }

    #[test]
    fn summary_has_mean_sample_sigma_and_range() {
        let s = Summary::of(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]).unwrap();
        assert_eq!(s.runs, 8);
        assert!(close(s.mean, 5.0), "{s:?}");
        // Squares sum to 32 around the mean; 32 / 7 with n − 1.
        assert!(close(s.stddev, (32.0f64 / 7.0).sqrt()), "{s:?}");
        assert_eq!((s.min, s.max), (2.0, 9.0));
        let one = Summary::of(&[3.5]).unwrap();
        assert_eq!(
            (one.mean, one.stddev, one.min, one.max),
            (3.5, 0.0, 3.5, 3.5)
        );
        assert_eq!(Summary::of(&[]), None);
        assert_eq!(Summary::of(&[1.0, f64::NAN]), None);
    }

    #[test]
    fn ratio_interval_propagates_relative_errors_with_students_t() {
        // a: mean 200, σ ≈ 11.5 over 4 runs; b: the same, halved. Each mean is known
        // to 2.5 %; together to 2.5 % × √2; Welch's df = 6.
        let a = Summary::of(&[190.0, 190.0, 210.0, 210.0]).unwrap();
        let b = Summary::of(&[95.0, 95.0, 105.0, 105.0]).unwrap();
        assert!(close(a.stddev, (400.0f64 / 3.0).sqrt()), "{a:?}");
        let r = ratio(&a, &b).unwrap();
        assert!(close(r.ratio, 2.0), "{r:?}");
        let rel = a.stddev / 2.0 / 200.0;
        let factor = (2.447 * (2.0 * rel * rel).sqrt()).exp();
        assert!(
            close(r.low, 2.0 / factor) && close(r.high, 2.0 * factor),
            "{r:?}"
        );
        // Narrow: written as hyperfine writes it.
        assert_eq!(r.shown(), "2.00 ± 0.20");
        assert!(
            r.contains(2.0) && !r.contains(1.8) && r.clear_of(0.05),
            "{r:?}"
        );
        // Seen the other way round: 0.5, its interval flipped.
        let inv = r.inverse();
        assert!(
            close(inv.ratio, 0.5) && close(inv.low, 1.0 / r.high),
            "{inv:?}"
        );
        assert!(inv.clear_of(0.05));
        // No spread known with one run.
        assert_eq!(ratio(&Summary::of(&[1.0]).unwrap(), &b), None);
        // Identical runs: a point.
        let same = Summary::of(&[5.0, 5.0, 5.0]).unwrap();
        let r = ratio(&same, &same).unwrap();
        assert_eq!((r.low, r.ratio, r.high), (1.0, 1.0, 1.0));
        assert!(!r.clear_of(0.05));
    }

    #[test]
    fn an_interval_inside_the_noise_band_is_no_clear_difference() {
        // 3 % apart, tightly measured: real, but within what moves whole comparisons.
        let a = Summary::of(&[103.0, 103.1, 102.9]).unwrap();
        let b = Summary::of(&[100.0, 100.1, 99.9]).unwrap();
        let r = ratio(&a, &b).unwrap();
        assert!(!r.contains(1.0) && !r.clear_of(0.05), "{r:?}");
        // 10 % apart but very noisy: the interval reaches into the band.
        let a = Summary::of(&[80.0, 140.0, 110.0]).unwrap();
        let b = Summary::of(&[100.0, 100.0, 100.0]).unwrap();
        let r = ratio(&a, &b).unwrap();
        assert!(close(r.ratio, 1.1) && !r.clear_of(0.05), "{r:?}");
    }

    #[test]
    fn a_wide_interval_stays_above_zero_and_is_written_as_its_ends() {
        // Six times slower, but three runs each on a busy machine: ±35 %.
        let a = Summary::of(&[2.41, 2.45, 4.28]).unwrap();
        let b = Summary::of(&[0.397, 0.41, 0.656]).unwrap();
        let r = ratio(&a, &b).unwrap();
        assert!(
            r.low > 1.05 && r.clear_of(0.05),
            "every slow run is slower: {r:?}"
        );
        assert!(
            close(r.ratio * r.ratio, r.low * r.high),
            "a factor either way: {r:?}"
        );
        assert!(
            r.shown().starts_with(&format!("{:.2} (", r.ratio)),
            "{}",
            r.shown()
        );
        assert!(r.shown().contains('…'), "{}", r.shown());
        // And never below 0, however noisy.
        let wild = Summary::of(&[1.0, 50.0, 100.0]).unwrap();
        let steady = Summary::of(&[49.0, 50.0, 51.0]).unwrap();
        let r = ratio(&wild, &steady).unwrap();
        assert!(r.low > 0.0 && !r.clear_of(0.05), "{r:?}");
    }

    #[test]
    fn t_shrinks_towards_the_normal() {
        assert_eq!(t_975(1.0), 12.706);
        assert_eq!(t_975(4.9), 2.776, "rounded down: wider");
        assert_eq!(t_975(0.3), 12.706);
        assert!(close(t_975(30.0), 2.042));
        assert!(t_975(120.0) < 2.0 && t_975(120.0) > 1.96);
        assert!(close(t_975(f64::INFINITY), 1.960));
    }

    #[test]
    fn t_for_three_sigma_closes_in_on_three() {
        assert_eq!(t_3sigma(1.0), 235.801);
        assert_eq!(t_3sigma(4.5), 6.620, "rounded down: wider");
        assert!(close(t_3sigma(30.0), 3.270));
        assert!(t_3sigma(300.0) > 3.0 && t_3sigma(300.0) < 3.03);
        assert!(close(t_3sigma(f64::INFINITY), 3.0));
    }

    #[test]
    fn a_run_the_others_make_unlikely_is_an_outlier() {
        // Four runs near 100 and one at 160: only that one.
        let runs = [100.0, 102.0, 98.0, 101.0, 160.0];
        assert_eq!(outliers(&runs), vec![4]);
        // Far below counts too (a run that skipped work).
        assert_eq!(outliers(&[100.0, 102.0, 98.0, 101.0, 40.0]), vec![4]);
        // A wide but even spread has none.
        assert!(outliers(&[80.0, 120.0, 95.0, 110.0, 100.0]).is_empty());
        // Three runs: two that happen to agree say little of the spread, so the third must be
        // far off (1 % least spread × 235.8 × √1.5 ≈ 289 % away).
        assert!(outliers(&[100.0, 100.0, 104.0]).is_empty());
        assert!(outliers(&[100.0, 98.0, 115.0]).is_empty());
        assert_eq!(outliers(&[100.0, 100.0, 400.0]), vec![2]);
        // Two runs cannot say which one is odd.
        assert!(outliers(&[100.0, 500.0]).is_empty());
        // Just inside and just outside the reach of the others (mean 100, σ 11.5, 4 of them).
        let inside = [90.0, 110.0, 90.0, 110.0, 100.0];
        let others = Summary::of(&inside[..4]).unwrap();
        let edge = others.mean + t_3sigma(3.0) * others.stddev * 1.25f64.sqrt();
        assert!(outliers(&[90.0, 110.0, 90.0, 110.0, edge - 0.1]).is_empty());
        assert_eq!(outliers(&[90.0, 110.0, 90.0, 110.0, edge + 0.1]), vec![4]);
    }

    /// How often honest runs are called odd: runs drawn from one normal distribution (a fixed
    /// sequence, so the test is the same every time) should be flagged about as rarely as a
    /// normal value falls beyond 3σ (0.27 %), whatever the number of runs.
    #[test]
    fn runs_from_one_distribution_are_seldom_outliers() {
        let mut seed = 0x2545_F491_4F6C_DD1Du64;
        let mut uniform = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed >> 11) as f64 / (1u64 << 53) as f64
        };
        for runs in [3, 5, 10] {
            let (mut flagged, mut judged) = (0, 0);
            for _ in 0..4000 {
                // Box–Muller: normal runs, mean 100, σ 10.
                let values: Vec<f64> = (0..runs)
                    .map(|_| {
                        let (u, v) = (uniform().max(1e-12), uniform());
                        100.0 + 10.0 * (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
                    })
                    .collect();
                flagged += outliers(&values).len();
                judged += runs;
            }
            let share = flagged as f64 / judged as f64;
            assert!(share < 0.01, "{runs} runs: {:.2} % flagged", share * 100.0);
        }
    }
}
