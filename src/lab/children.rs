//! Child processes of a runner, started the "spawn" way: the runner already has threads, so
//! instead of `fork()` it re-executes conlab (`conlab run <scenario> --events --role <role>`)
//! with the child's parameters serialized on the command line. The child's process and log
//! events are relayed into the runner's own event stream; its report comes back to the runner.

use crate::event::{Body, Event};
use crate::probe::Probe;
use crate::report::Report;
use crate::runner::describe_exit;
use std::io::{self, BufRead, BufReader};
use std::process::{Child, Stdio};
use std::thread::JoinHandle;

/// A running child conlab.
pub struct Worker {
    child: Child,
    pub pid: u32,
    relay: Option<JoinHandle<Option<Report>>>,
}

/// How a worker ended.
pub struct WorkerEnd {
    pub pid: u32,
    /// `code 0`, `signal 9 (SIGKILL)`.
    pub exit: String,
    /// The child's own report, if it got as far as writing one.
    pub report: Option<Report>,
}

/// Starts `conlab run <scenario> --events --role <role> --set ...` as a child of this process.
pub fn spawn(
    probe: &Probe,
    scenario: &str,
    role: &str,
    assignments: &[String],
) -> io::Result<Worker> {
    spawn_with(probe, scenario, role, assignments, Stdio::null(), |_| {})
}

/// Like [`spawn`], with the child's stdin given (a pipe or socket end to talk to it) and
/// `watch` called on every event the child writes, on the relay thread, before it is relayed.
pub fn spawn_with(
    probe: &Probe,
    scenario: &str,
    role: &str,
    assignments: &[String],
    stdin: Stdio,
    mut watch: impl FnMut(&Event) + Send + 'static,
) -> io::Result<Worker> {
    let mut command = crate::lifeline::conlab_again()?;
    command.args(["run", scenario, "--events", "--role", role]);
    for a in assignments {
        command.arg("--set").arg(a);
    }
    command
        .stdin(stdin)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    crate::lifeline::die_with_parent(&mut command);
    let mut child = command.spawn()?;
    let pid = child.id();
    // Announced here, not left to the child: a child cancelled while it starts up never
    // gets to say it existed, yet it did and must be listed with its exit.
    probe.emit_as(
        pid,
        Body::Process {
            ppid: std::process::id(),
            role: role.to_string(),
        },
    );
    let stdout = child.stdout.take().expect("stdout was piped");
    let relay_probe = probe.relay_handle();
    let relay = std::thread::Builder::new()
        .name(format!("relay-{pid}"))
        .spawn(move || relay(stdout, pid, relay_probe, &mut watch))?;
    Ok(Worker {
        child,
        pid,
        relay: Some(relay),
    })
}

/// Forwards the child's process and log events; keeps its report for the parent.
fn relay(
    stdout: impl io::Read,
    pid: u32,
    probe: crate::probe::Relay,
    watch: &mut dyn FnMut(&Event),
) -> Option<Report> {
    let mut report = None;
    let mut line = Vec::new();
    let mut reader = BufReader::new(stdout);
    let mut joiner = crate::event::Reassembler::default();
    while matches!(reader.read_until(b'\n', &mut line), Ok(n) if n > 0) {
        if let Ok(Some(event)) = joiner.feed_line(&line) {
            watch(&event);
            match event.body {
                Body::Report { report: r } if event.pid == pid => report = Some(*r),
                // The parent announced the child when it started it.
                Body::Process { .. } if event.pid == pid => {}
                Body::Process { .. } | Body::ProcessExit { .. } | Body::Log { .. } => {
                    for part in event.encode_lines().unwrap_or_default() {
                        probe.forward(&part);
                    }
                }
                // The child's live counters are its own business; the runner publishes totals.
                _ => {}
            }
        }
        line.clear();
    }
    report
}

impl Worker {
    /// Asks the child to stop early (it reports what it has).
    pub fn terminate(&self) {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(self.pid as i32),
            nix::sys::signal::Signal::SIGTERM,
        );
    }

    /// Waits for the child, announces its exit in the event stream, and returns its report.
    pub fn finish(mut self, probe: &Probe) -> WorkerEnd {
        let exit = self
            .child
            .wait()
            .map(describe_exit)
            .unwrap_or_else(|e| format!("unknown ({e})"));
        let report = self.relay.take().and_then(|r| r.join().ok()).flatten();
        probe.emit_as(self.pid, Body::ProcessExit { exit: exit.clone() });
        WorkerEnd {
            pid: self.pid,
            exit,
            report,
        }
    }
}

impl Drop for Worker {
    /// A worker dropped without `finish` (an early return) is killed and reaped, never left.
    fn drop(&mut self) {
        if self.relay.is_some() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
