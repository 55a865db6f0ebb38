//! End to end, the Sweep panel: the real `conlab` dashboard in a pseudo-terminal at 80x24,
//! opened on `switching`. A short sweep is set through the parameter form (one quantum, up to
//! 64 tasks), Enter runs it, and the screen must show the chart growing point by point — the
//! count of points measured rising and braille dots being added — until the run is done with
//! every point drawn. Then `q`: a clean exit, the terminal restored, nothing left behind.

mod common;

use common::pty::{ENTER, Tui, serial};
use std::cell::RefCell;

/// `SWEEP useful work by tasks · 7 of 14 points` → 7; `… · 14 points` (done) → 14.
fn points_shown(text: &str) -> Option<usize> {
    let line = text.lines().find(|l| l.contains("SWEEP "))?;
    let after = &line[line.find(" · ")? + " · ".len()..];
    after.split_whitespace().next()?.parse().ok()
}

/// Braille dots on screen: each set bit of a braille cell is one.
fn dots(text: &str) -> u32 {
    text.chars()
        .filter(|c| ('\u{2801}'..='\u{28ff}').contains(c))
        .map(|c| (c as u32 - 0x2800).count_ones())
        .sum()
}

#[test]
fn switching_draws_its_sweep_point_by_point() {
    let _serial = serial();
    let mut tui = Tui::start("switching", 80, 24);
    tui.wait_for("the switching scenario selected", |t| {
        t.contains("mode=threads") && t.contains("Enter runs it")
    });
    let quantum = ("quantum_us", "how long a task works before it hands over");
    let quanta = ("quanta", "series of hand-offs");
    tui.set_parameter("switching", &[quantum, quanta], 1, "1", "quanta=1");
    tui.set_parameter(
        "switching",
        &[quantum, quanta, ("max_tasks", "K runs 1, 2, 4")],
        4,
        "64",
        "max_tasks=64",
    );
    // More work per point, so each point takes long enough to be seen on its own.
    tui.set_parameter(
        "switching",
        &[
            quantum,
            quanta,
            ("max_tasks", "K runs 1, 2, 4"),
            ("work_ms", "CPU work per point"),
        ],
        2,
        "150",
        "work_ms=150",
    );

    tui.send(ENTER);
    // Every screen until the end: how many points it showed, and how many dots.
    let seen: RefCell<Vec<(usize, u32)>> = RefCell::new(Vec::new());
    let text = tui.wait_for("the finished sweep", |t| {
        if let Some(n) = points_shown(t) {
            seen.borrow_mut().push((n, dots(t)));
        }
        t.contains("✓ done in") && points_shown(t) == Some(14) && t.contains("14 points")
    });
    let seen = seen.into_inner();
    let mut counts: Vec<usize> = seen.iter().map(|(n, _)| *n).collect();
    counts.dedup();
    assert!(
        counts.windows(2).all(|w| w[0] < w[1]),
        "points are only ever added: {counts:?}"
    );
    let between: Vec<usize> = counts
        .iter()
        .copied()
        .filter(|n| (1..14).contains(n))
        .collect();
    assert!(
        between.len() >= 3,
        "the chart was seen with at least 3 different numbers of points before the end: {counts:?}\n{text}"
    );
    // The same number of points always draws the same dots; more points, more line.
    let first = seen.iter().find(|(n, _)| *n == between[0]).map(|s| s.1);
    let last = seen.iter().rev().find(|(n, _)| *n == 14).map(|s| s.1);
    assert!(
        first < last,
        "the line grew from {first:?} dots at {} points to {last:?} at the end\n{text}",
        between[0]
    );
    for wanted in [
        "useful work by tasks",
        "no hand-off",
        "10 µs",
        "tasks handing over",
    ] {
        assert!(text.contains(wanted), "no `{wanted}` on screen\n{text}");
    }
    for (i, line) in text.lines().enumerate() {
        assert!(
            line.chars().count() <= 80,
            "line {i} is wider than the terminal: {line}"
        );
    }
    tui.send("q");
    tui.finish(true, false);
}
