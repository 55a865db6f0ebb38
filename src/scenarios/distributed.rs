//! `distributed` — the tutorial's task_master.py and task_worker.py: a master serves a task
//! queue and a result queue over TCP behind an authkey; workers connect, square numbers, take
//! a second each, and send back "n * n = r". Here the runner is the master (see
//! [`crate::dist::master`]) and its local workers are conlab started again
//! (`distributed-worker`), each given the key on its stdin — never on its command line.
//!
//! A fault can be injected to see what the master does about it: a worker killed or stopped
//! mid-task (its lease runs out or its connection ends, and the task goes back to the queue),
//! a worker with the wrong key, a client that sends junk and oversize frames, a client that
//! sends a byte a second. Whatever the fault, every task's result arrives exactly once.

use super::{Findings, Group, LanesTable, Panel, Scenario, TimelineSpec};
use crate::dist::handshake::{AuthKey, Refusal};
use crate::dist::master::{self, Happening, Master, Plan, Watcher};
use crate::dist::redis_backend::{self, RedisMaster};
use crate::dist::wire;
use crate::dist::worker::{self, Hooks};
use crate::event::{Body, Event};
use crate::i18n::{Phrase, Text};
use crate::lab::children::{self, Worker};
use crate::lab::join::{has_ended, wait_until_ended};
use crate::lab::run_clock::SplitMix64;
use crate::params::{ParamKind, ParamSpec, choice_enum};
use crate::probe::{Probe, Span};
use crate::report::Metrics;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use std::collections::{HashMap, VecDeque};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

choice_enum! {
    /// What goes wrong on purpose.
    pub(super) enum Fault {
        Nothing = "none",
        KillWorker = "kill-worker",
        StopWorker = "stop-worker",
        WrongKey = "wrong-key",
        Garbage = "garbage",
        SlowClient = "slow-client",
    }
}

choice_enum! {
    /// Where the queues live.
    pub(super) enum Backend {
        Embedded = "embedded",
        Redis = "redis",
        /// The tutorial's own BaseManager, timed (assets/python/distributed_bench.py).
        Python = "python",
    }
}

const PARAMS: &[ParamSpec] = &[
    ParamSpec {
        key: "tasks",
        kind: ParamKind::Int {
            min: 1,
            max: 1_000_000,
        },
        default: "10",
        help: "numbers the master puts on the task queue (the tutorial puts 10)",
    },
    ParamSpec {
        key: "workers",
        kind: ParamKind::Int { min: 0, max: 16 },
        default: "2",
        help: "local worker processes (0: wait for `conlab worker` from elsewhere)",
    },
    ParamSpec {
        key: "work_ms",
        kind: ParamKind::Int {
            min: 0,
            max: 60_000,
        },
        default: "1000",
        help: "how long each task takes (the tutorial's worker sleeps a second)",
    },
    Backend::spec(
        "backend",
        Backend::Embedded,
        "embedded: conlab's own master over TCP; redis: the same tasks through Redis Streams; python: the tutorial's BaseManager, timed",
    ),
    ParamSpec {
        key: "redis",
        kind: ParamKind::Text { max_len: 200 },
        default: "redis://127.0.0.1:6379/",
        help: "the Redis server's URL, with backend=redis",
    },
    Fault::spec(
        "fault",
        Fault::Nothing,
        "what goes wrong on purpose: a worker killed (SIGKILL) or stopped (SIGSTOP) mid-task, a worker with the wrong key, a client sending junk and oversize frames, a client sending a byte a second",
    ),
    ParamSpec {
        key: "lease_ms",
        kind: ParamKind::Int {
            min: 50,
            max: 600_000,
        },
        default: "3000",
        help: "how long a worker may hold a task before the master takes it back",
    },
    ParamSpec {
        key: "max_attempts",
        kind: ParamKind::Int { min: 1, max: 10 },
        default: "3",
        help: "a task that loses this many leases is set aside (dead letter), not retried for ever",
    },
    ParamSpec {
        key: "bind",
        kind: ParamKind::Text { max_len: 64 },
        default: "127.0.0.1:0",
        help: "where the master listens (port 0: any free one); anything but loopback is reachable from other machines",
    },
    ParamSpec {
        key: "seed",
        kind: ParamKind::Int {
            min: 0,
            max: 1_000_000_000,
        },
        default: "1",
        help: "seed of the random numbers to square",
    },
];

