//! `master-worker` — the tutorial's Master-Worker model, as processes and as threads: a master
//! hands `tasks` tasks to `workers` workers and collects their results, and the worker that
//! runs task `crash_task` crashes on purpose halfway through it: `abort()`, an invalid memory
//! access, a Rust panic, or exit with a code.
//!
//! Processes: each worker is conlab started again (`master-worker-worker`) with a control
//! channel as its stdin (`lab::control`), as pool's workers are. A crashing worker dies alone:
//! its channel closes, the master reaps it (the kernel says how it died), starts a replacement
//! and hands the lost task out again; the other workers never notice. The crash comes on the
//! task's first run only — a bad moment, not a bad task — so the second run completes.
//!
//! Threads: the workers are threads of the runner taking tasks from one queue. `abort` or
//! `segv` in one ends the whole process, master and every worker, before any report is written
//! (whoever reaped the runner reports its last live figures); `exit` ends it too, with a code.
//! A Rust panic unwinds only its own thread: `join()` returns the panic, and the task is lost.
//!
//! The trace: a `submit` span on the master for each task (again when it is handed out again),
//! a `task` span on the worker that runs it (a process, or a thread named `worker-N`), a
//! `result` span back on the master, all with the task's number as their flow; and a `crash`
//! mark with that flow on the worker, just before it crashes.

use super::{Findings, Group, Panel, Scenario, TimelineSpec};
use crate::event::Body;
use crate::exit::Exit;
use crate::i18n::Text;
use crate::lab::children::{self, Worker};
use crate::lab::control::{Control, Received};
use crate::lab::run_clock::{RunClock, mono_ns, sleep_unless};
use crate::lab::{crash, join};
use crate::params::{ParamKind, ParamSpec, choice_enum};
use crate::probe::Probe;
use crate::report::Metrics;
use crossbeam_channel::RecvTimeoutError;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use std::collections::{BTreeMap, VecDeque};
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

choice_enum! {
    /// What the workers are.
    pub(super) enum Mode {
        Processes = "processes",
        Threads = "threads",
    }
}

choice_enum! {
    /// How the worker running the crash task dies.
    pub(super) enum Crash {
        Nothing = "none",
        Abort = "abort",
        Segv = "segv",
        Panic = "panic",
        Exit = "exit",
    }
}

/// The exit code of `crash=exit`.
const EXIT_CODE: i32 = 3;

const CRASH: ParamSpec = Crash::spec(
    "crash",
    Crash::Abort,
    "how the worker running crash_task dies: none; abort (SIGABRT); segv (an invalid memory access, SIGSEGV); panic (a Rust panic); exit (exit code 3)",
);

pub static SCENARIO: Scenario = Scenario::lesson(
    "master-worker",
    Group::Models,
    "Master-Worker — processes vs threads",
    "a master hands tasks to workers and one crashes: a worker process dies alone and its task runs again; a crashing thread takes the whole process down",
    include_str!("../../assets/lessons/master-worker.en.md"),
    &[
        Mode::spec(
            "mode",
            Mode::Processes,
            "processes: each worker a process of its own; threads: each worker a thread of the master's process",
        ),
        ParamSpec {
            key: "workers",
            kind: ParamKind::Int { min: 1, max: 64 },
            default: "4",
            help: "workers taking tasks from the master",
        },
        ParamSpec {
            key: "tasks",
            kind: ParamKind::Int { min: 1, max: 1000 },
            default: "20",
            help: "tasks the master hands out; each returns a result the master checks",
        },
        ParamSpec {
            key: "task_ms",
            kind: ParamKind::Int {
                min: 0,
                max: 60_000,
            },
            default: "100",
            help: "how long each task works (it sleeps: what matters here is who dies, not the CPU)",
        },
        CRASH,
        ParamSpec {
            key: "crash_task",
            kind: ParamKind::Int { min: 0, max: 999 },
            default: "10",
            help: "the task whose worker crashes halfway through it (on its first run; run again, it completes)",
        },
    ],
    run,
)
.with_compare("mode", &["processes", "threads"])
.with_highlights(&[
    "tasks",
    "tasks_done",
    "tasks_retried",
    "tasks_lost",
    "workers_died",
    "dead_worker_pid",
    "replacement_pid",
    "task_rerun_after_ms",
    "wall_ms",
])
.with_panel(Panel::Timeline(TimelineSpec {
    lane_role: WORKER_ROLE,
    lane_thread: Some(WORKER_THREAD),
    lane: crate::i18n::Phrase::new("worker", "工作者"),
    bar: TASK,
    item: crate::i18n::Phrase::new("task", "任务"),
    waits_for: crate::i18n::Phrase::new("a free worker", "空闲的工作者"),
    lane_mark: None,
    table: None,
}))
.with_chinese(
    "Master-Worker — 多进程 vs 多线程",
    "Master 把任务分给 Worker，其中一个崩溃：Worker 进程只死它自己，任务重做；崩溃的线程带走整个进程",
    include_str!("../../assets/lessons/master-worker.zh.md"),
);

