//! The server of `async-io`, a child process of the run (conlab again): it answers each 8-byte
//! request with the same 8 bytes after `delay_ms` — a timer, never a busy wait — in one of
//! three shapes: a thread per connection with blocking reads and writes, one event loop
//! (tokio's current-thread runtime) on its one thread, or one such loop per core, each with a
//! listening socket of its own on the same port (SO_REUSEPORT, the way nginx runs a worker per
//! core). With `block_ms`, the first connection's handler calls a blocking sleep before each
//! answer, as code that calls a blocking library by mistake does.
//!
//! The runner counts the server's threads, memory and CPU time from outside (`/proc`, and
//! the rusage of the reaped child), the same way for every shape and for Python; the server
//! itself only counts what it served. It talks to the runner over the control channel on its
//! stdin: `ready` with its port, then `stop`, then `stopped` with its counts. The Python server
//! (`assets/python/async_io.py`) speaks the same messages.

use super::{BLOCK, DELAY, Mode, WELCOME};
use crate::lab::control::{Control, Received};
use crate::probe::Probe;
use crate::report::Metrics;
use crate::scenarios::{Findings, Scenario};
use nix::sys::socket::{
    AddressFamily, Backlog, SockFlag, SockType, SockaddrIn, bind, listen, setsockopt, socket,
    sockopt,
};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::time::Duration;

pub static SERVER: Scenario = Scenario::child(
    "async-io-server",
    "Async IO server",
    &[
        Mode::spec("mode", Mode::Loop, "threads, loop or loop-per-core"),
        DELAY,
        BLOCK,
    ],
    serve,
);

/// What the server tells the runner (the Python server writes the same JSON).
#[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "msg", rename_all = "snake_case")]
pub enum ServerSays {
    /// Listening on 127.0.0.1:`port`, with `loops` event loops (0: a thread per connection).
    Ready { port: u16, loops: u32 },
    /// Stopped, having answered `served` requests on `accepted` connections, `blocked` of
    /// them after a blocking call.
    Stopped {
        served: u64,
        accepted: u64,
        blocked: u64,
    },
}

/// What the runner tells the server.
#[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "msg", rename_all = "snake_case")]
pub enum RunnerSays {
    Stop,
}

/// How often a loop, or the thread that accepts, looks for a stop: often enough that
/// stopping is prompt, rarely enough to cost nothing.
const STOP_CHECK: Duration = Duration::from_millis(20);

/// What every handler counts.
#[derive(Debug, Default)]
struct Tally {
    served: AtomicU64,
    accepted: AtomicU64,
    blocked: AtomicU64,
}

impl Tally {
    /// Counts a new connection; true for the one whose handler blocks (the first), when
    /// `service` blocks at all.
    fn accept(&self, service: Service) -> bool {
        let index = self.accepted.fetch_add(1, Relaxed);
        index == 0 && !service.block.is_zero()
    }
}

/// What answering a request takes.
#[derive(Debug, Clone, Copy)]
struct Service {
    delay: Duration,
    /// A blocking call the first connection's handler makes before each answer.
    block: Duration,
}

/// Whether the server should stop: asked over the control channel, or cancelled. One thread
/// reads the channel; every loop reads the flag.
struct Stopping<'a> {
    flag: AtomicBool,
    control: &'a Control,
    probe: &'a Probe,
}

impl Stopping<'_> {
    /// Looks at the channel and the cancel flag; true once it is time to stop.
    fn check(&self) -> bool {
        let asked = match self.control.recv::<RunnerSays>(Duration::ZERO) {
            Ok(Received::Nothing) => false,
            // Stop, a closed channel (the runner is gone), or one it cannot read.
            _ => true,
        };
        if asked || self.probe.cancelled() {
            self.flag.store(true, Relaxed);
        }
        self.now()
    }

    fn now(&self) -> bool {
        self.flag.load(Relaxed)
    }
}

