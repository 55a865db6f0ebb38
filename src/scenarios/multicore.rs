//! `multicore` — busy loops on every core: native threads fill every core, threads behind a
//! (simulated) global interpreter lock fill about one, processes with a lock each fill every
//! core again. With python3 present, real CPython threads run the same loop.

use super::{Findings, Group, Panel, Scenario};
use crate::i18n::Text;
use crate::lab::busy::busy_ops;
use crate::lab::children;
use crate::lab::control::{Control, Received};
use crate::lab::cpu_stat::{CoreTimes, LoadWatch, thread_cpu_time};
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
    "busy loops on every core as native threads, as threads behind a GIL, as processes: how many cores each keeps busy",
    include_str!("../../assets/lessons/multicore.en.md"),
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
.with_chinese(
    "多核 — 线程、GIL、进程",
    "每个核一个死循环：原生线程、受 GIL 约束的线程、进程——各自让几个核忙了起来",
    include_str!("../../assets/lessons/multicore.zh.md"),
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
    let load = LoadWatch::start();

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
    // Over the whole run, after every worker was reaped: their CPU counts as the run's own.
    let others_cores = load.until_now().others_cores;

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
    report.set("others_cores", others_cores);
    for (i, b) in busy.iter().enumerate() {
        report.set(&format!("core_{i}_busy_pct"), *b);
    }
    for (name, value) in metrics.iter() {
        report.set(name, value);
    }
    let measured = Measured {
        mode,
        workers,
        cores: busy.len(),
        cores_used,
        others_cores,
    };
    notes.insert(0, verdict(&measured));
    Ok(Findings {
        ok: true,
        wall_ms: wall * 1000.0,
        metrics: report,
        notes,
    })
}

/// Cores used on average above which loops must have run at the same moment (CPU time beyond
/// wall time), with a margin for the two clocks.
const MORE_THAN_ONE_CORE: f64 = 1.1;
/// A run that used this share of the cores its loops could use filled them.
const FILLED: f64 = 0.85;
/// Free cores below which one core's worth could be the machine's limit as well as a GIL's.
const ENOUGH_FREE: f64 = 1.5;
/// Other programs' load worth a mention, in cores.
const OTHERS_MATTER: f64 = 0.2;

/// The figures a verdict is drawn from.
#[derive(Debug, Clone, Copy)]
struct Measured {
    mode: Mode,
    workers: usize,
    /// The machine's cores.
    cores: usize,
    cores_used: f64,
    /// What other programs kept busy meanwhile (see [`crate::lab::cpu_stat::LoadWatch`]).
    others_cores: f64,
}

/// What the figures show about the loops, whatever the mode was meant to show.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Shown {
    /// More CPU time than wall time: loops ran at the same moment; `filled`: on every core
    /// they could use.
    Parallel { filled: bool },
    /// About one core, though more were free.
    OneCore,
    /// One loop, or one core: there was nothing to run beside.
    NothingBeside,
    /// About one core, with too few free to tell why: other programs took the rest.
    Crowded,
}

impl Measured {
    /// Cores the loops could have used at most.
    fn possible(&self) -> usize {
        self.workers.min(self.cores)
    }

    fn free(&self) -> f64 {
        (self.cores as f64 - self.others_cores).max(0.0)
    }

    fn shown(&self) -> Shown {
        if self.possible() < 2 {
            Shown::NothingBeside
        } else if self.cores_used > MORE_THAN_ONE_CORE {
            Shown::Parallel {
                filled: self.cores_used >= FILLED * self.possible() as f64,
            }
        } else if self.free() < ENOUGH_FREE {
            Shown::Crowded
        } else {
            Shown::OneCore
        }
    }
}

