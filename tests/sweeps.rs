//! Headless runs of the Models lessons that sweep — `switching` and `cpu-vs-io` — with the real
//! `conlab` binary, asserted on the JSON report's rows (one per point) and on the event stream
//! that drew them. What the lessons claim is what is asserted: with a tiny quantum and many
//! tasks the CPU switches far more often and does less work; IO-bound work wants more workers
//! than CPU-bound work; CPython's threads do not speed up CPU-bound work.
//!
//! Timing claims on 2 shared, noisy cores get tolerant bounds and a few bounded attempts; a
//! failure prints every attempt. What follows from the code (rows, counts, the order of the
//! events) is checked in every attempt.

mod common;

use common::{Conlab, Orphans, float, int, python3_on_path, read_lines, run_args, wait_bounded};
use conlab::event::{Body, Event, Reassembler};
use serde_json::Value;
use std::time::Duration;

const CONLAB: Conlab = Conlab {
    deadline: Duration::from_secs(120),
    orphans: Orphans::Reaped,
};

/// Attempts for a timing claim.
const ATTEMPTS: usize = 3;

/// One row of a sweep's report: `point_<i>_<name>` for every name.
struct Row<'a> {
    report: &'a Value,
    i: i64,
}

impl Row<'_> {
    fn get(&self, name: &str) -> f64 {
        float(self.report, &format!("point_{}_{name}", self.i))
    }
    fn has(&self, name: &str) -> bool {
        common::has_metric(self.report, &format!("point_{}_{name}", self.i))
    }
}

/// The report's rows, in the order the points were measured.
fn rows(report: &Value) -> Vec<Row<'_>> {
    (0..int(report, "sweep_points_done"))
        .map(|i| Row { report, i })
        .collect()
}

/// The row of series `series` (its number) at `x` of the swept parameter `x_name`.
fn row<'a>(report: &'a Value, series: i64, x_name: &str, x: f64) -> Row<'a> {
    rows(report)
        .into_iter()
        .find(|r| r.get("series") == series as f64 && r.get(x_name) == x)
        .unwrap_or_else(|| panic!("no point of series {series} at {x_name}={x}: {report}"))
}

/// Runs `scenario` until `claim` holds of its report (at most [`ATTEMPTS`] times); each
/// report must first pass `contract`. Fails with what every attempt showed.
fn until(
    scenario: &str,
    sets: &[&str],
    contract: impl Fn(&Value),
    claim: impl Fn(&Value) -> Result<(), String>,
) -> Value {
    let mut seen = Vec::new();
    for _ in 0..ATTEMPTS {
        let (report, outcome) = CONLAB.run_json(scenario, sets);
        outcome.assert_success(&format!("{scenario} {sets:?}"));
        contract(&report);
        match claim(&report) {
            Ok(()) => return report,
            Err(why) => {
                println!("{scenario} {sets:?}: {why}");
                seen.push(why);
            }
        }
    }
    panic!(
        "{scenario} {sets:?}: the claim held in none of {ATTEMPTS} runs:\n{}",
        seen.join("\n")
    );
}

// ---------------------------------------------------------------------------------------
// switching

/// A short sweep: one quantum of 5 µs and the plain case, 1 … 256 tasks.
const SWITCHING: [&str; 4] = ["quantum_us=5", "quanta=1", "max_tasks=256", "work_ms=20"];
const TASK_COUNTS: [f64; 9] = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0];

/// Every switching report: a row per point, task counts doubling, the ring's series first and
/// the plain case last, each row with its figures; a ring's hand-offs are its goes.
fn switching_contract(report: &Value) {
    assert_eq!(report["ok"], true, "{report}");
    let rows = rows(report);
    assert_eq!(rows.len(), 18, "9 task counts × 2 series: {report}");
    assert_eq!(int(report, "sweep_points_planned"), 18, "{report}");
    for (i, r) in rows.iter().enumerate() {
        assert_eq!(r.get("tasks"), TASK_COUNTS[i / 2], "{report}");
        assert_eq!(
            r.get("series"),
            (i % 2) as f64,
            "ring first, plain second: {report}"
        );
        for name in [
            "wall_ms",
            "cpu_ms",
            "useful_pct",
            "switches_per_sec",
            "memory_kib",
        ] {
            assert!(r.has(name), "point {i} has no {name}: {report}");
        }
        let useful = r.get("useful_pct");
        assert!(
            (0.0..=100.0).contains(&useful),
            "point {i}: {useful}%: {report}"
        );
        let ring = i % 2 == 0;
        assert_eq!(
            r.has("handoff_us"),
            ring,
            "only a ring hands over: {report}"
        );
        if ring {
            let tasks = r.get("tasks");
            let handoffs = r.get("handoffs");
            assert!(
                handoffs >= tasks && handoffs % tasks == 0.0,
                "every task of the ring has the same number of goes: {handoffs} for {tasks}: {report}"
            );
        }
    }
}