/// A worker process: takes tasks from its stdin channel until the master closes it.
pub static WORKER: Scenario = Scenario::child(
    "master-worker-worker",
    "Master-Worker worker process",
    &[CRASH],
    work,
);

/// The role worker processes announce.
pub const WORKER_ROLE: &str = "worker";
/// What worker threads are named in the trace (`worker-0`, `worker-1`, ...).
pub const WORKER_THREAD: &str = "worker-";

/// The trace's words: a task submitted (or handed out again) on the master, run on a worker,
/// its result back on the master; a worker about to crash.
pub const SUBMIT: &str = "submit";
pub const TASK: &str = "task";
pub const RESULT: &str = "result";
pub const CRASH_MARK: &str = "crash";

/// Per-worker metrics go into the report for this many workers (a report must stay readable);
/// the timeline shows every worker.
const WORKER_METRICS: usize = 16;

/// The result of task `task`, which the master checks: the work is a stand-in, the check is not.
fn result_of(task: u32) -> u64 {
    u64::from(task) * u64::from(task)
}

/// What the master tells a worker process.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
#[serde(tag = "msg", rename_all = "snake_case")]
enum Order {
    /// Run `task` for `ms`; `crash`: crash halfway through it, the way the worker was told.
    Run { task: u32, ms: u64, crash: bool },
}

/// What a worker process tells the master, with the time on CLOCK_MONOTONIC.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
#[serde(tag = "msg", rename_all = "snake_case")]
enum Answer {
    Started { task: u32, at_ns: u64 },
    Done { task: u32, at_ns: u64, result: u64 },
}

/// What the run was asked to do.
#[derive(Debug, Clone, Copy)]
struct Plan {
    workers: usize,
    tasks: u32,
    task_ms: u64,
    crash: Crash,
    crash_task: u32,
}

impl Plan {
    /// Whether this run of `task` (its `attempt`-th, from 0) crashes its worker.
    fn crashes(&self, task: u32, attempt: u32) -> bool {
        self.crash != Crash::Nothing && task == self.crash_task && attempt == 0
    }
}

/// Figures the live reporter reads while the master works: what a dead runner leaves behind.
#[derive(Default)]
struct Progress {
    started: AtomicU64,
    done: AtomicU64,
    retried: AtomicU64,
    died: AtomicU64,
    alive: AtomicU64,
}

/// Crashes the calling worker the way `crash` says: the mark first, so the trace knows which
/// task it was on when it died.
fn crash_now(probe: &Probe, crash: Crash, task: u32) {
    probe.mark(
        CRASH_MARK,
        format!("{} on task {task}", crash.word()),
        Some(u64::from(task)),
    );
    match crash {
        Crash::Nothing => {}
        Crash::Abort => crash::abort(),
        Crash::Segv => crash::segfault(),
        Crash::Panic => panic!("task {task} panics on purpose"),
        Crash::Exit => std::process::exit(EXIT_CODE),
    }
}

/// One task's work on a worker, traced; false if the run was cancelled meanwhile. With a
/// `crash`, the worker crashes that way halfway through.
fn do_task(probe: &Probe, task: u32, ms: u64, crash: Option<Crash>) -> bool {
    let _span = probe.span_in(TASK, format!("task {task}"), Some(u64::from(task)));
    let half = ms / 2;
    if !sleep_unless(half, || probe.cancelled()) {
        return false;
    }
    if let Some(crash) = crash {
        crash_now(probe, crash, task);
    }
    sleep_unless(ms - half, || probe.cancelled())
}

