//! The typed control channel between a runner and a child conlab it started: one socket pair
//! (SOCK_SEQPACKET, so every message arrives whole and alone), the child's end as its stdin,
//! each message one JSON value of a type both sides share. Nothing is parsed out of prose.
//!
//! The child's events still go to its stdout, into the run's event stream; this channel is
//! for what the runner and the child say to each other (ready, go, a task, its result).

use nix::sys::socket::{AddressFamily, MsgFlags, SockFlag, SockType, recv, send, socketpair};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::time::Duration;

/// The largest message either side may send (a packet larger than this is cut when read).
pub const MAX_MESSAGE: usize = 4096;

/// How often a wait that can be cancelled looks at its cancel flag.
const CANCEL_CHECK: Duration = Duration::from_millis(20);

/// One end of a control channel.
#[derive(Debug)]
pub struct Control {
    socket: OwnedFd,
}

/// What a wait for the next message found.
#[derive(Debug, PartialEq)]
pub enum Received<T> {
    Message(T),
    /// Nothing arrived in time (or the wait was cancelled).
    Nothing,
    /// The other side closed its end (it exited, or has nothing more to say).
    Closed,
}

impl Control {
    /// A new channel: this process's end, and the end to give a child as its stdin
    /// (`Stdio::from(theirs)`). Both are close-on-exec, so no other child inherits them and
    /// a child's exit reaches the runner as [`Received::Closed`].
    pub fn pair() -> std::io::Result<(Control, OwnedFd)> {
        let (ours, theirs) = socketpair(
            AddressFamily::Unix,
            SockType::SeqPacket,
            None,
            SockFlag::SOCK_CLOEXEC,
        )?;
        Ok((Control { socket: ours }, theirs))
    }

    /// The child's end: its stdin, as the runner set it up.
    pub fn of_stdin() -> std::io::Result<Control> {
        let socket = std::io::stdin().as_fd().try_clone_to_owned()?;
        Ok(Control { socket })
    }

    /// The socket, to wait on several channels at once with `poll`.
    pub fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.socket.as_fd()
    }

    /// Sends one message. Fails if the other side has gone (no SIGPIPE: an error instead).
    pub fn send<T: Serialize>(&self, message: &T) -> Result<(), String> {
        let bytes = serde_json::to_vec(message).map_err(|e| format!("encoding: {e}"))?;
        if bytes.len() > MAX_MESSAGE {
            return Err(format!(
                "a control message of {} bytes is over the {MAX_MESSAGE}-byte limit",
                bytes.len()
            ));
        }
        loop {
            match send(self.socket.as_raw_fd(), &bytes, MsgFlags::MSG_NOSIGNAL) {
                Ok(_) => return Ok(()),
                Err(nix::errno::Errno::EINTR) => continue,
                Err(e) => return Err(format!("the other side is gone ({e})")),
            }
        }
    }

    /// Waits up to `timeout` (at most a minute) for the next message.
    pub fn recv<T: DeserializeOwned>(&self, timeout: Duration) -> Result<Received<T>, String> {
        use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
        let ms = PollTimeout::try_from(timeout.as_millis().min(60_000) as i32)
            .unwrap_or(PollTimeout::ZERO);
        let mut fds = [PollFd::new(self.socket.as_fd(), PollFlags::POLLIN)];
        match poll(&mut fds, ms) {
            Ok(0) => return Ok(Received::Nothing),
            Ok(_) => {}
            // A cancel signal: let the caller look at its flag.
            Err(nix::errno::Errno::EINTR) => return Ok(Received::Nothing),
            Err(e) => return Err(format!("waiting on the control channel: {e}")),
        }
        let mut buf = [0u8; MAX_MESSAGE];
        let n = loop {
            match recv(self.socket.as_raw_fd(), &mut buf, MsgFlags::empty()) {
                Ok(n) => break n,
                Err(nix::errno::Errno::EINTR) => continue,
                Err(nix::errno::Errno::ECONNRESET) => return Ok(Received::Closed),
                Err(e) => return Err(format!("reading the control channel: {e}")),
            }
        };
        if n == 0 {
            return Ok(Received::Closed);
        }
        serde_json::from_slice(&buf[..n])
            .map(Received::Message)
            .map_err(|e| {
                format!(
                    "a control message that is not what was expected ({e}): {}",
                    String::from_utf8_lossy(&buf[..n.min(80)])
                )
            })
    }

    /// Waits for the next message until `cancelled()` turns true ([`Received::Nothing`]).
    pub fn recv_unless<T: DeserializeOwned>(
        &self,
        cancelled: impl Fn() -> bool,
    ) -> Result<Received<T>, String> {
        loop {
            if cancelled() {
                return Ok(Received::Nothing);
            }
            match self.recv(CANCEL_CHECK)? {
                Received::Nothing => continue,
                other => return Ok(other),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use std::time::Instant;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    #[serde(tag = "msg", rename_all = "snake_case")]
    enum Say {
        Ready { pid: u32 },
        Go,
    }

    #[test]
    fn messages_cross_whole_and_typed() {
        let (a, theirs) = Control::pair().unwrap();
        let b = Control { socket: theirs };
        a.send(&Say::Ready { pid: 7 }).unwrap();
        a.send(&Say::Go).unwrap();
        let t = Duration::from_secs(1);
        assert_eq!(b.recv(t), Ok(Received::Message(Say::Ready { pid: 7 })));
        assert_eq!(b.recv(t), Ok(Received::Message(Say::Go)));
        assert_eq!(
            b.recv::<Say>(Duration::from_millis(10)),
            Ok(Received::Nothing)
        );
        drop(a);
        assert_eq!(b.recv::<Say>(t), Ok(Received::Closed));
    }

    #[test]
    fn a_message_of_another_type_is_an_error_naming_it() {
        let (a, theirs) = Control::pair().unwrap();
        let b = Control { socket: theirs };
        a.send(&"run 4 1000").unwrap();
        let e = b.recv::<Say>(Duration::from_secs(1)).unwrap_err();
        assert!(e.contains("run 4 1000"), "{e}");
    }

    #[test]
    fn a_cancelled_wait_returns_nothing() {
        let (a, _theirs) = Control::pair().unwrap();
        let started = Instant::now();
        assert_eq!(a.recv_unless::<Say>(|| true), Ok(Received::Nothing));
        assert!(started.elapsed() < Duration::from_secs(1));
    }
}
