//! `switching` — the tutorial's homework (线程切换): a fixed amount of CPU work split across K
//! tasks that take turns on the CPU. Each works a quantum, then hands a token to the next round
//! a ring (a futex: the kernel puts the giver to sleep and wakes the taker — a real switch), so
//! the smaller the quantum and the more tasks, the more of the time goes to switching. Beside
//! them, the plain case: K busy tasks and no hand-off, where the kernel's time slices decide.
//! K runs 1, 2, 4 … `max_tasks`, as threads or as processes (see [`crate::lab::turns`]); each
//! point is traced as it is measured, and the Sweep panel draws it.

use super::{Figure, Findings, Group, Panel, Plot, Scenario, SweepSpec};
use crate::i18n::{Phrase, Text};
use crate::lab::busy::ops_per_us;
use crate::lab::children;
use crate::lab::join;
use crate::lab::sweep::{self, Point, Points};
use crate::lab::turns::{self, CHECK_US, Measured, Spent, Turns, Work, clock_read_ns};
use crate::params::{ParamKind, ParamSpec, choice_enum};
use crate::probe::Probe;
use crate::report::Metrics;
use crate::style::si;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::time::Instant;

const MODE: ParamSpec = Mode::spec(
    "mode",
    Mode::Threads,
    "threads: the tasks are threads of the runner; processes: each task is a process of its own",
);

pub static SCENARIO: Scenario = Scenario::lesson(
    "switching",
    Group::Models,
    "Switching — too many tasks",
    "one job split across 1 … 1024 tasks that hand the CPU round a ring: the smaller the quantum and the more tasks, the more time goes to switching",
    include_str!("../../assets/lessons/switching.en.md"),
    &[
        MODE,
        ParamSpec {
            key: "quantum_us",
            kind: ParamKind::Int {
                min: 1,
                max: 1_000_000,
            },
            default: "10",
            help: "how long a task works before it hands over (the finest series)",
        },
        ParamSpec {
            key: "quanta",
            kind: ParamKind::Int { min: 1, max: 4 },
            default: "3",
            help: "series of hand-offs: quantum_us, then ten times as long each (10 µs, 100 µs, 1 ms)",
        },
        ParamSpec {
            key: "max_tasks",
            kind: ParamKind::Int { min: 1, max: 1024 },
            default: "1024",
            help: "K runs 1, 2, 4 … up to this",
        },
        ParamSpec {
            key: "work_ms",
            kind: ParamKind::Int {
                min: 1,
                max: 10_000,
            },
            default: "40",
            help: "CPU work per point, split evenly across its K tasks",
        },
        ParamSpec {
            key: "cpus",
            kind: ParamKind::IntOrCores { min: 1, max: 256 },
            default: "1",
            help: "CPUs the tasks may run on (1: they take turns on one, as one person does all the homework)",
        },
    ],
    run,
)
.with_compare("mode", &["threads", "processes"])
.with_highlights(&[
    TWO_TASKS_HANDOFF_US,
    MOST_TASKS_HANDOFF_US,
    MOST_TASKS_USEFUL_PCT,
    MOST_TASKS_PLAIN_USEFUL_PCT,
    MOST_TASKS_SWITCHES_PER_SEC,
    "wall_ms",
])
.with_panel(Panel::Sweep(SWEEP))
.with_chinese(
    "线程切换 — 任务太多",
    "同一份计算分给 1 … 1024 个任务，轮流交出 CPU：时间片越短、任务越多，花在切换上的时间就越多",
    include_str!("../../assets/lessons/switching.zh.md"),
);

/// One point's tasks as processes: a conlab with one thread forks them, so each is a full copy
/// and no lock of another thread is left held in it.
pub static TASKS: Scenario = Scenario::child(
    "switching-tasks",
    "Switching tasks as processes",
    &[
        ParamSpec {
            key: "tasks",
            kind: ParamKind::Int { min: 1, max: 1024 },
            default: "1",
            help: "processes to fork",
        },
        ParamSpec {
            key: "ops_per_go",
            kind: ParamKind::Int {
                min: 1,
                max: i64::MAX,
            },
            default: "1000",
            help: "operations a task does each time it has the token",
        },
        ParamSpec {
            key: "rounds",
            kind: ParamKind::Int {
                min: 0,
                max: i64::MAX,
            },
            default: "1",
            help: "times the token goes round the ring (0: no ring, all start at once)",
        },
        ParamSpec {
            key: "cpus",
            kind: ParamKind::Int { min: 1, max: 256 },
            default: "1",
            help: "CPUs the tasks may run on",
        },
        ParamSpec {
            key: "check_ops",
            kind: ParamKind::Int {
                min: 1,
                max: i64::MAX,
            },
            default: "100000",
            help: "operations between looks at the stop flag",
        },
    ],
    tasks_as_processes,
);

