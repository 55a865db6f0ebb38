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

/// The lock panel in its other modes: a nolock run in rounds, a deadlock (who holds and waits
/// for what, asleep, no change for seconds), and the three CPython balances.
#[test]
fn lock_rounds_deadlock_and_python_figures() {
    let params_of = |sets: &[&str]| {
        let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
        Params::from_assignments(conlab::scenarios::find("lock").unwrap().params, &sets).unwrap()
    };
    let metrics_of = |figures: &[(&str, f64)]| {
        let mut m = Metrics::default();
        for (name, value) in figures {
            if value.fract() == 0.0 {
                m.set(name, *value as i64);
            } else {
                m.set(name, *value);
            }
        }
        m
    };
    let text = |terminal: &Terminal<TestBackend>| format!("{:?}", terminal.backend());

    let params = params_of(&["mode=nolock"]);
    let m = metrics_of(&[
        ("balance", 316.0),
        ("lost_updates", 51_204.0),
        ("repeats", 9.0),
        ("repeats_with_lost_updates", 7.0),
        ("iterations_done", 18_000_000.0),
        ("thread_0_done", 9_000_000.0),
        ("thread_1_done", 9_000_000.0),
        ("progress_pct", 100.0),
        ("ops_per_sec", 8.7e6),
        ("wall_ms", 2065.0),
        ("cpu_ms", 3900.0),
    ]);
    let terminal = draw(
        lock::lines(Some(&figures(&params, &m, true, 2065.0)), 60),
        60,
        6,
    );
    assert!(
        text(&terminal).contains("in 7 of 9 rounds"),
        "{}",
        text(&terminal)
    );
    insta::assert_snapshot!("lock_nolock_rounds_60x6", terminal.backend());

    let params = params_of(&["mode=deadlock"]);
    let m = metrics_of(&[
        ("deadlocked", 1.0),
        ("stalled_ms", 3_250.0),
        ("thread_0_done", 1_234.0),
        ("thread_0_holds", 1.0),
        ("thread_0_waits_for", 2.0),
        ("thread_0_asleep", 1.0),
        ("thread_1_done", 1_187.0),
        ("thread_1_holds", 2.0),
        ("thread_1_waits_for", 1.0),
        ("thread_1_asleep", 1.0),
        ("acquisitions", 4_843.0),
        ("contended", 12.0),
    ]);
    let terminal = draw(
        lock::lines(Some(&figures(&params, &m, false, 3300.0)), 80),
        80,
        6,
    );
    let shown = text(&terminal);
    for words in [
        "each holds the lock the other waits for",
        "no change for 3.25 s",
        "changer-0    holds A · waits for B",
        "changer-1    holds B · waits for A",
        "asleep in the kernel",
        "s stops it",
    ] {
        assert!(shown.contains(words), "`{words}` missing:\n{shown}");
    }
    insta::assert_snapshot!("lock_deadlock_80x6", terminal.backend());

    let params = params_of(&["mode=python"]);
    let m = metrics_of(&[
        ("python_tutorial_balance", 0.0),
        ("python_call_balance", 47.0),
        ("python_locked_balance", 0.0),
    ]);
    let terminal = draw(
        lock::lines(Some(&figures(&params, &m, true, 5000.0)), 60),
        60,
        3,
    );
    insta::assert_snapshot!("lock_python_60x3", terminal.backend());
}
