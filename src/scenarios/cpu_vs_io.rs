//! `cpu-vs-io` — 计算密集型 vs IO密集型: the same sweep of worker counts over two task sets.
//! CPU-bound tasks are busy loops; IO-bound tasks each send a request to a local service (a
//! thread of the run) that answers after `io_ms`, so their workers wait on a socket, asleep.
//! CPU-bound throughput stops rising at the core count; IO-bound keeps rising, each worker
//! adding its own waiting. In `python` mode the same two sets run in CPython threads, where the
//! GIL holds CPU-bound work to one core while IO-bound work still scales.

use super::{Figure, Findings, Group, Panel, Plot, Scenario, SweepSpec};
use crate::i18n::{Phrase, Text};
use crate::lab::busy::{busy_ops, ops_per_us};
use crate::lab::delayed_echo::{DelayedEcho, MESSAGE};
use crate::lab::sweep::{self, Point, Points};
use crate::params::{ParamKind, ParamSpec, choice_enum};
use crate::probe::Probe;
use crate::report::Metrics;
use crate::style::si;
use std::io::{Read, Write};
use std::sync::Barrier;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::time::{Duration, Instant};

pub static SCENARIO: Scenario = Scenario::lesson(
    "cpu-vs-io",
    Group::Models,
    "CPU-bound vs IO-bound — how many workers",
    "1 … 64 workers on busy loops and on requests that wait for a slow service: CPU-bound stops gaining at the core count, IO-bound keeps gaining",
    include_str!("../../assets/lessons/cpu-vs-io.en.md"),
    &[
        Mode::spec(
            "mode",
            Mode::Threads,
            "threads: native threads; python: the same two task sets in CPython threads (one GIL)",
        ),
        ParamSpec {
            key: "max_workers",
            kind: ParamKind::Int { min: 1, max: 256 },
            default: "64",
            help: "workers run 1, 2, 4 … up to this",
        },
        ParamSpec {
            key: "io_ms",
            kind: ParamKind::Int { min: 1, max: 1000 },
            default: "20",
            help: "how long the service takes to answer an IO-bound task's request",
        },
        ParamSpec {
            key: "cpu_us",
            kind: ParamKind::Int {
                min: 10,
                max: 100_000,
            },
            default: "1000",
            help: "CPU work in one CPU-bound task",
        },
        ParamSpec {
            key: "point_ms",
            kind: ParamKind::Int {
                min: 50,
                max: 10_000,
            },
            default: "200",
            help: "how long each worker count runs each set",
        },
    ],
    run,
)
.with_compare("mode", &["threads", "python"])
.with_highlights(&[
    CPU_BEST_WORKERS,
    IO_BEST_WORKERS,
    "cpu_best_speedup",
    "io_best_speedup",
    "wall_ms",
])
.with_panel(Panel::Sweep(SWEEP))
.with_chinese(
    "计算密集型 vs IO密集型 — 开多少个工作线程",
    "1 … 64 个工作线程，分别跑纯计算和等慢服务回应的请求：计算密集型到核数就不再变快，IO密集型还能继续变快",
    include_str!("../../assets/lessons/cpu-vs-io.zh.md"),
);

const SWEEP: SweepSpec = SweepSpec {
    x: Phrase::new("workers", "工作线程数"),
    plots: &[
        Plot {
            figure: SPEEDUP,
            log: true,
        },
        Plot {
            figure: RATE,
            log: true,
        },
    ],
    series: &[
        (CPU, Phrase::new("CPU-bound", "计算密集型")),
        (IO, Phrase::new("IO-bound", "IO密集型")),
    ],
    latest: &[RATE, SPEEDUP, CORES],
};

const SPEEDUP: Figure = Figure {
    name: SPEEDUP_X,
    label: Phrase::new("speed-up over 1 worker", "相对 1 个线程的加速"),
};
const RATE: Figure = Figure {
    name: TASKS_PER_SEC,
    label: Phrase::new("tasks/s", "每秒任务数"),
};
const CORES: Figure = Figure {
    name: CPU_CORES_USED,
    label: Phrase::new("cores", "核"),
};

