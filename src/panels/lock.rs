//! The lock scenario's figures: the balance (marked when wrong), lost updates and in how many
//! rounds, progress, the counted mutex's contention, and throughput; for a deadlock, what each
//! thread holds, waits for and does; for CPython, the balances its three runs printed.

use super::Figures;
use crate::report::{Metrics, Num, group_thousands};
use crate::scenarios::lock::ACCOUNTS;
use crate::style::{DIM, RIGHT, WRONG, bar, duration_ms, duration_ns, label, metric, si};
use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};

const YELLOW: Style = Style::new().fg(Color::Yellow);

/// Threads drawn one a line in a deadlock; more are summed up.
const THREAD_LINES: usize = 4;

fn get(m: &Metrics, name: &str) -> Option<f64> {
    m.get(name).map(Num::as_f64)
}

/// A count as people read it: exact up to a million (`1,234`), then `12.3 M`.
fn count(x: f64) -> String {
    if x.abs() < 1e6 {
        group_thousands(x as i64)
    } else {
        si(x)
    }
}

fn show(m: &Metrics, name: &str) -> String {
    m.get(name)
        .map(|v| metric(name, v))
        .unwrap_or_else(|| "—".to_string())
}

pub fn lines(run: Option<&Figures>, width: u16) -> Vec<Line<'static>> {
    let Some(run) = run else {
        return vec![Line::from(Span::styled(
            "Not run yet. Enter runs it with these parameters; c runs nolock, lock and atomic side by side.",
            DIM,
        ))];
    };
    match run.params.word("mode") {
        "deadlock" => deadlock_lines(run),
        "python" => python_lines(run, width),
        _ => rounds_lines(run, width),
    }
}

/// A balance that should be 0: marked right or wrong once the run is done.
fn balance_value(value: Num, done: bool) -> [Span<'static>; 2] {
    let wrong = done && value != Num::Int(0);
    let (style, mark) = match (done, wrong) {
        (true, true) => (WRONG, " ✗ should be 0"),
        (true, false) => (RIGHT, " ✓"),
        _ => (Style::new(), " (now)"),
    };
    [
        Span::styled(value.human(), style),
        Span::styled(mark, style),
    ]
}

fn rounds_lines(run: &Figures, width: u16) -> Vec<Line<'static>> {
    let m = run.metrics;
    let mode = run.params.word("mode");
    let two_locks = matches!(mode, "ordered" | "trylock");
    let mut out = Vec::new();

    let mut balance = vec![label(if two_locks { "account A" } else { "balance" })];
    match (m.get("balance"), m.get("balance_b")) {
        (Some(a), Some(b)) if two_locks => {
            balance.extend(balance_value(a, run.done));
            balance.push(Span::raw("  B "));
            balance.extend(balance_value(b, run.done));
        }
        (Some(b), _) => balance.extend(balance_value(b, run.done)),
        (None, _) if mode == "lock" || two_locks => {
            balance.push(Span::styled("inside the lock; read at the end", DIM))
        }
        (None, _) => balance.push(Span::raw("—")),
    }
    out.push(Line::from(balance));

    let lost = get(m, "lost_updates").unwrap_or(0.0);
    let mut lost_spans = vec![
        label("lost updates"),
        Span::styled(
            show(m, "lost_updates"),
            if lost > 0.0 { WRONG } else { Style::new() },
        ),
    ];
    if let (Some(repeats), Some(with_lost)) =
        (get(m, "repeats"), get(m, "repeats_with_lost_updates"))
        && mode == "nolock"
        && repeats > 1.0
    {
        lost_spans.push(Span::raw(format!(
            " · in {} of {} rounds",
            with_lost as u64, repeats as u64
        )));
    }
    out.push(Line::from(lost_spans));

    out.push(progress_line(run, width));

    if mode == "lock" || two_locks {
        let acq = get(m, "acquisitions").unwrap_or(0.0);
        let contended = get(m, "contended").unwrap_or(0.0);
        let pct = if acq > 0.0 {
            contended * 100.0 / acq
        } else {
            0.0
        };
        out.push(Line::from(vec![
            label(if two_locks { "locks" } else { "lock" }),
            Span::raw(format!("{} taken, ", si(acq))),
            Span::styled(format!("{} had to wait ({pct:.1}%)", si(contended)), YELLOW),
        ]));
        let mut handoffs = format!(
            "{} · waited {}, longest {}",
            si(get(m, "owner_changes").unwrap_or(0.0)),
            duration_ns(get(m, "wait_ns_total").unwrap_or(0.0)),
            duration_ns(get(m, "wait_ns_max").unwrap_or(0.0))
        );
        if let Some(backoffs) = get(m, "backoffs") {
            handoffs.push_str(&format!(" · backed off {}", si(backoffs)));
        }
        out.push(Line::from(vec![label("hand-offs"), Span::raw(handoffs)]));
    }
    if let Some(line) = failed_bodies_line(run) {
        out.push(line);
    }

    out.push(Line::from(vec![
        label("throughput"),
        Span::raw(format!(
            "{} changes/s",
            si(get(m, "ops_per_sec").unwrap_or(0.0))
        )),
    ]));
    if run.done {
        out.push(Line::from(vec![
            label("time"),
            Span::raw(format!(
                "wall {} · cpu {}",
                duration_ms(get(m, "wall_ms").unwrap_or(0.0)),
                duration_ms(get(m, "cpu_ms").unwrap_or(0.0))
            )),
        ]));
    }
    out
}

