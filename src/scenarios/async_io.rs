//! `async-io` — 异步IO: one thread with an event loop serves what would otherwise take a
//! thread per connection. A loopback TCP service answers each 8-byte request after a service
//! delay (a timer), loaded by `connections` clients that each make `requests` requests. The
//! server is a child process of the run (see [`server`], or Python's asyncio for
//! `mode=python`), the load generator another ([`client`]), so what the server costs —
//! threads, memory, CPU time — is measured on it alone, from outside, the same way for every
//! mode: its threads and memory from `/proc` while it runs, its CPU time from the rusage of
//! the reaped process.
//!
//! The file-descriptor limit is raised to what both processes need before they start (they
//! inherit it); when the hard limit is lower, `connections` is capped to fit and the report
//! says so, instead of failing half-way.

mod client;
mod server;

pub use client::CLIENT;
pub use server::SERVER;

use super::{CountSeries, CountsSpec, Findings, Group, Panel, Scenario};
use crate::event::Body;
use crate::exit::Exit;
use crate::i18n::Text;
use crate::lab::children::{self, Worker};
use crate::lab::control::{Control, Received};
use crate::lab::fd_limit;
use crate::lab::join;
use crate::params::{ParamKind, ParamSpec, choice_enum};
use crate::probe::Probe;
use crate::procfs;
use crate::report::{Metrics, group_thousands};
use crate::rusage::rusage_cpu_time;
use server::{RunnerSays, ServerSays};
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

choice_enum! {
    /// How the server holds its connections.
    pub(super) enum Mode {
        Threads = "threads",
        Loop = "loop",
        LoopPerCore = "loop-per-core",
        Python = "python",
    }
}

/// The byte a server's handler sends first, once a thread or task of its own holds the
/// connection: the load generator counts a connection open only when it has it, so every
/// connection is held by the server at once before any request starts (a finished TCP
/// handshake alone only means the kernel queued it).
pub(super) const WELCOME: u8 = b'+';

const MODE: ParamSpec = Mode::spec(
    "mode",
    Mode::Loop,
    "threads: a thread per connection; loop: one event loop (tokio, one thread); loop-per-core: one loop per core on one port (SO_REUSEPORT); python: asyncio",
);
pub(super) const CONNECTIONS: ParamSpec = ParamSpec {
    key: "connections",
    kind: ParamKind::Int {
        min: 1,
        max: 10_000,
    },
    default: "1000",
    help: "clients connected at once, each making its requests one after another",
};
pub(super) const REQUESTS: ParamSpec = ParamSpec {
    key: "requests",
    kind: ParamKind::Int {
        min: 1,
        max: 100_000,
    },
    default: "10",
    help: "requests each connection makes",
};
pub(super) const DELAY: ParamSpec = ParamSpec {
    key: "delay_ms",
    kind: ParamKind::Int {
        min: 0,
        max: 10_000,
    },
    default: "10",
    help: "how long the server waits before answering each request (a timer, as for a database's answer)",
};
pub(super) const BLOCK: ParamSpec = ParamSpec {
    key: "block_ms",
    kind: ParamKind::Int {
        min: 0,
        max: 10_000,
    },
    default: "0",
    help: "when > 0, the first connection's handler makes a blocking call this long before each answer",
};

