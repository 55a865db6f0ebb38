//! Crashing on purpose, the ways a program really dies: `abort()` (SIGABRT) and an invalid
//! memory access (SIGSEGV). Neither leaves a core file behind: a lesson's crash is not a bug
//! anyone needs to debug, and a core file of a few megabytes in the user's directory would be.
//! And what a caught panic said.

use nix::sys::resource::{Resource, setrlimit};
use nix::sys::signal::{SigHandler, Signal, raise, signal};

/// No core file for this process: the kernel writes none when RLIMIT_CORE is 0.
pub fn no_core_file() {
    let _ = setrlimit(Resource::RLIMIT_CORE, 0, 0);
}

/// `abort()`: the C library raises SIGABRT and the kernel ends the whole process.
pub fn abort() -> ! {
    no_core_file();
    std::process::abort()
}

/// A write to memory the process may not touch, as a wild pointer in C makes: the kernel ends
/// the whole process with SIGSEGV. (Rust's own SIGSEGV handler, there to report stack
/// overflows, sees a fault outside any stack guard page and lets the default action happen.)
pub fn segfault() -> ! {
    no_core_file();
    // SAFETY: one page is mapped with no access at all; writing to it is the point — the
    // kernel stops the write with SIGSEGV before it changes anything. The pointer is the
    // mapping's own, so nothing the program owns is touched.
    unsafe {
        use nix::libc::{MAP_ANONYMOUS, MAP_FAILED, MAP_PRIVATE, PROT_NONE, mmap};
        let page = mmap(
            std::ptr::null_mut(),
            4096,
            PROT_NONE,
            MAP_PRIVATE | MAP_ANONYMOUS,
            -1,
            0,
        );
        if page != MAP_FAILED {
            page.cast::<u8>().write_volatile(1);
        }
    }
    // Only when no page could be mapped: the same signal, sent to ourselves.
    // SAFETY: restoring the default action of a signal is always sound.
    let _ = unsafe { signal(Signal::SIGSEGV, SigHandler::SigDfl) };
    let _ = raise(Signal::SIGSEGV);
    abort()
}

/// The message a panic carried (`panic!("...")` gives a `&str` or a `String`).
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_string())
}
