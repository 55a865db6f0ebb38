//! Comparisons that repeat their runs, as a user runs them: a variant against itself is no
//! clear difference, and a variant given twice the work takes about twice as long, with an
//! interval that says so. (The arithmetic is unit-tested in `src/stats.rs`, outliers and their
//! causes in `src/repeats.rs`.)
//!
//! `thread-local` with one thread is the work here: its lookups are CPU work done in a loop,
//! so twice the lookups is twice the time, and a run is short enough to repeat. The machine is
//! shared and noisy, so each claim gets a few attempts; what holds in every run is checked in
//! every attempt.

mod common;

use common::{Conlab, Orphans, Outcome, stat};
use serde_json::Value;
use std::time::Duration;

const CONLAB: Conlab = Conlab {
    deadline: Duration::from_secs(120),
    orphans: Orphans::Reaped,
};

/// Attempts for a claim a burst of other load can spoil.
const ATTEMPTS: usize = 3;

fn compare(args: &[&str]) -> Outcome {
    common::become_subreaper();
    let mut all = vec!["compare", "thread-local", "--set", "threads=1"];
    all.extend_from_slice(args);
    let outcome = CONLAB.invoke(&all);
    outcome.assert_success(&format!("conlab {all:?}"));
    outcome
}

/// Every runner a comparison started was waited for by it: none was orphaned, and the ones
/// its report names are gone.
fn assert_nothing_left(c: &Value) {
    let orphans = common::adopted_children();
    assert!(orphans.is_empty(), "orphaned: {orphans:?}");
    for run in c["runs"].as_array().expect("runs") {
        for p in run["processes"].as_array().expect("processes") {
            let pid = p["pid"].as_u64().expect("pid") as u32;
            assert_eq!(common::adopted_as(pid), None, "runner {pid} was orphaned");
            if let Some(s) = stat(pid as i32) {
                assert!(
                    !s.comm.starts_with("conlab"),
                    "runner {pid} is still there: {s:?}"
                );
            }
        }
    }
}

/// `1.93 ± 0.05 times`, or `6.26 (2.71…14.5) times` when the interval is wide.
fn with_interval(verdict: &str) -> bool {
    verdict.contains(" ± ")
        || (verdict.contains(" (") && verdict.contains("…") && verdict.contains(") times"))
}

/// `thread-local` by `key` against itself, one run each then repeated: the runs are counted,
/// the summary finds no clear difference and says how many runs it rests on.
#[test]
fn a_variant_against_itself_is_no_clear_difference() {
    let mut seen = Vec::new();
    for _ in 0..ATTEMPTS {
        // Without --runs: as many as fill about a second, at least three.
        let outcome = compare(&["--set", "lookups=100000", "--vary", "mode=tls,tls"]);
        let progress: Vec<&str> = outcome
            .stderr
            .lines()
            .filter(|l| l.starts_with("running thread-local"))
            .collect();
        assert_eq!(
            progress
                .iter()
                .filter(|l| l.ends_with("(run 1, timed to choose how many)"))
                .count(),
            2,
            "the first round is timed: {progress:?}"
        );
        let last = progress.last().expect("progress lines");
        let n: usize = last
            .rsplit_once(" of ")
            .and_then(|(_, n)| n.trim_end_matches(')').parse().ok())
            .unwrap_or_else(|| panic!("no `run k of N` in {last:?}"));
        assert!((3..=30).contains(&n), "{n} runs: {progress:?}");
        assert_eq!(progress.len(), 2 * n, "{progress:?}");
        let text = &outcome.stdout;
        assert!(text.contains(&format!("{n} runs each")), "{text}");
        let verdict = text
            .lines()
            .find(|l| l.contains("times faster than mode=tls"))
            .unwrap_or_else(|| panic!("no ratio with an interval:\n{text}"));
        assert!(with_interval(verdict), "{verdict}");
        if verdict.ends_with("— no clear difference") {
            return;
        }
        seen.push(text.clone());
    }
    panic!("a variant against itself was called different every time:\n{seen:#?}");
}

