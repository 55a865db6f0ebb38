//! Turns SIGINT, SIGTERM and SIGHUP into channel messages for the dashboard and the headless
//! CLI, so both can cancel their runners, reap them and restore the terminal before exiting.

use crossbeam_channel::Receiver;
use nix::sys::signal::{SigSet, SigmaskHow, Signal, pthread_sigmask};

/// The signals that end a session politely.
const ENDING: [Signal; 3] = [Signal::SIGINT, Signal::SIGTERM, Signal::SIGHUP];

/// Blocks the ending signals in this thread (and every thread it starts later) and starts a
/// thread that waits for them. Call before starting any other thread. Runners unblock them
/// again before `exec` (see `runner::spawn`).
pub fn forward_ending_signals() -> Receiver<Signal> {
    let mut set = SigSet::empty();
    for s in ENDING {
        set.add(s);
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
