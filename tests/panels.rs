//! Panel kinds in isolation: each drawn from its own state and a run's figures, with no
//! dashboard around it, into ratatui's `TestBackend`, compared with `insta` snapshots. A kind is
//! built from typed events exactly as a run sends them, so these snapshots change only when the
//! kind itself does — never because a scenario was added.

use conlab::event::{Body, Event};
use conlab::exit::Exit;
use conlab::i18n::{Lang, Term};
use conlab::lab::channel::{DEPTH, GET, PUT};
use conlab::lab::sweep;
use conlab::metrics::Metrics;
use conlab::panels::channel::Channel;
use conlab::panels::sweep::Sweep;
use conlab::panels::timeline::Timeline;
use conlab::panels::{Figures, channel, lock, multicore, sweep as sweep_panel, timeline};
use conlab::params::Params;
use conlab::scenarios::{ChannelSpec, Figure, Plot, SweepSpec, TimelineSpec};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Wrap};

/// A timeline in another scenario's words: nothing in the kind is a pool's.
const CRAWLER: TimelineSpec = TimelineSpec {
    lane_role: "fetcher",
    lane: "fetcher",
    bar: "fetch",
    item: "page",
    waits_for: "a free fetcher",
};

fn draw(lines: Vec<Line<'static>>, width: u16, height: u16) -> Terminal<TestBackend> {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal
        .draw(|f| f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), f.area()))
        .unwrap();
    terminal
}

fn figures<'a>(params: &'a Params, metrics: &'a Metrics, done: bool, t_ms: f64) -> Figures<'a> {
    Figures {
        params,
        metrics,
        live: metrics,
        done,
        active: !done,
        t_ms,
    }
}

fn begin(t: f64, pid: u32, span: u64, cat: &str, name: &str, flow: u64) -> Event {
    Event::new(
        t,
        pid,
        Body::Begin {
            span,
            cat: cat.into(),
            name: name.into(),
            tid: Some(pid),
            flow: Some(flow),
        },
    )
}

fn end(t: f64, pid: u32, span: u64) -> Event {
    Event::new(t, pid, Body::End { span })
}

/// Three fetchers, six pages; page 5 waits; fetcher 12 is killed by SIGSEGV mid-page.
fn crawl() -> Timeline {
    let mut t = Timeline::default();
    let mut events = Vec::new();
    for pid in [11, 12, 13] {
        events.push(Event::new(
            1.0,
            pid,
            Body::Process {
                ppid: 10,
                role: "fetcher".into(),
            },
        ));
    }
    for page in 0..6u64 {
        events.push(begin(2.0, 10, 100 + page, "submit", "submit", page));
        events.push(end(2.1, 10, 100 + page));
    }
    for (page, pid, from, to) in [
        (0, 11, 3.0, 400.0),
        (1, 12, 3.0, 250.0),
        (2, 13, 3.0, 700.0),
        (3, 12, 251.0, 600.0),
        (4, 11, 401.0, 800.0),
        (5, 13, 701.0, 900.0),
    ] {
        events.push(begin(from, pid, page, "fetch", "page", page));
        if page != 3 {
            events.push(end(to, pid, page));
        }
    }
    events.push(Event::new(
        520.0,
        12,
        Body::ProcessExit {
            exit: Exit::Signal(11),
        },
    ));
    for e in &events {
        t.observe(&CRAWLER, e);
    }
    t
}

#[test]
fn timeline_in_another_scenarios_words_with_a_crash() {
    let t = crawl();
    let params = Params::defaults(&[]);
    let metrics = Metrics::default();
    let fig = figures(&params, &metrics, true, 900.0);
    let terminal = draw(timeline::lines(Some((&fig, &t)), &CRAWLER, 60), 60, 10);
    let text = format!("{:?}", terminal.backend());
    for wanted in [
        "page 5 waited",
        "for a free fetcher",
        "1 fetcher crashed",
        "✗",
    ] {
        assert!(text.contains(wanted), "no `{wanted}`:\n{text}");
    }
    assert!(!text.contains("task") && !text.contains("worker"), "{text}");
    insta::assert_snapshot!("timeline_crawler_60x10", terminal.backend());
}

#[test]
fn timeline_before_a_run() {
    let terminal = draw(timeline::lines(None, &CRAWLER, 60), 60, 3);
    insta::assert_snapshot!("timeline_not_run_60x3", terminal.backend());
}

