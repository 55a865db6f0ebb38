//! Insights: each lint fires on a run built to trigger it and stays silent on one that should
//! not — real headless runs where the machine can be made to show it, constructed figures
//! where it cannot be controlled (another program's load, a lock convoy) — and the report and
//! the scenario panel carry what fired, in both languages.

mod common;

use common::view::{event, exited, idle, press, rows, runner_up};
use common::{Conlab, MARK_VAR, Orphans, assert_none_marked, new_mark, run_args};
use conlab::app::Msg;
use conlab::event::Body;
use conlab::insights::observed::{TraceSeen, TreeSamples, Usage, Zombie};
use conlab::insights::{Observed, check};
use conlab::report::{Report, Warning};
use conlab::runner::{RunnerMsg, RunnerUpdate};
use crossterm::event::KeyCode;
use serde_json::{Value, json};
use std::time::Duration;

const CONLAB: Conlab = Conlab {
    deadline: Duration::from_secs(120),
    orphans: Orphans::Reaped,
};

/// Runs on a shared machine: a lint that needs the run to go a certain way gets this many.
const TRIES: usize = 4;

// ---------------------------------------------------------------------------------------
// Real runs

/// `conlab run <scenario> --json --set ...`: the report, after checking nothing outlived it.
fn run(scenario: &str, sets: &[&str]) -> Value {
    let mark = new_mark("insights");
    let outcome = CONLAB.invoke_env(
        &run_args(scenario, &["--json"], sets),
        &[(MARK_VAR, mark.as_str())],
    );
    outcome.assert_no_panic(scenario);
    let report = outcome.json();
    assert_none_marked(&mark, Duration::from_secs(10), scenario);
    report
}

/// The real runs of this file, one at a time: what most lints judge is the machine's cores,
/// and a busy run of one test beside another's would make both say "other load".
fn one_run_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    static ALONE: std::sync::Mutex<()> = std::sync::Mutex::new(());
    ALONE.lock().unwrap_or_else(|e| e.into_inner())
}

/// The warning `id` of a report, if it fired.
fn warning<'a>(report: &'a Value, id: &str) -> Option<&'a Value> {
    report["warnings"]
        .as_array()?
        .iter()
        .find(|w| w["id"] == id)
}

fn ids(report: &Value) -> Vec<String> {
    report["warnings"]
        .as_array()
        .map(|ws| ws.iter().map(|w| w["id"].to_string()).collect())
        .unwrap_or_default()
}

/// Runs until `id` fires (a bounded number of times): the warning and its report.
fn fires(id: &str, scenario: &str, sets: &[&str]) -> (Value, Value) {
    let mut last = Value::Null;
    for _ in 0..TRIES {
        let report = run(scenario, sets);
        if let Some(found) = warning(&report, id) {
            let found = found.clone();
            check_shape(&found, id);
            return (found, report);
        }
        last = report;
    }
    panic!(
        "{id} never fired in {TRIES} runs of {scenario} {sets:?}; the last said {:?}: {last}",
        ids(&last)
    );
}

fn silent(id: &str, scenario: &str, sets: &[&str]) {
    let report = run(scenario, sets);
    assert!(
        warning(&report, id).is_none(),
        "{id} fired on {scenario} {sets:?}: {report}"
    );
}

/// Every warning says what it is in both languages, with its figures and its lesson.
fn check_shape(warning: &Value, id: &str) {
    let text = warning["text"].as_str().unwrap_or_default();
    let zh = warning["text_zh"].as_str().unwrap_or_default();
    let lesson = warning["lesson"].as_str().unwrap_or_default();
    assert!(
        conlab::scenarios::find(lesson).is_ok(),
        "{id}: lesson {lesson:?}"
    );
    assert!(text.ends_with(&format!("(lesson: {lesson})")), "{text}");
    assert!(
        zh.contains(lesson) && zh.chars().any(|c| c > '\u{2e80}'),
        "{zh}"
    );
    assert!(
        warning["figures"]
            .as_object()
            .is_some_and(|f| !f.is_empty()),
        "{warning}"
    );
}

fn figure(warning: &Value, name: &str) -> f64 {
    warning["figures"][name]
        .as_f64()
        .unwrap_or_else(|| panic!("no figure {name}: {warning}"))
}

