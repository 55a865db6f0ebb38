//! The embedded master: the tutorial's task queue and result queue behind a TCP port, with
//! leases so nothing is lost. One thread per connection: workers are few and each blocks on
//! its own socket, and every read has a deadline, so a slow or silent client holds only its
//! own thread — never the accept loop or another worker. At most [`MAX_HANDSHAKES`]
//! connections may be unauthenticated at once; more are closed at once, which bounds the
//! threads a flood of junk can make.

use super::frame::Deadline;
use super::handshake::{self, AuthKey, Refusal};
use super::wire::{self, FromMaster, FromWorker};
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::io::BufReader;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsFd;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Connections allowed to be in their handshake at the same time.
pub const MAX_HANDSHAKES: usize = 128;
/// How often waiting threads look whether the master is closing.
const TICK: Duration = Duration::from_millis(50);
/// Once a message has begun, the rest of it must arrive within this.
const MESSAGE_DEADLINE: Duration = Duration::from_secs(5);
/// How often a connection whose worker asked for a task looks for one put back on the queue
/// (nothing queued, some leased elsewhere) while it also listens to its worker.
const WANT_TICK: Duration = Duration::from_millis(5);

/// What the master hands out: the tutorial's numbers to square, how long each takes, and
/// how long a worker may hold a task before it is taken back.
#[derive(Debug, Clone)]
pub struct Plan {
    pub numbers: Vec<i64>,
    pub work_ms: u64,
    pub lease: Duration,
    /// A task whose lease is lost this many times (its worker died, hung or left) is set
    /// aside in the dead-letter list instead of going back to the queue.
    pub max_attempts: u32,
}

/// Something the master saw, for whoever watches it (the run's trace, or a terminal).
#[derive(Debug, Clone)]
pub enum Happening {
    Refused {
        addr: SocketAddr,
        why: Refusal,
    },
    /// Turned away before its handshake: too many connections were in theirs.
    Busy {
        addr: SocketAddr,
    },
    Accepted {
        conn: u64,
        addr: SocketAddr,
    },
    Joined {
        conn: u64,
        addr: SocketAddr,
        pid: u32,
        host: String,
    },
    Leased {
        task: u64,
        n: i64,
        conn: u64,
        pid: u32,
        attempt: u32,
    },
    Done {
        task: u64,
        pid: u32,
        value: String,
    },
    Duplicate {
        task: u64,
        pid: u32,
    },
    Expired {
        task: u64,
        pid: u32,
    },
    Lost {
        task: u64,
        pid: u32,
    },
    Retried {
        task: u64,
    },
    DeadLetter {
        task: u64,
        attempts: u32,
    },
    Left {
        conn: u64,
        pid: u32,
        addr: SocketAddr,
    },
}

pub trait Watcher: Send + Sync {
    fn saw(&self, happening: Happening);
}

/// What the master counted, for the report.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    pub accepted: u64,
    pub refused_wrong_key: u64,
    pub refused_oversize: u64,
    pub refused_garbage: u64,
    pub timed_out: u64,
    pub refused_busy: u64,
    pub leases_expired: u64,
    pub leases_lost: u64,
    pub retried: u64,
    pub duplicates: u64,
    pub bad_messages: u64,
}

/// A connected worker as the dashboard lists it.
#[derive(Debug, Clone)]
pub struct WorkerView {
    pub conn: u64,
    pub addr: SocketAddr,
    pub pid: Option<u32>,
    pub done: u64,
    /// The tasks it holds, in the order it works on them: the first is its current one,
    /// the rest wait in its hands (see [`wire::PREFETCH`]).
    pub holding: Vec<u64>,
    /// What is left of its lease on the task it works on.
    pub lease_left_ms: Option<u64>,
}

/// The master's state at one moment.
#[derive(Debug, Clone)]
pub struct View {
    pub queued: usize,
    pub leased: usize,
    pub results: usize,
    pub dead: usize,
    pub workers: Vec<WorkerView>,
    pub stats: Stats,
}

/// What the master ends with.
#[derive(Debug)]
pub struct Outcome {
    pub results: BTreeMap<u64, String>,
    pub dead: Vec<u64>,
    pub stats: Stats,
}

