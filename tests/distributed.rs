//! The distributed scenario, headless, one fault at a time: whatever goes wrong, every task's
//! result arrives exactly once (at-least-once delivery, deduplicated by task id), the master
//! goes on, and the report counts what happened.

mod common;

use common::{Conlab, Orphans, int};
use serde_json::Value;
use std::time::Duration;

const CONLAB: Conlab = Conlab {
    deadline: Duration::from_secs(60),
    orphans: Orphans::Reaped,
};

/// Short tasks and a short lease keep each run to a few seconds; 10 tasks as the tutorial.
fn run(fault: &str) -> Value {
    let fault = format!("fault={fault}");
    let sets = [
        fault.as_str(),
        "tasks=10",
        "workers=2",
        "work_ms=300",
        "lease_ms=1000",
    ];
    let (report, outcome) = CONLAB.run_json("distributed", &sets);
    outcome.assert_success(&format!("distributed {sets:?}"));
    assert_eq!(report["ok"], true, "{report}");
    assert_eq!(int(&report, "results"), 10, "{report}");
    assert_eq!(int(&report, "results_correct"), 10, "{report}");
    assert_eq!(int(&report, "dead_letters"), 0, "{report}");
    report
}

/// The exits of the run's processes with `role`.
fn exits(report: &Value, role: &str) -> Vec<String> {
    report["processes"]
        .as_array()
        .expect("processes")
        .iter()
        .filter(|p| p["role"] == role)
        .map(|p| p["exit"].as_str().unwrap_or("running").to_string())
        .collect()
}

#[test]
fn without_a_fault_every_result_arrives_once_and_nothing_is_retried() {
    let r = run("none");
    for name in [
        "duplicates_dropped",
        "leases_expired",
        "leases_lost",
        "tasks_retried",
        "handshakes_refused",
    ] {
        assert_eq!(int(&r, name), 0, "{name}: {r}");
    }
    assert_eq!(int(&r, "handshakes_accepted"), 2, "{r}");
    assert_eq!(exits(&r, "worker"), ["code 0", "code 0"], "{r}");
}

#[test]
fn a_worker_killed_mid_task_loses_its_lease_and_the_task_is_done_elsewhere() {
    let r = run("kill-worker");
    assert!(int(&r, "leases_lost") >= 1, "{r}");
    assert!(int(&r, "tasks_retried") >= 1, "{r}");
    let victim = int(&r, "fault_pid");
    let killed = r["processes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["pid"] == victim)
        .expect("the victim is a process of the run");
    assert_eq!(killed["exit"], "signal 9 (SIGKILL)", "{r}");
}

#[test]
fn a_stopped_worker_loses_its_lease_and_its_late_result_is_dropped() {
    let r = run("stop-worker");
    assert!(int(&r, "leases_expired") >= 1, "{r}");
    assert!(int(&r, "tasks_retried") >= 1, "{r}");
    // Let go at the end, it sends the result another worker already sent.
    assert!(int(&r, "duplicates_dropped") >= 1, "{r}");
    assert_eq!(exits(&r, "worker"), ["code 0", "code 0"], "{r}");
}

#[test]
fn a_worker_with_the_wrong_key_is_refused_and_takes_nothing() {
    let r = run("wrong-key");
    assert_eq!(int(&r, "refused_wrong_key"), 1, "{r}");
    assert_eq!(int(&r, "handshakes_accepted"), 2, "{r}");
    assert_eq!(exits(&r, "intruder"), ["code 1"], "{r}");
}

#[test]
fn junk_and_oversize_frames_are_refused_and_the_workers_never_notice() {
    let r = run("garbage");
    assert_eq!(int(&r, "refused_oversize"), 2, "{r}");
    assert_eq!(int(&r, "refused_garbage"), 1, "{r}");
    assert_eq!(int(&r, "tasks_retried"), 0, "{r}");
}

#[test]
fn a_client_sending_a_byte_a_second_runs_out_of_time_alone() {
    let r = run("slow-client");
    assert_eq!(int(&r, "handshakes_timed_out"), 1, "{r}");
    assert_eq!(int(&r, "tasks_retried"), 0, "{r}");
}

#[test]
fn killing_the_only_worker_is_refused_with_the_reason() {
    let (r, outcome) = CONLAB.run_json("distributed", &["fault=kill-worker", "workers=1"]);
    assert_eq!(outcome.code, Some(1), "{outcome:?}");
    assert!(
        r["error"]
            .as_str()
            .is_some_and(|e| e.contains("at least 2 local workers")),
        "{r}"
    );
}

/// The tutorial's BaseManager timed on the same work, beside ours; without python3, the
/// message names the backends that need none.
#[test]
fn python_backend_times_basemanager_on_the_same_tasks() {
    let (r, outcome) =
        CONLAB.run_json("distributed", &["backend=python", "tasks=300", "work_ms=0"]);
    if !common::python3_on_path() {
        assert_eq!(outcome.code, Some(1), "{outcome:?}");
        assert!(
            r["error"]
                .as_str()
                .is_some_and(|e| e.contains("backend=embedded")),
            "{r}"
        );
        return;
    }
    outcome.assert_success("distributed backend=python");
    assert_eq!(int(&r, "results"), 300, "{r}");
    assert!(common::float(&r, "tasks_per_sec") > 0.0, "{r}");
    let note = r["notes"][0].as_str().unwrap_or_default();
    assert!(note.contains("BaseManager"), "{r}");
}
