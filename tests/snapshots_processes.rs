//! View snapshots of the processes half: the pool's TIMELINE and the QUEUE panel, drawn into
//! ratatui's `TestBackend` from fixed models built through `App::update` (the messages the
//! event loop would send), compared with `insta` snapshots under `tests/snapshots/`.
//!
//! The models are what real runs send: the runner and its children announce themselves and
//! trace what they do (a submit, a task, a put, a get as spans that carry the item's flow; the
//! depth as a count), the runner publishes live figures and a report, and `Worker::finish`
//! announces each child's exit. Fixed PIDs and times; no runner, clock or sampler.

mod common;

use common::view::{
    announce, begin, count, draw, end, event, exit, exited, fg_of, idle, log, press, rows,
    runner_up,
};
use conlab::app::App;
use conlab::event::Body;
use conlab::lab::channel::{DEPTH, GET, PUT};
use conlab::report::{Metrics, Report};
use conlab::runner::RunId;
use conlab::scenarios::pool::{RESULT, SUBMIT, TASK};
use crossterm::event::KeyCode;
use ratatui::style::Color;

const RUNNER: u32 = 5000;

fn live(app: &mut App, run: RunId, t_ms: f64, figures: &[(&str, f64)]) {
    let mut metrics = Metrics::default();
    for (name, value) in figures {
        metrics.set(name, *value);
    }
    event(app, run, t_ms, RUNNER, Body::Live { metrics });
}

fn report(app: &mut App, run: RunId, scenario: &str, wall_ms: f64, m: Metrics, notes: &[&str]) {
    let body = Body::Report {
        report: Box::new(Report {
            scenario: scenario.into(),
            ok: true,
            wall_ms,
            metrics: m,
            notes: notes.iter().map(|n| n.to_string()).collect(),
            ..Report::default()
        }),
    };
    event(app, run, wall_ms, RUNNER, body);
}

/// Enter, and the runner comes up as the event loop reports it.
fn start(app: &mut App) -> RunId {
    press(app, KeyCode::Enter);
    let run = *app.runs.keys().last().expect("Enter started a run");
    runner_up(app, run, RUNNER);
    run
}

const WORKERS: [u32; 4] = [5003, 5005, 5007, 5009];
/// Seed 1's sleeps with max_sleep_ms=3000: task 3 ends first and its worker takes task 4.
const SLEEPS: [f64; 5] = [2777.0, 1125.0, 1819.0, 239.0, 845.0];

/// A pool run up to `until` ms: workers up, five tasks queued, four started at once, the
/// fifth on the worker that frees first. Times as a real run logs them.
fn pool_until(app: &mut App, run: RunId, until: f64) {
    log(
        app,
        run,
        0.5,
        RUNNER,
        "parent process 5000 starts a pool of 4 worker processes",
    );
    for (i, pid) in WORKERS.iter().enumerate() {
        announce(app, run, 2.0 + i as f64, *pid, RUNNER, "worker");
    }
    for task in 0..5u64 {
        let at = 6.0 + 0.01 * task as f64;
        let name = format!("submit task {task}");
        begin(app, run, at, RUNNER, 10 + task, SUBMIT, &name, task);
        end(app, run, at + 0.005, RUNNER, 10 + task);
    }
    log(
        app,
        run,
        6.2,
        RUNNER,
        "task 4 waits: all 4 workers are busy",
    );
    // (time, pid, task, began): each task's span on its worker, and its result on the runner.
    let mut steps: Vec<(f64, u32, u64, bool)> = Vec::new();
    for (task, pid) in WORKERS.iter().enumerate() {
        let start = 8.0 + 0.3 * task as f64;
        steps.push((start, *pid, task as u64, true));
        steps.push((start + SLEEPS[task], *pid, task as u64, false));
    }
    let start4 = 8.9 + SLEEPS[3] + 0.4;
    steps.push((start4, WORKERS[3], 4, true));
    steps.push((start4 + SLEEPS[4], WORKERS[3], 4, false));
    steps.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut next_live = 100.0;
    for (at, pid, task, began) in steps.into_iter().filter(|h| h.0 <= until) {
        while next_live < at {
            live(app, run, next_live, &[("progress_pct", 0.0)]);
            next_live += 100.0;
        }
        let span = 100 + task;
        if began {
            begin(app, run, at, pid, span, TASK, &format!("task {task}"), task);
            log(app, run, at, pid, &format!("run task {task} {pid}"));
        } else {
            end(app, run, at, pid, span);
            let secs = SLEEPS[task as usize] / 1000.0;
            log(
                app,
                run,
                at,
                pid,
                &format!("finish task {task} use {secs:.2} seconds"),
            );
            let result = format!("result of task {task}");
            begin(app, run, at + 0.1, RUNNER, 20 + task, RESULT, &result, task);
            end(app, run, at + 0.1, RUNNER, 20 + task);
        }
    }
    while next_live <= until {
        live(app, run, next_live, &[("progress_pct", 0.0)]);
        next_live += 100.0;
    }
}

