//! The open-file limit (RLIMIT_NOFILE). A run that holds thousands of sockets raises its soft
//! limit to what it needs, as far as the hard limit allows, before it starts its children (who
//! inherit it), and says how far it got. The hard limit is the ceiling whoever started conlab
//! set; going past it takes privilege and is their call, not a lesson's.

use nix::sys::resource::{Resource, getrlimit, setrlimit};

/// The limit before and after [`raise_to`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FdLimit {
    pub before: u64,
    /// The soft limit in force now.
    pub now: u64,
    pub hard: u64,
}

impl FdLimit {
    /// The limit was below what was asked, and stays below it.
    pub fn short_of(&self, needed: u64) -> bool {
        self.now < needed
    }
}

/// Raises the soft limit to `needed`, or to the hard limit when that is lower.
pub fn raise_to(needed: u64) -> FdLimit {
    let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE).unwrap_or((1024, 1024));
    let target = needed.min(hard);
    let now = if target > soft && setrlimit(Resource::RLIMIT_NOFILE, target, hard).is_ok() {
        target
    } else {
        soft
    };
    FdLimit {
        before: soft,
        now,
        hard,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raises_to_what_is_needed_and_never_past_the_hard_limit() {
        let (_, hard) = getrlimit(Resource::RLIMIT_NOFILE).unwrap();
        let small = raise_to(64);
        assert!(small.now >= 64.min(hard), "{small:?}");
        let huge = raise_to(u64::MAX);
        assert_eq!(huge.now, hard, "{huge:?}");
        assert!(huge.short_of(u64::MAX));
        assert!(!huge.short_of(hard));
    }
}
