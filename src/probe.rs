//! What scenario code holds to report: its parameters, cancellation, discrete events, and a
//! reporter that publishes live counters every 100 ms (hot loops never emit per iteration).

use crate::event::{Body, Event, write_line};
use crate::params::Params;
use crate::report::Metrics;
use std::os::fd::{IntoRawFd, OwnedFd};
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

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
        Probe {
            params,
            started: Instant::now(),
            cpu_at_start: cpu_time(),
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
        cpu_time().saturating_sub(self.cpu_at_start).as_secs_f64() * 1000.0
    }

    pub fn emit(&self, body: Body) {
        self.emit_as(std::process::id(), body);
    }

    /// Emits an event about another process (a child's exit, which only its parent sees).
    pub fn emit_as(&self, pid: u32, body: Body) {
        if !self.emit_events {
            return;
        }
        let event = Event::new(self.elapsed_ms(), pid, body);
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

/// User + system CPU time of this process plus its waited-for children.
pub fn cpu_time() -> Duration {
    use nix::sys::resource::{UsageWho, getrusage};
    let total = |who| {
        getrusage(who)
            .map(|u| {
                let tv = |t: nix::sys::time::TimeVal| {
                    Duration::new(t.tv_sec() as u64, t.tv_usec() as u32 * 1000)
                };
                tv(u.user_time()) + tv(u.system_time())
            })
            .unwrap_or_default()
    };
    total(UsageWho::RUSAGE_SELF) + total(UsageWho::RUSAGE_CHILDREN)
}
