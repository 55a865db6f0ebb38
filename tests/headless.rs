//! Headless runs: the real `conlab` binary, asserted on its JSON and text reports, its exit
//! codes and its messages for bad input. What the lock lesson claims is what is asserted:
//! updates are lost without the lock, never with it or with atomics.
//!
//! Claims that depend on the scheduler (a race actually happened, a lock was actually
//! contended) get a few bounded attempts; claims that hold in every run are checked in every
//! attempt.

mod common;

use common::{Conlab, Orphans, Outcome, float, int};
use serde_json::Value;
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::time::Duration;

/// Long enough for the slowest run here on a loaded 2-core machine, short enough that a hang
/// fails the test instead of the whole CI job.
const CONLAB: Conlab = Conlab {
    deadline: Duration::from_secs(120),
    orphans: Orphans::Ignored,
};

/// Attempts for claims that depend on how the threads happened to be scheduled.
const ATTEMPTS: usize = 5;

/// `conlab run lock --json --set k=v ...`
fn run_lock(sets: &[&str]) -> (Value, Outcome) {
    CONLAB.run_json("lock", sets)
}

/// What every lock report must satisfy, whatever the mode and the scheduling.
fn assert_contract(report: &Value, outcome: &Outcome, mode: &str, threads: i64, iterations: i64) {
    assert_eq!(
        outcome.code,
        Some(0),
        "exit code; stderr: {}",
        outcome.stderr
    );
    assert!(
        !outcome.stderr.contains("panicked"),
        "stderr: {}",
        outcome.stderr
    );
    assert_eq!(report["scenario"], "lock", "{report}");
    let params = report["params"].as_object().expect("params is an object");
    assert_eq!(params["mode"], mode, "{report}");
    assert!(
        params["threads"].is_i64(),
        "threads as a JSON integer: {report}"
    );
    assert!(
        params["iterations"].is_i64(),
        "iterations as a JSON integer: {report}"
    );
    assert_eq!(params["threads"].as_i64(), Some(threads), "{report}");
    assert_eq!(params["iterations"].as_i64(), Some(iterations), "{report}");
    assert_eq!(report["ok"], true, "{report}");
    let wall_ms = report["wall_ms"].as_f64().expect("wall_ms is a number");
    assert!(wall_ms > 0.0, "{report}");

    let metrics = report["metrics"].as_object().expect("metrics is an object");
    for name in [
        "balance",
        "expected_balance",
        "lost_updates",
        "acquisitions",
        "contended",
        "wait_ns_total",
        "wait_ns_max",
        "owner_changes",
        "repeats",
        "repeats_with_lost_updates",
        "ops",
    ] {
        assert!(
            metrics.get(name).is_some_and(Value::is_i64),
            "metric `{name}` missing or not a JSON integer: {report}"
        );
    }
    for name in ["ops_per_sec", "wall_ms", "cpu_ms"] {
        assert!(
            metrics.get(name).is_some_and(Value::is_number),
            "metric `{name}` missing or not a number: {report}"
        );
    }
    assert_eq!(int(report, "expected_balance"), 0, "{report}");
    // Rounds of `iterations` changes per thread, as many as the run's seconds took.
    let repeats = int(report, "repeats");
    assert!(repeats >= 1, "{report}");
    assert!(
        int(report, "repeats_with_lost_updates") <= repeats,
        "{report}"
    );
    assert_eq!(
        int(report, "ops"),
        threads * iterations * repeats,
        "{report}"
    );
    assert_eq!(
        float(report, "wall_ms"),
        wall_ms,
        "the report's wall_ms and metrics.wall_ms measure the same run: {report}"
    );
    assert!(float(report, "ops_per_sec") > 0.0, "{report}");
    assert!(float(report, "cpu_ms") >= 0.0, "{report}");
    assert!(
        int(report, "wait_ns_max") <= int(report, "wait_ns_total"),
        "{report}"
    );

    let processes = report["processes"].as_array().expect("processes array");
    let runners: Vec<&Value> = processes.iter().filter(|p| p["role"] == "runner").collect();
    assert_eq!(runners.len(), 1, "exactly one runner: {report}");
    assert_eq!(
        processes.len(),
        1,
        "the lock scenario starts no children: {report}"
    );
    let runner = runners[0];
    assert_eq!(runner["exit"], "code 0", "{report}");
    assert_eq!(
        runner["ppid"].as_u64(),
        Some(u64::from(outcome.pid)),
        "the runner's parent is the conlab we started: {report}"
    );
    let runner_pid = runner["pid"].as_u64().expect("runner pid") as u32;
    assert_ne!(runner_pid, outcome.pid, "the runner is a separate process");
    assert!(
        !common::is_conlab(runner_pid as i32),
        "runner {runner_pid} is still there after conlab returned: {:?}",
        std::fs::read_to_string(format!("/proc/{runner_pid}/stat"))
    );
}

