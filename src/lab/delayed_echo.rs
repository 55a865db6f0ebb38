//! A local service whose answers take time: each request (8 bytes over TCP on 127.0.0.1) is
//! sent back `delay` after it arrived. One thread serves every connection, with a timer (the
//! wait in `poll` until the next answer is due), so a caller waiting for an answer waits on
//! real IO — its thread asleep in `read`, costing no CPU — and many callers wait at once.

use nix::poll::{PollFd, PollFlags, poll};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::fd::AsFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The size of a request, and of its answer (the same bytes).
pub const MESSAGE: usize = 8;

/// The longest the service sleeps before it looks whether to stop.
const LOOK_EVERY: Duration = Duration::from_millis(50);

/// The running service.
pub struct DelayedEcho {
    port: u16,
    stop: Arc<AtomicBool>,
    answered: Arc<AtomicU64>,
    thread: Option<JoinHandle<()>>,
}

impl DelayedEcho {
    /// Listens on a free port of 127.0.0.1 and serves on a thread of its own.
    pub fn start(delay: Duration) -> io::Result<DelayedEcho> {
        let listener = TcpListener::bind(("127.0.0.1", 0))?;
        listener.set_nonblocking(true)?;
        let port = listener.local_addr()?.port();
        let stop = Arc::new(AtomicBool::new(false));
        let answered = Arc::new(AtomicU64::new(0));
        let (s, a) = (stop.clone(), answered.clone());
        let thread = std::thread::Builder::new()
            .name("io-service".into())
            .spawn(move || serve(listener, delay, &s, &a))?;
        Ok(DelayedEcho {
            port,
            stop,
            answered,
            thread: Some(thread),
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Requests answered so far.
    pub fn answered(&self) -> u64 {
        self.answered.load(Ordering::Relaxed)
    }

    /// A connection to the service, with `TCP_NODELAY` (each request is one small write).
    pub fn connect(&self) -> io::Result<TcpStream> {
        let stream = TcpStream::connect(("127.0.0.1", self.port))?;
        stream.set_nodelay(true)?;
        Ok(stream)
    }
}

impl Drop for DelayedEcho {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// One client: its socket and the part of a request read so far.
struct Client {
    stream: TcpStream,
    request: [u8; MESSAGE],
    have: usize,
}

fn serve(listener: TcpListener, delay: Duration, stop: &AtomicBool, answered: &AtomicU64) {
    let mut clients: HashMap<u64, Client> = HashMap::new();
    let mut next_id = 0u64;
    // Answers not due yet: when, to whom, what.
    let mut due: BinaryHeap<Reverse<(Instant, u64, [u8; MESSAGE])>> = BinaryHeap::new();
    while !stop.load(Ordering::Relaxed) {
        let now = Instant::now();
        while let Some(Reverse((when, id, answer))) = due.peek().copied() {
            if when > now {
                break;
            }
            due.pop();
            let Some(client) = clients.get_mut(&id) else {
                continue;
            };
            // Counted before the write, so a caller that has read its answer always finds
            // it counted; a write that fails takes it back.
            answered.fetch_add(1, Ordering::Relaxed);
            if client.stream.write_all(&answer).is_err() {
                answered.fetch_sub(1, Ordering::Relaxed);
                clients.remove(&id);
            }
        }
        let wait = due
            .peek()
            .map_or(LOOK_EVERY, |Reverse((when, _, _))| {
                when.saturating_duration_since(Instant::now())
            })
            .min(LOOK_EVERY);
        let ids: Vec<u64> = clients.keys().copied().collect();
        let readable = {
            let mut fds = vec![PollFd::new(listener.as_fd(), PollFlags::POLLIN)];
            fds.extend(
                ids.iter()
                    .map(|id| PollFd::new(clients[id].stream.as_fd(), PollFlags::POLLIN)),
            );
            // Whole milliseconds, rounded up: a timer that fires early would spin.
            let ms = wait.as_micros().div_ceil(1000).min(u128::from(u16::MAX)) as u16;
            if poll(&mut fds, ms).is_err() {
                continue; // EINTR: a signal; look again.
            }
            fds.iter()
                .map(|f| f.revents().is_some_and(|r| !r.is_empty()))
                .collect::<Vec<bool>>()
        };
        if readable[0] {
            while let Ok((stream, _)) = listener.accept() {
                if stream.set_nonblocking(true).is_ok() {
                    let _ = stream.set_nodelay(true);
                    clients.insert(
                        next_id,
                        Client {
                            stream,
                            request: [0; MESSAGE],
                            have: 0,
                        },
                    );
                    next_id += 1;
                }
            }
        }
        let arrived = Instant::now();
        for (id, _) in ids.iter().zip(&readable[1..]).filter(|(_, r)| **r) {
            let Some(client) = clients.get_mut(id) else {
                continue;
            };
            let open = read_requests(client, |request| {
                due.push(Reverse((arrived + delay, *id, request)));
            });
            if !open {
                clients.remove(id);
            }
        }
    }
}

/// Reads what `client` sent; each whole request goes to `each`. False once it closed.
fn read_requests(client: &mut Client, mut each: impl FnMut([u8; MESSAGE])) -> bool {
    loop {
        match client.stream.read(&mut client.request[client.have..]) {
            Ok(0) => return false,
            Ok(n) => {
                client.have += n;
                if client.have == MESSAGE {
                    each(client.request);
                    client.have = 0;
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return true,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_come_back_after_the_delay_and_many_wait_at_once() {
        let service = DelayedEcho::start(Duration::from_millis(40)).unwrap();
        let started = Instant::now();
        let waits: Vec<Duration> = std::thread::scope(|s| {
            let callers: Vec<_> = (0..8u64)
                .map(|i| {
                    let service = &service;
                    s.spawn(move || {
                        let mut stream = service.connect().unwrap();
                        let t = Instant::now();
                        stream.write_all(&i.to_le_bytes()).unwrap();
                        let mut answer = [0; MESSAGE];
                        stream.read_exact(&mut answer).unwrap();
                        assert_eq!(answer, i.to_le_bytes());
                        t.elapsed()
                    })
                })
                .collect();
            callers.into_iter().map(|c| c.join().unwrap()).collect()
        });
        assert!(
            waits.iter().all(|w| *w >= Duration::from_millis(39)),
            "{waits:?}"
        );
        // Eight callers waited together, not one after another (8 × 40 ms).
        assert!(
            started.elapsed() < Duration::from_millis(300),
            "{:?}",
            started.elapsed()
        );
        assert_eq!(service.answered(), 8);
    }
}
