//! The distributed scenario, headless, one fault at a time: whatever goes wrong, every task's
//! result arrives exactly once (at-least-once delivery, deduplicated by task id), the master
//! goes on, and the report counts what happened.

mod common;

use common::{Conlab, Orphans, int, run_args};
use conlab::event::{Body, Event};
use conlab::i18n::Lang;
use conlab::metrics::Metrics;
use conlab::panels::timeline::{self, Timeline};
use conlab::panels::{Figures, PanelState};
use conlab::params::Params;
use conlab::scenarios::{Panel, TimelineSpec};
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
    CONLAB.run_refused(
        "distributed",
        &["fault=kill-worker", "workers=1"],
        "at least 2 local workers",
    );
}

/// The tutorial's BaseManager timed on the same work, beside ours; without python3, the
/// message names the backends that need none.
#[test]
fn python_backend_times_basemanager_on_the_same_tasks() {
    let (r, outcome) =
        CONLAB.run_json("distributed", &["backend=python", "tasks=300", "work_ms=0"]);
    if !common::python3_on_path() {
        common::assert_run_error(&r, &outcome, "backend=embedded");
        return;
    }
    outcome.assert_success("distributed backend=python");
    assert_eq!(int(&r, "results"), 300, "{r}");
    assert!(common::float(&r, "tasks_per_sec") > 0.0, "{r}");
    let note = r["notes"][0].as_str().unwrap_or_default();
    assert!(note.contains("BaseManager"), "{r}");
}

fn spec() -> TimelineSpec {
    match conlab::scenarios::find("distributed").unwrap().panel() {
        Panel::Timeline(spec) => spec,
        other => panic!("{other:?}"),
    }
}

/// A run's events (`--events` output), as the dashboard reads them, through the scenario's
/// Timeline; and the runner's PID (the first process to announce itself).
fn timeline_of(stdout: &str) -> (Timeline, u32) {
    let spec = spec();
    let mut state = PanelState::new(Panel::Timeline(spec));
    let mut runner = None;
    for line in stdout.lines() {
        let Ok(event) = Event::decode(line.as_bytes()) else {
            continue;
        };
        if let Body::Process { .. } = event.body {
            runner.get_or_insert(event.pid);
        }
        state.observe(Panel::Timeline(spec), &event);
    }
    match state {
        PanelState::Timeline(t) => (t, runner.expect("the runner announced itself")),
        other => panic!("{other:?}"),
    }
}

/// The scenario panel's lines for a finished run, `width` wide with `room` rows.
fn panel_text(t: &Timeline, params: &Params, width: u16, room: u16) -> Vec<String> {
    let metrics = Metrics::default();
    let figures = Figures {
        params,
        metrics: &metrics,
        live: &metrics,
        done: true,
        active: false,
        t_ms: t.latest_ms(),
    };
    timeline::lines(Some((&figures, t)), &spec(), width, room, Lang::En)
        .iter()
        .map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect())
        .collect()
}

fn params() -> Params {
    Params::defaults(conlab::scenarios::find("distributed").unwrap().params)
}

/// `conlab worker --connect` from another terminal (another machine, as far as the master
/// knows: it did not start it, and sees none of its events) gets a lane with its tasks, and
/// a row in the workers' table: PID, where it joined from, tasks done.
#[test]
fn a_worker_from_elsewhere_has_a_lane_and_a_row_in_the_workers_table() {
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .to_string();
    let bind = format!("bind={addr}");
    let key = [(conlab::dist::handshake::KEY_VAR, "a key for this test")];
    let sets = [
        "workers=1",
        bind.as_str(),
        "tasks=10",
        "work_ms=300",
        "lease_ms=2000",
    ];
    let args = run_args("distributed", &["--events"], &sets);
    let runner = CONLAB.start(&args, &key);
    let worker = ["worker", "--connect", &addr];
    let remote = CONLAB.start(&worker, &key);
    let remote_pid = remote.pid;
    let ran = CONLAB.finish(runner, &args);
    let worked = CONLAB.finish(remote, &worker);
    ran.assert_success("the run with a worker from elsewhere");
    worked.assert_success("conlab worker");
    let (t, _) = timeline_of(&ran.stdout);
    assert!(t.lanes.contains(&remote_pid), "{:?}", t.lanes);
    assert_eq!(t.lanes.len(), 2, "{:?}", t.lanes);
    let from = t.origins.get(&remote_pid).expect("where it joined from");
    assert!(from.starts_with("accepted 127.0.0.1:"), "{from}");
    let done = t
        .items
        .values()
        .filter(|i| i.lane == Some(remote_pid) && i.end_ms.is_some())
        .count();
    assert!(
        done >= 1,
        "no task of the worker from elsewhere on its lane"
    );
    let text = panel_text(&t, &params(), 100, 40);
    let lane = format!("{remote_pid:>7} ");
    assert!(
        text.iter().any(|l| l.starts_with(&lane) && l.contains('█')),
        "{text:#?}"
    );
    let row = text
        .iter()
        .find(|l| l.starts_with(&format!("{lane}accepted 127.0.0.1:")))
        .unwrap_or_else(|| panic!("no table row: {text:#?}"));
    assert!(
        row.split_whitespace().any(|w| w == done.to_string()),
        "{row}"
    );
    // At 80x24 the panel has no room for the table: the chart keeps its rows.
    let small = panel_text(&t, &params(), 78, 9);
    assert!(small.len() <= 9, "{small:#?}");
}

/// A lease lost is marked on the lane of the worker that lost it; a refused handshake, which
/// no worker lane is for, on the master's row.
#[test]
fn lease_lost_marks_go_on_the_workers_lane_and_refusals_on_the_masters_row() {
    let sets = [
        "fault=kill-worker",
        "tasks=10",
        "work_ms=300",
        "lease_ms=1000",
    ];
    let args = run_args("distributed", &["--events"], &sets);
    let ran = CONLAB.invoke(&args);
    ran.assert_success("kill-worker");
    let (t, runner) = timeline_of(&ran.stdout);
    let lost: Vec<_> = t
        .marks
        .iter()
        .filter(|(_, _, name)| name.contains("left holding task"))
        .collect();
    assert!(!lost.is_empty(), "{:?}", t.marks);
    for (lane, _, _) in &lost {
        assert!(t.lanes.contains(lane) && *lane != runner, "{lost:?}");
    }

    let sets = ["fault=wrong-key", "tasks=4", "work_ms=100", "lease_ms=1000"];
    let args = run_args("distributed", &["--events"], &sets);
    let ran = CONLAB.invoke(&args);
    ran.assert_success("wrong-key");
    let (t, runner) = timeline_of(&ran.stdout);
    assert!(
        t.marks
            .iter()
            .any(|(p, _, name)| *p == runner && name.starts_with("refused: wrong key")),
        "{:?}",
        t.marks
    );
    let text = panel_text(&t, &params(), 100, 40);
    assert!(
        text.iter()
            .any(|l| l.trim_start().starts_with("runner ") && l.contains('◆')),
        "{text:#?}"
    );
}
