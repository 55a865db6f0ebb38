//! End to end, input a terminal delivers in ways keys alone do not: a long paste, a stop
//! signal and the continue after it, a window below the size the dashboard needs. The real
//! `conlab` binary in a pseudo-terminal, read back through a vt100 screen model; every test
//! ends with a clean exit, the terminal given back and nothing left behind.
//!
//! The harness (the binary under a name of its own, waits that poll conditions with bounds,
//! the terminal and leftover checks) is `tests/common/pty.rs`.

mod common;

use common::pty::{BACKSPACE, CTRL_C, ENTER, EXIT, POLL, TAB, Tui, screen_pids, serial};
use common::stat;
use nix::sys::signal::Signal;
use std::time::{Duration, Instant};

/// How long a paste may take to show: it must not wait for another key.
const PASTE_SHOWS: Duration = Duration::from_secs(10);

/// The state letter of `pid` in /proc (`T` stopped, `R` running, `S` sleeping ...).
fn state(pid: i32) -> Option<char> {
    stat(pid).map(|s| s.state)
}

/// Waits until `pid`'s state satisfies `ok`; fails after [`EXIT`].
fn wait_state(tui: &Tui, pid: i32, what: &str, ok: impl Fn(char) -> bool) {
    let deadline = Instant::now() + EXIT;
    while !state(pid).is_some_and(&ok) {
        assert!(
            Instant::now() < deadline,
            "pid {pid} is not {what}: state {:?}\n{}",
            state(pid),
            tui.dump()
        );
        std::thread::sleep(POLL);
    }
}

/// 2,000 characters pasted into a field of 64 bytes (`name` of the process scenario): the
/// field holds the first 64 at once (no key needed to deliver the rest), the form says what
/// was cut and why, its hints stay on screen, and the field's end shows where the cursor is.
#[test]
fn a_long_paste_arrives_whole_and_capped() {
    let _serial = serial();
    let mut tui = Tui::start("process", 100, 30);
    tui.send("e");
    tui.wait_for("the parameter form", |t| {
        t.contains("Parameters of process")
    });
    tui.send(&BACKSPACE.repeat(8));
    tui.wait_for("an empty name", |t| t.contains(" name     ▏"));
    // The first 64 characters end with `0123456`: the cut is visible to the character.
    let text = format!("{}0123456{}", "a".repeat(57), "b".repeat(1936));
    assert_eq!(text.chars().count(), 2000);
    tui.paste(&text);
    let shown = tui.try_wait_for("the capped paste", PASTE_SHOWS, |t| {
        t.contains("aaaa0123456▏") && t.contains("pasted 64 of 2,000 characters")
    });
    let shown = shown.unwrap_or_else(|screen| {
        panic!("the paste did not show within {PASTE_SHOWS:?}:\n{screen}")
    });
    assert!(!shown.contains("0123456b"), "more than 64 kept:\n{shown}");
    assert!(
        shown.contains("holds at most 64 bytes"),
        "the notice does not say why:\n{shown}"
    );
    assert!(
        shown.contains("Enter applies · Esc cancels"),
        "the hints were pushed out:\n{shown}"
    );
    // Valid as it stands: Enter applies it, and the scenario's parameters show its start.
    tui.send(ENTER);
    tui.wait_for("the applied name", |t| {
        t.contains("name=aaaaaaaa") && !t.contains("Parameters of process")
    });
    tui.send("q");
    let status = tui.wait_exit();
    assert!(status.success(), "{status:?}\n{}", tui.dump());
    tui.assert_restored();
}

/// A paste with line breaks and a tab: they are dropped (a field is one line) and the form
/// says so; the rest is typed in as if keyed.
#[test]
fn a_paste_with_line_breaks_drops_them_and_says_so() {
    let _serial = serial();
    let mut tui = Tui::start("lock", 100, 30);
    tui.send("e");
    tui.wait_for("the parameter form", |t| t.contains("Parameters of lock"));
    tui.send(TAB);
    tui.wait_for("focus on threads", |t| t.contains("threads changing"));
    tui.send(&BACKSPACE.repeat(3));
    tui.paste("1\r\n6\t\n");
    tui.wait_for("the pasted digits", |t| {
        t.contains(" threads    16▏") && t.contains("dropped 4 line breaks and control characters")
    });
    tui.send(ENTER);
    tui.wait_for("the applied threads", |t| t.contains("threads=16"));
    tui.send("q");
    let status = tui.wait_exit();
    assert!(status.success(), "{status:?}\n{}", tui.dump());
    tui.assert_restored();
}