const SWEEP: SweepSpec = SweepSpec {
    x: Phrase::new("tasks", "任务数"),
    plots: &[
        Plot {
            figure: USEFUL,
            log: false,
        },
        Plot {
            figure: SWITCHES,
            log: true,
        },
    ],
    series: &[(PLAIN, Phrase::new("no hand-off", "不交接"))],
    latest: &[USEFUL, SWITCHES, HANDOFF],
};

const USEFUL: Figure = Figure {
    name: USEFUL_PCT,
    label: Phrase::new("useful work", "有效计算"),
};
const SWITCHES: Figure = Figure {
    name: SWITCHES_PER_SEC,
    label: Phrase::new("switches", "切换"),
};
const HANDOFF: Figure = Figure {
    name: HANDOFF_US,
    label: Phrase::new("per hand-off", "每次交接"),
};

/// A point's figures.
const USEFUL_PCT: &str = "useful_pct";
const SWITCHES_PER_SEC: &str = "switches_per_sec";
const HANDOFF_US: &str = "handoff_us";
const THROUGHPUT_PCT: &str = "throughput_pct";
const USEFUL_OPS_PER_SEC: &str = "useful_ops_per_sec";
const QUANTUM_US: &str = "quantum_us";
/// The run's headline figures.
const TWO_TASKS_HANDOFF_US: &str = "two_tasks_handoff_us";
const MOST_TASKS_HANDOFF_US: &str = "most_tasks_handoff_us";
const MOST_TASKS_USEFUL_PCT: &str = "most_tasks_useful_pct";
const MOST_TASKS_THROUGHPUT_PCT: &str = "most_tasks_throughput_pct";
const MOST_TASKS_PLAIN_USEFUL_PCT: &str = "most_tasks_plain_useful_pct";
const MOST_TASKS_SWITCHES_PER_SEC: &str = "most_tasks_switches_per_sec";
const ONE_TASK_SWITCHES_PER_SEC: &str = "one_task_switches_per_sec";

/// The series word of the tasks that never hand over.
const PLAIN: &str = "plain";

choice_enum! {
    /// What a task is.
    pub(super) enum Mode {
        Threads = "threads",
        Processes = "processes",
    }
}

/// What series a run sweeps: the quanta, finest first, then the plain case.
fn series(quantum_us: u64, quanta: u32) -> Vec<Option<u64>> {
    let mut all: Vec<Option<u64>> = (0..quanta)
        .map(|i| Some(quantum_us * 10u64.pow(i)))
        .collect();
    all.push(None);
    all
}

/// A series' word: `10 µs`, `1 ms`, or [`PLAIN`].
fn series_word(quantum_us: Option<u64>) -> String {
    match quantum_us {
        Some(us) if us >= 1000 && us % 1000 == 0 => format!("{} ms", us / 1000),
        Some(us) => format!("{us} µs"),
        None => PLAIN.to_string(),
    }
}

