//! A worker: connects, proves it holds the key (and makes the master prove it too), then
//! takes a task, squares its number, takes the task's work time, and hands the result back
//! with its request for the next — until the master says every task is done. It asks for
//! [`wire::PREFETCH`] tasks as it starts, so the next task is on its way (or already here)
//! while it works on this one.

use super::frame::Deadline;
use super::handshake::{self, AuthKey};
use super::wire::{self, FromMaster, FromWorker};
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use std::io::BufReader;
use std::net::{TcpStream, ToSocketAddrs};
use std::os::fd::AsFd;
use std::time::{Duration, Instant};

/// How long a worker keeps trying to reach a master that is not listening yet.
pub const CONNECT_PATIENCE: Duration = Duration::from_secs(5);

/// What a worker does around each task, for the run's trace or a terminal.
pub trait Hooks {
    /// The master's address answered and both sides proved they hold the key.
    fn joined(&mut self, _master: &str) {}
    fn started(&mut self, task: u64, n: i64);
    fn finished(&mut self, task: u64, value: &str);
    /// Asked to stop (a cancelled run).
    fn cancelled(&self) -> bool {
        false
    }
}

/// One task's work, the same whoever handed it out: `n * n`, then `work_ms` of (cancellable)
/// waiting, the tutorial's `time.sleep(1)`. `None` when the run was cancelled meanwhile.
pub fn work_on(task: u64, n: i64, work_ms: u64, hooks: &mut dyn Hooks) -> Option<String> {
    hooks.started(task, n);
    let value = wire::square(n);
    let until = Instant::now() + Duration::from_millis(work_ms);
    while Instant::now() < until {
        if hooks.cancelled() {
            return None;
        }
        std::thread::sleep(
            until
                .saturating_duration_since(Instant::now())
                .min(Duration::from_millis(20)),
        );
    }
    hooks.finished(task, &value);
    Some(value)
}

/// Connects to `master` (retrying while it is not yet listening), authenticates, and works
/// until the master has no more tasks. Returns how many tasks it completed.
pub fn run(master: &str, key: &AuthKey, hooks: &mut dyn Hooks) -> Result<u64, String> {
    let stream = connect(master, hooks)?;
    let _ = stream.set_nodelay(true);
    handshake::join(&stream, key, handshake::DEADLINE).map_err(|e| format!("{master}: {e}"))?;
    hooks.joined(master);
    // Linux's own word for this machine's name; the master lists workers by it and address.
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_default();
    let hello = FromWorker::Hello {
        pid: std::process::id(),
        host,
    };
    let lost = |e: std::io::Error| format!("{master}: the connection was lost: {e}");
    wire::send(&stream, &hello).map_err(lost)?;
    for _ in 0..wire::PREFETCH {
        wire::send(&stream, &FromWorker::Get).map_err(lost)?;
    }
    // Buffered: the next task, sent while this one was worked on, is often read with it.
    let mut reader = BufReader::new(Deadline::new(&stream, Duration::from_secs(5)));
    let mut done = 0;
    loop {
        // The master answers when it has a task for us, which may take a while.
        while reader.buffer().is_empty() {
            if hooks.cancelled() {
                return Ok(done);
            }
            let mut fds = [PollFd::new(stream.as_fd(), PollFlags::POLLIN)];
            if poll(&mut fds, PollTimeout::from(100u16)).unwrap_or(0) > 0 {
                break;
            }
        }
        reader.get_mut().renew(Duration::from_secs(5));
        let message =
            wire::recv::<FromMaster>(&mut reader).map_err(|e| format!("{master}: {e}"))?;
        let (task, n, work_ms) = match message {
            FromMaster::Finished => return Ok(done),
            FromMaster::Task {
                task, n, work_ms, ..
            } => (task, n, work_ms),
        };
        let Some(value) = work_on(task, n, work_ms, hooks) else {
            return Ok(done);
        };
        wire::send(&stream, &FromWorker::Result { task, value }).map_err(lost)?;
        done += 1;
    }
}

fn connect(master: &str, hooks: &dyn Hooks) -> Result<TcpStream, String> {
    let addrs: Vec<_> = master
        .to_socket_addrs()
        .map_err(|e| format!("{master} is not an address to connect to (HOST:PORT): {e}"))?
        .collect();
    let give_up = Instant::now() + CONNECT_PATIENCE;
    loop {
        let mut last = None;
        for addr in &addrs {
            match TcpStream::connect_timeout(addr, Duration::from_secs(2)) {
                Ok(s) => return Ok(s),
                Err(e) => last = Some(e),
            }
        }
        if Instant::now() >= give_up || hooks.cancelled() {
            let why = last.map_or_else(|| "no address".to_string(), |e| e.to_string());
            return Err(format!("cannot reach a master at {master}: {why}"));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}
