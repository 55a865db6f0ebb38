//! The CHANNEL kind: a channel between processes — a producer puts, a consumer gets (a POSIX
//! message queue, and any later pair that traces itself in [`crate::lab::channel`]'s words).
//! The processes and how they ended, the depth over time as a sparkline, latency figures, and
//! the recent items: who put each one when, who got it when, how long it was in the channel.
//! A run that does not trace items one by one (too many to draw) shows the runner's live
//! counts and, at the end, its latency distribution.

use super::Figures;
use crate::event::{Body, Event};
use crate::exit::Exit;
use crate::lab::channel::{self, Traffic};
use crate::report::{Metrics, Num};
use crate::scenarios::ChannelSpec;
use crate::style::{DIM, LABEL, RIGHT, WRONG, duration_ms, duration_ns, label, si, sparkline};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use std::collections::{BTreeMap, VecDeque};

/// Live depth samples kept for the sparkline.
pub const DEPTH_SAMPLES: usize = 240;
/// Items listed at most (the newest).
const RECENT_ITEMS: usize = 6;
/// From this width on, each item's line also says which process put and got it.
const WIDE: u16 = 90;

/// A channel's processes and traffic, built from the run's events.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Channel {
    /// Role of each process that announced itself.
    pub roles: BTreeMap<u32, String>,
    pub exits: BTreeMap<u32, Exit>,
    pub traffic: Traffic,
    /// The depth the runner publishes live, when items are not traced one by one.
    pub live_depth: VecDeque<u64>,
}

impl Channel {
    pub fn observe(&mut self, event: &Event) {
        match &event.body {
            Body::Process { role, .. } => {
                self.roles.insert(event.pid, role.clone());
            }
            Body::ProcessExit { exit } => {
                self.exits.insert(event.pid, *exit);
            }
            Body::Live { metrics } => {
                if let Some(d) = metrics.get(channel::LIVE_DEPTH) {
                    if self.live_depth.len() == DEPTH_SAMPLES {
                        self.live_depth.pop_front();
                    }
                    self.live_depth.push_back(d.as_f64() as u64);
                }
            }
            _ => {
                self.traffic.observe(event);
            }
        }
    }

    /// The role a process announced, or `?`.
    fn role(&self, pid: u32) -> &str {
        self.roles.get(&pid).map_or("?", String::as_str)
    }

    /// Items are traced one by one (else only counted).
    fn traced(&self) -> bool {
        !self.traffic.puts.is_empty() || !self.traffic.gets.is_empty()
    }
}

fn get(m: &Metrics, name: &str) -> Option<f64> {
    m.get(name).map(Num::as_f64)
}

fn us(x: f64) -> String {
    duration_ns(x * 1e3)
}

pub fn lines(
    run: Option<(&Figures, &Channel)>,
    spec: &ChannelSpec,
    width: u16,
) -> Vec<Line<'static>> {
    let Some((figures, q)) = run else {
        return vec![Line::from(Span::styled(
            format!(
                "Not run yet. Enter runs it: who puts and who gets, the {}'s depth, and each item's time in it show here.",
                spec.name
            ),
            DIM,
        ))];
    };
    let m = figures.metrics;
    let counted = !q.traced() && get(m, channel::ITEMS_PUT).is_some();
    let capacity = get(m, channel::CAPACITY);
    let mut out = Vec::new();

    let (puts, gets) = if counted {
        (
            get(m, channel::ITEMS_PUT).unwrap_or(0.0),
            get(m, channel::ITEMS_GOT).unwrap_or(0.0),
        )
    } else {
        (q.traffic.puts.len() as f64, q.traffic.gets.len() as f64)
    };
    let capacity_text = capacity.map_or(String::new(), |c| format!("capacity {c:.0} · "));
    out.push(Line::from(vec![
        Span::styled(
            format!("{} ", spec.name.to_uppercase()),
            LABEL.add_modifier(Modifier::BOLD),
        ),
        Span::raw(format!(
            "{capacity_text}put {} · got {}",
            si(puts),
            si(gets)
        )),
    ]));
    out.push(processes_line(q));

    let series: Vec<u64> = if counted {
        q.live_depth.iter().copied().collect()
    } else {
        q.traffic.depth_series()
    };
    let most = series.iter().copied().max().unwrap_or(0);
    let full = capacity.unwrap_or(most as f64).max(1.0);
    let scaled: Vec<f32> = series
        .iter()
        .map(|d| *d as f32 * 100.0 / full as f32)
        .collect();
    let spark_w = (width as usize).saturating_sub(13 + 14).clamp(4, 60);
    let yellow = Style::new().fg(Color::Yellow);
    let of = capacity.map_or(String::new(), |c| format!(" of {c:.0}"));
    out.push(Line::from(vec![
        label("depth"),
        Span::styled(sparkline(scaled.iter(), spark_w), yellow),
        Span::raw(format!(" max {most}{of}")),
    ]));

    if counted {
        out.extend(counted_lines(figures, m));
    } else {
        out.extend(item_lines(q, spec, width));
    }
    out
}