fn run(probe: &Probe) -> Result<Findings, String> {
    let p = probe.params();
    let mode = p.choice::<Mode>("mode")?;
    let quantum_us = p.int("quantum_us") as u64;
    let quanta = p.int("quanta") as u32;
    let max_tasks = p.int("max_tasks") as usize;
    let work_ms = p.int("work_ms") as f64;
    let cpus = (p.int("cpus") as usize).min(crate::params::cores() as usize);
    let started = Instant::now();

    let rate = ops_per_us();
    let clock_ns = clock_read_ns();
    let total_ops = (work_ms * 1000.0 * rate) as u64;
    let counts = sweep::doubling(max_tasks);
    let all_series = series(quantum_us, quanta);
    let planned = counts.len() * all_series.len();
    probe.log(format!(
        "this CPU does {rate:.0} operations a microsecond; each point shares {work_ms:.0} ms of them among its tasks, which run as {} on {cpus} CPU{}",
        mode.word(),
        if cpus == 1 { "" } else { "s" }
    ));

    let mut points = Points::default();
    let done = AtomicUsize::new(0);
    let snapshot = |m: &mut Metrics| {
        sweep::plan(m, planned, 1.0, max_tasks as f64);
        let n = done.load(Relaxed);
        m.set(sweep::DONE, n as u64);
        m.set("progress_pct", n as f64 * 100.0 / planned as f64);
    };
    probe.with_live(snapshot, || -> Result<(), String> {
        for &tasks in &counts {
            for quantum in &all_series {
                if probe.cancelled() {
                    return Ok(());
                }
                let work = plan_point(tasks, total_ops, *quantum, rate, cpus);
                let measured = match mode {
                    Mode::Threads => turns::in_threads(&work, &|| probe.cancelled())?,
                    Mode::Processes => in_processes(probe, &work)?,
                };
                let Some(measured) = measured else {
                    return Ok(()); // Stopped part-way: not a point.
                };
                let figures = point_figures(&work, &measured, rate, clock_ns);
                points.record(
                    probe,
                    Point {
                        series: series_word(*quantum),
                        x: tasks as f64,
                        figures,
                    },
                );
                done.fetch_add(1, Relaxed);
            }
        }
        Ok(())
    })?;

    add_throughput(&mut points);
    let mut metrics = Metrics::default();
    sweep::plan(&mut metrics, planned, 1.0, max_tasks as f64);
    let headline = Headline::of(&points, &all_series, max_tasks, work_ms);
    headline.add_to(&mut metrics);
    metrics.set("ops_per_us", rate);
    metrics.set("cpus", cpus as u64);
    metrics.set("wall_ms", started.elapsed().as_secs_f64() * 1000.0);
    points.add_to(&mut metrics, "tasks");
    let notes = verdicts(&headline, points.len(), planned, cpus);
    Ok(Findings {
        ok: points.len() == planned,
        wall_ms: started.elapsed().as_secs_f64() * 1000.0,
        metrics,
        notes,
    })
}

/// `tasks` tasks sharing `total_ops`: in a ring, each hands over after about `quantum_us` of
/// work (all goes the same length, so the work stays the same however it divides); or plain.
fn plan_point(
    tasks: usize,
    total_ops: u64,
    quantum_us: Option<u64>,
    rate: f64,
    cpus: usize,
) -> Work {
    let per_task = (total_ops / tasks as u64).max(1);
    let check_ops = ((CHECK_US * rate) as u64).max(1);
    match quantum_us {
        Some(us) => {
            let quantum_ops = (us as f64 * rate).max(1.0);
            let rounds = ((per_task as f64 / quantum_ops).round() as u64).max(1);
            Work {
                tasks,
                ops_per_go: (per_task / rounds).max(1),
                turns: Turns::Ring { rounds },
                cpus,
                check_ops,
            }
        }
        None => Work {
            tasks,
            ops_per_go: per_task,
            turns: Turns::Plain,
            cpus,
            check_ops,
        },
    }
}