pub static SCENARIO: Scenario = Scenario::lesson(
    "async-io",
    Group::Models,
    "Async IO — one loop, thousands of connections",
    "a TCP service holds thousands of connections: a thread for each, one event loop, a loop per core, or Python's asyncio",
    include_str!("../../assets/lessons/async-io.en.md"),
    &[MODE, CONNECTIONS, REQUESTS, DELAY, BLOCK],
    run,
)
.with_compare("mode", &["threads", "loop", "loop-per-core", "python"])
.with_highlights(&[
    "server_threads_max",
    "server_peak_rss_mib",
    "server_cpu_ms",
    "requests_per_sec",
    "latency_p50_us",
    "latency_p99_us",
    "latency_max_us",
    "connections_reset",
    "wall_ms",
])
.with_panel(Panel::Counts(CountsSpec {
    series: &[
        CountSeries {
            name: client::OPEN,
            en: "connections open",
            zh: "打开的连接",
        },
        CountSeries {
            name: client::RATE,
            en: "requests/s",
            zh: "每秒请求",
        },
        CountSeries {
            name: SERVER_THREADS,
            en: "server threads",
            zh: "服务器线程",
        },
        CountSeries {
            name: SERVER_RSS_MIB,
            en: "server memory MiB",
            zh: "服务器内存 MiB",
        },
    ],
}))
.with_chinese(
    "异步IO — 一个事件循环，成千上万个连接",
    "一个 TCP 服务同时保持成千上万个连接：每个连接一个线程、一个事件循环、每核一个循环，或 Python 的 asyncio",
    include_str!("../../assets/lessons/async-io.zh.md"),
);

/// The counts the runner sends about the server, every 100 ms.
pub const SERVER_THREADS: &str = "server_threads";
pub const SERVER_RSS_MIB: &str = "server_rss_mib";

/// Descriptors a process needs beyond one per connection: stdio, the control channel, the
/// listening sockets, the event loops' own (epoll, wake-ups), Python's modules.
const FD_MARGIN: i64 = 64;

/// How long the server may take to say it listens, and to stop once asked.
const SERVER_PATIENCE: Duration = Duration::from_secs(10);

/// How long a cancelled run waits for Python to end before it ends it.
const CANCEL_PATIENCE: Duration = Duration::from_millis(300);

/// How often the runner looks at the server's threads and memory.
const SAMPLE_EVERY: Duration = Duration::from_millis(10);
const COUNT_EVERY: Duration = Duration::from_millis(100);

/// MiB from KiB, to a tenth.
fn mib(kib: u64) -> f64 {
    (kib as f64 / 1024.0 * 10.0).round() / 10.0
}

