//! Headless runs of the processes scenarios `pool`, `queue` and `pipe`: the real binary, its
//! JSON report, asserting what each lesson claims. The fifth pool task starts only after a
//! worker is free and at most `size` tasks ever overlap; adding after close() is refused; the
//! reader gets A, B, C in order and is terminated; rates and latency percentiles are positive
//! and ordered; memory does not grow with the number of items or round trips; bad input exits
//! 2; and no process of a run outlives it.
//!
//! Sleeps are kept short (max_sleep_ms=300 and less) and runs small (a million items at most)
//! so the whole file runs in a few seconds.
//! Every child is waited for, within a bound.

mod common;

use common::{Conlab, Orphans, float, has_metric, run_args};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use serde_json::Value;
use std::time::{Duration, Instant};

/// Far beyond any run here; a hang fails the test instead of the CI job.
const CONLAB: Conlab = Conlab {
    deadline: Duration::from_secs(60),
    orphans: Orphans::Ignored,
};

/// Times in reports are rounded to the microsecond: allow that much between two of them.
const ROUNDING_MS: f64 = 0.002;

/// `conlab run <scenario> --json --set ...`: its report, after checking it ended cleanly.
fn run(scenario: &str, sets: &[&str]) -> Value {
    let (report, outcome) = CONLAB.run_json(scenario, sets);
    assert_eq!(
        outcome.code,
        Some(0),
        "exit code; stderr {}\n{report:#}",
        outcome.stderr
    );
    assert_eq!(report["ok"], true, "{report:#}");
    assert!(!outcome.stderr.contains("panicked"), "{}", outcome.stderr);
    assert_nothing_left(&report);
    report
}

/// Processes of the report with this role.
fn with_role<'a>(report: &'a Value, role: &str) -> Vec<&'a Value> {
    report["processes"]
        .as_array()
        .expect("processes")
        .iter()
        .filter(|p| p["role"] == role)
        .collect()
}

/// Every process the report names is gone: reaped, not a zombie, not an orphan.
fn assert_nothing_left(report: &Value) {
    let processes = report["processes"].as_array().expect("processes");
    assert!(!processes.is_empty(), "{report:#}");
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let alive: Vec<u64> = processes
            .iter()
            .filter_map(|p| p["pid"].as_u64())
            .filter(|pid| common::is_conlab(*pid as i32))
            .collect();
        if alive.is_empty() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "left behind: {alive:?}\n{report:#}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    for p in processes {
        assert!(
            p["exit"].is_string(),
            "every process has an exit: {report:#}"
        );
    }
}

// ---------------------------------------------------------------------------------------
// pool

/// (start, end) of task i.
fn span(report: &Value, i: usize) -> (f64, f64) {
    (
        float(report, &format!("task_{i}_start_ms")),
        float(report, &format!("task_{i}_end_ms")),
    )
}

/// The most tasks whose [start, end) intervals overlap (an end before a start at a tie).
fn most_at_once(spans: &[(f64, f64)]) -> usize {
    let mut edges: Vec<(f64, i32)> = spans
        .iter()
        .flat_map(|(s, e)| [(*s, 1), (*e, -1)])
        .collect();
    edges.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    let (mut now, mut most) = (0, 0);
    for (_, d) in edges {
        now += d;
        most = most.max(now);
    }
    most as usize
}

