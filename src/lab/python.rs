//! A Python script run as a child of the run, so a lesson can show what real CPython does next
//! to its own figures (one of the scripts in `assets/python/`, run with `python3 -c`): the child
//! is announced in the trace, dies with the runner, is ended (SIGTERM) when the run is
//! cancelled, is reaped, and its exit announced. Its output lines are handed over as they come.

use crate::event::Body;
use crate::exit::Exit;
use crate::probe::Probe;
use std::io::{self, BufRead, BufReader, Read};
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
    let mut stdout = String::new();
    let mut done = follow(probe, role, script, args, |line| {
        stdout.push_str(line);
        stdout.push('\n');
    })?;
    done.stdout = stdout;
    Ok(done)
}

/// As [`run`], calling `each` with every line the script prints as it prints it (its
/// `stdout` is then left empty); without python3, the message names `other_modes`, the modes
/// that need none (`threads and processes work without it`).
pub fn run_lines(
    probe: &Probe,
    script: &str,
    args: &[String],
    other_modes: &str,
    each: impl FnMut(&str),
) -> Result<Finished, String> {
    follow(probe, "python", script, args, each).map_err(|e| match e.kind() {
        io::ErrorKind::NotFound => {
            format!("mode=python needs python3 on the PATH, and there is none here; {other_modes}")
        }
        _ => format!("could not start python3: {e}"),
    })
}

fn follow(
    probe: &Probe,
    role: &str,
    script: &str,
    args: &[String],
    mut each: impl FnMut(&str),
) -> io::Result<Finished> {
    let mut command = Command::new("python3");
    command
        .arg("-c")
        .arg(script)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    crate::lifeline::die_with_parent(&mut command);
    let mut child = command.spawn()?;
    let pid = child.id();
    probe.emit_as(
        pid,
        Body::Process {
            ppid: std::process::id(),
            role: role.into(),
        },
    );
    let stdout = child.stdout.take().expect("stdout was piped");
    let mut stderr = child.stderr.take().expect("stderr was piped");
    let ended = AtomicBool::new(false);
    let (said, status) = std::thread::scope(|s| {
        // A cancelled run ends the script; reading its output then meets its end.
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
        let said = s.spawn(move || {
            let mut text = String::new();
            let _ = stderr.read_to_string(&mut text);
            text
        });
        for line in BufReader::new(stdout).lines() {
            match line {
                Ok(line) => each(&line),
                Err(_) => break,
            }
        }
        let status = child.wait();
        ended.store(true, Relaxed);
        (said.join().unwrap_or_default(), status)
    });
    // Only a child someone else reaped has no status for us: it is gone, with its group.
    let exit = status.map_or(Exit::KilledWithGroup, Exit::of);
    probe.emit_as(pid, Body::ProcessExit { exit });
    Ok(Finished {
        exit,
        stdout: String::new(),
        stderr: said.trim().to_string(),
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

    #[test]
    fn lines_come_as_printed_and_a_missing_python_names_the_other_modes() {
        let mut lines = Vec::new();
        if let Ok(done) = run_lines(&probe(), "print(1); print(2)", &[], "x", |l| {
            lines.push(l.to_string())
        }) {
            assert_eq!(lines, ["1", "2"]);
            assert_eq!(done.exit, Exit::Code(0));
        }
    }
}