/// At the finest quantum and the most tasks, context switches per second are far above those
/// of one task, and the useful work done per CPU-second is lower: less of the tasks' CPU time
/// goes to the work. (The work per wall-clock second, `throughput_pct`, is in the report too,
/// but on a shared machine other programs' load moves it more than switching does.)
fn switching_claim(report: &Value) -> Result<(), String> {
    let one = row(report, 0, "tasks", 1.0);
    let most = row(report, 0, "tasks", 256.0);
    let (sw1, sw) = (one.get("switches_per_sec"), most.get("switches_per_sec"));
    let (u1, u) = (one.get("useful_pct"), most.get("useful_pct"));
    let shown = format!(
        "1 task: {sw1:.0} switches/s, {u1:.0}% of its CPU time was work; 256 tasks: {sw:.0} switches/s, {u:.0}%"
    );
    if sw > 20.0 * sw1.max(50.0) && u < u1 - 10.0 {
        Ok(())
    } else {
        Err(shown)
    }
}

#[test]
fn switching_threads_switch_far_more_and_work_less_with_many_tasks() {
    let mut sets = SWITCHING.to_vec();
    sets.push("mode=threads");
    let report = until("switching", &sets, switching_contract, switching_claim);
    assert!(
        float(&report, "two_tasks_handoff_us") > 0.0,
        "a hand-off costs something: {report}"
    );
    let notes = report["notes"].to_string();
    assert!(
        notes.contains("256 tasks handing over every 5 µs"),
        "{notes}"
    );
}

#[test]
fn switching_processes_switch_far_more_and_work_less_with_many_tasks() {
    let mut sets = SWITCHING.to_vec();
    sets.push("mode=processes");
    let report = until("switching", &sets, switching_contract, switching_claim);
    // One process per point forked the tasks; every one of them was reaped.
    let processes = report["processes"].as_array().expect("processes");
    let parents = processes.iter().filter(|p| p["role"] == "tasks").count();
    assert_eq!(parents, 18, "one parent of the tasks per point: {report}");
    assert!(processes.iter().all(|p| p["exit"] == "code 0"), "{report}");
}

/// The runner traces each point as it is measured: one `point` event per row, in the order of
/// the rows, with the same figures, all before the report.
#[test]
fn switching_traces_every_point_before_its_report() {
    let args = run_args(
        "switching",
        &["--events"],
        &["quanta=2", "max_tasks=8", "work_ms=5"],
    );
    let mut child = common::command(&args).spawn().expect("start the runner");
    let out = read_lines(child.stdout.take().expect("piped"));
    let status = wait_bounded(&mut child, Duration::from_secs(60), "the runner");
    assert_eq!(status.code(), Some(0));
    // A report of many rows travels in parts: joined again, as every reader does.
    let mut joiner = Reassembler::default();
    let events: Vec<Event> = out
        .join()
        .unwrap()
        .expect("stdout")
        .iter()
        .filter_map(|l| joiner.feed_line(l).expect("an event"))
        .collect();
    let points: Vec<(usize, &str, f64, f64)> = events
        .iter()
        .enumerate()
        .filter_map(|(at, e)| match &e.body {
            Body::Point { series, x, figures } => Some((
                at,
                series.as_str(),
                *x,
                figures.get("useful_pct").expect("useful_pct").as_f64(),
            )),
            _ => None,
        })
        .collect();
    let Some(Body::Report { report }) = events.last().map(|e| &e.body) else {
        panic!("the report comes last");
    };
    let report = serde_json::to_value(report).unwrap();
    assert_eq!(points.len(), 12, "4 task counts × 3 series: {report}");
    let words: Vec<&str> = points.iter().take(3).map(|p| p.1).collect();
    assert_eq!(words, ["10 µs", "100 µs", "plain"]);
    for (i, (_, series, x, useful)) in points.iter().enumerate() {
        let r = Row {
            report: &report,
            i: i as i64,
        };
        assert_eq!(r.get("tasks"), *x, "{report}");
        assert_eq!(r.get("series"), (i % 3) as f64, "{series}: {report}");
        assert_eq!(r.get("useful_pct"), *useful, "{report}");
    }
    // Each point follows the one before in the stream, as it was measured.
    assert!(points.windows(2).all(|w| w[0].0 < w[1].0));
}

