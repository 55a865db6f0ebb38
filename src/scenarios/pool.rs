//! `pool` — a pool of worker processes runs more tasks than it has workers: Pool(4) with five
//! tasks that sleep a random while; four start at once, the fifth waits in the pool's queue
//! until a worker is free. Then close() (no task may be added after it) and join().
//!
//! Workers are conlab re-executed (`pool-worker`), each talking to the runner over a typed
//! control channel (`lab::control`, its stdin): the runner says `Run { task, ms }`, the worker
//! answers `Started` and `Done` with their times (CLOCK_MONOTONIC). The runner polls every
//! worker's channel and hands the next queued task to whichever worker is done first.
//!
//! The trace: each task's trip is a flow — a `submit` span on the runner, a `task` span on the
//! worker that ran it, a `result` span back on the runner — so a timeline shows the task
//! waiting between its submit and its start.

use super::{Findings, Group, Panel, Scenario, TimelineSpec};
use crate::i18n::Text;
use crate::lab::children::{self, Worker};
use crate::lab::control::{Control, Received};
use crate::lab::join;
use crate::lab::run_clock::{RunClock, SplitMix64, mono_ns, sleep_unless};
use crate::params::{ParamKind, ParamSpec};
use crate::probe::Probe;
use crate::report::Metrics;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use std::collections::VecDeque;
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

pub static SCENARIO: Scenario = Scenario::lesson(
    "pool",
    Group::Processes,
    "Pool — more tasks than workers",
    "a pool of worker processes runs more tasks than it has workers: the extra task waits for a free worker",
    include_str!("../../assets/lessons/pool.en.md"),
    &[
        ParamSpec {
            key: "size",
            kind: ParamKind::IntOrCores { min: 1, max: 64 },
            default: "4",
            help: "worker processes in the pool (Python's Pool() defaults to the core count)",
        },
        ParamSpec {
            key: "tasks",
            kind: ParamKind::Int { min: 1, max: 1000 },
            default: "5",
            help: "tasks submitted with apply_async before close() and join()",
        },
        ParamSpec {
            key: "max_sleep_ms",
            kind: ParamKind::Int {
                min: 0,
                max: 60_000,
            },
            default: "3000",
            help: "each task sleeps a random 0..this many milliseconds",
        },
        ParamSpec {
            key: "seed",
            kind: ParamKind::Int {
                min: 0,
                max: 1_000_000_000,
            },
            default: "1",
            help: "seed of the random sleeps (the same seed, the same sleeps)",
        },
    ],
    run,
)
.with_chinese(
    "进程池 Pool — 任务比工作进程多",
    "进程池里的工作进程要执行比自己更多的任务：多出来的任务要等一个空闲的工作进程",
    include_str!("../../assets/lessons/pool.zh.md"),
)
.with_compare("size", &["1", "2", "4"])
.with_highlights(&[
    "tasks",
    "workers",
    "tasks_waited",
    "wait_ms_max",
    "max_concurrent",
    "busy_pct",
    "wall_ms",
])
.with_panel(Panel::Timeline(TimelineSpec {
    lane_role: WORKER_ROLE,
    lane_thread: None,
    lane: crate::i18n::Phrase::new("worker", "工作进程"),
    bar: TASK,
    item: crate::i18n::Phrase::new("task", "任务"),
    waits_for: crate::i18n::Phrase::new("a free worker", "空闲的工作进程"),
    lane_mark: None,
    table: None,
}));

/// The role the pool's worker processes announce.
pub const WORKER_ROLE: &str = "worker";

/// A process of the pool: takes tasks from its stdin socket until the pool closes it.
pub static WORKER: Scenario = Scenario::child("pool-worker", "Pool worker", &[], work);

/// Per-task metrics go into the report for this many tasks: a report is one event line of at
/// most 4096 bytes. The dashboard's timeline is built from events and shows every task.
pub const TASK_METRICS: usize = 16;

/// The trace's words for a task's trip (panels select spans by them): submitted on the
/// runner, run on a worker, its result back on the runner.
pub const SUBMIT: &str = "submit";
pub const TASK: &str = "task";
pub const RESULT: &str = "result";