/// Twice the lookups: the second variant's wall time is about twice the first's, and the
/// interval the JSON gives contains 2; the text says it the hyperfine way.
#[test]
fn twice_the_work_is_about_twice_the_time_with_an_interval_that_contains_two() {
    let mut seen = Vec::new();
    for _ in 0..ATTEMPTS {
        let outcome = compare(&["--vary", "lookups=300000,600000", "--runs", "5", "--json"]);
        let c = outcome.json();
        assert_nothing_left(&c);
        let variants = c["variants"].as_array().expect("variants");
        assert_eq!(variants.len(), 2, "{c}");
        for (v, value) in variants.iter().zip(["300000", "600000"]) {
            assert_eq!(v["value"], value, "{c}");
            assert_eq!(v["runs"], 5, "{c}");
            let wall = &v["metrics"]["wall_ms"];
            let (mean, sd, min, max) = (
                wall["mean"].as_f64().unwrap(),
                wall["stddev"].as_f64().unwrap(),
                wall["min"].as_f64().unwrap(),
                wall["max"].as_f64().unwrap(),
            );
            assert!(min <= mean && mean <= max && sd >= 0.0, "{wall}");
            assert_eq!(wall["runs"], 5, "{wall}");
            // A figure every run has the same: no spread.
            assert_eq!(v["metrics"]["lookups"]["stddev"], 0.0, "{v}");
        }
        assert!(
            variants[0].get("ratios").is_none(),
            "the first is the yardstick: {c}"
        );
        let r = &variants[1]["ratios"]["wall_ms"];
        let (ratio, low, high) = (
            r["ratio"].as_f64().unwrap(),
            r["low"].as_f64().unwrap(),
            r["high"].as_f64().unwrap(),
        );
        assert!(low <= ratio && ratio <= high, "{r}");
        // Throughput is the same work per second: a ratio near 1.
        assert!(variants[1]["ratios"]["lookups_per_sec"].is_object(), "{c}");
        // `runs` keeps its meaning: one report per variant, in order.
        assert_eq!(c["runs"].as_array().map(Vec::len), Some(2), "{c}");
        if (1.6..=2.5).contains(&ratio) && low <= 2.0 && 2.0 <= high {
            let text = compare(&["--vary", "lookups=300000,600000", "--runs", "3"]).stdout;
            assert!(text.contains("lookups=300000 ran"), "{text}");
            let verdict = text
                .lines()
                .find(|l| l.contains("times faster than lookups=600000"))
                .unwrap_or_else(|| panic!("no verdict:\n{text}"));
            assert!(with_interval(verdict), "{verdict}");
            assert!(text.contains("3 runs each"), "{text}");
            return;
        }
        seen.push(format!("{ratio:.3} in {low:.3}…{high:.3}"));
    }
    panic!("twice the lookups never read as about 2× with 2 in the interval: {seen:?}");
}

/// `--runs` takes 1 to 1000; anything else is bad usage that names the range.
#[test]
fn runs_out_of_range_is_bad_usage() {
    for bad in ["0", "1001", "-3", "many"] {
        let outcome =
            CONLAB.assert_usage_error(&["compare", "thread-local", "--runs", bad], &["--runs"]);
        assert!(
            outcome.stderr.contains("1..=1000"),
            "--runs {bad}: {}",
            outcome.stderr
        );
    }
}

/// `--runs 1` is the comparison as it always was: no statistics in the JSON.
#[test]
fn one_run_each_has_no_statistics() {
    let outcome = compare(&["--set", "lookups=10000", "--runs", "1", "--json"]);
    let c = outcome.json();
    assert!(c.get("variants").is_none(), "{c}");
    assert_eq!(c["runs"].as_array().map(Vec::len), Some(2), "{c}");
    assert_nothing_left(&c);
}

// ---------------------------------------------------------------------------------------
// The compare view's repeat key, on a fixed model (no runner, clock or sampler)

mod view_model {
    use super::common::view::{draw, event, exited, idle, press, rows, runner_up, sample};
    use conlab::app::{App, Effect};
    use conlab::event::Body;
    use conlab::report::{Metrics, Report};
    use conlab::runner::RunId;
    use crossterm::event::KeyCode;

    /// A lock run that took `wall_ms`, from its runner's start to its reaping.
    fn finish(app: &mut App, run: RunId, mode: &str, wall_ms: f64) -> Vec<Effect> {
        let pid = 6000 + run as u32;
        runner_up(app, run, pid);
        let mut metrics = Metrics::default();
        metrics.set("balance", 0i64);
        metrics.set("expected_balance", 0i64);
        metrics.set("ops_per_sec", 2e9 / wall_ms);
        metrics.set("wall_ms", wall_ms);
        let mut params = serde_json::Map::new();
        params.insert("mode".into(), mode.into());
        let report = Report {
            scenario: "lock".into(),
            params,
            ok: true,
            wall_ms,
            metrics,
            ..Report::default()
        };
        event(
            app,
            run,
            wall_ms,
            pid,
            Body::Report {
                report: Box::new(report),
            },
        );
        exited(app, run, "code 0")
    }