#[test]
fn switching_refuses_a_quanta_count_it_has_not_got() {
    CONLAB.assert_usage_error(
        &run_args("switching", &[], &["quanta=5"]),
        &["quanta", "from 1 to 4"],
    );
}

// ---------------------------------------------------------------------------------------
// cpu-vs-io

/// Every cpu-vs-io report: a row per set and worker count, CPU-bound first; each IO-bound task
/// was one request the service answered.
fn cpu_vs_io_contract(report: &Value, counts: &[f64]) {
    assert_eq!(report["ok"], true, "{report}");
    let rows = rows(report);
    assert_eq!(rows.len(), counts.len() * 2, "{report}");
    let mut io_tasks = 0.0;
    for (i, r) in rows.iter().enumerate() {
        assert_eq!(r.get("workers"), counts[i / 2], "{report}");
        assert_eq!(r.get("series"), (i % 2) as f64, "CPU-bound first: {report}");
        assert!(r.get("tasks") > 0.0, "point {i} did some tasks: {report}");
        if i % 2 == 1 {
            io_tasks += r.get("tasks");
        }
    }
    assert_eq!(
        float(report, "requests_answered"),
        io_tasks,
        "every IO-bound task waited for one answer: {report}"
    );
}

fn best_workers(report: &Value) -> Result<(i64, i64), String> {
    let (cpu, io) = (
        int(report, "cpu_best_workers"),
        int(report, "io_best_workers"),
    );
    if io > cpu {
        Ok((cpu, io))
    } else {
        Err(format!("best workers: CPU-bound {cpu}, IO-bound {io}"))
    }
}

#[test]
fn io_bound_work_wants_more_workers_than_cpu_bound_work() {
    let counts = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0];
    let report = until(
        "cpu-vs-io",
        &["max_workers=32", "point_ms=150", "io_ms=20", "cpu_us=500"],
        |r| cpu_vs_io_contract(r, &counts),
        |r| best_workers(r).map(drop),
    );
    let notes = report["notes"].to_string();
    assert!(
        notes.contains("CPU-bound: best from") && notes.contains("IO-bound: best from"),
        "{notes}"
    );
}

#[test]
fn python_cpu_bound_threads_do_not_speed_up_and_io_bound_ones_do() {
    if !python3_on_path() {
        println!("python3 is not on the PATH: the CPython claims cannot be checked here");
        return;
    }
    let counts = [1.0, 2.0, 4.0, 8.0, 16.0];
    let report = until(
        "cpu-vs-io",
        &[
            "mode=python",
            "max_workers=16",
            "point_ms=300",
            "io_ms=20",
            "cpu_us=500",
        ],
        |r| cpu_vs_io_contract(r, &counts),
        |r| {
            // The GIL lets one thread compute at a time: four threads use about one core and
            // do no more work per CPU-second than one. (Tasks per wall-clock second can still
            // rise on a busy machine, where four threads win the scheduler more often than one
            // — not parallelism: the cores used say so.)
            let (one, four) = (row(r, 0, "workers", 1.0), row(r, 0, "workers", 4.0));
            let per_cpu = four.get("tasks_per_cpu_sec") / one.get("tasks_per_cpu_sec");
            let cores = four.get("cpu_cores_used");
            let wall = four.get("tasks_per_sec") / one.get("tasks_per_sec");
            let shown = format!(
                "CPU-bound, 4 threads against 1: {per_cpu:.2}× the tasks per CPU-second, {cores:.2} cores used, {wall:.2}× the tasks per second"
            );
            println!("{shown}");
            if !(1.0 / 1.3..=1.3).contains(&per_cpu) || cores > 1.3 {
                return Err(shown);
            }
            best_workers(r).map(drop)
        },
    );
    let notes = report["notes"].to_string();
    assert!(notes.contains("CPython 3"), "{notes}");
    assert!(
        report["processes"].as_array().is_some_and(|p| p
            .iter()
            .any(|p| p["role"] == "python" && p["exit"] == "code 0")),
        "{report}"
    );
}
