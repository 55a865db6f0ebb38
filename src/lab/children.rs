//! Child processes of a runner, started the "spawn" way: the runner already has threads, so
//! instead of `fork()` it re-executes conlab (`conlab run <scenario> --events --role <role>`)
//! with the child's parameters serialized on the command line. The child's process and log
//! events are relayed into the runner's own event stream; its report comes back to the runner.

use crate::event::{Body, Event};
use crate::exit::Exit;
use crate::probe::Probe;
use crate::report::Report;
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
    pub exit: Exit,
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
        .stderr(Stdio::inherit())
        .env(crate::probe::RUN_EPOCH_VAR, probe.epoch_ns().to_string());
    crate::lifeline::conlab_dies_with_parent(&mut command);
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
        .spawn(move || {
            relay(
                stdout,
                pid,
                &mut |line| relay_probe.forward(line),
                &mut watch,
            )
        })?;
    Ok(Worker {
        child,
        pid,
        relay: Some(relay),
    })
}

/// Forwards the child's process and log events (each line to `forward`); keeps its report for
/// the parent.
fn relay(
    stdout: impl io::Read,
    pid: u32,
    forward: &mut dyn FnMut(&[u8]),
    watch: &mut dyn FnMut(&Event),
) -> Option<Report> {
    let mut report = None;
    let mut line = Vec::new();
    let mut reader = BufReader::new(stdout);
    let mut joiner = crate::event::Reassembler::default();
    loop {
        line.clear();
        if !matches!(reader.read_until(b'\n', &mut line), Ok(n) if n > 0) {
            break;
        }
        let Ok(event) = Event::decode(&line) else {
            continue;
        };
        // A line that holds a whole event goes on as it came, with no need to encode it again.
        let whole = !matches!(event.body, Body::Part { .. })
            && line.ends_with(b"\n")
            && line.len() <= crate::event::MAX_LINE;
        let Ok(Some(event)) = joiner.feed(event) else {
            continue;
        };
        watch(&event);
        match event.body {
            Body::Report { report: r } if event.pid == pid => report = Some(*r),
            // The parent announced the child when it started it.
            Body::Process { .. } if event.pid == pid => {}
            ref body if (body.is_trace() || matches!(body, Body::Log { .. })) && whole => {
                forward(&line);
            }
            // Joined from parts, which were not kept: encoded again (in parts of its own).
            ref body if body.is_trace() || matches!(body, Body::Log { .. }) => {
                for part in event.encode_lines().unwrap_or_default() {
                    forward(&part);
                }
            }
            // The child's live counters are its own business; the runner publishes totals.
            _ => {}
        }
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
        // Only a child someone else reaped has no status for us: it is gone, with its group.
        let exit = self.child.wait().map_or(Exit::KilledWithGroup, Exit::of);
        let report = self.relay.take().and_then(|r| r.join().ok()).flatten();
        probe.emit_as(self.pid, Body::ProcessExit { exit });
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{MAX_LINE, Reassembler};
    use crate::report::Metrics;

    const CHILD: u32 = 20;
    const GRANDCHILD: u32 = 21;

    fn line(pid: u32, body: Body) -> Vec<u8> {
        Event::new(1.0, pid, body).encode().unwrap()
    }

    #[test]
    fn whole_lines_go_on_as_they_came_and_parts_are_joined_then_split_again() {
        // Spaced as an encoder never would: forwarded as it is, it was not encoded again.
        let log =
            b"{ \"v\": 2, \"t_ms\": 2.5, \"pid\": 20, \"kind\": \"log\", \"text\": \"hi\" }\n";
        let grandchild = line(
            GRANDCHILD,
            Body::Process {
                ppid: CHILD,
                role: "child".into(),
            },
        );
        let long = Event::new(
            3.0,
            CHILD,
            Body::Log {
                text: "x".repeat(2 * MAX_LINE),
            },
        );
        let report = Report {
            scenario: "pool-worker".into(),
            ok: true,
            wall_ms: 1.0,
            ..Report::default()
        };
        let mut input = line(
            CHILD,
            Body::Process {
                ppid: 10,
                role: "worker".into(),
            },
        );
        input.extend_from_slice(log);
        input.extend(&grandchild);
        input.extend(line(
            CHILD,
            Body::Live {
                metrics: Metrics::default(),
            },
        ));
        input.extend(long.encode_lines().unwrap().concat());
        input.extend(b"not an event\n");
        input.extend(line(
            CHILD,
            Body::Report {
                report: Box::new(report.clone()),
            },
        ));

        let mut forwarded: Vec<Vec<u8>> = Vec::new();
        let mut watched = Vec::new();
        let kept = relay(
            &input[..],
            CHILD,
            &mut |l| forwarded.push(l.to_vec()),
            &mut |e| watched.push(e.clone()),
        );

        assert_eq!(kept, Some(report), "the report stays with the parent");
        let text = |l: &[u8]| String::from_utf8_lossy(l).into_owned();
        // The child's own announcement was the parent's to make; its log line comes first.
        assert_eq!(
            text(&forwarded[0]),
            text(log),
            "the log line, byte for byte"
        );
        assert_eq!(text(&forwarded[1]), text(&grandchild));
        let rest = &forwarded[2..];
        assert!(rest.len() > 1 && rest.iter().all(|l| l.len() <= MAX_LINE));
        let mut joiner = Reassembler::default();
        let joined: Vec<Event> = rest
            .iter()
            .filter_map(|l| joiner.feed_line(l).unwrap())
            .collect();
        assert_eq!(
            joined,
            vec![long],
            "live counters and reports are not forwarded"
        );
        assert_eq!(watched.len(), 6, "every event is watched: {watched:?}");
    }
}