#[test]
fn nolock_loses_updates_and_a_wrong_balance_always_comes_with_lost_updates() {
    let mut seen = Vec::new();
    for _ in 0..ATTEMPTS {
        let (report, outcome) = run_lock(&["mode=nolock", "threads=2", "iterations=2000000"]);
        assert_contract(&report, &outcome, "nolock", 2, 2_000_000);
        let (balance, lost) = (int(&report, "balance"), int(&report, "lost_updates"));
        // Holds in every run: a balance off 0 can only come from overwritten updates.
        assert!(
            balance == 0 || lost > 0,
            "balance {balance} with no lost update: {report}"
        );
        // No lock, so nothing is counted on the lock.
        assert_eq!(int(&report, "acquisitions"), 0, "{report}");
        // ok is about the lab working, not about the balance: nolock is allowed to be wrong.
        let notes = report["notes"].to_string();
        if lost > 0 {
            assert!(notes.contains("updates were lost"), "{report}");
        }
        seen.push((balance, lost));
        if lost > 0 {
            return;
        }
    }
    panic!("no update was lost in {ATTEMPTS} runs of 2 x 2,000,000 (balance, lost): {seen:?}");
}

#[test]
fn lock_and_atomic_always_keep_the_balance() {
    for mode in ["lock", "atomic"] {
        for threads in [2, 4, 2, 4] {
            let iterations = 200_000;
            let (report, outcome) = run_lock(&[
                &format!("mode={mode}"),
                &format!("threads={threads}"),
                &format!("iterations={iterations}"),
                "seconds=0",
            ]);
            assert_contract(&report, &outcome, mode, threads, iterations);
            assert_eq!(int(&report, "balance"), 0, "{report}");
            assert_eq!(int(&report, "lost_updates"), 0, "{report}");
            let expected_acquisitions = if mode == "lock" {
                threads * iterations
            } else {
                0
            };
            assert_eq!(
                int(&report, "acquisitions"),
                expected_acquisitions,
                "{report}"
            );
        }
    }
}

#[test]
fn lock_is_contended_on_two_cores_and_counts_every_acquisition() {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut seen = Vec::new();
    for _ in 0..ATTEMPTS {
        let (report, outcome) =
            run_lock(&["mode=lock", "threads=2", "iterations=1000000", "seconds=0"]);
        assert_contract(&report, &outcome, "lock", 2, 1_000_000);
        // These hold in every run, whatever the scheduling.
        assert_eq!(int(&report, "acquisitions"), 2 * 1_000_000, "{report}");
        assert!(
            int(&report, "owner_changes") > 0,
            "both threads held the lock at least once: {report}"
        );
        let contended = int(&report, "contended");
        assert!(contended <= int(&report, "acquisitions"), "{report}");
        if contended == 0 {
            assert_eq!(int(&report, "wait_ns_total"), 0, "{report}");
        }
        seen.push(contended);
        if cores < 2 || contended > 0 {
            break;
        }
    }
    if cores >= 2 {
        assert!(
            seen.iter().any(|c| *c > 0),
            "{cores} cores, yet the lock was never contended in {ATTEMPTS} runs: {seen:?}"
        );
    }
}

