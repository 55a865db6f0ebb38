//! `conlab watch`: any program under the dashboard, or headless with a `/usr/bin/time -v`
//! style summary. It runs as a runner like every scenario (an internal one, `scenarios::watch::WATCH`), so the
//! dashboard's processes and CPU panels, cancelling and reaping all work as they do for a
//! lesson, and `--json` is the runner's report.
//!
//! - `command=...`: the runner starts the command in a process group of its own and follows it
//!   with ptrace ([`trace`]): every process and thread it ever starts, and how each ended.
//! - `pid=N`: the runner only reads `/proc` ([`attach`]): it never signals N nor its
//!   descendants, and leaves them running when it stops.

mod attach;
mod counts;
pub mod summary;
mod trace;
pub mod tutorial;

use crate::params::{ParamKind, ParamSpec, Params};
use crate::probe::Probe;
use std::path::{Path, PathBuf};

/// The scenario id a watch runs under.
pub const ID: &str = "watch";
/// The parameter holding the command line (words quoted as in a shell).
pub const COMMAND: &str = "command";
/// The parameter holding the PID to attach to (0: run the command instead).
pub const PID: &str = "pid";

/// How long a stopped program gets to end on SIGTERM before SIGKILL.
pub const TERM_GRACE: std::time::Duration = std::time::Duration::from_millis(300);

/// The longest command line a watch takes, in characters.
const COMMAND_MAX: usize = 8192;

/// A watch's parameters: a command to run, or a process to attach to.
pub const PARAMS: &[ParamSpec] = &[
    ParamSpec {
        key: COMMAND,
        kind: ParamKind::Command {
            max_len: COMMAND_MAX,
        },
        default: "true",
        help: "the program and its arguments, quoted as in a shell",
    },
    ParamSpec {
        key: PID,
        kind: ParamKind::Int {
            min: 0,
            max: i32::MAX as i64,
        },
        default: "0",
        help: "a running process to attach to, read-only (0: run the command)",
    },
];

/// The parameters that run `argv` (checked: the program exists), or the message for exit 2.
pub fn command_params(argv: &[String]) -> Result<Params, String> {
    let program = argv
        .first()
        .ok_or("name a command to watch: conlab watch -- CMD ARGS…, or conlab watch --pid PID")?;
    find_program(program)?;
    let line = crate::shell_words::join(argv);
    Params::from_assignments(PARAMS, &[format!("{COMMAND}={line}")])
}

/// The parameters that attach to `pid` (checked: it exists), or the message for exit 2.
pub fn pid_params(pid: u32) -> Result<Params, String> {
    if pid == 0 || crate::procfs::stat(pid).is_none() {
        return Err(format!("no process with PID {pid} to attach to"));
    }
    if pid == std::process::id() {
        return Err("conlab cannot watch itself".to_string());
    }
    Params::from_assignments(PARAMS, &[format!("{PID}={pid}")])
}

/// The running process a run of `scenario` attaches to, if it is a watch that attaches.
pub fn attached(scenario: &str, params: &Params) -> Option<u32> {
    let pid = (scenario == ID).then(|| params.int(PID))?;
    u32::try_from(pid).ok().filter(|&pid| pid > 0)
}

/// Where `program` is: a path as given, or the first executable of that name on `PATH`.
pub fn find_program(program: &str) -> Result<PathBuf, String> {
    use std::os::unix::fs::PermissionsExt;
    let runnable = |path: &Path| {
        path.metadata()
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    };
    let shown = crate::text_safe::quoted(program);
    if program.contains('/') {
        let path = PathBuf::from(program);
        return match runnable(&path) {
            true => Ok(path),
            false => Err(format!("{shown}: no such program (not an executable file)")),
        };
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| runnable(candidate))
        .ok_or_else(|| {
            format!(
                "{shown}: no such program on PATH ({}); give its path, or install it",
                path.to_string_lossy()
            )
        })
}

/// Watches what the run's parameters name: the process `pid` read-only, or the `command`
/// traced from its start.
pub fn summary(probe: &Probe) -> Result<summary::Summary, String> {
    let params = probe.params();
    let pid = params.int(PID);
    if pid > 0 {
        return attach::watch(probe, pid as u32);
    }
    let words = crate::shell_words::split(params.word(COMMAND))?;
    find_program(&words[0])?;
    trace::watch(probe, &words)
}
