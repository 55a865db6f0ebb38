//! `multicore` — busy loops on every core: native threads fill every core, threads behind a
//! (simulated) global interpreter lock fill about one, processes with a lock each fill every
//! core again. With python3 present, real CPython threads run the same loop.

use super::{Findings, Group, Panel, Scenario};
use crate::i18n::Text;
use crate::lab::busy::busy_ops;
use crate::lab::children;
use crate::lab::control::{Control, Received};
use crate::lab::cpu_stat::{CoreTimes, thread_cpu_time};
use crate::lab::gil::Gil;
use crate::lab::run_clock::{mono_ns, sleep_unless};
use crate::params::{ParamKind, ParamSpec, choice_enum};
use crate::probe::Probe;
use crate::report::Metrics;
use crossbeam_utils::CachePadded;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

pub static SCENARIO: Scenario = Scenario::lesson(
    "multicore",
    Group::Threads,
    "Multicore — threads, a GIL, processes",
    "busy loops on every core: native threads fill them all, a GIL holds threads to one core, processes escape it",
    include_str!("../../assets/lessons/multicore.md"),
    &[
        Mode::spec(
            "mode",
            Mode::Threads,
            "threads: native; gil: threads sharing one simulated GIL; processes: one child each; python: real CPython threads",
        ),
        ParamSpec {
            key: "workers",
            kind: ParamKind::IntOrCores { min: 1, max: 256 },
            default: "cores",
            help: "busy loops to run (threads or processes)",
        },
        ParamSpec {
            key: "seconds",
            kind: ParamKind::Int { min: 1, max: 3600 },
            default: "10",
            help: "how long every loop runs",
        },
        ParamSpec {
            key: "switch_interval_ms",
            kind: ParamKind::Int { min: 1, max: 1000 },
            default: "5",
            help: "gil: how long a waiter waits before asking the holder to let go (CPython's sys.getswitchinterval())",
        },
        ParamSpec {
            key: "ticks",
            kind: ParamKind::Int {
                min: 0,
                max: 1_000_000_000,
            },
            default: "0",
            help: "gil: when > 0, release after this many operations instead (the old 100-tick rule)",
        },
    ],
    run,
)
.with_compare("mode", &["threads", "gil", "processes"])
.with_highlights(&[
    "cpu_cores_used",
    "ops_per_sec",
    "ops_per_cpu_sec",
    "gil_handoffs_per_sec",
    "wall_ms",
])
.with_panel(Panel::Multicore);

/// One process of `mode=processes`: a single thread behind a GIL of its own, started with the
/// others and released by the runner at one moment, so every worker runs the same window.
pub static WORKER: Scenario = Scenario::child(
    "multicore-worker",
    "Multicore worker process",
    &[
        ParamSpec {
            key: "switch_interval_ms",
            kind: ParamKind::Int { min: 1, max: 1000 },
            default: "5",
            help: "the GIL's switch interval",
        },
        ParamSpec {
            key: "ticks",
            kind: ParamKind::Int {
                min: 0,
                max: 1_000_000_000,
            },
            default: "0",
            help: "release the GIL after this many operations (0: on request)",
        },
    ],
    work,
);

/// What a runner and its worker processes say to each other.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
#[serde(tag = "msg", rename_all = "snake_case")]
enum Say {
    /// The worker is started and waits for the go.
    Ready,
    /// Run the loop from `start_ns` to `end_ns` (CLOCK_MONOTONIC, the same for every worker).
    Go { start_ns: u64, end_ns: u64 },
}

/// How far ahead of the go its start is set, so every go is sent before any worker starts
/// (sent while the workers run, each go would wait for a busy core), plus a little per worker.
const GO_LEAD: Duration = Duration::from_millis(50);
const GO_LEAD_PER_WORKER: Duration = Duration::from_micros(500);

/// Operations ("bytecodes") between checks of the GIL's drop request.
const CHUNK: u64 = 100;
/// Chunks between looks at the clock and the cancel flag.
const CHUNKS_PER_CHECK: u64 = 64;

choice_enum! {
    /// Where the busy loops run.
    pub(super) enum Mode {
        Threads = "threads",
        Gil = "gil",
        Processes = "processes",
        Python = "python",
    }
}

/// What each in-process worker publishes, padded so workers do not share cache lines.
#[derive(Default)]
struct WorkerStats {
    ops: CachePadded<AtomicU64>,
    held_ns: CachePadded<AtomicU64>,
    waited_ns: CachePadded<AtomicU64>,
    cpu_ns: CachePadded<AtomicU64>,
}

