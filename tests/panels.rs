//! Panel kinds in isolation: each drawn from its own state and a run's figures, with no
//! dashboard around it, into ratatui's `TestBackend`, compared with `insta` snapshots. A kind is
//! built from typed events exactly as a run sends them, so these snapshots change only when the
//! kind itself does — never because a scenario was added.

use conlab::event::{Body, Event};
use conlab::exit::Exit;
use conlab::lab::channel::{DEPTH, GET, PUT};
use conlab::metrics::Metrics;
use conlab::panels::channel::Channel;
use conlab::panels::timeline::Timeline;
use conlab::panels::{Figures, channel, lock, multicore, timeline};
use conlab::params::Params;
use conlab::scenarios::{ChannelSpec, TimelineSpec};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Wrap};

/// A timeline in another scenario's words: nothing in the kind is a pool's.
const CRAWLER: TimelineSpec = TimelineSpec {
    lane_role: "fetcher",
    lane_thread: None,
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
        "✗ SIGSEGV",
    ] {
        assert!(text.contains(wanted), "no `{wanted}`:\n{text}");
    }
    assert!(!text.contains("task") && !text.contains("worker"), "{text}");
    insta::assert_snapshot!("timeline_crawler_60x10", terminal.backend());
}

/// The crawler's fetchers as threads of one process: fetcher-1 is cut short mid-page (a mark
/// with the page's flow: it panicked) and fetches no more; the page is handed out again and
/// fetched on fetcher-0.
fn threaded_crawl() -> Timeline {
    let mut t = Timeline::default();
    let mut events = Vec::new();
    for (tid, name) in [(21, "fetcher-0"), (22, "fetcher-1"), (23, "reporter")] {
        events.push(Event::new(
            0.5,
            10,
            Body::Thread {
                tid,
                name: name.into(),
            },
        ));
    }
    let on = |t: f64, tid: u32, span: u64, cat: &str, page: u64| {
        Event::new(
            t,
            10,
            Body::Begin {
                span,
                cat: cat.into(),
                name: format!("{cat} {page}"),
                tid: Some(tid),
                flow: Some(page),
            },
        )
    };
    for page in 0..5u64 {
        events.push(on(1.0, 10, 100 + page, "submit", page));
        events.push(end(1.1, 10, 100 + page));
    }
    for (span, tid, page, from, to) in [
        (1, 21, 0, 2.0, 150.0),
        (2, 22, 1, 2.0, 150.0),
        (3, 21, 3, 151.0, 300.0),
    ] {
        events.push(on(from, tid, span, "fetch", page));
        events.push(end(to, 10, span));
    }
    events.push(on(151.0, 22, 4, "fetch", 2));
    events.push(Event::new(
        200.0,
        10,
        Body::Mark {
            cat: "crash".into(),
            name: "panic on page 2".into(),
            tid: Some(22),
            flow: Some(2),
        },
    ));
    // The unwinding thread's span ends after the mark: it stays cut.
    events.push(end(200.5, 10, 4));
    events.push(on(201.0, 10, 200, "submit", 2));
    events.push(end(201.1, 10, 200));
    for (span, page, from, to) in [(5, 2, 301.0, 450.0), (6, 4, 451.0, 500.0)] {
        events.push(on(from, 21, span, "fetch", page));
        events.push(end(to, 10, span));
    }
    for e in &events {
        t.observe(&THREADED, e);
    }
    t
}

/// The crawler's words, its fetchers threads named `fetcher-N`.
const THREADED: TimelineSpec = TimelineSpec {
    lane_thread: Some("fetcher-"),
    ..CRAWLER
};

#[test]
fn timeline_of_thread_lanes_with_a_task_cut_short() {
    let t = threaded_crawl();
    assert_eq!(t.lanes, vec![21, 22], "the reporter thread is no lane");
    let params = Params::defaults(&[]);
    let metrics = Metrics::default();
    let fig = figures(&params, &metrics, true, 500.0);
    let terminal = draw(timeline::lines(Some((&fig, &t)), &THREADED, 60), 60, 10);
    let text = format!("{:?}", terminal.backend());
    for wanted in [
        "page 2 ran again",
        "panic on page 2",
        "     21 ",
        "     22 ",
    ] {
        assert!(text.contains(wanted), "no `{wanted}`:\n{text}");
    }
    insta::assert_snapshot!("timeline_threads_cut_60x10", terminal.backend());
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