pub static SCENARIO: Scenario = Scenario::lesson(
    "distributed",
    Group::Distributed,
    "Distributed processes — a master, workers anywhere, nothing lost",
    "a master serves tasks over TCP behind an authkey; workers here or on other machines take them; a worker that dies loses nothing",
    include_str!("../../assets/lessons/distributed.en.md"),
    PARAMS,
    run,
)
.with_chinese(
    "分布式进程 — 一个 master，任意处的 worker，任务不丢",
    "master 通过 TCP 和 authkey 分发任务；本机或其他机器上的 worker 领取任务；worker 死掉也不丢任务",
    include_str!("../../assets/lessons/distributed.zh.md"),
)
.with_compare("fault", &["none", "kill-worker", "stop-worker"])
.with_highlights(&[
    "tasks",
    "results",
    "duplicates_dropped",
    "leases_expired",
    "leases_lost",
    "tasks_retried",
    "dead_letters",
    "handshakes_accepted",
    "handshakes_refused",
    "handshakes_timed_out",
    "tasks_per_sec",
    "wall_ms",
])
.with_panel(Panel::Timeline(TimelineSpec {
    lane_role: WORKER_ROLE,
    lane_thread: None,
    lane: Phrase::new("worker", "worker 进程"),
    bar: TASK,
    item: Phrase::new("task", "任务"),
    waits_for: Phrase::new("a worker to take it", "worker 来领取"),
    lane_mark: Some(JOINED),
    table: Some(LanesTable {
        from: Phrase::new("joined", "加入"),
        limit: "lease_ms",
        left: Phrase::new("lease left", "租约剩余"),
    }),
}));

/// The role local workers announce (the Timeline's lanes).
pub const WORKER_ROLE: &str = "worker";
/// The role of the worker that tries the wrong key: not a lane, it never works.
pub const INTRUDER_ROLE: &str = "intruder";

/// A worker process of the run: connects to the master named by `connect`, the key on stdin.
pub static WORKER: Scenario = Scenario::child(
    "distributed-worker",
    "Distributed worker",
    &[
        ParamSpec {
            key: "connect",
            kind: ParamKind::Text { max_len: 128 },
            default: "127.0.0.1:5000",
            help: "the master's HOST:PORT",
        },
        Backend::spec("backend", Backend::Embedded, "where the queues live"),
        ParamSpec {
            key: "redis",
            kind: ParamKind::Text { max_len: 200 },
            default: "redis://127.0.0.1:6379/",
            help: "the Redis server's URL, with backend=redis",
        },
        ParamSpec {
            key: "queue",
            kind: ParamKind::Text { max_len: 100 },
            default: crate::dist::redis_backend::DEFAULT_QUEUE,
            help: "the Redis keys' prefix, with backend=redis",
        },
    ],
    work,
);

/// The trace's words for a task's trip: put on the queue by the master, leased to a worker,
/// run there, its result back on the master; a lease taken back is a mark.
pub const PUT: &str = "put";
pub const LEASE: &str = "lease";
pub const TASK: &str = "task";
pub const RESULT: &str = "result";
pub const HANDSHAKE: &str = "handshake";
/// A handshake accepted, marked on the lane of the worker that passed it once it says who it
/// is: a worker on another machine gets its lane from this mark.
pub const JOINED: &str = "joined";
pub const LEASE_LOST: &str = "lease lost";

/// Tasks past this many get no trace events of their own (a throughput run of a million
/// tasks would drown the dashboard); the counts still cover them all.
pub const TRACED_TASKS: u64 = 1000;

/// Count names: the queues' depths as the master sees them.
pub const TASK_QUEUE: &str = "task_queue";
pub const RESULT_QUEUE: &str = "result_queue";

/// Hands what the master's threads see to the run's thread, which owns the probe.
struct Forward(crossbeam_channel::Sender<Happening>);

impl Watcher for Forward {
    fn saw(&self, happening: Happening) {
        let _ = self.0.send(happening);
    }
}

/// A fault waiting for its moment: the victim, and when to strike once it holds a task.
struct Armed {
    fault: Fault,
    victim: u32,
    /// How long after the victim takes a task to strike: halfway through its work.
    delay: Duration,
    strike_at: Option<Instant>,
    struck: Option<u64>,
    resumed: bool,
}