struct Plan {
    mode: Mode,
    workers: usize,
    deadline: Instant,
    ticks: u64,
}

fn run(probe: &Probe) -> Result<Findings, String> {
    let p = probe.params();
    let mode = p.choice::<Mode>("mode")?;
    let workers = p.int("workers") as usize;
    let seconds = p.int("seconds") as u64;
    let interval = Duration::from_millis(p.int("switch_interval_ms") as u64);
    let started = Instant::now();
    let plan = Plan {
        mode,
        workers,
        deadline: started + Duration::from_secs(seconds),
        ticks: p.int("ticks") as u64,
    };
    let cores_before = CoreTimes::now();
    let cpu_before = probe.cpu_ms();

    let mut metrics = Metrics::default();
    let mut notes = Vec::new();
    // For processes: the CPU time, seconds and starting core times of the workers' window.
    let mut window = None;
    let ops = match mode {
        Mode::Threads | Mode::Gil => {
            let gil = Gil::new(interval);
            let stats: Vec<WorkerStats> = (0..workers).map(|_| WorkerStats::default()).collect();
            in_process(probe, &plan, &gil, &stats, started)?;
            add_thread_shares(&mut metrics, &stats, mode, started.elapsed().as_secs_f64());
            if mode == Mode::Gil {
                metrics.set("gil_handoffs", gil.handoffs());
                metrics.set("gil_releases", gil.releases());
                metrics.set(
                    "gil_handoffs_per_sec",
                    gil.handoffs() as f64 / started.elapsed().as_secs_f64(),
                );
            }
            stats.iter().map(|s| s.ops.load(Relaxed)).sum()
        }
        Mode::Processes => {
            let ran = in_children(probe, &plan, &mut notes)?;
            metrics.set("window_ms", ran.secs * 1000.0);
            metrics.set("start_spread_ms", ran.start_spread_ms);
            metrics.set("workers_ran", ran.ran as u64);
            window = Some((ran.cpu_ms, ran.secs, ran.cores_at_go));
            ran.ops
        }
        Mode::Python => in_python(probe, &plan, &mut notes)?,
    };
    let wall = started.elapsed().as_secs_f64();
    let (cpu_ms, secs, cores_from) = match window {
        Some((cpu_ms, secs, at_go)) => (cpu_ms, secs, at_go.unwrap_or(cores_before)),
        None => (probe.cpu_ms() - cpu_before, wall, cores_before),
    };
    let cores_used = if secs > 0.0 {
        cpu_ms / 1000.0 / secs
    } else {
        0.0
    };
    let busy = cores_from.busy_pct_until(&CoreTimes::now());

    let mut report = Metrics::default();
    report.set("cpu_cores_used", cores_used);
    report.set("ops", ops);
    report.set(
        "ops_per_sec",
        if secs > 0.0 { ops as f64 / secs } else { 0.0 },
    );
    report.set(
        "ops_per_cpu_sec",
        if cpu_ms > 0.0 {
            ops as f64 / (cpu_ms / 1000.0)
        } else {
            0.0
        },
    );
    report.set("wall_ms", wall * 1000.0);
    report.set("cpu_ms", cpu_ms);
    report.set("workers", workers as u64);
    for (i, b) in busy.iter().enumerate() {
        report.set(&format!("core_{i}_busy_pct"), *b);
    }
    for (name, value) in metrics.iter() {
        report.set(name, value);
    }
    notes.insert(0, verdict(mode, workers, cores_used, busy.len()));
    Ok(Findings {
        ok: true,
        wall_ms: wall * 1000.0,
        metrics: report,
        notes: notes.into_iter().map(Text::from).collect(),
    })
}

fn verdict(mode: Mode, workers: usize, cores_used: f64, cores: usize) -> String {
    let what = match mode {
        Mode::Threads => "native threads run truly in parallel",
        Mode::Gil => "only the GIL's holder runs, so the threads take turns on about one core",
        Mode::Processes => "each process has its own GIL, so they run in parallel",
        Mode::Python => "real CPython threads share one GIL",
    };
    format!("{workers} busy loops used {cores_used:.2} of {cores} cores: {what}")
}

