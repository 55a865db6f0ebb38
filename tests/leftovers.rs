//! Nothing a run starts outlives it, on any way the run can end: `s`, quit, Ctrl-C, SIGTERM,
//! SIGHUP, the terminal closing and SIGKILL of the dashboard; SIGINT, SIGTERM, SIGHUP and
//! SIGKILL of the headless `conlab run`. The run's command detaches in every way a program
//! can: a child in a session of its own (`setsid`), a double-forked one (re-parented when its
//! parent exits), and one that stays in place. What outlives the run is found by a marker in
//! the environment, which every descendant inherits, never by name.

mod common;

use common::pty::{CTRL_C, ENTER, EXIT, LONG, Tui, serial};
use common::{MARK_VAR, assert_none_marked, new_mark, wait_marked};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use std::time::Duration;

/// A shell that leaves one sleep in a new session, one double-forked, and waits on a third.
const DETACHING: &str = "sh -c 'setsid sleep 1012 & (sleep 1014 &); sleep 1008; true'";
/// The shell and its three sleeps, below the runner and its parent.
const RUN_PROCESSES: usize = 6;

// ---------------------------------------------------------------------------------------
// Headless

/// Starts `conlab run subprocess` on [`DETACHING`], waits until all of it runs, sends
/// `signal` to the `conlab run` process, and checks that nothing marked survives.
fn headless_run_ends_everything_on(signal: Signal) {
    let _serial = serial();
    let mark = new_mark("headless");
    let cmd = format!("cmd={DETACHING}");
    let args = common::run_args("subprocess", &[], &[&cmd, "timeout_ms=600000"]);
    let started = common::spawn_registered(common::command(&args).env(MARK_VAR, &mark));
    wait_marked(&mark, RUN_PROCESSES, LONG, "the detaching command");
    kill(Pid::from_raw(started.pid as i32), signal).expect("signal conlab run");
    let outcome = started.finish(EXIT, "conlab run, signalled");
    if signal != Signal::SIGKILL {
        // Cancelled: a report that says so, and a failing exit.
        assert_eq!(outcome.code, Some(1), "{outcome:?}");
        assert!(outcome.stdout.contains("cancelled"), "{outcome:?}");
    }
    assert_none_marked(&mark, EXIT, &format!("conlab run, then {signal}"));
}

#[test]
fn headless_sigkill_leaves_nothing() {
    headless_run_ends_everything_on(Signal::SIGKILL);
}

#[test]
fn headless_sigint_leaves_nothing() {
    headless_run_ends_everything_on(Signal::SIGINT);
}

#[test]
fn headless_sigterm_leaves_nothing() {
    headless_run_ends_everything_on(Signal::SIGTERM);
}

#[test]
fn headless_sighup_leaves_nothing() {
    headless_run_ends_everything_on(Signal::SIGHUP);
}

// ---------------------------------------------------------------------------------------
// The dashboard

/// The dashboard on `subprocess`, running [`DETACHING`] with a 10-minute timeout, everything
/// of it started.
fn dashboard_running_the_detaching_command() -> Tui {
    let mut tui = Tui::start("subprocess", 120, 40);
    let cmd = ("cmd", "the program and its arguments");
    tui.set_parameter("subprocess", &[cmd], 60, DETACHING, "setsid sleep 1012");
    tui.set_parameter(
        "subprocess",
        &[
            cmd,
            ("input", "communicate: the text"),
            ("timeout_ms", "how long it may run"),
        ],
        10,
        "600000",
        "timeout_ms=600,000",
    );
    tui.send(ENTER);
    wait_marked(&tui.mark, RUN_PROCESSES, LONG, "the detaching command");
    tui.wait_for("the run to show", |t| t.contains("runner pid"));
    tui
}

#[test]
fn stop_key_leaves_nothing() {
    let _serial = serial();
    let mut tui = dashboard_running_the_detaching_command();
    tui.send("s");
    tui.wait_for("the run to stop", |t| t.contains("■ stopped after"));
    // Only the dashboard itself is left.
    let deadline = std::time::Instant::now() + EXIT;
    while common::marked(&tui.mark).len() > 1 {
        assert!(
            std::time::Instant::now() < deadline,
            "after s, still running: {:?}",
            common::marked(&tui.mark)
                .iter()
                .map(|&p| common::cmdline(p))
                .collect::<Vec<_>>()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    tui.send("q");
    tui.finish(true, false);
}

#[test]
fn quit_key_leaves_nothing() {
    let _serial = serial();
    let mut tui = dashboard_running_the_detaching_command();
    tui.send("q");
    tui.finish(true, false);
}

#[test]
fn ctrl_c_key_leaves_nothing() {
    let _serial = serial();
    let mut tui = dashboard_running_the_detaching_command();
    tui.send(CTRL_C);
    tui.finish(true, false);
}

fn dashboard_signal_leaves_nothing(signal: Signal) {
    let _serial = serial();
    let mut tui = dashboard_running_the_detaching_command();
    kill(Pid::from_raw(tui.pid), signal).expect("signal the dashboard");
    tui.finish(true, false);
}

#[test]
fn dashboard_sigterm_leaves_nothing() {
    dashboard_signal_leaves_nothing(Signal::SIGTERM);
}

#[test]
fn dashboard_sighup_leaves_nothing() {
    dashboard_signal_leaves_nothing(Signal::SIGHUP);
}

#[test]
fn closing_the_terminal_leaves_nothing() {
    let _serial = serial();
    let mut tui = dashboard_running_the_detaching_command();
    tui.close_terminal();
    tui.wait_exit();
    // Its runner may end after it, as an orphan of this process: allowed, and reaped here.
    tui.assert_no_leftovers(true);
}

#[test]
fn dashboard_sigkill_leaves_nothing() {
    let _serial = serial();
    let mut tui = dashboard_running_the_detaching_command();
    kill(Pid::from_raw(tui.pid), Signal::SIGKILL).expect("SIGKILL the dashboard");
    let status = tui.wait_exit();
    assert!(!status.success(), "{status:?}");
    tui.assert_no_leftovers(true);
}
