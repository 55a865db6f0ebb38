//! `multicore` — busy loops on every core: native threads fill every core, threads behind a
//! (simulated) global interpreter lock fill about one, processes with a lock each fill every
//! core again. With python3 present, real CPython threads run the same loop.

use super::{Findings, Group, Panel, Scenario};
use crate::lab::children;
use crate::lab::cpu_stat::{CoreTimes, thread_cpu_time};
use crate::lab::gil::Gil;
use crate::params::{ParamKind, ParamSpec};
use crate::probe::Probe;
use crate::report::Metrics;
use crossbeam_utils::CachePadded;
use std::hint::black_box;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

pub static SCENARIO: Scenario = Scenario {
    id: "multicore",
    group: Group::Threads,
    title: "Multicore — threads, a GIL, processes",
    summary: "busy loops on every core: native threads fill them all, a GIL holds threads to one core, processes escape it",
    lesson: include_str!("../../assets/lessons/multicore.md"),
    lesson_reflowed: OnceLock::new(),
    params: &[
        ParamSpec {
            key: "mode",
            kind: ParamKind::Choice(&["threads", "gil", "processes", "python"]),
            default: "threads",
            help: "threads: native; gil: threads sharing one simulated GIL; processes: one child each; python: real CPython threads",
        },
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
    compare_key: "mode",
    compare_values: &["threads", "gil", "processes"],
    highlights: &[
        "cpu_cores_used",
        "ops_per_sec",
        "ops_per_cpu_sec",
        "gil_handoffs_per_sec",
        "wall_ms",
    ],
    panel: Panel::Multicore,
    run,
};

/// Operations ("bytecodes") between checks of the GIL's drop request.
const CHUNK: u64 = 100;
/// Chunks between looks at the clock and the cancel flag.
const CHUNKS_PER_CHECK: u64 = 64;

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Threads,
    Gil,
    Processes,
    Python,
}

/// What each in-process worker publishes, padded so workers do not share cache lines.
#[derive(Default)]
struct WorkerStats {
    ops: CachePadded<AtomicU64>,
    held_ns: CachePadded<AtomicU64>,
    waited_ns: CachePadded<AtomicU64>,
    cpu_ns: CachePadded<AtomicU64>,
}

/// `ops` "bytecodes": arithmetic the compiler cannot remove.
#[inline]
fn busy_ops(x: &mut u64, ops: u64) {
    for _ in 0..ops {
        *x = black_box(
            x.wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407),
        );
    }
}

struct Plan {
    mode: Mode,
    workers: usize,
    deadline: Instant,
    ticks: u64,
}

