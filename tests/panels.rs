//! Panel kinds in isolation: each drawn from its own state and a run's figures, with no
//! dashboard around it, into ratatui's `TestBackend`, compared with `insta` snapshots. A kind is
//! built from typed events exactly as a run sends them, so these snapshots change only when the
//! kind itself does — never because a scenario was added.

use conlab::event::{Body, Event};
use conlab::exit::Exit;
use conlab::i18n::{Lang, Phrase};
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
    lane_thread: None,
    lane: Phrase::new("fetcher", "抓取进程"),
    bar: "fetch",
    item: Phrase::new("page", "页面"),
    waits_for: Phrase::new("a free fetcher", "空闲的抓取进程"),
    lane_mark: None,
    table: None,
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
    let terminal = draw(
        timeline::lines(Some((&fig, &t)), &CRAWLER, 60, 20, Lang::En),
        60,
        10,
    );
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
    let terminal = draw(
        timeline::lines(Some((&fig, &t)), &THREADED, 60, 20, Lang::En),
        60,
        10,
    );
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
    let terminal = draw(timeline::lines(None, &CRAWLER, 60, 3, Lang::En), 60, 3);
    insta::assert_snapshot!("timeline_not_run_60x3", terminal.backend());
}

#[test]
fn channel_with_traced_items() {
    let mut c = Channel::default();
    let spec = ChannelSpec {
        name: Phrase::new("pipe", "管道"),
    };
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
    let terminal = draw(channel::lines(Some((&fig, &c)), &spec, 60, Lang::En), 60, 8);
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
    let terminal = draw(lock::lines(Some(&fig), 60, Lang::En), 60, 8);
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
    let terminal = draw(multicore::lines(Some(&fig), 60, Lang::En), 60, 8);
    insta::assert_snapshot!("multicore_threads_60x8", terminal.backend());
}

/// With the GIL, a thread's line holds three shares, each named, barred and in percent: at the
/// width of the panel at 80x24 (58 columns) it stays one line, in either language.
#[test]
fn a_threads_shares_fit_one_line_in_either_language() {
    let params = Params::defaults(conlab::scenarios::find("multicore").unwrap().params);
    let mut m = Metrics::default();
    for (name, value) in [
        ("cpu_cores_used", 0.47),
        ("workers", 2.0),
        ("thread_0_hold_pct", 51.0),
        ("thread_0_wait_pct", 26.0),
        ("thread_0_run_pct", 23.0),
        ("thread_1_hold_pct", 49.0),
        ("thread_1_wait_pct", 100.0),
        ("thread_1_run_pct", 100.0),
    ] {
        m.set(name, value);
    }
    let fig = figures(&params, &m, false, 1000.0);
    for lang in [Lang::En, Lang::Zh] {
        for width in [58, 60, 120] {
            for line in multicore::lines(Some(&fig), width, lang) {
                assert!(
                    line.width() <= usize::from(width),
                    "{lang:?} at {width}: {} columns: {line}",
                    line.width()
                );
            }
        }
    }
}

/// Counts in words no scenario uses: the kind draws whatever it is told to.
const ORCHARD: conlab::scenarios::CountsSpec = conlab::scenarios::CountsSpec {
    series: &[
        conlab::scenarios::CountSeries {
            name: "apples_per_sec",
            en: "apples/s",
            zh: "每秒苹果",
        },
        conlab::scenarios::CountSeries {
            name: "pickers",
            en: "pickers",
            zh: "采摘工",
        },
        conlab::scenarios::CountSeries {
            name: "baskets",
            en: "baskets",
            zh: "篮子",
        },
    ],
};

#[test]
fn counts_as_sparklines_with_latest_and_peak_in_both_languages() {
    use conlab::i18n::Lang;
    use conlab::panels::counts::{self, Counts};
    let mut c = Counts::default();
    for (i, (rate, pickers)) in [(0.0, 1.0), (200.0, 3.0), (900.0, 3.0), (400.0, 2.0)]
        .into_iter()
        .enumerate()
    {
        let t = 100.0 * i as f64;
        for (name, value) in [("apples_per_sec", rate), ("pickers", pickers)] {
            c.observe(&Event::new(
                t,
                5,
                Body::Count {
                    name: name.into(),
                    value,
                },
            ));
        }
    }
    let params = Params::defaults(&[]);
    let metrics = Metrics::default();
    let fig = figures(&params, &metrics, false, 300.0);
    let en = draw(
        counts::lines(Some((&fig, &c)), &ORCHARD, Lang::En, 60),
        60,
        4,
    );
    let text = format!("{:?}", en.backend());
    assert!(
        text.contains("400 · peak 900") && text.contains("not counted yet"),
        "{text}"
    );
    insta::assert_snapshot!("counts_orchard_60x4", en.backend());
    let zh = draw(
        counts::lines(Some((&fig, &c)), &ORCHARD, Lang::Zh, 60),
        60,
        4,
    );
    let text = format!("{:?}", zh.backend());
    assert!(text.contains("峰值") && text.contains("尚未计数"), "{text}");
    let before = draw(counts::lines(None, &ORCHARD, Lang::En, 60), 60, 2);
    assert!(format!("{:?}", before.backend()).contains("Not run yet"));
}

