//! The CPU time the kernel accounts to this process and to the children it has reaped
//! (getrusage): what a run used, whatever threads or children used it. A leaf.

use std::time::Duration;

/// User + system CPU time of this process plus its waited-for children.
pub fn cpu_time() -> Duration {
    use nix::sys::resource::UsageWho;
    rusage_cpu_time(UsageWho::RUSAGE_SELF) + rusage_cpu_time(UsageWho::RUSAGE_CHILDREN)
}

/// CPU time (user + system) of this process (`RUSAGE_SELF`) or of every child it has reaped,
/// and their reaped children (`RUSAGE_CHILDREN`): the difference across reaping one child is
/// that child's own.
pub fn rusage_cpu_time(who: nix::sys::resource::UsageWho) -> Duration {
    nix::sys::resource::getrusage(who)
        .map(|u| {
            let tv = |t: nix::sys::time::TimeVal| {
                Duration::new(t.tv_sec() as u64, t.tv_usec() as u32 * 1000)
            };
            tv(u.user_time()) + tv(u.system_time())
        })
        .unwrap_or_default()
}
