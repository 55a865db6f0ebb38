//! CPU accounting for scenarios: per-core busy time from `/proc/stat`, and the CPU time of the
//! calling thread, so a report can say how busy each core was and how much CPU a thread used.

use std::time::Duration;

/// Busy and total jiffies of each core at one moment.
#[derive(Debug, Clone, PartialEq)]
pub struct CoreTimes(Vec<(u64, u64)>);

impl CoreTimes {
    /// Reads `/proc/stat` (empty if it cannot be read).
    pub fn now() -> CoreTimes {
        let text = std::fs::read_to_string("/proc/stat").unwrap_or_default();
        CoreTimes(parse_cores(&text))
    }

    /// Percent busy of each core between `self` and `later`.
    pub fn busy_pct_until(&self, later: &CoreTimes) -> Vec<f64> {
        self.0
            .iter()
            .zip(&later.0)
            .map(|((busy0, total0), (busy1, total1))| {
                let total = total1.saturating_sub(*total0);
                if total == 0 {
                    0.0
                } else {
                    busy1.saturating_sub(*busy0) as f64 * 100.0 / total as f64
                }
            })
            .collect()
    }
}

/// `cpuN user nice system idle iowait irq softirq steal ...` → (busy, total) per core.
fn parse_cores(stat: &str) -> Vec<(u64, u64)> {
    stat.lines()
        .filter(|l| l.starts_with("cpu") && l.as_bytes().get(3).is_some_and(u8::is_ascii_digit))
        .map(|l| {
            let fields: Vec<u64> = l
                .split_whitespace()
                .skip(1)
                .take(8)
                .filter_map(|f| f.parse().ok())
                .collect();
            let total: u64 = fields.iter().sum();
            let idle = fields.get(3).copied().unwrap_or(0) + fields.get(4).copied().unwrap_or(0);
            (total - idle, total)
        })
        .collect()
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

/// CPU time (user + system) the calling thread has used so far.
pub fn thread_cpu_time() -> Duration {
    use nix::time::{ClockId, clock_gettime};
    clock_gettime(ClockId::CLOCK_THREAD_CPUTIME_ID)
        .map(|t| Duration::new(t.tv_sec() as u64, t.tv_nsec() as u32))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_per_core_lines_only() {
        let stat =
            "cpu  10 0 10 80 0 0 0 0\ncpu0 5 0 5 40 0 0 0 0\ncpu1 5 0 5 30 10 0 0 0\nintr 1\n";
        assert_eq!(parse_cores(stat), vec![(10, 50), (10, 50)]);
        let before = CoreTimes(vec![(10, 50)]);
        let after = CoreTimes(vec![(35, 100)]);
        assert_eq!(before.busy_pct_until(&after), vec![50.0]);
    }

    #[test]
    fn thread_time_grows_with_work() {
        let before = thread_cpu_time();
        let mut x = 0u64;
        while thread_cpu_time() - before < Duration::from_millis(5) {
            x = std::hint::black_box(x.wrapping_add(1));
        }
        assert!(x > 0);
    }
}