#[test]
fn json_report_has_the_contract_shape() {
    let (report, outcome) = run_lock(&["mode=atomic", "threads=3", "iterations=1_000"]);
    assert_contract(&report, &outcome, "atomic", 3, 1000);
    // Exactly one JSON object on stdout, nothing else.
    assert_eq!(
        outcome.stdout.trim().lines().count(),
        1,
        "{}",
        outcome.stdout
    );
    let keys: Vec<&str> = report
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    for key in [
        "scenario",
        "params",
        "ok",
        "wall_ms",
        "metrics",
        "processes",
    ] {
        assert!(keys.contains(&key), "`{key}` missing: {keys:?}");
    }
    // Parameters not given are reported at their defaults, in declaration order.
    let (report, _) = run_lock(&["iterations=1000"]);
    let params: Vec<(&String, &Value)> = report["params"].as_object().unwrap().iter().collect();
    assert_eq!(
        format!("{params:?}"),
        r#"[("mode", String("nolock")), ("threads", Number(2)), ("iterations", Number(1000)), ("seconds", Number(2)), ("fail_every", Number(0)), ("pin", String("off"))]"#
    );
}

#[test]
fn text_report_shows_the_balance_and_the_verdict() {
    let outcome = CONLAB.invoke(&[
        "run",
        "lock",
        "--set",
        "mode=lock",
        "--set",
        "iterations=10000",
        "--set",
        "seconds=0",
    ]);
    assert_eq!(outcome.code, Some(0), "{outcome:?}");
    let text = &outcome.stdout;
    let first = text.lines().next().unwrap_or_default();
    assert_eq!(
        first, "lock  mode=lock threads=2 iterations=10000 seconds=0 fail_every=0 pin=off  [ok]",
        "{text}"
    );
    let balance = text
        .lines()
        .find(|l| l.trim_start().starts_with("balance "))
        .unwrap_or_else(|| panic!("no balance row:\n{text}"));
    assert_eq!(
        balance.split_whitespace().collect::<Vec<_>>(),
        ["balance", "0"]
    );
    assert!(
        text.lines().any(|l| l
            .trim_start()
            .starts_with("→ balance stayed 0: each change ran alone")),
        "no verdict line:\n{text}"
    );
    let acquisitions = text
        .lines()
        .find(|l| l.trim_start().starts_with("acquisitions "))
        .unwrap_or_else(|| panic!("no acquisitions row:\n{text}"));
    assert_eq!(
        acquisitions.split_whitespace().collect::<Vec<_>>(),
        ["acquisitions", "20,000"],
        "every acquisition counted, thousands grouped"
    );
    assert!(
        text.lines()
            .any(|l| l.trim_start().starts_with("pid ") && l.ends_with("runner   code 0")),
        "no runner row:\n{text}"
    );
    assert!(
        !text.trim_start().starts_with('{'),
        "text, not JSON:\n{text}"
    );
}

/// The modes of a comparison's runs, in order.
fn modes(comparison: &Value) -> Vec<String> {
    comparison["runs"]
        .as_array()
        .expect("runs array")
        .iter()
        .map(|r| r["params"]["mode"].as_str().unwrap_or("?").to_string())
        .collect()
}

#[test]
fn compare_json_runs_the_variants_in_order() {
    let outcome = CONLAB.invoke(&[
        "compare",
        "lock",
        "--vary",
        "mode=nolock,lock,atomic",
        "--set",
        "iterations=100000",
        "--json",
    ]);
    assert_eq!(outcome.code, Some(0), "{outcome:?}");
    let c = outcome.json();
    assert_eq!(c["scenario"], "lock");
    assert_eq!(c["key"], "mode");
    assert_eq!(c["values"], serde_json::json!(["nolock", "lock", "atomic"]));
    assert_eq!(modes(&c), ["nolock", "lock", "atomic"], "{c}");
    let mut runners = Vec::new();
    for run in c["runs"].as_array().unwrap() {
        assert_eq!(
            run["params"]["iterations"], 100000,
            "--set applies to every run"
        );
        assert_eq!(run["ok"], true, "{run}");
        let processes = run["processes"].as_array().unwrap();
        assert_eq!(processes.len(), 1, "{run}");
        assert_eq!(processes[0]["exit"], "code 0", "{run}");
        runners.push(processes[0]["pid"].as_u64().unwrap());
    }
    runners.sort_unstable();
    runners.dedup();
    assert_eq!(
        runners.len(),
        3,
        "each variant has its own runner: {runners:?}"
    );
    for run in &c["runs"].as_array().unwrap()[1..] {
        assert_eq!(run["metrics"]["balance"], 0, "{run}");
    }
}