/// SIGTSTP from outside during a long run: the dashboard gives the terminal back (alternate
/// screen left, cooked mode, mouse reporting and bracketed paste off) and stops, while its
/// runner goes on in its own process group. SIGCONT: the dashboard takes the terminal again,
/// redraws the whole screen and answers keys; quitting leaves nothing behind.
#[test]
fn sigtstp_gives_the_terminal_back_and_sigcont_takes_it_again() {
    let _serial = serial();
    let mut tui = Tui::start("lock", 100, 30);
    tui.set_parameter(
        "lock",
        &[
            ("threads", "threads changing"),
            ("iterations", "changes per thread"),
        ],
        12,
        "2000000000",
        "iterations=2,000,000,000",
    );
    tui.send(ENTER);
    let text = tui.wait_for("the long run", |t| {
        t.contains("● running") && t.contains("runner pid ")
    });
    let runner = *screen_pids(&text)
        .first()
        .expect("the runner's pid on screen");

    tui.signal(Signal::SIGTSTP);
    wait_state(&tui, tui.pid, "stopped", |s| s == 'T');
    // The terminal is given back before the stop: once stopped, all of it shows.
    tui.assert_given_back("stopped");
    // The runner is in its own process group: the stop did not reach it.
    let runner_state = state(runner);
    assert!(
        runner_state.is_some_and(|s| s != 'T'),
        "runner {runner} was stopped too: {runner_state:?}"
    );

    tui.signal(Signal::SIGCONT);
    tui.wait_for("the whole dashboard again", |t| {
        t.contains("Scenarios") && t.contains("cpu0") && t.contains("● running")
    });
    if let Err(problem) = tui.terminal_taken() {
        panic!("continued, but {problem}\n{}", tui.dump());
    }
    tui.send("?");
    tui.wait_for("the help", |t| t.contains("Any key closes this help."));
    tui.send("?");
    tui.wait_for("the help closed", |t| {
        !t.contains("Any key closes this help.")
    });
    tui.send("q");
    tui.finish(true, false);
}

/// Ctrl-Z in the dashboard started from an interactive shell: the terminal goes back to the
/// shell as it was, the dashboard stops as a job does (the shell reports it stopped), runs go
/// on; `fg` brings the whole dashboard back, answering keys. Quitting and leaving the shell
/// leave nothing behind.
#[test]
fn ctrl_z_suspends_to_the_shell_and_fg_brings_it_back() {
    let _serial = serial();
    let (mut tui, dashboard) = Tui::start_in_shell("lock", 100, 30);
    tui.set_parameter(
        "lock",
        &[
            ("threads", "threads changing"),
            ("iterations", "changes per thread"),
        ],
        12,
        "2000000000",
        "iterations=2,000,000,000",
    );
    tui.send(ENTER);
    let text = tui.wait_for("the long run", |t| {
        t.contains("● running") && t.contains("runner pid ")
    });
    let runner = *screen_pids(&text)
        .first()
        .expect("the runner's pid on screen");

    tui.send("\x1a");
    tui.wait_for("the shell's report", |t| t.contains("Stopped"));
    wait_state(&tui, dashboard, "stopped", |s| s == 'T');
    tui.assert_given_back("stopped");
    let runner_state = state(runner);
    assert!(
        runner_state.is_some_and(|s| s != 'T'),
        "runner {runner} was stopped too: {runner_state:?}"
    );

    tui.send("fg\r");
    tui.wait_for("the whole dashboard again", |t| {
        t.contains("Scenarios") && t.contains("cpu0") && t.contains("● running")
    });
    if let Err(problem) = tui.terminal_taken() {
        panic!("back, but {problem}\n{}", tui.dump());
    }
    tui.send("s");
    tui.wait_for("the run stopped", |t| t.contains("■ stopped after"));
    tui.send("q");
    tui.wait_for("the shell again", |t| {
        t.contains("$ ") && !t.contains("Scenarios")
    });
    tui.send("exit\r");
    tui.finish(true, false);
}

