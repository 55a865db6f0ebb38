//! View snapshots: the dashboard drawn into ratatui's `TestBackend` from fixed models built
//! through the public API (messages into `App::update`, as the event loop sends them), and
//! compared with `insta` snapshots under `tests/snapshots/`. No real runner, clock or sampler:
//! fixed PIDs, times, CPU figures and reports.
//!
//! Text snapshots cannot show colour, so the styles that carry meaning (a wrong balance in
//! red, exited processes dimmed) are asserted on the buffer directly.

mod common;

use common::view::{
    DASHBOARD, Screen, dashboard, draw, event, exited, feed_cpu, fg_of, find, find_in_row, idle,
    press, rows, runner_up, sample,
};
use conlab::app::{App, Effect, Msg};
use conlab::event::Body;
use conlab::keymap::Context;
use conlab::report::{Metrics, Report, group_thousands};
use conlab::runner::RunId;
use conlab::sampler::{ProcSample, ThreadSample};
use crossterm::event::KeyCode;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::style::{Color, Modifier};

/// Live counters of a lock run with two threads of `per_thread` iterations, `done` of them
/// done by thread 0 and 5% fewer by thread 1 (until both are done).
fn live(mode: &str, per_thread: i64, done: i64) -> Body {
    let t1 = if done >= per_thread {
        per_thread
    } else {
        done - done / 20
    };
    let mut m = Metrics::default();
    m.set("iterations_done", done + t1);
    m.set("iterations_total", 2 * per_thread);
    m.set("thread_0_done", done);
    m.set("thread_1_done", t1);
    if mode != "lock" {
        m.set("balance", if mode == "nolock" { 1_288i64 } else { 0 });
    }
    let locked = mode == "lock";
    m.set("lost_updates", if mode == "nolock" { done / 9 } else { 0 });
    // One round: it ends when both threads are done.
    let ended = i64::from(done >= per_thread);
    m.set("repeats", ended);
    m.set(
        "repeats_with_lost_updates",
        if mode == "nolock" { ended } else { 0 },
    );
    m.set("acquisitions", if locked { done + t1 } else { 0 });
    m.set("contended", if locked { (done + t1) / 16 } else { 0 });
    m.set("wait_ns_total", if locked { 98_765_432i64 } else { 0 });
    m.set("wait_ns_max", if locked { 1_234_567i64 } else { 0 });
    m.set("owner_changes", if locked { (done + t1) / 15 } else { 0 });
    m.set("ops_per_sec", 7_104_221.5);
    Body::Live { metrics: m }
}

/// A finished lock run's report, with the metrics in the order the scenario writes them.
fn report(mode: &str, balance: i64, lost: i64, wall_ms: f64) -> Body {
    let locked = mode == "lock";
    let ops = 2_000_000i64;
    let mut m = Metrics::default();
    m.set("balance", balance);
    m.set("expected_balance", 0i64);
    m.set("lost_updates", lost);
    m.set("repeats", 1i64);
    m.set("repeats_with_lost_updates", i64::from(lost > 0));
    m.set("acquisitions", if locked { ops } else { 0 });
    m.set("contended", if locked { 127_352i64 } else { 0 });
    m.set("contended_pct", if locked { 6.3676 } else { 0.0 });
    m.set("wait_ns_total", if locked { 167_247_339i64 } else { 0 });
    m.set("wait_ns_max", if locked { 2_314_518i64 } else { 0 });
    m.set("owner_changes", if locked { 130_349i64 } else { 0 });
    m.set("ops", ops);
    m.set("ops_per_sec", ops as f64 / (wall_ms / 1000.0));
    m.set("wall_ms", wall_ms);
    m.set("cpu_ms", wall_ms * 1.9);
    let note = match mode {
        "nolock" => format!(
            "{} updates were lost: a thread read the balance, another wrote in between, \
             and the first overwrote that write; balance ended at {}, not 0",
            group_thousands(lost),
            group_thousands(balance)
        ),
        "lock" => "balance stayed 0: each change ran alone; 127,352 of 2,000,000 acquisitions \
                   (6.4%) had to wait, and the lock changed hands 130,349 times (6.5%)"
            .to_string(),
        _ => "balance stayed 0 without any lock: fetch_add and fetch_sub are each one \
              indivisible read-modify-write"
            .to_string(),
    };
    // The runner writes every note in both languages; the Chinese screens show these.
    let note_zh = match mode {
        "nolock" => format!(
            "丢失了 {} 次更新：一个线程读了余额，另一个线程在中间写入，第一个线程又把那次写入覆盖了；\
             余额最后是 {}，不是 0",
            group_thousands(lost),
            group_thousands(balance)
        ),
        "lock" => {
            "余额保持为 0：每次修改都独自完成；2,000,000 次加锁中有 127,352 次（6.4%）需要等待，\
                   锁在线程之间易手 130,349 次（6.5%）"
                .to_string()
        }
        _ => {
            "不加锁余额也保持为 0：fetch_add 和 fetch_sub 各自是一次不可分割的读-改-写".to_string()
        }
    };
    let mut params = serde_json::Map::new();
    params.insert("mode".into(), mode.into());
    params.insert("threads".into(), 2.into());
    params.insert("iterations".into(), 1_000_000.into());
    Body::Report {
        report: Box::new(Report {
            scenario: "lock".into(),
            params,
            ok: true,
            wall_ms,
            metrics: m,
            notes: vec![note],
            notes_zh: vec![note_zh],
            ..Report::default()
        }),
    }
}