fn serve(probe: &Probe) -> Result<Findings, String> {
    let p = probe.params();
    let mode = p.choice::<Mode>("mode")?;
    let service = Service {
        delay: Duration::from_millis(p.int("delay_ms") as u64),
        block: Duration::from_millis(p.int("block_ms") as u64),
    };
    let control = Control::of_stdin().map_err(|e| format!("no control channel: {e}"))?;
    let stopping = Stopping {
        flag: AtomicBool::new(false),
        control: &control,
        probe,
    };
    let tally = Arc::new(Tally::default());
    match mode {
        Mode::Threads => {
            let listener = listen_on(0, false)?;
            control.send(&ServerSays::Ready {
                port: port_of(&listener)?,
                loops: 0,
            })?;
            thread_per_connection(listener, service, &tally, &stopping)?;
        }
        Mode::Loop => {
            let listener = listen_on(0, false)?;
            control.send(&ServerSays::Ready {
                port: port_of(&listener)?,
                loops: 1,
            })?;
            one_loop(listener, service, &tally, &stopping, true)?;
        }
        Mode::LoopPerCore => loop_per_core(service, &tally, &stopping)?,
        Mode::Python => {
            return Err("the python server runs in python3 (assets/python/async_io.py)".into());
        }
    }
    let (served, accepted, blocked) = (
        tally.served.load(Relaxed),
        tally.accepted.load(Relaxed),
        tally.blocked.load(Relaxed),
    );
    // The runner may be gone (cancelled); the report below still says it all.
    let _ = control.send(&ServerSays::Stopped {
        served,
        accepted,
        blocked,
    });
    let mut metrics = Metrics::default();
    metrics.set("requests_served", served);
    metrics.set("connections_accepted", accepted);
    metrics.set("blocked_requests", blocked);
    Ok(Findings {
        ok: true,
        wall_ms: probe.elapsed_ms(),
        metrics,
        notes: vec![],
    })
}

/// A listening socket on 127.0.0.1:`port` (0: any free port) with the longest accept queue
/// the kernel allows, so thousands of connections arriving at once wait instead of being
/// dropped; with `reuse_port`, other sockets may listen on the same port and the kernel
/// spreads connections over them.
fn listen_on(port: u16, reuse_port: bool) -> Result<TcpListener, String> {
    let fail = |what: &str, e: nix::Error| format!("could not {what} a listening socket: {e}");
    let fd = socket(
        AddressFamily::Inet,
        SockType::Stream,
        SockFlag::SOCK_CLOEXEC,
        None,
    )
    .map_err(|e| fail("make", e))?;
    setsockopt(&fd, sockopt::ReuseAddr, &true).map_err(|e| fail("set up", e))?;
    if reuse_port {
        setsockopt(&fd, sockopt::ReusePort, &true).map_err(|e| fail("share", e))?;
    }
    bind(fd.as_raw_fd(), &SockaddrIn::new(127, 0, 0, 1, port)).map_err(|e| fail("bind", e))?;
    listen(&fd, Backlog::MAXALLOWABLE).map_err(|e| fail("listen on", e))?;
    Ok(TcpListener::from(fd))
}

fn port_of(listener: &TcpListener) -> Result<u16, String> {
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| format!("the listening socket has no address: {e}"))
}

/// One thread accepts; every connection gets a thread of its own that blocks in read, in
/// sleep and in write. Nothing waits for the connection threads: by the stop the clients
/// have closed every connection, and the process's exit ends any left.
fn thread_per_connection(
    listener: TcpListener,
    service: Service,
    tally: &Arc<Tally>,
    stopping: &Stopping,
) -> Result<(), String> {
    use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
    listener
        .set_nonblocking(true)
        .map_err(|e| format!("listening socket: {e}"))?;
    let wait = PollTimeout::try_from(STOP_CHECK.as_millis() as i32).unwrap_or(PollTimeout::ZERO);
    while !stopping.check() {
        let mut fds = [PollFd::new(
            std::os::fd::AsFd::as_fd(&listener),
            PollFlags::POLLIN,
        )];
        if !matches!(poll(&mut fds, wait), Ok(n) if n > 0) {
            continue;
        }
        loop {
            let stream = match listener.accept() {
                Ok((stream, _)) => stream,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                // Out of descriptors or memory: the connection waits in the queue meanwhile.
                Err(_) => break,
            };
            let blocks = tally.accept(service);
            let tally = Arc::clone(tally);
            let n = tally.accepted.load(Relaxed);
            // A thread that cannot be made drops its connection: the client sees it reset.
            let _ = std::thread::Builder::new()
                .name(format!("conn-{n}"))
                .spawn(move || answer_blocking(stream, blocks, service, &tally));
        }
    }
    Ok(())
}