#[test]
fn compare_without_vary_uses_the_natural_comparison() {
    let outcome = CONLAB.invoke(&["compare", "lock", "--set", "iterations=20000", "--json"]);
    assert_eq!(outcome.code, Some(0), "{outcome:?}");
    let c = outcome.json();
    assert_eq!(c["key"], "mode");
    assert_eq!(c["values"], serde_json::json!(["nolock", "lock", "atomic"]));
    assert_eq!(modes(&c), ["nolock", "lock", "atomic"], "{c}");
}

#[test]
fn compare_text_shows_columns_marks_ratios_and_summary() {
    let mut nolock_balances = Vec::new();
    for _ in 0..ATTEMPTS {
        // One run each: the cells are single figures with their ratios (statistics are
        // tests/statistics.rs's).
        let outcome = CONLAB.invoke(&[
            "compare",
            "lock",
            "--set",
            "iterations=2000000",
            "--runs",
            "1",
        ]);
        assert_eq!(outcome.code, Some(0), "{outcome:?}");
        let text = &outcome.stdout;
        let lines: Vec<&str> = text.lines().collect();
        let header = lines
            .iter()
            .find(|l| l.contains("mode=nolock"))
            .unwrap_or_else(|| panic!("no header:\n{text}"));
        let columns: Vec<&str> = header.split_whitespace().collect();
        assert_eq!(
            columns,
            ["mode=nolock", "mode=lock", "mode=atomic"],
            "{text}"
        );

        let row = |name: &str| -> Vec<&str> {
            lines
                .iter()
                .find(|l| l.split_whitespace().next() == Some(name))
                .unwrap_or_else(|| panic!("no `{name}` row:\n{text}"))
                .split_whitespace()
                .skip(1)
                .collect()
        };
        // `balance  83,962 ✗  0  0`: the ✗ follows the nolock value exactly when it is not 0.
        let balance = row("balance");
        let nolock = balance[0];
        if nolock == "0" {
            assert_eq!(balance, ["0", "0", "0"], "{text}");
        } else {
            assert_eq!(balance[1..], ["✗", "0", "0"], "{text}");
        }
        // Time and throughput carry ratios against the first column, which is 1.00× to itself.
        for name in ["wall_ms", "ops_per_sec", "cpu_ms"] {
            let cells = row(name);
            assert_eq!(
                cells.len(),
                6,
                "value and ratio per column: {cells:?}\n{text}"
            );
            assert_eq!(cells[1], "(1.00×)", "{text}");
            for ratio in [cells[3], cells[5]] {
                assert!(
                    ratio.starts_with('(') && ratio.ends_with("×)"),
                    "{ratio}\n{text}"
                );
            }
        }
        let summary = lines
            .iter()
            .position(|l| *l == "Summary")
            .unwrap_or_else(|| panic!("no Summary:\n{text}"));
        assert!(
            lines[summary + 1].trim_start().starts_with("mode="),
            "{text}"
        );
        // Lock runs last `seconds` (rounds repeat until then), so they rank by throughput.
        assert!(
            lines[summary + 1].contains("did the most ops_per_sec (every run lasted seconds="),
            "{text}"
        );
        assert_eq!(
            lines[summary + 2..]
                .iter()
                .filter(|l| l.contains("× the ops_per_sec of mode="))
                .count(),
            2,
            "{text}"
        );
        // Progress lines go to stderr, so stdout stays the table.
        assert_eq!(
            outcome
                .stderr
                .lines()
                .filter(|l| l.starts_with("running lock mode="))
                .count(),
            3,
            "{}",
            outcome.stderr
        );
        nolock_balances.push(nolock.to_string());
        if nolock != "0" {
            return;
        }
    }
    panic!("the nolock balance was 0 in every attempt, so ✗ was never shown: {nolock_balances:?}");
}