fn finished_pool(width: u16, height: u16) -> App {
    let mut app = idle("pool", width, height);
    let run = start(&mut app);
    pool_until(&mut app, run, 3000.0);
    log(&mut app, run, 2785.5, RUNNER, "all tasks done");
    for (i, pid) in WORKERS.iter().enumerate() {
        exit(&mut app, run, 2786.0 + i as f64, *pid, "code 0");
    }
    let mut m = Metrics::default();
    for (name, value) in [
        ("workers", 4.0),
        ("tasks", 5.0),
        ("tasks_done", 5.0),
        ("tasks_waited", 1.0),
        ("wait_ms_max", 242.29),
        ("max_concurrent", 4.0),
        ("busy_pct", 61.4),
        ("wall_ms", 2790.2),
    ] {
        m.set(name, value);
    }
    report(
        &mut app,
        run,
        "pool",
        2790.2,
        m,
        &[
            "task 4 waited 242 ms for a free worker: all 4 were busy; it started when task 3 ended on worker 5009 (248 ms)",
            "after close(), adding a task failed as it should: the pool is closed: after close() no task can be added (Python raises ValueError: Pool not running)",
        ],
    );
    exited(&mut app, run, "code 0");
    app
}

fn running_pool(width: u16, height: u16) -> App {
    let mut app = idle("pool", width, height);
    let run = start(&mut app);
    pool_until(&mut app, run, 200.0);
    app
}

/// The row that starts (after the panel border) with `pid`.
fn worker_row(screen: &[String], pid: u32) -> String {
    screen
        .iter()
        .find(|r| r.contains(&format!("  {pid} ")) && (r.contains('█') || r.contains('▒')))
        .unwrap_or_else(|| panic!("no timeline row for {pid}:\n{}", screen.join("\n")))
        .clone()
}

fn queued_row(screen: &[String]) -> String {
    screen
        .iter()
        .find(|r| r.contains("│queued "))
        .unwrap_or_else(|| panic!("no queued row:\n{}", screen.join("\n")))
        .clone()
}

#[test]
fn pool_timeline_finished() {
    for (w, h) in [(80, 24), (200, 60)] {
        let app = finished_pool(w, h);
        let terminal = draw(&app, w, h);
        let screen = rows(terminal.backend().buffer());
        let text = screen.join("\n");
        assert!(text.contains("TIMELINE"), "{text}");
        assert!(text.contains("task 4 waited"), "{text}");
        for pid in WORKERS {
            let row = worker_row(&screen, pid);
            assert!(row.contains('█'), "{row}");
        }
        // Task 4 ran on the worker task 3 freed, after it.
        let row = worker_row(&screen, WORKERS[3]);
        let (three, four) = (row.find('3').unwrap(), row.rfind('4').unwrap());
        assert!(
            three < four,
            "task 3 before task 4 on worker {}: {row}",
            WORKERS[3]
        );
        assert!(
            queued_row(&screen).contains("4░"),
            "task 4 waited on the queued row:\n{text}"
        );
        insta::assert_snapshot!(format!("pool_done_{w}x{h}"), terminal.backend());
    }
}