#[test]
fn channel_with_traced_items() {
    let mut c = Channel::default();
    let spec = ChannelSpec { name: "pipe" };
    for (i, (item, put, got)) in [("x", 1.0, 1.5), ("y", 2.0, 4.0), ("z", 5.0, 0.0)]
        .iter()
        .enumerate()
    {
        let flow = i as u64;
        c.observe(&begin(*put, 2, flow, PUT, item, flow));
        c.observe(&end(put + 0.1, 2, flow));
        c.observe(&Event::new(
            put + 0.1,
            2,
            Body::Count {
                name: DEPTH.into(),
                value: 1.0,
            },
        ));
        if *got > 0.0 {
            c.observe(&begin(*put, 3, flow, GET, item, flow));
            c.observe(&end(*got, 3, flow));
        }
    }
    let params = Params::defaults(&[]);
    let metrics = Metrics::default();
    let fig = figures(&params, &metrics, false, 6.0);
    let terminal = draw(channel::lines(Some((&fig, &c)), &spec, 60), 60, 8);
    let text = format!("{:?}", terminal.backend());
    assert!(
        text.contains("PIPE") && text.contains("in the pipe"),
        "{text}"
    );
    insta::assert_snapshot!("channel_items_60x8", terminal.backend());
}

#[test]
fn lock_and_multicore_figures() {
    let params = Params::from_assignments(
        conlab::scenarios::find("lock").unwrap().params,
        &["mode=nolock".to_string()],
    )
    .unwrap();
    let mut m = Metrics::default();
    for (name, value) in [
        ("balance", -42.0),
        ("expected_balance", 0.0),
        ("lost_updates", 1234.0),
        ("iterations_done", 2_000_000.0),
        ("iterations_total", 2_000_000.0),
        ("wall_ms", 31.0),
    ] {
        m.set(name, value);
    }
    let fig = figures(&params, &m, true, 31.0);
    let terminal = draw(lock::lines(Some(&fig), 60), 60, 8);
    insta::assert_snapshot!("lock_nolock_60x8", terminal.backend());

    let params = Params::defaults(conlab::scenarios::find("multicore").unwrap().params);
    let mut m = Metrics::default();
    for (name, value) in [
        ("cpu_cores_used", 1.93),
        ("workers", 2.0),
        ("ops_per_sec", 5.1e8),
        ("ops_per_cpu_sec", 2.6e8),
        ("wall_ms", 2000.0),
        ("thread_0_run_pct", 97.0),
        ("thread_1_run_pct", 96.0),
    ] {
        m.set(name, value);
    }
    let fig = figures(&params, &m, true, 2000.0);
    let terminal = draw(multicore::lines(Some(&fig), 60), 60, 8);
    insta::assert_snapshot!("multicore_threads_60x8", terminal.backend());
}

/// A sweep in another scenario's words: a cache's hit rate and throughput against its size.
const CACHE: SweepSpec = SweepSpec {
    x: Term::new("entries", "条目数"),
    plots: &[
        Plot {
            figure: HITS,
            log: false,
        },
        Plot {
            figure: Figure {
                name: "lookups_per_sec",
                label: Term::new("lookups", "查找"),
            },
            log: true,
        },
    ],
    series: &[("lru", Term::new("least recently used", "最近最少使用"))],
    latest: &[HITS],
};

const HITS: Figure = Figure {
    name: "hit_pct",
    label: Term::new("hits", "命中率"),
};

/// Sizes 1 … 4096 for two policies: LRU's hits climb faster than FIFO's.
fn cache_points() -> Vec<Event> {
    let mut events = Vec::new();
    for k in 0..=12 {
        let size = f64::from(1u32 << k);
        for (series, reach) in [("lru", 8.0), ("fifo", 10.0)] {
            let mut figures = Metrics::default();
            figures.set("hit_pct", 100.0 * (f64::from(k) / reach).min(1.0));
            figures.set("lookups_per_sec", 1e3 * 2f64.powi(k));
            events.push(Event::new(
                f64::from(k),
                10,
                Body::Point {
                    series: series.into(),
                    x: size,
                    figures,
                },
            ));
        }
    }
    events
}

fn sweep_plan(planned: usize) -> Metrics {
    let mut m = Metrics::default();
    sweep::plan(&mut m, planned, 1.0, 4096.0);
    m
}

