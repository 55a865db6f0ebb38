//! End to end, master-worker: the real dashboard in a pseudo-terminal. With worker processes,
//! the crash shows as a dead worker (its signal in the processes panel, its lane ending on the
//! Timeline) and a replacement that runs the lost task again. With worker threads, the abort
//! takes the whole runner down: the dashboard says the runner died, by which signal, with the
//! tasks done until then, and goes on answering keys.
//!
//! The harness is `tests/common/pty.rs`.

mod common;

use common::pty::{ENTER, Tui, serial};

/// The processes panel's row for `pid`, as words: `PID PPID #RUN ROLE ST ... EXIT`.
fn process_row(text: &str, pid: i32) -> Option<Vec<String>> {
    text.lines().find_map(|line| {
        line.split('│').find_map(|cell| {
            let words: Vec<String> = cell.split_whitespace().map(str::to_string).collect();
            let ppid = words.get(1).is_some_and(|w| w.parse::<i32>().is_ok());
            (words.len() >= 4 && words[0] == pid.to_string() && ppid).then_some(words)
        })
    })
}

/// The Timeline's lanes: a PID (or TID) and, after it, bars.
fn lanes(text: &str) -> Vec<(i32, String)> {
    let mut rows = Vec::new();
    for line in text.lines() {
        for segment in line.split('│') {
            let Some((id, bars)) = segment.trim_start().split_once(' ') else {
                continue;
            };
            let is_bar = |c: char| matches!(c, '█' | '▒' | '◆');
            // A lane that died says how after its ✗.
            let drawn = bars.split('✗').next().unwrap_or_default();
            if !id.is_empty()
                && id.chars().all(|c| c.is_ascii_digit())
                && drawn.chars().any(is_bar)
                && drawn
                    .chars()
                    .all(|c| is_bar(c) || c.is_ascii_digit() || c == ' ')
            {
                rows.push((id.parse().expect("digits"), bars.to_string()));
            }
        }
    }
    rows
}

#[test]
fn a_dead_worker_process_and_its_replacement_show_in_both_panels() {
    let _serial = serial();
    let mut tui = Tui::start("master-worker", 160, 40);
    tui.wait_for("master-worker selected", |t| {
        t.contains("mode=processes") && t.contains("crash=abort") && t.contains("Enter runs it")
    });
    tui.send(ENTER);
    let text = tui.wait_for("the run done, a worker crashed and replaced", |t| {
        t.contains("✓ done in") && t.contains("task 10 ran again") && lanes(t).len() == 5
    });
    assert!(text.contains("1 worker crashed"), "{text}");
    let lanes = lanes(&text);
    let dead: Vec<i32> = lanes
        .iter()
        .filter(|(_, bars)| bars.contains("✗ SIGABRT"))
        .map(|(pid, _)| *pid)
        .collect();
    assert_eq!(
        dead.len(),
        1,
        "one lane ends with its crash and its signal\n{text}"
    );
    let row = process_row(&text, dead[0]).unwrap_or_else(|| panic!("no row\n{text}"));
    assert!(
        row.contains(&"worker".to_string()) && row.join(" ").contains("signal 6 (SIGAB"),
        "the dead worker's exit in the processes panel: {row:?}\n{text}"
    );
    // The replacement started last, so its lane is last; it ran task 10 and ended well.
    let (replacement, bars) = lanes.last().expect("lanes");
    assert!(*replacement > dead[0], "{text}");
    assert!(
        bars.contains("10"),
        "task 10 ran again on the replacement\n{text}"
    );
    let row = process_row(&text, *replacement).unwrap_or_else(|| panic!("no row\n{text}"));
    assert!(
        row.join(" ").contains("code 0"),
        "the replacement's exit: {row:?}\n{text}"
    );
    tui.send("q");
    tui.finish(true, false);
}

#[test]
fn an_abort_in_a_worker_thread_kills_the_runner_and_the_dashboard_goes_on() {
    let _serial = serial();
    let mut tui = Tui::start("master-worker", 160, 40);
    tui.wait_for("master-worker selected", |t| {
        t.contains("mode=processes") && t.contains("Enter runs it")
    });
    tui.set_parameter("master-worker", &[], 9, "threads", "mode=threads");
    tui.send(ENTER);
    let text = tui.wait_for_failed_run("the runner's death, and its last figures", |t| {
        t.contains("without a report") && t.contains("last live figures")
    });
    assert!(
        text.contains("✗ failed: the runner ended (signal 6 (SIGABRT)) without a report"),
        "the runner died, and by which signal\n{text}"
    );
    let done: u32 = text
        .split("tasks_done ")
        .nth(1)
        .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no tasks_done among the last figures\n{text}"));
    assert!(done < 20, "tasks done until it died: {done}\n{text}");
    // The dashboard goes on: the help opens and closes, the form opens, and it quits cleanly.
    tui.send("?");
    tui.wait_for_failed_run("the help", |t| t.contains("Any key closes this help."));
    tui.send("?");
    tui.wait_for_failed_run("the help closed", |t| {
        !t.contains("Any key closes this help.") && t.contains("without a report")
    });
    tui.send("e");
    tui.wait_for_failed_run("the form", |t| t.contains("Parameters of master-worker"));
    tui.send_esc();
    tui.wait_for_failed_run("the form closed", |t| {
        !t.contains("Parameters of master-worker")
    });
    tui.send("q");
    tui.finish(true, false);
}