/// What the runner tells a worker.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
#[serde(tag = "msg", rename_all = "snake_case")]
enum Order {
    Run { task: u32, ms: u64 },
}

/// What a worker tells the runner, with the time on CLOCK_MONOTONIC.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
#[serde(tag = "msg", rename_all = "snake_case")]
enum Answer {
    Started { task: u32, at_ns: u64 },
    Done { task: u32, at_ns: u64 },
}

#[derive(Debug, Clone, Copy)]
struct Task {
    id: u32,
    sleep_ms: u64,
}

/// What happened to one task, on the run's clock.
#[derive(Debug, Clone, Default)]
struct Record {
    queued_ms: f64,
    start_ms: Option<f64>,
    end_ms: Option<f64>,
    worker: Option<u32>,
    /// No worker was free when it was submitted.
    waited: bool,
}

/// Figures the live reporter reads while the pool works.
#[derive(Default)]
struct Progress {
    started: AtomicU64,
    done: AtomicU64,
    waiting: AtomicU64,
}

/// One worker process and the runner's end of its channel (`None` once it is closed).
struct Slot {
    worker: Worker,
    channel: Option<Control>,
    busy: Option<u32>,
}

struct Pool<'a> {
    probe: &'a Probe,
    clock: RunClock,
    slots: Vec<Slot>,
    queue: VecDeque<Task>,
    records: Vec<Record>,
    closed: bool,
    progress: &'a Progress,
    /// What went wrong, said in both languages as it happened.
    problems: Vec<Text>,
}