/// A whole run from the runner's first event to its reaping.
fn finished_run(app: &mut App, run: RunId, pid: u32, mode: &str, balance: i64, wall_ms: f64) {
    runner_up(app, run, pid);
    event(app, run, 100.0, pid, live(mode, 1_000_000, 400_000));
    event(app, run, wall_ms, pid, live(mode, 1_000_000, 1_000_000));
    let lost = if mode == "nolock" { 231_791 } else { 0 };
    event(
        app,
        run,
        wall_ms + 0.3,
        pid,
        report(mode, balance, lost, wall_ms),
    );
}

#[test]
fn idle_dashboard_80x24() {
    let app = idle("lock", 80, 24);
    let terminal = draw(&app, 80, 24);
    let screen = rows(terminal.backend().buffer()).join("\n");
    assert!(screen.contains("lock"), "the menu lists the scenario");
    assert!(screen.contains("CPU · 2 cores"), "{screen}");
    assert!(screen.contains("Processes · 0 live"), "{screen}");
    insta::assert_snapshot!("idle_80x24", terminal.backend());
}

#[test]
fn dashboard_before_the_first_sample_80x24() {
    let app = dashboard("lock", 80, 24);
    let terminal = draw(&app, 80, 24);
    insta::assert_snapshot!("unsampled_80x24", terminal.backend());
}

#[test]
fn finished_nolock_run_with_a_wrong_balance() {
    let mut app = idle("lock", 80, 24);
    assert_eq!(press(&mut app, KeyCode::Enter), vec![Effect::Start(1)]);
    finished_run(&mut app, 1, 4242, "nolock", -83_962, 87.3);
    exited(&mut app, 1, "code 0");
    feed_cpu(&mut app, 2, 2);

    for (w, h) in [(80, 24), (200, 60)] {
        let terminal = draw(&app, w, h);
        let buffer = terminal.backend().buffer();
        assert_eq!(fg_of(buffer, "✗ should be 0"), Color::Red, "{w}x{h}");
        // The reaped runner stays in the processes panel, dimmed, with its exit.
        // (The first "code 0" from the top is the table's; the log line is below it.)
        let (exit_x, y) = find(buffer, "code 0").expect("the runner's exit is shown");
        let pid_x = find_in_row(buffer, y, "4242").expect("PID and exit on one row");
        assert!(pid_x < exit_x);
        for x in [pid_x, exit_x] {
            assert_eq!(
                buffer[(x, y)].fg,
                Color::DarkGray,
                "{w}x{h}: exited rows are dim"
            );
        }
        insta::assert_snapshot!(format!("nolock_finished_{w}x{h}"), terminal.backend());
    }
}