#[test]
fn updates_lost_without_a_lock_and_none_with_it() {
    let _alone = one_run_at_a_time();
    let (found, report) = fires(
        "updates_lost",
        "lock",
        &["mode=nolock", "threads=2", "seconds=1"],
    );
    assert_eq!(
        figure(&found, "lost_updates"),
        report["metrics"]["lost_updates"].as_f64().unwrap()
    );
    assert!(figure(&found, "lost_updates") > 0.0);
    silent(
        "updates_lost",
        "lock",
        &["mode=lock", "threads=2", "seconds=1"],
    );
}

/// The counted mutex's holder takes the lock straight back: on a real run it changes hands on
/// a few acquisitions in a hundred at most, far from a convoy — placed by the scheduler or
/// with each thread on a core of its own.
#[test]
fn a_real_run_of_the_counted_mutex_is_no_convoy() {
    let _alone = one_run_at_a_time();
    for pin in ["pin=off", "pin=spread"] {
        let report = run("lock", &["mode=lock", "threads=2", "seconds=1", pin]);
        assert!(
            report["metrics"]["acquisitions"].as_f64().unwrap() >= 1000.0,
            "enough acquisitions to judge: {report}"
        );
        assert!(
            warning(&report, "lock_convoy").is_none(),
            "lock_convoy fired on mode=lock {pin}: {report}"
        );
    }
}

/// The fair lock with each thread on a core of its own: every release serves the thread that
/// waits, asleep, so most acquisitions hand the lock over — a convoy, named as one; its waits
/// are the lock's, so the run is not called IO-bound.
#[test]
fn a_fair_lock_on_two_cores_forms_a_convoy() {
    let _alone = one_run_at_a_time();
    let sets = [
        "mode=fair",
        "pin=spread",
        "threads=2",
        "iterations=20000",
        "seconds=1",
    ];
    let (found, report) = fires("lock_convoy", "lock", &sets);
    let (acquisitions, handoffs) = (
        figure(&found, "acquisitions"),
        figure(&found, "owner_changes"),
    );
    assert!(acquisitions >= 40_000.0, "{report}");
    assert!(handoffs * 2.0 >= acquisitions, "{report}");
    assert_eq!(report["metrics"]["threads_pinned"], 2, "{report}");
    assert_eq!(report["metrics"]["balance"], 0, "{report}");
    assert!(
        warning(&report, "io_bound").is_none(),
        "waits for a lock called IO: {report}"
    );
}

#[test]
fn threads_behind_a_gil_are_gil_bound_and_native_threads_are_not() {
    let _alone = one_run_at_a_time();
    let (found, report) = fires(
        "gil_bound",
        "multicore",
        &["mode=gil", "workers=2", "seconds=1"],
    );
    assert_eq!(figure(&found, "threads"), 2.0);
    // Its threads sleep waiting for the GIL, not for IO.
    assert!(warning(&report, "io_bound").is_none(), "{report}");
    assert!(figure(&found, "cores_used") <= 1.4, "{found}");
    silent(
        "gil_bound",
        "multicore",
        &["mode=threads", "workers=2", "seconds=1"],
    );
}

#[test]
fn real_python_threads_are_gil_bound() {
    let _alone = one_run_at_a_time();
    if !common::python3_on_path() {
        eprintln!("skipped: no python3");
        return;
    }
    let (found, report) = fires(
        "gil_bound",
        "multicore",
        &["mode=python", "workers=2", "seconds=1"],
    );
    // Two busy threads and the interpreter's main thread.
    assert!(figure(&found, "threads") >= 2.0, "{found}");
    assert!(warning(&report, "io_bound").is_none(), "{report}");
}

#[test]
fn eight_busy_threads_on_few_cores_are_oversubscribed_one_is_not() {
    let _alone = one_run_at_a_time();
    let cores = common::proc_stat_cores();
    let workers = format!("workers={}", 4 * cores);
    let (found, _) = fires(
        "oversubscribed",
        "multicore",
        &["mode=threads", &workers, "seconds=1"],
    );
    assert!(
        figure(&found, "runnable_threads_mean") >= 2.0 * cores as f64,
        "{found}"
    );
    silent(
        "oversubscribed",
        "multicore",
        &["mode=threads", "workers=1", "seconds=1"],
    );
}