fn run(probe: &Probe) -> Result<Findings, String> {
    let p = probe.params();
    let tasks = p.int("tasks") as usize;
    let local = p.int("workers") as usize;
    let work_ms = p.int("work_ms") as u64;
    let fault: Fault = p.choice("fault")?;
    let backend: Backend = p.choice("backend")?;
    if backend == Backend::Python {
        return through_python(probe, fault, tasks, local, work_ms);
    }
    if backend == Backend::Redis
        && matches!(fault, Fault::WrongKey | Fault::Garbage | Fault::SlowClient)
    {
        return Err(format!(
            "fault={} tests conlab's own master; with backend=redis, Redis does the talking: choose fault=none, kill-worker or stop-worker",
            fault.word()
        ));
    }
    let bind = p.word("bind").to_string();
    if matches!(fault, Fault::KillWorker | Fault::StopWorker) && local < 2 {
        return Err(format!(
            "fault={} needs at least 2 local workers (workers={local}): one to lose, one to finish its task",
            fault.word()
        ));
    }
    if p.int("lease_ms") as u64 <= work_ms {
        return Err(format!(
            "lease_ms={} is not longer than work_ms={work_ms}: every task would be taken back before its worker could finish it",
            p.int("lease_ms")
        ));
    }
    let mut rng = SplitMix64::new(p.int("seed") as u64);
    // As the tutorial: random.randint(0, 10000).
    let numbers: Vec<i64> = (0..tasks).map(|_| rng.up_to(10_000) as i64).collect();
    let plan = Plan {
        numbers: numbers.clone(),
        work_ms,
        lease: Duration::from_millis(p.int("lease_ms") as u64),
        max_attempts: p.int("max_attempts") as u32,
    };
    // A key for this run, or the user's, so a `conlab worker` elsewhere can join it.
    let key = match std::env::var_os(crate::dist::handshake::KEY_VAR) {
        Some(_) => AuthKey::load(None)?,
        None => AuthKey::new(fresh_key())?,
    };
    let (tx, rx) = crossbeam_channel::unbounded();
    let forward = Arc::new(Forward(tx.clone()));
    let started = Instant::now();
    let redis_url = p.word("redis").to_string();
    let queue = format!("conlab:run:{}", std::process::id());
    let mut queues = match backend {
        Backend::Python => unreachable!("timed by through_python"),
        Backend::Embedded => {
            Queues::Embedded(Master::start(&bind, key.clone(), plan, forward.clone())?)
        }
        Backend::Redis => Queues::Redis(Box::new(RedisMaster::start(&redis_url, &queue, plan)?)),
    };
    let assignments = match &queues {
        Queues::Embedded(master) => {
            let addr = master.addr();
            probe.log(format!(
                "master {} serves {tasks} tasks on {addr} (task queue and result queue)",
                std::process::id()
            ));
            if !master::is_loopback(&addr) {
                probe.log(master::exposure_warning(&addr.to_string()));
            }
            vec![format!("connect={addr}")]
        }
        Queues::Redis(_) => {
            probe.log(format!(
                "master {} put {tasks} tasks on the Redis stream {queue}:tasks at {redis_url}",
                std::process::id()
            ));
            vec![
                "backend=redis".to_string(),
                format!("redis={redis_url}"),
                format!("queue={queue}"),
            ]
        }
    };
    let addr = match &queues {
        Queues::Embedded(master) => Some(master.addr()),
        Queues::Redis(_) => None,
    };
    // Through Redis the master does not see who takes what: the workers' own spans say it.
    let told = (backend == Backend::Redis).then_some(tx);
    for task in 0..(tasks as u64).min(TRACED_TASKS) {
        let _put = probe.span_in(PUT, format!("put {}", numbers[task as usize]), Some(task));
    }
    let mut workers = Vec::with_capacity(local);
    for i in 0..local {
        workers.push(
            spawn_worker(probe, WORKER_ROLE, &assignments, Some(&key), told.clone())
                .map_err(|e| format!("could not start worker {i}: {e}"))?,
        );
    }
    let mut intruders = Vec::new();
    let mut pests = Vec::new();
    let pests_done = Arc::new(AtomicBool::new(false));
    match (fault, addr) {
        (Fault::WrongKey, _) => {
            let wrong = AuthKey::new(fresh_key())?;
            intruders.push(
                spawn_worker(probe, INTRUDER_ROLE, &assignments, Some(&wrong), None)
                    .map_err(|e| format!("could not start the worker with the wrong key: {e}"))?,
            );
        }
        (Fault::Garbage, Some(addr)) => pests.push(std::thread::spawn(move || send_garbage(addr))),
        (Fault::SlowClient, Some(addr)) => {
            let done = pests_done.clone();
            pests.push(std::thread::spawn(move || trickle(addr, &done)));
        }
        _ => {}
    }
    let mut armed = Armed {
        fault,
        victim: workers.first().map_or(0, |w: &Worker| w.pid),
        delay: Duration::from_millis(work_ms / 2),
        strike_at: None,
        struck: None,
        resumed: false,
    };

    let live = Live::default();
    let snapshot = |m: &mut Metrics| {
        let (queued, results) = (
            live.queued.load(Ordering::Relaxed),
            live.results.load(Ordering::Relaxed),
        );
        m.set("tasks_queued", queued);
        m.set("results", results);
        m.set("workers_connected", live.workers.load(Ordering::Relaxed));
        m.set("progress_pct", results as f64 * 100.0 / tasks as f64);
        probe.count(TASK_QUEUE, queued as f64);
        probe.count(RESULT_QUEUE, results as f64);
    };
    let mut stuck = None;
    let mut failure = None;
    let mut first_taken = None;
    let started_here = workers.iter().chain(&intruders).map(|w| w.pid).collect();
    let mut tracer = Tracer::new(probe, &numbers, started_here);
    probe.with_live(snapshot, || {
        loop {
            while let Ok(h) = rx.try_recv() {
                if matches!(h, Happening::Leased { .. }) {
                    first_taken.get_or_insert_with(Instant::now);
                }
                tracer.saw(&h);
                armed.notice(&h);
            }
            armed.strike(probe);
            let connected = queues.publish(&live);
            if queues.finished() || probe.cancelled() {
                break;
            }
            // With local workers only, all of them gone means nobody will finish the rest.
            if local > 0 && workers.iter().all(|w| has_ended(w.pid)) && connected == 0 {
                stuck = Some(live.queued.load(Ordering::Relaxed));
                break;
            }
            if let Err(e) = queues.wait(Duration::from_millis(20), &*forward) {
                failure = Some(e);
                break;
            }
        }
    });
    let wall_ms = started.elapsed().as_secs_f64() * 1000.0;
    // Throughput from the first task taken, as the Python script times its own: the workers'
    // start-up is not the queues' work.
    let working_s = first_taken.map_or(wall_ms / 1000.0, |t| t.elapsed().as_secs_f64());
    // A stopped worker is let go, so it ends as the others do: its late result is a duplicate.
    armed.resume(probe);
    // Workers hear "finished" at their next request and leave; then the master closes.
    let patience = Duration::from_millis(p.int("lease_ms") as u64 + work_ms + 5000);
    let mut ends = Vec::new();
    for (w, intruder) in workers
        .into_iter()
        .map(|w| (w, false))
        .chain(intruders.into_iter().map(|w| (w, true)))
    {
        if probe.cancelled() || !wait_until_ended(w.pid, patience) {
            w.terminate();
        }
        let end = crate::lab::join::join(w, probe);
        if !intruder {
            ends.push(end);
        }
    }
    // The slow client goes on until the master hangs up on it (its handshake deadline), so
    // the report counts it; a cancelled run does not wait for that.
    if probe.cancelled() {
        pests_done.store(true, Ordering::Relaxed);
    }
    for pest in pests {
        let _ = pest.join();
    }
    // Late results (a stopped worker's, let go) still count, as duplicates.
    let _ = queues.wait(Duration::from_millis(1), &*forward);
    let outcome = queues.shut_down();
    while let Ok(h) = rx.try_recv() {
        tracer.saw(&h);
    }

    let correct = outcome
        .results
        .iter()
        .filter(|(t, v)| {
            numbers
                .get(**t as usize)
                .is_some_and(|&n| wire::square(n) == **v)
        })
        .count();
    for (t, v) in outcome.results.iter().take(10) {
        probe.log(format!("Result: task {t}: {v}"));
    }
    let s = &outcome.stats;
    let refused = s.refused_wrong_key + s.refused_oversize + s.refused_garbage + s.refused_busy;
    let mut m = Metrics::default();
    m.set("tasks", tasks as u64);
    m.set("workers", local as u64);
    m.set("results", outcome.results.len() as u64);
    m.set("results_correct", correct as u64);
    m.set("duplicates_dropped", s.duplicates);
    m.set("leases_expired", s.leases_expired);
    m.set("leases_lost", s.leases_lost);
    m.set("tasks_retried", s.retried);
    m.set("dead_letters", outcome.dead.len() as u64);
    m.set("handshakes_accepted", s.accepted);
    m.set("handshakes_refused", refused);
    m.set("refused_wrong_key", s.refused_wrong_key);
    m.set("refused_oversize", s.refused_oversize);
    m.set("refused_garbage", s.refused_garbage);
    m.set("refused_busy", s.refused_busy);
    m.set("handshakes_timed_out", s.timed_out);
    m.set("bad_messages", s.bad_messages);
    if let Some(t) = armed.struck {
        m.set("fault_task", t);
        m.set("fault_pid", u64::from(armed.victim));
    }
    m.set(
        "tasks_per_sec",
        (outcome.results.len() as f64 / working_s * 10.0).round() / 10.0,
    );
    m.set("wall_ms", wall_ms);

    let complete = correct == tasks && outcome.dead.is_empty();
    let mut notes = vec![verdict(fault, &m, complete, armed.struck.is_some())];
    if let Some(queued) = stuck {
        notes.push(Text::new(
            format!("every local worker ended with {queued} tasks still to do: nobody was left to do them"),
            format!("所有本地 worker 都结束了，还有 {queued} 个任务没做：没有人来做了"),
        ));
    }
    if let Some(e) = &failure {
        notes.push(Text::new(
            format!("the master stopped: {e}"),
            format!("master 停止了：{e}"),
        ));
    }
    if !outcome.dead.is_empty() {
        let dead: Vec<String> = outcome.dead.iter().map(u64::to_string).collect();
        notes.push(Text::new(
            format!(
                "set aside after {} lost leases (dead letters): tasks {}",
                p.int("max_attempts"),
                dead.join(", ")
            ),
            format!(
                "丢失 {} 次租约后被搁置（死信）：任务 {}",
                p.int("max_attempts"),
                dead.join(", ")
            ),
        ));
    }
    for end in &ends {
        let killed = armed.fault == Fault::KillWorker && end.pid == armed.victim;
        if !end.exit.success() && !killed && !probe.cancelled() {
            notes.push(Text::new(
                format!("worker {} ended with {}", end.pid, end.exit),
                format!("worker {} 以 {} 结束", end.pid, end.exit),
            ));
        }
    }
    Ok(Findings {
        ok: complete && !probe.cancelled(),
        wall_ms,
        metrics: m,
        notes,
    })
}

