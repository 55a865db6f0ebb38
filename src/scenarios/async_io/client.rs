//! The load generator of `async-io`, a child process of the run (conlab again), so the
//! server's threads, memory and CPU time are the server's own. It is an event loop too (tokio's
//! current-thread runtime, on one thread): it opens `connections` connections to the server —
//! at most [`CONNECTING`] handshakes at once, each open once the server's welcome byte says a
//! thread or task of the server holds it — then every connection makes `requests` requests
//! one after another, each timed from the write of its 8 bytes to the read of the answer
//! (into a fixed-size histogram). Refused connections and connections that broke off are
//! counted, never retried.
//!
//! Every 100 ms it counts, as `count` events, the connections it holds open, the requests
//! answered a second and the requests answered so far: the dashboard draws the first two, the
//! runner follows the third.

use super::{CONNECTIONS, REQUESTS, WELCOME};
use crate::i18n::Text;
use crate::lab::latency::LatencyHistogram;
use crate::params::{ParamKind, ParamSpec};
use crate::probe::Probe;
use crate::report::Metrics;
use crate::scenarios::{Findings, Scenario};
use std::cell::{Cell, RefCell};
use std::net::{Ipv4Addr, SocketAddr};
use std::rc::Rc;
use std::time::{Duration, Instant};
use tokio::net::TcpStream;

pub static CLIENT: Scenario = Scenario::child(
    "async-io-client",
    "Async IO load generator",
    &[
        CONNECTIONS,
        REQUESTS,
        ParamSpec {
            key: "port",
            kind: ParamKind::Int { min: 1, max: 65535 },
            default: "1",
            help: "the server's port on 127.0.0.1",
        },
    ],
    load,
);

/// The counts the load generator sends: connections it holds open, requests answered in the
/// last 100 ms as a rate, requests answered so far.
pub const OPEN: &str = "connections_open";
pub const RATE: &str = "requests_per_sec";
pub const DONE: &str = "requests_done";

/// The trace's word for the load generator's two phases: connecting, then the requests.
pub const PHASE: &str = "phase";

/// Handshakes in flight at once: enough to open thousands of connections in well under a
/// second, few enough that the server's accept queue never overflows (a dropped handshake
/// is retried by the kernel only after a second).
pub const CONNECTING: usize = 256;

/// How often the loop that drives the load looks at the cancel flag.
const TICK: Duration = Duration::from_millis(10);
/// How often it counts.
const COUNT_EVERY: Duration = Duration::from_millis(100);

/// What the load's tasks share, on the client's one thread.
struct Load {
    addr: SocketAddr,
    connections: usize,
    /// The next connection to open.
    next: Cell<usize>,
    /// Connecting tasks still at work.
    connecting: Cell<usize>,
    opened: RefCell<Vec<TcpStream>>,
    open: Cell<u64>,
    open_max: Cell<u64>,
    refused: Cell<u64>,
    reset: Cell<u64>,
    /// The first reason a connection was refused or broke off, for the notes.
    first_refusal: RefCell<Option<String>>,
    first_reset: RefCell<Option<String>>,
    /// Conversations still going.
    talking: Cell<usize>,
    done: Cell<u64>,
    last_answer: Cell<Option<Instant>>,
    latency: RefCell<LatencyHistogram>,
}

impl Load {
    fn opened_one(&self) {
        self.open.set(self.open.get() + 1);
        self.open_max.set(self.open_max.get().max(self.open.get()));
    }
}

fn load(probe: &Probe) -> Result<Findings, String> {
    let p = probe.params();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build()
        .map_err(|e| format!("could not start the event loop: {e}"))?;
    let load = Rc::new(Load {
        addr: SocketAddr::from((Ipv4Addr::LOCALHOST, p.int("port") as u16)),
        connections: p.int("connections") as usize,
        next: Cell::new(0),
        connecting: Cell::new(0),
        opened: RefCell::new(Vec::new()),
        open: Cell::new(0),
        open_max: Cell::new(0),
        refused: Cell::new(0),
        reset: Cell::new(0),
        first_refusal: RefCell::new(None),
        first_reset: RefCell::new(None),
        talking: Cell::new(0),
        done: Cell::new(0),
        last_answer: Cell::new(None),
        latency: RefCell::new(LatencyHistogram::default()),
    });
    let requests = p.int("requests") as u64;
    let tasks = tokio::task::LocalSet::new();
    // Returning drops every task still waiting (a cancelled run) and closes its connection.
    tasks.block_on(&runtime, drive(probe, &load, requests))
}

/// Counts every [`COUNT_EVERY`] while the loop waits for its tasks.
struct Counter<'a> {
    probe: &'a Probe,
    at: Instant,
    done_at: u64,
}

impl Counter<'_> {
    /// Waits one tick; counts when it is time. False when the run is cancelled.
    async fn tick(&mut self, load: &Load) -> bool {
        tokio::time::sleep(TICK).await;
        let secs = self.at.elapsed().as_secs_f64();
        if secs >= COUNT_EVERY.as_secs_f64() {
            let done = load.done.get();
            self.probe.count(OPEN, load.open.get() as f64);
            self.probe
                .count(RATE, ((done - self.done_at) as f64 / secs).round());
            self.probe.count(DONE, done as f64);
            self.at = Instant::now();
            self.done_at = done;
        }
        !self.probe.cancelled()
    }
}

