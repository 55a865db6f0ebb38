//! The master-worker scenario, headless: a crashing worker process dies alone and every task
//! still completes on a replacement; an abort in a worker thread ends the whole runner, which
//! is reported dead by its signal with the last live figures it published; a Rust panic ends
//! only its thread and loses only its task. A crash on purpose leaves no core file, even where
//! the user allows them.

mod common;

use common::{Conlab, Orphans, int, run_args, spawn_registered};
use serde_json::Value;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::time::Duration;

const CONLAB: Conlab = Conlab {
    deadline: Duration::from_secs(60),
    orphans: Orphans::Reaped,
};

/// The processes of a report with `role`, as (pid, exit).
fn processes(report: &Value, role: &str) -> Vec<(i64, String)> {
    report["processes"]
        .as_array()
        .expect("processes")
        .iter()
        .filter(|p| p["role"] == role)
        .map(|p| {
            let pid = p["pid"].as_i64().expect("pid");
            (pid, p["exit"].as_str().unwrap_or("running").to_string())
        })
        .collect()
}

/// A directory of its own for one test, where a core file would land (the kernel's pattern
/// here is `core`, in the crashing process's working directory); removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(what: &str) -> Scratch {
        let dir = std::env::temp_dir().join(common::new_mark(what));
        std::fs::create_dir_all(&dir).expect("make a directory");
        Scratch(dir)
    }

    fn core_files(&self) -> Vec<String> {
        std::fs::read_dir(&self.0)
            .expect("read the directory")
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter(|name| name.starts_with("core"))
            .collect()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `conlab run master-worker --json --set ...` in `dir`, allowed to dump core there: the soft
/// core limit raised to the hard one, as a user's `ulimit -c unlimited` would.
fn run_allowing_cores(dir: &Scratch, sets: &[&str]) -> (Value, common::Outcome) {
    let args = run_args("master-worker", &["--json"], sets);
    let mut command = common::command(&args);
    command.current_dir(&dir.0);
    // SAFETY: getrlimit and setrlimit are plain system calls, async-signal-safe.
    unsafe {
        command.pre_exec(|| {
            use nix::sys::resource::{Resource, getrlimit, setrlimit};
            let (_, hard) = getrlimit(Resource::RLIMIT_CORE)?;
            setrlimit(Resource::RLIMIT_CORE, hard, hard)?;
            Ok(())
        });
    }
    let outcome = CONLAB.finish(spawn_registered(&mut command), &args);
    (outcome.json(), outcome)
}

#[test]
fn a_crashing_worker_process_dies_alone_and_every_task_completes() {
    let dir = Scratch::new("mw-processes");
    let (report, outcome) = run_allowing_cores(
        &dir,
        &[
            "mode=processes",
            "crash=abort",
            "crash_task=5",
            "task_ms=60",
        ],
    );
    outcome.assert_success("processes, crash=abort");
    assert_eq!(report["ok"], true, "{report}");
    assert_eq!(int(&report, "tasks_done"), 20, "{report}");
    assert_eq!(int(&report, "tasks_lost"), 0, "{report}");
    assert_eq!(int(&report, "tasks_retried"), 1, "{report}");
    assert_eq!(int(&report, "results_wrong"), 0, "{report}");

    let workers = processes(&report, "worker");
    let aborted: Vec<i64> = workers
        .iter()
        .filter(|(_, exit)| exit == "signal 6 (SIGABRT)")
        .map(|(pid, _)| *pid)
        .collect();
    assert_eq!(
        aborted.len(),
        1,
        "exactly one worker died by SIGABRT: {workers:?}"
    );
    assert_eq!(int(&report, "dead_worker_pid"), aborted[0], "{report}");
    assert_eq!(int(&report, "dead_worker_signal"), 6, "{report}");
    assert_eq!(int(&report, "dead_worker_task"), 5, "{report}");
    // Four at the start and one in the dead one's place; all but the dead one ended well.
    assert_eq!(workers.len(), 5, "{workers:?}");
    assert!(
        workers
            .iter()
            .filter(|(pid, _)| *pid != aborted[0])
            .all(|(_, exit)| exit == "code 0"),
        "the other workers never noticed: {workers:?}"
    );
    let replacement = int(&report, "replacement_pid");
    assert!(
        workers.iter().any(|(pid, _)| *pid == replacement) && replacement != aborted[0],
        "the replacement {replacement} is one of the run's workers: {workers:?}"
    );
    assert_eq!(
        workers.last().map(|(pid, _)| *pid),
        Some(replacement),
        "the replacement was started last: {workers:?}"
    );
    assert!(
        int(&report, "worker_4_tasks") >= 1,
        "the replacement ran tasks: {report}"
    );
    let noticed = common::float(&report, "death_noticed_after_ms");
    assert!((0.0..5000.0).contains(&noticed), "{report}");
    assert!(dir.core_files().is_empty(), "{:?}", dir.core_files());
}

#[test]
fn an_abort_in_one_thread_ends_the_whole_runner_and_its_last_figures_are_kept() {
    let dir = Scratch::new("mw-threads-abort");
    // Task 12 crashes halfway through the fourth round: a few live snapshots come before it.
    let (report, outcome) = run_allowing_cores(
        &dir,
        &[
            "mode=threads",
            "crash=abort",
            "crash_task=12",
            "task_ms=100",
        ],
    );
    outcome.assert_no_panic("threads, crash=abort");
    assert_eq!(outcome.code, Some(1), "{outcome:?}");
    assert_eq!(report["ok"], false, "{report}");
    let error = report["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("signal 6 (SIGABRT)") && error.contains("without a report"),
        "the runner is reported dead by SIGABRT: {report}"
    );
    let runner = &report["processes"][0];
    assert_eq!(runner["role"], "runner", "{report}");
    assert_eq!(runner["exit"], "signal 6 (SIGABRT)", "{report}");
    assert_eq!(
        report["processes"].as_array().map(Vec::len),
        Some(1),
        "the workers were threads of the runner, not processes: {report}"
    );
    // What it had done until it died: the last live figures, short of every task.
    let done = int(&report, "tasks_done");
    assert!((1..20).contains(&done), "tasks_done {done}: {report}");
    assert_eq!(int(&report, "tasks"), 20, "{report}");
    let note = report["notes"][0].as_str().unwrap_or_default();
    assert!(
        note.contains("last live figures") && note.contains(&format!("tasks_done {done}")),
        "{report}"
    );
    assert!(dir.core_files().is_empty(), "{:?}", dir.core_files());
}

#[test]
fn a_segfault_in_one_thread_ends_the_runner_by_sigsegv_and_leaves_no_core() {
    let dir = Scratch::new("mw-threads-segv");
    let (report, outcome) = run_allowing_cores(&dir, &["mode=threads", "crash=segv"]);
    assert_eq!(outcome.code, Some(1), "{outcome:?}");
    assert_eq!(
        report["processes"][0]["exit"], "signal 11 (SIGSEGV)",
        "{report}"
    );
    assert!(dir.core_files().is_empty(), "{:?}", dir.core_files());
}

#[test]
fn a_panic_ends_only_its_thread_and_loses_only_its_task() {
    let (report, outcome) = CONLAB.run_json(
        "master-worker",
        &["mode=threads", "crash=panic", "crash_task=5", "task_ms=60"],
    );
    assert_eq!(outcome.code, Some(0), "{outcome:?}");
    assert_eq!(report["ok"], true, "{report}");
    assert_eq!(int(&report, "tasks_lost"), 1, "{report}");
    assert_eq!(int(&report, "tasks_done"), 19, "{report}");
    assert_eq!(int(&report, "workers_died"), 1, "{report}");
    assert_eq!(int(&report, "tasks_retried"), 0, "{report}");
    let runner = &report["processes"][0];
    assert_eq!(runner["exit"], "code 0", "the process lived on: {report}");
    let per_thread: i64 = (0..4)
        .map(|i| int(&report, &format!("worker_{i}_tasks")))
        .sum();
    assert_eq!(per_thread, 19, "{report}");
    // Rust prints the thread's panic as it unwinds it; join() hands the message to the master.
    assert!(
        outcome.stderr.contains("task 5 panics on purpose"),
        "{}",
        outcome.stderr
    );
    let note = report["notes"][0].as_str().unwrap_or_default();
    assert!(
        note.contains("join() returned it") && note.contains("task 5 was lost"),
        "{report}"
    );
}

#[test]
fn a_crash_task_past_the_last_task_is_refused_naming_the_tasks() {
    let (report, outcome) = CONLAB.run_json("master-worker", &["tasks=4", "crash_task=7"]);
    assert_eq!(outcome.code, Some(1), "{outcome:?}");
    let error = report["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("crash_task=7") && error.contains("0..3") && error.contains("crash=none"),
        "{report}"
    );
    // With no crash, any crash_task is fine.
    let (report, outcome) = CONLAB.run_json(
        "master-worker",
        &["tasks=4", "crash_task=7", "crash=none", "task_ms=0"],
    );
    outcome.assert_success("crash=none");
    assert_eq!(int(&report, "tasks_done"), 4, "{report}");
}

#[test]
fn a_crash_that_is_no_choice_is_bad_usage() {
    CONLAB.assert_usage_error(
        &["run", "master-worker", "--set", "crash=explode"],
        &["`crash`", "none", "abort", "segv", "panic", "exit"],
    );
}
