//! A scenario's CPython counterpart: one of the scripts in `assets/python/`, run with
//! `python3 -c`, dying with the runner, ended (SIGTERM) when the run is cancelled, its
//! output lines handed over as they come. Without python3 the message names the modes that
//! need none.

use crate::event::Body;
use crate::exit::Exit;
use crate::probe::Probe;
use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// How the script ended, and what it said on stderr.
pub struct Ended {
    pub exit: Exit,
    pub stderr: String,
}

/// Runs `script` with `args`, calling `each` with every line it prints, as it prints it.
/// `other_modes` ends the message when there is no python3 (`threads and processes work
/// without it`).
pub fn run_lines(
    probe: &Probe,
    script: &str,
    args: &[String],
    other_modes: &str,
    mut each: impl FnMut(&str),
) -> Result<Ended, String> {
    let mut command = Command::new("python3");
    command
        .arg("-c")
        .arg(script)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    crate::lifeline::die_with_parent(&mut command);
    let mut child = command.spawn().map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => {
            format!("mode=python needs python3 on the PATH, and there is none here; {other_modes}")
        }
        _ => format!("could not start python3: {e}"),
    })?;
    let pid = child.id();
    probe.emit_as(
        pid,
        Body::Process {
            ppid: std::process::id(),
            role: "python".into(),
        },
    );
    let stdout = child.stdout.take().expect("stdout was piped");
    let mut stderr = child.stderr.take().expect("stderr was piped");
    let done = AtomicBool::new(false);
    let (said, status) = std::thread::scope(|s| {
        // A cancelled run ends the script; reading its output then meets its end.
        s.spawn(|| {
            while !done.load(Ordering::Relaxed) {
                if probe.cancelled() {
                    let _ = nix::sys::signal::kill(
                        nix::unistd::Pid::from_raw(pid as i32),
                        nix::sys::signal::Signal::SIGTERM,
                    );
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
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
        done.store(true, Ordering::Relaxed);
        (said.join().unwrap_or_default(), status)
    });
    let exit = status.map_or(Exit::KilledWithGroup, Exit::of);
    probe.emit_as(pid, Body::ProcessExit { exit });
    Ok(Ended {
        exit,
        stderr: said.trim().to_string(),
    })
}