/// A lock-mode run 43% through: mode set in the form, started with Enter, two live
/// snapshots and one sample of its process and threads.
fn running_lock() -> App {
    let mut app = idle("lock", 80, 24);
    assert_eq!(press(&mut app, KeyCode::Char('e')), vec![]);
    press(&mut app, KeyCode::Right);
    press(&mut app, KeyCode::Enter);
    assert_eq!(app.params[app.selected].word("mode"), "lock");
    assert_eq!(press(&mut app, KeyCode::Enter), vec![Effect::Start(1)]);
    runner_up(&mut app, 1, 4242);
    event(&mut app, 1, 100.0, 4242, live("lock", 1_000_000, 200_000));
    event(&mut app, 1, 200.0, 4242, live("lock", 1_000_000, 440_000));
    let thread =
        |tid: u32, name: &str, cpu_pct: f32, core: u32, vol: u64, invol: u64| ThreadSample {
            tid,
            name: name.into(),
            state: if cpu_pct > 50.0 { 'R' } else { 'S' },
            cpu_pct,
            core,
            voluntary_switches: vol,
            involuntary_switches: invol,
        };
    let runner = ProcSample {
        pid: 4242,
        ppid: DASHBOARD,
        pgrp: 4242,
        name: "conlab".into(),
        state: 'R',
        cpu_pct: 187.0,
        threads: 4,
        tasks: vec![
            thread(4242, "conlab", 0.0, 0, 3, 0),
            thread(4243, "changer-0", 94.0, 0, 21_388, 415),
            thread(4244, "changer-1", 92.5, 1, 20_917, 398),
            thread(4245, "conlab", 0.4, 1, 2, 0),
        ],
    };
    app.update(sample(&[96.0, 91.0], vec![runner]));
    app
}

#[test]
fn running_lock_run_with_live_figures() {
    let app = running_lock();
    for (w, h) in [(80, 24), (200, 60)] {
        let terminal = draw(&app, w, h);
        let screen = rows(terminal.backend().buffer()).join("\n");
        assert!(screen.contains("1 run active"), "{screen}");
        assert!(screen.contains("Processes · 1 live"), "{screen}");
        assert!(screen.contains("● running 43%"), "{screen}");
        assert!(
            !screen.contains("changer-0"),
            "threads hidden until t:\n{screen}"
        );
        insta::assert_snapshot!(format!("lock_running_{w}x{h}"), terminal.backend());
    }
}

#[test]
fn processes_panel_with_threads() {
    let mut app = running_lock();
    assert_eq!(press(&mut app, KeyCode::Char('t')), vec![]);
    for (w, h) in [(80, 24), (200, 60)] {
        let terminal = draw(&app, w, h);
        let screen = rows(terminal.backend().buffer()).join("\n");
        assert!(screen.contains("4242"), "{screen}");
        if h >= 40 {
            for name in ["changer-0", "changer-1", "└4244"] {
                assert!(screen.contains(name), "`{name}` missing:\n{screen}");
            }
        }
        insta::assert_snapshot!(format!("lock_threads_{w}x{h}"), terminal.backend());
    }
}

/// 16 cores: on a big screen a graph each, in two columns; more columns of a line each when
/// the terminal is short.
#[test]
fn cpu_panel_with_sixteen_cores() {
    for (w, h) in [(200, 60), (240, 24), (200, 24), (80, 24)] {
        let mut app = dashboard("lock", w, h);
        feed_cpu(&mut app, 16, 40);
        let terminal = draw(&app, w, h);
        let lines = rows(terminal.backend().buffer());
        let screen = lines.join("\n");
        assert!(screen.contains("CPU · 16 cores"), "{screen}");
        let shown = (0..16)
            .filter(|i| screen.contains(&format!("cpu{i} ")))
            .count();
        // A core's own line, not the summary naming the busiest.
        let row_of = |core: usize| {
            lines
                .iter()
                .position(|r| r.contains(&format!("cpu{core} ")) && !r.contains("busiest"))
        };
        // Every core fits at each of these sizes: on a big screen two columns of graphs two
        // lines tall, four narrow columns of a line each when there is no height.
        assert_eq!(shown, 16, "{w}x{h}:\n{screen}");
        match (w, h) {
            (200, 60) => {
                assert_eq!(row_of(8), row_of(0), "two columns:\n{screen}");
                assert_eq!(
                    row_of(7),
                    row_of(0).map(|r| r + 14),
                    "2-line graphs:\n{screen}"
                );
            }
            _ => {
                for core in [4, 8, 12] {
                    assert_eq!(row_of(core), row_of(0), "{w}x{h}: four columns:\n{screen}");
                }
            }
        }
        assert!(!screen.contains("enlarge the window"), "{w}x{h}:\n{screen}");
        insta::assert_snapshot!(format!("cpu16_{w}x{h}"), terminal.backend());
    }
}

