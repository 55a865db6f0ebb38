//! Every scenario can be cancelled at any moment — while it starts its children, mid-run,
//! while it waits for them to end — and still reports: `ok: false`, `cancelled: true`, what it
//! had done, within the grace period the runner gets before it is killed. Nothing it started
//! is left behind.

mod common;

use common::{Conlab, MARK_VAR, Orphans, assert_none_marked, new_mark, run_args, wait_marked};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use std::time::{Duration, Instant};

const CONLAB: Conlab = Conlab {
    deadline: Duration::from_secs(60),
    orphans: Orphans::Reaped,
};

/// When the cancel comes, after everything the run is to start at first has started: at
/// once (children still starting), a little later, and well into the run (or its waiting).
const MOMENTS: [Duration; 3] = [
    Duration::ZERO,
    Duration::from_millis(400),
    Duration::from_millis(1500),
];

/// The longest a cancelled run may take to end: the runner's grace before SIGKILL (0.8 s), on
/// a loaded 2-core machine.
const ENDS_WITHIN: Duration = Duration::from_secs(6);

/// Runs `scenario` with `sets` and cancels it (SIGINT, as Ctrl-C) at each of [`MOMENTS`]
/// after at least `processes` processes of the run exist (the CLI counts as one).
fn cancel_at_every_moment(scenario: &str, sets: &[&str], processes: usize) {
    for moment in MOMENTS {
        let what = format!("{scenario} {sets:?} cancelled {moment:?} in");
        let mark = new_mark("cancel");
        let args = run_args(scenario, &["--json"], sets);
        let started = CONLAB.start(&args, &[(MARK_VAR, &mark)]);
        wait_marked(&mark, processes, Duration::from_secs(30), &what);
        std::thread::sleep(moment);
        let sent = Instant::now();
        kill(Pid::from_raw(started.pid as i32), Signal::SIGINT).expect("SIGINT");
        let outcome = CONLAB.finish(started, &args);
        let took = sent.elapsed();
        outcome.assert_no_panic(&what);
        let report = outcome.json();
        assert_eq!(outcome.code, Some(1), "{what}: exit code, {outcome:?}");
        assert_eq!(report["cancelled"], true, "{what}: {report}");
        assert_eq!(report["ok"], false, "{what}: {report}");
        assert!(
            report["error"].is_null(),
            "{what}: the scenario did not end on its own: {report}"
        );
        assert!(
            report["wall_ms"].as_f64().is_some_and(|w| w > 0.0),
            "{what}: {report}"
        );
        assert!(
            took < ENDS_WITHIN,
            "{what}: took {took:?} to end after the cancel"
        );
        let runner = &report["processes"][0];
        assert_eq!(runner["role"], "runner", "{what}: {report}");
        assert_eq!(runner["exit"], "code 0", "{what}: {report}");
        assert_none_marked(&mark, Duration::from_secs(10), &what);
    }
}

#[test]
fn fork_while_forking_and_while_waiting() {
    cancel_at_every_moment("fork", &["children=16", "child_ms=3000"], 3);
}

#[test]
fn process_while_the_child_works() {
    cancel_at_every_moment("process", &["child_ms=10000"], 3);
}

#[test]
fn pool_while_tasks_run_and_wait() {
    cancel_at_every_moment("pool", &["size=8", "tasks=40", "max_sleep_ms=2000"], 2);
}

#[test]
fn subprocess_while_the_command_runs() {
    cancel_at_every_moment("subprocess", &["cmd=sleep 30", "timeout_ms=600000"], 3);
}

#[test]
fn queue_items_while_the_writer_pauses() {
    let items = "items=A,B,C,D,E,F,G,H,I,J,K,L,M,N,O,P";
    cancel_at_every_moment("queue", &[items, "max_delay_ms=1000"], 2);
}

#[test]
fn queue_rate_while_items_stream() {
    cancel_at_every_moment("queue", &["mode=rate", "count=10000000"], 2);
}

