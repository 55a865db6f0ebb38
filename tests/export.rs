//! Recording and export, end to end: real runs of the real binary with `--record` (and a
//! dashboard session in a pseudo-terminal), exported with `conlab export --chrome-trace`, and
//! the trace checked against the Chrome trace event format's rules as Perfetto reads them —
//! then against what each lesson shows: the pool's fifth task waiting for a worker and its
//! trip from submit to result, the queue's items from put to get, the lock's per-thread
//! counters, the busy threads of multicore. Files that are not recordings this conlab reads
//! fail with a message naming the line.

mod common;

use common::pty::{ENTER, Tui, serial};
use common::{Conlab, MARK_VAR, Orphans, Outcome, assert_none_marked, new_mark, run_args};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Every conlab started is registered, so the leftover checks, which reap this process's
/// adopted zombies, never take one that another test is waiting for.
const CONLAB: Conlab = Conlab {
    deadline: Duration::from_secs(120),
    orphans: Orphans::Adopted,
};

/// The budget for a recording of a 10-second multicore run.
const TEN_SECONDS_BUDGET: u64 = 1 << 20;

// ---------------------------------------------------------------------------------------
// Recording and exporting

/// A file of this test process's own, named `name`.
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("export");
    std::fs::create_dir_all(&dir).expect("scratch directory");
    dir.join(format!("{}-{name}", std::process::id()))
}

/// `conlab run <scenario> --record FILE --set ...` to its end, leaving nothing behind; the
/// recording's path.
fn record_run(scenario: &str, sets: &[&str]) -> PathBuf {
    let recording = scratch(&format!("{scenario}-{}.jsonl", sets.join(",")));
    let path = recording.to_str().expect("a UTF-8 path");
    let args = run_args(scenario, &["--record", path], sets);
    let mark = new_mark("record");
    let outcome = CONLAB.finish(CONLAB.start(&args, &[(MARK_VAR, &mark)]), &args);
    outcome.assert_success(&format!("conlab {args:?}"));
    assert_none_marked(&mark, Duration::from_secs(10), &format!("{args:?}"));
    recording
}

/// `conlab export <args>`.
fn export_args(args: &[&str]) -> Outcome {
    let mut all = vec!["export"];
    all.extend(args);
    CONLAB.invoke(&all)
}

/// The recording exported as a Chrome trace, read back as JSON.
fn export(recording: &Path) -> Value {
    let out = recording.with_extension("json");
    let outcome = export_args(&[
        recording.to_str().unwrap(),
        "--chrome-trace",
        out.to_str().unwrap(),
    ]);
    outcome.assert_success("conlab export");
    assert!(outcome.stdout.contains("ui.perfetto.dev"), "{outcome:?}");
    let text = std::fs::read_to_string(&out).expect("the exported trace");
    serde_json::from_str(&text).expect("the trace is JSON")
}

// ---------------------------------------------------------------------------------------
// The format's rules

/// A time of the trace as Perfetto reads it: microseconds times 1000, the fraction dropped.
fn ns(v: &Value) -> i64 {
    (v.as_f64()
        .unwrap_or_else(|| panic!("a time is a number: {v}"))
        * 1000.0) as i64
}

fn int(v: &Value, what: &str) -> u64 {
    v.as_u64()
        .unwrap_or_else(|| panic!("{what} is a whole number: {v}"))
}

#[derive(Debug, Clone)]
struct Slice {
    pid: u64,
    tid: u64,
    name: String,
    cat: String,
    begin: i64,
    end: i64,
    args: Value,
}

#[derive(Debug, Clone)]
struct Step {
    ph: String,
    pid: u64,
    tid: u64,
    at: i64,
}

/// A trace that passed [`checked`], in the pieces the lesson checks look at.
#[derive(Debug, Default)]
struct Trace {
    slices: Vec<Slice>,
    /// Each flow's events, in file order.
    flows: BTreeMap<u64, Vec<Step>>,
    processes: BTreeMap<u64, String>,
    threads: BTreeMap<(u64, u64), String>,
    /// Each counter's values in file order, by process and name (`name arg`, as Perfetto
    /// names the track).
    counters: BTreeMap<(u64, String), Vec<(i64, f64)>>,
    /// Instants: process, thread, name.
    instants: Vec<(u64, u64, String)>,
}

