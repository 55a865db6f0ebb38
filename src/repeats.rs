//! A comparison whose variants each ran several times: how many runs to make, and what each
//! variant's runs add up to — every figure's mean, σ and range, its ratio to the first
//! variant with an interval, and the runs far from the others, with the other programs' load
//! that may explain them. The arithmetic is [`crate::stats`]'s; this is where it meets reports.

use crate::i18n::{Lang, Text};
use crate::report::{Comparison, Report, is_ratio_metric};
use crate::stats::{self, Summary};
pub use crate::stats::{Outlier, VariantStats};
use std::collections::BTreeMap;
use std::time::Duration;

/// What a comparison with repeats aims to last, all runs together.
pub const AIM: Duration = Duration::from_secs(1);
/// The fewest runs of each variant that a default comparison makes: two show a spread, three
/// are the fewest in which one run can stand out from the others.
pub const LEAST_RUNS: usize = 3;
/// The most a default comparison makes, however short the runs.
pub const MOST_RUNS: usize = 30;
/// The most `--runs` accepts.
pub const MAX_RUNS: usize = 1000;

/// Other programs' load, in cores, above the rest of the runs' that can explain a slow run.
pub const OTHER_LOAD_MATTERS: f64 = 0.2;
/// The shortest run whose other load is worth reading: `/proc/stat` counts in 10 ms ticks, so
/// over a shorter one a tick's rounding alone moves the reading by more than
/// [`OTHER_LOAD_MATTERS`].
pub const LOAD_READABLE: Duration = Duration::from_millis(200);

/// Runs of each variant when none were asked for: as many as fit in [`AIM`] at the pace of
/// the first round (one run of every variant), within [`LEAST_RUNS`]..=[`MOST_RUNS`].
pub fn runs_for(first_round: Duration) -> usize {
    let rounds = AIM.as_secs_f64() / first_round.as_secs_f64().max(1e-3);
    (rounds.ceil() as usize).clamp(LEAST_RUNS, MOST_RUNS)
}

/// One run of a variant, and how many cores other programs kept busy during it, when known.
#[derive(Debug, Clone)]
pub struct Repeat {
    pub report: Report,
    pub others_cores: Option<f64>,
}

/// The name of the cause [`Outlier::likely_cause`] gives.
pub const OTHER_LOAD: &str = "other_load";

impl Outlier {
    /// `run 4 is an outlier: wall_ms 812.3 against 401.2 in the others (rarer than 3σ) — likely
    /// other load: other programs kept 1.40 cores busy during it (0.05 during the others)`.
    pub fn describe(&self, lang: Lang) -> String {
        let head = Text::new(
            format!(
                "run {} is an outlier: {} {} against {} in the others (rarer than 3σ)",
                self.run,
                self.metric,
                short(self.value),
                short(self.others_mean)
            ),
            format!(
                "第 {} 次是离群值：{} 为 {}，其余几次平均 {}（比 3σ 还罕见）",
                self.run,
                self.metric,
                short(self.value),
                short(self.others_mean)
            ),
        );
        let cause = match (
            &self.likely_cause,
            self.others_cores,
            self.others_cores_elsewhen,
        ) {
            (Some(_), Some(during), Some(rest)) => Text::new(
                format!(
                    " — likely other load: other programs kept {during:.2} cores busy during it ({rest:.2} during the others)"
                ),
                format!(
                    "——可能是别的负载：这次运行时其他程序占用了 {during:.2} 个核（其余几次 {rest:.2} 个）"
                ),
            ),
            _ => Text::new("", ""),
        };
        format!("{}{}", head.get(lang), cause.get(lang))
    }
}

/// A figure to three significant digits or so, grouped as the tables group them.
fn short(x: f64) -> String {
    crate::report::Num::Float(x).human()
}

/// Each variant's runs → the comparison `conlab compare` prints and the compare view shows:
/// `runs` holds each variant's middle run by the ranked figure (its notes are the typical
/// ones), `variants` the statistics when some variant ran more than once.
pub fn comparison(
    scenario: &str,
    key: &str,
    values: Vec<String>,
    repeats: Vec<Vec<Repeat>>,
) -> Comparison {
    let firsts: Vec<Report> = repeats
        .iter()
        .filter_map(|r| r.first().map(|r| r.report.clone()))
        .collect();
    let mut c = Comparison {
        scenario: scenario.to_string(),
        key: key.to_string(),
        values,
        runs: firsts,
        variants: Vec::new(),
    };
    if repeats.iter().all(|r| r.len() < 2) || repeats.iter().any(Vec::is_empty) {
        return c;
    }
    let ranked = c.measure().metric().to_string();
    let mut variants: Vec<VariantStats> = c
        .values
        .iter()
        .zip(&repeats)
        .map(|(value, runs)| variant(value, runs, &ranked))
        .collect();
    let first = variants[0].metrics.clone();
    // The first is the yardstick: its ratio to itself is 1 exactly, with no interval.
    for v in &mut variants[1..] {
        for (name, summary) in &v.metrics {
            if let (true, Some(base)) = (is_ratio_metric(name), first.get(name))
                && let Some(r) = stats::ratio(summary, base)
            {
                v.ratios.insert(name.clone(), r);
            }
        }
    }
    c.runs = repeats
        .iter()
        .map(|runs| middle(runs, &ranked).report.clone())
        .collect();
    c.variants = variants;
    c
}