async fn drive(probe: &Probe, load: &Rc<Load>, requests: u64) -> Result<Findings, String> {
    let mut counter = Counter {
        probe,
        at: Instant::now(),
        done_at: 0,
    };
    let started = Instant::now();
    let connecting = probe.span(PHASE, format!("open {} connections", load.connections));
    let connectors = load.connections.min(CONNECTING);
    load.connecting.set(connectors);
    for _ in 0..connectors {
        tokio::task::spawn_local(connect(Rc::clone(load)));
    }
    let mut cancelled = false;
    while load.connecting.get() > 0 && !cancelled {
        cancelled = !counter.tick(load).await;
    }
    drop(connecting);
    let connect_secs = started.elapsed().as_secs_f64();

    let streams = load.opened.take();
    let talking = probe.span(
        PHASE,
        format!(
            "{requests} requests on each of {} connections",
            streams.len()
        ),
    );
    let serving = Instant::now();
    load.talking.set(streams.len());
    for stream in streams {
        tokio::task::spawn_local(converse(Rc::clone(load), stream, requests));
    }
    while load.talking.get() > 0 && !cancelled {
        cancelled = !counter.tick(load).await;
    }
    drop(talking);
    let serve_secs = load
        .last_answer
        .get()
        .unwrap_or_else(Instant::now)
        .saturating_duration_since(serving)
        .as_secs_f64();

    let mut m = Metrics::default();
    let done = load.done.get();
    m.set("connections_opened", load.open_max.get());
    m.set("connections_refused", load.refused.get());
    m.set("connections_reset", load.reset.get());
    m.set("requests_done", done);
    m.set(
        "requests_per_sec",
        if serve_secs > 0.0 {
            done as f64 / serve_secs
        } else {
            0.0
        },
    );
    if let Some(l) = load.latency.borrow().summary() {
        l.add_to(&mut m, "latency");
    }
    m.set("connect_ms", connect_secs * 1000.0);
    m.set("serve_ms", serve_secs * 1000.0);
    let mut notes = Vec::new();
    if let Some(why) = load.first_refusal.borrow().as_ref() {
        notes.push(Text::new(
            format!(
                "{} connections refused; the first: {why}",
                load.refused.get()
            ),
            format!("{} 个连接被拒绝；第一个的原因：{why}", load.refused.get()),
        ));
    }
    if let Some(why) = load.first_reset.borrow().as_ref() {
        notes.push(Text::new(
            format!(
                "{} connections broke off; the first: {why}",
                load.reset.get()
            ),
            format!("{} 个连接中途断开；第一个的原因：{why}", load.reset.get()),
        ));
    }
    Ok(Findings {
        ok: !cancelled,
        wall_ms: probe.elapsed_ms(),
        metrics: m,
        notes,
    })
}

/// Opens connections, one after another, until every one is open or refused.
async fn connect(load: Rc<Load>) {
    loop {
        let i = load.next.get();
        if i >= load.connections {
            break;
        }
        load.next.set(i + 1);
        match welcomed(load.addr).await {
            Ok(stream) => {
                load.opened_one();
                load.opened.borrow_mut().push(stream);
            }
            Err(Unwelcome::Refused(e)) => {
                load.refused.set(load.refused.get() + 1);
                load.first_refusal.borrow_mut().get_or_insert(e.to_string());
            }
            Err(Unwelcome::BrokeOff(why)) => {
                load.reset.set(load.reset.get() + 1);
                load.first_reset.borrow_mut().get_or_insert(why);
            }
        }
    }
    load.connecting.set(load.connecting.get() - 1);
}

enum Unwelcome {
    Refused(std::io::Error),
    BrokeOff(String),
}

/// Connects, then waits for the server's welcome: only then does a thread or task of the
/// server hold the connection.
async fn welcomed(addr: SocketAddr) -> Result<TcpStream, Unwelcome> {
    use tokio::io::AsyncReadExt;
    let mut stream = TcpStream::connect(addr).await.map_err(Unwelcome::Refused)?;
    let _ = stream.set_nodelay(true);
    let mut welcome = [0u8; 1];
    match stream.read_exact(&mut welcome).await {
        Ok(_) if welcome[0] == WELCOME => Ok(stream),
        Ok(_) => Err(Unwelcome::BrokeOff(
            "the server's welcome was not its welcome byte".into(),
        )),
        Err(e) => Err(Unwelcome::BrokeOff(format!(
            "no welcome from the server: {e}"
        ))),
    }
}

/// One connection's requests, one after another; the connection closes at the end.
async fn converse(load: Rc<Load>, mut stream: TcpStream, requests: u64) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut answer = [0u8; 8];
    for i in 0..requests {
        let request = i.to_le_bytes();
        let sent = Instant::now();
        let outcome = match stream.write_all(&request).await {
            Ok(()) => stream.read_exact(&mut answer).await.map(drop),
            Err(e) => Err(e),
        };
        let why = match outcome {
            Ok(()) if answer == request => None,
            Ok(()) => Some("the answer was not the request".to_string()),
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                Some("the server closed the connection".to_string())
            }
            Err(e) => Some(e.to_string()),
        };
        if let Some(why) = why {
            load.reset.set(load.reset.get() + 1);
            load.first_reset.borrow_mut().get_or_insert(why);
            break;
        }
        load.latency
            .borrow_mut()
            .record(sent.elapsed().as_nanos() as u64);
        load.done.set(load.done.get() + 1);
        load.last_answer.set(Some(Instant::now()));
    }
    drop(stream);
    load.open.set(load.open.get() - 1);
    load.talking.set(load.talking.get() - 1);
}
