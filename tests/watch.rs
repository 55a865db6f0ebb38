//! `conlab watch`: any program, followed whole. A program that forks, starts threads and
//! exits non-zero is seen with every process and thread and how each ended; `--pid` attaches
//! read-only and leaves the process running; a missing command is bad usage; nothing the
//! program starts outlives the watch, however it detaches.

mod common;

use common::programs::{FORKS_AND_THREADS, comm_of, python3};
use common::pty::{EXIT, LONG, serial};
use common::{Conlab, MARK_VAR, Orphans, assert_none_marked, int, new_mark, wait_marked};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use serde_json::Value;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const CONLAB: Conlab = Conlab {
    deadline: Duration::from_secs(60),
    orphans: Orphans::Reaped,
};

/// Each process's role and exit, in the order they were seen.
fn exits(report: &Value) -> Vec<(String, String)> {
    report["processes"]
        .as_array()
        .expect("processes")
        .iter()
        .map(|p| {
            (
                p["role"].as_str().unwrap_or("?").to_string(),
                p["exit"].as_str().unwrap_or("?").to_string(),
            )
        })
        .collect()
}

#[test]
fn a_program_that_forks_and_starts_threads_is_seen_whole() {
    let Some(python) = python3() else {
        println!("python3 is not here: the threads of a program cannot be shown with it");
        return;
    };
    let outcome = CONLAB.invoke(&["watch", "--json", "--", &python, "-c", FORKS_AND_THREADS]);
    outcome.assert_no_panic("watch python3");
    let report = outcome.json();
    assert_eq!(
        outcome.code,
        Some(3),
        "the program's exit code: {outcome:?}"
    );
    assert_eq!(int(&report, "exit_code"), 3, "{report}");
    assert_eq!(int(&report, "processes_seen"), 4, "{report}");
    // 3 + 1 + 1 threads started, and the 4 main threads.
    assert_eq!(int(&report, "threads_seen"), 9, "{report}");
    assert_eq!(int(&report, "left_running"), 0, "{report}");
    let mut seen = exits(&report);
    seen.sort();
    let role = comm_of(&python);
    let want = |exit: &str| (role.clone(), exit.to_string());
    assert_eq!(
        seen,
        [
            want("code 3"),
            want("code 5"),
            want("code 6"),
            want("signal 15 (SIGTERM)")
        ],
        "{report}"
    );
    assert!(outcome.stderr.contains("forked and joined"), "{outcome:?}");
    for figure in ["wall_ms", "cpu_user_ms", "cpu_system_ms", "peak_rss_kib"] {
        assert!(common::float(&report, figure) > 0.0, "{figure}: {report}");
    }
    assert!(int(&report, "voluntary_switches") > 0, "{report}");
}

#[test]
fn every_exit_of_a_shell_is_seen_without_python() {
    // The inner shells are children of the outer one, which waits for them, not conlab.
    let script = r#"sh -c 'exit 7'; sh -c 'kill -9 $$'; exit 4"#;
    let outcome = CONLAB.invoke(&["watch", "--json", "--", "sh", "-c", script]);
    let report = outcome.json();
    assert_eq!(outcome.code, Some(4), "{outcome:?}");
    assert_eq!(
        exits(&report),
        [
            ("sh".to_string(), "code 4".to_string()),
            ("sh".to_string(), "code 7".to_string()),
            ("sh".to_string(), "signal 9 (SIGKILL)".to_string()),
        ],
        "{report}"
    );
    assert_eq!(int(&report, "threads_seen"), 3, "{report}");
}

#[test]
fn a_process_that_execs_takes_its_new_programs_name() {
    let outcome = CONLAB.invoke(&["watch", "--json", "--", "sh", "-c", "exec sleep 0"]);
    let report = outcome.json();
    assert_eq!(
        exits(&report),
        [("sleep".to_string(), "code 0".to_string())],
        "one process, named after what it runs now: {report}"
    );
    assert_eq!(int(&report, "processes_seen"), 1, "{report}");
}

