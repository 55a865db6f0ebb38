//! Ties the life of everything conlab starts to conlab's own: nothing it starts outlives it.
//!
//! Three rules make that hold whatever a scenario's programs do (change process group or
//! session, double-fork, stop themselves):
//! - every conlab process that starts others is a child subreaper ([`adopt_orphans`]), so an
//!   orphan below it is re-parented to it, never to PID 1: the whole tree stays findable;
//! - before it exits, it ends everything below it ([`end_descendants`]), except the children
//!   it waits for itself and has registered as kept ([`spawn_kept`]);
//! - its children get a signal when it dies ([`die_with_parent`]: SIGKILL for a scenario's
//!   children; [`cancel_with_parent`]: the cancel signal for a runner, which then ends its own
//!   tree before it goes).

use crate::procfs;
use nix::sys::signal::{SigSet, SigmaskHow, Signal, kill, killpg, sigprocmask};
use nix::unistd::Pid;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

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
    on_parent_death(command, Signal::SIGKILL, SigSet::empty());
}

/// As [`die_with_parent`], for a child that is conlab again (a scenario's worker): the cancel
/// signals wait, blocked, until it can handle them ([`accept_cancel_signals`]), so a cancel in
/// its first milliseconds ends it with a report instead of killing it.
pub fn conlab_dies_with_parent(command: &mut Command) {
    on_parent_death(command, Signal::SIGKILL, cancel_signals());
}

/// For a runner: it gets SIGTERM, the signal that cancels a run, when its parent dies (even by
/// SIGKILL), so it still ends what it started before it goes; and, as
/// [`conlab_dies_with_parent`], the cancel signals wait until it can handle them.
pub fn cancel_with_parent(command: &mut Command) {
    on_parent_death(command, Signal::SIGTERM, cancel_signals());
}

/// The signals that cancel a run.
fn cancel_signals() -> SigSet {
    let mut set = SigSet::empty();
    set.add(Signal::SIGTERM);
    set.add(Signal::SIGINT);
    set
}

/// Unblocks the cancel signals a conlab child started with blocked: call once their handler
/// is installed. One that came meanwhile is delivered now.
pub fn accept_cancel_signals() {
    let _ = sigprocmask(SigmaskHow::SIG_UNBLOCK, Some(&cancel_signals()), None);
}

fn on_parent_death(command: &mut Command, signal: Signal, blocked: SigSet) {
    let parent = std::process::id() as i32;
    // SAFETY: only async-signal-safe calls (sigprocmask, prctl, getppid, _exit) run in the child.
    unsafe {
        command.pre_exec(move || {
            let _ = sigprocmask(SigmaskHow::SIG_SETMASK, Some(&blocked), None);
            nix::sys::prctl::set_pdeathsig(signal)?;
            if nix::unistd::getppid().as_raw() != parent {
                nix::libc::_exit(1); // The parent died before prctl took effect.
            }
            Ok(())
        });
    }
}

/// Makes this process the one that orphaned descendants are re-parented to, instead of PID 1
/// (which, in a container, may never reap them): a process that detaches itself (a new
/// session, a double fork) still stays in this process's tree, where
/// [`end_descendants`] finds it.
pub fn adopt_orphans() {
    let _ = nix::sys::prctl::set_child_subreaper(true);
}

/// Children this process waits for itself (runners), with their process groups: never ended
/// as leftovers; [`signal_kept_groups`] reaches them all.
static KEPT: Mutex<Vec<u32>> = Mutex::new(Vec::new());

fn kept() -> MutexGuard<'static, Vec<u32>> {
    KEPT.lock().unwrap_or_else(|p| p.into_inner())
}

/// Starts `command` as a child this process waits for itself, registered before any other
/// thread can take it for a leftover. Call [`release`] once it has been waited for.
pub fn spawn_kept(command: &mut Command) -> std::io::Result<Child> {
    let mut kept = kept();
    let child = command.spawn()?;
    kept.push(child.id());
    Ok(child)
}

/// Forgets a kept child that has been waited for.
pub fn release(pid: u32) {
    kept().retain(|p| *p != pid);
}

/// Sends `signal` to the process group of every kept child. Safe to call from a panic hook.
pub fn signal_kept_groups(signal: Signal) {
    for &pid in kept().iter() {
        let _ = killpg(Pid::from_raw(pid as i32), signal);
    }
}

/// Ends every process below this one, except kept children and theirs: SIGKILLs each subtree
/// at once and reaps what becomes this process's (as a subreaper, the orphans of a killed
/// parent come here), until nothing is left or `within` has passed. Returns how many live
/// processes it killed.
pub fn end_descendants(within: Duration) -> usize {
    let me = std::process::id();
    let deadline = Instant::now() + within;
    let mut ended = std::collections::BTreeSet::new();
    loop {
        let leftovers = {
            // Held while killing, so a kept child being started now cannot be taken for one.
            let kept = kept();
            let leftovers: Vec<u32> = procfs::children_of(me)
                .into_iter()
                .filter(|pid| !kept.contains(pid))
                .collect();
            for pid in procfs::descendants(&leftovers) {
                if procfs::stat(pid).is_some_and(|s| s.state != 'Z') {
                    ended.insert(pid);
                }
                let _ = kill(Pid::from_raw(pid as i32), Signal::SIGKILL);
            }
            leftovers
        };
        for &pid in &leftovers {
            let _ = nix::sys::wait::waitpid(
                Pid::from_raw(pid as i32),
                Some(nix::sys::wait::WaitPidFlag::WNOHANG),
            );
        }
        if leftovers.is_empty() || Instant::now() >= deadline {
            return ended.len();
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Reaps `pid`, a child of this process, if it has ended, without waiting: how it ended
/// (`code 0`, `signal 9 (SIGKILL)`), or `None` while it runs (or when it is not ours).
pub fn reap_if_ended(pid: u32) -> Option<String> {
    use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
    use std::os::unix::process::ExitStatusExt;
    let pid = Pid::from_raw(i32::try_from(pid).ok()?);
    // As the kernel encodes a wait status: exit code in the second byte, or the signal.
    let raw = match waitpid(pid, Some(WaitPidFlag::WNOHANG)).ok()? {
        WaitStatus::Exited(_, code) => (code & 0xff) << 8,
        WaitStatus::Signaled(_, signal, _) => signal as i32,
        _ => return None,
    };
    Some(crate::exit::describe_exit(
        std::process::ExitStatus::from_raw(raw),
    ))
}