#[test]
fn the_fifth_task_waits_for_a_free_worker() {
    for seed in ["1", "2", "3"] {
        let r = run("pool", &["max_sleep_ms=300", &format!("seed={seed}")]);
        assert_eq!(
            (
                float(&r, "workers"),
                float(&r, "tasks"),
                float(&r, "tasks_done")
            ),
            (4.0, 5.0, 5.0)
        );
        let spans: Vec<(f64, f64)> = (0..5).map(|i| span(&r, i)).collect();
        for (i, (s, e)) in spans.iter().enumerate() {
            let queued = float(&r, &format!("task_{i}_queued_ms"));
            assert!(
                queued <= *s && s <= e,
                "task {i}: queued {queued}, {s}..{e}\n{r:#}"
            );
            let wait = float(&r, &format!("task_{i}_wait_ms"));
            assert!(
                (wait - (s - queued)).abs() <= ROUNDING_MS,
                "task {i} wait {wait}\n{r:#}"
            );
        }
        // The lesson: task 4 starts only once one of the first four has ended.
        let first_free = spans[..4].iter().map(|(_, e)| *e).fold(f64::MAX, f64::min);
        assert!(
            spans[4].0 >= first_free - ROUNDING_MS,
            "seed {seed}: task 4 started at {} before any worker was free ({first_free})\n{r:#}",
            spans[4].0
        );
        // ... on the worker that freed, which had run one of the first four.
        let pid = |i: usize| float(&r, &format!("task_{i}_worker_pid"));
        let first_four: Vec<f64> = (0..4).map(pid).collect();
        let mut distinct = first_four.clone();
        distinct.dedup();
        distinct.sort_by(f64::total_cmp);
        distinct.dedup();
        assert_eq!(
            distinct.len(),
            4,
            "the first four tasks ran on four workers\n{r:#}"
        );
        let before = (0..4)
            .find(|i| pid(*i) == pid(4))
            .expect("task 4 ran on one of the first four's workers");
        assert!(spans[before].1 <= spans[4].0 + ROUNDING_MS, "{r:#}");
        assert!(most_at_once(&spans) <= 4, "{spans:?}");
        assert!(float(&r, "max_concurrent") <= 4.0, "{r:#}");
        assert!(float(&r, "tasks_waited") >= 1.0, "{r:#}");

        let workers = with_role(&r, "worker");
        let runner = with_role(&r, "runner");
        assert_eq!((workers.len(), runner.len()), (4, 1), "{r:#}");
        let runner_pid = runner[0]["pid"].as_u64().unwrap();
        for w in &workers {
            assert_eq!(w["ppid"].as_u64(), Some(runner_pid), "{r:#}");
            assert_eq!(w["exit"], "code 0", "{r:#}");
        }
        let worker_pids: Vec<f64> = workers.iter().map(|w| w["pid"].as_f64().unwrap()).collect();
        assert!((0..5).all(|i| worker_pids.contains(&pid(i))), "{r:#}");
    }
}

#[test]
fn adding_a_task_after_close_is_an_error() {
    let r = run("pool", &["max_sleep_ms=0", "tasks=2"]);
    assert_eq!(float(&r, "submit_after_close_refused"), 1.0, "{r:#}");
    let notes: Vec<&str> = r["notes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        notes
            .iter()
            .any(|n| n.contains("after close()") && n.contains("closed")),
        "{notes:?}"
    );
    assert_eq!(
        float(&r, "tasks_waited"),
        0.0,
        "two tasks, four workers: nobody waits"
    );
}

#[test]
fn a_pool_never_runs_more_tasks_than_workers() {
    let r = run("pool", &["size=3", "tasks=20", "max_sleep_ms=60", "seed=7"]);
    assert_eq!(float(&r, "tasks_done"), 20.0);
    assert!(float(&r, "max_concurrent") <= 3.0, "{r:#}");
    assert!(float(&r, "tasks_waited") >= 17.0, "{r:#}");
    // Per-task metrics stop at 16 so the report fits one event line; the note says so.
    let spans: Vec<(f64, f64)> = (0..16).map(|i| span(&r, i)).collect();
    assert!(most_at_once(&spans) <= 3, "{spans:?}");
    assert!(!has_metric(&r, "task_16_start_ms"), "{r:#}");
    assert!(
        r["notes"].to_string().contains("the timeline shows all 20"),
        "{r:#}"
    );
    assert_eq!(with_role(&r, "worker").len(), 3);
}

#[test]
fn a_pool_of_cores_workers() {
    let r = run("pool", &["size=cores", "tasks=3", "max_sleep_ms=20"]);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    assert_eq!(float(&r, "workers") as usize, cores);
    assert_eq!(with_role(&r, "worker").len(), cores);
}

// ---------------------------------------------------------------------------------------
// queue

