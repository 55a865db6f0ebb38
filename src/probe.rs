//! What scenario code holds to report: its parameters, cancellation, discrete events, and a
//! reporter that publishes live counters every 100 ms (hot loops never emit per iteration).

use crate::event::{Body, Event, write_line};
use crate::params::Params;
use crate::report::Metrics;
use crate::rusage;
use std::os::fd::{IntoRawFd, OwnedFd};
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// How long after a child's channel closes a cancel may still be on its way to the runner.
pub const CANCEL_GRACE: Duration = Duration::from_millis(200);

/// How often live counters are published.
pub const LIVE_PERIOD: Duration = Duration::from_millis(100);

/// Set from the runner's SIGTERM/SIGINT handler; scenarios poll it and end early.
static CANCELLED: AtomicBool = AtomicBool::new(false);

/// The write end of a pipe the handler writes a byte to, so a thread can sleep until a cancel
/// signal comes instead of polling; -1 until [`install_cancel_handler`] made it.
static CANCEL_WAKE: AtomicI32 = AtomicI32::new(-1);
static CANCEL_WAITER: OnceLock<OwnedFd> = OnceLock::new();

extern "C" fn on_cancel_signal(_: nix::libc::c_int) {
    CANCELLED.store(true, Ordering::SeqCst);
    let fd = CANCEL_WAKE.load(Ordering::SeqCst);
    if fd >= 0 {
        // SAFETY: write(2) is async-signal-safe; the byte is on the stack. A full pipe (many
        // signals nobody waited for) drops the byte, which is fine: one is enough to wake.
        unsafe { nix::libc::write(fd, [1u8].as_ptr().cast(), 1) };
    }
}

/// Makes SIGTERM and SIGINT ask the scenario to stop (it then reports what it has) instead
/// of killing the runner outright. Only an atomic store and a write happen in the handler.
pub fn install_cancel_handler() {
    use nix::fcntl::OFlag;
    use nix::sys::signal::{SaFlags, SigAction, SigHandler, SigSet, Signal, sigaction};
    if let Ok((read, write)) = nix::unistd::pipe2(OFlag::O_CLOEXEC) {
        let _ = nix::fcntl::fcntl(&write, nix::fcntl::FcntlArg::F_SETFL(OFlag::O_NONBLOCK));
        if CANCEL_WAITER.set(read).is_ok() {
            CANCEL_WAKE.store(write.into_raw_fd(), Ordering::SeqCst);
        }
    }
    let action = SigAction::new(
        SigHandler::Handler(on_cancel_signal),
        SaFlags::SA_RESTART,
        SigSet::empty(),
    );
    for signal in [Signal::SIGTERM, Signal::SIGINT] {
        // SAFETY: the handler only stores to an atomic and writes to a pipe, both
        // async-signal-safe.
        let _ = unsafe { sigaction(signal, &action) };
    }
}

/// Sleeps until a cancel signal arrives (returns at once for each one that came before).
/// Returns false if [`install_cancel_handler`] has not made the wake-up pipe.
pub fn wait_for_cancel_signal() -> bool {
    let Some(fd) = CANCEL_WAITER.get() else {
        return false;
    };
    let mut byte = [0u8; 1];
    loop {
        match nix::unistd::read(fd, &mut byte) {
            Ok(_) => return true,
            Err(nix::errno::Errno::EINTR) => continue,
            Err(_) => return false,
        }
    }
}

/// How long a runner whose parent died gives its scenario to end on the cancel that the death
/// sent (see `lifeline::cancel_with_parent`) before it ends its tree and exits regardless.
const ORPHAN_GRACE: Duration = Duration::from_secs(2);

/// The thread [`watch_for_parent_death`] started, while it runs.
static PARENT_WATCH: Mutex<Option<std::thread::JoinHandle<()>>> = Mutex::new(None);
/// Tells that thread to end when it next wakes.
static PARENT_WATCH_STOP: AtomicBool = AtomicBool::new(false);