/// Threads or GIL mode: `workers` threads in this process, live figures every 100 ms.
fn in_process(
    probe: &Probe,
    plan: &Plan,
    gil: &Gil,
    stats: &[WorkerStats],
    started: Instant,
) -> Result<(), String> {
    let total = plan
        .deadline
        .saturating_duration_since(started)
        .as_secs_f64();
    let snapshot = |m: &mut Metrics| {
        let secs = started.elapsed().as_secs_f64();
        let ops: u64 = stats.iter().map(|s| s.ops.load(Relaxed)).sum();
        m.set("progress_pct", (secs / total * 100.0).min(100.0));
        m.set("ops", ops);
        m.set("ops_per_sec", ops as f64 / secs.max(1e-9));
        m.set("cpu_cores_used", probe.cpu_ms() / 1000.0 / secs.max(1e-9));
        if plan.mode == Mode::Gil {
            m.set("gil_handoffs", gil.handoffs());
        }
        add_thread_shares(m, stats, plan.mode, secs);
    };
    probe.with_live(snapshot, || busy_threads(probe, plan, gil, stats))
}

/// `stats.len()` busy threads, each named in the trace, until the plan's deadline.
fn busy_threads(
    probe: &Probe,
    plan: &Plan,
    gil: &Gil,
    stats: &[WorkerStats],
) -> Result<(), String> {
    std::thread::scope(|scope| {
        for (i, s) in stats.iter().enumerate() {
            std::thread::Builder::new()
                .name(format!("busy-{i}"))
                .spawn_scoped(scope, move || {
                    probe.thread_named(format!("busy-{i}"));
                    match plan.mode {
                        Mode::Gil => gil_worker(i, gil, s, plan, probe),
                        _ => free_worker(s, plan, probe),
                    }
                })
                .map_err(|e| format!("could not start thread {i}: {e}"))?;
        }
        Ok(())
    })
}

/// Each thread's share of `secs` spent running on a CPU and, with the GIL, holding it and
/// waiting for it.
fn add_thread_shares(m: &mut Metrics, stats: &[WorkerStats], mode: Mode, secs: f64) {
    let pct = |ns: &AtomicU64| ns.load(Relaxed) as f64 * 100.0 / (secs * 1e9).max(1.0);
    for (i, s) in stats.iter().enumerate() {
        if mode == Mode::Gil {
            m.set(&format!("thread_{i}_hold_pct"), pct(&s.held_ns));
            m.set(&format!("thread_{i}_wait_pct"), pct(&s.waited_ns));
        }
        m.set(&format!("thread_{i}_run_pct"), pct(&s.cpu_ns));
    }
}

fn time_is_up(plan: &Plan, probe: &Probe) -> bool {
    Instant::now() >= plan.deadline || probe.cancelled()
}

fn free_worker(stats: &WorkerStats, plan: &Plan, probe: &Probe) {
    let mut x = 1;
    let mut ops = 0;
    while !time_is_up(plan, probe) {
        busy_ops(&mut x, CHUNK * CHUNKS_PER_CHECK);
        ops += CHUNK * CHUNKS_PER_CHECK;
        stats.ops.store(ops, Relaxed);
        stats
            .cpu_ns
            .store(thread_cpu_time().as_nanos() as u64, Relaxed);
    }
}

/// Runs "bytecode" only while holding the GIL; lets go on request (or every `ticks`).
fn gil_worker(me: usize, gil: &Gil, stats: &WorkerStats, plan: &Plan, probe: &Probe) {
    let mut x = 1;
    let mut ops = 0;
    let mut since_release = 0;
    let (mut held, mut waited) = (Duration::ZERO, Duration::ZERO);
    let mut finished = false;
    while !finished {
        waited += gil.take(me);
        let holding_since = Instant::now();
        let mut chunks = 0u64;
        let forced = loop {
            // With `ticks`, never run past the release point, however small `ticks` is.
            let step = if plan.ticks > 0 {
                CHUNK.min(plan.ticks - since_release)
            } else {
                CHUNK
            };
            busy_ops(&mut x, step);
            ops += step;
            since_release += step;
            chunks += 1;
            if plan.ticks > 0 {
                if since_release >= plan.ticks {
                    since_release = 0;
                    break false;
                }
            } else if gil.drop_requested() {
                break true;
            }
            if chunks.is_multiple_of(CHUNKS_PER_CHECK) && time_is_up(plan, probe) {
                finished = true;
                break false;
            }
        };
        held += holding_since.elapsed();
        stats.ops.store(ops, Relaxed);
        stats.held_ns.store(held.as_nanos() as u64, Relaxed);
        stats.waited_ns.store(waited.as_nanos() as u64, Relaxed);
        stats
            .cpu_ns
            .store(thread_cpu_time().as_nanos() as u64, Relaxed);
        gil.release(forced);
        finished |= time_is_up(plan, probe);
    }
}