impl<'a> Pool<'a> {
    /// Starts `size` worker processes, each with a control channel of its own as stdin.
    fn start(
        probe: &'a Probe,
        size: usize,
        clock: RunClock,
        progress: &'a Progress,
    ) -> Result<Pool<'a>, String> {
        let mut slots = Vec::with_capacity(size);
        for i in 0..size {
            let (channel, theirs) = Control::pair()
                .map_err(|e| format!("could not make a channel for worker {i}: {e}"))?;
            let worker = children::spawn_with(
                probe,
                WORKER.id,
                WORKER_ROLE,
                &[],
                Stdio::from(theirs),
                |_| {},
            )
            .map_err(|e| format!("could not start worker process {i}: {e}"))?;
            slots.push(Slot {
                worker,
                channel: Some(channel),
                busy: None,
            });
        }
        Ok(Pool {
            probe,
            clock,
            slots,
            queue: VecDeque::new(),
            records: Vec::new(),
            closed: false,
            progress,
            problems: Vec::new(),
        })
    }

    /// apply_async: queue the task, and start it at once if a worker is free.
    fn submit(&mut self, task: Task) -> Result<(), String> {
        if self.closed {
            return Err(
                "the pool is closed: after close() no task can be added (Python raises ValueError: Pool not running)"
                    .to_string(),
            );
        }
        let queued_ms = self.clock.now_ms();
        self.records.push(Record {
            queued_ms,
            ..Record::default()
        });
        // The first step of the task's trip: from here it waits until a worker starts it.
        let _submit = self.probe.span_in(
            SUBMIT,
            format!("submit task {}", task.id),
            Some(u64::from(task.id)),
        );
        self.queue.push_back(task);
        self.dispatch();
        if self.queue.iter().any(|t| t.id == task.id) {
            self.records[task.id as usize].waited = true;
            self.probe.log(format!(
                "task {} waits: all {} workers are busy",
                task.id,
                self.slots.len()
            ));
        }
        Ok(())
    }

    fn close(&mut self) {
        self.closed = true;
    }

    /// Hands queued tasks to free workers, oldest task first.
    fn dispatch(&mut self) {
        while !self.queue.is_empty() {
            let Some(slot) = self
                .slots
                .iter_mut()
                .find(|s| s.busy.is_none() && s.channel.is_some())
            else {
                break;
            };
            let task = self.queue.pop_front().expect("not empty");
            let order = Order::Run {
                task: task.id,
                ms: task.sleep_ms,
            };
            match slot.channel.as_ref().expect("checked").send(&order) {
                Ok(()) => slot.busy = Some(task.id),
                Err(e) => {
                    let (pid, id) = (slot.worker.pid, task.id);
                    self.problems.push(Text::new(
                        format!("worker {pid} could not be given task {id}: {e}"),
                        format!("无法把任务 {id} 交给工作进程 {pid}：{e}"),
                    ));
                    slot.channel = None;
                    self.queue.push_front(task);
                }
            }
        }
        self.progress
            .waiting
            .store(self.queue.len() as u64, Relaxed);
    }

    fn unfinished(&self) -> bool {
        !self.queue.is_empty() || self.slots.iter().any(|s| s.busy.is_some())
    }

    /// join: wait for every task's `Done`, giving each free worker the next queued task.
    fn join(&mut self) {
        while self.unfinished() && !self.probe.cancelled() {
            if self.slots.iter().all(|s| s.channel.is_none()) {
                self.problems.push(Text::new(
                    "every worker is gone; tasks were left undone",
                    "工作进程全都不在了，还有任务没做完",
                ));
                return;
            }
            let ready: Vec<usize> = {
                let live: Vec<(usize, &Control)> = self
                    .slots
                    .iter()
                    .enumerate()
                    .filter_map(|(i, s)| s.channel.as_ref().map(|c| (i, c)))
                    .collect();
                let mut fds: Vec<PollFd> = live
                    .iter()
                    .map(|(_, c)| PollFd::new(c.as_fd(), PollFlags::POLLIN))
                    .collect();
                if poll(&mut fds, PollTimeout::from(100u16)).unwrap_or(0) <= 0 {
                    continue;
                }
                live.iter()
                    .zip(&fds)
                    .filter(|(_, p)| p.any().unwrap_or(false))
                    .map(|((i, _), _)| *i)
                    .collect()
            };
            for i in ready {
                self.hear_from(i);
            }
            self.dispatch();
        }
    }

    /// Takes one message from worker `i`: `Started`, `Done`, or the end of its channel.
    fn hear_from(&mut self, i: usize) {
        let slot = &mut self.slots[i];
        let Some(channel) = slot.channel.as_ref() else {
            return;
        };
        let answer = match channel.recv::<Answer>(Duration::ZERO) {
            Ok(Received::Message(answer)) => answer,
            Ok(Received::Nothing) => return,
            Ok(Received::Closed) => {
                if let Some(task) = slot.busy.take() {
                    let pid = slot.worker.pid;
                    self.problems.push(Text::new(
                        format!("worker {pid} ended during task {task}"),
                        format!("工作进程 {pid} 在执行任务 {task} 时结束了"),
                    ));
                }
                slot.channel = None;
                return;
            }
            Err(e) => {
                let pid = slot.worker.pid;
                self.problems.push(Text::new(
                    format!("worker {pid}: {e}"),
                    format!("工作进程 {pid}：{e}"),
                ));
                return;
            }
        };
        let (task, at_ns) = match answer {
            Answer::Started { task, at_ns } | Answer::Done { task, at_ns } => (task, at_ns),
        };
        let at_ms = self.clock.ms(at_ns);
        let Some(record) = self.records.get_mut(task as usize) else {
            return;
        };
        match answer {
            Answer::Started { .. } => {
                record.start_ms = Some(at_ms);
                record.worker = Some(slot.worker.pid);
                self.progress.started.fetch_add(1, Relaxed);
            }
            Answer::Done { .. } => {
                record.end_ms = Some(at_ms);
                slot.busy = None;
                self.progress.done.fetch_add(1, Relaxed);
                // The last step of the task's trip: its result is back.
                let _result = self.probe.span_in(
                    RESULT,
                    format!("result of task {task}"),
                    Some(u64::from(task)),
                );
            }
        }
    }

    /// Closes every channel (a worker sees it closed and exits) and reaps every worker.
    fn shut_down(&mut self) {
        let cancelled = self.probe.cancelled();
        for slot in &mut self.slots {
            if cancelled {
                slot.worker.terminate();
            }
            slot.channel = None;
        }
        for slot in self.slots.drain(..) {
            let end = join::join(slot.worker, self.probe);
            if !end.exit.success() && !cancelled {
                let (pid, exit) = (end.pid, end.exit);
                self.problems.push(Text::new(
                    format!("worker {pid} ended with {exit}"),
                    format!("工作进程 {pid} 以 {exit} 结束"),
                ));
            }
        }
    }
}