#[test]
fn bad_scenario_and_parameters_name_what_is_valid() {
    // Every registered scenario is named, `lock` among them.
    let ids: Vec<&str> = conlab::scenarios::all().iter().map(|s| s.id).collect();
    assert!(ids.contains(&"lock"));
    let mut names = vec!["`nope`", "valid: "];
    names.extend(&ids);
    CONLAB.assert_usage_error(&["run", "nope"], &names);
    CONLAB.assert_usage_error(&["compare", "nope"], &names);
    CONLAB.assert_usage_error(
        &["run", "lock", "--set", "speed=1"],
        &["`speed`", "valid: mode, threads, iterations"],
    );
    CONLAB.assert_usage_error(
        &["run", "lock", "--set", "threads=abc"],
        &["`threads`", "`abc`", "an integer from 1 to 64"],
    );
    CONLAB.assert_usage_error(
        &["run", "lock", "--set", "threads=0"],
        &["`threads`", "out of range", "an integer from 1 to 64"],
    );
    CONLAB.assert_usage_error(
        &["run", "lock", "--set", "threads=65"],
        &["`threads`", "out of range", "an integer from 1 to 64"],
    );
    CONLAB.assert_usage_error(
        &["run", "lock", "--set", "iterations=0"],
        &[
            "`iterations`",
            "out of range",
            "an integer from 1 to 2000000000",
        ],
    );
    CONLAB.assert_usage_error(
        &["run", "lock", "--set", "mode=fast"],
        &["`mode`", "`fast`", "one of nolock, lock, atomic"],
    );
    CONLAB.assert_usage_error(
        &["run", "lock", "--set", "threads"],
        &["`threads`", "key=value"],
    );
    // The JSON flag does not change how usage errors are reported.
    CONLAB.assert_usage_error(
        &["run", "lock", "--json", "--set", "threads=65"],
        &["an integer from 1 to 64"],
    );
}

#[test]
fn bad_compare_variations_name_what_is_valid() {
    CONLAB.assert_usage_error(
        &["compare", "lock", "--vary", "speed=1,2"],
        &["`speed`", "valid: mode, threads, iterations"],
    );
    CONLAB.assert_usage_error(
        &["compare", "lock", "--vary", "mode=nolock,fast"],
        &["`mode`", "`fast`", "one of nolock, lock, atomic"],
    );
    CONLAB.assert_usage_error(
        &["compare", "lock", "--vary", "threads=1,0"],
        &["`threads`", "an integer from 1 to 64"],
    );
    CONLAB.assert_usage_error(
        &["compare", "lock", "--vary", "mode=lock"],
        &["at least two values", "`mode`"],
    );
    CONLAB.assert_usage_error(
        &["compare", "lock", "--vary", "mode=lock,"],
        &["at least two values", "`mode`"],
    );
    CONLAB.assert_usage_error(
        &["compare", "lock", "--set", "threads=0"],
        &["`threads`", "an integer from 1 to 64"],
    );
}

#[test]
fn bad_command_lines_are_refused_by_clap_with_code_2() {
    CONLAB.assert_usage_error(
        &["--interval", "100"],
        &["'100'", "--interval", "200..=60000"],
    );
    CONLAB.assert_usage_error(&["--interval", "60001"], &["200..=60000"]);
    // clap names the bad word and points to --help, where the commands are listed; it does
    // not list them itself (see `unknown_subcommand_lists_the_valid_commands`).
    CONLAB.assert_usage_error(&["frobnicate"], &["'frobnicate'", "--help"]);
    CONLAB.assert_usage_error(&["run"], &["<SCENARIO>"]);
    CONLAB.assert_usage_error(&["run", "lock", "--bogus"], &["'--bogus'"]);
}

/// What the brief asks of every bad input: the message names what is valid, here the commands.
#[test]
fn unknown_subcommand_lists_the_valid_commands() {
    CONLAB.assert_usage_error(&["frobnicate"], &["list", "run", "compare"]);
}

