//! CPU work that the compiler cannot remove, counted in operations, and how many of them this
//! machine does in a microsecond: what "a task works for 10 µs" means in busy loops.

use crate::lab::cpu_stat::thread_cpu_time;
use std::hint::black_box;
use std::time::Instant;

/// `ops` operations ("bytecodes"): a multiply and an add each, through `black_box`.
#[inline]
pub fn busy_ops(x: &mut u64, ops: u64) {
    for _ in 0..ops {
        *x = black_box(
            x.wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407),
        );
    }
}

/// Operations per microsecond on the calling thread, timed on its CPU clock (time another
/// program takes the CPU for is not counted): the fastest of a few timings.
pub fn ops_per_us() -> f64 {
    const OPS: u64 = 1 << 18;
    let mut x = 1;
    busy_ops(&mut x, OPS); // Caches and the CPU's clock settle.
    let fastest = (0..5)
        .map(|_| {
            let t = thread_cpu_time();
            busy_ops(&mut x, OPS);
            thread_cpu_time().saturating_sub(t).as_secs_f64()
        })
        .filter(|secs| *secs > 0.0)
        .fold(f64::INFINITY, f64::min);
    if fastest.is_finite() {
        OPS as f64 / (fastest * 1e6)
    } else {
        // A CPU clock that did not move: time on the wall clock instead.
        let t = Instant::now();
        busy_ops(&mut x, OPS);
        OPS as f64 / (t.elapsed().as_secs_f64() * 1e6).max(1e-9)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_microsecond_of_work_is_some_operations() {
        let rate = ops_per_us();
        // From a slow debug build on a loaded core to a fast release build.
        assert!((1.0..10_000.0).contains(&rate), "{rate} ops/µs");
    }
}
