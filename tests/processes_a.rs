//! Headless runs of the first process scenarios — `fork`, `process`, `subprocess` — asserting
//! what their lessons claim: fork returns in two processes that know each other; a spawned
//! child runs the named function and its exit (code or signal) reaches the parent; an external
//! command's exit, output and input round-trip, with no deadlock, and timeouts and cancels end
//! it. After every run, no process of it is left: not running, not a zombie.
//!
//! Two views of a run are used: the runner's event stream (`conlab run <id> --events`), where
//! every line names the process that wrote it, and the headless report (`--json`).
//!
//! This test process makes itself a child subreaper: anything a run orphans is reparented here
//! instead of to PID 1 (which on some machines never reaps), so it is found, reported as a
//! leftover, and reaped.

mod common;

use common::{Conlab, Orphans, Outcome, Stat, all_pids, children_of, cmdline, int, run_args, stat};
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::time::{Duration, Instant};

/// Bound for one run (they take milliseconds; a hang must fail the test, not the CI job). The
/// conlab processes the tests start are registered as this process's only legitimate children.
const CONLAB: Conlab = Conlab {
    deadline: Duration::from_secs(30),
    orphans: Orphans::Adopted,
};
/// Bound for processes to disappear once a run has ended.
const GONE: Duration = Duration::from_secs(3);

// ---------------------------------------------------------------------------------------
// /proc

/// Children of this process that no test started: orphans of a run, reparented here.
fn orphans_here(since: u64) -> Vec<i32> {
    common::adopted_children()
        .into_iter()
        .filter(|(_, s)| s.start >= since)
        .map(|(p, _)| p)
        .collect()
}