impl Armed {
    fn notice(&mut self, h: &Happening) {
        if let Happening::Leased { task, pid, .. } = h
            && *pid == self.victim
            && self.struck.is_none()
            && self.strike_at.is_none()
            && matches!(self.fault, Fault::KillWorker | Fault::StopWorker)
        {
            self.struck = Some(*task);
            self.strike_at = Some(Instant::now() + self.delay);
        }
    }

    fn strike(&mut self, probe: &Probe) {
        let Some(at) = self.strike_at else { return };
        if Instant::now() < at {
            return;
        }
        self.strike_at = None;
        let (signal, what) = match self.fault {
            Fault::KillWorker => (Signal::SIGKILL, "kill -9"),
            _ => (Signal::SIGSTOP, "kill -STOP"),
        };
        let _ = kill(Pid::from_raw(self.victim as i32), signal);
        probe.log(format!(
            "{what} {} while it holds task {}",
            self.victim,
            self.struck.unwrap_or(0)
        ));
    }

    fn resume(&mut self, probe: &Probe) {
        if self.fault == Fault::StopWorker && self.struck.is_some() && !self.resumed {
            self.resumed = true;
            let _ = kill(Pid::from_raw(self.victim as i32), Signal::SIGCONT);
            probe.log(format!(
                "kill -CONT {}: it wakes and sends a late result",
                self.victim
            ));
        }
    }
}

