//! The tutorial's two programs as a user runs them, each in a terminal of its own: `conlab
//! master` in one, two `conlab worker`s in others; one worker is killed with `kill -9` in the
//! middle of a task, and every result still arrives at the master, each once.

mod common;

use common::pty::{Tui, serial};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use std::time::{Duration, Instant};

/// Waits (bounded) until everything `tui`'s program printed satisfies `done`.
fn wait_printed(
    tui: &mut Tui,
    what: &str,
    within: Duration,
    done: impl Fn(&str) -> bool,
) -> String {
    let until = Instant::now() + within;
    loop {
        let printed = String::from_utf8_lossy(&tui.raw()).into_owned();
        if done(&printed) {
            return printed;
        }
        assert!(
            Instant::now() < until,
            "timed out waiting for {what}\n{}",
            tui.dump()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_worker_killed_mid_task_loses_no_result() {
    let _one_at_a_time = serial();
    let dir = std::env::temp_dir().join(common::new_mark("e2e-dist"));
    std::fs::create_dir_all(&dir).unwrap();
    let key = dir.join("authkey");
    std::fs::write(&key, "abc\n").unwrap();
    let key = key.to_str().unwrap();
    // A free port: taken from the kernel, then let go for the master to bind.
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .to_string();

    let mut master = Tui::start_command(
        &[
            "master",
            "--bind",
            &addr,
            "--authkey-file",
            key,
            "--lease-ms",
            "5000",
            "--work-ms",
            "500",
        ],
        120,
        60,
    );
    wait_printed(
        &mut master,
        "the master listening",
        Duration::from_secs(30),
        |p| p.contains("listening on"),
    );
    let worker = ["worker", "--connect", &addr, "--authkey-file", key];
    let mut doomed = Tui::start_command(&worker, 100, 30);
    let mut survivor = Tui::start_command(&worker, 100, 30);
    wait_printed(
        &mut doomed,
        "a task on the first worker",
        Duration::from_secs(30),
        |p| p.contains("run task"),
    );
    kill(Pid::from_raw(doomed.pid), Signal::SIGKILL).unwrap();

    let printed = wait_printed(&mut master, "every result", Duration::from_secs(60), |p| {
        p.contains("master exit.")
    });
    let results: Vec<&str> = printed
        .lines()
        .filter_map(|l| l.trim().strip_prefix("Result: "))
        .map(|l| l.split(" (worker").next().unwrap_or(l))
        .collect();
    let mut distinct = results.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(results.len(), 10, "{printed}");
    assert_eq!(distinct.len(), 10, "{printed}");
    assert!(printed.contains("left holding task"), "{printed}");
    assert!(master.wait_exit().success(), "{}", master.dump());
    assert!(survivor.wait_exit().success(), "{}", survivor.dump());
    assert!(!doomed.wait_exit().success());
    let said = String::from_utf8_lossy(&survivor.raw()).into_owned();
    assert!(said.contains("worker done"), "{said}");
    // Nothing any of the three terminals started is left.
    for tui in [&master, &survivor, &doomed] {
        common::assert_none_marked(&tui.mark, Duration::from_secs(10), "e2e distributed");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