/// A connection's thread: welcome, then read a request, wait, answer, until the client closes.
fn answer_blocking(mut stream: TcpStream, blocks: bool, service: Service, tally: &Tally) {
    // Blocking, whatever the listening socket was.
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_nodelay(true);
    if stream.write_all(&[WELCOME]).is_err() {
        return;
    }
    let mut request = [0u8; 8];
    while stream.read_exact(&mut request).is_ok() {
        if blocks {
            std::thread::sleep(service.block);
            tally.blocked.fetch_add(1, Relaxed);
        }
        std::thread::sleep(service.delay);
        if stream.write_all(&request).is_err() {
            return;
        }
        tally.served.fetch_add(1, Relaxed);
    }
}

/// One event loop on the calling thread: tokio's current-thread runtime accepts on
/// `listener` and runs every connection as a task, until it is time to stop. The loop that
/// `reads_control` also looks at the control channel; the others only at the flag.
fn one_loop(
    listener: TcpListener,
    service: Service,
    tally: &Arc<Tally>,
    stopping: &Stopping,
    reads_control: bool,
) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build()
        .map_err(|e| format!("could not start the event loop: {e}"))?;
    let tasks = tokio::task::LocalSet::new();
    listener
        .set_nonblocking(true)
        .map_err(|e| format!("listening socket: {e}"))?;
    tasks.block_on(&runtime, async {
        let listener = tokio::net::TcpListener::from_std(listener)
            .map_err(|e| format!("listening socket: {e}"))?;
        tokio::task::spawn_local(accept_all(listener, service, Arc::clone(tally)));
        loop {
            tokio::time::sleep(STOP_CHECK).await;
            let stop = if reads_control {
                stopping.check()
            } else {
                stopping.now()
            };
            if stop {
                return Ok(());
            }
        }
    })
    // Dropping the tasks and the runtime closes whatever connection is still open.
}

async fn accept_all(listener: tokio::net::TcpListener, service: Service, tally: Arc<Tally>) {
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                let blocks = tally.accept(service);
                let _ = stream.set_nodelay(true);
                tokio::task::spawn_local(answer(stream, blocks, service, Arc::clone(&tally)));
            }
            // Out of descriptors: give the connections that end a moment to free some.
            Err(_) => tokio::time::sleep(Duration::from_millis(1)).await,
        }
    }
}

/// A connection's task: welcome, then read a request, wait on a timer, answer, until the
/// client closes.
async fn answer(
    mut stream: tokio::net::TcpStream,
    blocks: bool,
    service: Service,
    tally: Arc<Tally>,
) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    if stream.write_all(&[WELCOME]).await.is_err() {
        return;
    }
    let mut request = [0u8; 8];
    while stream.read_exact(&mut request).await.is_ok() {
        if blocks {
            // The mistake the lesson shows: a blocking call inside a task stops the whole
            // loop, and every other connection on it waits.
            std::thread::sleep(service.block);
            tally.blocked.fetch_add(1, Relaxed);
        }
        tokio::time::sleep(service.delay).await;
        if stream.write_all(&request).await.is_err() {
            return;
        }
        tally.served.fetch_add(1, Relaxed);
    }
}

/// One loop per core, each on its own thread with its own listening socket on one port;
/// this thread runs the first loop itself, so the server has exactly as many threads as loops.
fn loop_per_core(service: Service, tally: &Arc<Tally>, stopping: &Stopping) -> Result<(), String> {
    let loops = crate::params::cores().max(1) as usize;
    let first = listen_on(0, true)?;
    let port = port_of(&first)?;
    let others = (1..loops)
        .map(|_| listen_on(port, true))
        .collect::<Result<Vec<_>, _>>()?;
    stopping.control.send(&ServerSays::Ready {
        port,
        loops: loops as u32,
    })?;
    std::thread::scope(|scope| {
        let mut running = Vec::new();
        for (i, listener) in others.into_iter().enumerate() {
            let thread = std::thread::Builder::new()
                .name(format!("loop-{}", i + 1))
                .spawn_scoped(scope, move || {
                    one_loop(listener, service, tally, stopping, false)
                })
                .map_err(|e| format!("could not start loop {}: {e}", i + 1))?;
            running.push(thread);
        }
        let mine = one_loop(first, service, tally, stopping, true);
        // However the first loop ended, the others stop too.
        stopping.flag.store(true, Relaxed);
        for thread in running {
            thread.join().map_err(|_| "a loop panicked".to_string())??;
        }
        mine
    })
}