fn run(probe: &Probe) -> Result<Findings, String> {
    let p = probe.params();
    let mode = p.choice::<Mode>("mode")?;
    let plan = Plan {
        workers: p.int("workers") as usize,
        tasks: p.int("tasks") as u32,
        task_ms: p.int("task_ms") as u64,
        crash: p.choice::<Crash>("crash")?,
        crash_task: p.int("crash_task") as u32,
    };
    if plan.crash != Crash::Nothing && plan.crash_task >= plan.tasks {
        return Err(format!(
            "crash_task={} is no task of this run: tasks are 0..{}; set crash_task below tasks, or crash=none",
            plan.crash_task,
            plan.tasks - 1
        ));
    }
    let started = Instant::now();
    let progress = Progress::default();
    let snapshot = |m: &mut Metrics| {
        let done = progress.done.load(Relaxed);
        m.set("progress_pct", done as f64 * 100.0 / f64::from(plan.tasks));
        m.set("tasks", u64::from(plan.tasks));
        m.set("tasks_started", progress.started.load(Relaxed));
        m.set("tasks_done", done);
        m.set("tasks_retried", progress.retried.load(Relaxed));
        m.set("workers_alive", progress.alive.load(Relaxed));
        m.set("workers_died", progress.died.load(Relaxed));
    };
    let mut findings = probe.with_live(snapshot, || match mode {
        Mode::Processes => with_processes(probe, &plan, &progress),
        Mode::Threads => with_threads(probe, &plan, &progress),
    })?;
    findings.wall_ms = started.elapsed().as_secs_f64() * 1000.0;
    findings.metrics.set("wall_ms", findings.wall_ms);
    Ok(findings)
}

// ---------------------------------------------------------------------------------------
// Processes

/// One worker process and the master's end of its channel (`None` once it is closed).
struct Slot {
    pid: u32,
    worker: Option<Worker>,
    channel: Option<Control>,
    busy: Option<u32>,
    done: u64,
    exit: Option<Exit>,
}

/// A worker process that died while the run went on.
struct Death {
    pid: u32,
    exit: Exit,
    task: Option<u32>,
    /// When it said it would crash, and when the master saw its channel close (run's clock).
    crash_ms: Option<f64>,
    noticed_ms: f64,
    replacement: Option<u32>,
}

/// What became of one task.
#[derive(Debug, Clone, Default)]
struct TaskRecord {
    /// Times it was handed to a worker.
    attempts: u32,
    /// When its latest run started.
    start_ms: Option<f64>,
    done: bool,
    wrong_result: bool,
}

struct Master<'a> {
    probe: &'a Probe,
    plan: &'a Plan,
    progress: &'a Progress,
    clock: RunClock,
    slots: Vec<Slot>,
    queue: VecDeque<u32>,
    records: Vec<TaskRecord>,
    deaths: Vec<Death>,
    /// When each worker process said it would crash (its `crash` mark), by PID.
    crash_marks: Arc<Mutex<BTreeMap<u32, f64>>>,
    problems: Vec<String>,
}

impl<'a> Master<'a> {
    /// Starts one more worker process, with a channel of its own as its stdin.
    fn start_worker(&mut self) -> Result<usize, String> {
        let i = self.slots.len();
        let (channel, theirs) =
            Control::pair().map_err(|e| format!("could not make a channel for worker {i}: {e}"))?;
        let marks = self.crash_marks.clone();
        let worker = children::spawn_with(
            self.probe,
            WORKER.id,
            WORKER_ROLE,
            &[format!("crash={}", self.plan.crash.word())],
            Stdio::from(theirs),
            move |event| {
                if let Body::Mark { cat, .. } = &event.body
                    && cat == CRASH_MARK
                {
                    let mut marks = marks.lock().unwrap_or_else(|p| p.into_inner());
                    marks.insert(event.pid, event.t_ms);
                }
            },
        )
        .map_err(|e| format!("could not start worker process {i}: {e}"))?;
        self.slots.push(Slot {
            pid: worker.pid,
            worker: Some(worker),
            channel: Some(channel),
            busy: None,
            done: 0,
            exit: None,
        });
        self.progress.alive.fetch_add(1, Relaxed);
        Ok(i)
    }

    /// Hands queued tasks to free workers, oldest first (a task handed out again goes first).
    fn dispatch(&mut self) {
        while let Some(&task) = self.queue.front() {
            let Some(slot) = self
                .slots
                .iter_mut()
                .find(|s| s.busy.is_none() && s.channel.is_some())
            else {
                return;
            };
            let record = &mut self.records[task as usize];
            let order = Order::Run {
                task,
                ms: self.plan.task_ms,
                crash: self.plan.crashes(task, record.attempts),
            };
            match slot.channel.as_ref().expect("checked").send(&order) {
                Ok(()) => {
                    record.attempts += 1;
                    slot.busy = Some(task);
                    self.queue.pop_front();
                }
                // Gone already: `listen` hears its channel close and buries it; the task waits.
                Err(_) => return,
            }
        }
    }

    fn unfinished(&self) -> bool {
        self.records.iter().any(|r| !r.done)
    }