/// What the worker processes did in their common window.
struct Window {
    ops: u64,
    /// CPU time of the busy threads within the window.
    cpu_ms: f64,
    /// From the first worker's go to the last one's end.
    secs: f64,
    /// How far apart the workers' starts were.
    start_spread_ms: f64,
    /// Workers that ran their window.
    ran: usize,
    /// The cores' times at the go, to measure their load over the window only.
    cores_at_go: Option<CoreTimes>,
}

/// Processes mode: one child conlab per worker, each a single thread with a GIL of its own.
/// All are started first and wait; then one go releases them together, so `seconds` is the
/// window they all run, however long starting hundreds of them took.
fn in_children(probe: &Probe, plan: &Plan, notes: &mut Vec<String>) -> Result<Window, String> {
    let p = probe.params();
    let assignments = vec![
        format!("switch_interval_ms={}", p.int("switch_interval_ms")),
        format!("ticks={}", p.int("ticks")),
    ];
    let seconds = p.int("seconds") as f64;
    let started = std::sync::atomic::AtomicUsize::new(0);
    let ready = std::sync::atomic::AtomicUsize::new(0);
    let went: OnceLock<Instant> = OnceLock::new();
    let mut cores_at_go = None;
    let snapshot = |m: &mut Metrics| {
        m.set("workers_started", started.load(Relaxed) as u64);
        m.set("workers_ready", ready.load(Relaxed) as u64);
        m.set("worker_processes", plan.workers as u64);
        let progress = went.get().map_or(0.0, |at| {
            (at.elapsed().as_secs_f64() / seconds * 100.0).min(100.0)
        });
        m.set("progress_pct", progress);
    };
    let mut workers = Vec::new();
    let mut channels = Vec::new();
    probe
        .with_live(snapshot, || -> Result<(), String> {
            for i in 0..plan.workers {
                if probe.cancelled() {
                    return Ok(());
                }
                let (control, theirs) = Control::pair()
                    .map_err(|e| format!("could not make a channel for worker {i}: {e}"))?;
                let worker = children::spawn_with(
                    probe,
                    WORKER.id,
                    "worker",
                    &assignments,
                    std::process::Stdio::from(theirs),
                    |_| {},
                )
                .map_err(|e| format!("could not start worker process {i}: {e}"))?;
                workers.push(worker);
                channels.push(control);
                started.fetch_add(1, Relaxed);
            }
            for (control, worker) in channels.iter().zip(&workers) {
                match control.recv_unless::<Say>(|| probe.cancelled())? {
                    Received::Message(Say::Ready) => ready.fetch_add(1, Relaxed),
                    Received::Nothing => return Ok(()),
                    other => {
                        return Err(format!(
                            "worker {} did not say it was ready: {other:?}",
                            worker.pid
                        ));
                    }
                };
            }
            let lead = GO_LEAD + GO_LEAD_PER_WORKER * plan.workers as u32;
            let start_ns = mono_ns() + lead.as_nanos() as u64;
            let end_ns = start_ns + (seconds * 1e9) as u64;
            for control in &channels {
                control.send(&Say::Go { start_ns, end_ns })?;
            }
            std::thread::sleep(lead);
            cores_at_go = Some(CoreTimes::now());
            let _ = went.set(Instant::now());
            // The workers end their window themselves; wait for it, or for a cancel.
            while !probe.cancelled()
                && went
                    .get()
                    .is_some_and(|at| at.elapsed().as_secs_f64() < seconds)
            {
                std::thread::sleep(Duration::from_millis(20));
            }
            Ok(())
        })
        .inspect_err(|_| workers.iter().for_each(children::Worker::terminate))?;
    if probe.cancelled() {
        workers.iter().for_each(children::Worker::terminate);
    }
    drop(channels);
    let mut window = Window {
        ops: 0,
        cpu_ms: 0.0,
        secs: 0.0,
        start_spread_ms: 0.0,
        ran: 0,
        cores_at_go,
    };
    let (mut first_start, mut last_start, mut last_end) = (u64::MAX, 0, 0);
    for worker in workers {
        let end = worker.finish(probe);
        let figure = |name: &str| {
            end.report
                .as_ref()
                .and_then(|r| r.metrics.get(name))
                .map(|n| n.as_f64())
        };
        match (figure("window_start_ns"), figure("window_end_ns")) {
            (Some(start), Some(stop)) => {
                window.ops += figure("ops").unwrap_or(0.0) as u64;
                window.cpu_ms += figure("cpu_ms").unwrap_or(0.0);
                first_start = first_start.min(start as u64);
                last_start = last_start.max(start as u64);
                last_end = last_end.max(stop as u64);
                window.ran += 1;
            }
            _ if probe.cancelled() => {}
            _ => notes.push(format!(
                "worker {} ended ({}) without running its window",
                end.pid, end.exit
            )),
        }
    }
    if window.ran > 0 {
        window.secs = last_end.saturating_sub(first_start) as f64 / 1e9;
        window.start_spread_ms = last_start.saturating_sub(first_start) as f64 / 1e6;
    }
    Ok(window)
}