#[test]
fn pipe_while_it_ping_pongs() {
    cancel_at_every_moment("pipe", &["rounds=10000000", "pinned_rounds=1000000"], 2);
}

#[test]
fn threads_while_they_count() {
    cancel_at_every_moment("threads", &["threads=16", "count=1000", "delay_ms=100"], 2);
}

#[test]
fn lock_in_every_mode() {
    for mode in [
        "mode=nolock",
        "mode=lock",
        "mode=atomic",
        "mode=ordered",
        "mode=trylock",
    ] {
        cancel_at_every_moment("lock", &[mode, "iterations=2000000000"], 2);
    }
}

/// Deadlocked threads cannot be woken: the run reports without them, and they end with it.
#[test]
fn lock_deadlocked_and_while_python_runs() {
    cancel_at_every_moment("lock", &["mode=deadlock"], 2);
    cancel_at_every_moment("lock", &["mode=python"], 2);
}

#[test]
fn multicore_threads_and_gil() {
    for mode in ["mode=threads", "mode=gil"] {
        cancel_at_every_moment("multicore", &[mode, "seconds=60"], 2);
    }
}

/// The case that lost its report: the runner was still starting 256 workers.
#[test]
fn multicore_processes_while_starting_hundreds() {
    cancel_at_every_moment(
        "multicore",
        &["mode=processes", "workers=256", "seconds=30"],
        3,
    );
}

#[test]
fn thread_local_in_both_modes() {
    for mode in ["mode=tls", "mode=global-map"] {
        cancel_at_every_moment("thread-local", &[mode, "lookups=1000000000"], 2);
    }
}

#[test]
fn async_io_in_every_mode_while_connections_talk() {
    let mut modes = vec!["mode=threads", "mode=loop", "mode=loop-per-core"];
    if common::python3_on_path() {
        modes.push("mode=python");
    }
    for mode in modes {
        // The runner, its server and its load generator, besides the CLI.
        cancel_at_every_moment(
            "async-io",
            &[mode, "connections=1000", "requests=100000"],
            4,
        );
    }
}

#[test]
fn costs_while_it_measures() {
    cancel_at_every_moment("costs", &["mode=thorough"], 2);
}

/// Worker processes, one of which crashes early and is replaced: the cancel finds the master
/// handing tasks to the replacement, or still starting the workers.
#[test]
fn master_worker_processes_while_a_replacement_works() {
    cancel_at_every_moment(
        "master-worker",
        &["mode=processes", "tasks=200", "task_ms=300", "crash_task=1"],
        6,
    );
}

#[test]
fn master_worker_threads_while_they_take_tasks() {
    cancel_at_every_moment(
        "master-worker",
        &["mode=threads", "tasks=200", "task_ms=300", "crash=none"],
        2,
    );
}

#[test]
fn switching_as_threads_and_as_processes() {
    cancel_at_every_moment("switching", &["mode=threads", "work_ms=2000"], 2);
    // The runner, the parent of the point's tasks, and its first task.
    cancel_at_every_moment("switching", &["mode=processes", "work_ms=2000"], 4);
}

#[test]
fn cpu_vs_io_in_threads_and_in_python() {
    cancel_at_every_moment("cpu-vs-io", &["mode=threads", "point_ms=10000"], 2);
    if common::python3_on_path() {
        cancel_at_every_moment("cpu-vs-io", &["mode=python", "point_ms=10000"], 3);
    }
}

/// The master serving two workers, one of them stopped mid-task or killed, or a client
/// trickling its handshake: the cancel finds them all and leaves nothing behind.
#[test]
fn distributed_while_workers_hold_tasks() {
    for fault in ["fault=none", "fault=stop-worker", "fault=slow-client"] {
        // The runner and its two workers, besides the CLI.
        cancel_at_every_moment("distributed", &[fault, "tasks=100", "work_ms=500"], 4);
    }
}