#[test]
fn pool_timeline_while_task_4_waits() {
    for (w, h) in [(80, 24), (200, 60)] {
        let app = running_pool(w, h);
        let terminal = draw(&app, w, h);
        let buffer = terminal.backend().buffer();
        let screen = rows(buffer);
        let text = screen.join("\n");
        assert!(
            text.contains("TIMELINE · 4 running · 1 queued · 0 done"),
            "{text}"
        );
        for pid in WORKERS {
            assert!(worker_row(&screen, pid).contains('▒'), "{text}");
        }
        assert!(queued_row(&screen).contains("4░"), "{text}");
        assert_eq!(fg_of(buffer, "░"), Color::Yellow, "the queue is yellow");
        insta::assert_snapshot!(format!("pool_running_{w}x{h}"), terminal.backend());
    }
}

const READER: u32 = 5003;
const WRITER: u32 = 5005;

fn finished_queue(width: u16, height: u16) -> App {
    let mut app = idle("queue", width, height);
    let run = start(&mut app);
    log(
        &mut app,
        run,
        0.6,
        RUNNER,
        "parent process 5000 made a message queue of capacity 10",
    );
    announce(&mut app, run, 2.0, READER, RUNNER, "reader");
    announce(&mut app, run, 2.5, WRITER, RUNNER, "writer");
    log(&mut app, run, 1.0, READER, "process to read: 5003");
    log(&mut app, run, 1.0, WRITER, "process to write: 5005");
    // The reader's events may overtake the writer's: they come through another pipe. Each get
    // began when the reader started to wait for its item.
    let items = [
        ("A", 4.409, 2.0, 4.443, 1.0),
        ("B", 696.527, 4.5, 696.564, 0.0),
        ("C", 1516.787, 696.6, 1516.875, 1.0),
    ];
    for (i, (item, put, waited, got, depth)) in items.iter().enumerate() {
        let flow = i as u64;
        begin(&mut app, run, *waited, READER, flow, GET, item, flow);
        end(&mut app, run, *got, READER, flow);
        count(&mut app, run, *got, READER, DEPTH, 0.0);
        log(
            &mut app,
            run,
            *got,
            READER,
            &format!("get {item} from queue"),
        );
        begin(&mut app, run, *put, WRITER, flow, PUT, item, flow);
        end(&mut app, run, put + 0.01, WRITER, flow);
        count(&mut app, run, put + 0.01, WRITER, DEPTH, *depth);
        log(
            &mut app,
            run,
            put + 0.01,
            WRITER,
            &format!("put {item} to queue..."),
        );
    }
    live(
        &mut app,
        run,
        1600.0,
        &[("queue_depth", 0.0), ("capacity", 10.0)],
    );
    exit(&mut app, run, 2391.0, WRITER, "code 0");
    log(&mut app, run, 2391.1, RUNNER, "writer 5005 joined: code 0");
    log(
        &mut app,
        run,
        2391.2,
        RUNNER,
        "the reader 5003 loops forever: terminate() sends it SIGTERM",
    );
    exit(&mut app, run, 2392.0, READER, "signal 15 (SIGTERM)");
    let mut m = Metrics::default();
    for (name, value) in [
        ("capacity", 10.0),
        ("items", 3.0),
        ("items_put", 3.0),
        ("items_got", 3.0),
        ("got_in_order", 1.0),
        ("latency_p50_us", 37.0),
        ("latency_max_us", 88.0),
        ("depth_max", 1.0),
        ("reader_terminated", 1.0),
        ("wall_ms", 2392.5),
    ] {
        m.set(name, value);
    }
    report(
        &mut app,
        run,
        "queue",
        2392.5,
        m,
        &[
            "the reader got A, B, C in the order they were put",
            "the reader, blocked in get() waiting for more, was terminated: signal 15 (SIGTERM)",
        ],
    );
    exited(&mut app, run, "code 0");
    app
}

