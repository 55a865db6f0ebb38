//! The QUEUE panel: the writer and the reader and how they ended, the queue's depth over time
//! as a sparkline, latency figures, and the recent items: who put each one when, who got it
//! when, and how long it spent in the queue.

use crate::app::ipc::QueueHistory;
use crate::app::run::Run;
use crate::report::{Metrics, Num};
use crate::style::{DIM, LABEL, RIGHT, WRONG, duration_ms, duration_ns, label, si, sparkline};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};

/// Items listed at most (the newest).
const RECENT_ITEMS: usize = 6;
/// From this width on, each item's line also says which process put and got it.
const WIDE: u16 = 90;

fn get(m: &Metrics, name: &str) -> Option<f64> {
    m.get(name).map(Num::as_f64)
}

fn us(x: f64) -> String {
    duration_ns(x * 1e3)
}

pub fn lines(run: Option<&Run>, width: u16) -> Vec<Line<'static>> {
    let Some(run) = run else {
        return vec![Line::from(Span::styled(
            "Not run yet. Enter starts a writer and a reader process around one queue; mode=rate measures its throughput.",
            DIM,
        ))];
    };
    let Some(q) = run.queue() else {
        return Vec::new();
    };
    let m = run.metrics();
    let rate = run
        .params
        .get("mode")
        .is_some_and(|v| v.to_string() == "rate");
    let capacity = get(m, "capacity").unwrap_or(run.params.int("capacity") as f64);
    let mut out = Vec::new();

    let (puts, gets) = if rate {
        (
            get(m, "items_put").unwrap_or(0.0),
            get(m, "items_got").unwrap_or(0.0),
        )
    } else {
        (q.put_times.len() as f64, q.get_times.len() as f64)
    };
    out.push(Line::from(vec![
        Span::styled("QUEUE ", LABEL.add_modifier(Modifier::BOLD)),
        Span::raw(format!(
            "capacity {capacity:.0} · put {} · got {}",
            si(puts),
            si(gets)
        )),
    ]));
    out.push(processes_line(q));

    let series: Vec<u64> = if rate {
        q.live_depth.iter().copied().collect()
    } else {
        q.depth_series()
    };
    let most = series.iter().copied().max().unwrap_or(0);
    let scaled: Vec<f32> = series
        .iter()
        .map(|d| *d as f32 * 100.0 / capacity.max(1.0) as f32)
        .collect();
    let spark_w = (width as usize).saturating_sub(13 + 14).clamp(4, 60);
    let yellow = Style::new().fg(Color::Yellow);
    out.push(Line::from(vec![
        label("depth"),
        Span::styled(sparkline(scaled.iter(), spark_w), yellow),
        Span::raw(format!(" max {most} of {capacity:.0}")),
    ]));

    if rate {
        out.extend(rate_lines(run, m));
    } else {
        out.extend(item_lines(q, width));
    }
    out
}

/// `writer 3875 code 0 · reader 3873 signal 15 (SIGTERM)`, or `running` for those still up.
fn processes_line(q: &QueueHistory) -> Line<'static> {
    let mut children: Vec<(&u32, &String)> = q
        .roles
        .iter()
        .filter(|(_, role)| *role != crate::runner::RUNNER)
        .collect();
    // The writer first: items go from it to the reader.
    children.sort_by_key(|(pid, role)| (role.as_str() != "writer", **pid));
    let mut spans = Vec::new();
    for (pid, role) in children {
        if !spans.is_empty() {
            spans.push(Span::raw(" · "));
        }
        spans.push(Span::styled(format!("{role} {pid} "), LABEL));
        spans.push(match q.exits.get(pid) {
            Some(exit) if exit.signal().is_some() => Span::styled(exit.to_string(), WRONG),
            Some(exit) => Span::styled(exit.to_string(), DIM),
            None => Span::styled("running", Style::new().fg(Color::Yellow)),
        });
    }
    if spans.is_empty() {
        spans.push(Span::styled("starting the writer and the reader…", DIM));
    }
    Line::from(spans)
}

/// Items mode: the latency summary, then one line per recent item: put, got, time queued.
fn item_lines(q: &QueueHistory, width: u16) -> Vec<Line<'static>> {
    let mut out = Vec::new();
    let mut latencies: Vec<f64> = (0..q.get_times.len())
        .filter_map(|i| q.latency_us(i))
        .collect();
    latencies.sort_by(f64::total_cmp);
    let summary = match (latencies.first(), latencies.last()) {
        (Some(_), Some(hi)) => format!(
            "median {} · max {}",
            us(latencies[(latencies.len() - 1) / 2]),
            us(*hi)
        ),
        _ => "no item got yet".to_string(),
    };
    out.push(Line::from(vec![label("latency"), Span::raw(summary)]));

    let wide = width >= WIDE;
    let puts: Vec<_> = q.recent.iter().filter(|e| e.put).collect();
    for put in puts.iter().rev().take(RECENT_ITEMS).rev() {
        let got = q.recent.iter().find(|e| !e.put && e.index == put.index);
        let who = |pid: u32| {
            if wide {
                format!(" by {} {pid}", q.role(pid))
            } else {
                String::new()
            }
        };
        let mut spans = vec![
            Span::styled(
                format!("  {:<6}", put.item),
                Style::new().add_modifier(Modifier::BOLD),
            ),
            Span::raw(format!("put {}{}", duration_ms(put.at_ms), who(put.pid))),
        ];
        match got {
            Some(g) => {
                spans.push(Span::raw(format!(
                    " → got {}{}",
                    duration_ms(g.at_ms),
                    who(g.pid)
                )));
                if let Some(l) = q.latency_us(put.index) {
                    spans.push(Span::styled(format!(" · {}", us(l)), RIGHT));
                }
            }
            None => spans.push(Span::styled(
                " → in the queue",
                Style::new().fg(Color::Yellow),
            )),
        }
        out.push(Line::from(spans));
    }
    // Gets whose put line has not arrived yet (their pipes race) still show.
    let orphans = q
        .recent
        .iter()
        .filter(|e| !e.put && !q.recent.iter().any(|p| p.put && p.index == e.index))
        .count();
    if orphans > 0 && puts.is_empty() {
        out.push(Line::from(Span::styled(
            format!("  {orphans} got, their puts still on the way"),
            DIM,
        )));
    }
    out
}

/// Rate mode: live counts while running; the reader's latency distribution once done.
fn rate_lines(run: &Run, m: &Metrics) -> Vec<Line<'static>> {
    let mut out = Vec::new();
    match (get(m, "latency_p50_us"), get(m, "latency_p99_us")) {
        (Some(p50), Some(p99)) => out.push(Line::from(vec![
            label("latency"),
            Span::raw(format!(
                "p50 {} · p99 {} · max {}",
                us(p50),
                us(p99),
                us(get(m, "latency_max_us").unwrap_or(0.0)),
            )),
        ])),
        _ => out.push(Line::from(vec![
            label("latency"),
            Span::styled("timed by the reader; figures at the end", DIM),
        ])),
    }
    if let Some(r) = get(m, "items_per_sec") {
        out.push(Line::from(vec![
            label("throughput"),
            Span::raw(format!("{} items/s", si(r))),
        ]));
    } else if run.is_active() {
        let count = run.params.int("count") as f64;
        out.push(Line::from(vec![
            label("progress"),
            Span::raw(format!(
                "{} of {} items through",
                si(get(m, "items_got").unwrap_or(0.0)),
                si(count)
            )),
        ]));
    }
    out
}