/// Bodies that failed inside the lock, and whether the lock was free after them.
fn failed_bodies_line(run: &Figures) -> Option<Line<'static>> {
    let m = run.metrics;
    let failed = get(m, "failed_bodies").filter(|f| *f > 0.0)?;
    let mut spans = vec![
        label("failed"),
        Span::raw(format!("{} changes failed inside the lock", si(failed))),
    ];
    match get(m, "lock_free_at_end") {
        Some(free) if free > 0.0 => spans.push(Span::styled(
            " · released each time, free at the end ✓",
            RIGHT,
        )),
        Some(_) => spans.push(Span::styled(" · a lock still held at the end ✗", WRONG)),
        None => {}
    }
    Some(Line::from(spans))
}

/// The run's progress and round, then each thread's changes (up to 4; more are summed).
fn progress_line(run: &Figures, width: u16) -> Line<'static> {
    let m = run.live;
    let threads = run.params.int("threads") as usize;
    let mut spans = vec![label("progress")];
    let fraction = match get(m, "progress_pct") {
        Some(pct) => Some(pct / 100.0),
        None => get(m, "iterations_total")
            .filter(|t| *t > 0.0)
            .map(|total| get(m, "iterations_done").unwrap_or(0.0) / total),
    };
    let Some(fraction) = fraction else {
        spans.push(Span::styled("—", DIM));
        return Line::from(spans);
    };
    let fraction = if run.done { 1.0 } else { fraction };
    let bar_w = (width as usize).saturating_sub(13 + 6 + 12 + 10 * threads.min(THREAD_LINES));
    spans.push(Span::styled(bar(fraction, bar_w.clamp(4, 20)), RIGHT));
    spans.push(Span::raw(format!("{:>4.0}%", fraction * 100.0)));
    if let Some(round) = get(m, "repeats") {
        let current = if run.done { round } else { round + 1.0 };
        spans.push(Span::styled(format!(" · round {current:.0} ·"), DIM));
    }
    if threads <= THREAD_LINES {
        for i in 0..threads {
            let done = get(m, &format!("thread_{i}_done")).unwrap_or(0.0);
            spans.push(Span::raw(format!(" t{i} {}", count(done))));
        }
    } else {
        let done = get(m, "iterations_done").unwrap_or(0.0);
        spans.push(Span::raw(format!(" {threads} threads {}", count(done))));
    }
    Line::from(spans)
}