#[test]
fn the_reader_gets_a_b_c_in_order_and_is_terminated() {
    let r = run("queue", &["max_delay_ms=100"]);
    assert_eq!(float(&r, "items_put"), 3.0, "{r:#}");
    assert_eq!(float(&r, "items_got"), 3.0, "{r:#}");
    assert_eq!(float(&r, "got_in_order"), 1.0, "{r:#}");
    assert_eq!(float(&r, "reader_terminated"), 1.0, "{r:#}");
    let reader = with_role(&r, "reader");
    let writer = with_role(&r, "writer");
    assert_eq!((reader.len(), writer.len()), (1, 1), "{r:#}");
    assert_eq!(reader[0]["exit"], "signal 15 (SIGTERM)", "{r:#}");
    assert_eq!(writer[0]["exit"], "code 0", "{r:#}");
    for i in 0..3 {
        let (put, get) = (
            float(&r, &format!("item_{i}_put_ms")),
            float(&r, &format!("item_{i}_get_ms")),
        );
        assert!(
            put <= get,
            "item {i} got before it was put: {put} > {get}\n{r:#}"
        );
        assert!(float(&r, &format!("item_{i}_latency_us")) >= 0.0);
    }
    assert!(float(&r, "item_0_put_ms") < float(&r, "item_1_put_ms"));
    assert!(float(&r, "latency_p50_us") <= float(&r, "latency_max_us"));
    assert!(
        r["notes"].to_string().contains("got A, B, C in the order"),
        "{r:#}"
    );
}

#[test]
fn any_items_come_out_in_order() {
    let r = run(
        "queue",
        &["items=one,two,three,four", "max_delay_ms=0", "capacity=1"],
    );
    assert_eq!(float(&r, "items_got"), 4.0, "{r:#}");
    assert_eq!(float(&r, "got_in_order"), 1.0, "{r:#}");
    assert!(
        float(&r, "depth_max") <= 1.0,
        "a queue of 1 never holds 2: {r:#}"
    );
}

#[test]
fn rate_mode_reports_throughput_and_ordered_percentiles() {
    let r = run("queue", &["mode=rate", "count=20000"]);
    assert_eq!(float(&r, "items_put"), 20000.0, "{r:#}");
    assert_eq!(float(&r, "items_got"), 20000.0, "{r:#}");
    assert!(float(&r, "items_per_sec") > 0.0, "{r:#}");
    let (min, p50, p99, max) = (
        float(&r, "latency_min_us"),
        float(&r, "latency_p50_us"),
        float(&r, "latency_p99_us"),
        float(&r, "latency_max_us"),
    );
    assert!(0.0 < min && min <= p50 && p50 <= p99 && p99 <= max, "{r:#}");
    assert!(float(&r, "depth_max") <= 10.0, "{r:#}");
    // In rate mode the reader stops by itself after `count` items.
    assert_eq!(with_role(&r, "reader")[0]["exit"], "code 0", "{r:#}");
}

/// Keeping every latency cost 8 bytes per item; a fixed-size histogram costs none. Allow a
/// quarter of that for the noise of a run's peak RSS (a few hundred KiB between two runs).
const GROWTH_BYTES_PER_ITEM: f64 = 2.0;

/// The peak RSS of a run (the largest of conlab, its runner and the runner's children) does not
/// grow with `key` between `small` and `large` by `GROWTH_BYTES_PER_ITEM` or more. An attempt
/// over that is run again, up to three times: noise passes once, growth never does.
fn assert_memory_does_not_grow(scenario: &str, fixed: &[&str], key: &str, small: u64, large: u64) {
    let peak_kib = |n: u64| {
        let set = format!("{key}={n}");
        let sets: Vec<&str> = fixed.iter().copied().chain([set.as_str()]).collect();
        let (r, o) = CONLAB.run_json(scenario, &sets);
        assert_eq!(o.code, Some(0), "{sets:?}: stderr {}\n{r:#}", o.stderr);
        assert_eq!(r["ok"], true, "{r:#}");
        o.peak_rss_kib as f64
    };
    let mut seen = Vec::new();
    for _ in 0..3 {
        let (a, b) = (peak_kib(small), peak_kib(large));
        let per_item = (b - a) * 1024.0 / (large - small) as f64;
        seen.push(format!(
            "{a} KiB at {small}, {b} KiB at {large}: {per_item:.2} B each"
        ));
        if per_item < GROWTH_BYTES_PER_ITEM {
            return;
        }
    }
    panic!("{scenario}: peak RSS grows with {key}: {seen:#?}");
}

