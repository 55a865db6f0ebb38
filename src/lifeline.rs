//! Ties a child process's life to its parent's: whatever conlab starts dies with it.

use nix::sys::signal::{SigSet, SigmaskHow, Signal, sigprocmask};
use std::os::unix::process::CommandExt;
use std::process::Command;

/// A command that runs this very build of conlab again. `/proc/self/exe` still works after the
/// file on disk was replaced (a rebuild, an upgrade), when `current_exe()` names a deleted file.
/// The kernel then calls the child `exe`; runners rename themselves (see `run_in_runner`).
pub fn conlab_again() -> std::io::Result<Command> {
    let own = std::path::Path::new("/proc/self/exe");
    let mut command = if own.exists() {
        Command::new(own)
    } else {
        Command::new(std::env::current_exe()?)
    };
    // ps shows argv[0]: say conlab, not /proc/self/exe.
    command.arg0("conlab");
    Ok(command)
}

/// Makes the child get SIGKILL when the thread that spawns it dies (`PR_SET_PDEATHSIG`), and
/// clears the signal mask it would inherit (the dashboard blocks signals for its signal thread).
/// Spawn from a thread that lives as long as the parent process does.
pub fn die_with_parent(command: &mut Command) {
    let parent = std::process::id() as i32;
    // SAFETY: only async-signal-safe calls (sigprocmask, prctl, getppid, _exit) run in the child.
    unsafe {
        command.pre_exec(move || {
            let _ = sigprocmask(SigmaskHow::SIG_SETMASK, Some(&SigSet::empty()), None);
            nix::sys::prctl::set_pdeathsig(Signal::SIGKILL)?;
            if nix::unistd::getppid().as_raw() != parent {
                nix::libc::_exit(1); // The parent died before prctl took effect.
            }
            Ok(())
        });
    }
}

/// Makes this process the one that orphaned descendants are re-parented to, instead of PID 1
/// (which, in a container, may never reap them). Call [`reap_orphans`] after a runner ends.
pub fn adopt_orphans() {
    let _ = nix::sys::prctl::set_child_subreaper(true);
}

/// Reaps `pid`, a child of this process, if it has ended, without waiting: how it ended
/// (`code 0`, `signal 9 (SIGKILL)`), or `None` while it runs (or when it is not ours).
pub fn reap_if_ended(pid: u32) -> Option<String> {
    use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
    use std::os::unix::process::ExitStatusExt;
    let pid = nix::unistd::Pid::from_raw(i32::try_from(pid).ok()?);
    // As the kernel encodes a wait status: exit code in the second byte, or the signal.
    let raw = match waitpid(pid, Some(WaitPidFlag::WNOHANG)).ok()? {
        WaitStatus::Exited(_, code) => (code & 0xff) << 8,
        WaitStatus::Signaled(_, signal, _) => signal as i32,
        _ => return None,
    };
    Some(crate::runner::describe_exit(
        std::process::ExitStatus::from_raw(raw),
    ))
}

/// Reaps this process's children that belong to process group `group` — a dead runner's
/// descendants, re-parented here — until none is left or `within` has passed. Other children
/// (live runners, whose own threads wait for them) are never touched.
pub fn reap_orphans(group: i32, within: std::time::Duration) {
    use nix::sys::wait::{WaitPidFlag, waitpid};
    let deadline = std::time::Instant::now() + within;
    loop {
        let orphans = members_among_children(group);
        for &pid in &orphans {
            let _ = waitpid(nix::unistd::Pid::from_raw(pid), Some(WaitPidFlag::WNOHANG));
        }
        if orphans.is_empty() || std::time::Instant::now() >= deadline {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

/// Children of this process in process group `group` (its leader, the runner, is reaped).
fn members_among_children(group: i32) -> Vec<i32> {
    crate::procfs::adopted_from(&[group as u32])
        .into_iter()
        .map(|pid| pid as i32)
        .collect()
}