/// What the master saw, as the run's trace: steps of each task's trip on the master, lost
/// leases as marks on the lane of the worker that held the task (cutting its bar), accepted
/// handshakes on the lane of the worker that passed it, refused ones on the master's row.
///
/// Workers this run started trace their own tasks. A worker that joined from elsewhere
/// (`conlab worker` in another terminal or on another machine) writes no events here, so the
/// master speaks for it: its lane is its PID, which is what that worker prints and what every
/// other lane, mark and export track is keyed by, and its task spans run from when it can
/// start a task (its lease's clock starts) to its result arriving. A PID taken on another
/// machine could equal one here; the master's log names each worker's host and address.
struct Tracer<'a> {
    probe: &'a Probe,
    numbers: &'a [i64],
    /// The workers this run started (and its intruder).
    local: Vec<u32>,
    /// Connections past their handshake whose worker has not said who it is yet.
    accepted: HashMap<u64, SocketAddr>,
    /// Workers from elsewhere, by PID.
    remote: HashMap<u32, Remote>,
    next_span: u64,
}

/// A worker from elsewhere as the master traces it: the tasks it holds in the order it works
/// on them, and the span open for the one it works on.
#[derive(Default)]
struct Remote {
    held: VecDeque<u64>,
    open: Option<(u64, u64)>,
}