/// Starts a thread that sleeps until a cancel signal; if the parent is gone by then (the
/// signal was its death), a scenario that does not end within [`ORPHAN_GRACE`] cannot hold
/// the runner, and what it started, alive: the tree is ended and the runner exits.
pub fn watch_for_parent_death(parent: i32, ending: Duration) {
    let thread = std::thread::Builder::new()
        .name("parent-death".into())
        .spawn(move || {
            while wait_for_cancel_signal() && !PARENT_WATCH_STOP.load(Ordering::SeqCst) {
                if nix::unistd::getppid().as_raw() != parent {
                    std::thread::sleep(ORPHAN_GRACE);
                    crate::lifeline::end_descendants(ending);
                    // SAFETY: _exit ends the process without running anything of ours.
                    unsafe { nix::libc::_exit(1) };
                }
            }
        });
    if let Ok(thread) = thread {
        *PARENT_WATCH.lock().unwrap_or_else(|p| p.into_inner()) = Some(thread);
    }
}

/// The scenario's handle on the outside world.
pub struct Probe {
    params: Params,
    started: Instant,
    cpu_at_start: Duration,
    emit_events: bool,
}

impl Probe {
    /// `emit_events`: write JSON Lines events to stdout (runner mode) or stay silent.
    pub fn new(params: Params, emit_events: bool) -> Probe {
        Probe::on_clock(params, emit_events, None)
    }

    /// A probe whose clock starts at `epoch_ns` (CLOCK_MONOTONIC), the run's start, when this
    /// process is a child of the run: every process of a run then stamps its events on one
    /// scale. `None`: the clock starts now (this process is the runner).
    pub fn on_clock(params: Params, emit_events: bool, epoch_ns: Option<u64>) -> Probe {
        let now = Instant::now();
        let started = epoch_ns
            .map(|epoch| mono_ns().saturating_sub(epoch))
            .and_then(|since| now.checked_sub(Duration::from_nanos(since)))
            .unwrap_or(now);
        Probe {
            params,
            started,
            cpu_at_start: rusage::cpu_time(),
            emit_events,
        }
    }

    pub fn params(&self) -> &Params {
        &self.params
    }

    /// Whether the run was asked to stop. The handler restarts interrupted system calls
    /// (SA_RESTART), so a blocking read, recv or wait never returns early on cancel: scenario
    /// code that blocks must wait with a timeout and look here between waits.
    pub fn cancelled(&self) -> bool {
        CANCELLED.load(Ordering::Relaxed)
    }