/// How many tasks ran at the same time at most, from their start and end times.
fn max_concurrent(records: &[Record]) -> u64 {
    let mut edges: Vec<(f64, i64)> = Vec::new();
    for r in records {
        if let (Some(s), Some(e)) = (r.start_ms, r.end_ms) {
            edges.push((s, 1));
            edges.push((e, -1));
        }
    }
    // At equal times an end comes first: a task that starts as another ends does not overlap it.
    edges.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    let (mut now, mut most) = (0i64, 0i64);
    for (_, d) in edges {
        now += d;
        most = most.max(now);
    }
    most as u64
}

fn run(probe: &Probe) -> Result<Findings, String> {
    let p = probe.params();
    let size = p.int("size") as usize;
    let tasks = p.int("tasks") as u32;
    let max_sleep = p.int("max_sleep_ms") as u64;
    let mut rng = SplitMix64::new(p.int("seed") as u64);
    let plan: Vec<Task> = (0..tasks)
        .map(|id| Task {
            id,
            sleep_ms: rng.up_to(max_sleep),
        })
        .collect();
    let clock = RunClock::of(probe);
    let started = Instant::now();
    let progress = Progress::default();

    probe.log(format!(
        "parent process {} starts a pool of {size} worker processes",
        std::process::id()
    ));
    let mut pool = Pool::start(probe, size, clock, &progress)?;
    let snapshot = |m: &mut Metrics| {
        let done = progress.done.load(Relaxed);
        m.set("progress_pct", done as f64 * 100.0 / f64::from(tasks));
        m.set("tasks_started", progress.started.load(Relaxed));
        m.set("tasks_done", done);
        m.set("tasks_waiting", progress.waiting.load(Relaxed));
    };
    let refusal = probe.with_live(snapshot, || {
        for task in &plan {
            pool.submit(*task).expect("the pool is open");
        }
        probe.log("waiting for all tasks: close(), then join()");
        pool.close();
        let refusal = pool
            .submit(Task {
                id: tasks,
                sleep_ms: 0,
            })
            .err();
        if let Some(e) = &refusal {
            probe.log(format!("apply_async after close() refused: {e}"));
        }
        pool.join();
        refusal
    });
    pool.shut_down();
    let wall_ms = started.elapsed().as_secs_f64() * 1000.0;
    let records = std::mem::take(&mut pool.records);
    let done = records.iter().filter(|r| r.end_ms.is_some()).count();
    if done == records.len() && !probe.cancelled() {
        probe.log("all tasks done");
    }

    let mut m = Metrics::default();
    m.set("workers", size as u64);
    m.set("tasks", u64::from(tasks));
    m.set("tasks_done", done as u64);
    let waits: Vec<f64> = records
        .iter()
        .filter_map(|r| r.start_ms.map(|s| s - r.queued_ms))
        .collect();
    m.set(
        "tasks_waited",
        records.iter().filter(|r| r.waited).count() as u64,
    );
    m.set(
        "wait_ms_max",
        round(waits.iter().copied().fold(0.0, f64::max)),
    );
    m.set("wait_ms_total", round(waits.iter().sum()));
    m.set("max_concurrent", max_concurrent(&records));
    let busy: f64 = records
        .iter()
        .filter_map(|r| Some(r.end_ms? - r.start_ms?))
        .sum();
    m.set("busy_pct", round(busy * 100.0 / (wall_ms * size as f64)));
    m.set("submit_after_close_refused", u64::from(refusal.is_some()));
    for (i, r) in records.iter().enumerate().take(TASK_METRICS) {
        if let Some(pid) = r.worker {
            m.set(&format!("task_{i}_worker_pid"), u64::from(pid));
        }
        m.set(&format!("task_{i}_queued_ms"), r.queued_ms);
        if let Some(s) = r.start_ms {
            m.set(&format!("task_{i}_start_ms"), s);
            m.set(&format!("task_{i}_wait_ms"), round(s - r.queued_ms));
        }
        if let Some(e) = r.end_ms {
            m.set(&format!("task_{i}_end_ms"), e);
        }
    }
    m.set("wall_ms", wall_ms);

    let mut notes = vec![verdict(&records, size)];
    match &refusal {
        Some(e) => notes.push(Text::new(
            format!("after close(), adding a task failed as it should: {e}"),
            "close() 之后再添加任务失败了，本该如此：进程池已关闭（Python 会抛出 ValueError: Pool not running）",
        )),
        None => notes.push(Text::new(
            "after close(), adding a task was NOT refused",
            "close() 之后添加任务竟然没有被拒绝",
        )),
    }
    if records.len() > TASK_METRICS {
        let (last, all) = (TASK_METRICS - 1, records.len());
        notes.push(Text::new(
            format!("per-task metrics cover tasks 0–{last} (a report is one event line under 4096 bytes); the timeline shows all {all}"),
            format!("报告里只有任务 0–{last} 的逐项数据（一份报告是一行不超过 4096 字节的事件）；时间线上显示全部 {all} 个"),
        ));
    }
    notes.extend(pool.problems.iter().cloned());
    Ok(Findings {
        ok: done == records.len() && pool.problems.is_empty() && refusal.is_some(),
        wall_ms,
        metrics: m,
        notes,
    })
}