/// The series words.
const CPU: &str = "cpu";
const IO: &str = "io";
/// A point's figures.
const TASKS_PER_SEC: &str = "tasks_per_sec";
const SPEEDUP_X: &str = "speedup";
const CPU_CORES_USED: &str = "cpu_cores_used";
/// The run's answer.
const CPU_BEST_WORKERS: &str = "cpu_best_workers";
const IO_BEST_WORKERS: &str = "io_best_workers";

/// A worker count whose throughput is within this of its set's best counts as the best: on a
/// noisy machine the highest point alone would pick among equals at random.
const NEAR_BEST: f64 = 0.10;

choice_enum! {
    /// Where the workers run.
    pub(super) enum Mode {
        Threads = "threads",
        Python = "python",
    }
}

/// A task set.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Set {
    Cpu,
    Io,
}

impl Set {
    fn word(self) -> &'static str {
        match self {
            Set::Cpu => CPU,
            Set::Io => IO,
        }
    }
}

/// What one point measured.
#[derive(Debug, Clone, Copy)]
struct Measured {
    tasks: u64,
    secs: f64,
    cpu_secs: f64,
}

fn run(probe: &Probe) -> Result<Findings, String> {
    let p = probe.params();
    let mode = p.choice::<Mode>("mode")?;
    let max = p.int("max_workers") as usize;
    let io = Duration::from_millis(p.int("io_ms") as u64);
    let cpu_us = p.int("cpu_us") as u64;
    let point = Duration::from_millis(p.int("point_ms") as u64);
    let started = Instant::now();
    let counts = sweep::doubling(max);
    let planned = counts.len() * 2;

    let service =
        DelayedEcho::start(io).map_err(|e| format!("could not start the service: {e}"))?;
    probe.log(format!(
        "the IO service listens on 127.0.0.1:{} and answers each request after {} ms",
        service.port(),
        io.as_millis()
    ));
    let mut points = Points::default();
    let done = AtomicUsize::new(0);
    let snapshot = |m: &mut Metrics| {
        sweep::plan(m, planned, 1.0, max as f64);
        let n = done.load(Relaxed);
        m.set(sweep::DONE, n as u64);
        m.set("progress_pct", n as f64 * 100.0 / planned as f64);
    };
    let mut notes = Vec::new();
    probe.with_live(snapshot, || -> Result<(), String> {
        let mut record = |set: Set, workers: usize, m: Measured| {
            let figures = point_figures(&points, set, workers, &m);
            points.record(
                probe,
                Point {
                    series: set.word().to_string(),
                    x: workers as f64,
                    figures,
                },
            );
            done.fetch_add(1, Relaxed);
        };
        match mode {
            Mode::Threads => {
                let cpu_ops = (cpu_us as f64 * ops_per_us()).max(1.0) as u64;
                for &workers in &counts {
                    for set in [Set::Cpu, Set::Io] {
                        if probe.cancelled() {
                            return Ok(());
                        }
                        let m = in_threads(probe, &service, set, workers, cpu_ops, point)?;
                        record(set, workers, m);
                    }
                }
                Ok(())
            }
            Mode::Python => in_python(
                probe,
                &service,
                cpu_us,
                point,
                &counts,
                &mut record,
                &mut notes,
            ),
        }
    })?;

    let mut metrics = Metrics::default();
    sweep::plan(&mut metrics, planned, 1.0, max as f64);
    let answer = Answer::of(&points);
    answer.add_to(&mut metrics);
    metrics.set("io_ms", io.as_millis() as u64);
    metrics.set("requests_answered", service.answered());
    metrics.set("cores", crate::params::cores());
    metrics.set("wall_ms", started.elapsed().as_secs_f64() * 1000.0);
    points.add_to(&mut metrics, "workers");
    let mut all_notes = verdicts(&answer, mode, points.len(), planned);
    all_notes.extend(notes.into_iter().map(Text::from));
    Ok(Findings {
        ok: points.len() == planned,
        wall_ms: started.elapsed().as_secs_f64() * 1000.0,
        metrics,
        notes: all_notes,
    })
}

