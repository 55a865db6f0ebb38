//! The tutorial's code, corrected (`assets/python/tutorial/`), run with python3 as a reader
//! would run it: each program exits 0, within a bounded time, and prints what its lesson says it
//! prints. Output goes to a pipe with `PYTHONUNBUFFERED` unset, where Python buffers it — the
//! case in which the tutorial's fork example printed a line twice. Whatever a program starts is
//! gone when it ends.

mod common;

use common::{MARK_VAR, assert_none_marked, new_mark, spawn_registered};
use std::process::{Command, Stdio};
use std::time::Duration;

/// The slowest program (`pool.py`: two random sleeps of up to 3 s in a row) with room for a
/// loaded 2-core machine.
const DEADLINE: Duration = Duration::from_secs(60);

/// Whether `python3` can be found on this process's PATH.
fn python3_on_path() -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::env::var_os("PATH").is_some_and(|path| {
        std::env::split_paths(&path).any(|dir| {
            std::fs::metadata(dir.join("python3"))
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
    })
}

/// Runs `assets/python/tutorial/<program>` with its stdin a pipe this test holds open, checks it
/// exits 0 leaving nothing behind, and returns its output lines; `None` without python3.
fn run(program: &str) -> Option<Vec<String>> {
    if !python3_on_path() {
        println!("python3 is not on the PATH: {program} cannot be run here");
        return None;
    }
    let path = format!(
        "{}/assets/python/tutorial/{program}",
        env!("CARGO_MANIFEST_DIR")
    );
    let mark = new_mark(program);
    let mut command = Command::new("python3");
    command
        .arg(&path)
        .env_remove("PYTHONUNBUFFERED")
        .env(MARK_VAR, &mark)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let outcome = spawn_registered(&mut command).finish(DEADLINE, program);
    assert_eq!(
        outcome.code,
        Some(0),
        "python3 {program}:\n{}\n{}",
        outcome.stdout,
        outcome.stderr
    );
    assert!(outcome.stderr.is_empty(), "{program}: {}", outcome.stderr);
    assert_none_marked(&mark, Duration::from_secs(5), program);
    Some(outcome.stdout.lines().map(str::to_string).collect())
}

fn position(lines: &[String], wanted: impl Fn(&str) -> bool, what: &str) -> usize {
    lines
        .iter()
        .position(|l| wanted(l))
        .unwrap_or_else(|| panic!("no line {what}: {lines:#?}"))
}

fn count(lines: &[String], wanted: impl Fn(&str) -> bool) -> usize {
    lines.iter().filter(|l| wanted(l)).count()
}

#[test]
fn fork_prints_its_first_line_once_and_reaps_its_child() {
    let Some(lines) = run("fork.py") else { return };
    assert_eq!(count(&lines, |l| l.ends_with(" start")), 1, "{lines:#?}");
    let parent = lines[0]
        .strip_prefix("process ")
        .and_then(|l| l.strip_suffix(" start"))
        .unwrap_or_else(|| panic!("{lines:#?}"));
    let child_line = position(&lines, |l| l.starts_with("this is child process"), "child");
    assert!(
        lines[child_line].ends_with(&format!("the parent process is {parent}")),
        "{lines:#?}"
    );
    position(
        &lines,
        |l| l.starts_with("this is parent process"),
        "parent",
    );
    assert!(
        lines.last().unwrap().ends_with(" exited with code 0"),
        "{lines:#?}"
    );
}

#[test]
fn process_runs_run_proc_test_and_a_fork_child_sees_what_a_spawn_child_does_not() {
    let Some(lines) = run("process.py") else {
        return;
    };
    position(
        &lines,
        |l| l.starts_with("run child process test "),
        "run_proc('test')",
    );
    position(&lines, |l| l == "child process end, exit code 0", "end");
    let method = position(
        &lines,
        |l| l.starts_with("default start method: "),
        "method",
    );
    let default = &lines[method]["default start method: ".len()..];
    assert!(
        ["fork", "spawn", "forkserver"].contains(&default),
        "{lines:#?}"
    );
    assert_eq!(
        lines[method + 1..],
        [
            "fork: the child sees GLOBAL = 42",
            "spawn: the child sees GLOBAL = 0"
        ],
        "{lines:#?}"
    );
}

#[test]
fn pool_of_four_starts_task_4_only_after_a_task_finished() {
    let Some(lines) = run("pool.py") else { return };
    for task in 0..5 {
        position(
            &lines,
            |l| l.starts_with(&format!("run task {task} ")),
            "run",
        );
        position(
            &lines,
            |l| l.starts_with(&format!("finish task {task} ")),
            "finish",
        );
    }
    let first_finish = position(&lines, |l| l.starts_with("finish task "), "finish");
    let task_4 = position(&lines, |l| l.starts_with("run task 4 "), "run task 4");
    assert!(first_finish < task_4, "task 4 did not wait: {lines:#?}");
    assert_eq!(lines.last().unwrap(), "all subprocess done", "{lines:#?}");
}

#[test]
fn subprocess_call_passes_on_stdin_and_communicate_sorts() {
    let Some(lines) = run("subprocess_call.py") else {
        return;
    };
    assert_eq!(lines[0], "$ readlink /proc/self/fd/0", "{lines:#?}");
    // The child got this test's pipe as its stdin; with DEVNULL, /dev/null.
    assert!(lines[1].starts_with("pipe:["), "{lines:#?}");
    assert_eq!(
        lines[2..],
        [
            "exit code: 0",
            "/dev/null",
            "exit code: 0",
            "$ sort",
            "exit",
            "set q=mx",
            "www.google.com",
            "exit code: 0"
        ],
        "{lines:#?}"
    );
}

#[test]
fn queue_reader_gets_a_b_c_in_order_and_dies_of_sigterm() {
    let Some(lines) = run("queue_ipc.py") else {
        return;
    };
    let got: Vec<&str> = lines
        .iter()
        .filter_map(|l| l.strip_prefix("get ")?.strip_suffix(" from queue"))
        .collect();
    assert_eq!(got, ["A", "B", "C"], "{lines:#?}");
    assert_eq!(lines.last().unwrap(), "reader exit code: -15", "{lines:#?}");
}

#[test]
fn pipe_times_a_thousand_round_trips() {
    let Some(lines) = run("pipe_ipc.py") else {
        return;
    };
    assert_eq!(lines.len(), 1, "{lines:#?}");
    let rest = lines[0]
        .strip_prefix("round trips: 1000, median ")
        .and_then(|l| l.strip_suffix(" us, pong exit code 0"))
        .unwrap_or_else(|| panic!("{lines:#?}"));
    let median: f64 = rest.parse().unwrap_or_else(|_| panic!("{lines:#?}"));
    assert!(median > 0.0, "{lines:#?}");
}

#[test]
fn threads_names_the_unnamed_thread_after_its_target() {
    let Some(lines) = run("threads.py") else {
        return;
    };
    assert_eq!(lines[0], "thread MainThread is running", "{lines:#?}");
    assert_eq!(
        lines.last().unwrap(),
        "thread MainThread ended",
        "{lines:#?}"
    );
    // Two threads print at once: a line may be cut into by the other's, so look for the words.
    let all = lines.join("\n");
    for name in ["thread-01", "Thread-1 (thr)"] {
        for n in 1..=5 {
            assert!(all.contains(&format!("thread {name} >>> {n}")), "{all}");
        }
        assert!(all.contains(&format!("thread {name} ended")), "{all}");
    }
}

#[test]
fn multicore_measures_threads_on_about_one_core() {
    let Some(lines) = run("multicore.py") else {
        return;
    };
    assert_eq!(lines.len(), 2, "{lines:#?}");
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let used = |kind: &str, line: &str| -> f64 {
        line.strip_prefix(&format!("{kind}: {cores} busy loops kept "))
            .and_then(|l| l.strip_suffix(" cores busy"))
            .and_then(|l| l.parse().ok())
            .unwrap_or_else(|| panic!("{lines:#?}"))
    };
    // The GIL lets one thread run at a time, however idle the other cores are. How many the
    // processes get depends on what else runs: the program says, the test does not assume.
    let threads = used("threads", &lines[0]);
    assert!(threads > 0.0 && threads <= 1.3, "{lines:#?}");
    assert!(used("processes", &lines[1]) > 0.0, "{lines:#?}");
}

#[test]
fn thread_local_finds_aaron_in_thread_a_and_ss_in_thread_b_both_ways() {
    let Some(lines) = run("thread_local.py") else {
        return;
    };
    let mut first: Vec<&str> = lines[..2].iter().map(String::as_str).collect();
    let mut then: Vec<&str> = lines[2..].iter().map(String::as_str).collect();
    first.sort_unstable();
    then.sort_unstable();
    assert_eq!(
        first,
        [
            "aaron in Thread-A (global_dict)",
            "ss in Thread-B (global_dict)"
        ],
        "{lines:#?}"
    );
    assert_eq!(then, ["aaron in Thread-A", "ss in Thread-B"], "{lines:#?}");
}

/// Whether something on this machine listens on TCP `port` (state 0A in /proc/net/tcp),
/// found without connecting, which the manager would take for a client.
fn listening(port: u16) -> bool {
    let table = std::fs::read_to_string("/proc/net/tcp").unwrap_or_default();
    let wanted = format!(":{port:04X}");
    table.lines().skip(1).any(|row| {
        let cols: Vec<&str> = row.split_whitespace().collect();
        cols.get(1).is_some_and(|local| local.ends_with(&wanted)) && cols.get(3) == Some(&"0A")
    })
}

/// The distributed section's two programs, run against each other as the tutorial runs them
/// (with the worker's second of work cut short): every number put is squared and comes back.
#[test]
fn task_master_and_task_worker_pass_ten_tasks_through_the_manager() {
    if !python3_on_path() {
        println!("python3 is not on the PATH: task_master.py cannot be run here");
        return;
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
        .to_string();
    let dir = format!("{}/assets/python/tutorial", env!("CARGO_MANIFEST_DIR"));
    let mark = new_mark("task_master");
    let program = |name: &str| {
        let mut command = Command::new("python3");
        command
            .arg(format!("{dir}/{name}"))
            .env("TASK_MASTER_PORT", &port)
            .env("TASK_SECONDS", "0.05")
            .env(MARK_VAR, &mark)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        spawn_registered(&mut command)
    };
    let master = program("task_master.py");
    let until = std::time::Instant::now() + Duration::from_secs(20);
    while !listening(port.parse().unwrap()) {
        assert!(
            std::time::Instant::now() < until,
            "task_master.py never listened on {port}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let worker = program("task_worker.py").finish(DEADLINE, "task_worker.py");
    let master = master.finish(DEADLINE, "task_master.py");
    for (name, outcome) in [("task_worker.py", &worker), ("task_master.py", &master)] {
        assert_eq!(
            outcome.code,
            Some(0),
            "{name}:\n{}\n{}",
            outcome.stdout,
            outcome.stderr
        );
    }
    let put: Vec<i64> = master
        .stdout
        .lines()
        .filter_map(|l| {
            l.strip_prefix("Put task ")?
                .strip_suffix("...")?
                .parse()
                .ok()
        })
        .collect();
    let mut got: Vec<String> = master
        .stdout
        .lines()
        .filter_map(|l| Some(l.strip_prefix("Result: ")?.to_string()))
        .collect();
    let mut expected: Vec<String> = put
        .iter()
        .map(|n| format!("{n} * {n} = {}", n * n))
        .collect();
    got.sort();
    expected.sort();
    assert_eq!(put.len(), 10, "{}", master.stdout);
    assert_eq!(got, expected, "{}", master.stdout);
    assert!(
        master.stdout.ends_with("master exit.\n"),
        "{}",
        master.stdout
    );
    assert_eq!(
        count(
            &worker
                .stdout
                .lines()
                .map(str::to_string)
                .collect::<Vec<_>>(),
            |l| l.starts_with("run task")
        ),
        10
    );
    assert_none_marked(&mark, Duration::from_secs(5), "task_master.py");
}