/// Compare opened with `c`, each variant run to its end one after another.
fn compare_done() -> App {
    let mut app = idle("lock", 80, 24);
    assert_eq!(press(&mut app, KeyCode::Char('c')), vec![Effect::Start(1)]);
    finished_run(&mut app, 1, 5001, "nolock", -60_607, 62.8);
    assert_eq!(exited(&mut app, 1, "code 0"), vec![Effect::Start(2)]);
    finished_run(&mut app, 2, 5002, "lock", 0, 283.2);
    assert_eq!(exited(&mut app, 2, "code 0"), vec![Effect::Start(3)]);
    finished_run(&mut app, 3, 5003, "atomic", 0, 26.5);
    assert_eq!(exited(&mut app, 3, "code 0"), vec![]);
    app
}

#[test]
fn compare_with_three_finished_variants() {
    let app = compare_done();
    for (w, h) in [(80, 24), (200, 60)] {
        let terminal = draw(&app, w, h);
        let buffer = terminal.backend().buffer();
        let screen = rows(buffer).join("\n");
        assert_eq!(fg_of(buffer, "-60,607 ✗"), Color::Red, "{w}x{h}");
        assert_eq!(
            screen.matches('✗').count(),
            1,
            "only the wrong balance:\n{screen}"
        );
        if w >= 100 {
            assert!(screen.contains("62.8 ms 1.00×"), "{screen}");
            assert!(screen.contains("Summary: mode=atomic fastest"), "{screen}");
            assert!(screen.contains("lock 10.69× slower"), "{screen}");
        }
        insta::assert_snapshot!(format!("compare_done_{w}x{h}"), terminal.backend());
    }
}

/// At 80x24 the verdicts do not fit under the table: ↓ scrolls them into view, and no
/// further than the last.
#[test]
fn compare_verdicts_scroll_into_view_at_80x24() {
    let mut screen = Screen::new(compare_done());
    let before = screen.text();
    assert!(!before.contains("atomic: balance stayed 0"), "{before}");
    assert!(before.contains("└ +6 below · ↑↓"), "{before}");
    for _ in 0..20 {
        screen.press(KeyCode::Down);
    }
    let after = screen.text();
    assert!(after.contains("atomic: balance stayed 0"), "{after}");
    assert!(after.contains("└ +6 above · ↑↓"), "{after}");
    screen.press(KeyCode::Char('k'));
    let back_one = screen.text();
    assert!(
        back_one.contains("└ +5 above · +1 below · ↑↓"),
        "{back_one}"
    );
}

#[test]
fn compare_halfway() {
    let mut app = idle("lock", 80, 24);
    press(&mut app, KeyCode::Char('c'));
    finished_run(&mut app, 1, 5001, "nolock", 1_288, 62.8);
    exited(&mut app, 1, "code 0");
    runner_up(&mut app, 2, 5002);
    event(&mut app, 2, 100.0, 5002, live("lock", 1_000_000, 300_000));
    let terminal = draw(&app, 80, 24);
    let screen = rows(terminal.backend().buffer()).join("\n");
    assert!(
        screen.contains("· waiting"),
        "the third variant waits:\n{screen}"
    );
    insta::assert_snapshot!("compare_halfway_80x24", terminal.backend());
}

/// The help lists every key, one row each. (Whether the rows are whole is
/// `help_overlay_is_whole`.)
#[test]
fn help_overlay() {
    for (w, h) in [(80, 24), (200, 60)] {
        let mut app = idle("lock", w, h);
        press(&mut app, KeyCode::Char('?'));
        let terminal = draw(&app, w, h);
        let screen = rows(terminal.backend().buffer()).join("\n");
        for (key, what) in conlab::view::help::rows(Context::Main, conlab::i18n::Lang::En) {
            let start: String = what.chars().take(24).collect();
            assert!(
                screen.contains(&format!(" {key:<11}{start}")),
                "{w}x{h}: no row for `{key}`:\n{screen}"
            );
        }
        if h >= 30 {
            assert!(screen.contains("Any key closes this help."), "{screen}");
        }
        insta::assert_snapshot!(format!("help_{w}x{h}"), terminal.backend());
    }
}