fn run(probe: &Probe) -> Result<Findings, String> {
    let p = probe.params();
    let mode = match p.word("mode") {
        "gil" => Mode::Gil,
        "processes" => Mode::Processes,
        "python" => Mode::Python,
        _ => Mode::Threads,
    };
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
        Mode::Processes => in_children(probe, &plan, &mut notes)?,
        Mode::Python => in_python(probe, &plan, &mut notes)?,
    };
    let wall = started.elapsed().as_secs_f64();
    let cpu_ms = probe.cpu_ms() - cpu_before;
    let cores_used = cpu_ms / 1000.0 / wall;
    let busy = cores_before.busy_pct_until(&CoreTimes::now());

    let mut report = Metrics::default();
    report.set("cpu_cores_used", cores_used);
    report.set("ops", ops);
    report.set("ops_per_sec", ops as f64 / wall);
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
        notes,
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
    probe.with_live(snapshot, || {
        std::thread::scope(|scope| {
            for (i, s) in stats.iter().enumerate() {
                std::thread::Builder::new()
                    .name(format!("busy-{i}"))
                    .spawn_scoped(scope, move || match plan.mode {
                        Mode::Gil => gil_worker(i, gil, s, plan, probe),
                        _ => free_worker(s, plan, probe),
                    })
                    .map_err(|e| format!("could not start thread {i}: {e}"))?;
            }
            Ok(())
        })
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

/// Processes mode: one child conlab per worker, each a single thread with a GIL of its own.
fn in_children(probe: &Probe, plan: &Plan, notes: &mut Vec<String>) -> Result<u64, String> {
    let p = probe.params();
    // Every worker runs the whole period; they start within milliseconds of the runner's clock.
    let seconds = p.int("seconds");
    let assignments = vec![
        "mode=gil".to_string(),
        "workers=1".to_string(),
        format!("seconds={seconds}"),
        format!("switch_interval_ms={}", p.int("switch_interval_ms")),
        format!("ticks={}", p.int("ticks")),
    ];
    let mut workers = Vec::new();
    for i in 0..plan.workers {
        let worker = children::spawn(probe, "multicore", "worker", &assignments)
            .map_err(|e| format!("could not start worker process {i}: {e}"))?;
        workers.push(worker);
    }
    let started = Instant::now();
    let total = seconds as f64;
    let snapshot = |m: &mut Metrics| {
        m.set(
            "progress_pct",
            (started.elapsed().as_secs_f64() / total * 100.0).min(100.0),
        );
        m.set("worker_processes", plan.workers as u64);
    };
    probe.with_live(snapshot, || {
        while !time_is_up(plan, probe) {
            std::thread::sleep(Duration::from_millis(20));
        }
        if probe.cancelled() {
            workers.iter().for_each(children::Worker::terminate);
        }
    });
    let mut ops = 0;
    for worker in workers {
        let end = worker.finish(probe);
        match end.report.and_then(|r| r.metrics.get("ops")) {
            Some(n) => ops += n.as_f64() as u64,
            None => notes.push(format!(
                "worker {} ended ({}) without a report",
                end.pid, end.exit
            )),
        }
    }
    Ok(ops)
}

/// Python mode: the shipped script in real CPython threads; its CPU is measured once reaped.
fn in_python(probe: &Probe, plan: &Plan, notes: &mut Vec<String>) -> Result<u64, String> {
    use std::process::{Command, Stdio};
    let seconds = plan
        .deadline
        .saturating_duration_since(Instant::now())
        .as_secs_f64();
    let mut command = Command::new("python3");
    command
        .arg("-c")
        .arg(include_str!("../../assets/python/multicore.py"))
        .arg(plan.workers.to_string())
        .arg(format!("{seconds:.3}"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    crate::lifeline::die_with_parent(&mut command);
    let child = command.spawn().map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => {
            "mode=python needs python3 on the PATH, and there is none here; threads, gil and processes work without it"
                .to_string()
        }
        _ => format!("could not start python3: {e}"),
    })?;
    let pid = child.id();
    probe.emit_as(
        pid,
        crate::event::Body::Process {
            ppid: std::process::id(),
            role: "python".into(),
        },
    );
    let started = Instant::now();
    let snapshot = |m: &mut Metrics| {
        m.set(
            "progress_pct",
            (started.elapsed().as_secs_f64() / seconds.max(1e-9) * 100.0).min(100.0),
        );
    };
    let output = probe.with_live(snapshot, || {
        let done = std::sync::atomic::AtomicBool::new(false);
        let watcher = std::thread::scope(|s| {
            s.spawn(|| {
                while !done.load(Relaxed) {
                    if probe.cancelled() {
                        let _ = nix::sys::signal::kill(
                            nix::unistd::Pid::from_raw(pid as i32),
                            nix::sys::signal::Signal::SIGTERM,
                        );
                        return;
                    }
                    std::thread::sleep(Duration::from_millis(20));
                }
            });
            let output = child.wait_with_output();
            done.store(true, Relaxed);
            output
        });
        watcher.map_err(|e| format!("python3 failed: {e}"))
    })?;
    let exit = crate::runner::describe_exit(output.status);
    probe.emit_as(pid, crate::event::Body::ProcessExit { exit: exit.clone() });
    let stdout = String::from_utf8_lossy(&output.stdout);
    let result: serde_json::Value = serde_json::from_str(stdout.trim()).map_err(|_| {
        format!(
            "python3 ended ({exit}) without a result: {}",
            String::from_utf8_lossy(&output.stderr).trim()
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