fn run(probe: &Probe) -> Result<Findings, String> {
    let p = probe.params();
    let mode = p.choice::<Mode>("mode")?;
    let asked = p.int("connections");
    let requests = p.int("requests");
    let delay_ms = p.int("delay_ms");
    let block_ms = p.int("block_ms");
    let started = Instant::now();
    let mut notes = Vec::new();

    // Both children inherit the limit; each holds one descriptor per connection.
    let limit = fd_limit::raise_to((asked + FD_MARGIN) as u64);
    let fits = (limit.now as i64 - FD_MARGIN).max(1);
    let connections = asked.min(fits);
    if connections < asked {
        notes.push(Text::new(
            format!(
                "the open-file limit cannot go past its hard limit of {}, so connections were capped at {} of the {} asked for",
                limit.hard,
                group_thousands(connections),
                group_thousands(asked)
            ),
            format!(
                "打开文件数的硬上限是 {}，无法再提高，所以连接数限制为 {}（要求的是 {}）",
                limit.hard,
                group_thousands(connections),
                group_thousands(asked)
            ),
        ));
    } else if limit.now > limit.before {
        notes.push(Text::new(
            format!(
                "raised the open-file limit from {} to {} for {} connections",
                limit.before,
                limit.now,
                group_thousands(connections)
            ),
            format!(
                "为 {} 个连接把打开文件数上限从 {} 提高到 {}",
                group_thousands(connections),
                limit.before,
                limit.now
            ),
        ));
    }

    let mut server = Server::start(probe, mode, delay_ms, block_ms)?;
    let Some((port, loops)) = server.wait_ready(probe)? else {
        let exit = server.finish(probe);
        return Ok(cancelled_before_load(probe, exit));
    };

    // What starting cost (Python's interpreter and imports: a good part of a short run) is
    // left out: the server's CPU time counts from the moment it listens.
    let start_cpu = procfs::stat(server.pid()).map_or(Duration::ZERO, |s| {
        Duration::from_secs_f64(s.cpu_ticks as f64 / procfs::ticks_per_second())
    });
    let done = Arc::new(AtomicU64::new(0));
    let seen = Arc::clone(&done);
    let client = children::spawn_with(
        probe,
        CLIENT.id,
        "client",
        &[
            format!("connections={connections}"),
            format!("requests={requests}"),
            format!("port={port}"),
        ],
        Stdio::null(),
        move |e| {
            if let Body::Count { name, value } = &e.body
                && name == client::DONE
            {
                seen.store(*value as u64, Relaxed);
            }
        },
    )
    .map_err(|e| format!("could not start the load generator: {e}"))?;

    let expected = (connections * requests) as u64;
    let watch = Watch::default();
    let snapshot = |m: &mut Metrics| {
        let n = done.load(Relaxed);
        m.set("progress_pct", n as f64 * 100.0 / expected.max(1) as f64);
        m.set("requests_done", n);
        m.set("server_threads_max", watch.threads_max.load(Relaxed));
        m.set("server_rss_mib", mib(watch.rss_kib.load(Relaxed)));
    };
    probe.with_live(snapshot, || {
        watch.server_while(&client, server.pid(), probe)
    });
    let before = rusage_cpu_time(nix::sys::resource::UsageWho::RUSAGE_CHILDREN);
    let client_end = join::join(client, probe);
    let client_cpu = rusage_cpu_time(nix::sys::resource::UsageWho::RUSAGE_CHILDREN) - before;
    // The high-water mark, before the server exits and its memory goes with it.
    watch.sample(server.pid());
    let peak_kib = watch.rss_max_kib.load(Relaxed);
    let counts = server.stop(probe)?;
    let before = rusage_cpu_time(nix::sys::resource::UsageWho::RUSAGE_CHILDREN);
    let server_exit = server.finish(probe);
    let server_cpu = (rusage_cpu_time(nix::sys::resource::UsageWho::RUSAGE_CHILDREN) - before)
        .saturating_sub(start_cpu);

    let client_report = client_end.report.as_ref().filter(|r| !r.metrics.is_empty());
    let Some(client_report) = client_report else {
        notes.push(Text::from(format!(
            "the load generator ended ({}) without its figures",
            client_end.exit
        )));
        return Ok(Findings {
            ok: false,
            wall_ms: started.elapsed().as_secs_f64() * 1000.0,
            metrics: Metrics::default(),
            notes,
        });
    };
    let c = &client_report.metrics;
    let figure = |name: &str| c.get(name).map_or(0.0, |n| n.as_f64());
    let mut m = Metrics::default();
    m.set("connections", connections);
    for name in [
        "connections_opened",
        "connections_refused",
        "connections_reset",
    ] {
        m.set(name, figure(name) as u64);
    }
    m.set("requests_expected", expected);
    let answered = figure("requests_done") as u64;
    m.set("requests_done", answered);
    m.set("requests_lost", expected.saturating_sub(answered));
    if let Some(ServerSays::Stopped {
        served,
        accepted,
        blocked,
    }) = counts
    {
        m.set("requests_served", served);
        m.set("connections_accepted", accepted);
        m.set("blocked_requests", blocked);
    }
    m.set("requests_per_sec", figure("requests_per_sec"));
    for q in ["min", "p50", "p99", "max", "mean"] {
        let name = crate::lab::latency::metric_name("latency", q);
        if let Some(v) = c.get(&name) {
            m.set(&name, v);
        }
    }
    let threads = watch.threads_max.load(Relaxed);
    let cpu_ms = server_cpu.as_secs_f64() * 1000.0;
    m.set("server_threads_max", threads);
    m.set("server_loops", u64::from(loops));
    m.set("server_peak_rss_mib", mib(peak_kib));
    m.set("server_cpu_ms", cpu_ms);
    m.set(
        "server_cpu_us_per_request",
        if answered > 0 {
            cpu_ms * 1000.0 / answered as f64
        } else {
            0.0
        },
    );
    m.set("client_cpu_ms", client_cpu.as_secs_f64() * 1000.0);
    m.set("fd_limit", limit.now);
    m.set("connect_ms", figure("connect_ms"));
    m.set("serve_ms", figure("serve_ms"));
    let wall_ms = started.elapsed().as_secs_f64() * 1000.0;
    m.set("wall_ms", wall_ms);

    let verdict = Verdict {
        mode,
        connections,
        threads,
        loops,
        peak_mib: mib(peak_kib),
        cpu_ms,
        p50_ms: figure("latency_p50_us") / 1000.0,
        p99_ms: figure("latency_p99_us") / 1000.0,
        delay_ms,
        block_ms,
        expected,
        answered,
        refused: figure("connections_refused") as u64,
        reset: figure("connections_reset") as u64,
    };
    let mut all = verdict.notes();
    all.extend(notes);
    all.extend(
        client_report
            .notes
            .iter()
            .zip(&client_report.notes_zh)
            .map(|(en, zh)| Text::new(en.clone(), zh.clone())),
    );
    if !server_exit.success() && !probe.cancelled() {
        all.push(Text::new(
            format!("the server ended with {server_exit}"),
            format!("服务器进程结束：{server_exit}"),
        ));
    }
    Ok(Findings {
        ok: server_exit.success() && client_end.exit.success(),
        wall_ms,
        metrics: m,
        notes: all,
    })
}