/// A point's figures; its speed-up is over its set's one-worker point (measured first).
fn point_figures(points: &Points, set: Set, workers: usize, m: &Measured) -> Metrics {
    let rate = m.tasks as f64 / m.secs.max(1e-9);
    let one = points
        .of_series(set.word())
        .first()
        .filter(|p| p.x == 1.0)
        .and_then(|p| p.figure(TASKS_PER_SEC))
        .unwrap_or(rate);
    let mut f = Metrics::default();
    f.set(TASKS_PER_SEC, rate);
    f.set(
        SPEEDUP_X,
        if workers == 1 {
            1.0
        } else {
            rate / one.max(1e-9)
        },
    );
    f.set(CPU_CORES_USED, m.cpu_secs / m.secs.max(1e-9));
    // Work per CPU-second: what a busy machine's other programs do not move (they take
    // CPU time from the workers, they do not make it do less).
    f.set("tasks_per_cpu_sec", m.tasks as f64 / m.cpu_secs.max(1e-9));
    f.set("tasks", m.tasks);
    f
}

/// One point in native threads: `workers` threads run `set`'s tasks for `point`, all started
/// together; a task under way at the end finishes and counts.
fn in_threads(
    probe: &Probe,
    service: &DelayedEcho,
    set: Set,
    workers: usize,
    cpu_ops: u64,
    point: Duration,
) -> Result<Measured, String> {
    let tasks = AtomicU64::new(0);
    let start = Barrier::new(workers + 1);
    let deadline = std::sync::OnceLock::<Instant>::new();
    // Connections first, so connecting is not part of the point.
    let streams = match set {
        Set::Io => (0..workers)
            .map(|_| service.connect().map(Some))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("could not connect to the service: {e}"))?,
        Set::Cpu => (0..workers).map(|_| None).collect(),
    };
    let cpu_before = probe.cpu_ms();
    let began = std::thread::scope(|s| -> Result<Instant, String> {
        for (i, stream) in streams.into_iter().enumerate() {
            let (tasks, start, deadline) = (&tasks, &start, &deadline);
            std::thread::Builder::new()
                .name(format!("{}-{i}", set.word()))
                .spawn_scoped(s, move || {
                    start.wait();
                    let Some(&until) = deadline.get() else { return };
                    let mut x = i as u64 + 1;
                    let mut stream = stream;
                    let request = (i as u64).to_le_bytes();
                    while Instant::now() < until && !probe.cancelled() {
                        let ok = match stream.as_mut() {
                            None => {
                                busy_ops(&mut x, cpu_ops);
                                true
                            }
                            Some(stream) => ask(stream, &request, probe),
                        };
                        if !ok {
                            return;
                        }
                        tasks.fetch_add(1, Relaxed);
                    }
                })
                .map_err(|e| format!("could not start worker {i}: {e}"))?;
        }
        let began = Instant::now();
        let _ = deadline.set(began + point);
        start.wait();
        Ok(began)
    })?;
    // The scope has joined every worker: the last task is done.
    Ok(Measured {
        tasks: tasks.load(Relaxed),
        secs: began.elapsed().as_secs_f64(),
        cpu_secs: (probe.cpu_ms() - cpu_before) / 1000.0,
    })
}

