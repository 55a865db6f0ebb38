//! End to end, the pool: the real `conlab` dashboard in a pseudo-terminal at 80x24, opened on
//! the pool scenario. Short sleeps are set through the parameter form (`e`), Enter runs it,
//! and the TIMELINE must show four worker rows and the five tasks, the fifth one after a wait
//! on the queued row. Then `q`: a clean exit, the terminal restored, nothing left behind.
//!
//! The harness (the binary under a name of its own, a vt100 screen, waits that poll conditions
//! with bounds, and the leftover and terminal checks) is `tests/common/pty.rs`.

mod common;

use common::pty::{ENTER, Tui, describe, serial};
use common::{cmdline, stat};

// ---------------------------------------------------------------------------------------
// The test

/// The timeline's worker rows on screen: the PID, and the bar part after it.
fn timeline_rows(text: &str) -> Vec<(i32, String)> {
    let mut rows = Vec::new();
    for line in text.lines() {
        for segment in line.split('│') {
            let trimmed = segment.trim_start();
            let Some((pid, bars)) = trimmed.split_once(' ') else {
                continue;
            };
            let is_bar = |c: char| matches!(c, '█' | '▒');
            if pid.chars().all(|c| c.is_ascii_digit())
                && !pid.is_empty()
                && bars.chars().any(is_bar)
                && bars
                    .chars()
                    .all(|c| is_bar(c) || c.is_ascii_digit() || c == ' ')
            {
                rows.push((pid.parse().expect("digits"), bars.to_string()));
            }
        }
    }
    rows
}

#[test]
fn pool_timeline_shows_four_workers_and_five_tasks() {
    let _serial = serial();
    let mut tui = Tui::start("pool", 80, 24);
    tui.wait_for("the pool scenario selected", |t| {
        t.contains("size=4  tasks=5  max_sleep_ms=3,000") && t.contains("Enter runs it")
    });

    // Shorter sleeps through the form: focus moves size → tasks → max_sleep_ms.
    tui.set_parameter(
        "pool",
        &[
            ("tasks", "tasks submitted with apply_async"),
            ("max_sleep_ms", "each task sleeps a random"),
        ],
        8,
        "400",
        "max_sleep_ms=400",
    );

    tui.send(ENTER);
    let text = tui.wait_for("the finished timeline", |t| {
        t.contains("✓ done in") && t.contains("TIMELINE") && timeline_rows(t).len() == 4
    });
    let rows = timeline_rows(&text);
    let mut pids: Vec<i32> = rows.iter().map(|(pid, _)| *pid).collect();
    pids.sort_unstable();
    pids.dedup();
    assert_eq!(pids.len(), 4, "four distinct worker processes\n{text}");
    let mut tasks: Vec<char> = rows
        .iter()
        .flat_map(|(_, bars)| bars.chars().filter(char::is_ascii_digit))
        .collect();
    tasks.sort_unstable();
    assert_eq!(
        tasks,
        vec!['0', '1', '2', '3', '4'],
        "each task once, on a bar\n{text}"
    );
    // Seed 1 with max_sleep_ms=400 sleeps 248, 251, 303, 163, 87 ms: task 4 waits ~163 ms
    // for task 3's worker, long enough to show on the queued row.
    let queued = text
        .lines()
        .find(|l| l.contains("│queued "))
        .unwrap_or_else(|| panic!("no queued row\n{text}"));
    assert!(
        queued.contains("4░"),
        "task 4 waited on the queued row\n{text}"
    );
    assert!(text.contains("task 4 waited"), "{text}");
    let worker_of_4 = rows
        .iter()
        .find(|(_, bars)| bars.contains('4'))
        .map(|(pid, _)| *pid)
        .expect("task 4's row");
    assert!(
        rows.iter()
            .any(|(pid, bars)| *pid == worker_of_4 && bars.contains('3')),
        "task 4 ran on the worker task 3 freed\n{text}"
    );
    for (i, line) in text.lines().enumerate() {
        assert!(
            line.chars().count() <= 80,
            "line {i} is wider than the terminal: {line}"
        );
    }
    for pid in &pids {
        let cmd = cmdline(*pid);
        assert!(
            stat(*pid).is_none() || !cmd.contains("pool-worker"),
            "worker {pid} is still there after the run: {}",
            describe(*pid)
        );
    }

    tui.send("q");
    tui.finish(true, false);
}