    const MODES: [&str; 3] = ["nolock", "lock", "atomic"];

    /// `c` runs each variant once; `n` runs them in rounds — the first timed to choose how
    /// many (300 ms a round: 4 fill a second) — and the columns show mean ± σ over min…max,
    /// the summary ratios with their intervals, and a run that stood out while the sampler saw
    /// other programs busy is flagged with that cause.
    #[test]
    fn the_repeat_key_runs_rounds_and_shows_mean_sigma_and_outliers() {
        let mut app = idle("lock", 120, 40);
        assert_eq!(press(&mut app, KeyCode::Char('c')), vec![Effect::Start(1)]);
        assert_eq!(finish(&mut app, 1, "nolock", 100.0), vec![Effect::Start(2)]);
        assert_eq!(finish(&mut app, 2, "lock", 150.0), vec![Effect::Start(3)]);
        assert_eq!(finish(&mut app, 3, "atomic", 50.0), vec![]);
        let once = rows(draw(&app, 120, 40).backend().buffer()).join("\n");
        assert!(!once.contains(" ± "), "one run each:\n{once}");

        assert_eq!(press(&mut app, KeyCode::Char('n')), vec![Effect::Start(4)]);
        let screen = rows(draw(&app, 120, 40).backend().buffer()).join("\n");
        assert!(
            screen.contains("· timing the first round to choose how many runs"),
            "{screen}"
        );
        assert!(screen.contains("1/?"), "{screen}");
        // Each round's wall times, by mode; lock's third stands out.
        let walls = [
            [100.0, 150.0, 50.0],
            [102.0, 153.0, 51.0],
            [98.0, 240.0, 49.0],
            [100.0, 147.0, 50.0],
        ];
        let mut run: RunId = 4;
        for (round, walls) in walls.iter().enumerate() {
            for (v, (mode, wall)) in MODES.iter().zip(walls).enumerate() {
                // The sampler looks while the run goes: two cores busy, none of them ours, during
                // lock's slow run; the machine idle otherwise.
                let busy = if (v, round) == (1, 2) { 100.0 } else { 0.0 };
                app.update(sample(&[busy, busy], vec![]));
                let effects = finish(&mut app, run, mode, *wall);
                let last = round == 3 && v == 2;
                let expected = if last {
                    vec![]
                } else {
                    vec![Effect::Start(run + 1)]
                };
                assert_eq!(effects, expected, "after run {run} ({mode}, round {round})");
                run += 1;
            }
        }
        let compare = app.compare.as_ref().expect("the compare view is open");
        assert_eq!(
            compare.wanted,
            Some(4),
            "300 ms a round: four fill a second"
        );
        assert!(compare.runs.iter().all(|r| r.len() == 4));

        let screen = rows(draw(&app, 120, 40).backend().buffer()).join("\n");
        assert!(screen.contains("· 4 runs each"), "{screen}");
        assert!(screen.contains("4/4"), "{screen}");
        // nolock's wall time: mean 100 ms, σ 1.63 ms, 98…102 ms; the first column is 1.00×.
        assert!(screen.contains("100 ms ± 1.63 ms 1.00×"), "{screen}");
        assert!(screen.contains("98.0 ms…102 ms"), "{screen}");
        assert!(screen.contains("50.0 ms ± 816 µs 0.50 ± 0.01×"), "{screen}");
        // The same in every run: one figure, no spread, one line.
        assert!(!screen.contains("0.00 ± 0.00"), "{screen}");
        let summary = screen
            .lines()
            .find(|l| l.contains("Summary: "))
            .unwrap_or_else(|| panic!("no summary:\n{screen}"));
        assert!(summary.contains("mode=atomic fastest"), "{summary}");
        // Each mean known to 0.816/√4 of 100 (and of 50); t(6 df) = 2.447.
        assert!(summary.contains("nolock 2.00 ± 0.06× slower"), "{summary}");
        assert!(summary.contains("4 runs each"), "{summary}");
        assert!(
            screen.contains("lock: outlier, run 3 is an outlier: wall_ms 240"),
            "{screen}"
        );
        assert!(screen.contains("likely other load:"), "{screen}");
        assert!(
            screen
                .contains("other programs kept 1.99 cores busy during it (0.00 during the others)"),
            "{screen}"
        );

        // `r` runs the comparison again the same way: repeated.
        assert_eq!(
            press(&mut app, KeyCode::Char('r')),
            vec![Effect::Start(run)]
        );
        let compare = app.compare.as_ref().unwrap();
        assert!(compare.repeated && compare.wanted.is_none());
    }
}