struct Lease {
    conn: u64,
    /// When it runs out; `None` while the task waits behind another in its worker's hands:
    /// its clock starts when the worker can start it.
    until: Option<Instant>,
}

struct Conn {
    addr: SocketAddr,
    pid: u32,
    done: u64,
    /// In the order handed out, which is the order the worker works them in.
    holding: VecDeque<u64>,
}

struct State {
    queue: VecDeque<u64>,
    leases: HashMap<u64, Lease>,
    /// Leases lost, per task.
    failures: Vec<u32>,
    results: BTreeMap<u64, String>,
    dead: Vec<u64>,
    conns: BTreeMap<u64, Conn>,
    stats: Stats,
    closing: bool,
}

impl State {
    fn finished(&self, tasks: usize) -> bool {
        self.results.len() + self.dead.len() >= tasks
    }

    /// `task` leaves `conn`'s hands; the task it works on next starts its lease's clock.
    fn let_go(&mut self, conn: u64, task: u64, lease: Duration) {
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        c.holding.retain(|&t| t != task);
        if let Some(&next) = c.holding.front()
            && let Some(l) = self.leases.get_mut(&next)
            && l.conn == conn
            && l.until.is_none()
        {
            l.until = Some(Instant::now() + lease);
        }
    }
}

struct Shared {
    plan: Plan,
    key: AuthKey,
    watcher: Arc<dyn Watcher>,
    state: Mutex<State>,
    changed: Condvar,
    handshaking: AtomicUsize,
    next_conn: AtomicU64,
    threads: Mutex<Vec<JoinHandle<()>>>,
}

pub struct Master {
    shared: Arc<Shared>,
    addr: SocketAddr,
    threads: Vec<JoinHandle<()>>,
}

/// Whether `addr` is reachable only from this machine.
pub fn is_loopback(addr: &SocketAddr) -> bool {
    addr.ip().is_loopback()
}

/// What the warning for a master reachable from other machines says.
pub fn exposure_warning(addr: &str) -> String {
    format!(
        "warning: the master listens on {addr}, not on loopback: anyone who can reach this port can try the authkey, and whoever holds it can take tasks and send results; bind 127.0.0.1 unless workers on other machines need it"
    )
}