    /// Waits for answers and deaths until every task is done (or the run is cancelled).
    fn listen(&mut self) {
        while self.unfinished() && !self.probe.cancelled() {
            self.dispatch();
            let live: Vec<usize> = (0..self.slots.len())
                .filter(|i| self.slots[*i].channel.is_some())
                .collect();
            if live.is_empty() {
                self.problems
                    .push("every worker is gone; tasks were left undone".to_string());
                return;
            }
            let ready: Vec<usize> = {
                let mut fds: Vec<PollFd> = live
                    .iter()
                    .map(|i| {
                        let channel = self.slots[*i].channel.as_ref().expect("live");
                        PollFd::new(channel.as_fd(), PollFlags::POLLIN)
                    })
                    .collect();
                if poll(&mut fds, PollTimeout::from(100u16)).unwrap_or(0) <= 0 {
                    continue;
                }
                live.iter()
                    .zip(&fds)
                    .filter(|(_, p)| p.any().unwrap_or(false))
                    .map(|(i, _)| *i)
                    .collect()
            };
            for i in ready {
                self.hear_from(i);
            }
        }
    }

    /// Takes one message from worker `i`, or buries it if its channel closed.
    fn hear_from(&mut self, i: usize) {
        let Some(channel) = self.slots[i].channel.as_ref() else {
            return;
        };
        let answer = match channel.recv::<Answer>(Duration::ZERO) {
            Ok(Received::Message(answer)) => answer,
            Ok(Received::Nothing) => return,
            Ok(Received::Closed) => return self.bury(i),
            Err(e) => {
                self.problems
                    .push(format!("worker {}: {e}", self.slots[i].pid));
                return self.bury(i);
            }
        };
        match answer {
            Answer::Started { task, at_ns } => {
                if let Some(r) = self.records.get_mut(task as usize) {
                    r.start_ms = Some(self.clock.ms(at_ns));
                }
                self.progress.started.fetch_add(1, Relaxed);
            }
            Answer::Done { task, result, .. } => {
                let slot = &mut self.slots[i];
                slot.busy = None;
                slot.done += 1;
                let Some(record) = self.records.get_mut(task as usize) else {
                    return;
                };
                record.done = true;
                record.wrong_result = result != result_of(task);
                self.progress.done.fetch_add(1, Relaxed);
                // The last step of the task's trip: its result is back with the master.
                let _result = self.probe.span_in(
                    RESULT,
                    format!("result of task {task}"),
                    Some(u64::from(task)),
                );
            }
        }
    }

    /// Worker `i` is gone: reap it (how it died is the kernel's answer), hand its task out
    /// again, and start a replacement while there is work left.
    fn bury(&mut self, i: usize) {
        let noticed_ms = self.clock.now_ms();
        let slot = &mut self.slots[i];
        slot.channel = None;
        let task = slot.busy.take();
        let Some(worker) = slot.worker.take() else {
            return;
        };
        let end = join::join(worker, self.probe);
        slot.exit = Some(end.exit);
        self.progress.alive.fetch_sub(1, Relaxed);
        if self.probe.cancelled() {
            return;
        }
        self.progress.died.fetch_add(1, Relaxed);
        let pid = end.pid;
        let during = task
            .map(|t| format!(" during task {t}"))
            .unwrap_or_default();
        self.probe.log(format!(
            "master: worker {pid} died ({}){during}; the others go on",
            end.exit
        ));
        if let Some(task) = task {
            self.queue.push_front(task);
            self.progress.retried.fetch_add(1, Relaxed);
            // The task's trip goes on from the master: handed out again.
            let _again = self.probe.span_in(
                SUBMIT,
                format!("hand task {task} out again"),
                Some(u64::from(task)),
            );
        }
        let replacement = if self.queue.is_empty() {
            None
        } else {
            match self.start_worker() {
                Ok(new) => {
                    let new_pid = self.slots[new].pid;
                    self.probe.log(format!(
                        "master: started worker {new_pid} in place of {pid}"
                    ));
                    Some(new_pid)
                }
                Err(e) => {
                    self.problems.push(e);
                    None
                }
            }
        };
        let crash_ms = {
            let marks = self.crash_marks.lock().unwrap_or_else(|p| p.into_inner());
            marks.get(&pid).copied()
        };
        self.deaths.push(Death {
            pid,
            exit: end.exit,
            task,
            crash_ms,
            noticed_ms,
            replacement,
        });
    }

