//! A start line for worker threads: the clock starts only when every worker is waiting at it,
//! and if starting one of them fails, the others are released to give up instead of waiting
//! forever (which a `std::sync::Barrier` cannot do).

use std::sync::{Condvar, Mutex};

#[derive(Default)]
struct State {
    ready: usize,
    /// `Some(true)`: go; `Some(false)`: give up.
    verdict: Option<bool>,
}

#[derive(Default)]
pub struct StartGate {
    state: Mutex<State>,
    changed: Condvar,
}

impl StartGate {
    pub fn new() -> StartGate {
        StartGate::default()
    }

    /// A worker arrives and waits for the start; `false` means the run was called off.
    pub fn arrive(&self) -> bool {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        state.ready += 1;
        self.changed.notify_all();
        while state.verdict.is_none() {
            state = self.changed.wait(state).unwrap_or_else(|p| p.into_inner());
        }
        state.verdict == Some(true)
    }

    /// Waits until `workers` have arrived, then lets them all go at once.
    pub fn open_when_ready(&self, workers: usize) {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        while state.ready < workers {
            state = self.changed.wait(state).unwrap_or_else(|p| p.into_inner());
        }
        state.verdict = Some(true);
        self.changed.notify_all();
    }

    /// Releases every waiting (and future) worker with "give up".
    pub fn call_off(&self) {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        state.verdict = Some(false);
        self.changed.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn opens_only_when_all_have_arrived() {
        let gate = StartGate::new();
        let started = AtomicUsize::new(0);
        std::thread::scope(|s| {
            for _ in 0..3 {
                s.spawn(|| {
                    if gate.arrive() {
                        started.fetch_add(1, Ordering::SeqCst);
                    }
                });
            }
            gate.open_when_ready(3);
        });
        assert_eq!(started.load(Ordering::SeqCst), 3);
    }

    #[test]
    fn calling_off_releases_waiters() {
        let gate = StartGate::new();
        let went = std::thread::scope(|s| {
            let waiter = s.spawn(|| gate.arrive());
            gate.call_off();
            waiter.join().unwrap()
        });
        assert!(!went);
    }
}