impl Master {
    /// Binds `bind` and starts serving `plan`'s tasks to whoever proves it holds `key`.
    pub fn start(
        bind: &str,
        key: AuthKey,
        plan: Plan,
        watcher: Arc<dyn Watcher>,
    ) -> Result<Master, String> {
        let listener =
            TcpListener::bind(bind).map_err(|e| format!("cannot listen on {bind}: {e}"))?;
        let addr = listener
            .local_addr()
            .map_err(|e| format!("no local address: {e}"))?;
        let tasks = plan.numbers.len();
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                queue: (0..tasks as u64).collect(),
                leases: HashMap::new(),
                failures: vec![0; tasks],
                results: BTreeMap::new(),
                dead: Vec::new(),
                conns: BTreeMap::new(),
                stats: Stats::default(),
                closing: false,
            }),
            plan,
            key,
            watcher,
            changed: Condvar::new(),
            handshaking: AtomicUsize::new(0),
            next_conn: AtomicU64::new(1),
            threads: Mutex::new(Vec::new()),
        });
        let spawn = |name: &str, f: Box<dyn FnOnce() + Send>| {
            std::thread::Builder::new()
                .name(name.into())
                .spawn(f)
                .map_err(|e| format!("cannot start the master's {name} thread: {e}"))
        };
        let accept = {
            let shared = shared.clone();
            spawn("accept", Box::new(move || accept_loop(&shared, listener)))?
        };
        let leases = {
            let shared = shared.clone();
            spawn("leases", Box::new(move || watch_leases(&shared)))?
        };
        Ok(Master {
            shared,
            addr,
            threads: vec![accept, leases],
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Every task has a result or is in the dead-letter list.
    pub fn finished(&self) -> bool {
        self.shared.lock().finished(self.shared.plan.numbers.len())
    }

    /// Waits until every task is settled, a lease is lost, or `timeout` passes.
    pub fn wait_for_change(&self, timeout: Duration) {
        let state = self.shared.lock();
        let _ = self.shared.changed.wait_timeout(state, timeout);
    }

    pub fn view(&self) -> View {
        let s = self.shared.lock();
        let now = Instant::now();
        View {
            queued: s.queue.len(),
            leased: s.leases.len(),
            results: s.results.len(),
            dead: s.dead.len(),
            workers: s
                .conns
                .iter()
                .map(|(&conn, c)| WorkerView {
                    conn,
                    addr: c.addr,
                    pid: (c.pid != 0).then_some(c.pid),
                    done: c.done,
                    holding: c.holding.iter().copied().collect(),
                    lease_left_ms: c.holding.front().and_then(|t| {
                        let lease = s.leases.get(t).filter(|l| l.conn == conn)?;
                        Some(lease.until?.saturating_duration_since(now).as_millis() as u64)
                    }),
                })
                .collect(),
            stats: s.stats.clone(),
        }
    }

    /// Stops taking connections, tells each worker it is finished at its next request,
    /// waits for every thread, and returns the results.
    pub fn shut_down(mut self) -> Outcome {
        self.shared.lock().closing = true;
        self.shared.changed.notify_all();
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
        let connections = std::mem::take(
            &mut *self
                .shared
                .threads
                .lock()
                .unwrap_or_else(|p| p.into_inner()),
        );
        for t in connections {
            let _ = t.join();
        }
        let mut s = self.shared.lock();
        Outcome {
            results: std::mem::take(&mut s.results),
            dead: std::mem::take(&mut s.dead),
            stats: s.stats.clone(),
        }
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A connection thread that panicked leaves consistent state: every change is one step.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn closing(&self) -> bool {
        self.lock().closing
    }

    /// The next task for `conn`; `Finished` once every task is settled or the master closes;
    /// `None` while none is queued but some are leased (one may come back).
    fn try_lease(&self, conn: u64) -> Option<FromMaster> {
        let tasks = self.plan.numbers.len();
        let mut s = self.lock();
        if s.closing || s.finished(tasks) {
            return Some(FromMaster::Finished);
        }
        let task = s.queue.pop_front()?;
        let attempt = s.failures[task as usize] + 1;
        let (pid, first) = match s.conns.get_mut(&conn) {
            Some(c) => {
                c.holding.push_back(task);
                (c.pid, c.holding.len() == 1)
            }
            None => (0, true),
        };
        // A task behind another in the worker's hands starts its clock when it can start.
        let until = first.then(|| Instant::now() + self.plan.lease);
        s.leases.insert(task, Lease { conn, until });
        let n = self.plan.numbers[task as usize];
        drop(s);
        self.watcher.saw(Happening::Leased {
            task,
            n,
            conn,
            pid,
            attempt,
        });
        Some(FromMaster::Task {
            task,
            n,
            work_ms: self.plan.work_ms,
            lease_ms: self.plan.lease.as_millis() as u64,
        })
    }

    /// A result from `conn`: kept if it is the task's first, dropped as a duplicate if not.
    fn take_result(&self, conn: u64, task: u64, value: String) {
        let mut s = self.lock();
        let pid = s.conns.get(&conn).map_or(0, |c| c.pid);
        if let Some(c) = s.conns.get_mut(&conn) {
            c.done += 1;
        }
        s.let_go(conn, task, self.plan.lease);
        if s.results.contains_key(&task) {
            s.stats.duplicates += 1;
            drop(s);
            self.watcher.saw(Happening::Duplicate { task, pid });
            return;
        }
        match s.leases.remove(&task) {
            // The usual case: its own lease, so the task is neither queued nor set aside.
            Some(lease) if lease.conn == conn => {}
            other => {
                // Whoever else holds it now will have its result dropped as a duplicate; a
                // task taken back and queued again (or set aside) is done after all.
                if let Some(lease) = other {
                    s.let_go(lease.conn, task, self.plan.lease);
                }
                s.queue.retain(|&t| t != task);
                s.dead.retain(|&t| t != task);
            }
        }
        s.results.insert(task, value.clone());
        let finished = s.finished(self.plan.numbers.len());
        drop(s);
        // Whoever waits for a change waits for the end (or a lease lost): waking it for
        // every result would cost the workers a core's share.
        if finished {
            self.changed.notify_all();
        }
        self.watcher.saw(Happening::Done { task, pid, value });
    }

    /// `conn` no longer holds `task` (its lease ran out, or it left): back to the queue, or,
    /// after `max_attempts` losses, into the dead-letter list.
    fn lose(&self, s: &mut State, task: u64, conn: u64, expired: bool) -> Vec<Happening> {
        if s.leases.get(&task).is_none_or(|l| l.conn != conn) {
            return Vec::new();
        }
        s.leases.remove(&task);
        s.let_go(conn, task, self.plan.lease);
        let pid = s.conns.get(&conn).map_or(0, |c| c.pid);
        let mut said = Vec::new();
        if expired {
            s.stats.leases_expired += 1;
            said.push(Happening::Expired { task, pid });
        } else {
            s.stats.leases_lost += 1;
            said.push(Happening::Lost { task, pid });
        }
        let failures = &mut s.failures[task as usize];
        *failures += 1;
        if *failures >= self.plan.max_attempts {
            let attempts = *failures;
            s.dead.push(task);
            said.push(Happening::DeadLetter { task, attempts });
        } else {
            s.stats.retried += 1;
            // First in line again: it has waited longest.
            s.queue.push_front(task);
            said.push(Happening::Retried { task });
        }
        said
    }

    fn tell(&self, said: Vec<Happening>) {
        if !said.is_empty() {
            self.changed.notify_all();
        }
        for h in said {
            self.watcher.saw(h);
        }
    }
}

fn accept_loop(shared: &Arc<Shared>, listener: TcpListener) {
    if listener.set_nonblocking(true).is_err() {
        return;
    }
    while !shared.closing() {
        let mut fds = [PollFd::new(listener.as_fd(), PollFlags::POLLIN)];
        if poll(&mut fds, PollTimeout::from(TICK.as_millis() as u16)).unwrap_or(0) <= 0 {
            continue;
        }
        let Ok((stream, addr)) = listener.accept() else {
            continue;
        };
        if shared.handshaking.load(Ordering::SeqCst) >= MAX_HANDSHAKES {
            shared.lock().stats.refused_busy += 1;
            shared.watcher.saw(Happening::Busy { addr });
            continue;
        }
        shared.handshaking.fetch_add(1, Ordering::SeqCst);
        let for_thread = shared.clone();
        let spawned = std::thread::Builder::new()
            .name("connection".into())
            .spawn(move || serve_connection(&for_thread, stream, addr));
        let mut threads = shared.threads.lock().unwrap_or_else(|p| p.into_inner());
        threads.retain(|t| !t.is_finished());
        match spawned {
            Ok(t) => threads.push(t),
            Err(_) => {
                shared.handshaking.fetch_sub(1, Ordering::SeqCst);
            }
        }
    }
}

fn watch_leases(shared: &Arc<Shared>) {
    while !shared.closing() {
        std::thread::sleep(TICK / 2);
        let now = Instant::now();
        let mut s = shared.lock();
        let expired: Vec<(u64, u64)> = s
            .leases
            .iter()
            .filter(|(_, l)| l.until.is_some_and(|u| u <= now))
            .map(|(&t, l)| (t, l.conn))
            .collect();
        let mut said = Vec::new();
        for (task, conn) in expired {
            said.extend(shared.lose(&mut s, task, conn, true));
        }
        drop(s);
        shared.tell(said);
    }
}

/// Waits until `stream` has something to read, or `within` passes.
fn readable(stream: &TcpStream, within: Duration) -> bool {
    let mut fds = [PollFd::new(stream.as_fd(), PollFlags::POLLIN)];
    poll(&mut fds, PollTimeout::from(within.as_millis() as u16)).unwrap_or(0) > 0
}

fn serve_connection(shared: &Arc<Shared>, stream: TcpStream, addr: SocketAddr) {
    let _ = stream.set_nodelay(true);
    let shook = handshake::serve(&stream, &shared.key, handshake::DEADLINE);
    shared.handshaking.fetch_sub(1, Ordering::SeqCst);
    if let Err(why) = shook {
        {
            let mut s = shared.lock();
            let counter = match why {
                Refusal::WrongKey => &mut s.stats.refused_wrong_key,
                Refusal::TimedOut => &mut s.stats.timed_out,
                Refusal::Oversize => &mut s.stats.refused_oversize,
                Refusal::Garbage => &mut s.stats.refused_garbage,
            };
            *counter += 1;
        }
        shared.watcher.saw(Happening::Refused { addr, why });
        return;
    }
    let conn = shared.next_conn.fetch_add(1, Ordering::Relaxed);
    {
        let mut s = shared.lock();
        s.stats.accepted += 1;
        s.conns.insert(
            conn,
            Conn {
                addr,
                pid: 0,
                done: 0,
                holding: VecDeque::new(),
            },
        );
    }
    shared.watcher.saw(Happening::Accepted { conn, addr });
    converse(shared, &stream, conn, addr);
    let mut s = shared.lock();
    let held: Vec<u64> = s
        .conns
        .get(&conn)
        .map(|c| c.holding.iter().copied().collect())
        .unwrap_or_default();
    let mut said = Vec::new();
    for task in held {
        said.extend(shared.lose(&mut s, task, conn, false));
    }
    let pid = s.conns.remove(&conn).map_or(0, |c| c.pid);
    drop(s);
    shared.tell(said);
    shared.watcher.saw(Happening::Left { conn, pid, addr });
}

/// Answers one authenticated worker until it leaves, misbehaves, or is told it is finished.
/// Its requests for tasks are answered as tasks come, while its results are still read: a
/// worker holding a task and asking for the next must never wait for one behind the other.
fn converse(shared: &Arc<Shared>, stream: &TcpStream, conn: u64, addr: SocketAddr) {
    // Buffered: a worker's messages that arrive together are read with one read(2).
    let mut reader = BufReader::new(Deadline::new(stream, MESSAGE_DEADLINE));
    let mut wanted = 0usize;
    loop {
        while wanted > 0 {
            let Some(reply) = shared.try_lease(conn) else {
                break;
            };
            wanted -= 1;
            let finished = reply == FromMaster::Finished;
            if wire::send(stream, &reply).is_err() || finished {
                return;
            }
        }
        let tick = if wanted > 0 { WANT_TICK } else { TICK };
        if reader.buffer().is_empty() && !readable(stream, tick) {
            if shared.closing() && wanted == 0 {
                return;
            }
            continue;
        }
        reader.get_mut().renew(MESSAGE_DEADLINE);
        match wire::recv::<FromWorker>(&mut reader) {
            Ok(FromWorker::Hello { pid, host }) => {
                if let Some(c) = shared.lock().conns.get_mut(&conn) {
                    c.pid = pid;
                }
                shared.watcher.saw(Happening::Joined {
                    conn,
                    addr,
                    pid,
                    host: crate::text_safe::printable(&host)
                        .chars()
                        .take(64)
                        .collect(),
                });
                continue;
            }
            Ok(FromWorker::Get) => {}
            Ok(FromWorker::Result { task, value }) => {
                if task >= shared.plan.numbers.len() as u64 {
                    shared.lock().stats.bad_messages += 1;
                    return;
                }
                shared.take_result(conn, task, value);
            }
            Err(wire::WireError::Frame(super::frame::FrameError::Closed)) => return,
            Err(_) => {
                shared.lock().stats.bad_messages += 1;
                return;
            }
        }
        // A result asks for the next task, as a get does; no worker holds more than its
        // share, or one could take the whole queue and sit on it.
        wanted += 1;
        let held = shared
            .lock()
            .conns
            .get(&conn)
            .map_or(0, |c| c.holding.len());
        if held + wanted > wire::PREFETCH {
            shared.lock().stats.bad_messages += 1;
            return;
        }
    }
}