    /// Closes every channel (a worker sees it closed and exits) and reaps every worker.
    fn shut_down(&mut self) {
        let cancelled = self.probe.cancelled();
        for slot in &mut self.slots {
            if let (true, Some(worker)) = (cancelled, &slot.worker) {
                worker.terminate();
            }
            slot.channel = None;
        }
        for slot in &mut self.slots {
            let Some(worker) = slot.worker.take() else {
                continue;
            };
            let end = join::join(worker, self.probe);
            slot.exit = Some(end.exit);
            self.progress.alive.fetch_sub(1, Relaxed);
            if !end.exit.success() && !cancelled {
                self.problems
                    .push(format!("worker {} ended with {}", end.pid, end.exit));
            }
        }
    }
}

fn with_processes(probe: &Probe, plan: &Plan, progress: &Progress) -> Result<Findings, String> {
    let mut master = Master {
        probe,
        plan,
        progress,
        clock: RunClock::of(probe),
        slots: Vec::new(),
        queue: VecDeque::new(),
        records: vec![TaskRecord::default(); plan.tasks as usize],
        deaths: Vec::new(),
        crash_marks: Arc::default(),
        problems: Vec::new(),
    };
    probe.log(format!(
        "master {} starts {} worker processes",
        std::process::id(),
        plan.workers
    ));
    for _ in 0..plan.workers {
        if probe.cancelled() {
            break;
        }
        master.start_worker()?;
    }
    for task in 0..plan.tasks {
        let _submit = probe.span_in(SUBMIT, format!("submit task {task}"), Some(u64::from(task)));
        master.queue.push_back(task);
    }
    master.listen();
    master.shut_down();
    Ok(processes_findings(&master))
}

fn processes_findings(master: &Master) -> Findings {
    let plan = master.plan;
    let records = &master.records;
    let done = records.iter().filter(|r| r.done).count() as u64;
    let wrong = records.iter().filter(|r| r.wrong_result).count() as u64;
    let retried = records.iter().filter(|r| r.attempts > 1).count() as u64;
    let mut m = Metrics::default();
    m.set("workers", plan.workers as u64);
    m.set("tasks", u64::from(plan.tasks));
    m.set("tasks_done", done);
    m.set("tasks_retried", retried);
    m.set("tasks_lost", u64::from(plan.tasks) - done);
    m.set("results_wrong", wrong);
    m.set("workers_started", master.slots.len() as u64);
    m.set("workers_died", master.deaths.len() as u64);
    if let Some(d) = master.deaths.first() {
        m.set("dead_worker_pid", u64::from(d.pid));
        if let Some(signal) = d.exit.signal() {
            m.set("dead_worker_signal", i64::from(signal));
        }
        if let Some(code) = d.exit.code() {
            m.set("dead_worker_exit_code", i64::from(code));
        }
        if let Some(task) = d.task {
            m.set("dead_worker_task", u64::from(task));
        }
        if let Some(pid) = d.replacement {
            m.set("replacement_pid", u64::from(pid));
        }
        if let Some(crash) = d.crash_ms {
            m.set("death_noticed_after_ms", round(d.noticed_ms - crash));
            let rerun = d.task.and_then(|t| records[t as usize].start_ms);
            if let Some(rerun) = rerun {
                m.set("task_rerun_after_ms", round(rerun - crash));
            }
        }
    }
    for (i, slot) in master.slots.iter().enumerate().take(WORKER_METRICS) {
        m.set(&format!("worker_{i}_pid"), u64::from(slot.pid));
        m.set(&format!("worker_{i}_tasks"), slot.done);
    }

    let mut notes = vec![processes_verdict(master, done)];
    if master.slots.len() > WORKER_METRICS {
        notes.push(Text::new(
            format!(
                "per-worker metrics cover workers 0–{}; the timeline shows all {}",
                WORKER_METRICS - 1,
                master.slots.len()
            ),
            format!(
                "每个 Worker 的指标只列出 0–{} 号；时间线上有全部 {} 个",
                WORKER_METRICS - 1,
                master.slots.len()
            ),
        ));
    }
    if wrong > 0 {
        notes.push(Text::new(
            format!("{wrong} results were not what the task computes"),
            format!("有 {wrong} 个结果与任务应算出的不符"),
        ));
    }
    notes.extend(
        master
            .problems
            .iter()
            .map(|p| Text::new(p.clone(), p.clone())),
    );
    Findings {
        ok: master.problems.is_empty() && wrong == 0 && done == u64::from(plan.tasks),
        wall_ms: 0.0,
        metrics: m,
        notes,
    }
}