const BAKERY: conlab::scenarios::TableSpec = conlab::scenarios::TableSpec {
    rows: &[
        conlab::scenarios::TableRow {
            key: "knead",
            en: "knead the dough",
            zh: "揉面",
            typical: "10 min (grandmother)",
        },
        conlab::scenarios::TableRow {
            key: "bake",
            en: "bake",
            zh: "烘烤",
            typical: "40 min (the recipe)",
        },
    ],
};

#[test]
fn table_rows_fill_in_as_they_are_measured() {
    use conlab::i18n::Lang;
    use conlab::panels::table;
    let params = Params::defaults(&[]);
    let mut m = Metrics::default();
    for (name, value) in [
        ("knead_ns", 1500.0),
        ("knead_q1_ns", 1400.0),
        ("knead_q3_ns", 1720.0),
        ("knead_spread_pct", 21.3),
    ] {
        m.set(name, value);
    }
    let fig = figures(&params, &m, false, 10.0);
    let running = draw(table::lines(Some(&fig), &BAKERY, Lang::En, 80), 80, 3);
    let text = format!("{:?}", running.backend());
    assert!(
        text.contains("1.50 µs") && text.contains("1.40 µs–1.72 µs") && text.contains("…"),
        "{text}"
    );
    assert!(text.contains("grandmother"), "{text}");
    insta::assert_snapshot!("table_bakery_running_80x3", running.backend());
    let zh = draw(table::lines(Some(&fig), &BAKERY, Lang::Zh, 60), 60, 3);
    let text = format!("{:?}", zh.backend());
    assert!(text.contains("揉面") && text.contains("公开测量"), "{text}");
    // Too narrow for the published column: it goes, and no row wraps.
    let narrow = draw(table::lines(Some(&fig), &BAKERY, Lang::En, 40), 40, 3);
    let text = format!("{:?}", narrow.backend());
    assert!(
        !text.contains("grandmother") && text.contains("1.50 µs"),
        "{text}"
    );
    let cut = draw(table::lines(Some(&fig), &BAKERY, Lang::En, 60), 60, 3);
    let text = format!("{:?}", cut.backend());
    assert!(text.contains("10 min (gran…"), "{text}");
    let done = figures(&params, &m, true, 10.0);
    let finished = draw(table::lines(Some(&done), &BAKERY, Lang::En, 80), 80, 3);
    assert!(format!("{:?}", finished.backend()).contains("—"));
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
        lock::lines(Some(&figures(&params, &m, true, 2065.0)), 60, Lang::En),
        60,
        6,
    );
    assert!(
        text(&terminal).contains("in 7 of 9 rounds"),
        "{}",
        text(&terminal)
    );
    insta::assert_snapshot!("lock_nolock_rounds_60x6", terminal.backend());

    // The fair lock is a lock: its balance waits inside it while running, and its panel
    // counts acquisitions, waits and hand-offs as a share, where a convoy shows.
    let params = params_of(&["mode=fair", "pin=spread"]);
    let m = metrics_of(&[
        ("repeats", 0.0),
        ("iterations_done", 300_000.0),
        ("thread_0_done", 150_000.0),
        ("thread_1_done", 150_000.0),
        ("progress_pct", 50.0),
        ("acquisitions", 300_000.0),
        ("contended", 240_000.0),
        ("owner_changes", 246_000.0),
        ("wait_ns_total", 2.9e9),
        ("wait_ns_max", 1.2e6),
        ("ops_per_sec", 0.2e6),
    ]);
    let terminal = draw(
        lock::lines(Some(&figures(&params, &m, false, 1500.0)), 80, Lang::En),
        80,
        6,
    );
    let shown = text(&terminal);
    for wanted in [
        "inside the lock",
        "300.0 k taken, 240.0 k had to wait (80.0%)",
        "hand-offs    246.0 k (82.0%) · waited 2.90 s, max 1.20 ms",
    ] {
        assert!(shown.contains(wanted), "no `{wanted}`: {shown}");
    }

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
        lock::lines(Some(&figures(&params, &m, false, 3300.0)), 80, Lang::En),
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
        lock::lines(Some(&figures(&params, &m, true, 5000.0)), 60, Lang::En),
        60,
        3,
    );
    insta::assert_snapshot!("lock_python_60x3", terminal.backend());
}

/// A sweep in another scenario's words: a cache's hit rate and throughput against its size.
const CACHE: SweepSpec = SweepSpec {
    x: Phrase::new("entries", "条目数"),
    plots: &[
        Plot {
            figure: HITS,
            log: false,
        },
        Plot {
            figure: Figure {
                name: "lookups_per_sec",
                label: Phrase::new("lookups", "查找"),
            },
            log: true,
        },
    ],
    series: &[("lru", Phrase::new("least recently used", "最近最少使用"))],
    latest: &[HITS],
};

const HITS: Figure = Figure {
    name: "hit_pct",
    label: Phrase::new("hits", "命中率"),
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