#[test]
fn lesson_overlay() {
    let mut app = idle("lock", 80, 24);
    press(&mut app, KeyCode::Char('l'));
    let terminal = draw(&app, 80, 24);
    insta::assert_snapshot!("lesson_80x24", terminal.backend());
}

#[test]
fn parameter_form_with_a_validation_error() {
    let mut app = idle("lock", 80, 24);
    press(&mut app, KeyCode::Char('e'));
    press(&mut app, KeyCode::Down);
    press(&mut app, KeyCode::Backspace);
    press(&mut app, KeyCode::Char('0'));
    assert_eq!(
        press(&mut app, KeyCode::Enter),
        vec![],
        "refused, not applied"
    );
    for (w, h) in [(80, 24), (200, 60)] {
        let terminal = draw(&app, w, h);
        let buffer = terminal.backend().buffer();
        let error = "`threads`: 0 is out of range";
        assert_eq!(fg_of(buffer, error), Color::Red, "{w}x{h}");
        assert!(
            buffer[find(buffer, error).unwrap()]
                .modifier
                .contains(Modifier::BOLD)
        );
        insta::assert_snapshot!(format!("form_error_{w}x{h}"), terminal.backend());
    }
}

// Layout bugs once seen in the snapshots above, each pinned by what a user should see.

/// The compare view of three finished variants at 80x24.
fn compare_done_80x24() -> Terminal<TestBackend> {
    draw(&compare_done(), 80, 24)
}

#[test]
fn compare_ratios_are_whole_at_80x24() {
    let terminal = compare_done_80x24();
    let screen = rows(terminal.backend().buffer()).join("\n");
    for ratio in ["1.00×", "4.51×", "0.42×", "2.37×"] {
        assert!(screen.contains(ratio), "`{ratio}` cut:\n{screen}");
    }
}

#[test]
fn compare_summary_is_visible_at_80x24() {
    let terminal = compare_done_80x24();
    let screen = rows(terminal.backend().buffer()).join("\n");
    // One line ranks the variants by wall time: atomic 26.5 ms, nolock 62.8, lock 283.2.
    assert!(screen.contains("Summary: mode=atomic fastest"), "{screen}");
    assert!(screen.contains("lock 10.69× slower"), "{screen}");
}

/// The help describes the view it covers: in compare, compare's keys, and not the menu's.
#[test]
fn help_lists_the_keys_of_the_view_under_it() {
    let mut app = compare_done();
    press(&mut app, KeyCode::Char('?'));
    let screen = rows(draw(&app, 80, 24).backend().buffer()).join("\n");
    for (key, what) in conlab::view::help::rows(Context::Compare, conlab::i18n::Lang::En) {
        assert!(screen.contains(&what), "in compare, `{key}` cut:\n{screen}");
    }
    assert!(screen.contains("in compare: run again"), "{screen}");
    assert!(!screen.contains("edit its parameters"), "{screen}");
    let mut app = idle("lock", 80, 24);
    press(&mut app, KeyCode::Char('?'));
    let screen = rows(draw(&app, 80, 24).backend().buffer()).join("\n");
    assert!(screen.contains("edit its parameters"), "{screen}");
    assert!(!screen.contains("in compare: run again"), "{screen}");
}

#[test]
fn help_overlay_is_whole() {
    for (w, h) in [(200, 60), (80, 24)] {
        let mut app = idle("lock", w, h);
        press(&mut app, KeyCode::Char('?'));
        let terminal = draw(&app, w, h);
        let screen = rows(terminal.backend().buffer()).join("\n");
        for (key, what) in conlab::view::help::rows(Context::Main, conlab::i18n::Lang::En) {
            assert!(screen.contains(&what), "{w}x{h}: `{key}` cut:\n{screen}");
        }
        assert!(screen.contains("Any key closes this help."), "{screen}");
    }
}