impl Trace {
    /// The innermost slice of `pid`/`tid` that holds `at`: what a flow event binds to.
    fn slice_at(&self, pid: u64, tid: u64, at: i64) -> Option<&Slice> {
        self.slices
            .iter()
            .filter(|s| s.pid == pid && s.tid == tid && s.begin <= at && at <= s.end)
            .min_by_key(|s| s.end - s.begin)
    }

    /// The slices each step of flow `id` is bound to, in order.
    fn path(&self, id: u64) -> Vec<&Slice> {
        self.flows[&id]
            .iter()
            .map(|s| self.slice_at(s.pid, s.tid, s.at).expect("checked"))
            .collect()
    }

    fn of_cat(&self, cat: &str) -> Vec<&Slice> {
        self.slices.iter().filter(|s| s.cat == cat).collect()
    }

    fn pids_of(&self, role: &str) -> Vec<u64> {
        let prefix = format!("{role} ");
        self.processes
            .iter()
            .filter(|(_, name)| name.starts_with(&prefix))
            .map(|(pid, _)| *pid)
            .collect()
    }

    fn counter(&self, pid: u64, name: &str) -> &[(i64, f64)] {
        self.counters
            .get(&(pid, name.to_string()))
            .map_or(&[], Vec::as_slice)
    }
}

/// Checks `trace` against the Chrome trace event format's rules, as ui.perfetto.dev and
/// chrome://tracing read them, and returns its pieces.
fn checked(trace: &Value) -> Trace {
    assert_eq!(trace["displayTimeUnit"], "ms");
    let events = trace["traceEvents"]
        .as_array()
        .expect("traceEvents is an array");
    assert!(!events.is_empty());
    let mut out = Trace::default();
    let mut flow_names: BTreeMap<u64, (String, String)> = BTreeMap::new();
    let mut pids_used = BTreeSet::new();
    for e in events {
        let ph = e["ph"].as_str().unwrap_or_else(|| panic!("no ph: {e}"));
        let pid = int(&e["pid"], "pid");
        let name = e["name"]
            .as_str()
            .unwrap_or_else(|| panic!("no name: {e}"))
            .to_string();
        let tid = || int(&e["tid"], "tid");
        if ph == "M" {
            let value = e["args"]["name"].as_str().expect("a metadata name");
            assert!(!value.is_empty(), "{e}");
            match name.as_str() {
                "process_name" => {
                    assert!(out.processes.insert(pid, value.into()).is_none(), "{e}");
                }
                "thread_name" => {
                    assert!(out.threads.insert((pid, tid()), value.into()).is_none());
                }
                other => panic!("unknown metadata {other}: {e}"),
            }
            continue;
        }
        pids_used.insert(pid);
        let at = ns(&e["ts"]);
        assert!(at >= 0, "{e}");
        match ph {
            "X" => {
                let dur = ns(&e["dur"]);
                assert!(dur >= 0, "{e}");
                out.slices.push(Slice {
                    pid,
                    tid: tid(),
                    name,
                    cat: e["cat"].as_str().expect("a category").into(),
                    begin: at,
                    end: at + dur,
                    args: e["args"].clone(),
                });
            }
            "i" => {
                assert_eq!(e["s"], "t", "instants are on their thread: {e}");
                out.instants.push((pid, tid(), name));
            }
            "C" => {
                let args = e["args"].as_object().expect("a counter's args");
                assert!(!args.is_empty(), "{e}");
                for (key, value) in args {
                    let value = value.as_f64().unwrap_or_else(|| panic!("{e}"));
                    assert!(value.is_finite(), "{e}");
                    let track = (pid, format!("{name} {key}"));
                    out.counters.entry(track).or_default().push((at, value));
                }
            }
            "s" | "t" | "f" => {
                let id = int(&e["id"], "a flow id");
                let cat = e["cat"].as_str().expect("a flow's category");
                let named = flow_names
                    .entry(id)
                    .or_insert_with(|| (cat.into(), name.clone()));
                assert_eq!(
                    named,
                    &(cat.to_string(), name.clone()),
                    "one flow, one name"
                );
                if ph == "f" {
                    assert_eq!(e["bp"], "e", "an end binds to its enclosing slice: {e}");
                }
                let step = Step {
                    ph: ph.into(),
                    pid,
                    tid: tid(),
                    at,
                };
                out.flows.entry(id).or_default().push(step);
            }
            other => panic!("unexpected phase {other}: {e}"),
        }
    }
    for pid in &pids_used {
        assert!(out.processes.contains_key(pid), "process {pid} is named");
    }
    for s in &out.slices {
        assert!(
            out.threads.contains_key(&(s.pid, s.tid)),
            "the thread of {s:?} is named"
        );
    }
    check_flows(&out);
    check_nesting(&out.slices);
    out
}

