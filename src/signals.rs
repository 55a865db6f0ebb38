//! Turns signals into channel messages: SIGINT, SIGTERM and SIGHUP for the dashboard and the
//! headless CLI, so both can cancel their runners, reap them and restore the terminal before
//! exiting; and for the dashboard SIGTSTP and SIGCONT too, so it gives the terminal back
//! before it stops and takes it again when continued. Stopping this process, the way a
//! terminal's Ctrl-Z would, is here as well.

use crossbeam_channel::Receiver;
use nix::sys::pthread::{pthread_kill, pthread_self};
use nix::sys::signal::{SigSet, SigmaskHow, Signal, pthread_sigmask};
use nix::unistd::{getpgid, getpgrp, getppid, getsid};

/// The signals that end a session politely.
const ENDING: [Signal; 3] = [Signal::SIGINT, Signal::SIGTERM, Signal::SIGHUP];

/// Job control: a stop asked for from outside, and the continue after any stop.
const JOB_CONTROL: [Signal; 2] = [Signal::SIGTSTP, Signal::SIGCONT];

/// Blocks the ending signals in this thread (and every thread it starts later) and starts a
/// thread that waits for them. Call before starting any other thread. Runners unblock them
/// again before `exec` (see `runner::spawn`).
pub fn forward_ending_signals() -> Receiver<Signal> {
    forward(&ENDING)
}

/// As [`forward_ending_signals`], with SIGTSTP and SIGCONT as well, for the dashboard. A
/// blocked SIGCONT still continues the process; it is also a message then.
pub fn forward_dashboard_signals() -> Receiver<Signal> {
    forward(&[ENDING.as_slice(), JOB_CONTROL.as_slice()].concat())
}

fn forward(signals: &[Signal]) -> Receiver<Signal> {
    let mut set = SigSet::empty();
    for s in signals {
        set.add(*s);
    }
    let _ = pthread_sigmask(SigmaskHow::SIG_BLOCK, Some(&set), None);
    let (tx, rx) = crossbeam_channel::bounded(8);
    let _ = std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            while let Ok(signal) = set.wait() {
                if tx.send(signal).is_err() {
                    return;
                }
            }
        });
    rx
}

/// Whether a job-control shell can resume this process once stopped: its parent is in the
/// same session but another process group, so this process group is not orphaned (the
/// dashboard is alone in its group: runners have groups of their own). A terminal's Ctrl-Z
/// does not stop an orphaned group — nothing there could continue it — and neither should
/// the dashboard's.
pub fn can_be_resumed() -> bool {
    let parent = getppid();
    match (getsid(Some(parent)), getsid(None), getpgid(Some(parent))) {
        (Ok(parent_session), Ok(session), Ok(parent_group)) => {
            parent_session == session && parent_group != getpgrp()
        }
        _ => false,
    }
}

/// Stops the whole process until a SIGCONT, then returns. With a job-control shell to resume
/// it, by SIGTSTP's default action, as the terminal's Ctrl-Z would (the shell reports it
/// stopped, and `fg` continues it); otherwise by SIGSTOP, which the kernel never ignores
/// (it discards SIGTSTP's stop in an orphaned group), for whoever sent the stop to continue.
pub fn stop_until_continued() {
    let this = pthread_self();
    if can_be_resumed() {
        // SIGTSTP is blocked in every thread so the signals thread can take it as a message.
        // Sent to this thread and unblocked here, its default action happens at once: every
        // thread stops. Once continued, it is blocked again.
        let tstp = SigSet::from(Signal::SIGTSTP);
        let _ = pthread_kill(this, Signal::SIGTSTP);
        let _ = pthread_sigmask(SigmaskHow::SIG_UNBLOCK, Some(&tstp), None);
        let _ = pthread_sigmask(SigmaskHow::SIG_BLOCK, Some(&tstp), None);
    } else {
        // To this thread: it stops on its way out of the call, before anything after it.
        let _ = pthread_kill(this, Signal::SIGSTOP);
    }
}
