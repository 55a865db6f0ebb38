//! The lock scenario's figures: the balance (marked when wrong), lost updates, per-thread
//! progress, the counted mutex's contention, and throughput.

use super::Figures;
use crate::report::{Metrics, Num};
use crate::style::{DIM, RIGHT, WRONG, bar, duration_ms, duration_ns, label, metric, si};
use ratatui::text::{Line, Span};

fn get(m: &Metrics, name: &str) -> Option<f64> {
    m.get(name).map(Num::as_f64)
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
    let m = run.metrics;
    let done = run.done;
    let mode = run.params.word("mode");
    let mut out = Vec::new();

    let balance = match (m.get("balance"), mode) {
        (Some(b), _) => {
            let wrong = done && b != Num::Int(0);
            let (style, mark) = match (done, wrong) {
                (true, true) => (WRONG, " ✗ should be 0".to_string()),
                (true, false) => (RIGHT, " ✓".to_string()),
                _ => (ratatui::style::Style::new(), " (now)".to_string()),
            };
            vec![
                label("balance"),
                Span::styled(b.human(), style),
                Span::styled(mark, style),
            ]
        }
        (None, "lock") => vec![
            label("balance"),
            Span::styled("inside the lock; read at the end", DIM),
        ],
        (None, _) => vec![label("balance"), Span::raw("—")],
    };
    out.push(Line::from(balance));

    let lost = get(m, "lost_updates").unwrap_or(0.0);
    let lost_style = if lost > 0.0 {
        WRONG
    } else {
        ratatui::style::Style::new()
    };
    out.push(Line::from(vec![
        label("lost updates"),
        Span::styled(show(m, "lost_updates"), lost_style),
    ]));

    out.push(progress_line(run, width));

    if mode == "lock" {
        let acq = get(m, "acquisitions").unwrap_or(0.0);
        let contended = get(m, "contended").unwrap_or(0.0);
        let pct = if acq > 0.0 {
            contended * 100.0 / acq
        } else {
            0.0
        };
        let yellow = ratatui::style::Style::new().fg(ratatui::style::Color::Yellow);
        out.push(Line::from(vec![
            label("lock"),
            Span::raw(format!("{} taken, ", si(acq))),
            Span::styled(format!("{} had to wait ({pct:.1}%)", si(contended)), yellow),
        ]));
        out.push(Line::from(vec![
            label("hand-offs"),
            Span::raw(format!(
                "{} · waited {}, longest {}",
                si(get(m, "owner_changes").unwrap_or(0.0)),
                duration_ns(get(m, "wait_ns_total").unwrap_or(0.0)),
                duration_ns(get(m, "wait_ns_max").unwrap_or(0.0))
            )),
        ]));
    }

    out.push(Line::from(vec![
        label("throughput"),
        Span::raw(format!(
            "{} changes/s",
            si(get(m, "ops_per_sec").unwrap_or(0.0))
        )),
    ]));
    if done {
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

/// One bar per thread (up to 4; more are summed into one bar).
fn progress_line(run: &Figures, width: u16) -> Line<'static> {
    let m = run.live;
    let threads = run.params.int("threads") as usize;
    let total = get(m, "iterations_total").unwrap_or(0.0);
    let mut spans = vec![label("progress")];
    if total <= 0.0 {
        spans.push(Span::styled("—", DIM));
        return Line::from(spans);
    }
    if threads <= 4 {
        let per = total / threads as f64;
        let bar_w = ((width as usize).saturating_sub(14) / threads)
            .saturating_sub(8)
            .clamp(3, 20);
        for i in 0..threads {
            let f = get(m, &format!("thread_{i}_done")).unwrap_or(0.0) / per;
            spans.push(Span::raw(format!("t{i} ")));
            spans.push(Span::styled(bar(f, bar_w), RIGHT));
            spans.push(Span::raw(format!("{:>4.0}% ", f * 100.0)));
        }
    } else {
        let f = get(m, "iterations_done").unwrap_or(0.0) / total;
        spans.push(Span::styled(bar(f, 20), RIGHT));
        spans.push(Span::raw(format!(
            "{:>4.0}% of {threads} threads",
            f * 100.0
        )));
    }
    Line::from(spans)
}