/// Braille dots drawn: each set bit of a braille cell is one.
fn dots(text: &str) -> u32 {
    text.chars()
        .filter(|c| ('\u{2801}'..='\u{28ff}').contains(c))
        .map(|c| (c as u32 - 0x2800).count_ones())
        .sum()
}

#[test]
fn sweep_draws_each_point_as_it_arrives_in_another_scenarios_words() {
    let events = cache_points();
    let params = Params::defaults(&[]);
    let metrics = sweep_plan(events.len());
    let mut state = Sweep::default();
    let mut drawn = Vec::new();
    for (i, e) in events.iter().enumerate() {
        state.observe(e);
        let fig = figures(&params, &metrics, false, e.t_ms);
        let lines = sweep_panel::lines(Some((&fig, &state)), &CACHE, Lang::En, 60, 9);
        let text = format!("{:?}", draw(lines, 60, 9).backend());
        let count = match i + 1 {
            26 => "26 points".to_string(),
            n => format!("{n} of 26 points"),
        };
        assert!(text.contains(&count), "{text}");
        drawn.push(dots(&text));
        if i == 7 {
            insta::assert_snapshot!(
                "sweep_cache_running_60x9",
                draw(
                    sweep_panel::lines(Some((&fig, &state)), &CACHE, Lang::En, 60, 9),
                    60,
                    9
                )
                .backend()
            );
        }
    }
    // Every point after a series' first draws a stretch of line: the chart only grows.
    assert!(drawn.windows(2).all(|w| w[1] >= w[0]), "{drawn:?}");
    assert!(drawn[2] > drawn[0] && drawn[25] > drawn[12], "{drawn:?}");

    let done = figures(&params, &metrics, true, 12.0);
    let lines = sweep_panel::lines(Some((&done, &state)), &CACHE, Lang::En, 60, 20);
    let terminal = draw(lines, 60, 20);
    let text = format!("{:?}", terminal.backend());
    for wanted in [
        "26 points",
        "least recently used",
        "fifo",
        "hits by entries",
        "lookups",
        "4096",
        "100%",
    ] {
        assert!(text.contains(wanted), "no `{wanted}`:\n{text}");
    }
    assert!(!text.contains("task") && !text.contains("switch"), "{text}");
    assert!(
        !text.contains("latest"),
        "a finished sweep shows no latest point: {text}"
    );
    insta::assert_snapshot!("sweep_cache_done_60x20", terminal.backend());
}

#[test]
fn sweep_speaks_chinese_with_the_words_its_scenario_gives() {
    let mut state = Sweep::default();
    for e in cache_points().iter().take(4) {
        state.observe(e);
    }
    let params = Params::defaults(&[]);
    let metrics = sweep_plan(26);
    let fig = figures(&params, &metrics, false, 2.0);
    let lines = sweep_panel::lines(Some((&fig, &state)), &CACHE, Lang::Zh, 60, 9);
    let text: String = lines.iter().map(|l| l.to_string() + "\n").collect();
    for wanted in ["扫描", "最近最少使用", "命中率", "条目数", "最新"] {
        assert!(text.contains(wanted), "no `{wanted}`:\n{text}");
    }
}

#[test]
fn sweep_before_a_run_and_before_its_first_point() {
    let terminal = draw(sweep_panel::lines(None, &CACHE, Lang::En, 60, 9), 60, 3);
    insta::assert_snapshot!("sweep_not_run_60x3", terminal.backend());
    let params = Params::defaults(&[]);
    let empty = Metrics::default();
    let fig = figures(&params, &empty, false, 0.0);
    let lines = sweep_panel::lines(Some((&fig, &Sweep::default())), &CACHE, Lang::En, 60, 9);
    let text: String = lines.iter().map(|l| l.to_string()).collect();
    assert!(text.contains("waiting for the first point"), "{text}");
}

/// A panel never draws past its width, however narrow or wide, with or without points.
#[test]
fn sweep_lines_fit_their_width() {
    let mut state = Sweep::default();
    for e in cache_points() {
        state.observe(&e);
    }
    let params = Params::defaults(&[]);
    let metrics = sweep_plan(26);
    for width in [20u16, 40, 58, 80, 200] {
        for done in [false, true] {
            let fig = figures(&params, &metrics, done, 12.0);
            for line in sweep_panel::lines(Some((&fig, &state)), &CACHE, Lang::En, width, 12) {
                assert!(line.width() <= usize::from(width), "{width}: {line}");
            }
        }
    }
}