/// Who died, how, what the master did about it, and whether the others noticed — as the
/// figures say, not as the lesson hopes.
fn processes_verdict(master: &Master, done: u64) -> Text {
    let plan = master.plan;
    let tasks = u64::from(plan.tasks);
    let Some(death) = master.deaths.first() else {
        return match plan.crash {
            Crash::Nothing => Text::new(
                format!(
                    "no worker crashed: {} worker processes did {done} of {tasks} tasks",
                    plan.workers
                ),
                format!(
                    "没有 Worker 崩溃：{} 个 Worker 进程完成了 {tasks} 个任务中的 {done} 个",
                    plan.workers
                ),
            ),
            _ => Text::new(
                format!(
                    "no worker died: the run ended before task {} crashed one ({done} of {tasks} tasks done)",
                    plan.crash_task
                ),
                format!(
                    "没有 Worker 死掉：任务 {} 让 Worker 崩溃之前运行就结束了（完成 {done}/{tasks}）",
                    plan.crash_task
                ),
            ),
        };
    };
    let (pid, exit) = (death.pid, death.exit);
    let task = death
        .task
        .map_or(String::new(), |t| format!(" during task {t}"));
    let task_zh = death
        .task
        .map_or(String::new(), |t| format!("在执行任务 {t} 时"));
    let noticed = death
        .crash_ms
        .map(|c| format!(" {:.1} ms after the crash", death.noticed_ms - c))
        .unwrap_or_default();
    let noticed_zh = death
        .crash_ms
        .map(|c| format!("崩溃后 {:.1} ms ", death.noticed_ms - c))
        .unwrap_or_default();
    let (again, again_zh) = match (death.replacement, death.task) {
        (Some(new), Some(t)) => (
            format!(", started worker {new} in its place and handed task {t} out again"),
            format!("，启动了 Worker {new} 接替它，并把任务 {t} 重新分了出去"),
        ),
        (Some(new), None) => (
            format!(" and started worker {new} in its place"),
            format!("，并启动了 Worker {new} 接替它"),
        ),
        (None, _) => (String::new(), String::new()),
    };
    let (outcome, outcome_zh) = if done == tasks {
        (
            format!("all {tasks} tasks done, none lost"),
            format!("全部 {tasks} 个任务完成，一个也没丢"),
        )
    } else {
        (
            format!("{done} of {tasks} tasks done"),
            format!("完成了 {tasks} 个任务中的 {done} 个"),
        )
    };
    // The workers that were there all along, neither dead nor a replacement.
    let others: Vec<&Slot> = master
        .slots
        .iter()
        .filter(|s| {
            !master
                .deaths
                .iter()
                .any(|d| d.pid == s.pid || d.replacement == Some(s.pid))
        })
        .collect();
    let untouched = others
        .iter()
        .all(|s| s.exit.is_some_and(Exit::success) && s.done > 0);
    let (rest, rest_zh) = match (master.deaths.len(), untouched) {
        (1, true) => (
            format!(
                "; the other {} workers never noticed: each went on taking tasks and ended with code 0",
                others.len()
            ),
            format!(
                "；其他 {} 个 Worker 毫无察觉：照常领任务，最后都以退出码 0 结束",
                others.len()
            ),
        ),
        (1, false) => (
            "; not every other worker went on untouched (see the processes)".to_string(),
            "；并非其他每个 Worker 都安然无恙（见进程列表）".to_string(),
        ),
        (n, _) => (
            format!("; {n} workers died in all"),
            format!("；一共死了 {n} 个 Worker"),
        ),
    };
    Text::new(
        format!(
            "worker {pid} died ({exit}){task}; the master saw its channel close{noticed}, reaped it{again}: {outcome}{rest}"
        ),
        format!(
            "Worker {pid} {task_zh}死了（{exit}）；Master {noticed_zh}看到它的通道关闭，回收了它{again_zh}：{outcome_zh}{rest_zh}"
        ),
    )
}

/// The worker process's side: `Run` in, `Started` and `Done` out, until the master closes the
/// channel. A `Run` that says so crashes it, the way its `crash` parameter says.
fn work(probe: &Probe) -> Result<Findings, String> {
    let channel = Control::of_stdin().map_err(|e| format!("no control channel: {e}"))?;
    let crash = probe.params().choice::<Crash>("crash")?;
    let started = Instant::now();
    let mut done = 0u64;
    while let Received::Message(Order::Run {
        task,
        ms,
        crash: crashes,
    }) = channel.recv_unless::<Order>(|| probe.cancelled())?
    {
        channel.send(&Answer::Started {
            task,
            at_ns: mono_ns(),
        })?;
        if !do_task(probe, task, ms, crashes.then_some(crash)) {
            break;
        }
        channel.send(&Answer::Done {
            task,
            at_ns: mono_ns(),
            result: result_of(task),
        })?;
        done += 1;
    }
    let mut metrics = Metrics::default();
    metrics.set("tasks_done", done);
    Ok(Findings {
        ok: true,
        wall_ms: started.elapsed().as_secs_f64() * 1000.0,
        metrics,
        notes: vec![],
    })
}

