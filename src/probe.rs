//! What scenario code holds to report: its parameters, cancellation, discrete events, and a
//! reporter that publishes live counters every 100 ms (hot loops never emit per iteration).

use crate::event::{Body, Event, write_line};
use crate::params::Params;
use crate::report::Metrics;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// How often live counters are published.
pub const LIVE_PERIOD: Duration = Duration::from_millis(100);

/// Set from the runner's SIGTERM/SIGINT handler; scenarios poll it and end early.
static CANCELLED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_cancel_signal(_: nix::libc::c_int) {
    CANCELLED.store(true, Ordering::SeqCst);
}

/// Makes SIGTERM and SIGINT ask the scenario to stop (it then reports what it has) instead
/// of killing the runner outright. Only an atomic store happens in the handler.
pub fn install_cancel_handler() {
    use nix::sys::signal::{SaFlags, SigAction, SigHandler, SigSet, Signal, sigaction};
    let action = SigAction::new(
        SigHandler::Handler(on_cancel_signal),
        SaFlags::SA_RESTART,
        SigSet::empty(),
    );
    for signal in [Signal::SIGTERM, Signal::SIGINT] {
        // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
        let _ = unsafe { sigaction(signal, &action) };
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