/// One IO-bound task: a request, and the wait for its answer (asleep in `read`). False if
/// the service is gone or the run was cancelled.
fn ask(stream: &mut std::net::TcpStream, request: &[u8; MESSAGE], probe: &Probe) -> bool {
    if stream.write_all(request).is_err() {
        return false;
    }
    let _ = stream.set_read_timeout(Some(Duration::from_millis(100)));
    let mut answer = [0u8; MESSAGE];
    let mut have = 0;
    while have < MESSAGE {
        match stream.read(&mut answer[have..]) {
            Ok(0) => return false,
            Ok(n) => have += n,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                if probe.cancelled() {
                    return false;
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return false,
        }
    }
    true
}

/// Python mode: the shipped script runs every point in CPython threads against the same
/// service, printing each as it is measured.
fn in_python(
    probe: &Probe,
    service: &DelayedEcho,
    cpu_us: u64,
    point: Duration,
    counts: &[usize],
    record: &mut dyn FnMut(Set, usize, Measured),
    notes: &mut Vec<String>,
) -> Result<(), String> {
    let counts_arg: Vec<String> = counts.iter().map(|n| n.to_string()).collect();
    let mut bad = None;
    let ended = crate::lab::python::run_lines(
        probe,
        include_str!("../../assets/python/cpu_vs_io.py"),
        &[
            service.port().to_string(),
            cpu_us.to_string(),
            point.as_millis().to_string(),
            counts_arg.join(","),
        ],
        "threads works without it",
        |line| {
            let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else {
                bad.get_or_insert_with(|| line.to_string());
                return;
            };
            if let Some(version) = v["python"].as_str() {
                notes.push(format!(
                    "CPython {version}, switch interval {} s",
                    v["switch_interval_s"]
                ));
                return;
            }
            let set = match v["set"].as_str() {
                Some(CPU) => Set::Cpu,
                Some(IO) => Set::Io,
                _ => return,
            };
            let measured = Measured {
                tasks: v["tasks"].as_u64().unwrap_or(0),
                secs: v["secs"].as_f64().unwrap_or(0.0),
                cpu_secs: v["cpu_s"].as_f64().unwrap_or(0.0),
            };
            let workers = v["workers"].as_u64().unwrap_or(0) as usize;
            record(set, workers, measured);
        },
    )?;
    if !ended.exit.success() && !probe.cancelled() {
        return Err(format!("python3 ended ({}): {}", ended.exit, ended.stderr));
    }
    if let Some(line) = bad {
        notes.push(format!(
            "python3 printed a line that is not a point: {line}"
        ));
    }
    Ok(())
}

/// The best worker count of each set, and how far each set's throughput rose.
#[derive(Debug, Default)]
struct Answer {
    /// Per set: the fewest workers within [`NEAR_BEST`] of the best, its tasks/s, and the
    /// highest speed-up.
    cpu: Option<(usize, f64, f64)>,
    io: Option<(usize, f64, f64)>,
    most_workers: usize,
    /// Cores the CPU-bound set used with one worker (about 1 on an idle machine), and at most.
    cpu_cores: Option<(f64, f64)>,
}

impl Answer {
    fn of(points: &Points) -> Answer {
        let best = |set: &str| {
            let knee = points.knee(set, TASKS_PER_SEC, NEAR_BEST)?;
            let top = points
                .of_series(set)
                .iter()
                .filter_map(|p| p.figure(SPEEDUP_X))
                .reduce(f64::max)?;
            Some((knee.x as usize, knee.figure(TASKS_PER_SEC)?, top))
        };
        let cpu = points.of_series(CPU);
        let cores = |p: &&Point| p.figure(CPU_CORES_USED);
        let one = cpu.first().filter(|p| p.x == 1.0).and_then(cores);
        let most = cpu.iter().filter_map(cores).reduce(f64::max);
        Answer {
            cpu: best(CPU),
            io: best(IO),
            most_workers: points
                .points
                .iter()
                .map(|p| p.x as usize)
                .max()
                .unwrap_or(0),
            cpu_cores: one.zip(most),
        }
    }

    fn add_to(&self, m: &mut Metrics) {
        for (set, answer) in [(CPU, self.cpu), (IO, self.io)] {
            if let Some((workers, rate, top)) = answer {
                m.set(&format!("{set}_best_workers"), workers as u64);
                m.set(&format!("{set}_best_tasks_per_sec"), rate);
                m.set(&format!("{set}_best_speedup"), top);
            }
        }
        if let Some((one, most)) = self.cpu_cores {
            m.set("cpu_one_worker_cores_used", one);
            m.set("cpu_most_cores_used", most);
        }
    }
}

/// A lone CPU-bound worker using less of a core than this was not alone on the machine.
const ALONE_CORES: f64 = 0.8;

/// What the run showed, from its figures.
fn verdicts(a: &Answer, mode: Mode, measured: usize, planned: usize) -> Vec<Text> {
    let mut notes = Vec::new();
    if measured < planned {
        notes.push(Text::new(
            format!("only {measured} of {planned} points were measured: too few to conclude from"),
            format!("只测了 {planned} 个点中的 {measured} 个，不足以下结论"),
        ));
    }
    let cores = crate::params::cores();
    if let (Some((workers, rate, top)), Some((one, most))) = (a.cpu, a.cpu_cores) {
        let (en, zh) = match mode {
            _ if one < ALONE_CORES => (
                format!(
                    "one worker got only {one:.2} of a core: the machine was busy and more workers won more of it, so this is inconclusive"
                ),
                format!(
                    "1 个线程只分到 {one:.2} 个核：机器正忙，线程越多抢到的越多，所以不足以下结论"
                ),
            ),
            Mode::Python => (
                format!(
                    "never more than {most:.1} cores: CPython's GIL lets one thread compute at a time"
                ),
                format!("从没用到超过 {most:.1} 个核：CPython 的 GIL 同一时刻只让一个线程计算"),
            ),
            Mode::Threads if workers as i64 <= cores => (
                format!("{cores} cores: more workers only take turns"),
                format!("只有 {cores} 个核：再多的线程也只能轮流"),
            ),
            Mode::Threads => (
                format!("more workers than the {cores} cores still gained: inconclusive"),
                format!("线程数超过 {cores} 个核还在变快：不足以下结论"),
            ),
        };
        notes.push(Text::new(
            format!(
                "CPU-bound: best from {workers} worker{} ({}/s), at most {top:.1}× one worker — {en}",
                if workers == 1 { "" } else { "s" },
                si(rate)
            ),
            format!(
                "计算密集型：{workers} 个线程就到了最好（每秒 {}），最多是 1 个线程的 {top:.1} 倍——{zh}",
                si(rate)
            ),
        ));
    }
    if let Some((workers, rate, top)) = a.io {
        let still = workers >= a.most_workers;
        let (en, zh) = if still {
            (
                "still rising at the most workers tried: each one waits on its own request",
                "试到最多的线程数还在上升：每个线程各自等自己的请求",
            )
        } else {
            (
                "then the service or the CPU became the limit",
                "之后服务或 CPU 成了瓶颈",
            )
        };
        notes.push(Text::new(
            format!(
                "IO-bound: best from {workers} worker{} ({}/s), {top:.1}× one worker — {en}",
                if workers == 1 { "" } else { "s" },
                si(rate)
            ),
            format!(
                "IO密集型：{workers} 个线程才到最好（每秒 {}），是 1 个线程的 {top:.1} 倍——{zh}",
                si(rate)
            ),
        ));
    }
    notes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_best_worker_count_is_the_fewest_near_the_best() {
        let mut points = Points::default();
        for (set, workers, rate) in [
            (CPU, 1, 100.0),
            (CPU, 2, 195.0),
            (CPU, 4, 200.0),
            (CPU, 8, 190.0),
            (IO, 1, 50.0),
            (IO, 2, 100.0),
            (IO, 4, 200.0),
            (IO, 8, 400.0),
        ] {
            let mut figures = Metrics::default();
            figures.set(TASKS_PER_SEC, rate);
            figures.set(SPEEDUP_X, rate / 100.0);
            points.add(Point {
                series: set.into(),
                x: workers as f64,
                figures,
            });
        }
        let a = Answer {
            cpu_cores: Some((1.0, 2.0)),
            ..Answer::of(&points)
        };
        assert_eq!(a.cpu.map(|c| c.0), Some(2));
        assert_eq!(a.io.map(|c| c.0), Some(8));
        let notes = verdicts(&a, Mode::Threads, 8, 8);
        assert!(
            notes[0].en.contains("more workers only take turns"),
            "{notes:?}"
        );
        assert!(notes[1].en.contains("still rising"), "{notes:?}");
        let busy = Answer {
            cpu_cores: Some((0.4, 1.0)),
            ..Answer::of(&points)
        };
        let notes = verdicts(&busy, Mode::Threads, 8, 8);
        assert!(notes[0].en.contains("inconclusive"), "{notes:?}");
    }
}
