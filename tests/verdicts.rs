//! Verdicts as a reader gets them: every note of every scenario's default run exists in Chinese
//! as well as English, and a run that other programs took cores from says so. (The verdicts
//! against crafted, contradicting figures are unit tests next to each scenario's code.)

mod common;

use common::{Conlab, Orphans, float};
use serde_json::Value;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Long enough for the slowest default run on a loaded 2-core machine.
const CONLAB: Conlab = Conlab {
    deadline: Duration::from_secs(120),
    orphans: Orphans::Reaped,
};

/// Lock's notes are its own lesson's; every other scenario is held here.
const NOT_HERE: &[&str] = &["lock"];

/// The notes of a report, in English and in Chinese.
fn notes(report: &Value) -> (Vec<String>, Vec<String>) {
    let list = |key: &str| -> Vec<String> {
        report[key]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|n| n.as_str().unwrap_or("").to_string())
                    .collect()
            })
            .unwrap_or_default()
    };
    (list("notes"), list("notes_zh"))
}

#[test]
fn every_note_of_every_default_run_has_chinese() {
    common::become_subreaper();
    let mut checked = 0;
    for scenario in conlab::scenarios::all() {
        if NOT_HERE.contains(&scenario.id) {
            continue;
        }
        // Its default is ten seconds of busy loops; one tells the same.
        let sets: &[&str] = match scenario.id {
            "multicore" => &["seconds=1"],
            _ => &[],
        };
        let (report, outcome) = CONLAB.run_json(scenario.id, sets);
        outcome.assert_success(&format!("conlab run {} --json", scenario.id));
        let (en, zh) = notes(&report);
        assert!(!en.is_empty(), "{}: no notes in {report}", scenario.id);
        assert_eq!(
            en.len(),
            zh.len(),
            "{}: one Chinese note per note: {report}",
            scenario.id
        );
        for (en, zh) in en.iter().zip(&zh) {
            assert!(
                !zh.is_empty() && !zh.is_ascii(),
                "{}: `{en}` has no Chinese ({zh:?})",
                scenario.id
            );
        }
        checked += 1;
    }
    assert!(checked >= 9, "only {checked} scenarios checked");
}

/// How many attempts a run gets to see the load this test makes.
const ATTEMPTS: usize = 3;

/// A thread of this test keeps one core busy while `multicore` runs: to the run that is other
/// programs' load, and its report says how many cores it took and its verdict mentions it.
#[test]
fn a_run_says_when_other_load_took_cores() {
    common::become_subreaper();
    let mut seen = Vec::new();
    for _ in 0..ATTEMPTS {
        let stop = AtomicBool::new(false);
        let (report, outcome) = std::thread::scope(|scope| {
            scope.spawn(|| {
                let mut x = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    x = std::hint::black_box(x.wrapping_add(1));
                }
            });
            let run = CONLAB.run_json("multicore", &["mode=threads", "workers=2", "seconds=2"]);
            stop.store(true, Ordering::Relaxed);
            run
        });
        outcome.assert_success("multicore with a busy core beside it");
        let others = float(&report, "others_cores");
        let cores = common::proc_stat_cores() as f64;
        assert!(
            (0.0..=cores).contains(&others),
            "others_cores {others} on {cores} cores: {report}"
        );
        let verdict = report["notes"][0].as_str().unwrap_or("").to_string();
        let verdict_zh = report["notes_zh"][0].as_str().unwrap_or("").to_string();
        // Half a core at least: the busy thread shares two cores with the run's two loops.
        if others >= 0.4 {
            assert!(
                verdict.contains("other programs kept")
                    && verdict.contains(&format!("{others:.2}")),
                "{report}"
            );
            assert!(verdict_zh.contains("其他程序占用了"), "{report}");
            return;
        }
        seen.push(format!("others_cores {others:.2}: {verdict}"));
    }
    panic!("a busy core beside the run was never seen as other load: {seen:#?}");
}
