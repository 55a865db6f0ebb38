//! End to end, the Models lessons in the real dashboard in a pseudo-terminal. `async-io`: two
//! requests a connection set through the form, then `c` puts the modes side by side, and the
//! loop's column shows one server thread where the threads' column shows a thousand. `costs`:
//! Enter measures, and every row of the table fills in. Then `q`: a clean exit, the terminal
//! restored, nothing left behind (the harness is `tests/common/pty.rs`).

mod common;

use common::pty::{ENTER, Tui, serial};

/// The numbers on the compare view's row that starts with `label`, one per column.
fn row(text: &str, label: &str) -> Vec<f64> {
    text.lines()
        .find_map(|l| {
            l.split('│')
                .find(|cell| cell.trim_start().starts_with(label))
        })
        .map(|cell| {
            cell.trim_start()[label.len()..]
                .split_whitespace()
                .filter_map(|w| w.replace(',', "").parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn async_io_compares_the_modes_side_by_side() {
    let _serial = serial();
    let mut tui = Tui::start("async-io", 120, 40);
    tui.wait_for("the async-io scenario selected", |t| {
        t.contains("mode=loop  connections=1,000  requests=10") && t.contains("Enter runs it")
    });
    tui.set_parameter(
        "async-io",
        &[
            ("connections", "clients connected at once"),
            ("requests", "requests each connection makes"),
        ],
        2,
        "2",
        "requests=2",
    );
    tui.send("c");
    let modes = if common::python3_on_path() { 4 } else { 3 };
    let text = tui.wait_for("every mode done, side by side", |t| {
        t.contains("Compare async-io by mode")
            && t.contains("Summary:")
            && t.matches('✓').count() >= modes
    });
    for mode in ["mode=threads", "mode=loop", "mode=loop-per-core"] {
        assert!(text.contains(mode), "a column for {mode}\n{text}");
    }
    let threads = row(&text, "server threads");
    assert!(threads.len() >= 3, "a thread count per mode\n{text}");
    assert!(
        threads[0] > 100.0,
        "a thread per connection: {threads:?}\n{text}"
    );
    assert_eq!(threads[1], 1.0, "one loop, one thread: {threads:?}\n{text}");
    assert!(
        text.contains("loop: 1,000 connections held by 1 OS thread"),
        "{text}"
    );
    tui.send_esc();
    tui.send("q");
    tui.finish(true, false);
}

#[test]
fn costs_fills_in_its_table() {
    let _serial = serial();
    let mut tui = Tui::start("costs", 120, 40);
    tui.wait_for("the costs scenario selected", |t| {
        t.contains("mode=quick") && t.contains("Enter measures each cost")
    });
    tui.send(ENTER);
    let text = tui.wait_for("every cost measured", |t| {
        t.contains("✓ done in") && t.contains("event-loop task spawn + join")
    });
    for cost in [
        "fork + exit + wait",
        "context switch, 2 threads on 1 CPU",
        "round trip over loopback TCP",
        "event-loop task spawn + join",
    ] {
        let line = text
            .lines()
            .find(|l| l.contains(cost))
            .unwrap_or_else(|| panic!("no row for {cost}\n{text}"));
        assert!(
            line.contains("µs") || line.contains("ns") || line.contains("ms"),
            "{cost} was measured: {line}\n{text}"
        );
        assert!(!line.contains('…'), "{cost} is done: {line}");
    }
    assert!(text.contains("published"), "{text}");
    tui.send("q");
    tui.finish(true, false);
}
