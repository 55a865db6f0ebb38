//! A Python script run as a child of the run, so a lesson can show what real CPython does next
//! to its own figures: the child is announced in the trace, stopped when the run is
//! cancelled, reaped, and its exit announced.

use crate::event::Body;
use crate::exit::Exit;
use crate::probe::Probe;
use std::io;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::time::Duration;

/// How a script ended and what it printed.
#[derive(Debug)]
pub struct Finished {
    pub exit: Exit,
    pub stdout: String,
    pub stderr: String,
}

/// How often a wait for the script looks whether the run was cancelled.
const CANCEL_POLL: Duration = Duration::from_millis(20);

/// Runs `python3 -c <script> <args...>` as a process of the run with role `role`, and waits
/// for it; a cancel ends it with SIGTERM. An error of kind `NotFound` means there is no
/// python3 on the PATH.
pub fn run(probe: &Probe, role: &str, script: &str, args: &[String]) -> io::Result<Finished> {
    let mut command = Command::new("python3");
    command
        .arg("-c")
        .arg(script)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    crate::lifeline::die_with_parent(&mut command);
    let child = command.spawn()?;
    let pid = child.id();
    probe.emit_as(
        pid,
        Body::Process {
            ppid: std::process::id(),
            role: role.into(),
        },
    );
    let ended = AtomicBool::new(false);
    let output = std::thread::scope(|s| {
        s.spawn(|| {
            while !ended.load(Relaxed) {
                if probe.cancelled() {
                    let _ = nix::sys::signal::kill(
                        nix::unistd::Pid::from_raw(pid as i32),
                        nix::sys::signal::Signal::SIGTERM,
                    );
                    return;
                }
                std::thread::sleep(CANCEL_POLL);
            }
        });
        let output = child.wait_with_output();
        ended.store(true, Relaxed);
        output
    })?;
    let exit = Exit::of(output.status);
    probe.emit_as(pid, Body::ProcessExit { exit });
    Ok(Finished {
        exit,
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params::Params;

    fn probe() -> Probe {
        Probe::new(Params::defaults(&[]), false)
    }

    #[test]
    fn runs_a_script_with_its_arguments() {
        let Ok(done) = run(
            &probe(),
            "python",
            "import sys; print(sys.argv[1:]); sys.exit(3)",
            &["a".into(), "b c".into()],
        ) else {
            eprintln!("no python3 here: nothing to run");
            return;
        };
        assert_eq!(done.stdout.trim(), "['a', 'b c']");
        assert_eq!(done.exit, Exit::Code(3));
    }
}