// ---------------------------------------------------------------------------------------
// Threads

/// A task on the threads' queue.
#[derive(Debug, Clone, Copy)]
struct Job {
    task: u32,
    crash: bool,
}

/// A task's result, from the worker thread that ran it.
struct Done {
    task: u32,
    worker: usize,
    result: u64,
}

/// `workers` threads of this process take tasks from one queue until it is empty. A crash
/// that ends the process ends this function too, and the runner with it.
fn with_threads(probe: &Probe, plan: &Plan, progress: &Progress) -> Result<Findings, String> {
    let (jobs_tx, jobs) = crossbeam_channel::unbounded::<Job>();
    let (results, results_rx) = crossbeam_channel::unbounded::<Done>();
    let mut per_worker = vec![0u64; plan.workers];
    let mut records = vec![TaskRecord::default(); plan.tasks as usize];
    let panics = std::thread::scope(|scope| -> Result<Vec<(usize, String)>, String> {
        let mut threads = Vec::with_capacity(plan.workers);
        for i in 0..plan.workers {
            let (jobs, results) = (jobs.clone(), results.clone());
            let thread = std::thread::Builder::new()
                .name(format!("{WORKER_THREAD}{i}"))
                .spawn_scoped(scope, move || {
                    thread_worker(i, probe, plan, progress, &jobs, &results)
                })
                .map_err(|e| format!("could not start worker thread {i}: {e}"))?;
            progress.alive.fetch_add(1, Relaxed);
            threads.push(thread);
        }
        // Only the workers hold the results' senders: when the last one ends, the master knows.
        drop(results);
        for task in 0..plan.tasks {
            let _submit =
                probe.span_in(SUBMIT, format!("submit task {task}"), Some(u64::from(task)));
            let job = Job {
                task,
                crash: plan.crashes(task, 0),
            };
            records[task as usize].attempts = 1;
            if jobs_tx.send(job).is_err() {
                break;
            }
        }
        // No more tasks: each worker ends when it finds the queue empty.
        drop(jobs_tx);
        loop {
            match results_rx.recv_timeout(Duration::from_millis(100)) {
                Ok(Done {
                    task,
                    worker,
                    result,
                }) => {
                    let record = &mut records[task as usize];
                    record.done = true;
                    record.wrong_result = result != result_of(task);
                    per_worker[worker] += 1;
                    progress.done.fetch_add(1, Relaxed);
                    let _result = probe.span_in(
                        RESULT,
                        format!("result of task {task}"),
                        Some(u64::from(task)),
                    );
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => break,
            }
        }
        // join(): a thread that panicked hands its panic back here; the others return.
        let mut panics = Vec::new();
        for (i, thread) in threads.into_iter().enumerate() {
            if let Err(panic) = thread.join() {
                panics.push((i, crash::panic_message(&*panic)));
            }
        }
        Ok(panics)
    })?;
    Ok(threads_findings(
        probe,
        plan,
        &records,
        &per_worker,
        &panics,
    ))
}

/// One worker thread: named in the trace, takes tasks until the queue is empty (or the run is
/// cancelled). A panic here unwinds this thread only; everything else ends the process.
fn thread_worker(
    i: usize,
    probe: &Probe,
    plan: &Plan,
    progress: &Progress,
    jobs: &crossbeam_channel::Receiver<Job>,
    results: &crossbeam_channel::Sender<Done>,
) {
    probe.thread_named(format!("{WORKER_THREAD}{i}"));
    // Counted out however the thread ends, a panic included.
    struct Alive<'a>(&'a Progress);
    impl Drop for Alive<'_> {
        fn drop(&mut self) {
            self.0.alive.fetch_sub(1, Relaxed);
            if std::thread::panicking() {
                self.0.died.fetch_add(1, Relaxed);
            }
        }
    }
    let _alive = Alive(progress);
    while !probe.cancelled() {
        let job = match jobs.recv_timeout(Duration::from_millis(50)) {
            Ok(job) => job,
            Err(RecvTimeoutError::Timeout) => continue,
            Err(RecvTimeoutError::Disconnected) => return,
        };
        progress.started.fetch_add(1, Relaxed);
        let crash = job.crash.then_some(plan.crash);
        if !do_task(probe, job.task, plan.task_ms, crash) {
            return;
        }
        let done = Done {
            task: job.task,
            worker: i,
            result: result_of(job.task),
        };
        if results.send(done).is_err() {
            return;
        }
    }
}