/// Ctrl-Z where no job-control shell started the dashboard (here it leads its own session,
/// as under `exec` in a terminal window): nothing could resume it, so it does not stop —
/// as the kernel itself ignores Ctrl-Z there — and says why. It keeps answering keys.
#[test]
fn ctrl_z_without_a_shell_to_resume_it_is_refused_with_a_reason() {
    let _serial = serial();
    let mut tui = Tui::start("lock", 100, 30);
    tui.send("\x1a");
    tui.wait_for("the reason", |t| t.contains("Ctrl-Z ignored"));
    assert_ne!(
        state(tui.pid),
        Some('T'),
        "stopped with nobody to resume it"
    );
    if let Err(problem) = tui.terminal_taken() {
        panic!("after Ctrl-Z: {problem}\n{}", tui.dump());
    }
    tui.send(ENTER);
    tui.wait_for("a run", |t| t.contains("✓ done in"));
    tui.send(CTRL_C);
    tui.finish(true, false);
}

/// Below 80x24 the dashboard shows only how large the terminal must be and how large it is;
/// grown again, the panels come back; q still quits at the small size.
#[test]
fn below_80x24_it_says_how_large_the_terminal_must_be() {
    let _serial = serial();
    let mut tui = Tui::start("lock", 80, 24);
    tui.send(ENTER);
    tui.wait_for("a run", |t| t.contains("✓ done in"));
    tui.resize(64, 20);
    let text = tui.wait_for("the size message", |t| {
        t.contains("conlab needs 80x24") && t.contains("this terminal is 64x20")
    });
    assert!(
        !text.contains("Scenarios"),
        "panels drawn at 64x20:\n{text}"
    );
    tui.resize(80, 24);
    tui.wait_for("the panels again", |t| {
        t.contains("Scenarios") && t.contains("cpu0") && t.contains("run #1")
    });
    tui.resize(79, 24);
    tui.wait_for("the size message at 79x24", |t| {
        t.contains("this terminal is 79x24")
    });
    tui.send("q");
    tui.finish(true, false);
}

/// A mouse action as a terminal reports it in SGR mode (the one crossterm asks for):
/// `button` (0 left, 64 wheel up, 65 wheel down) at a 0-based cell.
fn mouse(button: u8, column: usize, row: usize) -> String {
    format!("\x1b[<{button};{};{}M", column + 1, row + 1)
}

/// The mouse reaches what the screen shows: the wheel over the processes panel scrolls it,
/// and a click on a scenario in the menu selects it.
#[test]
fn the_wheel_scrolls_the_processes_panel_and_a_click_selects_a_scenario() {
    let _serial = serial();
    let mut tui = Tui::start("pool", 80, 24);
    tui.send(ENTER);
    // A runner and four workers in a panel with room for two.
    let text = tui.wait_for("the pool's processes below the panel's end", |t| {
        t.contains("+3 below · PgUp PgDn")
    });
    let title = text
        .lines()
        .position(|l| l.contains("Processes ·"))
        .expect("the processes panel");
    tui.send(&mouse(65, 10, title + 2));
    tui.wait_for("the panel scrolled down by the wheel", |t| {
        t.contains("+3 above · PgUp PgDn")
    });
    tui.send(&mouse(64, 10, title + 2));
    tui.wait_for("the panel scrolled back up by the wheel", |t| {
        t.contains("+3 below · PgUp PgDn")
    });
    // Wheel notches over the menu do not scroll the processes panel.
    tui.send(&mouse(65, 5, 5));
    let fork = text
        .lines()
        .position(|l| l.starts_with("│  fork"))
        .expect("fork in the menu");
    tui.send(&mouse(0, 5, fork));
    let text = tui.wait_for("fork selected by the click", |t| {
        t.contains("fork — one call, two returns")
    });
    assert!(text.contains("+3 below · PgUp PgDn"), "{text}");
    tui.send("q");
    tui.finish(true, false);
}
