//! Where threads may run: the CPUs this process was allowed, and pinning a thread or a process
//! to some of them — to put two threads on one core on purpose, or each on a core of its own.

use nix::sched::{CpuSet, sched_getaffinity, sched_setaffinity};
use nix::unistd::Pid;

/// The CPUs the calling thread may run on, lowest first (a container or `taskset` may allow
/// fewer than the machine has).
pub fn allowed() -> Result<Vec<usize>, String> {
    let set = sched_getaffinity(Pid::from_raw(0))
        .map_err(|e| format!("reading the CPUs this process may use: {e}"))?;
    Ok((0..CpuSet::count())
        .filter(|&cpu| set.is_set(cpu).unwrap_or(false))
        .collect())
}

/// Restricts `tid` (0: the calling thread) to `cpus`.
pub fn pin(tid: i32, cpus: &[usize]) -> Result<(), String> {
    let mut set = CpuSet::new();
    for &cpu in cpus {
        set.set(cpu).map_err(|e| format!("CPU {cpu}: {e}"))?;
    }
    sched_setaffinity(Pid::from_raw(tid), &set)
        .map_err(|e| format!("pinning to CPUs {cpus:?}: {e}"))
}

/// The CPU the calling thread is on right now.
pub fn current() -> Result<usize, String> {
    nix::sched::sched_getcpu().map_err(|e| format!("sched_getcpu: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pinned_thread_runs_only_where_it_was_pinned() {
        let allowed = allowed().unwrap();
        assert!(!allowed.is_empty());
        let last = *allowed.last().unwrap();
        std::thread::spawn(move || {
            pin(0, &[last]).unwrap();
            // The kernel moves the thread before sched_setaffinity returns.
            assert_eq!(current().unwrap(), last);
            assert_eq!(super::allowed().unwrap(), vec![last]);
        })
        .join()
        .unwrap();
        // Only that thread was pinned.
        assert_eq!(super::allowed().unwrap(), allowed);
    }
}
