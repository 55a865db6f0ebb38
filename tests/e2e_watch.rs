//! End to end, `conlab watch` and a lesson's "run the tutorial's code" key: the real dashboard
//! in a pseudo-terminal. A program that forks, starts threads and exits non-zero is shown with
//! every process and thread and how each ended, and its summary stays; quitting while a
//! detaching program runs leaves nothing behind; `--pid` leaves the process running; the
//! lesson key watches python3, or says python3 is missing.

mod common;

use common::programs::{comm_of, forks_and_threads_file, python3};
use common::pty::{ENTER, Tui, serial};

/// The processes panel's row of `pid`, if the screen shows it.
fn row_of<'a>(text: &'a str, needle: &str) -> Vec<&'a str> {
    text.lines().filter(|l| l.contains(needle)).collect()
}

#[test]
fn a_watched_program_shows_every_process_thread_and_exit() {
    let _serial = serial();
    let Some(python) = python3() else {
        println!("python3 is not here: the threads of a program cannot be shown with it");
        return;
    };
    let program = forks_and_threads_file("e2e");
    let mut tui = Tui::start_watching(&["--", &python, &program, "1.5"], 200, 60);
    let role = comm_of(&python);
    // Threads on, while it runs: each python3 thread is a row of its own.
    tui.send("t");
    tui.wait_for("the threads of the first process", |t| {
        t.contains("threads   4 seen · 4 live")
            && t.lines()
                .filter(|l| l.contains('└') && l.contains(&role))
                .count()
                >= 3
    });
    let text = tui.wait_for("the summary", |t| t.contains("ended with code 3"));
    let _ = std::fs::remove_file(&program);
    // A watched program runs at the niceness it would have unwatched, and the CPU panel says so.
    assert!(text.contains("runners at nice 0"), "{text}");
    assert!(
        text.contains("4 processes and 9 threads seen"),
        "{}",
        tui.dump()
    );
    for exit in ["code 3", "code 5", "code 6", "signal 15 (SIGTERM)"] {
        assert!(
            row_of(&text, exit).iter().any(|l| l.contains(&role)),
            "no {role} row ended with {exit}\n{}",
            tui.dump()
        );
    }
    assert!(text.contains("forked and joined"), "{}", tui.dump());
    // The summary stays.
    std::thread::sleep(std::time::Duration::from_millis(700));
    assert!(tui.text().contains("ended with code 3"), "{}", tui.dump());
    tui.send("q");
    tui.finish(true, false);
}

#[test]
fn quitting_while_a_detaching_program_runs_leaves_nothing() {
    let _serial = serial();
    let detaching = "setsid sleep 1022 & (sleep 1024 &); sleep 1018";
    let mut tui = Tui::start_watching(&["--", "sh", "-c", detaching], 80, 24);
    tui.wait_for("every process of the program", |t| {
        t.contains("processes 5 seen · 4 live")
    });
    tui.send("q");
    tui.finish(true, false);
}

#[test]
fn attached_the_process_is_left_running_on_quit() {
    let _serial = serial();
    let mut sleep = std::process::Command::new("sleep")
        .arg("30")
        .spawn()
        .expect("start sleep");
    let pid = sleep.id().to_string();
    let mut tui = Tui::start_watching(&["--pid", &pid], 80, 24);
    tui.wait_for("the attached process", |t| {
        t.contains(&format!("PID {pid}, read-only"))
            && row_of(t, &pid).iter().any(|l| l.contains("sleep"))
    });
    tui.send("q");
    let status = tui.wait_exit();
    let state = common::stat(sleep.id() as i32).map(|s| s.state);
    let _ = sleep.kill();
    let _ = sleep.wait();
    assert!(status.success(), "{status:?}\n{}", tui.dump());
    tui.assert_restored();
    assert!(
        matches!(state, Some('S' | 'R')),
        "the attached process must run on, not {state:?}"
    );
}

#[test]
fn the_lesson_key_watches_the_tutorial_code_in_python3() {
    let _serial = serial();
    if python3().is_none() {
        println!("python3 is not here: the tutorial's code cannot run");
        return;
    }
    let mut tui = Tui::start("threads", 200, 60);
    tui.send("p");
    let text = tui.wait_for("the tutorial's threads.py, ended", |t| {
        t.contains("Watch · python3 ")
            && t.contains("threads.py")
            && t.contains("ended with code 0")
    });
    // Its own output, and its processes in the processes panel.
    let text = match text.contains("thread MainThread ended") {
        true => text,
        false => tui.wait_for("the program's own output", |t| {
            t.contains("thread MainThread ended")
        }),
    };
    assert!(
        text.contains("python3") && text.contains("code 0"),
        "{}",
        tui.dump()
    );
    // Back to the lessons; the Rust scenario runs beside it as before.
    tui.send_esc();
    tui.wait_for("the lessons again", |t| t.contains("Scenarios"));
    tui.send(ENTER);
    tui.wait_for("the Rust scenario done", |t| t.contains("✓ done in"));
    tui.send("q");
    tui.finish(true, false);
}

#[test]
fn without_python3_the_lesson_key_says_so() {
    let _serial = serial();
    let empty = std::env::temp_dir().join(format!("conlab-no-python-{}", std::process::id()));
    std::fs::create_dir_all(&empty).expect("an empty PATH directory");
    let path = empty.to_string_lossy().into_owned();
    let mut tui = Tui::start_with("threads", 80, 24, &[("PATH", &path)]);
    tui.send("p");
    tui.wait_for("the message", |t| t.contains("python3 is not on PATH"));
    assert!(!tui.text().contains("Watch · "), "{}", tui.dump());
    // The Rust scenario still runs.
    tui.send(ENTER);
    tui.wait_for("the Rust scenario done", |t| t.contains("✓ done in"));
    tui.send("q");
    tui.finish(true, false);
    let _ = std::fs::remove_dir(&empty);
}