/// Exactly one start and one end per flow, steps between, times never going back, and each
/// inside a slice of its own process and thread.
fn check_flows(trace: &Trace) {
    for (id, steps) in &trace.flows {
        let phases: String = steps.iter().map(|s| s.ph.as_str()).collect();
        assert!(
            phases.starts_with('s')
                && phases.ends_with('f')
                && phases.len() >= 2
                && phases[1..phases.len() - 1].chars().all(|c| c == 't'),
            "flow {id}: {phases}"
        );
        for pair in steps.windows(2) {
            assert!(pair[0].at <= pair[1].at, "flow {id} goes back: {steps:?}");
        }
        for step in steps {
            assert!(
                trace.slice_at(step.pid, step.tid, step.at).is_some(),
                "flow {id}: {step:?} is inside no slice of its thread"
            );
        }
    }
}

/// Slices of one thread nest or follow each other, never partly overlap.
fn check_nesting(slices: &[Slice]) {
    let mut by_thread: BTreeMap<(u64, u64), Vec<&Slice>> = BTreeMap::new();
    for s in slices {
        by_thread.entry((s.pid, s.tid)).or_default().push(s);
    }
    for (thread, mut slices) in by_thread {
        slices.sort_by_key(|s| (s.begin, std::cmp::Reverse(s.end)));
        let mut open: Vec<&Slice> = Vec::new();
        for s in slices {
            while open.last().is_some_and(|top| top.end <= s.begin) {
                open.pop();
            }
            if let Some(top) = open.last() {
                assert!(
                    s.end <= top.end,
                    "thread {thread:?}: {s:?} overlaps {top:?} in part"
                );
            }
            open.push(s);
        }
    }
}

// ---------------------------------------------------------------------------------------
// What each lesson's trace shows

/// Pool: four worker tracks, five task slices, the fifth starting after one ended on the
/// worker it then ran on, and every task's trip from submit to result as one flow.
fn check_pool(trace: &Trace, runner: u64, workers: &[u64]) {
    assert_eq!(workers.len(), 4, "{:?}", trace.processes);
    let unfinished: Vec<&Slice> = trace
        .slices
        .iter()
        .filter(|s| s.pid == runner || workers.contains(&s.pid))
        .filter(|s| s.args.get("unfinished").is_some())
        .collect();
    assert!(
        unfinished.is_empty(),
        "a finished run ended every span: {unfinished:#?}"
    );
    let tasks = trace
        .of_cat("task")
        .into_iter()
        .filter(|t| workers.contains(&t.pid))
        .collect::<Vec<_>>();
    assert_eq!(tasks.len(), 5, "{tasks:#?}");
    let on: BTreeSet<u64> = tasks.iter().map(|t| t.pid).collect();
    assert_eq!(on.len(), 4, "every worker ran a task: {tasks:#?}");
    let fifth = tasks.iter().max_by_key(|t| t.begin).unwrap();
    assert!(
        tasks
            .iter()
            .any(|t| t.pid == fifth.pid && t.name != fifth.name && t.end <= fifth.begin),
        "the fifth task began after one ended on its worker: {tasks:#?}"
    );
    let mut tasks_in_flows = BTreeSet::new();
    for id in trace.flows.keys() {
        let path = trace.path(*id);
        if path
            .iter()
            .all(|s| s.pid != runner && !workers.contains(&s.pid))
        {
            continue;
        }
        let cats: Vec<&str> = path.iter().map(|s| s.cat.as_str()).collect();
        assert_eq!(cats, ["submit", "task", "result"], "{path:#?}");
        assert_eq!((path[0].pid, path[2].pid), (runner, runner));
        let task = path[1].name.clone();
        assert_eq!(path[0].name, format!("submit {task}"));
        assert_eq!(path[2].name, format!("result of {task}"));
        tasks_in_flows.insert(task);
    }
    assert_eq!(
        tasks_in_flows.len(),
        5,
        "each task's trip is a flow: {tasks_in_flows:?}"
    );
    assert!(tasks_in_flows.contains(&fifth.name));
}