fn threads_findings(
    probe: &Probe,
    plan: &Plan,
    records: &[TaskRecord],
    per_worker: &[u64],
    panics: &[(usize, String)],
) -> Findings {
    let tasks = u64::from(plan.tasks);
    let done = records.iter().filter(|r| r.done).count() as u64;
    let wrong = records.iter().filter(|r| r.wrong_result).count() as u64;
    let lost: Vec<u32> = (0..plan.tasks)
        .filter(|t| !records[*t as usize].done)
        .collect();
    let mut m = Metrics::default();
    m.set("workers", plan.workers as u64);
    m.set("tasks", tasks);
    m.set("tasks_done", done);
    m.set("tasks_retried", 0u64);
    m.set("tasks_lost", lost.len() as u64);
    m.set("results_wrong", wrong);
    m.set("workers_died", panics.len() as u64);
    for (i, n) in per_worker.iter().enumerate().take(WORKER_METRICS) {
        m.set(&format!("worker_{i}_tasks"), *n);
    }
    let cancelled = probe.cancelled();
    let mut notes = vec![threads_verdict(
        plan, done, per_worker, &lost, panics, cancelled,
    )];
    if wrong > 0 {
        notes.push(Text::new(
            format!("{wrong} results were not what the task computes"),
            format!("有 {wrong} 个结果与任务应算出的不符"),
        ));
    }
    Findings {
        // Losing the panicked thread's task is what the run shows, not a failure of it.
        ok: wrong == 0 && (cancelled || done + lost.len() as u64 == tasks),
        wall_ms: 0.0,
        metrics: m,
        notes,
    }
}

fn threads_verdict(
    plan: &Plan,
    done: u64,
    per_worker: &[u64],
    lost: &[u32],
    panics: &[(usize, String)],
    cancelled: bool,
) -> Text {
    let tasks = u64::from(plan.tasks);
    let Some((worker, message)) = panics.first() else {
        return match (plan.crash, cancelled) {
            (Crash::Nothing, _) | (_, true) => Text::new(
                format!(
                    "no worker crashed: {} threads did {done} of {tasks} tasks",
                    plan.workers
                ),
                format!(
                    "没有 Worker 崩溃：{} 个线程完成了 {tasks} 个任务中的 {done} 个",
                    plan.workers
                ),
            ),
            // abort, segv and exit end the process: a report that exists saw none of them.
            (crash, false) => Text::new(
                format!(
                    "task {} did not crash its thread ({}): {done} of {tasks} tasks done",
                    plan.crash_task,
                    crash.word()
                ),
                format!(
                    "任务 {} 没有让线程崩溃（{}）：完成了 {tasks} 个任务中的 {done} 个",
                    plan.crash_task,
                    crash.word()
                ),
            ),
        };
    };
    let others = plan.workers - panics.len();
    let by_others: u64 = per_worker
        .iter()
        .enumerate()
        .filter(|(i, _)| !panics.iter().any(|(p, _)| p == i))
        .map(|(_, n)| n)
        .sum();
    let lost_list = lost
        .iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    let (what, what_zh) = match lost {
        [t] => (
            format!("task {t} was lost with it"),
            format!("任务 {t} 随它一起丢了"),
        ),
        [] => ("no task was lost".to_string(), "没有丢任务".to_string()),
        many => (
            format!("{} tasks were lost ({lost_list})", many.len()),
            format!("丢了 {} 个任务（{lost_list}）", many.len()),
        ),
    };
    Text::new(
        format!(
            "thread {WORKER_THREAD}{worker} panicked on task {}: the panic unwound that thread only, and join() returned it (\"{message}\"); {what}, and nothing handed it out again; the other {others} threads went on and did {by_others} tasks ({done} of {tasks} done in all). A panic is Rust's own: abort, an invalid memory access or exit in any thread ends the whole process",
            plan.crash_task
        ),
        format!(
            "线程 {WORKER_THREAD}{worker} 在任务 {} 上 panic：panic 只展开了这一个线程，join() 把它交了回来（\"{message}\"）；{what_zh}，也没有谁再把它分出去；其他 {others} 个线程照常干活，完成了 {by_others} 个任务（总共完成 {done}/{tasks}）。panic 是 Rust 自己的机制：任何一个线程里 abort、非法访问内存或 exit，整个进程都会结束",
            plan.crash_task
        ),
    )
}

fn round(ms: f64) -> f64 {
    (ms * 1000.0).round() / 1000.0
}
