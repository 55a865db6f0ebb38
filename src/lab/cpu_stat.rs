//! CPU accounting for scenarios: per-core busy time from `/proc/stat`, the CPU time of the
//! calling thread, and other programs' share of the machine during a run, so a report can say
//! how busy each core was, how much CPU a thread used, and whether other load took cores.

use crate::rusage::cpu_time;
use std::time::{Duration, Instant};

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

/// The machine's load from a moment on: how busy its cores were, and how much of that was
/// this process and the children it reaped — the rest was other programs, which took cores
/// from the run. Start it before the run's work, read it after its children are reaped.
#[derive(Debug, Clone)]
pub struct LoadWatch {
    cores: CoreTimes,
    own: Duration,
    at: Instant,
}

/// The machine's busy cores over a stretch of time, split into the run's and everyone else's,
/// in cores on average (1.0: one core busy the whole time).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LoadShare {
    /// Cores `/proc/stat` lists.
    pub cores: usize,
    pub busy_cores: f64,
    /// This process and its reaped children.
    pub own_cores: f64,
    /// Everything else on the machine: what it took from the run.
    pub others_cores: f64,
}

impl LoadWatch {
    pub fn start() -> LoadWatch {
        LoadWatch {
            cores: CoreTimes::now(),
            own: cpu_time(),
            at: Instant::now(),
        }
    }

    /// How long it has watched.
    pub fn elapsed(&self) -> Duration {
        self.at.elapsed()
    }

    /// The load from the start until now. `/proc/stat` counts in ticks (10 ms on most
    /// kernels), so a run of a second or more reads to within a few hundredths of a core.
    pub fn until_now(&self) -> LoadShare {
        let own = cpu_time().saturating_sub(self.own);
        LoadShare::between(
            &self.cores,
            &CoreTimes::now(),
            own.as_secs_f64(),
            self.at.elapsed().as_secs_f64(),
        )
    }
}

impl LoadShare {
    /// From the cores' times at both ends and the run's own CPU seconds in `wall_secs`.
    pub fn between(
        before: &CoreTimes,
        after: &CoreTimes,
        own_secs: f64,
        wall_secs: f64,
    ) -> LoadShare {
        let busy_cores: f64 = before
            .busy_pct_until(after)
            .iter()
            .map(|pct| pct / 100.0)
            .sum();
        let own_cores = if wall_secs > 0.0 {
            own_secs / wall_secs
        } else {
            0.0
        };
        LoadShare {
            cores: before.0.len().min(after.0.len()),
            busy_cores,
            own_cores,
            // The two clocks tick apart: a run alone on the machine may read a hair above it.
            others_cores: (busy_cores - own_cores).max(0.0),
        }
    }
}

/// `cpuN user nice system idle iowait irq softirq steal ...` → (busy, total) per core. Busy
/// leaves out idle and iowait, and interrupt time too (irq, softirq): the kernel charges it to
/// no process, so it is neither the run's CPU nor another program's, and a run that talks over
/// loopback causes most of it itself (70–110 ms of softirq in a 0.2 s async-io run, which read
/// as another program holding half a core).
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
            let not_busy: u64 = [3, 4, 5, 6]
                .iter()
                .map(|&i| fields.get(i).copied().unwrap_or(0))
                .sum();
            (total - not_busy, total)
        })
        .collect()
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
        // Interrupt time is nobody's; stolen time (another VM) is busy.
        assert_eq!(parse_cores("cpu0 5 1 4 30 2 3 4 1\n"), vec![(11, 50)]);
        let before = CoreTimes(vec![(10, 50)]);
        let after = CoreTimes(vec![(35, 100)]);
        assert_eq!(before.busy_pct_until(&after), vec![50.0]);
    }

    #[test]
    fn others_are_the_busy_cores_the_run_did_not_use() {
        // Two cores over one second: one fully busy, one half busy; the run used 0.9 s of CPU.
        let before = CoreTimes(vec![(0, 0), (0, 0)]);
        let after = CoreTimes(vec![(100, 100), (50, 100)]);
        let share = LoadShare::between(&before, &after, 0.9, 1.0);
        assert_eq!(share.cores, 2);
        assert!((share.busy_cores - 1.5).abs() < 1e-9, "{share:?}");
        assert!((share.own_cores - 0.9).abs() < 1e-9, "{share:?}");
        assert!((share.others_cores - 0.6).abs() < 1e-9, "{share:?}");
        // Alone on the machine, the clocks' skew never makes others negative.
        let alone = LoadShare::between(&before, &after, 1.6, 1.0);
        assert_eq!(alone.others_cores, 0.0);
    }

    #[test]
    fn a_watch_sees_its_own_busy_loop_as_its_own() {
        let began = Instant::now();
        let watch = LoadWatch::start();
        // 100 ms of this thread's CPU, however long a loaded machine takes to give it.
        let spun = thread_cpu_time();
        let mut x = 0u64;
        while thread_cpu_time() - spun < Duration::from_millis(100) {
            x = std::hint::black_box(x.wrapping_add(1));
        }
        let share = watch.until_now();
        let wall = began.elapsed().as_secs_f64();
        // The watch's wall time is within ours, and its CPU time holds at least our 100 ms.
        assert!(share.own_cores >= 0.1 / wall, "{share:?} over {wall} s");
        assert!(share.others_cores >= 0.0 && share.others_cores <= share.cores as f64);
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