#[test]
fn a_pool_run_exports_workers_tasks_and_each_trip_as_a_flow() {
    let recording = record_run("pool", &["max_sleep_ms=400"]);
    let trace = checked(&export(&recording));
    let runners = trace.pids_of("runner");
    assert_eq!(runners.len(), 1, "{:?}", trace.processes);
    check_pool(&trace, runners[0], &trace.pids_of("worker"));
    for worker in trace.pids_of("worker") {
        assert!(
            trace
                .instants
                .iter()
                .any(|(pid, _, name)| *pid == worker && name == "exit: code 0"),
            "worker {worker}'s exit is marked"
        );
    }
}

#[test]
fn a_queue_run_exports_a_flow_from_each_put_to_its_get_and_the_depth() {
    let recording = record_run("queue", &["max_delay_ms=50"]);
    let trace = checked(&export(&recording));
    let (writers, readers) = (trace.pids_of("writer"), trace.pids_of("reader"));
    assert_eq!(
        (writers.len(), readers.len()),
        (1, 1),
        "{:?}",
        trace.processes
    );
    let mut items = Vec::new();
    for id in trace.flows.keys() {
        let path = trace.path(*id);
        let what: Vec<(&str, u64)> = path.iter().map(|s| (s.cat.as_str(), s.pid)).collect();
        assert_eq!(
            what,
            [("put", writers[0]), ("get", readers[0])],
            "{path:#?}"
        );
        assert_eq!(path[0].name, path[1].name, "the item got is the one put");
        items.push(path[0].name.clone());
    }
    assert_eq!(items, ["A", "B", "C"]);
    let depth: usize = [writers[0], readers[0]]
        .iter()
        .map(|pid| trace.counter(*pid, "depth value").len())
        .sum();
    assert!(
        depth >= 6,
        "a depth after each put and get: {:?}",
        trace.counters
    );
}

#[test]
fn a_lock_run_exports_each_threads_progress_as_a_counter_of_its_own() {
    let iterations = 2_000_000;
    let set = format!("iterations={iterations}");
    // One round (`seconds=0`): each thread's counter ends at its round's iterations.
    let recording = record_run("lock", &["mode=lock", "threads=2", &set, "seconds=0"]);
    let trace = checked(&export(&recording));
    let runner = trace.pids_of("runner")[0];
    for thread in 0..2 {
        let done = trace.counter(runner, &format!("thread_{thread}_done value"));
        assert!(
            !done.is_empty(),
            "thread {thread}: {:?}",
            trace.counters.keys()
        );
        assert!(
            done.windows(2)
                .all(|w| w[0].0 <= w[1].0 && w[0].1 <= w[1].1),
            "thread {thread}'s progress only grows: {done:?}"
        );
        assert_eq!(done.last().unwrap().1, iterations as f64, "{done:?}");
    }
}