/// What one thread of a deadlock run holds and waits for, and whether the kernel has it asleep.
fn thread_state(m: &Metrics, i: usize) -> Line<'static> {
    let locks = |bits: f64| -> String {
        let bits = bits as u64;
        let held: Vec<&str> = (0..2)
            .filter(|b| bits & (1 << b) != 0)
            .map(|b| ACCOUNTS[b])
            .collect();
        if held.is_empty() {
            "nothing".into()
        } else {
            held.join("+")
        }
    };
    let holds = locks(get(m, &format!("thread_{i}_holds")).unwrap_or(0.0));
    let waits = match get(m, &format!("thread_{i}_waits_for")).unwrap_or(0.0) as usize {
        0 => "nothing".to_string(),
        w => ACCOUNTS[(w - 1).min(1)].to_string(),
    };
    let asleep = get(m, &format!("thread_{i}_asleep")).unwrap_or(0.0) > 0.0;
    let waiting = waits != "nothing";
    let mut spans = vec![
        label(&format!("changer-{i}")),
        Span::raw(format!("holds {holds} · ")),
        Span::styled(
            format!("waits for {waits}"),
            if waiting { YELLOW } else { Style::new() },
        ),
        Span::raw(format!(
            " · {} changes",
            count(get(m, &format!("thread_{i}_done")).unwrap_or(0.0))
        )),
    ];
    if asleep {
        spans.push(Span::styled(" · asleep in the kernel", DIM));
    }
    Line::from(spans)
}

fn deadlock_lines(run: &Figures) -> Vec<Line<'static>> {
    let m = run.metrics;
    let threads = run.params.int("threads") as usize;
    let deadlocked = get(m, "deadlocked").unwrap_or(0.0) > 0.0;
    let stalled = duration_ms(get(m, "stalled_ms").unwrap_or(0.0));
    let mut out = vec![Line::from(if deadlocked {
        vec![
            label("deadlock"),
            Span::styled("✗ each holds the lock the other waits for", WRONG),
            Span::raw(format!(" · no change for {stalled}")),
        ]
    } else if run.done {
        vec![
            label("deadlock"),
            Span::raw("none before the run was stopped"),
        ]
    } else {
        vec![
            label("deadlock"),
            Span::styled("not yet: the threads still change the accounts", DIM),
        ]
    })];
    for i in 0..threads.min(THREAD_LINES) {
        out.push(thread_state(m, i));
    }
    if threads > THREAD_LINES {
        out.push(Line::from(Span::styled(
            format!("… and {} more threads", threads - THREAD_LINES),
            DIM,
        )));
    }
    out.push(Line::from(vec![
        label("locks"),
        Span::raw(format!(
            "{} taken, {} had to wait",
            count(get(m, "acquisitions").unwrap_or(0.0)),
            count(get(m, "contended").unwrap_or(0.0))
        )),
    ]));
    if let Some(line) = failed_bodies_line(run) {
        out.push(line);
    }
    if run.active {
        out.push(Line::from(Span::styled(
            "It never ends on its own: s stops it, and the threads end with the process.",
            DIM,
        )));
    }
    out
}

fn python_lines(run: &Figures, width: u16) -> Vec<Line<'static>> {
    let m = run.metrics;
    let mut out = Vec::new();
    for (name, what) in [
        ("python_tutorial_balance", "as written"),
        ("python_call_balance", "with a call"),
        ("python_locked_balance", "call + lock"),
    ] {
        let mut spans = vec![label(what)];
        match m.get(name) {
            Some(b) => spans.extend(balance_value(b, true)),
            None => spans.push(Span::styled("—", DIM)),
        }
        out.push(Line::from(spans));
    }
    if !run.done {
        let pct = get(run.live, "progress_pct").unwrap_or(0.0);
        let bar_w = (width as usize).saturating_sub(13 + 6).clamp(4, 20);
        out.push(Line::from(vec![
            label("progress"),
            Span::styled(bar(pct / 100.0, bar_w), RIGHT),
            Span::raw(format!("{pct:>4.0}% of 3 CPython runs")),
        ]));
    }
    out
}