impl<'a> Tracer<'a> {
    fn new(probe: &'a Probe, numbers: &'a [i64], local: Vec<u32>) -> Tracer<'a> {
        Tracer {
            probe,
            numbers,
            local,
            accepted: HashMap::new(),
            remote: HashMap::new(),
            // Spans written for another process: that process writes none of its own here.
            next_span: 1,
        }
    }

    /// A mark on `pid`'s lane (the master's row when the worker is not known).
    fn mark_on(&self, pid: u32, cat: &str, name: String, flow: Option<u64>) {
        if pid == 0 {
            return self.probe.mark(cat, name, flow);
        }
        let cat = cat.to_string();
        let tid = None;
        self.probe.emit_as(
            pid,
            Body::Mark {
                cat,
                name,
                tid,
                flow,
            },
        );
    }

    /// A remote worker's next task, if it holds one and has none open, begins on its lane.
    fn begin_next(&mut self, pid: u32) {
        let Some(r) = self.remote.get_mut(&pid) else {
            return;
        };
        let Some(&task) = r.held.front() else { return };
        if r.open.is_some() || task >= TRACED_TASKS {
            return;
        }
        let span = self.next_span;
        self.next_span += 1;
        r.open = Some((span, task));
        let n = self.numbers.get(task as usize).copied().unwrap_or(0);
        self.probe.emit_as(
            pid,
            Body::Begin {
                span,
                cat: TASK.to_string(),
                name: format!("task {task}: {n} * {n}"),
                tid: None,
                flow: Some(task),
            },
        );
    }

    /// Remote worker `pid` no longer holds `task`: its span ends, and its next one begins.
    fn let_go(&mut self, pid: u32, task: u64) {
        let Some(r) = self.remote.get_mut(&pid) else {
            return;
        };
        r.held.retain(|&t| t != task);
        if let Some((span, t)) = r.open
            && t == task
        {
            r.open = None;
            self.probe.emit_as(pid, Body::End { span });
        }
        self.begin_next(pid);
    }

    fn saw(&mut self, h: &Happening) {
        let probe = self.probe;
        let traced = |task: &u64| *task < TRACED_TASKS;
        match h {
            Happening::Leased {
                task, pid, attempt, ..
            } => {
                if traced(task) {
                    let again = if *attempt > 1 {
                        format!(" (attempt {attempt})")
                    } else {
                        String::new()
                    };
                    let _lease =
                        probe.span_in(LEASE, format!("task {task} to {pid}{again}"), Some(*task));
                }
                if let Some(r) = self.remote.get_mut(pid) {
                    r.held.push_back(*task);
                    self.begin_next(*pid);
                }
            }
            Happening::Done { task, pid, value } => {
                if traced(task) {
                    let _result = probe.span_in(RESULT, format!("{value} from {pid}"), Some(*task));
                }
                // Whoever else held it (its lease ran out on them) holds it no more.
                let holders: Vec<u32> = self
                    .remote
                    .iter()
                    .filter(|(_, r)| r.held.contains(task))
                    .map(|(p, _)| *p)
                    .collect();
                for p in holders {
                    self.let_go(p, *task);
                }
            }
            Happening::Expired { task, pid } => {
                let name = format!("lease of task {task} ran out on {pid}");
                self.mark_on(*pid, LEASE_LOST, name, Some(*task));
                probe.log(format!(
                    "worker {pid} held task {task} past its lease: back on the queue"
                ));
                self.let_go(*pid, *task);
            }
            Happening::Lost { task, pid } => {
                let name = format!("worker {pid} left holding task {task}");
                self.mark_on(*pid, LEASE_LOST, name, Some(*task));
                probe.log(format!(
                    "worker {pid} left holding task {task}: back on the queue"
                ));
                self.let_go(*pid, *task);
            }
            Happening::Duplicate { task, pid } => {
                probe.log(format!(
                    "late result of task {task} from {pid} dropped: it already has one"
                ));
            }
            Happening::DeadLetter { task, attempts } => {
                let n = self.numbers.get(*task as usize).copied().unwrap_or(0);
                probe.log(format!(
                    "task {task} ({n}) lost {attempts} leases: set aside"
                ));
            }
            Happening::Refused { addr, why } => {
                let word = if *why == Refusal::TimedOut {
                    "timed out"
                } else {
                    "refused"
                };
                probe.mark(HANDSHAKE, format!("{word}: {} ({addr})", why.word()), None);
                probe.log(format!("connection from {addr} {word}: {}", why.word()));
            }
            Happening::Busy { addr } => {
                probe.mark(HANDSHAKE, format!("refused: busy ({addr})"), None);
            }
            Happening::Accepted { conn, addr } => {
                self.accepted.insert(*conn, *addr);
            }
            Happening::Joined {
                conn,
                pid,
                addr,
                host,
            } => {
                self.accepted.remove(conn);
                if !self.local.contains(pid) {
                    self.remote.entry(*pid).or_default();
                }
                self.mark_on(*pid, JOINED, format!("accepted {addr}"), None);
                probe.log(format!("worker {pid} on {host} joined from {addr}"));
            }
            Happening::Left { conn, pid, addr } => {
                // Past its handshake but gone before saying who it is: the master's row.
                if self.accepted.remove(conn).is_some() {
                    probe.mark(HANDSHAKE, format!("accepted ({addr}), then left"), None);
                }
                if let Some(r) = self.remote.remove(pid)
                    && let Some((span, _)) = r.open
                {
                    probe.emit_as(*pid, Body::End { span });
                }
                probe.log(format!("worker {pid} ({addr}) left"));
            }
            Happening::Retried { .. } => {}
        }
    }
}

/// The same tasks through Python's BaseManager, as the tutorial serves them: its tasks/s.
fn through_python(
    probe: &Probe,
    fault: Fault,
    tasks: usize,
    workers: usize,
    work_ms: u64,
) -> Result<Findings, String> {
    if fault != Fault::Nothing {
        return Err(format!(
            "backend=python times BaseManager and injects no fault; fault={} needs backend=embedded (or redis)",
            fault.word()
        ));
    }
    if workers == 0 {
        return Err(
            "backend=python starts its own worker processes: give workers=1 or more".into(),
        );
    }
    let started = Instant::now();
    let mut figures = None;
    let ended = crate::lab::python::run_lines(
        probe,
        include_str!("../../assets/python/distributed_bench.py"),
        &[tasks.to_string(), workers.to_string(), work_ms.to_string()],
        "backend=embedded and backend=redis work without it",
        |line| {
            if let Ok(v) = serde_json::from_str::<serde_json::Value>(line) {
                figures = Some((
                    v["tasks"].as_u64().unwrap_or(0),
                    v["tasks_per_sec"].as_f64().unwrap_or(0.0),
                ));
            }
        },
    )?;
    let Some((results, per_sec)) = figures.filter(|_| ended.exit.success()) else {
        return Err(format!(
            "the BaseManager script ended with {} without its figures: {}",
            ended.exit,
            crate::text_safe::excerpt(&ended.stderr)
        ));
    };
    let wall_ms = started.elapsed().as_secs_f64() * 1000.0;
    let mut m = Metrics::default();
    m.set("tasks", tasks as u64);
    m.set("workers", workers as u64);
    m.set("results", results);
    m.set("tasks_per_sec", (per_sec * 10.0).round() / 10.0);
    m.set("wall_ms", wall_ms);
    let note = Text::new(
        format!(
            "through Python's BaseManager: {per_sec:.0} tasks/s with {workers} worker processes (each get and put a pickled call over TCP); tasks are taken at most once"
        ),
        format!(
            "通过 Python 的 BaseManager：{workers} 个 worker 进程，每秒 {per_sec:.0} 个任务（每次 get 和 put 都是一次经 TCP 的 pickle 调用）；任务至多交付一次"
        ),
    );
    Ok(Findings {
        ok: results == tasks as u64,
        wall_ms,
        metrics: m,
        notes: vec![note],
    })
}

