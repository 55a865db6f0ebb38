//! The CHANNEL kind: a channel between processes — a producer puts, a consumer gets (a POSIX
//! message queue, and any later pair that traces itself in [`crate::lab::channel`]'s words).
//! The processes and how they ended, the depth over time as a sparkline, latency figures, and
//! the recent items: who put each one when, who got it when, how long it was in the channel.
//! A run that does not trace items one by one (too many to draw) shows the runner's live
//! counts and, at the end, its latency distribution.

use super::Figures;
use crate::event::{Body, Event};
use crate::exit::Exit;
use crate::i18n::Lang;
use crate::lab::channel::{self, Traffic};
use crate::report::{Metrics, Num};
use crate::scenarios::ChannelSpec;
use crate::style::{DIM, LABEL, RIGHT, WRONG, duration_ms, duration_ns, label, pad, si, sparkline};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use std::collections::{BTreeMap, VecDeque};

crate::i18n::phrases! {
    pub WORDS {
        not_run: "Not run yet. Enter runs it: who puts and who gets, the {name}'s depth, and each item's time in it show here."
            => "还没运行。按 Enter 运行：谁放入、谁取出、{name}的深度，以及每条数据在其中停留的时间都会显示在这里。",
        capacity: "capacity {n} · " => "容量 {n} · ",
        traffic: "put {put} · got {got}" => "放入 {put} · 取出 {got}",
        depth: "depth" => "深度",
        depth_max: " max {most}" => " 最大 {most}",
        of_capacity: " of {n}" => " / {n}",
        running: "running" => "运行中",
        starting: "starting its processes…" => "正在启动它的进程…",
        latency: "latency" => "延迟",
        median_max: "median {median} · max {max}" => "中位数 {median} · 最大 {max}",
        none_got: "no item got yet" => "还没有取出数据",
        by: " by {role} {pid}" => "（{role} {pid}）",
        put: "put {at}{who}" => "放入 {at}{who}",
        got: " → got {at}{who}" => " → 取出 {at}{who}",
        inside: " → in the {name}" => " → 还在{name}里",
        early: "  {n} got, their puts still on the way" => "  已取出 {n} 条，它们的放入事件还在路上",
        percentiles: "p50 {p50} · p99 {p99} · max {max}" => "p50 {p50} · p99 {p99} · 最大 {max}",
        timed_later: "timed by the consumer; figures at the end" => "由取出方计时；结束时给出数字",
        throughput: "throughput" => "吞吐量",
        items_per_sec: "{n} items/s" => "{n} 条/秒",
        progress: "progress" => "进度",
        through: "{n}{of} items through" => "已通过 {n}{of} 条",
        through_of: " of {n}" => " / {n}",
    }
}

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
    lang: Lang,
) -> Vec<Line<'static>> {
    let name = spec.name.get(lang);
    let Some((figures, q)) = run else {
        let text = WORDS.not_run.with(lang, &[("name", &name)]);
        return vec![Line::from(Span::styled(text, DIM))];
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
    let capacity_text = capacity.map_or(String::new(), |c| {
        WORDS.capacity.with(lang, &[("n", &format!("{c:.0}"))])
    });
    let traffic = WORDS
        .traffic
        .with(lang, &[("put", &si(puts)), ("got", &si(gets))]);
    out.push(Line::from(vec![
        Span::styled(
            format!("{} ", name.to_uppercase()),
            LABEL.add_modifier(Modifier::BOLD),
        ),
        Span::raw(format!("{capacity_text}{traffic}")),
    ]));
    out.push(processes_line(q, lang));

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
    let of = capacity.map_or(String::new(), |c| {
        WORDS.of_capacity.with(lang, &[("n", &format!("{c:.0}"))])
    });
    out.push(Line::from(vec![
        label(WORDS.depth.get(lang)),
        Span::styled(sparkline(scaled.iter(), spark_w), yellow),
        Span::raw(format!(
            "{}{of}",
            WORDS.depth_max.with(lang, &[("most", &most)])
        )),
    ]));

    if counted {
        out.extend(counted_lines(figures, m, lang));
    } else {
        out.extend(item_lines(q, spec, width, lang));
    }
    out
}

