//! The runner's event stream: one JSON object per line on stdout, versioned, each line under
//! PIPE_BUF (4096 bytes) so lines written by many processes with one `write` never interleave.

use crate::report::{Metrics, Report};
use serde::{Deserialize, Serialize};
use std::io;

/// Bumped whenever an event changes shape; readers reject other versions.
pub const EVENT_VERSION: u32 = 1;

/// Longest line (with its newline) that is written atomically to a pipe.
pub const MAX_LINE: usize = 4096;

/// One line of the stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub v: u32,
    /// Milliseconds since the runner started.
    pub t_ms: f64,
    /// The process that wrote the line.
    pub pid: u32,
    #[serde(flatten)]
    pub body: Body,
}

/// What happened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Body {
    /// A process joined the run (the runner itself first).
    Process { ppid: u32, role: String },
    /// A process of the run ended; `exit` as in the report (`code 0`, `signal 9 (SIGKILL)`).
    ProcessExit { exit: String },
    /// A snapshot of the live counters, published about every 100 ms.
    Live { metrics: Metrics },
    /// A line of the scenario's own output.
    Log { text: String },
    /// The final report (its `processes` are filled in by whoever reaped the runner).
    Report { report: Box<Report> },
}

#[derive(Debug)]
pub enum CodecError {
    TooLong(usize),
    Json(serde_json::Error),
    Version(u32),
}

impl std::fmt::Display for CodecError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CodecError::TooLong(n) => write!(f, "event line of {n} bytes exceeds {MAX_LINE}"),
            CodecError::Json(e) => write!(f, "malformed event: {e}"),
            CodecError::Version(v) => {
                write!(f, "event version {v}, this conlab reads {EVENT_VERSION}")
            }
        }
    }
}

impl Event {
    pub fn new(t_ms: f64, pid: u32, body: Body) -> Event {
        Event {
            v: EVENT_VERSION,
            t_ms,
            pid,
            body,
        }
    }

    /// The line to write, newline included; refuses lines that could interleave.
    pub fn encode(&self) -> Result<Vec<u8>, CodecError> {
        let mut line = serde_json::to_vec(self).map_err(CodecError::Json)?;
        line.push(b'\n');
        if line.len() > MAX_LINE {
            return Err(CodecError::TooLong(line.len()));
        }
        Ok(line)
    }

    /// Parses one line (with or without its newline).
    pub fn decode(line: &[u8]) -> Result<Event, CodecError> {
        let event: Event = serde_json::from_slice(line).map_err(CodecError::Json)?;
        if event.v != EVENT_VERSION {
            return Err(CodecError::Version(event.v));
        }
        Ok(event)
    }
}

/// Writes one encoded line with a single `write(2)` on fd 1, bypassing Rust's stdout buffer
/// and its lock, so a forked child cannot inherit a half-written buffer.
pub fn write_line(line: &[u8]) -> io::Result<()> {
    let written = nix::unistd::write(io::stdout(), line).map_err(io::Error::from)?;
    if written != line.len() {
        return Err(io::Error::new(
            io::ErrorKind::WriteZero,
            "short write of an event line",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let mut metrics = Metrics::default();
        metrics.set("balance", -3i64);
        let e = Event::new(1.5, 42, Body::Live { metrics });
        let line = e.encode().unwrap();
        let text = std::str::from_utf8(&line).unwrap();
        assert!(text.starts_with("{\"v\":1,"), "{text}");
        assert!(text.contains("\"kind\":\"live\""), "{text}");
        assert_eq!(Event::decode(&line).unwrap(), e);
    }

    #[test]
    fn refuses_long_lines_and_other_versions() {
        let e = Event::new(
            0.0,
            1,
            Body::Log {
                text: "x".repeat(5000),
            },
        );
        assert!(matches!(e.encode(), Err(CodecError::TooLong(_))));
        let line = br#"{"v":99,"t_ms":0,"pid":1,"kind":"log","text":"hi"}"#;
        assert!(matches!(Event::decode(line), Err(CodecError::Version(99))));
    }
}