fn round(ms: f64) -> f64 {
    (ms * 1000.0).round() / 1000.0
}

/// Which task waited longest, for how long, and whose end freed its worker — or that no task
/// waited, or that one was still waiting when the run ended.
fn verdict(records: &[Record], size: usize) -> Text {
    let tasks = records.len();
    let ran = records.iter().filter(|r| r.start_ms.is_some()).count();
    if ran == 0 {
        return Text::new(
            format!(
                "no task ran: {tasks} submitted to {size} workers, and the run ended before any began"
            ),
            format!("没有任务运行：{tasks} 个任务提交给 {size} 个工作进程，运行结束前一个也没开始"),
        );
    }
    if let Some((id, _)) = records
        .iter()
        .enumerate()
        .find(|(_, r)| r.waited && r.start_ms.is_none())
    {
        return Text::new(
            format!(
                "task {id} was still waiting for a free worker when the run ended: {ran} of {tasks} tasks had started on {size} workers"
            ),
            format!(
                "运行结束时任务 {id} 仍在等待空闲的工作进程：{tasks} 个任务中只有 {ran} 个在 {size} 个工作进程上开始了"
            ),
        );
    }
    let wait = |r: &Record| r.start_ms.unwrap_or(0.0) - r.queued_ms;
    let waited: Vec<(usize, &Record)> = records
        .iter()
        .enumerate()
        .filter(|(_, r)| r.waited)
        .collect();
    let Some(&(id, r)) = waited.iter().max_by(|a, b| wait(a.1).total_cmp(&wait(b.1))) else {
        return Text::new(
            format!(
                "no task had to wait: {ran} tasks, {size} workers, each task began as it was submitted"
            ),
            format!("没有任务等待：{ran} 个任务、{size} 个工作进程，每个任务一提交就开始运行"),
        );
    };
    let start = r.start_ms.unwrap_or(0.0);
    // The task that ran on the same worker just before: its end freed the worker.
    let freed_by = records
        .iter()
        .enumerate()
        .filter(|(_, o)| o.worker == r.worker && o.end_ms.is_some_and(|e| e <= start))
        .max_by(|a, b| {
            a.1.end_ms
                .unwrap_or(0.0)
                .total_cmp(&b.1.end_ms.unwrap_or(0.0))
        });
    let worker = r.worker.unwrap_or(0);
    let how = match freed_by {
        Some((prev, o)) => {
            let end = o.end_ms.unwrap_or(0.0);
            Text::new(
                format!("; it started when task {prev} ended on worker {worker} ({end:.0} ms)"),
                format!("；任务 {prev} 在工作进程 {worker} 上结束时（{end:.0} ms），它才开始"),
            )
        }
        None => Text::default(),
    };
    let others = match waited.len() {
        1 => Text::default(),
        n => Text::new(
            format!(" ({n} tasks waited in all)"),
            format!("（共有 {n} 个任务等待过）"),
        ),
    };
    let ms = wait(r);
    Text::new(
        format!(
            "task {id} waited {ms:.0} ms for a free worker: all {size} were busy{}{}",
            how.en, others.en
        ),
        format!(
            "任务 {id} 等了 {ms:.0} ms 才有空闲的工作进程：{size} 个都在忙{}{}",
            how.zh, others.zh
        ),
    )
}