#[test]
fn a_program_killed_by_a_signal_exits_128_plus_it() {
    let outcome = CONLAB.invoke(&["watch", "--json", "--", "sh", "-c", "kill -SEGV $$"]);
    assert_eq!(outcome.code, Some(128 + 11), "{outcome:?}");
    assert_eq!(int(&outcome.json(), "exit_signal"), 11);
}

#[test]
fn a_missing_command_is_bad_usage() {
    CONLAB.assert_usage_error(
        &["watch", "--json", "--", "no-such-program-here", "-x"],
        &["no-such-program-here", "no such program", "PATH"],
    );
    CONLAB.assert_usage_error(
        &["watch", "--json", "--", "./not/a/program"],
        &["./not/a/program", "no such program"],
    );
    CONLAB.assert_usage_error(&["watch", "--json"], &["conlab watch -- CMD", "--pid"]);
    CONLAB.assert_usage_error(&["watch", "--", "true"], &["needs a terminal", "--json"]);
    CONLAB.assert_usage_error(&["watch", "--pid", "999999999"], &["999999999"]);
    CONLAB.assert_usage_error(&["watch", "--pid", "1", "--", "true"], &["not both"]);
}

/// Starts `sleep 30` as this test's own child.
fn sleeper() -> std::process::Child {
    Command::new("sleep")
        .arg("30")
        .stdin(Stdio::null())
        .spawn()
        .expect("start sleep")
}

fn state(pid: u32) -> Option<char> {
    common::stat(pid as i32).map(|s| s.state)
}

#[test]
fn attached_read_only_the_process_is_left_running() {
    let _serial = serial();
    let mut sleep = sleeper();
    let pid = sleep.id().to_string();
    let args = ["watch", "--json", "--pid", &pid];
    let started = CONLAB.start(&args, &[]);
    // The sampler has seen it once it publishes its live figures; a second is plenty.
    std::thread::sleep(Duration::from_millis(1000));
    kill(Pid::from_raw(started.pid as i32), Signal::SIGINT).expect("interrupt conlab");
    let outcome = CONLAB.finish(started, &args);
    let alive = state(sleep.id());
    let _ = sleep.kill();
    let _ = sleep.wait();
    assert!(
        matches!(alive, Some('S' | 'R')),
        "the attached process must still run, not {alive:?}"
    );
    let report = outcome.json();
    assert_eq!(outcome.code, Some(0), "{outcome:?}");
    assert_eq!(
        exits(&report),
        [("sleep".to_string(), "still running".to_string())],
        "{report}"
    );
    assert_eq!(int(&report, "processes_seen"), 1, "{report}");
    assert_eq!(int(&report, "left_running"), 1, "{report}");
    assert!(
        !common::has_metric(&report, "exit_code"),
        "it never ended: {report}"
    );
}

