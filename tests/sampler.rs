//! The sampler with real processes. A process whose parent died inside a run is adopted by
//! the dashboard (a child subreaper), no longer below its runner: the sampler must still
//! find it, by its process group, so the processes panel shows it (as an `orphan`).
//!
//! Its own test binary: this process becomes a subreaper and adopts an orphan on purpose,
//! which the leftover checks of the other test files would rightly object to.

mod common;

use conlab::sampler::{Sample, Tracked};
use nix::sys::signal::{Signal, killpg};
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

#[test]
fn an_orphan_adopted_from_a_runs_group_is_still_sampled() {
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
    let mut seen = None;
    while seen.is_none() && Instant::now() < deadline {
        let Ok(sample) = samples.recv_timeout(Duration::from_secs(2)) else {
            continue;
        };
        seen = sample.processes.into_iter().find(|p| p.pid == orphan);
    }
    let _ = stop.send(());
    let _ = sampler.join();

    let orphan = seen.expect("the sampler found the adopted orphan");
    assert_eq!(
        orphan.ppid, me,
        "its parent is now this process: {orphan:?}"
    );
    assert_eq!(
        orphan.pgrp, runner_pid,
        "its group is still the runner's: {orphan:?}"
    );
    drop(group);
}