fn variant(value: &str, runs: &[Repeat], ranked: &str) -> VariantStats {
    let mut names: Vec<String> = vec!["wall_ms".to_string()];
    for (name, _) in runs[0].report.metrics.iter() {
        if !names.iter().any(|n| n == name) {
            names.push(name.to_string());
        }
    }
    let metrics = names
        .into_iter()
        .filter_map(|name| {
            let values = values_of(runs, &name)?;
            Some((name, Summary::of(&values)?))
        })
        .collect();
    let others_cores: Vec<f64> = runs.iter().filter_map(|r| r.others_cores).collect();
    let others_cores = if others_cores.len() == runs.len() {
        others_cores
    } else {
        Vec::new()
    };
    VariantStats {
        value: value.to_string(),
        runs: runs.len(),
        metrics,
        ratios: BTreeMap::new(),
        outliers: outliers(runs, ranked),
        others_cores,
    }
}

/// `name` in every run, or None when a run lacks it.
fn values_of(runs: &[Repeat], name: &str) -> Option<Vec<f64>> {
    runs.iter()
        .map(|r| Comparison::value(&r.report, name).map(|v| v.as_f64()))
        .collect()
}

/// The runs 3σ from the others by `ranked`, each with other programs' load as the likely
/// cause when it took more cores during that run than during the rest and the run came out
/// worse for it (slower, or less done).
fn outliers(runs: &[Repeat], ranked: &str) -> Vec<Outlier> {
    let Some(values) = values_of(runs, ranked) else {
        return Vec::new();
    };
    let higher_is_worse = ranked == "wall_ms" || ranked == "cpu_ms";
    stats::outliers(&values)
        .into_iter()
        .map(|i| {
            let rest = |f: &dyn Fn(&Repeat) -> Option<f64>| -> Option<f64> {
                let others: Vec<f64> = (0..runs.len())
                    .filter(|j| *j != i)
                    .map(|j| f(&runs[j]))
                    .collect::<Option<_>>()?;
                Some(others.iter().sum::<f64>() / others.len() as f64)
            };
            let others_mean = rest(&|r| Comparison::value(&r.report, ranked).map(|v| v.as_f64()))
                .unwrap_or(f64::NAN);
            let during = runs[i].others_cores;
            let elsewhen = rest(&|r| r.others_cores);
            let worse = (values[i] > others_mean) == higher_is_worse;
            let loaded =
                matches!((during, elsewhen), (Some(d), Some(e)) if d >= e + OTHER_LOAD_MATTERS);
            Outlier {
                run: i + 1,
                metric: ranked.to_string(),
                value: values[i],
                others_mean,
                likely_cause: (worse && loaded).then(|| OTHER_LOAD.to_string()),
                others_cores: during,
                others_cores_elsewhen: elsewhen,
            }
        })
        .collect()
}