/// A shell that burned CPU before conlab attached and then only waits: the summary counts
/// what it used while watched, not its whole life.
#[test]
fn attached_the_cpu_counts_from_the_moment_of_attaching() {
    let _serial = serial();
    use std::os::unix::process::CommandExt;
    let mut busy = Command::new("sh")
        .args([
            "-c",
            "i=0; while [ $i -lt 100000000 ]; do i=$((i+1)); [ -e /tmp/.conlab-stop-$$ ] && break; done; sleep 30",
        ])
        .stdin(Stdio::null())
        .process_group(0)
        .spawn()
        .expect("start sh");
    let stop = format!("/tmp/.conlab-stop-{}", busy.id());
    // Half a second of CPU (in clock ticks) before it is told to stop and wait.
    let deadline = Instant::now() + LONG;
    let before_ticks = loop {
        let ticks = common::stat(busy.id() as i32).map_or(0, |s| s.cpu_ticks);
        if ticks >= 50 || Instant::now() > deadline {
            break ticks;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    std::fs::write(&stop, "").expect("stop file");
    while state(busy.id()) != Some('S') && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let pid = busy.id().to_string();
    let args = ["watch", "--json", "--pid", &pid];
    let started = CONLAB.start(&args, &[]);
    std::thread::sleep(Duration::from_millis(1000));
    kill(Pid::from_raw(started.pid as i32), Signal::SIGINT).expect("interrupt conlab");
    let outcome = CONLAB.finish(started, &args);
    let _ = nix::sys::signal::killpg(Pid::from_raw(busy.id() as i32), Signal::SIGKILL);
    let _ = busy.wait();
    let _ = std::fs::remove_file(&stop);
    assert!(
        before_ticks >= 50,
        "the shell never got busy: {before_ticks} ticks"
    );
    let report = outcome.json();
    let cpu_ms = report["metrics"]["cpu_ms"].as_f64().expect("cpu_ms");
    assert!(
        cpu_ms < 200.0,
        "{before_ticks} ticks were used before attaching; while watched it only waited, \
         yet cpu_ms = {cpu_ms}: {report}"
    );
}

#[test]
fn attached_the_exit_is_read_from_the_zombie() {
    // This test, its parent, waits for it only after conlab has seen it end.
    // Registered, so no other test takes its zombie for an orphan and reaps it first.
    let mut command = Command::new("sh");
    command
        .args(["-c", "sleep 0.5; exit 4"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let shell = common::spawn_registered(&mut command);
    let pid = shell.pid.to_string();
    let outcome = CONLAB.invoke(&["watch", "--json", "--pid", &pid]);
    shell.finish(EXIT, "the shell attached to");
    let report = outcome.json();
    assert_eq!(outcome.code, Some(4), "{outcome:?}");
    let roles = exits(&report);
    assert_eq!(
        roles[0],
        ("sh".to_string(), "code 4".to_string()),
        "{report}"
    );
    // `sleep` is the shell's to reap: seen, and its status only if it was caught a zombie.
    assert!(
        roles[1..].iter().all(|(role, exit)| role == "sleep"
            && ["ended, status not seen", "code 0"].contains(&exit.as_str())),
        "{report}"
    );
}

/// A shell that leaves one sleep in a new session, one double-forked, and waits on a third.
const DETACHING: &str = "setsid sleep 1012 & (sleep 1014 &); sleep 1008; true";

fn headless_watch_ends_everything_on(signal: Signal) {
    let _serial = serial();
    let mark = new_mark("watch");
    let args = ["watch", "--json", "--", "sh", "-c", DETACHING];
    let started = common::spawn_registered(common::command(&args).env(MARK_VAR, &mark));
    // conlab, its runner, the shell and its three sleeps.
    wait_marked(&mark, 6, LONG, "the detaching command");
    kill(Pid::from_raw(started.pid as i32), signal).expect("signal conlab watch");
    let outcome = started.finish(EXIT, "conlab watch, signalled");
    if signal != Signal::SIGKILL {
        let report = outcome.json();
        assert_eq!(report["cancelled"], true, "{report}");
        // The shell ended on the cancel's SIGTERM.
        assert_eq!(outcome.code, Some(128 + 15), "{outcome:?}");
        // The shell, its three sleeps, and the subshell that double-forked one of them.
        assert_eq!(int(&report, "processes_seen"), 5, "{report}");
    }
    assert_none_marked(&mark, EXIT, &format!("conlab watch, then {signal}"));
}

#[test]
fn an_interrupted_watch_leaves_nothing() {
    headless_watch_ends_everything_on(Signal::SIGINT);
}

#[test]
fn a_killed_watch_leaves_nothing() {
    headless_watch_ends_everything_on(Signal::SIGKILL);
}

#[test]
fn what_the_program_leaves_running_is_ended_with_it() {
    let _serial = serial();
    let mark = new_mark("watch-left");
    let args = [
        "watch",
        "--json",
        "--",
        "sh",
        "-c",
        "(setsid sleep 1016 &); exit 0",
    ];
    let begun = Instant::now();
    let started = common::spawn_registered(common::command(&args).env(MARK_VAR, &mark));
    let outcome = started.finish(EXIT, "conlab watch of a detaching shell");
    let report = outcome.json();
    assert_eq!(outcome.code, Some(0), "{outcome:?}");
    assert!(
        begun.elapsed() < Duration::from_secs(100),
        "it did not wait for the sleep"
    );
    assert_eq!(int(&report, "left_running"), 1, "{report}");
    // The shell, the subshell that forked and left, and what it left: `setsid`, or `sleep`
    // if it had exec'd by then, killed.
    let left = exits(&report);
    assert_eq!(left.len(), 3, "{report}");
    assert_eq!(left[2].1, "signal 9 (SIGKILL)", "{report}");
    assert_none_marked(&mark, EXIT, "conlab watch of a detaching shell");
}

#[test]
fn what_a_launcher_ran_comes_after_the_programs_own_processes() {
    use conlab::app::{App, Effect, Msg};
    use conlab::runner::{RunnerMsg, RunnerUpdate};
    // A launcher as a pyenv shim is one: a shell that runs short programs, then execs the
    // program, which starts a process of its own.
    let command = r#"sh -c "/bin/true; /bin/true; exec bash -c 'sleep 0.2 & wait'""#;
    let assignment = format!("command={command}");
    let args = common::run_args("watch", &["--events"], &[&assignment]);
    let outcome = CONLAB.invoke(&args);
    outcome.assert_success("the watch runner");

    let mut app = App::new((120, 40), 500);
    let params = conlab::params::Params::from_assignments(
        conlab::scenarios::watch::WATCH.params,
        &[assignment.as_str()],
    )
    .unwrap();
    let effects = app.start_watch(params);
    let [Effect::Start(run)] = effects[..] else {
        panic!("{effects:?}");
    };
    app.runner_started(run, outcome.pid);
    let mut joiner = conlab::event::Reassembler::default();
    for line in outcome.stdout.lines() {
        if let Some(event) = joiner.feed_line(line.as_bytes()).expect("an event") {
            let msg = RunnerMsg::Event(event);
            app.update(Msg::Runner(RunnerUpdate { run, msg }));
        }
    }
    let roles: Vec<&str> = app.processes.rows.iter().map(|r| r.role.as_str()).collect();
    assert_eq!(
        roles,
        ["bash", "sleep", "true", "true"],
        "the program and its child first, what the launcher ran after"
    );
}

/// A watch's report and what its observer saw of the program's tree, as the event loop passes
/// them on: a zombie of 1.5 s. The watch panel shows the insight under the summary, whole when
/// the panel has the rows for it, else its title, and then the border counts it; `r` reads the
/// whole report.
#[test]
fn the_watch_panel_shows_a_watched_programs_insights() {
    use common::view::{draw, event, exited, rows, runner_up};
    use conlab::app::{App, Msg};
    use conlab::event::Body;
    use conlab::insights::observed::{Observed, TreeSamples, Zombie};
    use conlab::runner::{RunnerMsg, RunnerUpdate};

    let screen = |width: u16, height: u16, notes: usize| {
        let mut app = App::new((width, height), 500);
        let params = conlab::watch::command_params(&[
            "sh".into(),
            "-c".into(),
            "sleep 0 & exec sleep 2".into(),
        ])
        .unwrap();
        let effects = app.start_watch(params.clone());
        let [conlab::app::Effect::Start(run)] = effects[..] else {
            panic!("{effects:?}");
        };
        runner_up(&mut app, run, 4242);
        let report = conlab::report::Report {
            scenario: "watch".into(),
            params: params.to_json(),
            ok: true,
            wall_ms: 2003.0,
            notes: (0..notes)
                .map(|n| format!("sleep (PID {}) ended with code 0 after 2.00 s", 4250 + n))
                .collect(),
            ..conlab::report::Report::default()
        };
        let report = Box::new(report);
        event(&mut app, run, 2003.0, 4242, Body::Report { report });
        let tree = TreeSamples {
            samples: 8,
            longest_zombie: Some(Zombie {
                pid: 4251,
                ms: 1500.0,
            }),
            ..TreeSamples::default()
        };
        let observed = Observed {
            cores: 2,
            wall_ms: 2003.0,
            tree,
            ..Observed::default()
        };
        let msg = RunnerMsg::Observed(Box::new(observed));
        app.update(Msg::Runner(RunnerUpdate { run, msg }));
        exited(&mut app, run, "code 0");
        app
    };
    let text = |app: &App, width: u16, height: u16| {
        rows(draw(app, width, height).backend().buffer()).join("\n")
    };

    let roomy = text(&screen(120, 40, 1), 120, 40);
    assert!(
        roomy.contains("! process 4251 stayed a zombie for 1.5 s"),
        "the sentence under the summary:\n{roomy}"
    );
    assert!(!roomy.contains("1 insights"), "{roomy}");
    let ended = roomy.find("ended with code 0").expect("the summary");
    assert!(ended < roomy.find("stayed a zombie").unwrap(), "{roomy}");

    // A summary of ten lines leaves the panel at 80x24 one row: no room for the sentence.
    let mut app = screen(80, 24, 10);
    let cramped = text(&app, 80, 24);
    assert!(
        cramped.contains("insights: a child not reaped") && cramped.contains("! 1 insights"),
        "the title, and the count on the border:\n{cramped}"
    );
    // `r` reads the watch's whole report, the insight in full.
    common::view::press(&mut app, crossterm::event::KeyCode::Char('r'));
    assert_eq!(app.key_context(), conlab::keymap::Context::Report);
    let report = text(&app, 80, 24);
    assert!(
        report.contains("Report: watch · run #1") && report.contains("stayed a zombie for 1.5 s"),
        "{report}"
    );
}

/// `conlab watch --json -- ARGS`, after checking nothing the program started outlived it.
fn watched(args: &[&str]) -> Value {
    let mark = new_mark("watch-insights");
    let mut all = vec!["watch", "--json", "--"];
    all.extend_from_slice(args);
    let outcome = CONLAB.invoke_env(&all, &[(MARK_VAR, mark.as_str())]);
    outcome.assert_no_panic("watch");
    assert_none_marked(&mark, EXIT, "a watched program");
    outcome.json()
}

/// The ids of the insights a watch's report carries.
fn insights(report: &Value) -> Vec<String> {
    report["warnings"]
        .as_array()
        .map(|ws| {
            ws.iter()
                .map(|w| w["id"].as_str().unwrap_or("?").into())
                .collect()
        })
        .unwrap_or_default()
}

/// A shell whose child exits at once while the shell, having exec'd `sleep`, never waits for
/// it: a zombie for about 2 s, named in `--json` with its PID and how long it lasted.
#[test]
fn a_watched_program_that_leaves_a_zombie_is_told_so() {
    let _serial = serial();
    let report = watched(&["sh", "-c", "sleep 0 & exec sleep 2"]);
    let warning = report["warnings"]
        .as_array()
        .and_then(|ws| ws.iter().find(|w| w["id"] == "child_not_reaped"))
        .unwrap_or_else(|| panic!("no child_not_reaped: {report}"));
    let child = report["processes"]
        .as_array()
        .and_then(|ps| ps.get(1))
        .unwrap_or_else(|| panic!("the child: {report}"));
    assert_eq!(warning["figures"]["zombie_pid"], child["pid"], "{report}");
    let ms = warning["figures"]["zombie_ms"].as_f64().unwrap_or_default();
    assert!((1000.0..=2500.0).contains(&ms), "{report}");
    let text = warning["text"].as_str().unwrap_or_default();
    assert!(
        text.contains(&format!("process {} stayed a zombie", child["pid"])),
        "{text}"
    );
}

/// A shell that sleeps a second waits once: nothing about cores or waiting is worth saying.
/// `true` is over in milliseconds: nothing at all.
#[test]
fn a_sleeping_or_quiet_program_gets_no_insight() {
    let _serial = serial();
    let sleeps = watched(&["sh", "-c", "sleep 1"]);
    for id in insights(&sleeps) {
        assert_eq!(id, "other_load", "{sleeps}");
    }
    let quiet = watched(&["true"]);
    assert_eq!(insights(&quiet), Vec::<String>::new(), "{quiet}");
}

/// python3 sleeping a millisecond a thousand times: a thousand waits a second, hardly any CPU.
#[test]
fn a_watched_program_that_mostly_waits_is_io_bound() {
    let Some(python) = python3() else {
        println!("python3 is not here: a program that waits is written in it");
        return;
    };
    let _serial = serial();
    let waits = "import time\nfor _ in range(1000): time.sleep(0.001)";
    let report = watched(&[&python, "-c", waits]);
    assert!(
        insights(&report).contains(&"io_bound".to_string()),
        "{report}"
    );
}

/// Starts `command` (registered: this test waits for it), attaches `conlab watch --json --pid`
/// once `ready` says the program is, and, after `end_after`, SIGKILLs it (without one, it
/// ends by itself): the watch ends with it. The watch's report.
fn attached_to(
    mut command: Command,
    ready: impl Fn(u32) -> bool,
    end_after: Option<Duration>,
) -> Value {
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let program = common::spawn_registered(&mut command);
    let deadline = Instant::now() + LONG;
    while !ready(program.pid) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let pid = program.pid.to_string();
    let args = ["watch", "--json", "--pid", &pid];
    let started = CONLAB.start(&args, &[]);
    if let Some(end_after) = end_after {
        std::thread::sleep(end_after);
        kill(Pid::from_raw(program.pid as i32), Signal::SIGKILL).expect("end the program");
    }
    let outcome = CONLAB.finish(started, &args);
    program.finish(EXIT, "the program attached to");
    outcome.assert_no_panic("watch --pid");
    outcome.json()
}

fn shell(script: &str) -> Command {
    let mut command = Command::new("sh");
    command.args(["-c", script]);
    command
}

fn python(python: &str, script: &str) -> Command {
    let mut command = Command::new(python);
    command.args(["-c", script]);
    command
}

fn at_once(_: u32) -> bool {
    true
}

fn threads_of(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/task")).map_or(0, |tasks| tasks.count())
}

/// The warning `id` of a report, if it fired.
fn warning<'a>(report: &'a Value, id: &str) -> Option<&'a Value> {
    report["warnings"]
        .as_array()
        .and_then(|ws| ws.iter().find(|w| w["id"] == id))
}

/// The lints that judge cores by what the run used.
const BUSY_LINTS: [&str; 2] = ["gil_bound", "oversubscribed"];

/// Attached to a running process: the observer follows its tree too, though it is no
/// descendant of conlab's, so a zombie it leaves is told; and the CPU it burns is its own,
/// not another program's load: what the machine had beside it is all other programs may
/// have taken (its CPU is not counted twice), and a loop of one thread is no GIL's.
#[test]
fn attached_a_zombie_is_told_and_the_programs_own_cpu_is_not_other_load() {
    let _serial = serial();
    let zombie = attached_to(shell("sleep 0 & exec sleep 2"), at_once, None);
    assert!(
        insights(&zombie).contains(&"child_not_reaped".to_string()),
        "{zombie}"
    );

    let busy = attached_to(
        shell("while :; do :; done"),
        at_once,
        Some(Duration::from_millis(1500)),
    );
    // Another build on the machine may take cores meanwhile: that, and only that, is said.
    for id in insights(&busy) {
        assert_eq!(id, "other_load", "{busy}");
    }
    if let Some(load) = warning(&busy, "other_load") {
        let metric = |name: &str| busy["metrics"][name].as_f64().unwrap_or_default();
        let own = metric("cpu_ms") / metric("wall_ms").max(1.0);
        let others = load["figures"]["others_cores"].as_f64().unwrap_or_default();
        let cores = load["figures"]["cores"].as_f64().unwrap_or_default();
        assert!(others <= cores - own + 0.3, "own {own:.2} cores: {busy}");
    }
}

/// python3 with 4 threads counting, attached while they count: they keep about one core
/// busy, whatever the machine has, and `gil_bound` says so of the attached program.
#[test]
fn attached_python_threads_counting_are_gil_bound() {
    let Some(python3) = python3() else {
        println!("python3 is not here: threads behind a GIL are written in it");
        return;
    };
    let _serial = serial();
    let counting = "import threading, time\n\
        def count():\n    n = 0\n    while True: n += 1\n\
        for _ in range(4): threading.Thread(target=count, daemon=True).start()\n\
        time.sleep(60)";
    let report = attached_to(
        python(&python3, counting),
        |pid| threads_of(pid) >= 5,
        Some(Duration::from_millis(2000)),
    );
    let gil = warning(&report, "gil_bound").unwrap_or_else(|| panic!("no gil_bound: {report}"));
    println!("gil_bound: {}", gil["figures"]);
    assert_eq!(gil["figures"]["threads"], 5, "{report}");
    // Its threads sleep waiting for the GIL, not for IO.
    assert!(warning(&report, "io_bound").is_none(), "{report}");
}

/// python3 sleeping a millisecond in a loop, attached: a thousand waits a second, hardly any
/// CPU, and `io_bound` says so of the attached program.
#[test]
fn attached_a_program_that_mostly_waits_is_io_bound() {
    let Some(python3) = python3() else {
        println!("python3 is not here: a program that waits is written in it");
        return;
    };
    let _serial = serial();
    let waits = "import time\nend = time.time() + 60\nwhile time.time() < end: time.sleep(0.001)";
    let report = attached_to(
        python(&python3, waits),
        |pid| state(pid) == Some('S'),
        Some(Duration::from_millis(1500)),
    );
    let io = warning(&report, "io_bound").unwrap_or_else(|| panic!("no io_bound: {report}"));
    println!("io_bound: {}", io["figures"]);
    for id in BUSY_LINTS {
        assert!(warning(&report, id).is_none(), "{report}");
    }
}

/// python3 busy for a second of CPU before conlab attaches, then sleeping a millisecond in a
/// loop: what it burned before is set aside, so the attached program waits (`io_bound`, with
/// hardly any CPU) and no lint says it was busy.
#[test]
fn attached_a_program_busy_only_before_attaching_is_not_judged_busy() {
    let Some(python3) = python3() else {
        println!("python3 is not here: a program that waits is written in it");
        return;
    };
    let _serial = serial();
    let flag = std::env::temp_dir().join(format!("conlab-busy-before-{}", std::process::id()));
    let _ = std::fs::remove_file(&flag);
    let busy_then_waits = "import sys, time\n\
        start = time.process_time()\n\
        while time.process_time() - start < 1.0: pass\n\
        open(sys.argv[1], 'w').close()\n\
        end = time.time() + 60\n\
        while time.time() < end: time.sleep(0.001)";
    let mut command = python(&python3, busy_then_waits);
    command.arg(&flag);
    let report = attached_to(
        command,
        |_| flag.exists(),
        Some(Duration::from_millis(1500)),
    );
    let _ = std::fs::remove_file(&flag);
    let io = warning(&report, "io_bound").unwrap_or_else(|| panic!("no io_bound: {report}"));
    let used = io["figures"]["cores_used"].as_f64().unwrap_or(f64::MAX);
    assert!(used < 0.3, "the busy second was before attaching: {report}");
    for id in BUSY_LINTS {
        assert!(warning(&report, id).is_none(), "{report}");
    }
}