/// A run cancelled before any load: it reports that, and nothing else.
fn cancelled_before_load(probe: &Probe, server_exit: Exit) -> Findings {
    Findings {
        ok: false,
        wall_ms: probe.elapsed_ms(),
        metrics: Metrics::default(),
        notes: vec![Text::new(
            format!("cancelled before the load began (the server ended with {server_exit})"),
            format!("负载开始之前就取消了（服务器进程结束：{server_exit}）"),
        )],
    }
}

/// The server's threads and memory, as `/proc` shows them while the load runs.
#[derive(Default)]
struct Watch {
    threads_max: AtomicU64,
    rss_kib: AtomicU64,
    /// The most it was seen to hold, for when the server is gone before its high-water mark
    /// can be read (a cancelled run).
    rss_max_kib: AtomicU64,
}

impl Watch {
    fn sample(&self, pid: u32) -> u64 {
        let threads = procfs::stat(pid).map_or(0, |s| u64::from(s.threads));
        self.threads_max.fetch_max(threads, Relaxed);
        if let Some(memory) = procfs::memory(pid) {
            self.rss_kib.store(memory.rss_kib, Relaxed);
            self.rss_max_kib.fetch_max(memory.peak_kib, Relaxed);
        }
        threads
    }

    /// Samples the server every [`SAMPLE_EVERY`] (a thread-per-connection server's threads
    /// come and go with its connections) and counts every [`COUNT_EVERY`], until the load
    /// generator has ended; on a cancel it asks the load generator to stop.
    fn server_while(&self, client: &Worker, server: u32, probe: &Probe) {
        let mut counted = Instant::now() - COUNT_EVERY;
        let mut asked = false;
        while !join::has_ended(client.pid) {
            let threads = self.sample(server);
            if counted.elapsed() >= COUNT_EVERY {
                probe.count(SERVER_THREADS, threads as f64);
                probe.count(SERVER_RSS_MIB, mib(self.rss_kib.load(Relaxed)));
                counted = Instant::now();
            }
            if probe.cancelled() && !asked {
                client.terminate();
                asked = true;
            }
            std::thread::sleep(SAMPLE_EVERY);
        }
    }
}

/// The server process: conlab again, or python3 with asyncio.
enum Server {
    Conlab {
        worker: Worker,
        control: Control,
    },
    Python {
        child: std::process::Child,
        control: Control,
    },
}

