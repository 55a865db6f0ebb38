//! End to end for the process scenarios: the real dashboard in a pseudo-terminal, read back
//! through a vt100 screen model. `fork`: Enter runs it, the screen shows the parent's and the
//! child's lines — two PIDs that point at each other — and the child's exit in the processes
//! panel; `q` quits, the terminal is restored, and nothing of the session is left.
//!
//! The harness is `tests/common/pty.rs`. Waits are polled conditions with generous bounds,
//! never fixed sleeps.

mod common;

use common::pty::{ENTER, Tui, serial};

// ---------------------------------------------------------------------------------------
// Screen text

/// The two numbers in `I am <a>, my <who> is <b>`, on any line of the screen.
fn i_am(text: &str, who: &str) -> Option<(i32, i32)> {
    text.lines().find_map(|line| {
        let rest = &line[line.find("I am ")? + "I am ".len()..];
        let (a, rest) = rest.split_once(", my ")?;
        let b = rest.strip_prefix(who)?.strip_prefix(" is ")?;
        let b: String = b.chars().take_while(char::is_ascii_digit).collect();
        Some((a.parse().ok()?, b.parse().ok()?))
    })
}

/// The processes panel's row for `pid`: `PID PPID #RUN ROLE ST ...`, as words.
fn process_row(text: &str, pid: i32) -> Option<Vec<String>> {
    text.lines().find_map(|line| {
        line.split('│').find_map(|cell| {
            let words: Vec<String> = cell.split_whitespace().map(str::to_string).collect();
            (words.len() >= 4 && words[0] == pid.to_string()).then_some(words)
        })
    })
}

// ---------------------------------------------------------------------------------------
// The test

#[test]
fn fork_shows_parent_and_child_and_leaves_nothing() {
    let _serial = serial();
    let mut tui = Tui::start("fork", 100, 30);
    tui.wait_for("the fork scenario selected", |t| {
        t.contains("fork — one call, two returns") && t.contains("Enter runs it")
    });
    tui.send(ENTER);
    let text = tui.wait_for("both processes' lines and the child's exit", |t| {
        t.contains("✓ done in")
            && i_am(t, "child").is_some()
            && i_am(t, "parent").is_some_and(|(child, _)| {
                process_row(t, child).is_some_and(|r| r.iter().any(|w| w == "code"))
            })
    });
    let (parent, child) = i_am(&text, "child").expect("the parent's line");
    let (child_says_me, child_says_parent) = i_am(&text, "parent").expect("the child's line");
    assert_ne!(parent, child, "two processes\n{text}");
    assert_eq!(child_says_me, child, "the child names itself\n{text}");
    assert_eq!(
        child_says_parent, parent,
        "the child names its parent\n{text}"
    );
    assert!(
        text.contains(&format!("runner pid {parent}")),
        "the parent is the run's runner\n{text}"
    );
    assert!(
        text.contains(&format!("[{child}] I am {child}")),
        "the child's line is marked as its own\n{text}"
    );
    let row = process_row(&text, child).expect("the child in the processes panel");
    assert_eq!(row[1], parent.to_string(), "its PPID: {row:?}\n{text}");
    assert!(row.contains(&"child".to_string()), "its role: {row:?}");
    assert!(
        row.ends_with(&["code".to_string(), "0".to_string()]),
        "the child's exit: {row:?}\n{text}"
    );

    tui.send("q");
    // Both must be gone once the dashboard has exited, with everything else of its session.
    tui.watch(&[parent, child]);
    tui.finish(true, false);
}