#[test]
fn queue_panel_after_the_reader_was_terminated() {
    for (w, h) in [(80, 24), (200, 60)] {
        let app = finished_queue(w, h);
        let terminal = draw(&app, w, h);
        let buffer = terminal.backend().buffer();
        let text = rows(buffer).join("\n");
        for wanted in [
            "QUEUE",
            "put 3 · got 3",
            "reader 5003 signal 15 (SIGTERM)",
            "34.0 µs",
        ] {
            assert!(text.contains(wanted), "`{wanted}` missing:\n{text}");
        }
        let at = |item: &str| {
            text.find(&format!("{item}     put"))
                .unwrap_or_else(|| panic!("no line for {item}:\n{text}"))
        };
        let (a, b, c) = (at("A"), at("B"), at("C"));
        assert!(a < b && b < c, "items in the order they were put:\n{text}");
        assert_eq!(fg_of(buffer, "signal 15 (SIGTERM)"), Color::Red);
        insta::assert_snapshot!(format!("queue_items_{w}x{h}"), terminal.backend());
    }
}

#[test]
fn queue_panel_in_rate_mode() {
    let (w, h) = (80, 24);
    let mut app = idle("queue", w, h);
    // mode=rate through the form, as a user would set it.
    press(&mut app, KeyCode::Char('e'));
    press(&mut app, KeyCode::Right);
    press(&mut app, KeyCode::Enter);
    let run = start(&mut app);
    announce(&mut app, run, 2.0, READER, RUNNER, "reader");
    announce(&mut app, run, 2.5, WRITER, RUNNER, "writer");
    for (i, depth) in [0.0, 3.0, 10.0, 10.0, 9.0, 10.0, 7.0, 10.0]
        .iter()
        .enumerate()
    {
        let got = 12_000.0 * i as f64;
        live(
            &mut app,
            run,
            100.0 * (i + 1) as f64,
            &[
                ("queue_depth", *depth),
                ("capacity", 10.0),
                ("items_put", got + 9.0),
                ("items_got", got),
                ("items_expected", 100_000.0),
            ],
        );
    }
    let terminal = draw(&app, w, h);
    let text = rows(terminal.backend().buffer()).join("\n");
    assert!(text.contains("mode=rate"), "{text}");
    assert!(text.contains("max 10 of 10"), "{text}");
    assert!(text.contains("84.0 k of 100.0 k items through"), "{text}");
    insta::assert_snapshot!("queue_rate_running_80x24", terminal.backend());
}

/// The pool's TIMELINE in Chinese (`L`): the sentence, the key and the queued row in the
/// pool's own Chinese words (工作进程, 任务), the queued row's label padded by columns so its
/// bars stay under the lanes'.
#[test]
fn pool_timeline_in_chinese() {
    for (w, h) in [(80, 24), (200, 60)] {
        let mut app = finished_pool(w, h);
        press(&mut app, KeyCode::Char('L'));
        let terminal = draw(&app, w, h);
        let buffer = terminal.backend().buffer();
        let screen = rows(buffer);
        let text = screen.join("\n");
        for wanted in [
            "时间线 · 任务 4 等了 242 ms 才等到空闲的工作进程",
            "█ 已运行  ▒ 运行中  ░ 排队：等待空闲的工作进程",
        ] {
            assert!(text.contains(wanted), "{w}x{h}: no `{wanted}`:\n{text}");
        }
        // The queued row's label takes the 8 columns the lanes' PIDs take (`   5003 `), by
        // columns: task 4, queued from the start, is drawn in the chart's first column.
        let (lane_x, _) = common::view::find(buffer, &format!("   {} ", WORKERS[0])).unwrap();
        let (label_x, queued_y) = common::view::find(buffer, "排队").unwrap();
        assert_eq!(label_x, lane_x, "{text}");
        assert_eq!(
            buffer[(label_x + 8, queued_y)].symbol(),
            "4",
            "task 4 in the chart's first column:\n{text}"
        );
        insta::assert_snapshot!(format!("pool_done_zh_{w}x{h}"), terminal.backend());
    }
}