#[test]
fn threads_that_sleep_are_io_bound_busy_loops_are_not() {
    let _alone = one_run_at_a_time();
    let (found, _) = fires(
        "io_bound",
        "threads",
        &["threads=16", "count=300", "delay_ms=2"],
    );
    assert!(
        figure(&found, "voluntary_switches") >= 4.0 * figure(&found, "involuntary_switches"),
        "{found}"
    );
    silent(
        "io_bound",
        "multicore",
        &["mode=threads", "workers=2", "seconds=1"],
    );
}

#[test]
fn a_queue_that_fills_has_a_consumer_too_slow_one_that_never_does_has_not() {
    let _alone = one_run_at_a_time();
    // As fast as it can into a queue of one: the writer waits for the reader at every put.
    let (found, _) = fires(
        "consumer_too_slow",
        "queue",
        &["mode=rate", "capacity=1", "count=20000"],
    );
    assert_eq!(figure(&found, "capacity"), 1.0);
    assert_eq!(figure(&found, "depth_max"), 1.0);
    // Sixteen items, with pauses the reader keeps up with, in a queue of ten: never full.
    silent(
        "consumer_too_slow",
        "queue",
        &["mode=items", &sixteen_items(), "max_delay_ms=50"],
    );
}

/// `items=A,B,…,P`: more than any queue holds.
fn sixteen_items() -> String {
    let items: Vec<String> = (b'A'..=b'P').map(|c| (c as char).to_string()).collect();
    format!("items={}", items.join(","))
}

#[test]
fn a_queue_that_fills_says_how_often_it_was_full_from_its_trace() {
    let _alone = one_run_at_a_time();
    // Sixteen items put without a pause into a queue of one: the trace counts the depth.
    let items = sixteen_items();
    let (found, _) = fires(
        "consumer_too_slow",
        "queue",
        &["mode=items", &items, "max_delay_ms=0", "capacity=1"],
    );
    let pct = figure(&found, "depth_full_pct");
    assert!((0.0..=100.0).contains(&pct) && pct > 0.0, "{found}");
}