/// A point's figures from what it measured; throughput against the best comes at the end.
fn point_figures(work: &Work, m: &Measured, rate: f64, clock_ns: f64) -> Metrics {
    let wall_s = m.wall_ns as f64 / 1e9;
    let cpu_us = m.spent.cpu_ns as f64 / 1e3;
    let work_us = m.spent.work_ns as f64 / 1e3;
    let switches = m.spent.voluntary + m.spent.involuntary;
    let mut f = Metrics::default();
    f.set("wall_ms", m.wall_ns as f64 / 1e6);
    f.set("cpu_ms", cpu_us / 1e3);
    // Of the CPU time the tasks used, the share inside the work; the rest went to taking
    // turns. Both are CPU time, so neither another program's load (it adds wall time) nor a
    // slower CPU (it slows both) moves it much. Timing a go costs about one clock read
    // outside it, which is not the hand-off's: it is taken off.
    let outside_us = (cpu_us - work_us - m.goes as f64 * clock_ns / 1e3).max(0.0);
    f.set(
        USEFUL_PCT,
        work_us / (work_us + outside_us).max(1e-9) * 100.0,
    );
    f.set(
        USEFUL_OPS_PER_SEC,
        (m.goes * work.ops_per_go) as f64 / wall_s.max(1e-9),
    );
    f.set(SWITCHES_PER_SEC, switches as f64 / wall_s.max(1e-9));
    f.set(
        "voluntary_per_sec",
        m.spent.voluntary as f64 / wall_s.max(1e-9),
    );
    f.set(
        "involuntary_per_sec",
        m.spent.involuntary as f64 / wall_s.max(1e-9),
    );
    if let Turns::Ring { .. } = work.turns {
        f.set(QUANTUM_US, work.ops_per_go as f64 / rate);
        f.set("handoffs", m.goes);
        // Outside the work, a ring's task only hands over (and waits, asleep, using none).
        f.set(HANDOFF_US, outside_us / (m.goes.max(1)) as f64);
    }
    f.set("memory_kib", m.memory_kib);
    f
}

/// Each point's useful-work throughput as a share of the best point's.
fn add_throughput(points: &mut Points) {
    let best = points.best(USEFUL_OPS_PER_SEC).unwrap_or(0.0);
    for p in &mut points.points {
        let rate = p.figure(USEFUL_OPS_PER_SEC).unwrap_or(0.0);
        p.figures.set(THROUGHPUT_PCT, rate * 100.0 / best.max(1e-9));
    }
}

/// The figures that tell the story: the finest quantum at 2 tasks and at the most, the plain
/// case at the most, one task for contrast, and the coarsest quantum at the most tasks that
/// still each work a whole quantum.
#[derive(Debug, Default)]
struct Headline {
    finest: String,
    most_tasks: usize,
    two_tasks_handoff_us: Option<f64>,
    most_tasks_handoff_us: Option<f64>,
    most_tasks_useful_pct: Option<f64>,
    most_tasks_throughput_pct: Option<f64>,
    most_tasks_switches_per_sec: Option<f64>,
    one_task_switches_per_sec: Option<f64>,
    most_tasks_plain_useful_pct: Option<f64>,
    /// The work each task of the most had to do, in µs.
    share_us: f64,
    /// When there are several quanta: the coarsest, the most tasks at which each still worked
    /// a whole one (with more, each task's share is shorter than the quantum), and the useful
    /// share there.
    coarsest: Option<(String, usize, f64)>,
}

impl Headline {
    fn of(points: &Points, series: &[Option<u64>], max_tasks: usize, work_ms: f64) -> Headline {
        let at = |word: &str, tasks: usize, figure: &str| {
            points
                .of_series(word)
                .into_iter()
                .find(|p| p.x == tasks as f64)
                .and_then(|p| p.figure(figure))
        };
        let finest = series_word(series[0]);
        let coarsest = series
            .iter()
            .rev()
            .flatten()
            .next()
            .filter(|_| series.len() > 2)
            .copied();
        // The most tasks at which the coarsest quantum's goes were (nearly) whole quanta.
        let whole = |us: u64| {
            let word = series_word(Some(us));
            let point = points
                .of_series(&word)
                .into_iter()
                .rev()
                .find(|p| p.figure(QUANTUM_US).is_some_and(|q| q >= 0.9 * us as f64))?;
            Some((word, point.x as usize, point.figure(USEFUL_PCT)?))
        };
        Headline {
            two_tasks_handoff_us: at(&finest, 2, HANDOFF_US),
            most_tasks_handoff_us: at(&finest, max_tasks, HANDOFF_US),
            most_tasks_useful_pct: at(&finest, max_tasks, USEFUL_PCT),
            most_tasks_throughput_pct: at(&finest, max_tasks, THROUGHPUT_PCT),
            most_tasks_switches_per_sec: at(&finest, max_tasks, SWITCHES_PER_SEC),
            one_task_switches_per_sec: at(&finest, 1, SWITCHES_PER_SEC),
            most_tasks_plain_useful_pct: at(PLAIN, max_tasks, USEFUL_PCT),
            coarsest: coarsest.and_then(whole),
            share_us: work_ms * 1000.0 / max_tasks as f64,
            finest,
            most_tasks: max_tasks,
        }
    }