#[test]
fn cpu_columns_are_separated() {
    let mut app = dashboard("lock", 240, 24);
    feed_cpu(&mut app, 16, 40);
    let terminal = draw(&app, 240, 24);
    let buffer = terminal.backend().buffer();
    for core in ["cpu4 ", "cpu8 ", "cpu12"] {
        let (x, y) = find(buffer, core).expect("four columns");
        assert_eq!(
            buffer[(x - 1, y)].symbol(),
            " ",
            "`{core}` glued to the column before:\n{}",
            rows(buffer)[y as usize]
        );
    }
}

#[test]
fn hidden_cores_note_keeps_the_border() {
    // More cores than even a character each can show at 80x24 (three lines of 64).
    let mut app = dashboard("lock", 80, 24);
    feed_cpu(&mut app, 512, 40);
    let terminal = draw(&app, 80, 24);
    let lines = rows(terminal.backend().buffer());
    let bottom = lines
        .iter()
        .find(|l| l.contains("enlarge the window"))
        .expect("the note");
    assert!(bottom.ends_with('┘'), "corner lost: {bottom:?}");
    assert!(bottom.contains("every 500 ms"), "interval lost: {bottom:?}");
}

/// Below 80x24 the panels would clip and cut numbers mid-token: only a message saying how
/// large the terminal must be, and how large it is, centred.
#[test]
fn below_80x24_only_the_size_it_needs() {
    for (w, h) in [(60, 20), (79, 24), (80, 23)] {
        // The window shrank under a dashboard in use.
        let mut app = idle("lock", 80, 24);
        app.update(Msg::Resize(w, h));
        let terminal = draw(&app, w, h);
        let screen = rows(terminal.backend().buffer()).join("\n");
        assert!(
            screen.contains("conlab needs 80x24") && screen.contains(&format!("is {w}x{h}")),
            "{w}x{h}:\n{screen}"
        );
        for panel in ["Scenarios", "CPU", "Processes"] {
            assert!(
                !screen.contains(panel),
                "{w}x{h}: `{panel}` drawn:\n{screen}"
            );
        }
        insta::assert_snapshot!(format!("too_small_{w}x{h}"), terminal.backend());
    }
}

/// A field typed past its limit: it stops at the limit (512 bytes for `input`), the form
/// says why the key was refused, and the field scrolls in its box — its end, where typing
/// goes, on screen — so the help, the message and the hints keep their places.
#[test]
fn parameter_form_with_a_full_field() {
    for (w, h) in [(80, 24), (200, 60)] {
        let mut app = idle("subprocess", w, h);
        press(&mut app, KeyCode::Char('e'));
        press(&mut app, KeyCode::Down);
        press(&mut app, KeyCode::Down);
        for _ in 0..20 {
            press(&mut app, KeyCode::Backspace);
        }
        for i in 0..3000 {
            press(&mut app, KeyCode::Char(char::from(b'a' + (i % 26) as u8)));
        }
        let terminal = draw(&app, w, h);
        let screen = rows(terminal.backend().buffer()).join("\n");
        // The 512th character typed is `r` (511 % 26 = 17): the end shows, cursor after it.
        assert!(
            screen.contains("opqr▏"),
            "{w}x{h}: the field's end:\n{screen}"
        );
        for wanted in [
            "`input` is full",
            "the text written to its stdin",
            "Enter applies · Esc cancels",
        ] {
            assert!(screen.contains(wanted), "{w}x{h}: no `{wanted}`:\n{screen}");
        }
        insta::assert_snapshot!(format!("form_full_field_{w}x{h}"), terminal.backend());
    }
}

/// The queue's form (six fields) refused with a long value quoted back, then a paste cut:
/// taller than the main area at 80x24, it grows down over the panels, and its messages and
/// keys stay on screen; the long value is quoted cut short, with its length.
#[test]
fn a_tall_form_grows_over_the_panels_at_80x24() {
    let mut app = idle("queue", 80, 24);
    press(&mut app, KeyCode::Char('e'));
    press(&mut app, KeyCode::Tab);
    app.update(Msg::Paste(",AB".repeat(30)));
    assert_eq!(press(&mut app, KeyCode::Enter), vec![], "refused");
    app.update(Msg::Paste("X".repeat(300)));
    let terminal = draw(&app, 80, 24);
    let screen = rows(terminal.backend().buffer()).join("\n");
    for wanted in [
        "`items`: `A,B,C,AB,AB,AB,AB,AB,AB,…` (95 characters) is",
        "pasted 191 of 300 characters",
        "Enter applies · Esc cancels",
    ] {
        assert!(screen.contains(wanted), "no `{wanted}`:\n{screen}");
    }
    insta::assert_snapshot!("form_tall_80x24", terminal.backend());
}