/// `writer 3875 code 0 · reader 3873 signal 15 (SIGTERM)`, or `running` for those still up:
/// the processes of the run but its runner, producers first.
fn processes_line(q: &Channel) -> Line<'static> {
    let producers: Vec<u32> = q.traffic.puts.values().map(|s| s.pid).collect();
    let mut children: Vec<(&u32, &String)> = q
        .roles
        .iter()
        .filter(|(_, role)| *role != crate::runner::RUNNER)
        .collect();
    children.sort_by_key(|(pid, _)| (!producers.contains(pid), **pid));
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
        spans.push(Span::styled("starting its processes…", DIM));
    }
    Line::from(spans)
}

/// Traced items: the latency summary, then one line per recent item: put, got, time inside.
fn item_lines(q: &Channel, spec: &ChannelSpec, width: u16) -> Vec<Line<'static>> {
    let traffic = &q.traffic;
    let mut out = Vec::new();
    let mut latencies: Vec<f64> = traffic
        .gets
        .keys()
        .filter_map(|i| traffic.latency_ms(*i))
        .map(|ms| ms * 1000.0)
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
    let who = |pid: u32| {
        if wide {
            format!(" by {} {pid}", q.role(pid))
        } else {
            String::new()
        }
    };
    let recent: Vec<(&u64, &channel::Step)> =
        traffic.puts.iter().rev().take(RECENT_ITEMS).collect();
    for (i, put) in recent.into_iter().rev() {
        let mut spans = vec![
            Span::styled(
                format!("  {:<6}", put.item),
                Style::new().add_modifier(Modifier::BOLD),
            ),
            Span::raw(format!("put {}{}", duration_ms(put.at_ms), who(put.pid))),
        ];
        match traffic.gets.get(i) {
            Some(g) => {
                spans.push(Span::raw(format!(
                    " → got {}{}",
                    duration_ms(g.at_ms),
                    who(g.pid)
                )));
                if let Some(l) = traffic.latency_ms(*i) {
                    spans.push(Span::styled(format!(" · {}", us(l * 1000.0)), RIGHT));
                }
            }
            None => spans.push(Span::styled(
                format!(" → in the {}", spec.name),
                Style::new().fg(Color::Yellow),
            )),
        }
        out.push(Line::from(spans));
    }
    // Gets whose put has not arrived yet (their pipes race) still show.
    let early = traffic
        .gets
        .keys()
        .filter(|i| !traffic.puts.contains_key(i))
        .count();
    if early > 0 && traffic.puts.is_empty() {
        out.push(Line::from(Span::styled(
            format!("  {early} got, their puts still on the way"),
            DIM,
        )));
    }
    out
}

/// Items only counted: live counts while running; the latency distribution once done.
fn counted_lines(figures: &Figures, m: &Metrics) -> Vec<Line<'static>> {
    let mut out = Vec::new();
    let latency = |q: &str| get(m, &crate::lab::latency::metric_name("latency", q));
    match (latency("p50"), latency("p99")) {
        (Some(p50), Some(p99)) => out.push(Line::from(vec![
            label("latency"),
            Span::raw(format!(
                "p50 {} · p99 {} · max {}",
                us(p50),
                us(p99),
                us(latency("max").unwrap_or(0.0)),
            )),
        ])),
        _ => out.push(Line::from(vec![
            label("latency"),
            Span::styled("timed by the consumer; figures at the end", DIM),
        ])),
    }
    if let Some(r) = get(m, channel::ITEMS_PER_SEC) {
        out.push(Line::from(vec![
            label("throughput"),
            Span::raw(format!("{} items/s", si(r))),
        ]));
    } else if figures.active {
        out.push(Line::from(vec![
            label("progress"),
            Span::raw(format!(
                "{}{} items through",
                si(get(m, channel::ITEMS_GOT).unwrap_or(0.0)),
                get(m, channel::ITEMS_EXPECTED).map_or(String::new(), |n| format!(" of {}", si(n)))
            )),
        ]));
    }
    out
}