/// Waits (bounded) until `pids` are gone from /proc — not running, not zombies — and no
/// orphan of the run has come to this process. A PID that now belongs to a process started
/// before `since` is not the run's. Orphans are reaped after being reported.
fn assert_gone(what: &str, pids: &[i32], since: u64) {
    let deadline = Instant::now() + GONE;
    loop {
        let mut candidates = pids.to_vec();
        candidates.extend(orphans_here(since));
        let left: Vec<(i32, Stat)> = candidates
            .iter()
            .filter_map(|p| Some((*p, stat(*p)?)))
            .filter(|(_, s)| s.start >= since)
            .collect();
        if left.is_empty() {
            return;
        }
        if Instant::now() > deadline {
            let me = std::process::id() as i32;
            let text: Vec<String> = left
                .iter()
                .map(|(p, s)| {
                    format!(
                        "pid {p} state {} ppid {} `{}`",
                        s.state,
                        s.ppid,
                        cmdline(*p)
                    )
                })
                .collect();
            for (p, s) in &left {
                if s.ppid == me {
                    common::kill_and_reap(*p, s);
                }
            }
            panic!("{what}: processes of the run were left behind: {text:#?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Processes started since `since` whose command line is exactly `line`.
fn processes_running(line: &str, since: u64) -> Vec<i32> {
    all_pids()
        .into_iter()
        .filter(|p| stat(*p).is_some_and(|s| s.start >= since) && cmdline(*p) == line)
        .collect()
}

// ---------------------------------------------------------------------------------------
// Running conlab

/// `conlab run <scenario> --json --set ...`: the report, after checking nothing of the run
/// is left.
fn report(scenario: &str, sets: &[&str]) -> (Value, Outcome) {
    let args = run_args(scenario, &["--json"], sets);
    let outcome = CONLAB.invoke(&args);
    let report = outcome.json();
    assert!(!outcome.stderr.contains("panicked"), "{}", outcome.stderr);
    let pids: Vec<i32> = report["processes"]
        .as_array()
        .expect("processes")
        .iter()
        .map(|p| p["pid"].as_i64().unwrap() as i32)
        .collect();
    assert_gone(&format!("{args:?}"), &pids, outcome.since);
    (report, outcome)
}

/// The event stream of `conlab run <scenario> --events --set ...` (this process is the
/// runner's parent), after checking nothing of the run is left.
struct Events {
    runner: u32,
    code: Option<i32>,
    events: Vec<Value>,
}

impl Events {
    fn of(scenario: &str, sets: &[&str]) -> Events {
        let args = run_args(scenario, &["--events"], sets);
        let outcome = CONLAB.invoke(&args);
        let events: Vec<Value> = BufReader::new(outcome.stdout.as_bytes())
            .lines()
            .map(|l| {
                let l = l.unwrap();
                serde_json::from_str(&l).unwrap_or_else(|e| panic!("not an event ({e}): {l}"))
            })
            .collect();
        assert!(!outcome.stderr.contains("panicked"), "{}", outcome.stderr);
        let mut pids: Vec<i32> = events
            .iter()
            .map(|e| e["pid"].as_i64().unwrap() as i32)
            .collect();
        pids.dedup();
        assert_gone(&format!("{args:?}"), &pids, outcome.since);
        Events {
            runner: outcome.pid,
            code: outcome.code,
            events,
        }
    }

    fn of_kind<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = &'a Value> + 'a {
        self.events.iter().filter(move |e| e["kind"] == kind)
    }

    /// `(pid, ppid)` of every process that announced itself as `role`.
    fn with_role(&self, role: &str) -> Vec<(i64, i64)> {
        self.of_kind("process")
            .filter(|e| e["role"] == role)
            .map(|e| (e["pid"].as_i64().unwrap(), e["ppid"].as_i64().unwrap()))
            .collect()
    }

    /// The log lines written by process `pid`.
    fn logs_of(&self, pid: i64) -> Vec<String> {
        self.of_kind("log")
            .filter(|e| e["pid"] == pid)
            .map(|e| e["text"].as_str().unwrap().to_string())
            .collect()
    }

    fn exit_of(&self, pid: i64) -> Option<String> {
        self.of_kind("process_exit")
            .find(|e| e["pid"] == pid)
            .map(|e| e["exit"].as_str().unwrap().to_string())
    }

    /// The runner's own report (the last line).
    fn report(&self) -> &Value {
        let last = self.events.last().expect("events");
        assert_eq!(last["kind"], "report", "the report comes last: {last}");
        &last["report"]
    }

    fn runner_pid(&self) -> i64 {
        let (pid, ppid) = self.with_role("runner")[0];
        assert_eq!(
            ppid,
            i64::from(std::process::id()),
            "the runner's parent is this test"
        );
        assert_eq!(
            pid,
            i64::from(self.runner),
            "--events runs in the process started"
        );
        pid
    }
}

/// Starts a headless run, waits until `ready` holds for the runner's PID, sends SIGTERM to
/// the `conlab run` process (as Ctrl-C or a kill would) and returns the report.
fn cancel_when(scenario: &str, sets: &[&str], ready: impl Fn(i32) -> bool) -> (Value, Outcome) {
    let args = run_args(scenario, &["--json"], sets);
    let started = CONLAB.start(&args, &[]);
    let (pid, since) = (started.pid as i32, started.since);
    let deadline = Instant::now() + CONLAB.deadline;
    loop {
        let runner = children_of(pid).first().copied();
        if runner.is_some_and(&ready) {
            break;
        }
        assert!(Instant::now() < deadline, "{args:?} never got ready");
        std::thread::sleep(Duration::from_millis(10));
    }
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid),
        nix::sys::signal::Signal::SIGTERM,
    )
    .expect("signal conlab");
    let outcome = CONLAB.finish(started, &args);
    let report: Value =
        serde_json::from_str(&outcome.stdout).unwrap_or_else(|e| panic!("{e}: {outcome:?}"));
    assert_eq!(report["cancelled"], true, "{report}");
    let pids: Vec<i32> = report["processes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["pid"].as_i64().unwrap() as i32)
        .collect();
    assert_gone(&format!("cancelled {args:?}"), &pids, since);
    (report, outcome)
}

// ---------------------------------------------------------------------------------------
// fork

#[test]
fn fork_returns_in_a_parent_and_a_child_that_know_each_other() {
    let run = Events::of("fork", &[]);
    assert_eq!(run.code, Some(0));
    let parent = run.runner_pid();
    let children = run.with_role("child");
    assert_eq!(children.len(), 1, "{:#?}", run.events);
    let (child, ppid) = children[0];
    assert_ne!(child, parent, "two processes");
    assert_eq!(ppid, parent, "the child's getppid() is the parent");

    // Each line comes from its own process and names the other.
    let parent_lines = run.logs_of(parent);
    assert!(
        parent_lines.contains(&format!("Process {parent} starts")),
        "{parent_lines:#?}"
    );
    assert!(
        parent_lines.iter().any(
            |l| l.starts_with(&format!("I am {parent}, my child is {child}"))
                && l.contains(&format!("fork() returned {child}"))
        ),
        "{parent_lines:#?}"
    );
    let child_lines = run.logs_of(child);
    assert_eq!(child_lines.len(), 1, "{child_lines:#?}");
    assert!(
        child_lines[0].starts_with(&format!("I am {child}, my parent is {parent}"))
            && child_lines[0].contains("fork() returned 0"),
        "{child_lines:#?}"
    );
    assert_eq!(run.exit_of(child).as_deref(), Some("code 0"));

    let report = run.report();
    assert_eq!(report["ok"], true, "{report}");
    assert_eq!(int(report, "parent_pid"), parent);
    assert_eq!(int(report, "child_0_pid"), child);
    assert_eq!(int(report, "children"), 1);
    assert_eq!(int(report, "threads_at_fork"), 1, "forked single-threaded");
    assert!(
        report["metrics"]["fork_us"].as_f64().unwrap() > 0.0,
        "{report}"
    );
}

#[test]
fn fork_many_children_all_waited_for() {
    let (report, outcome) = report("fork", &["children=4"]);
    assert_eq!(outcome.code, Some(0), "{outcome:?}");
    assert_eq!(report["ok"], true, "{report}");
    let processes = report["processes"].as_array().unwrap();
    let runner = &processes[0];
    assert_eq!(runner["role"], "runner");
    assert_eq!(runner["ppid"].as_i64(), Some(i64::from(outcome.pid)));
    assert_eq!(runner["exit"], "code 0");
    let children: Vec<&Value> = processes.iter().filter(|p| p["role"] == "child").collect();
    assert_eq!(children.len(), 4, "{report}");
    let mut pids: Vec<i64> = children
        .iter()
        .map(|c| c["pid"].as_i64().unwrap())
        .collect();
    for c in &children {
        assert_eq!(c["ppid"], runner["pid"], "{report}");
        assert_eq!(c["exit"], "code 0", "every child was waited for: {report}");
    }
    pids.sort();
    pids.dedup();
    assert_eq!(pids.len(), 4, "four distinct children: {report}");
    for i in 0..4 {
        assert!(pids.contains(&int(&report, &format!("child_{i}_pid"))));
    }
}

#[test]
fn fork_cancelled_ends_the_children_too() {
    let (report, outcome) = cancel_when("fork", &["children=2", "child_ms=30000"], |runner| {
        children_of(runner).len() == 2
    });
    assert!(outcome.took < Duration::from_secs(5), "{outcome:?}");
    for p in report["processes"].as_array().unwrap() {
        assert_eq!(
            p["exit"], "code 0",
            "children end their stay early: {report}"
        );
    }
}

#[test]
fn fork_refuses_bad_counts() {
    for bad in ["children=0", "children=17", "child_ms=-1"] {
        let key = bad.split('=').next().unwrap();
        CONLAB.assert_usage_error(
            &["run", "fork", "--set", bad],
            &[&format!("`{key}`"), "out of range", "an integer from"],
        );
    }
}

// ---------------------------------------------------------------------------------------
// process

#[test]
fn process_runs_the_target_in_a_spawned_child_and_joins_it() {
    let run = Events::of("process", &[]);
    assert_eq!(run.code, Some(0));
    let parent = run.runner_pid();
    let children = run.with_role("child");
    assert_eq!(children.len(), 1, "{:#?}", run.events);
    let (child, ppid) = children[0];
    assert_ne!(child, parent);
    assert_eq!(ppid, parent);
    assert_eq!(
        run.logs_of(child),
        vec![format!("Run child process test ({child})")],
        "the child's own line, from its own process"
    );
    let lines = run.logs_of(parent);
    let will = lines.iter().position(|l| l == "Child process will start.");
    let end = lines
        .iter()
        .position(|l| l == &format!("Child process end: pid {child}, exit code 0"));
    assert!(will.is_some() && end.is_some() && will < end, "{lines:#?}");
    assert_eq!(run.exit_of(child).as_deref(), Some("code 0"));
    let report = run.report();
    assert_eq!(report["ok"], true, "{report}");
    assert_eq!(int(report, "child_pid"), child);
    assert_eq!(int(report, "parent_pid"), parent);
    assert_eq!(int(report, "exitcode"), 0);
    assert!(report["metrics"].get("signal").is_none(), "{report}");
}

#[test]
fn process_arguments_cross_serialized_and_nothing_else_does() {
    let name = r#"it's "quoted" = ok"#;
    let run = Events::of("process", &[&format!("name={name}"), "target=read_global"]);
    let (child, _) = run.with_role("child")[0];
    assert_eq!(
        run.logs_of(child),
        vec![format!(
            "Run child process {name} ({child}): GLOBAL = 0 here"
        )],
        "the argument arrives intact; the parent's GLOBAL = 42 does not"
    );
    assert!(
        run.logs_of(run.runner_pid())
            .contains(&"Parent set GLOBAL = 42 just before start()".to_string())
    );
}

#[test]
fn process_child_exit_code_reaches_the_parent() {
    let (report, outcome) = report("process", &["fail=exit"]);
    assert_eq!(
        outcome.code,
        Some(0),
        "showing a failing child is a good run"
    );
    assert_eq!(report["ok"], true, "{report}");
    assert_eq!(int(&report, "exitcode"), 3);
    let child = &report["processes"][1];
    assert_eq!(child["role"], "child");
    assert_eq!(child["exit"], "code 3", "{report}");
    assert_ne!(child["pid"], report["processes"][0]["pid"]);
}

#[test]
fn process_crashed_child_is_seen_with_its_signal() {
    let (report, outcome) = report("process", &["fail=crash"]);
    assert_eq!(outcome.code, Some(0), "{outcome:?}");
    assert_eq!(report["ok"], true, "{report}");
    let child = &report["processes"][1];
    assert_eq!(child["exit"], "signal 6 (SIGABRT)", "{report}");
    assert_eq!(int(&report, "signal"), 6);
    assert_eq!(
        int(&report, "exitcode"),
        -6,
        "Python's exitcode for a signal"
    );
    assert_eq!(
        report["processes"][0]["exit"], "code 0",
        "only the child died: {report}"
    );
}

#[test]
fn process_cancelled_ends_the_child() {
    let (report, outcome) = cancel_when("process", &["child_ms=30000"], |runner| {
        children_of(runner).len() == 1
    });
    assert!(outcome.took < Duration::from_secs(5), "{outcome:?}");
    assert_eq!(report["processes"].as_array().unwrap().len(), 2, "{report}");
}

#[test]
fn process_refuses_unknown_functions_and_failures() {
    CONLAB.assert_usage_error(
        &["run", "process", "--set", "target=nope"],
        &["`target`", "`nope`", "run_proc", "read_global"],
    );
    CONLAB.assert_usage_error(
        &["run", "process", "--set", "fail=maybe"],
        &["`fail`", "none, exit, crash"],
    );
    // The child's side is not a lesson of its own.
    CONLAB.assert_usage_error(&["run", "process-child"], &["unknown scenario", "process"]);
}

// ---------------------------------------------------------------------------------------
// subprocess

/// The command's PID and the lines it printed (its log events).
fn command_of(run: &Events) -> (i64, Vec<String>) {
    let commands = run.with_role("command");
    assert_eq!(commands.len(), 1, "{:#?}", run.events);
    let (pid, ppid) = commands[0];
    assert_eq!(ppid, run.runner_pid(), "the command is the runner's child");
    assert_ne!(pid, ppid);
    (pid, run.logs_of(pid))
}

#[test]
fn subprocess_call_returns_the_exit_code_and_the_output() {
    let run = Events::of("subprocess", &[]);
    assert_eq!(run.code, Some(0));
    let (pid, lines) = command_of(&run);
    // `$$` in the default command is the shell's PID: the command's own.
    assert_eq!(lines, vec![format!("hello from {pid}")]);
    assert_eq!(run.exit_of(pid).as_deref(), Some("code 0"));
    let report = run.report();
    assert_eq!(report["ok"], true, "{report}");
    assert_eq!(int(report, "returncode"), 0);
    assert_eq!(int(report, "command_pid"), pid);
    assert_eq!(
        int(report, "stdout_bytes"),
        format!("hello from {pid}\n").len() as i64
    );
    assert!(
        report["metrics"].get("stdin_bytes").is_none(),
        "call gives no input"
    );
}

#[test]
fn subprocess_communicate_round_trips_its_input() {
    let run = Events::of(
        "subprocess",
        &["mode=communicate", "cmd=sort", r"input=python\ngo\nrust\n"],
    );
    let (pid, lines) = command_of(&run);
    assert_eq!(lines, ["go", "python", "rust"], "sorted by the command");
    assert_eq!(run.exit_of(pid).as_deref(), Some("code 0"));
    let report = run.report();
    assert_eq!(int(report, "stdin_bytes"), 15);
    assert_eq!(int(report, "stdout_bytes"), 15);
    assert_eq!(int(report, "stdout_lines"), 3);
}

#[test]
fn subprocess_missing_command_is_named() {
    let (report, outcome) = report("subprocess", &["cmd=no-such-command-for-conlab --flag"]);
    assert_eq!(outcome.code, Some(1), "{outcome:?}");
    assert_eq!(report["ok"], false);
    assert_eq!(
        report["error"], "command not found: no-such-command-for-conlab",
        "{report}"
    );
    assert_eq!(
        report["processes"].as_array().unwrap().len(),
        1,
        "no command process ever existed: {report}"
    );
}

#[test]
fn subprocess_non_zero_exit_is_shown_not_an_error() {
    let run = Events::of("subprocess", &["cmd=sh -c 'echo oops >&2; exit 3'"]);
    assert_eq!(run.code, Some(0));
    let (pid, lines) = command_of(&run);
    assert_eq!(lines, ["(stderr) oops"]);
    assert_eq!(run.exit_of(pid).as_deref(), Some("code 3"));
    let report = run.report();
    assert_eq!(report["ok"], true, "{report}");
    assert_eq!(int(report, "returncode"), 3);
    assert_eq!(int(report, "stderr_bytes"), 5);
}

#[test]
fn subprocess_killed_by_a_signal_is_shown_with_it() {
    let (report, outcome) = report("subprocess", &["cmd=sh -c 'kill -9 $$'"]);
    assert_eq!(outcome.code, Some(0), "{outcome:?}");
    let command = &report["processes"][1];
    assert_eq!(command["role"], "command");
    assert_eq!(command["exit"], "signal 9 (SIGKILL)", "{report}");
    assert_eq!(int(&report, "signal"), 9);
    assert_eq!(int(&report, "returncode"), -9);
}

#[test]
fn subprocess_output_larger_than_the_pipe_does_not_deadlock() {
    // 1 MiB on stderr first, then 1 MiB on stdout: a parent that read stdout to its end
    // before looking at stderr would wait forever for a command blocked on a full stderr.
    let (report, outcome) = report(
        "subprocess",
        &["cmd=sh -c 'head -c 1048576 /dev/zero >&2; head -c 1048576 /dev/zero'"],
    );
    assert_eq!(outcome.code, Some(0), "{outcome:?}");
    assert_eq!(int(&report, "returncode"), 0);
    assert_eq!(int(&report, "stdout_bytes"), 1 << 20);
    assert_eq!(int(&report, "stderr_bytes"), 1 << 20);
    assert!(int(&report, "pipe_buffer_bytes") < 1 << 20, "{report}");
    assert!(
        report["notes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n.as_str().unwrap().contains("× the pipe buffer")),
        "{report}"
    );
}

#[test]
fn subprocess_timeout_kills_the_command_and_what_it_started() {
    // The shell's child `sleep` is what Python's timeout would leave running.
    let (report, outcome) = report(
        "subprocess",
        &["cmd=sh -c 'sleep 31.25; echo never'", "timeout_ms=300"],
    );
    assert!(
        outcome.took < Duration::from_secs(3),
        "a 300 ms timeout took {:?}",
        outcome.took
    );
    assert_eq!(outcome.code, Some(1), "a timed-out run failed: {outcome:?}");
    assert_eq!(report["ok"], false);
    assert_eq!(int(&report, "timed_out"), 1);
    assert_eq!(
        report["processes"][1]["exit"], "signal 9 (SIGKILL)",
        "{report}"
    );
    let first = report["notes"][0].as_str().unwrap();
    assert!(first.starts_with("timed out after 300 ms"), "{report}");
    assert_eq!(
        processes_running("sleep 31.25", outcome.since),
        Vec::<i32>::new()
    );
}

#[test]
fn subprocess_plain_timeout() {
    let (report, outcome) = report("subprocess", &["cmd=sleep 5", "timeout_ms=300"]);
    assert!(outcome.took < Duration::from_secs(3), "{:?}", outcome.took);
    assert_eq!(int(&report, "timed_out"), 1);
    assert!(report["metrics"]["duration_ms"].as_f64().unwrap() >= 300.0);
}

#[test]
fn subprocess_background_leftovers_are_ended() {
    let (report, outcome) = report("subprocess", &["cmd=sh -c 'sleep 32.25 & echo started'"]);
    assert_eq!(outcome.code, Some(0), "{outcome:?}");
    assert_eq!(int(&report, "returncode"), 0);
    assert!(
        report["notes"].as_array().unwrap().iter().any(|n| n
            .as_str()
            .unwrap()
            .starts_with("killed and reaped 1 process ")),
        "{report}"
    );
    assert_eq!(
        processes_running("sleep 32.25", outcome.since),
        Vec::<i32>::new()
    );
}

#[test]
fn subprocess_cancelled_ends_the_command() {
    let (report, outcome) = cancel_when("subprocess", &["cmd=sleep 33.25"], |runner| {
        children_of(runner)
            .iter()
            .any(|c| cmdline(*c) == "sleep 33.25")
    });
    assert!(outcome.took < Duration::from_secs(5), "{outcome:?}");
    let command = &report["processes"][1];
    assert_eq!(command["role"], "command", "{report}");
    assert!(
        command["exit"].as_str().unwrap().starts_with("signal "),
        "{report}"
    );
    assert_eq!(
        processes_running("sleep 33.25", outcome.since),
        Vec::<i32>::new()
    );
}

#[test]
fn subprocess_refuses_bad_input() {
    CONLAB.assert_usage_error(
        &["run", "subprocess", "--set", "cmd="],
        &["`cmd`: empty", "a command line"],
    );
    // Quotes make a word, but no program has an empty name: refused before any run, not a
    // run that fails with "command not found: " and nothing after it.
    for blank in ["cmd=''", "cmd=\"\"", "cmd='' -r", "cmd=' ' x"] {
        CONLAB.assert_usage_error(
            &["run", "subprocess", "--set", blank],
            &["`cmd`: the program's name is blank", "a command line"],
        );
    }
    CONLAB.assert_usage_error(
        &["run", "subprocess", "--set", "cmd=sh -c 'echo"],
        &["`cmd`", "single quote", "a command line"],
    );
    CONLAB.assert_usage_error(
        &["run", "subprocess", "--set", "timeout_ms=5"],
        &["`timeout_ms`", "an integer from 10 to 600000"],
    );
    CONLAB.assert_usage_error(
        &["run", "subprocess", "--set", "timeout_ms=600001"],
        &["`timeout_ms`", "an integer from 10 to 600000"],
    );
    CONLAB.assert_usage_error(
        &["run", "subprocess", "--set", "mode=run"],
        &["`mode`", "call, communicate"],
    );
}