/// A worker process: ready, wait for the go, then the busy loop in the window it names.
fn work(probe: &Probe) -> Result<Findings, String> {
    let p = probe.params();
    let control = Control::of_stdin().map_err(|e| format!("no control channel: {e}"))?;
    control.send(&Say::Ready)?;
    // Cancelled, or the runner went away, before the start.
    let nothing_ran = || {
        Ok(Findings {
            ok: false,
            wall_ms: probe.elapsed_ms(),
            ..Findings::default()
        })
    };
    let (start_ns, end_ns) = match control.recv_unless::<Say>(|| probe.cancelled())? {
        Received::Message(Say::Go { start_ns, end_ns }) => (start_ns, end_ns),
        Received::Nothing | Received::Closed => return nothing_ran(),
        Received::Message(other) => return Err(format!("expected the go, got {other:?}")),
    };
    // Every worker starts at the same moment, whenever its go arrived.
    let wait_ms = start_ns.saturating_sub(mono_ns()) / 1_000_000;
    if !sleep_unless(wait_ms, || probe.cancelled()) {
        return nothing_ran();
    }
    while mono_ns() < start_ns {
        std::hint::spin_loop(); // The last fraction of a millisecond.
    }
    let started = Instant::now();
    let start_ns = mono_ns();
    let plan = Plan {
        mode: Mode::Gil,
        workers: 1,
        deadline: started + Duration::from_nanos(end_ns.saturating_sub(start_ns)),
        ticks: p.int("ticks") as u64,
    };
    let gil = Gil::new(Duration::from_millis(p.int("switch_interval_ms") as u64));
    let stats = [WorkerStats::default()];
    // No live figures: the runner does not relay a worker's counters, it sums their reports.
    busy_threads(probe, &plan, &gil, &stats)?;
    let mut metrics = Metrics::default();
    metrics.set("ops", stats[0].ops.load(Relaxed));
    metrics.set("cpu_ms", stats[0].cpu_ns.load(Relaxed) as f64 / 1e6);
    metrics.set("window_start_ns", start_ns);
    metrics.set("window_end_ns", mono_ns());
    Ok(Findings {
        ok: true,
        wall_ms: probe.elapsed_ms(),
        metrics,
        notes: vec![],
    })
}

/// Python mode: the shipped script in real CPython threads; its CPU is measured once reaped.
fn in_python(probe: &Probe, plan: &Plan, notes: &mut Vec<String>) -> Result<u64, String> {
    let seconds = plan
        .deadline
        .saturating_duration_since(Instant::now())
        .as_secs_f64();
    let started = Instant::now();
    let snapshot = |m: &mut Metrics| {
        m.set(
            "progress_pct",
            (started.elapsed().as_secs_f64() / seconds.max(1e-9) * 100.0).min(100.0),
        );
    };
    let mut last = String::new();
    let ended = probe.with_live(snapshot, || {
        crate::lab::python::run_lines(
            probe,
            include_str!("../../assets/python/multicore.py"),
            &[plan.workers.to_string(), format!("{seconds:.3}")],
            "threads, gil and processes work without it",
            |line| last = line.to_string(),
        )
    })?;
    let result: serde_json::Value = serde_json::from_str(last.trim()).map_err(|_| {
        format!(
            "python3 ended ({}) without a result: {}",
            ended.exit, ended.stderr
        )
    })?;
    if let Some(version) = result.get("python").and_then(|v| v.as_str()) {
        notes.push(format!(
            "CPython {version}, switch interval {} s",
            result["switch_interval_s"]
        ));
    }
    Ok(result.get("ops").and_then(|v| v.as_u64()).unwrap_or(0))
}