/// Each process's busy threads, named `busy-N`, each with a busy-loop slice of at least
/// half the run.
fn assert_busy_threads(trace: &Trace, pid: u64, threads: usize, seconds: f64) {
    let names: Vec<(u64, &str)> = trace
        .threads
        .iter()
        .filter(|((p, tid), _)| *p == pid && *tid != pid)
        .map(|((_, tid), name)| (*tid, name.as_str()))
        .collect();
    let expected: Vec<String> = (0..threads).map(|i| format!("busy-{i}")).collect();
    let mut got: Vec<&str> = names.iter().map(|(_, n)| *n).collect();
    got.sort_unstable();
    assert_eq!(got, expected, "threads of {pid}");
    for (tid, name) in names {
        let busy = trace
            .of_cat("busy")
            .into_iter()
            .find(|s| s.pid == pid && s.tid == tid)
            .unwrap_or_else(|| panic!("{name} has a busy slice"));
        let ms = (busy.end - busy.begin) as f64 / 1e6;
        assert!(ms >= seconds * 500.0, "{name} busy {ms} ms");
    }
}

#[test]
fn multicore_runs_export_named_busy_threads() {
    let recording = record_run("multicore", &["seconds=1", "workers=2"]);
    let trace = checked(&export(&recording));
    let runner = trace.pids_of("runner")[0];
    assert_busy_threads(&trace, runner, 2, 1.0);
    for thread in 0..2 {
        let track = format!("thread_{thread}_run_pct value");
        assert!(!trace.counter(runner, &track).is_empty(), "{track}");
    }

    let recording = record_run("multicore", &["seconds=1", "workers=2", "mode=processes"]);
    let trace = checked(&export(&recording));
    let workers = trace.pids_of("worker");
    assert_eq!(workers.len(), 2, "{:?}", trace.processes);
    for worker in workers {
        assert_busy_threads(&trace, worker, 1, 1.0);
    }
}

#[test]
fn a_multicore_recording_stays_within_its_budget() {
    // The budget is for 10 seconds; 2 seconds of the same run must take a fifth of it.
    let seconds = 2;
    let recording = record_run("multicore", &[&format!("seconds={seconds}")]);
    let bytes = std::fs::metadata(&recording).unwrap().len();
    let per_ten_seconds = bytes * 10 / seconds;
    assert!(
        per_ten_seconds < TEN_SECONDS_BUDGET,
        "{bytes} bytes for {seconds} s: {per_ten_seconds} bytes per 10 s"
    );
}

// ---------------------------------------------------------------------------------------
// A dashboard session

#[test]
fn a_dashboard_session_exports_every_run_and_the_cpu() {
    let _serial = serial();
    let recording = scratch("dashboard.jsonl");
    let path = recording.to_str().unwrap();
    let mut tui = Tui::start_with_args("pool", 80, 24, &["--record", path]);
    tui.set_parameter(
        "pool",
        &[
            ("tasks", "tasks submitted with apply_async"),
            ("max_sleep_ms", "each task sleeps a random"),
        ],
        8,
        "400",
        "max_sleep_ms=400",
    );
    for run in 1..=2 {
        tui.send(ENTER);
        let seen = format!("run #{run}");
        tui.wait_for(&format!("{seen} done"), |t| {
            t.contains("✓ done in") && t.contains(&seen)
        });
    }
    // A third run, still going when the dashboard quits: it is cancelled, and what it said
    // until it ended is in the recording too.
    tui.send(ENTER);
    tui.wait_for("run #3 started", |t| t.contains("run #3"));
    tui.send("q");
    tui.finish(true, false);

    let text = std::fs::read_to_string(&recording).unwrap();
    let third: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|item| item["run"] == 3)
        .collect();
    assert!(
        third.iter().any(|i| i["item"] == "ended"),
        "the run cancelled by quitting was recorded to its end: {third:#?}"
    );
    assert!(
        third
            .iter()
            .any(|i| i["event"]["kind"] == "report" && i["event"]["report"]["cancelled"] == true),
        "{third:#?}"
    );

    let trace = checked(&export(&recording));
    assert_eq!(trace.pids_of("runner").len(), 3, "{:?}", trace.processes);
    for run in 1..=2 {
        let suffix = format!(" · run {run} pool");
        let of_run = |role: &str| -> Vec<u64> {
            trace
                .pids_of(role)
                .into_iter()
                .filter(|pid| trace.processes[pid].ends_with(&suffix))
                .collect()
        };
        let runner = of_run("runner");
        assert_eq!(runner.len(), 1, "{:?}", trace.processes);
        check_pool(&trace, runner[0], &of_run("worker"));
    }
    let machine: Vec<u64> = trace
        .processes
        .iter()
        .filter(|(_, name)| name.starts_with("machine"))
        .map(|(pid, _)| *pid)
        .collect();
    assert_eq!(machine.len(), 1, "{:?}", trace.processes);
    for track in ["cpu0 busy_pct", "cpu total busy_pct", "conlab cpu_pct"] {
        let values = trace.counter(machine[0], track);
        assert!(values.len() >= 2, "{track}: {values:?}");
        assert!(
            values
                .iter()
                .all(|(_, v)| (0.0..=100.0).contains(v) || track.starts_with("conlab"))
        );
    }
}