    fn add_to(&self, m: &mut Metrics) {
        for (name, value) in [
            (TWO_TASKS_HANDOFF_US, self.two_tasks_handoff_us),
            (MOST_TASKS_HANDOFF_US, self.most_tasks_handoff_us),
            (MOST_TASKS_USEFUL_PCT, self.most_tasks_useful_pct),
            (MOST_TASKS_THROUGHPUT_PCT, self.most_tasks_throughput_pct),
            (
                MOST_TASKS_PLAIN_USEFUL_PCT,
                self.most_tasks_plain_useful_pct,
            ),
            (
                MOST_TASKS_SWITCHES_PER_SEC,
                self.most_tasks_switches_per_sec,
            ),
            (ONE_TASK_SWITCHES_PER_SEC, self.one_task_switches_per_sec),
        ] {
            if let Some(v) = value {
                m.set(name, v);
            }
        }
    }
}

/// Below this share of their CPU time in the work, the tasks lost a lot to switching.
const MOSTLY_WORK_PCT: f64 = 90.0;

/// What the run showed, from its figures.
fn verdicts(h: &Headline, measured: usize, planned: usize, cpus: usize) -> Vec<Text> {
    let mut notes = Vec::new();
    if measured < planned {
        notes.push(Text::new(
            format!("only {measured} of {planned} points were measured: too few to conclude from"),
            format!("只测了 {planned} 个点中的 {measured} 个，不足以下结论"),
        ));
    }
    let (finest, k) = (&h.finest, h.most_tasks);
    if let (Some(useful), Some(per), Some(sw), Some(sw1)) = (
        h.most_tasks_useful_pct,
        h.most_tasks_handoff_us,
        h.most_tasks_switches_per_sec,
        h.one_task_switches_per_sec,
    ) {
        let (en, zh) = if useful < MOSTLY_WORK_PCT {
            ("switching ate the rest", "其余都被切换吃掉了")
        } else {
            ("switching cost little", "切换的代价不大")
        };
        notes.push(Text::new(
            format!(
                "{k} tasks handing over every {finest}: {useful:.0}% of their CPU time was work, {per:.1} µs per hand-off, {}/s switches (1 task: {}/s) — {en}",
                si(sw),
                si(sw1)
            ),
            format!(
                "{k} 个任务每 {finest} 交接一次：CPU 时间的 {useful:.0}% 在计算，每次交接 {per:.1} µs，每秒切换 {} 次（1 个任务时 {} 次）——{zh}",
                si(sw),
                si(sw1)
            ),
        ));
    }
    if let Some(plain) = h.most_tasks_plain_useful_pct {
        let share = crate::style::duration_ns(h.share_us * 1000.0);
        let (en, zh) = if plain >= MOSTLY_WORK_PCT {
            (
                "the kernel's time slices are milliseconds long".to_string(),
                "内核的时间片有几毫秒长".to_string(),
            )
        } else {
            (
                format!(
                    "each had only {share} of work, not much more than getting it running costs"
                ),
                format!("每个任务只有 {share} 的计算，比让它跑起来的开销多不了多少"),
            )
        };
        notes.push(Text::new(
            format!("{k} busy tasks, no hand-off: {plain:.0}% work — {en}"),
            format!("{k} 个不交接的计算任务：{plain:.0}% 在计算——{zh}"),
        ));
    }
    if let Some((word, tasks, useful)) = &h.coarsest {
        notes.push(Text::new(
            format!("{word} quanta, {tasks} tasks: {useful:.0}% work — the longer between switches, the less they cost"),
            format!("时间片 {word}、{tasks} 个任务：{useful:.0}% 在计算——两次切换隔得越久，切换的代价越小"),
        ));
    }
    if cpus > 1 {
        notes.push(Text::new(
            format!("on {cpus} CPUs a ring still runs one task at a time: the others wait idle"),
            format!("在 {cpus} 个 CPU 上，环里同一时刻仍只有一个任务在算，其余的 CPU 空等"),
        ));
    }
    notes
}