// The dashboard in Chinese (`L`, or a zh_* locale): the same screens, every word in the
// other language, measured in columns — a Chinese character takes two.

/// `app` switched to Chinese with the language key, as a user would.
fn in_chinese(mut app: App) -> App {
    press(&mut app, KeyCode::Char('L'));
    assert_eq!(app.lang, conlab::i18n::Lang::Zh);
    app
}

#[test]
fn help_overlay_in_chinese() {
    for (w, h) in [(80, 24), (200, 60)] {
        let mut app = in_chinese(idle("lock", w, h));
        press(&mut app, KeyCode::Char('?'));
        let terminal = draw(&app, w, h);
        let screen = rows(terminal.backend().buffer()).join("\n");
        for (key, what) in conlab::view::help::rows(Context::Main, conlab::i18n::Lang::Zh) {
            // The keys' column is padded by columns, so what they do starts in one column.
            assert!(
                screen.contains(&format!(" {key:<11}{what}")),
                "{w}x{h}: no whole row for `{key}`:\n{screen}"
            );
        }
        assert!(screen.contains("任意键 关闭本帮助。"), "{screen}");
        assert!(screen.contains(" 按键 "), "{screen}");
        insta::assert_snapshot!(format!("help_zh_{w}x{h}"), terminal.backend());
    }
}

/// The lesson in Chinese at 80x24 (in English while it has no Chinese text: the title and
/// the keys are Chinese all the same).
#[test]
fn lesson_overlay_in_chinese() {
    let mut app = in_chinese(idle("lock", 80, 24));
    press(&mut app, KeyCode::Char('l'));
    let terminal = draw(&app, 80, 24);
    let screen = rows(terminal.backend().buffer()).join("\n");
    assert!(
        screen.contains("课程：") && screen.contains("其他任意键 关闭"),
        "{screen}"
    );
    insta::assert_snapshot!("lesson_zh_80x24", terminal.backend());
}

/// A finished nolock run in Chinese: the labels are shorter or longer than the English ones,
/// and the figures still start in one column.
#[test]
fn finished_nolock_run_in_chinese() {
    let mut app = in_chinese(idle("lock", 80, 24));
    assert_eq!(press(&mut app, KeyCode::Enter), vec![Effect::Start(1)]);
    finished_run(&mut app, 1, 5001, "nolock", -37_163, 62.8);
    exited(&mut app, 1, "code 0");
    let terminal = draw(&app, 80, 24);
    let buffer = terminal.backend().buffer();
    let screen = rows(buffer).join("\n");
    for wanted in [
        "余额",
        "丢失的更新",
        "吞吐量",
        "✗ 应该是 0",
        "✓ 完成，用时 62.8 ms",
    ] {
        assert!(screen.contains(wanted), "no `{wanted}`:\n{screen}");
    }
    let figure_column = |label: &str| {
        let (x, y) = find(buffer, label).unwrap_or_else(|| panic!("no `{label}`:\n{screen}"));
        // From the label's end, the first cell of the figure after the padding.
        let end = x + ratatui::text::Span::raw(label.trim_end()).width() as u16;
        (end + 1..buffer.area.width)
            .find(|cx| buffer[(*cx, y)].symbol() != " " && buffer[(*cx - 1, y)].symbol() == " ")
            .expect("a figure after the label")
    };
    // Each label with the padding after it: the lesson's title says 余额 too.
    let columns: Vec<u16> = ["余额  ", "丢失的更新  ", "进度  ", "吞吐量  ", "时间  "]
        .into_iter()
        .map(figure_column)
        .collect();
    assert!(
        columns.windows(2).all(|w| w[0] == w[1]),
        "figures in columns {columns:?}:\n{screen}"
    );
    assert_eq!(fg_of(buffer, "✗ 应该是 0"), Color::Red);
    insta::assert_snapshot!("nolock_finished_zh_80x24", terminal.backend());
}

