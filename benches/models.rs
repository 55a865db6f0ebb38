//! What the Models lessons' measurement loops cost by themselves, so their figures can be
//! read net of it: the calibration loop around one operation (`costs` times batches of an
//! operation with `calibrate::time_ops`; an empty operation shows what the loop adds to each),
//! the median and quartiles of a thorough run's 31 results, and what the async-io load
//! generator does around each request besides the request (two clock reads and a histogram
//! record).
//!
//! `cargo bench --bench models` (well under a minute after the build).

use conlab::lab::calibrate::{Cost, time_ops};
use conlab::lab::latency::LatencyHistogram;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use std::time::{Duration, Instant};

fn calibration(c: &mut Criterion) {
    let mut group = c.benchmark_group("calibration");
    group.throughput(Throughput::Elements(1));
    // The loop alone: what `time_ops` adds to every operation it times.
    group.bench_function("time_ops loop, per empty operation", |b| {
        b.iter_custom(|iters| time_ops(iters, || black_box(())))
    });
    let runs: Vec<f64> = (0..31).map(|i| 100.0 + (i * 37 % 31) as f64).collect();
    group.bench_function("median and quartiles of 31 runs", |b| {
        b.iter(|| Cost::of(black_box(&runs)))
    });
    group.finish();
}

fn load_generator(c: &mut Criterion) {
    let mut group = c.benchmark_group("load generator");
    group.throughput(Throughput::Elements(1));
    let mut histogram = LatencyHistogram::default();
    // Per request: the clock at the write, the clock at the answer, the latency recorded.
    group.bench_function("bookkeeping per request", |b| {
        b.iter_custom(|iters| {
            let started = Instant::now();
            for _ in 0..iters {
                let sent = Instant::now();
                histogram.record(black_box(sent.elapsed().as_nanos() as u64));
            }
            started.elapsed()
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = calibration, load_generator
}
criterion_main!(benches);