/// The run in the middle by `ranked` (the lower middle of an even count).
fn middle<'a>(runs: &'a [Repeat], ranked: &str) -> &'a Repeat {
    let key = |r: &Repeat| Comparison::value(&r.report, ranked).map_or(f64::NAN, |v| v.as_f64());
    let mut order: Vec<&Repeat> = runs.iter().collect();
    order.sort_by(|a, b| key(a).total_cmp(&key(b)));
    order[(order.len() - 1) / 2]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Metrics;

    fn run(wall: f64, others: f64) -> Repeat {
        let mut metrics = Metrics::default();
        metrics.set("ops_per_sec", 1000.0 / wall);
        metrics.set("balance", 0i64);
        Repeat {
            report: Report {
                scenario: "lock".into(),
                ok: true,
                wall_ms: wall,
                metrics,
                notes: vec![format!("took {wall}")],
                ..Report::default()
            },
            others_cores: Some(others),
        }
    }

    #[test]
    fn runs_fill_about_a_second_within_bounds() {
        assert_eq!(runs_for(Duration::from_millis(100)), 10);
        assert_eq!(runs_for(Duration::from_millis(300)), 4);
        assert_eq!(runs_for(Duration::from_secs(5)), LEAST_RUNS);
        assert_eq!(runs_for(Duration::from_millis(1)), MOST_RUNS);
        assert_eq!(runs_for(Duration::ZERO), MOST_RUNS);
    }

    #[test]
    fn one_run_each_keeps_the_plain_comparison() {
        let c = comparison(
            "lock",
            "mode",
            vec!["a".into(), "b".into()],
            vec![vec![run(10.0, 0.0)], vec![run(20.0, 0.0)]],
        );
        assert!(c.variants.is_empty());
        assert_eq!(c.runs.len(), 2);
        let json = serde_json::to_string(&c).unwrap();
        assert!(!json.contains("variants"), "{json}");
    }

    #[test]
    fn repeats_give_summaries_ratios_and_the_middle_run() {
        let c = comparison(
            "lock",
            "mode",
            vec!["a".into(), "b".into()],
            vec![
                vec![run(10.0, 0.0), run(12.0, 0.0), run(11.0, 0.0)],
                vec![run(22.0, 0.0), run(20.0, 0.0), run(24.0, 0.0)],
            ],
        );
        let (a, b) = (&c.variants[0], &c.variants[1]);
        assert_eq!((a.value.as_str(), a.runs), ("a", 3));
        let wall = b.metrics["wall_ms"];
        assert_eq!(
            (wall.mean, wall.stddev, wall.min, wall.max),
            (22.0, 2.0, 20.0, 24.0)
        );
        assert_eq!(b.metrics["balance"].mean, 0.0);
        let r = b.ratios["wall_ms"];
        assert!((r.ratio - 2.0).abs() < 1e-9 && r.contains(2.0), "{r:?}");
        assert!(b.ratios.contains_key("ops_per_sec") && !b.ratios.contains_key("balance"));
        assert!(a.ratios.is_empty(), "the first is the yardstick");
        // The middle run stands for each variant: its notes are the ones shown.
        assert_eq!(c.runs[0].notes, ["took 11"]);
        assert_eq!(c.runs[1].notes, ["took 22"]);
        let json: serde_json::Value = serde_json::to_value(&c).unwrap();
        let wall = &json["variants"][1]["metrics"]["wall_ms"];
        for field in ["runs", "mean", "stddev", "min", "max"] {
            assert!(wall[field].is_number(), "{field}: {json}");
        }
        let ratio = &json["variants"][1]["ratios"]["wall_ms"];
        assert!(ratio["low"].as_f64() < Some(2.0) && ratio["high"].as_f64() > Some(2.0));
        let back: Comparison = serde_json::from_value(json).unwrap();
        assert_eq!(back.variants, c.variants);
    }

    #[test]
    fn a_slow_run_under_other_load_is_flagged_with_that_cause() {
        let mut runs: Vec<Repeat> = [10.0, 10.2, 9.9, 10.1]
            .iter()
            .map(|w| run(*w, 0.05))
            .collect();
        runs.push(run(19.0, 1.4));
        let found = outliers(&runs, "wall_ms");
        assert_eq!(found.len(), 1, "{found:?}");
        let o = &found[0];
        assert_eq!((o.run, o.value), (5, 19.0));
        assert_eq!(o.likely_cause.as_deref(), Some(OTHER_LOAD));
        let text = o.describe(Lang::En);
        assert!(
            text.starts_with("run 5 is an outlier: wall_ms 19"),
            "{text}"
        );
        assert!(
            text.contains("1.40 cores busy during it (0.05 during the others)"),
            "{text}"
        );
        assert!(o.describe(Lang::Zh).contains("可能是别的负载"));
        // The same slow run on a quiet machine: flagged, no cause claimed.
        runs[4].others_cores = Some(0.05);
        let o = &outliers(&runs, "wall_ms")[0];
        assert_eq!(o.likely_cause, None);
        assert!(!o.describe(Lang::En).contains("load"));
        // A fast run is not blamed on load, however busy the machine was.
        runs[4] = run(5.0, 1.4);
        let o = &outliers(&runs, "wall_ms")[0];
        assert_eq!((o.run, o.likely_cause.clone()), (5, None));
        // By throughput, less done is the worse side.
        runs[4] = run(19.0, 1.4);
        let o = &outliers(&runs, "ops_per_sec")[0];
        assert_eq!(o.likely_cause.as_deref(), Some(OTHER_LOAD));
    }
}