impl Server {
    fn start(probe: &Probe, mode: Mode, delay_ms: i64, block_ms: i64) -> Result<Server, String> {
        let (control, theirs) =
            Control::pair().map_err(|e| format!("could not make the control channel: {e}"))?;
        if mode != Mode::Python {
            let worker = children::spawn_with(
                probe,
                SERVER.id,
                "server",
                &[
                    format!("mode={}", mode.word()),
                    format!("delay_ms={delay_ms}"),
                    format!("block_ms={block_ms}"),
                ],
                Stdio::from(theirs),
                |_| {},
            )
            .map_err(|e| format!("could not start the server: {e}"))?;
            return Ok(Server::Conlab { worker, control });
        }
        let mut command = std::process::Command::new("python3");
        command
            .arg("-c")
            .arg(include_str!("../../assets/python/async_io.py"))
            .arg(delay_ms.to_string())
            .arg(block_ms.to_string())
            .stdin(Stdio::from(theirs))
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        crate::lifeline::die_with_parent(&mut command);
        let child = command.spawn().map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => "mode=python needs python3 on the PATH, and there is none here; threads, loop and loop-per-core work without it".to_string(),
            _ => format!("could not start python3: {e}"),
        })?;
        probe.emit_as(
            child.id(),
            Body::Process {
                ppid: std::process::id(),
                role: "server".into(),
            },
        );
        Ok(Server::Python { child, control })
    }

    fn pid(&self) -> u32 {
        match self {
            Server::Conlab { worker, .. } => worker.pid,
            Server::Python { child, .. } => child.id(),
        }
    }

    fn control(&self) -> &Control {
        match self {
            Server::Conlab { control, .. } | Server::Python { control, .. } => control,
        }
    }

    /// Its port and event loops once it listens; None when the run was cancelled first.
    fn wait_ready(&mut self, probe: &Probe) -> Result<Option<(u16, u32)>, String> {
        let deadline = Instant::now() + SERVER_PATIENCE;
        let waited = self
            .control()
            .recv_unless::<ServerSays>(|| probe.cancelled() || Instant::now() > deadline)?;
        match waited {
            Received::Message(ServerSays::Ready { port, loops }) => Ok(Some((port, loops))),
            Received::Nothing if probe.cancelled() => Ok(None),
            // A cancel signals the whole group: the server may die of it a moment before
            // the runner's own handler has marked the run cancelled.
            _ if probe.cancelled_within(crate::probe::CANCEL_GRACE) => Ok(None),
            other => {
                let why = self.why_gone();
                Err(format!(
                    "the server did not say it was listening ({other:?}){why}"
                ))
            }
        }
    }

    /// Asks the server to stop; its counts, if it said them.
    fn stop(&self, probe: &Probe) -> Result<Option<ServerSays>, String> {
        // Cancelled, the server had the signal too and stops by itself; or it is gone.
        if probe.cancelled() || self.control().send(&RunnerSays::Stop).is_err() {
            return Ok(None);
        }
        let deadline = Instant::now() + SERVER_PATIENCE;
        let said = self
            .control()
            .recv_unless::<ServerSays>(|| Instant::now() > deadline)?;
        match said {
            Received::Message(counts @ ServerSays::Stopped { .. }) => Ok(Some(counts)),
            _ if probe.cancelled() => Ok(None),
            other => Err(format!("the server did not stop when asked ({other:?})")),
        }
    }

    /// Python's last words on stderr, when it has exited with some.
    fn why_gone(&mut self) -> String {
        match self {
            Server::Python { child, .. } if join::has_ended(child.id()) => {
                let mut text = String::new();
                if let Some(mut err) = child.stderr.take() {
                    let _ = std::io::Read::read_to_string(&mut err, &mut text);
                }
                let last: Vec<&str> = text.trim().lines().rev().take(3).collect();
                match last.is_empty() {
                    true => String::new(),
                    false => format!(
                        ": python3 said {}",
                        last.into_iter().rev().collect::<Vec<_>>().join(" / ")
                    ),
                }
            }
            _ => String::new(),
        }
    }

    /// Waits for the server to end (asking it to, on a cancel) and says how it ended.
    fn finish(self, probe: &Probe) -> Exit {
        match self {
            Server::Conlab { worker, control } => {
                drop(control);
                join::join(worker, probe).exit
            }
            Server::Python { mut child, control } => {
                // A closed channel is a stop too.
                drop(control);
                let pid = child.id();
                // A cancelled run reports within its grace period, whatever Python is doing.
                let patience = if probe.cancelled() {
                    CANCEL_PATIENCE
                } else {
                    SERVER_PATIENCE
                };
                if !join::wait_until_ended(pid, patience) {
                    let _ = child.kill();
                }
                let exit = child.wait().map_or(Exit::KilledWithGroup, Exit::of);
                probe.emit_as(pid, Body::ProcessExit { exit });
                exit
            }
        }
    }
}

