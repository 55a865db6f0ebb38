//! A POSIX message queue (`mq_open(3)`) shared by a writer and a reader process: a real kernel
//! queue with a capacity counted in messages, message boundaries kept, and a depth anyone
//! holding it can read (`mq_curmsgs`). On Linux its descriptors are file descriptors, so each
//! child gets its end as stdin, and the name is unlinked at once: nothing is left behind in
//! /dev/mqueue, whatever happens to the processes later.

use nix::libc;
use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::Duration;

/// Linux's default `/proc/sys/fs/mqueue/msg_max`: the most messages a queue may hold unless
/// the system was configured otherwise.
pub const DEFAULT_MSG_MAX: i64 = 10;

/// One descriptor of a queue.
#[derive(Debug)]
pub struct MessageQueue {
    fd: OwnedFd,
}

/// A new queue's three descriptors: the writer's, the reader's, and one for the runner to watch
/// its depth.
pub struct QueueEnds {
    pub writer: OwnedFd,
    pub reader: OwnedFd,
    pub watch: MessageQueue,
}

fn open(name: &CString, flags: libc::c_int, attr: Option<&libc::mq_attr>) -> io::Result<OwnedFd> {
    let flags = flags | libc::O_CLOEXEC;
    // SAFETY: `name` is a valid C string; `attr`, when given, points to a live mq_attr.
    let fd = unsafe {
        match attr {
            Some(a) => libc::mq_open(
                name.as_ptr(),
                flags,
                0o600 as libc::mode_t,
                a as *const libc::mq_attr,
            ),
            None => libc::mq_open(name.as_ptr(), flags),
        }
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: mq_open returned a new descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

fn unlink(name: &CString) {
    // SAFETY: `name` is a valid C string.
    unsafe { libc::mq_unlink(name.as_ptr()) };
}

/// Creates a queue of `capacity` messages of at most `msg_size` bytes, opens it three times
/// and unlinks its name.
pub fn create(capacity: i64, msg_size: i64) -> io::Result<QueueEnds> {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let name = CString::new(format!("/conlab-{}-{n}", std::process::id())).expect("no NUL");
    // SAFETY: mq_attr is plain data; zero is a valid value for each field.
    let mut attr: libc::mq_attr = unsafe { std::mem::zeroed() };
    attr.mq_maxmsg = capacity as _;
    attr.mq_msgsize = msg_size as _;
    let create = || {
        open(
            &name,
            libc::O_CREAT | libc::O_EXCL | libc::O_WRONLY,
            Some(&attr),
        )
    };
    let writer = match create() {
        // A name left by a process with our PID that was killed within microseconds of making it.
        Err(e) if e.raw_os_error() == Some(libc::EEXIST) => {
            unlink(&name);
            create()
        }
        other => other,
    }
    .map_err(|e| match e.raw_os_error() {
        Some(libc::EINVAL) => io::Error::new(
            e.kind(),
            format!(
                "mq_open refused a queue of {capacity} messages of {msg_size} bytes ({e}); see /proc/sys/fs/mqueue/msg_max and msgsize_max"
            ),
        ),
        _ => e,
    })?;
    let others = open(&name, libc::O_RDONLY, None)
        .and_then(|reader| Ok((reader, open(&name, libc::O_RDONLY, None)?)));
    unlink(&name);
    let (reader, watch) = others?;
    Ok(QueueEnds {
        writer,
        reader,
        watch: MessageQueue { fd: watch },
    })
}

/// CLOCK_REALTIME `timeout` from now: the mq_timed* calls take an absolute wall-clock time.
fn deadline(timeout: Duration) -> libc::timespec {
    let now = nix::time::clock_gettime(nix::time::ClockId::CLOCK_REALTIME)
        .map(|t| Duration::new(t.tv_sec() as u64, t.tv_nsec() as u32))
        .unwrap_or_default()
        + timeout;
    libc::timespec {
        tv_sec: now.as_secs() as _,
        tv_nsec: now.subsec_nanos() as _,
    }
}

impl MessageQueue {
    pub fn from_fd(fd: OwnedFd) -> MessageQueue {
        MessageQueue { fd }
    }

    /// The queue a runner handed this process as its stdin.
    ///
    /// # Safety
    /// fd 0 must be a message queue descriptor that nothing else in this process owns.
    pub unsafe fn from_stdin() -> MessageQueue {
        MessageQueue {
            fd: unsafe { OwnedFd::from_raw_fd(0) },
        }
    }

    /// Puts `message`, waiting at most `timeout` for room. False when the queue stayed full
    /// (or a signal interrupted the wait): call again.
    pub fn send(&self, message: &[u8], timeout: Duration) -> io::Result<bool> {
        let at = deadline(timeout);
        // SAFETY: the buffer is valid for its length; `at` lives across the call.
        let r = unsafe {
            libc::mq_timedsend(
                self.fd.as_raw_fd(),
                message.as_ptr().cast(),
                message.len(),
                0,
                &at,
            )
        };
        if r == 0 {
            return Ok(true);
        }
        match io::Error::last_os_error() {
            e if matches!(e.raw_os_error(), Some(libc::ETIMEDOUT | libc::EINTR)) => Ok(false),
            e => Err(e),
        }
    }

    /// Gets the oldest message into `buf`, waiting at most `timeout`; None when none came.
    pub fn receive(&self, buf: &mut [u8], timeout: Duration) -> io::Result<Option<usize>> {
        let at = deadline(timeout);
        // SAFETY: the buffer is valid for its length; `at` lives across the call.
        let r = unsafe {
            libc::mq_timedreceive(
                self.fd.as_raw_fd(),
                buf.as_mut_ptr().cast(),
                buf.len(),
                std::ptr::null_mut(),
                &at,
            )
        };
        if r >= 0 {
            return Ok(Some(r as usize));
        }
        match io::Error::last_os_error() {
            e if matches!(e.raw_os_error(), Some(libc::ETIMEDOUT | libc::EINTR)) => Ok(None),
            e => Err(e),
        }
    }

    fn attr(&self) -> io::Result<libc::mq_attr> {
        // SAFETY: mq_getattr fills the struct it is given.
        let mut attr: libc::mq_attr = unsafe { std::mem::zeroed() };
        if unsafe { libc::mq_getattr(self.fd.as_raw_fd(), &mut attr) } != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(attr)
    }

    /// Messages in the queue now.
    pub fn depth(&self) -> io::Result<u64> {
        Ok(self.attr()?.mq_curmsgs as u64)
    }

    /// The largest message the queue takes, in bytes.
    pub fn msg_size(&self) -> io::Result<usize> {
        Ok(self.attr()?.mq_msgsize as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holds_messages_in_order_up_to_its_capacity() {
        let ends = create(2, 32).expect("a queue of 2");
        let writer = MessageQueue::from_fd(ends.writer);
        let reader = MessageQueue::from_fd(ends.reader);
        let short = Duration::from_millis(10);
        assert!(writer.send(b"A", short).unwrap());
        assert!(writer.send(b"B", short).unwrap());
        assert!(!writer.send(b"C", short).unwrap(), "a full queue refuses");
        assert_eq!(ends.watch.depth().unwrap(), 2);
        let mut buf = [0u8; 32];
        assert_eq!(reader.receive(&mut buf, short).unwrap(), Some(1));
        assert_eq!(&buf[..1], b"A");
        assert_eq!(reader.receive(&mut buf, short).unwrap(), Some(1));
        assert_eq!(&buf[..1], b"B");
        assert_eq!(reader.receive(&mut buf, short).unwrap(), None);
        assert_eq!(ends.watch.msg_size().unwrap(), 32);
    }
}