/// `2 busy loops used 1.93 of 2 cores: …` — what this run's figures show, in both languages,
/// and other programs' load when it took enough to matter.
fn verdict(m: &Measured) -> Text {
    let (used, cores, workers) = (m.cores_used, m.cores, m.workers);
    let (possible, free, others) = (m.possible(), m.free(), m.others_cores);
    let head = Text::new(
        format!("{workers} busy loops used {used:.2} of {cores} cores: "),
        format!("{workers} 个死循环用了 {cores} 个核中的 {used:.2} 个："),
    );
    let shown = m.shown();
    let what = match (m.mode, shown) {
        (_, Shown::NothingBeside) if workers < 2 => Text::new(
            "a single loop uses one core at most, so nothing here can run beside it",
            "只有一个死循环，最多只能用一个核，这次运行显示不出并行，也显示不出 GIL",
        ),
        (_, Shown::NothingBeside) => Text::new(
            "this machine has one core, so no two loops can run at the same moment",
            "这台机器只有一个核，任何两个循环都不可能同时运行",
        ),
        (Mode::Threads, Shown::Parallel { filled: true }) => Text::new(
            "native threads ran in parallel, each on a core of its own",
            "原生线程真正并行执行，各占一个核",
        ),
        (Mode::Processes, Shown::Parallel { filled: true }) => Text::new(
            "each process has its own GIL, so they ran in parallel, each on a core of its own",
            "每个进程有各自独立的 GIL，所以它们并行执行，各占一个核",
        ),
        (Mode::Threads | Mode::Processes, Shown::Parallel { filled: false }) => Text::new(
            format!(
                "more than one core at once, so they ran in parallel, though short of the {possible} cores they could fill"
            ),
            format!("同一时刻用了不止一个核，说明它们在并行执行，但没有占满能用的 {possible} 个核"),
        ),
        (Mode::Threads | Mode::Processes, Shown::OneCore) => Text::new(
            format!(
                "they ran on about one core although {free:.1} were free: this run does not show them side by side"
            ),
            format!(
                "它们只用了大约一个核，而空闲的核有 {free:.1} 个：这次运行没有显示出它们同时执行"
            ),
        ),
        (Mode::Threads | Mode::Processes, Shown::Crowded) => Text::new(
            format!(
                "inconclusive: other programs kept {others:.2} cores busy, leaving about {free:.1} — too few to show loops side by side"
            ),
            format!(
                "无法判断：其他程序占用了 {others:.2} 个核，只剩约 {free:.1} 个，不足以显示多个循环同时执行"
            ),
        ),
        (Mode::Gil, Shown::Parallel { .. }) => Text::new(
            "more than one core at once: these threads were not held to one core, which a GIL would do",
            "同一时刻用了不止一个核：这些线程并没有被限制在一个核上，而 GIL 会这样限制",
        ),
        (Mode::Python, Shown::Parallel { .. }) => Text::new(
            "more than one core at once: this interpreter did not hold its threads to one core with a GIL",
            "同一时刻用了不止一个核：这个解释器并没有用 GIL 把线程限制在一个核上",
        ),
        (Mode::Gil, Shown::OneCore) => Text::new(
            format!(
                "only the GIL's holder runs, so the threads took turns on about one core although {free:.1} were free"
            ),
            format!(
                "只有持有 GIL（全局解释器锁）的线程能运行，所以线程轮流执行，只用了大约一个核，尽管空闲的核有 {free:.1} 个"
            ),
        ),
        (Mode::Python, Shown::OneCore) => Text::new(
            format!(
                "real CPython threads took turns under their GIL on about one core although {free:.1} were free"
            ),
            format!(
                "真正的 CPython 线程在 GIL 下轮流执行，只用了大约一个核，尽管空闲的核有 {free:.1} 个"
            ),
        ),
        (Mode::Gil | Mode::Python, Shown::Crowded) => Text::new(
            format!(
                "inconclusive: other programs kept {others:.2} cores busy, leaving about {free:.1}, so one core's worth may be the machine's limit as much as the GIL's"
            ),
            format!(
                "无法判断：其他程序占用了 {others:.2} 个核，只剩约 {free:.1} 个，只用一个核既可能是 GIL 的限制，也可能是机器的限制"
            ),
        ),
    };
    // Crowded says it already; elsewhere other load explains a shortfall, or shows it did not.
    let meanwhile = if others >= OTHERS_MATTER && shown != Shown::Crowded {
        Text::new(
            format!("; other programs kept {others:.2} cores busy meanwhile"),
            format!("；其间其他程序占用了 {others:.2} 个核"),
        )
    } else {
        Text::default()
    };
    Text::new(
        format!("{}{}{}", head.en, what.en, meanwhile.en),
        format!("{}{}{}", head.zh, what.zh, meanwhile.zh),
    )
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

/// What a busy thread's span is (its whole loop, so a trace shows each thread's lane busy).
pub const BUSY: &str = "busy";

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
                    let _busy = probe.span(BUSY, "busy loop");
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
fn in_children(probe: &Probe, plan: &Plan, notes: &mut Vec<Text>) -> Result<Window, String> {
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
            _ => notes.push(Text::new(
                format!(
                    "worker {} ended ({}) without running its window",
                    end.pid, end.exit
                ),
                format!(
                    "工作进程 {} 没有跑完它的时段就结束了（{}）",
                    end.pid, end.exit
                ),
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
fn in_python(probe: &Probe, plan: &Plan, notes: &mut Vec<Text>) -> Result<u64, String> {
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
        let interval = &result["switch_interval_s"];
        notes.push(Text::new(
            format!("CPython {version}, switch interval {interval} s"),
            format!("CPython {version}，线程切换间隔 {interval} 秒"),
        ));
    }
    Ok(result.get("ops").and_then(|v| v.as_u64()).unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A run of `workers` loops on a 2-core machine.
    fn measured(mode: Mode, workers: usize, cores_used: f64, others_cores: f64) -> Text {
        verdict(&Measured {
            mode,
            workers,
            cores: 2,
            cores_used,
            others_cores,
        })
    }

    /// The verdict claims the loops ran at the same moment on different cores.
    fn claims_parallel(verdict: &str) -> bool {
        verdict.contains("in parallel")
    }

    /// The verdict claims the loops were held to one core, as a GIL holds them.
    fn claims_one_core(verdict: &str) -> bool {
        verdict.contains("turns") || verdict.contains("about one core")
    }

    #[test]
    fn threads_that_used_one_core_are_not_called_parallel() {
        for mode in [Mode::Threads, Mode::Processes] {
            let v = measured(mode, 2, 1.02, 0.0);
            assert!(!claims_parallel(&v.en), "{v:?}");
            assert!(
                v.en.contains("about one core although 2.0 were free"),
                "{v:?}"
            );
            assert!(!v.zh.contains("并行执行"), "{v:?}");
        }
        // Filled and half-filled are both parallel; only filled says a core each.
        let v = measured(Mode::Threads, 2, 1.96, 0.0);
        assert!(
            claims_parallel(&v.en) && v.en.contains("each on a core"),
            "{v:?}"
        );
        let v = measured(Mode::Threads, 2, 1.4, 0.0);
        assert!(
            claims_parallel(&v.en) && !v.en.contains("each on a core"),
            "{v:?}"
        );
        assert!(v.en.contains("short of the 2 cores"), "{v:?}");
    }

    #[test]
    fn a_gil_run_that_used_two_cores_is_not_called_gil_bound() {
        for mode in [Mode::Gil, Mode::Python] {
            let v = measured(mode, 2, 1.9, 0.0);
            assert!(!claims_one_core(&v.en), "{v:?}");
            assert!(!v.zh.contains("轮流"), "{v:?}");
            let v = measured(mode, 2, 0.99, 0.0);
            assert!(claims_one_core(&v.en), "{v:?}");
        }
    }

    #[test]
    fn one_loop_shows_neither_parallelism_nor_a_gil() {
        for mode in [Mode::Threads, Mode::Gil, Mode::Processes, Mode::Python] {
            let v = measured(mode, 1, 1.0, 0.0);
            assert!(!claims_parallel(&v.en) && !claims_one_core(&v.en), "{v:?}");
        }
        let one_core = verdict(&Measured {
            mode: Mode::Threads,
            workers: 4,
            cores: 1,
            cores_used: 1.0,
            others_cores: 0.0,
        });
        assert!(
            one_core.en.contains("this machine has one core"),
            "{one_core:?}"
        );
    }

    /// Seen on a shared machine: threads used 1.11 cores while others kept 0.88 busy.
    #[test]
    fn other_load_that_took_the_cores_makes_a_run_inconclusive() {
        for mode in [Mode::Threads, Mode::Gil, Mode::Processes, Mode::Python] {
            let v = measured(mode, 2, 0.97, 0.95);
            assert!(
                v.en.contains("inconclusive: other programs kept 0.95 cores busy"),
                "{v:?}"
            );
            assert!(!claims_parallel(&v.en) && !claims_one_core(&v.en), "{v:?}");
            assert!(v.zh.contains("无法判断"), "{v:?}");
        }
        // Parallel all the same: the load is mentioned, as what kept it from filling the cores.
        let v = measured(Mode::Threads, 2, 1.15, 0.88);
        assert!(claims_parallel(&v.en), "{v:?}");
        assert!(
            v.en.ends_with("; other programs kept 0.88 cores busy meanwhile"),
            "{v:?}"
        );
        // A trace of other load is not worth a word.
        let v = measured(Mode::Threads, 2, 1.97, 0.05);
        assert!(!v.en.contains("other programs"), "{v:?}");
    }

    #[test]
    fn every_verdict_keeps_its_figures_and_has_chinese() {
        for mode in [Mode::Threads, Mode::Gil, Mode::Processes, Mode::Python] {
            for (workers, used, others) in
                [(2, 1.9, 0.0), (2, 1.0, 0.0), (2, 1.0, 1.0), (1, 1.0, 0.5)]
            {
                let v = measured(mode, workers, used, others);
                assert!(
                    v.en.starts_with(&format!("{workers} busy loops used {used:.2} of 2 cores: ")),
                    "{v:?}"
                );
                assert!(
                    v.zh.contains(&format!("{used:.2}")) && v.is_translated(),
                    "{v:?}"
                );
                assert!(!v.zh.is_ascii(), "{v:?}");
            }
        }
    }
}