/// The compare view in Chinese at 80x24: labels, the status row, footers.
#[test]
fn compare_in_chinese() {
    let app = in_chinese(compare_done());
    let terminal = draw(&app, 80, 24);
    let screen = rows(terminal.backend().buffer()).join("\n");
    for wanted in [
        "比较 lock 的 mode — 依次运行",
        "状态",
        "丢失的更新",
        "锁易手次数",
        "r 重跑 · m 同时/依次 · s 停止 · Esc 关闭",
    ] {
        assert!(screen.contains(wanted), "no `{wanted}`:\n{screen}");
    }
    insta::assert_snapshot!("compare_done_zh_80x24", terminal.backend());
}

#[test]
fn below_80x24_in_chinese() {
    let mut app = in_chinese(idle("lock", 80, 24));
    app.update(Msg::Resize(60, 20));
    let terminal = draw(&app, 60, 20);
    let screen = rows(terminal.backend().buffer()).join("\n");
    assert!(
        screen.contains("conlab 需要 80x24，终端只有 60x20——请放大窗口，或按 q 退出"),
        "on one line:\n{screen}"
    );
    insta::assert_snapshot!("too_small_zh_60x20", terminal.backend());
}

/// A finished nolock run whose report carries an insight, in English and Chinese: `r` shows
/// the whole report, the verdict and the insight whole and before the figures, and no row of
/// it runs over the overlay's right border (Chinese breaks between characters).
#[test]
fn report_overlay_puts_the_verdict_and_insights_first() {
    let insight = conlab::report::Warning {
        id: "updates_lost".into(),
        lesson: "lock".into(),
        text: "2 threads changed the balance without a lock and 231,791 of 2,000,000 updates \
               were lost (lesson: lock)"
            .into(),
        text_zh: "2 个线程不加锁地修改余额，2,000,000 次更新中丢失了 231,791 次，余额不再是 0\
                  （课程：lock）"
            .into(),
        figures: Metrics::default(),
    };
    for chinese in [false, true] {
        let mut app = idle("lock", 80, 24);
        press(&mut app, KeyCode::Char('r'));
        let screen = rows(draw(&app, 80, 24).backend().buffer()).join("\n");
        assert!(screen.contains("No finished run"), "{screen}");
        press(&mut app, KeyCode::Esc);

        assert_eq!(press(&mut app, KeyCode::Enter), vec![Effect::Start(1)]);
        runner_up(&mut app, 1, 4242);
        let Body::Report { mut report } = report("nolock", -83_962, 231_791, 87.3) else {
            unreachable!()
        };
        report.warnings = vec![insight.clone()];
        event(&mut app, 1, 87.6, 4242, Body::Report { report });
        exited(&mut app, 1, "code 0");
        if chinese {
            app = in_chinese(app);
        }
        assert_eq!(press(&mut app, KeyCode::Char('r')), vec![]);
        assert_eq!(app.key_context(), Context::Report);
        let terminal = draw(&app, 80, 24);
        let lines = rows(terminal.backend().buffer());
        let screen = lines.join("\n");
        let (title, tail) = if chinese {
            ("报告：lock · 运行 #1", "（课程：lock）")
        } else {
            ("Report: lock · run #1", "(lesson: lock)")
        };
        assert!(screen.contains(title), "{screen}");
        let at = |text: &str| {
            lines
                .iter()
                .position(|l| l.contains(text))
                .unwrap_or_else(|| panic!("no `{text}`:\n{screen}"))
        };
        assert!(at("→ ") < at("! ") && at(tail) < at("wall_ms"), "{screen}");
        for (y, line) in lines.iter().enumerate() {
            assert!(
                line.ends_with('│') || line.ends_with('┐') || line.ends_with('┘'),
                "row {y} runs over the border:\n{screen}"
            );
        }
        let name = if chinese {
            "report_zh_80x24"
        } else {
            "report_80x24"
        };
        insta::assert_snapshot!(name, terminal.backend());
    }
}