/// The worker's side: `Run` in, `Started` and `Done` out, until the pool closes the channel.
fn work(probe: &Probe) -> Result<Findings, String> {
    let channel = Control::of_stdin().map_err(|e| format!("no control channel: {e}"))?;
    let started = Instant::now();
    let mut done = 0u64;
    // Until the pool closes its end (no more tasks), or the run is cancelled.
    while let Received::Message(Order::Run { task, ms }) =
        channel.recv_unless::<Order>(|| probe.cancelled())?
    {
        let span = probe.span_in(TASK, format!("task {task}"), Some(u64::from(task)));
        channel.send(&Answer::Started {
            task,
            at_ns: mono_ns(),
        })?;
        // As the tutorial's task prints it.
        probe.log(format!("run task {task} {}", std::process::id()));
        if !sleep_unless(ms, || probe.cancelled()) {
            break;
        }
        probe.log(format!(
            "finish task {task} use {:.2} seconds",
            ms as f64 / 1000.0
        ));
        drop(span);
        channel.send(&Answer::Done {
            task,
            at_ns: mono_ns(),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(start: f64, end: f64) -> Record {
        Record {
            start_ms: Some(start),
            end_ms: Some(end),
            ..Record::default()
        }
    }

    fn waited(queued: f64, start: Option<f64>, end: Option<f64>, worker: u32) -> Record {
        Record {
            queued_ms: queued,
            start_ms: start,
            end_ms: end,
            worker: start.map(|_| worker),
            waited: true,
        }
    }

    fn ran(start: f64, end: f64, worker: u32) -> Record {
        Record {
            worker: Some(worker),
            ..rec(start, end)
        }
    }

    #[test]
    fn a_pool_where_no_task_waited_does_not_say_one_did() {
        let v = verdict(&[ran(0.0, 5.0, 7), ran(0.0, 9.0, 8)], 4);
        assert!(!v.en.contains("waited"), "{v:?}");
        assert!(v.en.starts_with("no task had to wait"), "{v:?}");
    }

    #[test]
    fn a_task_that_never_started_is_not_said_to_have_started() {
        // Cancelled while task 1 still waited for a free worker.
        let records = [ran(0.0, 5.0, 7), waited(0.1, None, None, 0)];
        let v = verdict(&records, 1);
        assert!(!v.en.contains("started at once"), "{v:?}");
        assert!(v.en.contains("task 1 was still waiting"), "{v:?}");
        // Cancelled before any task started.
        let none = [Record::default(), Record::default()];
        let v = verdict(&none, 4);
        assert!(!v.en.contains("started"), "{v:?}");
        assert!(v.en.contains("no task ran"), "{v:?}");
    }

    #[test]
    fn the_longest_wait_names_the_task_that_freed_its_worker() {
        let records = [
            ran(0.0, 40.0, 7),
            ran(0.0, 90.0, 8),
            waited(0.5, Some(40.2), Some(60.0), 7),
        ];
        let v = verdict(&records, 2);
        assert!(
            v.en.starts_with("task 2 waited 40 ms for a free worker: all 2 were busy; it started when task 0 ended on worker 7"),
            "{v:?}"
        );
        assert!(v.zh.contains("任务 2") && v.zh.contains("40"), "{v:?}");
    }

    #[test]
    fn overlap_counts_touching_tasks_apart() {
        let r = [
            rec(0.0, 10.0),
            rec(0.0, 5.0),
            rec(5.0, 8.0),
            rec(10.0, 12.0),
        ];
        assert_eq!(max_concurrent(&r), 2);
        assert_eq!(max_concurrent(&[]), 0);
    }
}