/// A point's tasks as processes: a child conlab forks them; None if it was stopped.
fn in_processes(probe: &Probe, work: &Work) -> Result<Option<Measured>, String> {
    let rounds = match work.turns {
        Turns::Ring { rounds } => rounds,
        Turns::Plain => 0,
    };
    let assignments = [
        format!("tasks={}", work.tasks),
        format!("ops_per_go={}", work.ops_per_go),
        format!("rounds={rounds}"),
        format!("cpus={}", work.cpus),
        format!("check_ops={}", work.check_ops),
    ];
    let child = children::spawn(probe, TASKS.id, "tasks", &assignments)
        .map_err(|e| format!("could not start the tasks' parent process: {e}"))?;
    let end = join::join(child, probe);
    let Some(report) = end.report else {
        if probe.cancelled() {
            return Ok(None);
        }
        return Err(format!(
            "the tasks' parent process ended ({}) without a report",
            end.exit
        ));
    };
    if let Some(e) = report.error {
        return Err(e);
    }
    let get = |name: &str| report.metrics.get(name).map(|n| n.as_f64() as u64);
    match (report.ok, get("wall_ns")) {
        (true, Some(wall_ns)) => Ok(Some(Measured {
            wall_ns,
            goes: get("goes").unwrap_or(0),
            spent: Spent {
                voluntary: get("voluntary").unwrap_or(0),
                involuntary: get("involuntary").unwrap_or(0),
                cpu_ns: get("cpu_ns").unwrap_or(0),
                work_ns: get("work_ns").unwrap_or(0),
            },
            memory_kib: get("memory_kib").unwrap_or(0),
        })),
        _ => Ok(None),
    }
}

/// The child of `mode=processes`: forks the point's tasks, runs them, reaps them, and reports
/// what they measured.
fn tasks_as_processes(probe: &Probe) -> Result<Findings, String> {
    let p = probe.params();
    let rounds = p.int("rounds") as u64;
    let work = Work {
        tasks: p.int("tasks") as usize,
        ops_per_go: p.int("ops_per_go") as u64,
        turns: if rounds == 0 {
            Turns::Plain
        } else {
            Turns::Ring { rounds }
        },
        cpus: p.int("cpus") as usize,
        check_ops: p.int("check_ops") as u64,
    };
    // No thread of ours may be left half-way through something in the forked copies.
    probe.stop_watching_parent();
    let measured = turns::in_forked_processes(&work, &|| probe.cancelled())?;
    let mut metrics = Metrics::default();
    if let Some(m) = measured {
        metrics.set("wall_ns", m.wall_ns);
        metrics.set("goes", m.goes);
        metrics.set("voluntary", m.spent.voluntary);
        metrics.set("involuntary", m.spent.involuntary);
        metrics.set("cpu_ns", m.spent.cpu_ns);
        metrics.set("work_ns", m.spent.work_ns);
        metrics.set("memory_kib", m.memory_kib);
    }
    Ok(Findings {
        ok: measured.is_some(),
        wall_ms: probe.elapsed_ms(),
        metrics,
        notes: vec![],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn series_are_the_quanta_finest_first_then_the_plain_case() {
        let words: Vec<String> = series(10, 3).into_iter().map(series_word).collect();
        assert_eq!(words, ["10 µs", "100 µs", "1 ms", "plain"]);
    }

    #[test]
    fn a_point_keeps_the_work_whatever_the_quantum() {
        let rate = 100.0; // operations a microsecond
        let total = 40_000 * 100; // 40 ms
        for tasks in [1, 2, 64, 1024] {
            for quantum in [Some(10), Some(1000), None] {
                let w = plan_point(tasks, total, quantum, rate, 1);
                let ops = w.goes() * w.ops_per_go;
                let lost = total as f64 - ops as f64;
                // Rounding to whole goes loses at most one go per task.
                assert!(
                    lost >= 0.0 && lost <= (tasks as u64 * w.ops_per_go) as f64 + tasks as f64,
                    "{tasks} tasks, {quantum:?}: {ops} of {total}"
                );
            }
        }
        let w = plan_point(4, total, Some(10), rate, 1);
        assert_eq!(w.turns, Turns::Ring { rounds: 1000 });
        assert_eq!(w.ops_per_go, 1000);
    }
}
