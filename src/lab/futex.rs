//! Tokens the kernel passes: 32-bit words that one thread or process sets and wakes, and
//! another sleeps on until they are set — futex(2), what every mutex and condition variable
//! on Linux is made of. The words live in memory mapped shared, so the same code hands a
//! token between threads and between forked processes.

use nix::libc;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

/// Futex words, in memory that forked children share.
pub type SharedWords = Shared<AtomicU32>;

/// `len` atomics, all 0, in a shared anonymous mapping that forked children see too: futex
/// words, and counters the children add to.
pub struct Shared<T: ZeroIsValid> {
    base: NonNull<T>,
    len: usize,
}

/// Atomics whose all-zero bytes are the value 0 (a fresh mapping is all zeros).
pub trait ZeroIsValid: Sync {}
impl ZeroIsValid for AtomicU32 {}
impl ZeroIsValid for AtomicU64 {}

// SAFETY: the values are atomics; the mapping lives until drop.
unsafe impl<T: ZeroIsValid> Send for Shared<T> {}
unsafe impl<T: ZeroIsValid> Sync for Shared<T> {}

impl<T: ZeroIsValid> Shared<T> {
    fn bytes(len: usize) -> usize {
        (len.max(1) * std::mem::size_of::<T>()).next_multiple_of(4096)
    }

    pub fn new(len: usize) -> std::io::Result<Shared<T>> {
        let bytes = Self::bytes(len);
        // SAFETY: a fresh anonymous mapping; no existing memory is touched.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                bytes,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(std::io::Error::last_os_error());
        }
        let base = NonNull::new(ptr.cast()).ok_or_else(std::io::Error::last_os_error)?;
        Ok(Shared { base, len })
    }

    /// Value `i` (the mapping is zeroed, and zero bytes are a valid `T`).
    pub fn get(&self, i: usize) -> &T {
        assert!(i < self.len, "value {i} of {}", self.len);
        // SAFETY: in bounds of the mapping, aligned (page-aligned base, elements of T).
        unsafe { self.base.add(i).as_ref() }
    }
}

impl<T: ZeroIsValid> Drop for Shared<T> {
    fn drop(&mut self) {
        // SAFETY: the mapping made in `new`, unmapped once.
        unsafe { libc::munmap(self.base.as_ptr().cast(), Self::bytes(self.len)) };
    }
}

/// Sets `word` to 1 and wakes one sleeper on it: the token is handed over.
pub fn give(word: &AtomicU32) {
    word.store(1, Ordering::Release);
    futex(word, libc::FUTEX_WAKE, 1, None);
}

/// Wakes every sleeper on `word` after setting it to 1 (a start signal, a stop).
pub fn give_all(word: &AtomicU32) {
    word.store(1, Ordering::Release);
    futex(word, libc::FUTEX_WAKE, i32::MAX as u32, None);
}

/// Takes the token from `word` (sets it back to 0), sleeping until it is given; false if it
/// did not come within `patience` (the caller looks whether to stop, then waits again).
pub fn take(word: &AtomicU32, patience: Duration) -> bool {
    if take_now(word) {
        return true;
    }
    futex(word, libc::FUTEX_WAIT, 0, Some(patience));
    take_now(word)
}

/// Sleeps until `word` is set, leaving it set for every other sleeper (a start signal);
/// false if it was not within `patience`.
pub fn wait_given(word: &AtomicU32, patience: Duration) -> bool {
    if is_given(word) {
        return true;
    }
    futex(word, libc::FUTEX_WAIT, 0, Some(patience));
    is_given(word)
}

/// Sleeps while `word` holds `value`: returns when woken, at once if it no longer does, or on
/// a signal — the caller looks at the word again in every case. For words that count rather
/// than carry a token (a ticket lock's "now serving").
pub fn sleep_while(word: &AtomicU32, value: u32) {
    futex(word, libc::FUTEX_WAIT, value, None);
}

/// Wakes every thread sleeping on `word` (after the caller changed it).
pub fn wake_all(word: &AtomicU32) {
    futex(word, libc::FUTEX_WAKE, i32::MAX as u32, None);
}

/// Whether `word` is set, without taking it.
pub fn is_given(word: &AtomicU32) -> bool {
    word.load(Ordering::Acquire) == 1
}

fn take_now(word: &AtomicU32) -> bool {
    word.swap(0, Ordering::AcqRel) == 1
}

/// One futex(2) call; only a raw system call, so a forked child of a threaded process may
/// make it. A wait returns when woken, when the word is no longer `value`, on a signal, or
/// after `timeout`: callers look at the word again in every case.
fn futex(word: &AtomicU32, op: libc::c_int, value: u32, timeout: Option<Duration>) {
    let ts = timeout.map(|t| libc::timespec {
        tv_sec: t.as_secs() as libc::time_t,
        tv_nsec: t.subsec_nanos() as libc::c_long,
    });
    let ts_ptr = ts
        .as_ref()
        .map_or(std::ptr::null(), |t| t as *const libc::timespec);
    // SAFETY: `word` is a live, aligned 32-bit atomic; `ts_ptr` is null or a live timespec.
    unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            op,
            value,
            ts_ptr,
            std::ptr::null::<u32>(),
            0u32,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[test]
    fn a_token_goes_to_the_thread_that_waits_for_it() {
        let words = SharedWords::new(2).unwrap();
        std::thread::scope(|s| {
            s.spawn(|| {
                while !take(words.get(0), Duration::from_millis(50)) {}
                give(words.get(1));
            });
            give(words.get(0));
            while !take(words.get(1), Duration::from_millis(50)) {}
        });
        assert!(!is_given(words.get(0)) && !is_given(words.get(1)));
    }

    #[test]
    fn a_forked_child_adds_to_a_shared_counter() {
        let counters = Shared::<AtomicU64>::new(1).unwrap();
        // SAFETY: the child only adds to an atomic and leaves with _exit.
        match unsafe { nix::unistd::fork() }.unwrap() {
            nix::unistd::ForkResult::Child => {
                counters.get(0).fetch_add(7, Ordering::Relaxed);
                unsafe { libc::_exit(0) };
            }
            nix::unistd::ForkResult::Parent { child } => {
                nix::sys::wait::waitpid(child, None).unwrap();
            }
        }
        assert_eq!(counters.get(0).load(Ordering::Relaxed), 7);
    }

    #[test]
    fn a_wait_for_a_token_nobody_gives_ends_after_its_patience() {
        let words = SharedWords::new(1).unwrap();
        let t = Instant::now();
        assert!(!take(words.get(0), Duration::from_millis(20)));
        assert!(
            t.elapsed() >= Duration::from_millis(15),
            "{:?}",
            t.elapsed()
        );
    }
}
