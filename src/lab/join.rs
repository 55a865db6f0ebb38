//! Joining a child the way `Process.join()` does, but cancellable: wait until it ends while
//! watching the run's cancel flag, without reaping it early (so [`Worker::finish`] still
//! collects its status and report).

use crate::lab::children::{Worker, WorkerEnd};
use crate::probe::Probe;
use nix::sys::wait::{Id, WaitPidFlag, WaitStatus, waitid};
use nix::unistd::Pid;
use std::time::Duration;

/// Whether child `pid` has ended. `WNOWAIT` leaves it a zombie for its owner to reap.
pub fn has_ended(pid: u32) -> bool {
    let flags = WaitPidFlag::WEXITED | WaitPidFlag::WNOHANG | WaitPidFlag::WNOWAIT;
    match waitid(Id::Pid(Pid::from_raw(pid as i32)), flags) {
        Ok(WaitStatus::StillAlive) => false,
        Ok(_) => true,
        // ECHILD: not ours or already reaped; either way there is nothing to wait for.
        Err(_) => true,
    }
}

/// Waits for `worker` to end; if the run is cancelled meanwhile, asks it to stop (SIGTERM) once.
pub fn join(worker: Worker, probe: &Probe) -> WorkerEnd {
    let mut asked = false;
    while !has_ended(worker.pid) {
        if probe.cancelled() && !asked {
            worker.terminate();
            asked = true;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    worker.finish(probe)
}

/// Waits at most `limit` for `pid` to end; true if it did.
pub fn wait_until_ended(pid: u32, limit: Duration) -> bool {
    let deadline = std::time::Instant::now() + limit;
    while std::time::Instant::now() < deadline {
        if has_ended(pid) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    has_ended(pid)
}
