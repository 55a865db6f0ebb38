//! Frames on a TCP stream: a 4-byte big-endian length, then that many bytes of JSON. The
//! reader is told the largest frame it will take, and refuses a longer one from its header
//! alone, before allocating anything: a peer cannot make the master reserve what it claims.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// The largest frame before the peer has proved it holds the key: a handshake message.
pub const BEFORE_AUTH: u32 = 256;
/// The largest frame after: a task or a result is a small description, never bulk data.
pub const AFTER_AUTH: u32 = 64 * 1024;

/// Why a frame could not be read.
#[derive(Debug)]
pub enum FrameError {
    /// The header claimed more than the limit; nothing more was read.
    Oversize { claimed: u32, limit: u32 },
    /// The peer closed the connection between frames.
    Closed,
    /// The connection ended, failed or timed out inside a frame.
    Io(io::Error),
}

impl FrameError {
    pub fn timed_out(&self) -> bool {
        matches!(self, FrameError::Io(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut))
    }
}

impl std::fmt::Display for FrameError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FrameError::Oversize { claimed, limit } => write!(
                f,
                "a frame of {claimed} bytes is over the {limit}-byte limit"
            ),
            FrameError::Closed => write!(f, "the connection was closed"),
            FrameError::Io(e) if self.timed_out() => write!(f, "timed out ({e})"),
            FrameError::Io(e) => write!(f, "{e}"),
        }
    }
}

/// Reads one frame of at most `limit` bytes.
pub fn read_frame(r: &mut impl Read, limit: u32) -> Result<Vec<u8>, FrameError> {
    let mut header = [0u8; 4];
    let mut got = 0;
    while got < header.len() {
        match r.read(&mut header[got..]) {
            Ok(0) if got == 0 => return Err(FrameError::Closed),
            Ok(0) => return Err(FrameError::Io(io::ErrorKind::UnexpectedEof.into())),
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(FrameError::Io(e)),
        }
    }
    let claimed = u32::from_be_bytes(header);
    if claimed > limit {
        return Err(FrameError::Oversize { claimed, limit });
    }
    let mut payload = vec![0u8; claimed as usize];
    r.read_exact(&mut payload).map_err(FrameError::Io)?;
    Ok(payload)
}

/// Writes one frame; the caller keeps frames under the peer's limit.
pub fn write_frame(w: &mut impl Write, payload: &[u8]) -> io::Result<()> {
    let len = u32::try_from(payload.len())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "frame too long"))?;
    let mut buf = Vec::with_capacity(4 + payload.len());
    buf.extend_from_slice(&len.to_be_bytes());
    buf.extend_from_slice(payload);
    // One write: with TCP_NODELAY a header and its payload still leave as one segment.
    w.write_all(&buf)?;
    w.flush()
}

/// Reads from a socket with a deadline for everything read through it, not for each read:
/// a client that sends one byte a second still runs out of time.
pub struct Deadline<'a> {
    stream: &'a TcpStream,
    until: Instant,
}

impl<'a> Deadline<'a> {
    pub fn new(stream: &'a TcpStream, within: Duration) -> Deadline<'a> {
        Deadline {
            stream,
            until: Instant::now() + within,
        }
    }

    /// A new deadline for what is read from now on (the next message).
    pub fn renew(&mut self, within: Duration) {
        self.until = Instant::now() + within;
    }
}

impl Read for Deadline<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(io::ErrorKind::TimedOut.into());
        }
        self.stream.set_read_timeout(Some(left))?;
        (&mut &*self.stream).read(buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::io::Cursor;

    #[test]
    fn a_frame_reads_back_as_written() {
        let mut wire = Vec::new();
        write_frame(&mut wire, b"{\"get\":1}").unwrap();
        write_frame(&mut wire, b"").unwrap();
        let mut r = Cursor::new(wire);
        assert_eq!(read_frame(&mut r, 64).unwrap(), b"{\"get\":1}");
        assert_eq!(read_frame(&mut r, 64).unwrap(), b"");
        assert!(matches!(read_frame(&mut r, 64), Err(FrameError::Closed)));
    }

    /// A header claiming 4 GiB is refused from its four bytes: the reader reads no further.
    #[test]
    fn an_oversize_header_is_refused_without_reading_on() {
        let mut wire = u32::MAX.to_be_bytes().to_vec();
        wire.extend_from_slice(b"more");
        let mut r = Cursor::new(wire);
        match read_frame(&mut r, BEFORE_AUTH) {
            Err(FrameError::Oversize { claimed, limit }) => {
                assert_eq!((claimed, limit), (u32::MAX, BEFORE_AUTH))
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(r.position(), 4);
    }

    #[test]
    fn a_frame_cut_short_is_an_error_not_a_frame() {
        let mut r = Cursor::new(vec![0, 0, 0, 9, b'x']);
        assert!(matches!(read_frame(&mut r, 64), Err(FrameError::Io(_))));
        let mut r = Cursor::new(vec![0, 0]);
        assert!(matches!(read_frame(&mut r, 64), Err(FrameError::Io(_))));
    }

    proptest! {
        /// Any bytes at all: frames, errors, never a panic, never more than the limit.
        #[test]
        fn the_decoder_takes_any_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..600), limit in 0u32..300) {
            let mut r = Cursor::new(bytes);
            while let Ok(frame) = read_frame(&mut r, limit) {
                prop_assert!(frame.len() <= limit as usize);
            }
        }

        #[test]
        fn frames_survive_the_trip(frames in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..300), 0..8)) {
            let mut wire = Vec::new();
            for f in &frames {
                write_frame(&mut wire, f).unwrap();
            }
            let mut r = Cursor::new(wire);
            for f in &frames {
                prop_assert_eq!(&read_frame(&mut r, 300).unwrap(), f);
            }
            prop_assert!(matches!(read_frame(&mut r, 300), Err(FrameError::Closed)));
        }
    }
}