/// What the run's figures say, in both languages.
struct Verdict {
    mode: Mode,
    connections: i64,
    threads: u64,
    loops: u32,
    peak_mib: f64,
    cpu_ms: f64,
    p50_ms: f64,
    p99_ms: f64,
    delay_ms: i64,
    block_ms: i64,
    expected: u64,
    answered: u64,
    refused: u64,
    reset: u64,
}

impl Verdict {
    fn notes(&self) -> Vec<Text> {
        let mut notes = vec![self.holding(), self.answers()];
        if self.block_ms > 0 {
            notes.push(self.blocking());
        }
        notes
    }

    /// How many threads held how many connections, and what it cost.
    fn holding(&self) -> Text {
        let n = group_thousands(self.connections);
        let t = self.threads;
        let costs_en = format!(
            "peak memory {:.1} MiB, {:.0} ms of CPU",
            self.peak_mib, self.cpu_ms
        );
        let costs_zh = format!(
            "内存峰值 {:.1} MiB，CPU 时间 {:.0} ms",
            self.peak_mib, self.cpu_ms
        );
        let (en, zh) = match self.mode {
            Mode::Threads if t as i64 > self.connections => (
                format!(
                    "{n} connections took {t} OS threads, one each plus the one that accepts: every one blocked in read or sleep almost all the time, each with a stack and a kernel task of its own; {costs_en}"
                ),
                format!(
                    "{n} 个连接用了 {t} 个操作系统线程：每个连接一个，外加一个负责 accept；每个线程几乎一直阻塞在 read 或 sleep 上，各有自己的栈和内核任务；{costs_zh}"
                ),
            ),
            Mode::Threads => (
                format!(
                    "{n} connections took at most {t} OS threads at once: some connections ended before the last ones began, and their threads with them; {costs_en}"
                ),
                format!(
                    "{n} 个连接同时最多用了 {t} 个操作系统线程：有的连接在最后一批开始前已经结束，它们的线程也随之结束；{costs_zh}"
                ),
            ),
            Mode::Loop | Mode::Python => {
                let what_en = if self.mode == Mode::Python {
                    "asyncio's event loop, each connection a coroutine"
                } else {
                    "one event loop (tokio), each connection a task"
                };
                let what_zh = if self.mode == Mode::Python {
                    "asyncio 的事件循环，每个连接一个协程"
                } else {
                    "一个事件循环（tokio），每个连接一个任务"
                };
                (
                    format!(
                        "{n} connections held by {t} OS thread{}: {what_en}, waiting on every socket at once (epoll) and running whichever is ready; {costs_en}",
                        if t == 1 { "" } else { "s" }
                    ),
                    format!(
                        "{n} 个连接只用了 {t} 个操作系统线程：{what_zh}，同时等待所有套接字（epoll），哪个就绪就处理哪个；{costs_zh}"
                    ),
                )
            }
            Mode::LoopPerCore => (
                format!(
                    "{n} connections held by {t} OS threads, one event loop per core ({} loops), each with its own listening socket on one port (SO_REUSEPORT), the way nginx runs a worker per core; {costs_en}",
                    self.loops
                ),
                format!(
                    "{n} 个连接由 {t} 个操作系统线程保持：每核一个事件循环（共 {} 个），各有自己的监听套接字，共用一个端口（SO_REUSEPORT），正是 Nginx 每核一个 worker 的做法；{costs_zh}",
                    self.loops
                ),
            ),
        };
        Text::new(en, zh)
    }