#[test]
fn list_names_the_scenario_its_group_and_every_parameter_default() {
    let outcome = CONLAB.invoke(&["list"]);
    assert_eq!(outcome.code, Some(0), "{outcome:?}");
    let text = &outcome.stdout;
    let lines: Vec<&str> = text.lines().collect();
    let group = lines
        .iter()
        .position(|l| *l == "Threads")
        .unwrap_or_else(|| panic!("no Threads group:\n{text}"));
    let lock = lines
        .iter()
        .position(|l| l.split_whitespace().next() == Some("lock"))
        .unwrap_or_else(|| panic!("no lock scenario:\n{text}"));
    assert!(group < lock, "lock is listed under its group:\n{text}");
    // The lock entry: its line, one line per parameter, and its `compare:` line.
    let end = lock
        + lines[lock..]
            .iter()
            .position(|l| l.trim_start().starts_with("compare:"))
            .unwrap_or_else(|| panic!("no compare line for lock:\n{text}"));
    let entry = &lines[lock..=end];
    // Every declared parameter, with its default, from the registry itself...
    let scenario = conlab::scenarios::find("lock").unwrap();
    assert_eq!(entry.len(), scenario.params.len() + 2, "{entry:#?}");
    for p in scenario.params {
        let shown = format!("{}={} ", p.key, p.default);
        assert!(
            entry.iter().any(|l| l.trim_start().starts_with(&shown)),
            "`{shown}` missing:\n{text}"
        );
    }
    // ...and the defaults and ranges the lesson is written for.
    for shown in [
        "mode=nolock (nolock|lock|atomic|fair|deadlock|ordered|trylock|python)",
        "threads=2 (1..64)",
        "iterations=1000000 (1..2000000000)",
        "seconds=2 (0..3600)",
        "pin=off (off|spread)",
        "fail_every=0 (0..2000000000)",
        "compare: mode=nolock,lock,atomic",
    ] {
        assert!(
            entry.iter().any(|l| l.contains(shown)),
            "`{shown}` missing:\n{text}"
        );
    }
    assert!(
        text.ends_with('\n'),
        "the listing ends its last line: {text:?}"
    );
}

/// Output that a terminal shows as it is: no control character but newline and tab, so
/// nothing in it can move the cursor, clear the screen or retitle the window.
fn assert_printable(what: &str, text: &str) {
    let bad: Vec<char> = text
        .chars()
        .filter(|c| c.is_control() && *c != '\n' && *c != '\t')
        .collect();
    assert!(
        bad.is_empty(),
        "{what}: control characters {bad:?} in {text:?}"
    );
}

/// `a`, then the sequence that clears a terminal's screen, then `b`.
const CLEARS_THE_SCREEN: &str = "a\u{1b}[2Jb";

#[test]
fn text_outputs_show_control_characters_instead_of_obeying_them() {
    let name = format!("name={CLEARS_THE_SCREEN}");
    let outcome = CONLAB.run_text("threads", &[&name, "count=1", "delay_ms=0"]);
    outcome.assert_success("a thread named with an escape sequence");
    assert_printable("run's report and log lines", &outcome.stdout);
    assert_printable("run's stderr", &outcome.stderr);
    // The log line `[pid] thread a·[2Jb ...` and the report's parameters both show it.
    assert!(
        outcome
            .stdout
            .lines()
            .any(|l| l.starts_with('[') && l.contains("a·[2Jb")),
        "{}",
        outcome.stdout
    );
    assert!(
        outcome.stdout.contains("name=a·[2Jb "),
        "{}",
        outcome.stdout
    );

    let vary = format!("name={CLEARS_THE_SCREEN},b");
    let args = [
        "compare",
        "threads",
        "--vary",
        &vary,
        "--set",
        "count=1",
        "--set",
        "delay_ms=0",
    ];
    let outcome = CONLAB.invoke(&args);
    outcome.assert_success("a comparison of thread names with an escape sequence");
    assert_printable("compare's table", &outcome.stdout);
    assert_printable("compare's progress lines", &outcome.stderr);
    assert!(outcome.stdout.contains("name=a·[2Jb"), "{}", outcome.stdout);

    let mode = format!("mode={CLEARS_THE_SCREEN}");
    let bell = "\u{7}\r";
    for args in [
        &["run", "lock", "--set", &mode][..],
        &["run", CLEARS_THE_SCREEN],
        &["run", "lock", "--set", &format!("{CLEARS_THE_SCREEN}=1")],
        &["compare", "lock", "--vary", CLEARS_THE_SCREEN],
        &[CLEARS_THE_SCREEN],
        &["run", "lock", bell],
        &["--interval", bell],
    ] {
        let outcome = CONLAB.assert_usage_error(args, &[]);
        assert_printable(&format!("the message for {args:?}"), &outcome.stderr);
    }
    let outcome = CONLAB.assert_usage_error(&["run", "lock", "--set", &mode], &["`a·[2Jb`"]);
    assert!(!outcome.stderr.contains('\u{1b}'), "{}", outcome.stderr);

    let listing = CONLAB.invoke(&["list"]);
    listing.assert_success("list");
    assert_printable("list", &listing.stdout);
}

