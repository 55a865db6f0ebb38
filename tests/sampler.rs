//! The sampler with real processes. A process whose parent died inside a run is adopted by
//! the dashboard (a child subreaper), no longer below its runner: the sampler must still
//! find it, by its process group, so the processes panel shows it (as an `orphan`); and
//! when it ends, reap it and say how it ended, since nobody else waits for it.
//!
//! Its own test binary: this process becomes a subreaper and adopts an orphan on purpose,
//! which the leftover checks of the other test files would rightly object to.

mod common;

use conlab::sampler::{Sample, Tracked};
use nix::sys::signal::{Signal, kill, killpg};
use nix::sys::wait::waitpid;
use nix::unistd::Pid;
use std::collections::HashSet;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Ends the stand-in runner's whole group and reaps it and the orphan, even when the test
/// fails half-way.
struct Group {
    runner: std::process::Child,
}

impl Drop for Group {
    fn drop(&mut self) {
        let group = Pid::from_raw(self.runner.id() as i32);
        let _ = killpg(group, Signal::SIGKILL);
        let _ = self.runner.wait();
        let me = std::process::id() as i32;
        for pid in common::children_of(me) {
            if conlab::procfs::stat(pid as u32).is_some_and(|s| s.pgrp == group.as_raw()) {
                let _ = waitpid(Pid::from_raw(pid), None);
            }
        }
    }
}

/// What `pick` finds in the next sample that has it, before `deadline`.
fn next<T>(
    samples: &crossbeam_channel::Receiver<Box<Sample>>,
    deadline: Instant,
    pick: impl Fn(Sample) -> Option<T>,
) -> Option<T> {
    while Instant::now() < deadline {
        match samples.recv_timeout(Duration::from_secs(2)) {
            Ok(sample) => {
                if let Some(found) = pick(*sample) {
                    return Some(found);
                }
            }
            Err(crossbeam_channel::RecvTimeoutError::Timeout) => {}
            Err(crossbeam_channel::RecvTimeoutError::Disconnected) => return None,
        }
    }
    None
}

#[test]
fn an_orphan_of_a_run_is_sampled_and_reaped_with_its_exit() {
    common::become_subreaper();
    let me = std::process::id();
    // A stand-in runner, leader of its own group: a subshell starts `sleep` and exits at
    // once, so that sleep is orphaned and adopted here, still in the runner's group.
    let runner = Command::new("sh")
        .args(["-c", "(sleep 30 &); exec sleep 30"])
        .stdin(Stdio::null())
        .process_group(0)
        .spawn()
        .expect("sh starts");
    let group = Group { runner };
    let runner_pid = group.runner.id();
    let deadline = Instant::now() + Duration::from_secs(10);
    let orphan = loop {
        let adopted = common::children_of(me as i32).into_iter().find(|&pid| {
            pid as u32 != runner_pid
                && conlab::procfs::stat(pid as u32).is_some_and(|s| s.pgrp == runner_pid as i32)
        });
        if let Some(pid) = adopted {
            break pid as u32;
        }
        assert!(Instant::now() < deadline, "the orphan never came to us");
        std::thread::sleep(Duration::from_millis(10));
    };

    let tracked = Arc::new(Tracked::default());
    tracked.set_runners(HashSet::from([runner_pid]));
    let (samples_tx, samples) = crossbeam_channel::unbounded::<Box<Sample>>();
    let (stop, stop_rx) = crossbeam_channel::bounded::<()>(1);
    let sampler = conlab::sampler::spawn(Duration::from_millis(200), tracked, samples_tx, stop_rx)
        .expect("sampler starts");
    let seen = next(&samples, Instant::now() + Duration::from_secs(10), |s| {
        s.processes.into_iter().find(|p| p.pid == orphan)
    });
    let seen = seen.expect("the sampler found the adopted orphan");
    assert_eq!(seen.ppid, me, "its parent is now this process: {seen:?}");
    assert_eq!(
        seen.pgrp, runner_pid,
        "its group is still the runner's: {seen:?}"
    );

    // It ends while its run goes on: the sampler reaps it and reports how it ended.
    kill(Pid::from_raw(orphan as i32), Signal::SIGKILL).expect("the orphan can be killed");
    let reaped = next(&samples, Instant::now() + Duration::from_secs(10), |s| {
        s.reaped.into_iter().find(|(pid, _)| *pid == orphan)
    });
    let _ = stop.send(());
    let _ = sampler.join();
    let (_, exit) = reaped.expect("the sampler reaped the orphan");
    assert_eq!(exit.to_string(), "signal 9 (SIGKILL)");
    assert!(
        conlab::procfs::stat(orphan).is_none(),
        "no zombie is left of it"
    );
    drop(group);
}