    /// Whether every request was answered, and how long answers took against the delay.
    fn answers(&self) -> Text {
        let waited = self.p50_ms - self.delay_ms as f64;
        if self.answered == self.expected {
            Text::new(
                format!(
                    "every request answered, {} of {}: median {:.1} ms, p99 {:.1} ms, for a {} ms service delay ({:.1} ms over it at the median: turn-around in the server and the load generator)",
                    group_thousands(self.answered as i64),
                    group_thousands(self.expected as i64),
                    self.p50_ms,
                    self.p99_ms,
                    self.delay_ms,
                    waited
                ),
                format!(
                    "所有请求都得到了回答（{} / {}）：中位数 {:.1} ms，p99 {:.1} ms，服务延迟为 {} ms（中位数多出 {:.1} ms：服务器和负载程序的周转）",
                    group_thousands(self.answered as i64),
                    group_thousands(self.expected as i64),
                    self.p50_ms,
                    self.p99_ms,
                    self.delay_ms,
                    waited
                ),
            )
        } else {
            let lost = self.expected - self.answered;
            Text::new(
                format!(
                    "{} of {} requests were not answered: {} connections refused, {} broke off",
                    group_thousands(lost as i64),
                    group_thousands(self.expected as i64),
                    self.refused,
                    self.reset
                ),
                format!(
                    "{} 个请求（共 {} 个）没有得到回答：{} 个连接被拒绝，{} 个中途断开",
                    group_thousands(lost as i64),
                    group_thousands(self.expected as i64),
                    self.refused,
                    self.reset
                ),
            )
        }
    }

    /// What one blocking handler did to everyone else's latency.
    fn blocking(&self) -> Text {
        let bound = (self.delay_ms + self.block_ms) as f64;
        let above = self.p99_ms > bound;
        let (en, zh) = match (self.mode, above) {
            (Mode::Threads, false) => (
                format!(
                    "one handler blocked {} ms before each answer, and it held only its own thread: p99 stayed {:.1} ms, under delay + block = {bound:.0} ms",
                    self.block_ms, self.p99_ms
                ),
                format!(
                    "一个处理函数每次回答前阻塞 {} ms，但它只占住自己的线程：p99 仍是 {:.1} ms，低于延迟 + 阻塞 = {bound:.0} ms",
                    self.block_ms, self.p99_ms
                ),
            ),
            (_, true) => (
                format!(
                    "one handler blocked {} ms before each answer, and p99 rose to {:.1} ms, above delay + block = {bound:.0} ms: while it slept nothing else on its loop ran, so requests waited for the block and then for their own delay",
                    self.block_ms, self.p99_ms
                ),
                format!(
                    "一个处理函数每次回答前阻塞 {} ms，p99 升到 {:.1} ms，超过延迟 + 阻塞 = {bound:.0} ms：它睡着时同一个事件循环上的其他任务都不能运行，请求要先等阻塞结束，再等自己的延迟",
                    self.block_ms, self.p99_ms
                ),
            ),
            (_, false) => (
                format!(
                    "one handler blocked {} ms before each answer, yet p99 stayed {:.1} ms, under delay + block = {bound:.0} ms: too few requests met a block to move the 99th percentile (more connections or requests would)",
                    self.block_ms, self.p99_ms
                ),
                format!(
                    "一个处理函数每次回答前阻塞 {} ms，但 p99 仍是 {:.1} ms，低于延迟 + 阻塞 = {bound:.0} ms：碰上阻塞的请求太少，不足以影响第 99 百分位（增加连接或请求数才看得出）",
                    self.block_ms, self.p99_ms
                ),
            ),
        };
        Text::new(en, zh)
    }
}