#[test]
fn messages_quote_a_bounded_prefix_of_long_input() {
    let long = "9".repeat(10_000);
    let set = |s: String| vec!["run".to_string(), "lock".into(), "--set".into(), s];
    let cases: Vec<Vec<String>> = vec![
        set(format!("threads={long}")),
        set(format!("mode={long}")),
        set(format!("{long}=1")),
        set(long.clone()),
        vec!["run".into(), long.clone()],
        vec![
            "compare".into(),
            "lock".into(),
            "--vary".into(),
            long.clone(),
        ],
        vec![
            "compare".into(),
            "lock".into(),
            "--vary".into(),
            format!("threads=1,{long}"),
        ],
        vec!["--interval".into(), long.clone()],
        vec![format!("--interval={long}")],
        vec![long.clone()],
        vec!["run".into(), "lock".into(), long.clone()],
    ];
    for args in &cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let outcome = CONLAB.assert_usage_error(&args, &["…", "(10000 characters)"]);
        assert!(
            outcome.stderr.len() < 600,
            "{} bytes for {} bytes of input: {}",
            outcome.stderr.len(),
            long.len(),
            outcome.stderr
        );
    }
}

#[test]
fn every_bad_interval_names_the_valid_range() {
    for bad in ["-1", "-x", "0", "abc", "60001", "1.5", ""] {
        CONLAB.assert_usage_error(
            &["--interval", bad],
            &[
                &format!("'{bad}'"),
                "--interval",
                "milliseconds",
                "200..=60000",
            ],
        );
        CONLAB.assert_usage_error(&[&format!("--interval={bad}")], &["200..=60000"]);
    }
}

#[test]
fn an_argument_that_is_not_utf8_is_refused_without_a_panic() {
    for args in [&[][..], &["run"], &["run", "lock", "--set"]] {
        let mut command = common::command(args);
        command.arg(OsStr::from_bytes(b"x\xffy"));
        let outcome = common::spawn(&mut command).finish(CONLAB.deadline, "conlab with \\xff");
        outcome.assert_no_panic(&format!("{args:?} \\xff"));
        assert_eq!(outcome.code, Some(2), "{args:?}: {outcome:?}");
        assert_printable("the message", &outcome.stderr);
    }
}

#[test]
fn a_comma_only_ever_separates_values() {
    CONLAB.assert_usage_error(
        &["run", "lock", "--set", "iterations=1,000"],
        &["`iterations`", "`1,000`", "write 1000 or 1_000"],
    );
    // Two values, 1 and 000: the second is refused with the right spelling, not run as 0.
    CONLAB.assert_usage_error(
        &["compare", "lock", "--vary", "iterations=1,000,2000"],
        &["`iterations`", "`000`", "1000 or 1_000"],
    );
    CONLAB.assert_usage_error(
        &["compare", "lock", "--vary", "iterations=1_000,1,0000"],
        &["`0000`", "1000 or 1_000"],
    );
    let outcome = CONLAB.invoke(&[
        "compare",
        "lock",
        "--vary",
        "iterations=1_000,20_000",
        "--set",
        "mode=atomic",
        "--json",
    ]);
    outcome.assert_success("compare with digits grouped by `_`");
    let iterations: Vec<Value> = outcome.json()["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["params"]["iterations"].clone())
        .collect();
    assert_eq!(iterations, [1000, 20000], "{}", outcome.stdout);
    for command in ["run", "compare"] {
        let help = CONLAB.invoke(&[command, "--help"]);
        help.assert_success("--help");
        for rule in ["`_`", "a comma only ever separates values"] {
            assert!(
                help.stdout.contains(rule),
                "{command} --help: {}",
                help.stdout
            );
        }
    }
}

#[test]
fn a_parameter_is_given_in_one_place_only() {
    CONLAB.assert_usage_error(
        &[
            "compare",
            "lock",
            "--vary",
            "threads=1,2",
            "--set",
            "threads=5",
        ],
        &["`threads`", "--vary", "--set `threads=5`", "one place"],
    );
    // The natural comparison varies `mode`: setting it too would be dropped as silently.
    CONLAB.assert_usage_error(
        &["compare", "lock", "--set", "mode=lock"],
        &["`mode`", "--set `mode=lock`", "one place"],
    );
    for command in ["run", "compare"] {
        CONLAB.assert_usage_error(
            &[command, "lock", "--set", "threads=2", "--set", "threads=3"],
            &["`threads` is given twice", "threads=2", "threads=3"],
        );
    }
}