    /// Whether the run is cancelled now or becomes so within `grace`. A cancel signals the
    /// run's whole process group: a child may die of it, and the runner see the child's
    /// channel close, a moment before the runner's own handler has set the flag.
    pub fn cancelled_within(&self, grace: Duration) -> bool {
        let until = Instant::now() + grace;
        while !self.cancelled() && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(5));
        }
        self.cancelled()
    }

    /// Ends the parent-death watch thread, so a scenario that forks does it from a process
    /// with one thread. A cancel still ends the scenario; only the watch's fallback (ending a
    /// stuck orphaned runner) is given up, which a scenario that checks for cancel never needs.
    pub fn stop_watching_parent(&self) {
        let Some(thread) = PARENT_WATCH
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
        else {
            return;
        };
        PARENT_WATCH_STOP.store(true, Ordering::SeqCst);
        let fd = CANCEL_WAKE.load(Ordering::SeqCst);
        if fd >= 0 {
            // SAFETY: a one-byte write from a buffer on the stack to a pipe we own.
            unsafe { nix::libc::write(fd, [0u8].as_ptr().cast(), 1) };
        }
        let _ = thread.join();
    }

    /// Milliseconds since the probe was made (the runner's start).
    pub fn elapsed_ms(&self) -> f64 {
        self.started.elapsed().as_secs_f64() * 1000.0
    }

    /// CPU time (user + system) of this process and its reaped children since the start.
    pub fn cpu_ms(&self) -> f64 {
        rusage::cpu_time()
            .saturating_sub(self.cpu_at_start)
            .as_secs_f64()
            * 1000.0
    }

    /// CLOCK_MONOTONIC at the run's start: what a child of the run needs to share its clock
    /// (see [`RUN_EPOCH_VAR`]).
    pub fn epoch_ns(&self) -> u64 {
        mono_ns().saturating_sub(self.started.elapsed().as_nanos() as u64)
    }

    /// A span of this process, on the calling thread: it begins now and ends when the guard is
    /// dropped. `cat` says what kind of thing it is (the writer's word, which panels select by).
    pub fn span(&self, cat: &str, name: impl Into<String>) -> Span<'_> {
        self.span_in(cat, name, None)
    }

    /// As [`Probe::span`], as one step of item `flow`'s trip between lanes.
    pub fn span_in(&self, cat: &str, name: impl Into<String>, flow: Option<u64>) -> Span<'_> {
        let span = NEXT_SPAN.fetch_add(1, Ordering::Relaxed);
        self.emit(Body::Begin {
            span,
            cat: cat.to_string(),
            name: name.into(),
            tid: Some(this_thread()),
            flow,
        });
        Span { probe: self, span }
    }

    /// A span that has already happened, on the calling thread: it began at `began_ms` (on the
    /// run's clock, see [`Probe::elapsed_ms`]) and ends now. For what is known only at its end
    /// (which item a wait was for).
    pub fn span_since(&self, began_ms: f64, cat: &str, name: impl Into<String>, flow: Option<u64>) {
        let span = NEXT_SPAN.fetch_add(1, Ordering::Relaxed);
        let me = std::process::id();
        let begin = Body::Begin {
            span,
            cat: cat.to_string(),
            name: name.into(),
            tid: Some(this_thread()),
            flow,
        };
        self.emit_at(began_ms, me, begin);
        self.emit(Body::End { span });
    }

    /// Something at this instant, on the calling thread; `flow`: the item it is a step of.
    pub fn mark(&self, cat: &str, name: impl Into<String>, flow: Option<u64>) {
        self.emit(Body::Mark {
            cat: cat.to_string(),
            name: name.into(),
            tid: Some(this_thread()),
            flow,
        });
    }

    /// A value over time (a queue's depth), as of now.
    pub fn count(&self, name: &str, value: f64) {
        self.emit(Body::Count {
            name: name.to_string(),
            value,
        });
    }

    /// Names the calling thread in the trace (its kernel TID, and `name`).
    pub fn thread_named(&self, name: impl Into<String>) {
        self.emit(Body::Thread {
            tid: this_thread(),
            name: name.into(),
        });
    }

    pub fn emit(&self, body: Body) {
        self.emit_as(std::process::id(), body);
    }

    /// Emits an event about another process (a child's exit, which only its parent sees).
    pub fn emit_as(&self, pid: u32, body: Body) {
        // Stamped and written under one lock, so events stamped now leave in time order
        // whichever thread writes them.
        let _in_order = in_order();
        self.write_event(self.elapsed_ms(), pid, body);
    }

    /// Emits an event stamped `t_ms` on the run's clock (something that is known only after it
    /// happened: when a wait that just ended began).
    fn emit_at(&self, t_ms: f64, pid: u32, body: Body) {
        let _in_order = in_order();
        self.write_event(t_ms, pid, body);
    }

    fn write_event(&self, t_ms: f64, pid: u32, body: Body) {
        if !self.emit_events {
            return;
        }
        // To the microsecond: finer is noise, and every digit is a byte of every line.
        let event = Event::new((t_ms * 1000.0).round() / 1000.0, pid, body);
        match event.encode_lines() {
            Ok(lines) => {
                // A closed pipe means the reader is gone; the run is cancelled in effect.
                if lines.iter().any(|line| write_line(line).is_err()) {
                    CANCELLED.store(true, Ordering::SeqCst);
                }
            }
            Err(e) => eprintln!("conlab: dropped an event: {e}"),
        }
    }

    /// A handle for relay threads that copy a child's event lines into this stream.
    pub fn relay_handle(&self) -> Relay {
        Relay {
            emit_events: self.emit_events,
        }
    }

    /// A line of the scenario's own output.
    pub fn log(&self, text: impl Into<String>) {
        self.emit(Body::Log { text: text.into() });
    }

    /// Runs `body` while a reporter thread publishes `snapshot` every [`LIVE_PERIOD`], and
    /// once more at the end so the last figures on screen are the final ones.
    pub fn with_live<R>(
        &self,
        snapshot: impl Fn(&mut Metrics) + Sync,
        body: impl FnOnce() -> R,
    ) -> R {
        if !self.emit_events {
            return body();
        }
        let publish = || {
            let mut metrics = Metrics::default();
            snapshot(&mut metrics);
            self.emit(Body::Live { metrics });
        };
        std::thread::scope(|scope| {
            let (stop, stopped) = crossbeam_channel::bounded::<()>(0);
            scope.spawn(move || {
                while let Err(crossbeam_channel::RecvTimeoutError::Timeout) =
                    stopped.recv_timeout(LIVE_PERIOD)
                {
                    publish();
                }
                publish();
            });
            let result = body();
            drop(stop);
            result
        })
    }
}

