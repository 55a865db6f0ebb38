//! How a process ended, in the words every output uses. A leaf, so that whatever reaps a
//! process (the runner, the lifeline, a scenario) can say it without importing the others.

use nix::sys::signal::Signal;
use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;

/// `code 0`, `signal 9 (SIGKILL)` — the same words in reports, logs and the processes panel.
pub fn describe_exit(status: ExitStatus) -> String {
    if let Some(code) = status.code() {
        format!("code {code}")
    } else if let Some(sig) = status.signal() {
        match Signal::try_from(sig) {
            Ok(s) => format!("signal {sig} ({})", s.as_str()),
            Err(_) => format!("signal {sig}"),
        }
    } else {
        "unknown".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_signals_in_words() {
        // Raw wait statuses: the exit code in the second byte, or the signal number.
        assert_eq!(describe_exit(ExitStatus::from_raw(3 << 8)), "code 3");
        assert_eq!(describe_exit(ExitStatus::from_raw(9)), "signal 9 (SIGKILL)");
        assert_eq!(describe_exit(ExitStatus::from_raw(127)), "unknown");
    }
}
