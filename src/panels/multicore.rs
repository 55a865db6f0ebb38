//! The multicore scenario's figures: how many cores the busy loops really used, their
//! throughput, and with the GIL each thread's share of time holding it, waiting, and running.

use super::Figures;
use crate::report::Num;
use crate::style::{DIM, RIGHT, WRONG, bar, duration_ms, label, si};
use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};

pub fn lines(run: Option<&Figures>, width: u16) -> Vec<Line<'static>> {
    let Some(run) = run else {
        return vec![Line::from(Span::styled(
            "Not run yet. Enter starts the busy loops; watch the CPU panel. c runs threads, gil and processes in turn.",
            DIM,
        ))];
    };
    let m = run.metrics;
    let get = |name: &str| m.get(name).map(Num::as_f64);
    let cores = get("workers").unwrap_or(run.params.int("workers") as f64);
    let mut out = Vec::new();
    if let Some(used) = get("cpu_cores_used") {
        let style = if used >= cores * 0.8 {
            RIGHT
        } else {
            Style::new().fg(Color::Yellow)
        };
        out.push(Line::from(vec![
            label("cores used"),
            Span::styled(bar(used / cores.max(1.0), 16), style),
            Span::styled(format!(" {used:.2} of {cores:.0} workers"), style),
        ]));
    }
    if let Some(ops) = get("ops_per_sec") {
        let mut text = format!("{} ops/s", si(ops));
        if let Some(per_cpu) = get("ops_per_cpu_sec") {
            text.push_str(&format!(" · {} per CPU-second", si(per_cpu)));
        }
        if run.done {
            text.push_str(&format!(
                " · wall {}",
                duration_ms(get("wall_ms").unwrap_or(0.0))
            ));
        }
        out.push(Line::from(vec![label("throughput"), Span::raw(text)]));
    }
    if let Some(handoffs) = get("gil_handoffs") {
        let rate = get("gil_handoffs_per_sec")
            .map(|r| format!(" ({}/s)", si(r)))
            .unwrap_or_default();
        out.push(Line::from(vec![
            label("GIL"),
            Span::raw(format!("{} hand-offs{rate}", si(handoffs))),
        ]));
    }
    let bar_w = ((width as usize).saturating_sub(13 + 3 * 11) / 3).clamp(4, 16);
    let shown = (cores as usize).min(8);
    for i in 0..shown {
        let Some(run_pct) = get(&format!("thread_{i}_run_pct")) else {
            break;
        };
        let mut spans = vec![label(&format!("thread {i}"))];
        for (name, pct, style) in [
            ("hold", get(&format!("thread_{i}_hold_pct")), RIGHT),
            ("wait", get(&format!("thread_{i}_wait_pct")), WRONG),
            ("run", Some(run_pct), Style::new().fg(Color::Cyan)),
        ] {
            let Some(pct) = pct else { continue };
            spans.push(Span::raw(format!("{name} ")));
            spans.push(Span::styled(bar(pct / 100.0, bar_w), style));
            spans.push(Span::raw(format!("{pct:>4.0}%  ")));
        }
        out.push(Line::from(spans));
    }
    out
}
