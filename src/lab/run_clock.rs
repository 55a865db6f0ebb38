//! One clock for every process of a run. CLOCK_MONOTONIC is system-wide, so a time taken in a
//! child (and sent to the runner, as a pool worker's start) is comparable with one taken in
//! the runner: [`RunClock`] puts such readings on the run's scale (milliseconds since the runner
//! started), the scale of every event's `t_ms`. Also: a seeded PRNG and a cancellable sleep.

use crate::probe::Probe;

pub use crate::probe::mono_ns;

/// Milliseconds since the run began, from any process of the run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RunClock {
    pub epoch_ns: u64,
}

impl RunClock {
    /// The runner's clock: zero where its probe started, as its events' `t_ms`.
    pub fn of(probe: &Probe) -> RunClock {
        let since = (probe.elapsed_ms() * 1e6) as u64;
        RunClock {
            epoch_ns: mono_ns().saturating_sub(since),
        }
    }

    /// `ns` (a [`mono_ns`] reading) as milliseconds since the run began, to the microsecond.
    pub fn ms(&self, ns: u64) -> f64 {
        let ms = ns.saturating_sub(self.epoch_ns) as f64 / 1e6;
        (ms * 1000.0).round() / 1000.0
    }

    pub fn now_ms(&self) -> f64 {
        self.ms(mono_ns())
    }
}

/// splitmix64: a tiny, well-mixed PRNG, so seeded random delays repeat exactly.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> SplitMix64 {
        SplitMix64(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..=max` (the bias of a modulo is far below anything a delay shows).
    pub fn up_to(&mut self, max: u64) -> u64 {
        match max.checked_add(1) {
            Some(n) => self.next_u64() % n,
            None => self.next_u64(),
        }
    }
}

/// Sleeps `ms` in short slices, returning early (false) when `cancelled` turns true.
pub fn sleep_unless(ms: u64, cancelled: impl Fn() -> bool) -> bool {
    let deadline = std::time::Instant::now() + std::time::Duration::from_millis(ms);
    loop {
        if cancelled() {
            return false;
        }
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        if left.is_zero() {
            return true;
        }
        std::thread::sleep(left.min(std::time::Duration::from_millis(20)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix_repeats_and_stays_in_range() {
        let a: Vec<u64> = {
            let mut r = SplitMix64::new(1);
            (0..5).map(|_| r.up_to(3000)).collect()
        };
        let b: Vec<u64> = {
            let mut r = SplitMix64::new(1);
            (0..5).map(|_| r.up_to(3000)).collect()
        };
        assert_eq!(a, b);
        assert!(a.iter().all(|x| *x <= 3000));
        assert_ne!(a[0], a[1]);
        assert_eq!(SplitMix64::new(7).up_to(0), 0);
    }

    #[test]
    fn run_clock_counts_from_the_epoch() {
        let clock = RunClock {
            epoch_ns: 1_000_000_000,
        };
        assert_eq!(clock.ms(1_512_345_678), 512.346);
        assert_eq!(clock.ms(5), 0.0, "before the epoch is zero, not negative");
    }
}