#[test]
fn a_child_left_a_zombie_is_named_a_child_reaped_at_once_is_not() {
    let _alone = one_run_at_a_time();
    // The shell starts `sleep 0.1` and becomes `sleep 2`, which never waits for it.
    let (found, _) = fires(
        "child_not_reaped",
        "subprocess",
        &[r#"cmd=sh -c "sleep 0.1 & exec sleep 2""#],
    );
    let ms = figure(&found, "zombie_ms");
    // Zombie from about 0.1 s to 2 s; sampled every 100 ms or so, on a loaded machine.
    assert!((1000.0..=2500.0).contains(&ms), "{found}");
    silent(
        "child_not_reaped",
        "subprocess",
        &[r#"cmd=sh -c "sleep 0.1; sleep 0.5""#],
    );
}

#[test]
fn busy_loops_beside_the_run_took_cores() {
    let _alone = one_run_at_a_time();
    /// A shell loop that keeps a core busy until dropped.
    struct Busy(std::process::Child);
    impl Drop for Busy {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let cores = common::proc_stat_cores();
    let _busy: Vec<Busy> = (0..cores)
        .map(|_| {
            Busy(
                std::process::Command::new("sh")
                    .args(["-c", "while :; do :; done"])
                    .spawn()
                    .expect("start a busy loop"),
            )
        })
        .collect();
    let (found, _) = fires("other_load", "threads", &["count=5", "delay_ms=200"]);
    assert!(figure(&found, "others_cores") >= 0.5, "{found}");
    assert_eq!(figure(&found, "cores"), cores as f64);
}

#[test]
fn the_text_report_lists_the_insights_in_its_language() {
    let _alone = one_run_at_a_time();
    let mut tries = 0;
    loop {
        tries += 1;
        let outcome = CONLAB.invoke_env(
            &run_args(
                "lock",
                &["--lang", "zh"],
                &["mode=nolock", "threads=2", "seconds=1"],
            ),
            &[],
        );
        outcome.assert_no_panic("lock");
        if outcome.stdout.contains("! 丢失了") {
            assert!(
                outcome.stdout.contains("（课程：lock）"),
                "{}",
                outcome.stdout
            );
            return;
        }
        assert!(tries < TRIES, "no insight in Chinese: {}", outcome.stdout);
    }
}

#[test]
fn the_compare_text_lists_each_variants_insights_under_its_verdict_in_its_language() {
    let _alone = one_run_at_a_time();
    for (lang, lost) in [
        ("en", "updates were lost: a thread wrote back"),
        ("zh", "丢失了"),
    ] {
        let mut tries = 0;
        loop {
            tries += 1;
            let args = [
                "compare",
                "lock",
                "--vary",
                "mode=nolock,lock",
                "--set",
                "threads=2",
                "--set",
                "seconds=0",
                "--runs",
                "1",
                "--lang",
                lang,
            ];
            let mark = new_mark("insights-compare");
            let outcome = CONLAB.invoke_env(&args, &[(MARK_VAR, mark.as_str())]);
            outcome.assert_no_panic("compare lock");
            assert_none_marked(&mark, Duration::from_secs(10), "compare lock");
            let text = &outcome.stdout;
            let lines: Vec<&str> = text.lines().collect();
            let insight = lines
                .iter()
                .position(|l| l.starts_with("  mode=nolock: ! ") && l.contains(lost));
            if let Some(at) = insight {
                let verdict = lines
                    .iter()
                    .position(|l| l.starts_with("  mode=nolock: ") && !l.contains(": ! "));
                assert!(
                    verdict.is_some_and(|v| v < at),
                    "the insight comes under its variant's verdict:\n{text}"
                );
                let lesson = if lang == "zh" {
                    "（课程：lock）"
                } else {
                    "(lesson: lock)"
                };
                assert!(lines[at].contains(lesson), "{text}");
                assert!(
                    !lines
                        .iter()
                        .any(|l| l.starts_with("  mode=lock: ! ") && l.contains(lost)),
                    "the locked variant lost nothing:\n{text}"
                );
                break;
            }
            assert!(
                tries < TRIES,
                "no insight under mode=nolock ({lang}):\n{text}"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------
// Constructed figures: the lints' logic where the machine cannot be made to show it

fn report(metrics: Value) -> Report {
    serde_json::from_value(json!({
        "scenario": "lock", "params": {}, "ok": true, "wall_ms": 1000.0, "metrics": metrics,
    }))
    .expect("a report")
}

/// A second of a run on 2 cores that used `cpu_ms` and switched as given.
fn seen(cpu_ms: f64, voluntary: u64, involuntary: u64) -> Observed {
    Observed {
        cores: 2,
        wall_ms: 1000.0,
        usage: Some(Usage {
            cpu_ms,
            voluntary_switches: voluntary,
            involuntary_switches: involuntary,
        }),
        tree: TreeSamples {
            samples: 10,
            runnable_sum: 10,
            runnable_max: 1,
            threads_max: 3,
            ..TreeSamples::default()
        },
        others_cores: Some(0.0),
        trace: TraceSeen::default(),
    }
}

fn fired(report: &Report, observed: &Observed) -> Vec<String> {
    check(report, observed).into_iter().map(|w| w.id).collect()
}

#[test]
fn a_lock_that_changes_hands_on_most_acquisitions_is_a_convoy() {
    // Every hand-off woke a sleeping waiter.
    let sleeping = seen(900.0, 6_000, 100);
    let convoy = report(json!({"acquisitions": 10_000, "owner_changes": 6_000}));
    let found = check(&convoy, &sleeping);
    let w = found
        .iter()
        .find(|w| w.id == "lock_convoy")
        .expect("a convoy");
    assert!(
        w.text.contains("6,000 times in 10,000 acquisitions (60%)"),
        "{}",
        w.text
    );
    assert!(w.text.contains("gave up the CPU 6,000 times"), "{}", w.text);
    assert!(w.text_zh.contains("换手 6,000 次"), "{}", w.text_zh);
    let convoy_fired = |report: &Report, observed: &Observed| {
        fired(report, observed).contains(&"lock_convoy".to_string())
    };
    // The counted mutex's usual: the holder keeps it for runs of acquisitions.
    let usual = report(json!({"acquisitions": 4_000_000, "owner_changes": 98}));
    assert!(!convoy_fired(&usual, &sleeping));
    // Too few acquisitions to say.
    let few = report(json!({"acquisitions": 10, "owner_changes": 10}));
    assert!(!convoy_fired(&few, &sleeping));
    // Hand-offs to waiters that spun, not slept: busy threads alternating, not a convoy.
    assert!(!convoy_fired(&convoy, &seen(1900.0, 100, 100)));
    // Nothing seen of the threads' sleeping: nothing said.
    let mut unseen = sleeping.clone();
    unseen.usage = None;
    assert!(!convoy_fired(&convoy, &unseen));
}

#[test]
fn other_load_counts_when_it_is_a_share_of_the_machine() {
    let mut observed = seen(500.0, 100, 100);
    observed.others_cores = Some(1.2);
    let found = check(&report(json!({})), &observed);
    let w = found.iter().find(|w| w.id == "other_load").expect("fired");
    assert!(w.text.contains("about 1.2 of 2 cores"), "{}", w.text);
    assert_eq!(w.figures.get("others_cores").map(|n| n.as_f64()), Some(1.2));
    observed.others_cores = Some(0.3);
    assert!(fired(&report(json!({})), &observed).is_empty());
    // Half a core of 64 takes nothing worth saying.
    observed.cores = 64;
    observed.others_cores = Some(0.6);
    assert!(fired(&report(json!({})), &observed).is_empty());
}

#[test]
fn a_run_of_a_few_clock_ticks_says_nothing_of_other_load() {
    // `true`, watched: 2 ms, in which one tick of another program reads as cores of load.
    let mut observed = seen(1.0, 2, 0);
    observed.wall_ms = 2.0;
    observed.others_cores = Some(1.5);
    assert!(fired(&report(json!({})), &observed).is_empty());
    observed.wall_ms = 250.0;
    assert_eq!(fired(&report(json!({})), &observed), ["other_load"]);
}

#[test]
fn oversubscription_needs_both_runnable_threads_and_preemption() {
    let mut observed = seen(2000.0, 100, 800);
    observed.tree.runnable_sum = 80;
    observed.tree.runnable_max = 8;
    assert_eq!(fired(&report(json!({})), &observed), ["oversubscribed"]);
    // Many threads ready, hardly preempted (one sample's luck): no.
    observed.usage.as_mut().unwrap().involuntary_switches = 50;
    assert!(fired(&report(json!({})), &observed).is_empty());
    // Preempted often, but about one thread per core: no.
    observed.usage.as_mut().unwrap().involuntary_switches = 800;
    observed.tree.runnable_sum = 30;
    assert!(fired(&report(json!({})), &observed).is_empty());
}

#[test]
fn io_bound_needs_waits_and_idle_cores() {
    let waiting = seen(100.0, 5_000, 100);
    let found = check(&report(json!({})), &waiting);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0]
            .text
            .contains("gave up the CPU 5,000 times and had it taken 100 times"),
        "{}",
        found[0].text
    );
    // As many waits, but both cores busy: computing, not waiting.
    assert!(fired(&report(json!({})), &seen(1900.0, 5_000, 100)).is_empty());
    // Idle with a few sleeps a second: not IO-bound, just idle.
    assert!(fired(&report(json!({})), &seen(10.0, 50, 1)).is_empty());
    // Python threads taking turns behind the GIL wait for it, asleep: GIL-bound, not IO-bound
    // (figures of 4 counting threads attached on a quiet machine).
    let mut gil = seen(940.0, 3_123, 555);
    gil.tree.python_threads_max = 5;
    assert_eq!(fired(&report(json!({})), &gil), ["gil_bound"]);
    // Most waits were for a lock (contended acquisitions): lock-bound, not IO-bound.
    assert!(fired(&report(json!({"contended": 2_500})), &waiting).is_empty());
    assert_eq!(
        fired(&report(json!({"contended": 2_000})), &waiting),
        ["io_bound"]
    );
}

#[test]
fn gil_bound_needs_a_gil_and_about_one_core() {
    let gil = report(json!({"gil_handoffs": 500, "workers": 4}));
    assert_eq!(fired(&gil, &seen(1000.0, 100, 100)), ["gil_bound"]);
    let alone = &check(&gil, &seen(1000.0, 100, 100))[0];
    assert!(
        alone
            .text
            .starts_with("4 threads kept only 1 of 2 cores busy: they take turns"),
        "{}",
        alone.text
    );
    // Other programs took cores too: the sentence does not blame the GIL alone.
    let mut loaded = seen(400.0, 100, 100);
    loaded.others_cores = Some(1.5);
    let found = check(&gil, &loaded);
    assert!(
        found[0]
            .text
            .starts_with("4 threads kept only 0.4 of 2 cores busy, while other programs took 1.5:"),
        "{}",
        found[0].text
    );
    // Four threads on both cores: whatever the figures say, the GIL did not hold them.
    assert!(fired(&gil, &seen(1950.0, 100, 100)).is_empty());
    // A Python interpreter with threads that mostly wait is not held by its GIL.
    let mut python = seen(50.0, 10, 10);
    python.tree.python_threads_max = 5;
    assert!(fired(&report(json!({})), &python).is_empty());
    python.usage.as_mut().unwrap().cpu_ms = 980.0;
    assert_eq!(fired(&report(json!({})), &python), ["gil_bound"]);
}

#[test]
fn a_zombie_counts_from_a_second() {
    let mut observed = seen(10.0, 10, 10);
    observed.tree.longest_zombie = Some(Zombie {
        pid: 77,
        ms: 1200.0,
    });
    let found = check(&report(json!({})), &observed);
    assert_eq!(found.len(), 1);
    assert!(
        found[0]
            .text
            .starts_with("process 77 stayed a zombie for 1.2 s"),
        "{}",
        found[0].text
    );
    observed.tree.longest_zombie = Some(Zombie { pid: 77, ms: 400.0 });
    assert!(fired(&report(json!({})), &observed).is_empty());
}

#[test]
fn a_quiet_run_has_nothing_to_say() {
    let quiet = report(json!({"lost_updates": 0, "acquisitions": 0, "owner_changes": 0}));
    assert!(check(&quiet, &seen(900.0, 100, 100)).is_empty());
    let json = serde_json::to_value(&quiet).unwrap();
    assert!(json.get("warnings").is_none(), "{json}");
}

// ---------------------------------------------------------------------------------------
// The scenario panel

/// The lock lesson, run to its end with `warnings` found, drawn at `width`x`height`.
fn panel_with(warnings: &[Warning], width: u16, height: u16) -> String {
    let mut app = idle("lock", width, height);
    press(&mut app, KeyCode::Enter);
    runner_up(&mut app, 1, 4242);
    let mut report = report(json!({"balance": 12, "expected_balance": 0, "lost_updates": 31}));
    report.notes = vec!["31 updates were lost".into()];
    event(
        &mut app,
        1,
        900.0,
        4242,
        Body::Report {
            report: Box::new(report.clone()),
        },
    );
    // What the reaper saw: here made to say exactly `warnings`.
    let mut observed = seen(900.0, 100, 100);
    observed.others_cores = Some(1.5);
    let found = check(&report, &observed);
    assert_eq!(
        found.iter().map(|w| w.id.as_str()).collect::<Vec<_>>(),
        warnings.iter().map(|w| w.id.as_str()).collect::<Vec<_>>()
    );
    app.update(Msg::Runner(RunnerUpdate {
        run: 1,
        msg: RunnerMsg::Observed(Box::new(observed)),
    }));
    exited(&mut app, 1, "code 0");
    let terminal = common::view::draw(&app, width, height);
    rows(terminal.backend().buffer()).join("\n")
}

fn expected() -> Vec<Warning> {
    let report = report(json!({"lost_updates": 31}));
    let mut observed = seen(900.0, 100, 100);
    observed.others_cores = Some(1.5);
    check(&report, &observed)
}

#[test]
fn the_panel_shows_each_insight_where_there_is_room() {
    let screen = panel_with(&expected(), 200, 60);
    assert!(screen.contains("→ 31 updates were lost"), "{screen}");
    assert!(
        screen.contains("! 31 updates were lost: a thread wrote back a value another thread"),
        "{screen}"
    );
    assert!(
        screen.contains("! other programs kept about 1.5 of 2 cores busy"),
        "{screen}"
    );
    assert!(!screen.contains("2 insights"), "{screen}");
}

#[test]
fn at_80x24_the_panel_keeps_its_figures_and_names_the_insights() {
    let screen = panel_with(&expected(), 80, 24);
    // The figures and the verdict keep their rows.
    assert!(screen.contains("lost updates"), "{screen}");
    assert!(screen.contains("→ 31 updates were lost"), "{screen}");
    // The insights are counted on the border, or named under the verdict.
    assert!(
        screen.contains("! 2 insights")
            || screen.contains("! insights: updates lost, other programs took cores"),
        "{screen}"
    );
}