/// `writer 3875 code 0 · reader 3873 signal 15 (SIGTERM)`, or `running` for those still up:
/// the processes of the run but its runner, producers first.
fn processes_line(q: &Channel, lang: Lang) -> Line<'static> {
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
            None => Span::styled(WORDS.running.get(lang), Style::new().fg(Color::Yellow)),
        });
    }
    if spans.is_empty() {
        spans.push(Span::styled(WORDS.starting.get(lang), DIM));
    }
    Line::from(spans)
}

/// Traced items: the latency summary, then one line per recent item: put, got, time inside.
fn item_lines(q: &Channel, spec: &ChannelSpec, width: u16, lang: Lang) -> Vec<Line<'static>> {
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
        (Some(_), Some(hi)) => WORDS.median_max.with(
            lang,
            &[
                ("median", &us(latencies[(latencies.len() - 1) / 2])),
                ("max", &us(*hi)),
            ],
        ),
        _ => WORDS.none_got.get(lang).to_string(),
    };
    out.push(Line::from(vec![
        label(WORDS.latency.get(lang)),
        Span::raw(summary),
    ]));

    let wide = width >= WIDE;
    let who = |pid: u32| {
        if wide {
            WORDS
                .by
                .with(lang, &[("role", &q.role(pid)), ("pid", &pid)])
        } else {
            String::new()
        }
    };
    let recent: Vec<(&u64, &channel::Step)> =
        traffic.puts.iter().rev().take(RECENT_ITEMS).collect();
    for (i, put) in recent.into_iter().rev() {
        let mut spans = vec![
            Span::styled(
                format!("  {}", pad(&put.item, 6)),
                Style::new().add_modifier(Modifier::BOLD),
            ),
            Span::raw(WORDS.put.with(
                lang,
                &[("at", &duration_ms(put.at_ms)), ("who", &who(put.pid))],
            )),
        ];
        match traffic.gets.get(i) {
            Some(g) => {
                spans.push(Span::raw(WORDS.got.with(
                    lang,
                    &[("at", &duration_ms(g.at_ms)), ("who", &who(g.pid))],
                )));
                if let Some(l) = traffic.latency_ms(*i) {
                    spans.push(Span::styled(format!(" · {}", us(l * 1000.0)), RIGHT));
                }
            }
            None => spans.push(Span::styled(
                WORDS.inside.with(lang, &[("name", &spec.name.get(lang))]),
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
            WORDS.early.with(lang, &[("n", &early)]),
            DIM,
        )));
    }
    out
}

/// Items only counted: live counts while running; the latency distribution once done.
fn counted_lines(figures: &Figures, m: &Metrics, lang: Lang) -> Vec<Line<'static>> {
    let mut out = Vec::new();
    let latency = |q: &str| get(m, &crate::lab::latency::metric_name("latency", q));
    let latency_label = label(WORDS.latency.get(lang));
    match (latency("p50"), latency("p99")) {
        (Some(p50), Some(p99)) => out.push(Line::from(vec![
            latency_label,
            Span::raw(WORDS.percentiles.with(
                lang,
                &[
                    ("p50", &us(p50)),
                    ("p99", &us(p99)),
                    ("max", &us(latency("max").unwrap_or(0.0))),
                ],
            )),
        ])),
        _ => out.push(Line::from(vec![
            latency_label,
            Span::styled(WORDS.timed_later.get(lang), DIM),
        ])),
    }
    if let Some(r) = get(m, channel::ITEMS_PER_SEC) {
        out.push(Line::from(vec![
            label(WORDS.throughput.get(lang)),
            Span::raw(WORDS.items_per_sec.with(lang, &[("n", &si(r))])),
        ]));
    } else if figures.active {
        let of = get(m, channel::ITEMS_EXPECTED).map_or(String::new(), |n| {
            WORDS.through_of.with(lang, &[("n", &si(n))])
        });
        let got = si(get(m, channel::ITEMS_GOT).unwrap_or(0.0));
        out.push(Line::from(vec![
            label(WORDS.progress.get(lang)),
            Span::raw(WORDS.through.with(lang, &[("n", &got), ("of", &of)])),
        ]));
    }
    out
}