/// Nanoseconds on CLOCK_MONOTONIC (the clock `std::time::Instant` reads on Linux): one clock
/// for every process of the machine, so times taken in different processes of a run compare.
pub fn mono_ns() -> u64 {
    use nix::time::{ClockId, clock_gettime};
    clock_gettime(ClockId::CLOCK_MONOTONIC)
        .map(|t| t.tv_sec() as u64 * 1_000_000_000 + t.tv_nsec() as u64)
        .unwrap_or(0)
}

/// Where a runner tells its children (conlab started again) when the run began, on
/// CLOCK_MONOTONIC, so their events share its clock.
pub const RUN_EPOCH_VAR: &str = "CONLAB_RUN_EPOCH_NS";

/// Span IDs of this process (a span is known by its process and this number).
/// Held while an event is stamped and written, so events leave in time order. A blocking
/// lock, not a spinning one: waiting threads must not add CPU time or preemptions to the
/// figures of the run they belong to.
static STAMP_AND_WRITE: Mutex<()> = Mutex::new(());

/// The process whose threads take [`STAMP_AND_WRITE`]: the first to emit.
static STAMPING_PROCESS: OnceLock<u32> = OnceLock::new();

/// Held while an event is stamped and written; `None` in a process forked from the one that
/// emits, which is single-threaded and may have been forked while another thread of its
/// parent held the lock (taking it would wait for ever).
fn in_order() -> Option<std::sync::MutexGuard<'static, ()>> {
    let me = std::process::id();
    if *STAMPING_PROCESS.get_or_init(|| me) != me {
        return None;
    }
    Some(STAMP_AND_WRITE.lock().unwrap_or_else(|e| e.into_inner()))
}

static NEXT_SPAN: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

/// The calling thread's kernel TID.
fn this_thread() -> u32 {
    nix::unistd::gettid().as_raw() as u32
}

/// A span that ends when dropped (see [`Probe::span`]).
#[must_use = "the span ends when this is dropped"]
pub struct Span<'a> {
    probe: &'a Probe,
    span: u64,
}

impl Drop for Span<'_> {
    fn drop(&mut self) {
        self.probe.emit(Body::End { span: self.span });
    }
}

/// Copies complete event lines from a child into this process's stream (one write each).
#[derive(Debug, Clone, Copy)]
pub struct Relay {
    emit_events: bool,
}

impl Relay {
    pub fn forward(&self, line: &[u8]) {
        if self.emit_events && write_line(line).is_err() {
            CANCELLED.store(true, Ordering::SeqCst);
        }
    }
}
