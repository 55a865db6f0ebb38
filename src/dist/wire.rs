//! What crosses the wire once both sides hold the key: small JSON messages, one a frame.
//! Only data: a task says which number to square, never code to run (pickle would).

use super::frame::{self, AFTER_AUTH, FrameError};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::net::TcpStream;

/// The most tasks a worker holds at once: the one it works on and the next, so the round
/// trip that brings a task overlaps the work on the one before instead of idling the worker.
/// The master leases each task on its own and takes back every one a lost worker held.
pub const PREFETCH: usize = 2;

/// What a worker says to the master.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "msg", rename_all = "snake_case")]
pub enum FromWorker {
    /// Its first words: who it is, for the master's list of workers.
    Hello { pid: u32, host: String },
    /// Ready for a task (one more: a worker asks [`PREFETCH`] times as it starts).
    Get,
    /// A task's result; also a request for the next task.
    Result { task: u64, value: String },
}

/// What the master says to a worker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "msg", rename_all = "snake_case")]
pub enum FromMaster {
    /// Square `n`, taking `work_ms`; the master takes the task back after `lease_ms`.
    Task {
        task: u64,
        n: i64,
        work_ms: u64,
        lease_ms: u64,
    },
    /// Every task has its result: the worker may go.
    Finished,
}

/// What a task computes, as the tutorial's worker prints it.
pub fn square(n: i64) -> String {
    format!("{n} * {n} = {}", n.wrapping_mul(n))
}

pub fn send(stream: &TcpStream, message: &impl Serialize) -> std::io::Result<()> {
    let bytes = serde_json::to_vec(message).expect("wire messages serialize");
    frame::write_frame(&mut &*stream, &bytes)
}

/// Why a message could not be read.
#[derive(Debug)]
pub enum WireError {
    Frame(FrameError),
    /// A frame whose JSON is not a message of the protocol.
    NotAMessage(String),
}

impl std::fmt::Display for WireError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WireError::Frame(e) => write!(f, "{e}"),
            WireError::NotAMessage(e) => write!(f, "a frame that is not a message: {e}"),
        }
    }
}

/// Reads one message (at most [`AFTER_AUTH`] bytes) through `r`.
pub fn recv<T: DeserializeOwned>(r: &mut impl std::io::Read) -> Result<T, WireError> {
    let bytes = frame::read_frame(r, AFTER_AUTH).map_err(WireError::Frame)?;
    serde_json::from_slice(&bytes).map_err(|e| WireError::NotAMessage(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_plain_json() {
        let m = serde_json::to_string(&FromWorker::Result {
            task: 3,
            value: square(7),
        })
        .unwrap();
        assert_eq!(m, r#"{"msg":"result","task":3,"value":"7 * 7 = 49"}"#);
        let t: FromMaster = serde_json::from_str(r#"{"msg":"finished"}"#).unwrap();
        assert_eq!(t, FromMaster::Finished);
    }
}