/// A run's own key: 16 random bytes, as hex.
fn fresh_key() -> String {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).expect("the OS gives random bytes");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Starts a worker process that reads `key` from its stdin (a pipe holding just the key).
/// With `told`, each task it begins is told there as it reads it from the worker's events.
fn spawn_worker(
    probe: &Probe,
    role: &str,
    assignments: &[String],
    key: Option<&AuthKey>,
    told: Option<crossbeam_channel::Sender<Happening>>,
) -> Result<Worker, String> {
    let (theirs, ours) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)
        .map_err(|e| format!("no pipe for the key: {e}"))?;
    let mut writer = std::fs::File::from(ours);
    writer
        .write_all(key.map_or(&[][..], AuthKey::bytes))
        .map_err(|e| format!("could not pass the key: {e}"))?;
    drop(writer);
    let watch = move |event: &Event| {
        if let (
            Some(told),
            Body::Begin {
                cat,
                flow: Some(task),
                ..
            },
        ) = (&told, &event.body)
            && cat == TASK
        {
            let _ = told.send(Happening::Leased {
                task: *task,
                n: 0,
                conn: 0,
                pid: event.pid,
                attempt: 1,
            });
        }
    };
    children::spawn_with(
        probe,
        WORKER.id,
        role,
        assignments,
        Stdio::from(theirs),
        watch,
    )
    .map_err(|e| e.to_string())
}

/// Figures the live reporter reads while the main loop runs.
#[derive(Default)]
struct Live {
    queued: AtomicU64,
    results: AtomicU64,
    workers: AtomicU64,
}

/// Where the queues live: in this process, or in Redis.
enum Queues {
    Embedded(Master),
    /// Boxed: its connection is large, and there is one of these a run.
    Redis(Box<RedisMaster>),
}

impl Queues {
    fn finished(&self) -> bool {
        match self {
            Queues::Embedded(m) => m.finished(),
            Queues::Redis(r) => r.finished(),
        }
    }

    /// Puts the current figures in `live`; returns how many workers are connected (through
    /// Redis, unknown: said to be one while tasks remain, so nothing looks stuck).
    fn publish(&self, live: &Live) -> usize {
        let (queued, results, workers) = match self {
            Queues::Embedded(m) => {
                let v = m.view();
                (v.queued, v.results, v.workers.len())
            }
            Queues::Redis(r) => {
                let (results, left) = r.progress();
                (left, results, usize::from(left > 0))
            }
        };
        live.queued.store(queued as u64, Ordering::Relaxed);
        live.results.store(results as u64, Ordering::Relaxed);
        live.workers.store(workers as u64, Ordering::Relaxed);
        workers
    }

    /// Waits up to `wait` for something to happen (through Redis: results to arrive).
    fn wait(&mut self, wait: Duration, watcher: &dyn Watcher) -> Result<(), String> {
        match self {
            Queues::Embedded(m) => {
                m.wait_for_change(wait);
                Ok(())
            }
            Queues::Redis(r) => r.poll(wait, watcher),
        }
    }

    fn shut_down(self) -> master::Outcome {
        match self {
            Queues::Embedded(m) => m.shut_down(),
            Queues::Redis(r) => (*r).shut_down(),
        }
    }
}

/// A client that sends junk: an HTTP request (its first four bytes read as a huge length),
/// a frame claiming a gigabyte, and a small frame that is not a handshake message.
fn send_garbage(addr: std::net::SocketAddr) {
    let junk: [&[u8]; 3] = [
        b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
        &(1u32 << 30).to_be_bytes(),
        b"\0\0\0\x05hello",
    ];
    for bytes in junk {
        if let Ok(mut s) = TcpStream::connect(addr) {
            let _ = s.set_read_timeout(Some(Duration::from_secs(3)));
            let _ = s.write_all(bytes);
            // Until the master closes it: the refusal is counted before this returns.
            let mut sink = Vec::new();
            let _ = s.read_to_end(&mut sink);
        }
    }
}