// ---------------------------------------------------------------------------------------
// Files that are not recordings, and paths that cannot be used

/// `conlab export` of `bytes`: exit 1, and a message naming `line` and saying `what`.
fn assert_refused(bytes: &[u8], line: usize, what: &str) {
    let file = scratch(&format!("bad-{line}-{}.jsonl", what.len()));
    std::fs::write(&file, bytes).unwrap();
    let out = scratch("bad.json");
    let outcome = export_args(&[
        file.to_str().unwrap(),
        "--chrome-trace",
        out.to_str().unwrap(),
    ]);
    outcome.assert_no_panic("export of a bad file");
    assert_eq!(outcome.code, Some(1), "{what}: {outcome:?}");
    let said = format!("line {line}: ");
    assert!(
        outcome.stderr.contains(&said) && outcome.stderr.contains(what),
        "expected `{said}` and `{what}`: {}",
        outcome.stderr
    );
}

#[test]
fn files_that_are_not_recordings_name_the_line() {
    let good = std::fs::read(record_run("lock", &["iterations=1000"])).unwrap();
    let text = String::from_utf8(good.clone()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines.len() > 4);
    let with_line = |at: usize, line: String| {
        let mut changed = lines.clone();
        changed[at] = &line;
        (changed.join("\n") + "\n").into_bytes()
    };

    assert_refused(b"hello\n", 1, "not a conlab recording");
    assert_refused(b"", 1, "empty");
    let this = conlab::event::record::RECORDING_VERSION;
    let older = lines[0].replace(
        &format!("\"conlab_recording\":{this}"),
        "\"conlab_recording\":0",
    );
    assert_refused(&with_line(0, older), 1, "format version 0, older");
    let newer = lines[0].replace("\"events_version\":2", "\"events_version\":3");
    assert_refused(&with_line(0, newer), 1, "events are version 3, newer");
    let event = lines[3].replace("\"v\":2", "\"v\":9");
    assert_refused(&with_line(3, event), 4, "an event of version 9");
    assert_refused(
        &with_line(2, "{\"item\":".into()),
        3,
        "not a recording item",
    );
    assert_refused(&good[..good.len() - 7], lines.len(), "cut short");
}

#[test]
fn paths_that_cannot_be_used_are_usage_errors() {
    let nowhere = "/nonexistent-conlab-dir/x.jsonl";
    CONLAB.assert_usage_error(
        &run_args("lock", &["--record", nowhere], &[]),
        &["cannot record to", nowhere],
    );
    CONLAB.assert_usage_error(&["--record", nowhere], &["cannot record to", nowhere]);
    CONLAB.assert_usage_error(
        &["--record", "x.jsonl", "list"],
        &["conlab run <scenario> --record"],
    );
    CONLAB.assert_usage_error(
        &["export", nowhere, "--chrome-trace", "x.json"],
        &["cannot read", nowhere],
    );
    let recording = record_run("lock", &["iterations=1000"]);
    let recording = recording.to_str().unwrap();
    CONLAB.assert_usage_error(
        &[
            "export",
            recording,
            "--chrome-trace",
            "/nonexistent-conlab-dir/x.json",
        ],
        &["cannot write", "/nonexistent-conlab-dir/x.json"],
    );
    CONLAB.assert_usage_error(&["export", recording], &["--chrome-trace"]);
}
