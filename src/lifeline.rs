//! Ties a child process's life to its parent's: whatever conlab starts dies with it.

use nix::sys::signal::{SigSet, SigmaskHow, Signal, sigprocmask};
use std::os::unix::process::CommandExt;
use std::process::Command;

/// A command that runs this very build of conlab again. `/proc/self/exe` still works after the
/// file on disk was replaced (a rebuild, an upgrade), when `current_exe()` names a deleted file.
/// The kernel then calls the child `exe`; runners rename themselves (see `run_in_runner`).
pub fn conlab_again() -> std::io::Result<Command> {
    let own = std::path::Path::new("/proc/self/exe");
    if own.exists() {
        Ok(Command::new(own))
    } else {
        Ok(Command::new(std::env::current_exe()?))
    }
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