#[test]
fn rate_mode_memory_does_not_grow_with_count() {
    assert_memory_does_not_grow("queue", &["mode=rate"], "count", 100_000, 1_000_000);
}

// ---------------------------------------------------------------------------------------
// pipe

#[test]
fn pipe_round_trips_are_positive_and_ordered() {
    let r = run("pipe", &["rounds=3000", "pinned_rounds=500"]);
    assert_eq!(float(&r, "rounds"), 3000.0, "{r:#}");
    let (min, p50, p99, max, mean) = (
        float(&r, "rtt_min_us"),
        float(&r, "rtt_p50_us"),
        float(&r, "rtt_p99_us"),
        float(&r, "rtt_max_us"),
        float(&r, "rtt_mean_us"),
    );
    assert!(0.0 < min && min <= p50 && p50 <= p99 && p99 <= max, "{r:#}");
    assert!(min <= mean && mean <= max, "{r:#}");
    assert!(float(&r, "round_trips_per_sec") > 0.0, "{r:#}");
    if has_metric(&r, "context_switch_us") {
        assert!(float(&r, "context_switch_us") > 0.0);
        assert!(float(&r, "pinned_rtt_p50_us") <= float(&r, "pinned_rtt_max_us"));
    } else {
        assert!(r["notes"].to_string().contains("could not pin"), "{r:#}");
    }
    for role in ["ping", "pong"] {
        let p = with_role(&r, role);
        assert_eq!(p.len(), 1, "{r:#}");
        assert_eq!(p[0]["exit"], "code 0", "{r:#}");
    }
}

#[test]
fn pipe_memory_does_not_grow_with_rounds() {
    assert_memory_does_not_grow("pipe", &["pinned_rounds=0"], "rounds", 20_000, 400_000);
}

// ---------------------------------------------------------------------------------------
// bad input, cancelling

#[test]
fn bad_input_exits_2_naming_what_is_valid() {
    for (args, wanted) in [
        (&["pool", "--set", "size=0"][..], "from 1 to 64, or `cores`"),
        (&["pool", "--set", "size=65"][..], "from 1 to 64"),
        (&["pool", "--set", "tasks=0"][..], "from 1 to 1000"),
        (&["pool", "--set", "tasks=1001"][..], "from 1 to 1000"),
        (&["queue", "--set", "items="][..], "none empty"),
        (&["queue", "--set", "items=A,,C"][..], "none empty"),
        (&["queue", "--set", "capacity=0"][..], "from 1 to 10"),
        (&["pipe", "--set", "rounds=0"][..], "from 1 to"),
        (&["pool-worker"][..], "unknown scenario"),
    ] {
        let mut full = vec!["run"];
        full.extend(args);
        let o = CONLAB.invoke(&full);
        assert_eq!(o.code, Some(2), "{full:?}: stderr {}", o.stderr);
        assert!(o.stderr.contains(wanted), "{full:?}: stderr {}", o.stderr);
        assert!(o.stdout.is_empty(), "{full:?}: stdout {}", o.stdout);
    }
}

/// SIGTERM to `conlab run` mid-run: it cancels its runner's group, reports what it has, and
/// every process of the run is gone.
#[test]
fn cancelling_mid_run_leaves_nothing() {
    for (scenario, sets) in [
        ("pool", &["tasks=12", "max_sleep_ms=4000"][..]),
        ("queue", &["max_delay_ms=5000"][..]),
        ("queue", &["mode=rate", "count=10000000"][..]),
        ("pipe", &["rounds=10000000"][..]),
    ] {
        let args = run_args(scenario, &["--json"], sets);
        let started = CONLAB.start(&args, &[]);
        // Long enough for the children to be up; the assertions hold whenever it lands.
        std::thread::sleep(Duration::from_millis(600));
        kill(Pid::from_raw(started.pid as i32), Signal::SIGTERM).expect("signal conlab");
        let o = started.finish(CONLAB.deadline, &format!("cancelled {args:?}"));
        let r = o.json();
        assert_eq!(o.code, Some(1), "a cancelled run exits 1: {r:#}");
        assert_eq!(r["cancelled"], true, "{r:#}");
        assert!(
            r["processes"].as_array().unwrap().len() >= 2,
            "children were up: {r:#}"
        );
        assert_nothing_left(&r);
    }
}