/// A client that opens a connection and sends one byte a second, until the master hangs up
/// or `done` (the run was cancelled).
fn trickle(addr: std::net::SocketAddr, done: &AtomicBool) {
    let Ok(mut s) = TcpStream::connect(addr) else {
        return;
    };
    let mut last = Instant::now() - Duration::from_secs(1);
    while !done.load(Ordering::Relaxed) {
        if last.elapsed() >= Duration::from_secs(1) {
            if s.write_all(b"\0").is_err() {
                return;
            }
            last = Instant::now();
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// What the run showed, from its figures.
fn verdict(fault: Fault, m: &Metrics, complete: bool, struck: bool) -> Text {
    let get = |k: &str| m.get(k).map_or(0, |n| n.as_f64() as u64);
    let (tasks, results) = (get("tasks"), get("results_correct"));
    if !complete {
        return Text::new(
            format!(
                "{results} of {tasks} results arrived: the run ended before every task was done"
            ),
            format!("{tasks} 个任务只收到 {results} 个结果：运行在所有任务完成之前就结束了"),
        );
    }
    let all = Text::new(
        format!("all {tasks} results arrived, each once"),
        format!("全部 {tasks} 个结果都到了，每个只有一次"),
    );
    let how = match fault {
        Fault::KillWorker if struck && get("leases_lost") == 0 => Text::new(
            format!(
                "; the killed worker's entry sat unacknowledged past its lease and another worker claimed it ({} reclaimed)",
                get("leases_expired")
            ),
            format!(
                "；被杀死的 worker 的条目超过租约仍未确认，被另一个 worker 认领（回收 {} 次）",
                get("leases_expired")
            ),
        ),
        Fault::KillWorker if struck => Text::new(
            format!(
                "; the killed worker's task went back to the queue when its connection ended ({} lost lease, {} retried)",
                get("leases_lost"),
                get("tasks_retried")
            ),
            format!(
                "；被杀死的 worker 的连接一断，它的任务就回到了队列（丢失租约 {} 次，重试 {} 次）",
                get("leases_lost"),
                get("tasks_retried")
            ),
        ),
        Fault::StopWorker if struck => Text::new(
            format!(
                "; the stopped worker's lease ran out ({} expired) and another worker did its task; its late result was dropped ({} duplicate)",
                get("leases_expired"),
                get("duplicates_dropped")
            ),
            format!(
                "；被暂停的 worker 的租约到期（{} 次），任务由另一个 worker 完成；它迟到的结果被丢弃（重复 {} 个）",
                get("leases_expired"),
                get("duplicates_dropped")
            ),
        ),
        Fault::WrongKey => Text::new(
            format!(
                "; the worker with the wrong key was refused ({} refused for the key) and never saw a task",
                get("refused_wrong_key")
            ),
            format!(
                "；authkey 错误的 worker 被拒绝（{} 次），一个任务也没拿到",
                get("refused_wrong_key")
            ),
        ),
        Fault::Garbage => Text::new(
            format!(
                "; junk was refused ({} oversize frames, {} not a handshake) and the workers never noticed",
                get("refused_oversize"),
                get("refused_garbage")
            ),
            format!(
                "；垃圾数据被拒绝（超长帧 {} 个、非握手消息 {} 个），worker 毫无察觉",
                get("refused_oversize"),
                get("refused_garbage")
            ),
        ),
        Fault::SlowClient => Text::new(
            format!(
                "; the client sending a byte a second ran out of time in its handshake ({} timed out) while the workers went on",
                get("handshakes_timed_out")
            ),
            format!(
                "；每秒只发一个字节的客户端握手超时（{} 次），worker 照常工作",
                get("handshakes_timed_out")
            ),
        ),
        _ => Text::default(),
    };
    Text::new(
        format!("{}{}", all.en, how.en),
        format!("{}{}", all.zh, how.zh),
    )
}

/// The worker's side, as hooks on the run's trace: each task a span on this process's lane.
struct Traced<'a> {
    probe: &'a Probe,
    open: Option<Span<'a>>,
}

impl Hooks for Traced<'_> {
    fn joined(&mut self, master: &str) {
        self.probe.log(format!(
            "worker {} connected to {master}",
            std::process::id()
        ));
    }

    fn started(&mut self, task: u64, n: i64) {
        if task < TRACED_TASKS {
            self.open = Some(self.probe.span_in(
                TASK,
                format!("task {task}: {n} * {n}"),
                Some(task),
            ));
            // As the tutorial's worker prints it.
            self.probe.log(format!("run task {n} * {n}..."));
        }
    }

    fn finished(&mut self, _task: u64, _value: &str) {
        self.open = None;
    }

    fn cancelled(&self) -> bool {
        self.probe.cancelled()
    }
}

fn work(probe: &Probe) -> Result<Findings, String> {
    let p = probe.params();
    let started = Instant::now();
    let mut hooks = Traced { probe, open: None };
    let done = match p.choice::<Backend>("backend")? {
        Backend::Redis => {
            let consumer = format!("worker-{}", std::process::id());
            redis_backend::work(p.word("redis"), p.word("queue"), &consumer, &mut hooks)?
        }
        Backend::Python => return Err("a worker of backend=python is Python's own".into()),
        Backend::Embedded => {
            let mut key = Vec::new();
            std::io::stdin()
                .read_to_end(&mut key)
                .map_err(|e| format!("could not read the key from stdin: {e}"))?;
            let key = AuthKey::new(key)?;
            worker::run(p.word("connect"), &key, &mut hooks)?
        }
    };
    let mut metrics = Metrics::default();
    metrics.set("tasks_done", done);
    Ok(Findings {
        ok: true,
        wall_ms: started.elapsed().as_secs_f64() * 1000.0,
        metrics,
        notes: vec![],
    })
}
