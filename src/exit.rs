//! How a process ended: an exit code it chose, or a signal that ended it. One type for the
//! report, the event stream, the processes panel and the timeline, shown the same way
//! everywhere (`code 0`, `signal 9 (SIGKILL)`) and written in that form in JSON, so the
//! report's contract (`"exit": "code 0"`) stays as it was.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::os::unix::process::ExitStatusExt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Exit {
    /// It called exit (or returned from main) with this code.
    Code(i32),
    /// A signal ended it; it chose no code.
    Signal(i32),
    /// A descendant that was never seen to end: its run ended and took its group with it.
    KilledWithGroup,
    /// It ended, but its parent (not conlab) reaped it before its status could be read: what
    /// `conlab watch --pid` says of a process it only looks at.
    Unseen,
    /// It was still running when conlab stopped looking (`conlab watch --pid` leaves what it
    /// attached to running).
    StillRunning,
}

impl Exit {
    pub fn of(status: std::process::ExitStatus) -> Exit {
        match (status.code(), status.signal()) {
            (Some(code), _) => Exit::Code(code),
            (None, Some(signal)) => Exit::Signal(signal),
            // Neither: only a stopped or continued status, which a reaped process never has.
            (None, None) => Exit::KilledWithGroup,
        }
    }

    pub fn success(self) -> bool {
        self == Exit::Code(0)
    }

    /// The code it chose, if it chose one.
    pub fn code(self) -> Option<i32> {
        match self {
            Exit::Code(code) => Some(code),
            _ => None,
        }
    }

    /// The signal that ended it, if one did.
    pub fn signal(self) -> Option<i32> {
        match self {
            Exit::Signal(signal) => Some(signal),
            _ => None,
        }
    }

    /// Python's `returncode` / `exitcode`: the code, or minus the signal.
    pub fn python_code(self) -> Option<i32> {
        self.code().or(self.signal().map(|s| -s))
    }
}

/// An exit as the dashboard and reports say it, `unknown` when the status could not be had.
pub fn describe(exit: Option<Exit>) -> String {
    exit.map_or_else(|| "unknown".to_string(), |e| e.to_string())
}

impl From<std::process::ExitStatus> for Exit {
    fn from(status: std::process::ExitStatus) -> Exit {
        Exit::of(status)
    }
}

const KILLED_WITH_GROUP: &str = "killed with its group";
const UNSEEN: &str = "ended, status not seen";
const STILL_RUNNING: &str = "still running";

impl fmt::Display for Exit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Exit::Code(code) => write!(f, "code {code}"),
            Exit::Signal(signal) => match nix::sys::signal::Signal::try_from(signal) {
                Ok(s) => write!(f, "signal {signal} ({})", s.as_str()),
                Err(_) => write!(f, "signal {signal}"),
            },
            Exit::KilledWithGroup => f.write_str(KILLED_WITH_GROUP),
            Exit::Unseen => f.write_str(UNSEEN),
            Exit::StillRunning => f.write_str(STILL_RUNNING),
        }
    }
}

impl std::str::FromStr for Exit {
    type Err = String;

    /// Reads what [`fmt::Display`] writes: the one place the words are read back, for JSON.
    fn from_str(text: &str) -> Result<Exit, String> {
        let number = |rest: &str| rest.split(' ').next().and_then(|n| n.parse().ok());
        if text == KILLED_WITH_GROUP {
            Ok(Exit::KilledWithGroup)
        } else if text == UNSEEN {
            Ok(Exit::Unseen)
        } else if text == STILL_RUNNING {
            Ok(Exit::StillRunning)
        } else if let Some(code) = text.strip_prefix("code ").and_then(number) {
            Ok(Exit::Code(code))
        } else if let Some(signal) = text.strip_prefix("signal ").and_then(number) {
            Ok(Exit::Signal(signal))
        } else {
            Err(format!(
                "`{text}` is not an exit (`code N`, `signal N (NAME)`)"
            ))
        }
    }
}

impl Serialize for Exit {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Exit {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Exit, D::Error> {
        let text = std::borrow::Cow::<str>::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shown_as_before_and_read_back() {
        for (exit, text) in [
            (Exit::Code(0), "code 0"),
            (Exit::Code(3), "code 3"),
            (Exit::Signal(9), "signal 9 (SIGKILL)"),
            (Exit::Signal(6), "signal 6 (SIGABRT)"),
            (Exit::Signal(64), "signal 64"),
            (Exit::KilledWithGroup, "killed with its group"),
            (Exit::Unseen, "ended, status not seen"),
            (Exit::StillRunning, "still running"),
        ] {
            assert_eq!(exit.to_string(), text);
            assert_eq!(text.parse::<Exit>(), Ok(exit));
            let json = serde_json::to_string(&exit).unwrap();
            assert_eq!(json, format!("\"{text}\""));
            assert_eq!(serde_json::from_str::<Exit>(&json).unwrap(), exit);
        }
        assert!("exited".parse::<Exit>().is_err());
    }

    #[test]
    fn python_codes() {
        assert_eq!(Exit::Code(3).python_code(), Some(3));
        assert_eq!(Exit::Signal(9).python_code(), Some(-9));
        assert_eq!(Exit::KilledWithGroup.python_code(), None);
        assert!(Exit::Code(0).success() && !Exit::Signal(9).success());
    }
}
