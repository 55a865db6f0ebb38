//! Benchmarks of the lab's hot paths: the counted mutex against `std::sync::Mutex` (alone and
//! contended by two threads), the event codec that carries every live snapshot, the
//! simulated GIL's hand-off, and recording latencies (the queue's and the pipe's hot loops)
//! into a fixed-size histogram against keeping every sample.
//!
//! Run with `cargo bench` (one to two minutes on a 2-core machine after the build; other load
//! on the machine skews it badly); `cargo bench -- codec` runs one group. Goals: counted mutex
//! uncontended ≤ 1.3× the time of std, contended ≥ 0.9× std's throughput; the codec
//! ≥ 1,000,000 encode+decode a second.

use conlab::event::{Body, Event};
use conlab::lab::counted_mutex::CountedMutex;
use conlab::lab::gil::Gil;
use conlab::lab::latency::LatencyHistogram;
use conlab::lab::run_clock::SplitMix64;
use conlab::report::Metrics;
use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use std::sync::{Barrier, Mutex};
use std::time::{Duration, Instant};

/// Lock/increment/unlock operations each thread does per contended iteration.
const CONTENDED_BATCH: u64 = 1000;

/// The two mutexes behind one interface, so each benchmark body is written once.
trait Lockable: Sync {
    fn new() -> Self;
    /// Lock, add one, unlock.
    fn bump(&self);
    fn value(&self) -> u64;
}

impl Lockable for Mutex<u64> {
    fn new() -> Self {
        Mutex::new(0)
    }
    #[inline]
    fn bump(&self) {
        let mut guard = self.lock().unwrap();
        *guard = black_box(*guard + 1);
    }
    fn value(&self) -> u64 {
        *self.lock().unwrap()
    }
}

impl Lockable for CountedMutex<u64> {
    fn new() -> Self {
        CountedMutex::new(0)
    }
    #[inline]
    fn bump(&self) {
        let mut guard = self.lock();
        *guard = black_box(*guard + 1);
    }
    fn value(&self) -> u64 {
        *self.lock()
    }
}

fn uncontended<M: Lockable>(c: &mut Criterion, group_name: &str, name: &str) {
    let mut group = c.benchmark_group(group_name);
    group.throughput(Throughput::Elements(1));
    let m = M::new();
    group.bench_function(name, |b| b.iter(|| black_box(&m).bump()));
    group.finish();
}

/// Two threads, released together by a barrier, each do `iters * CONTENDED_BATCH` operations on
/// one mutex; the clock runs from the release until both are done.
fn two_threads<M: Lockable>(iters: u64) -> Duration {
    let m = M::new();
    let start = Barrier::new(3);
    let ops = iters * CONTENDED_BATCH;
    let from = std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                start.wait();
                for _ in 0..ops {
                    m.bump();
                }
            });
        }
        start.wait();
        Instant::now()
    });
    // Leaving the scope joined both threads.
    let elapsed = from.elapsed();
    assert_eq!(m.value(), 2 * ops, "lost an update");
    elapsed
}

fn mutex_uncontended(c: &mut Criterion) {
    uncontended::<Mutex<u64>>(c, "mutex_uncontended", "std");
    uncontended::<CountedMutex<u64>>(c, "mutex_uncontended", "counted");
}

/// Contended throughput on a 2-core machine is bimodal: some runs hand the lock back and forth
/// (~25 ns an operation), in others one thread keeps re-taking it while the other sleeps in the
/// kernel (~5-8 ns). Equal-sized samples and more of them keep one run's mix from skewing the
/// estimate; compare std and counted from the same `cargo bench`, and repeat it.
fn mutex_contended(c: &mut Criterion) {
    let mut group = c.benchmark_group("mutex_contended_2_threads");
    group.sampling_mode(SamplingMode::Flat);
    group.sample_size(40);
    group.measurement_time(Duration::from_secs(4));
    // One iteration is a batch of CONTENDED_BATCH operations on each of the two threads.
    group.throughput(Throughput::Elements(2 * CONTENDED_BATCH));
    group.bench_function("std", |b| b.iter_custom(two_threads::<Mutex<u64>>));
    group.bench_function("counted", |b| {
        b.iter_custom(two_threads::<CountedMutex<u64>>)
    });
    group.finish();
}

/// The lock scenario's live snapshot with two threads, as the reporter publishes it.
fn live_event() -> Event {
    let mut metrics = Metrics::default();
    metrics.set("iterations_done", 1_234_567u64);
    metrics.set("iterations_total", 2_000_000u64);
    metrics.set("thread_0_done", 617_283u64);
    metrics.set("thread_1_done", 617_284u64);
    metrics.set("balance", -63i64);
    metrics.set("lost_updates", 4_321u64);
    metrics.set("acquisitions", 1_234_567u64);
    metrics.set("contended", 98_765u64);
    metrics.set("ops_per_sec", 41_152_233.333_333_336f64);
    Event::new(312.456, 123_456, Body::Live { metrics })
}

fn log_event() -> Event {
    Event::new(
        1_042.5,
        123_456,
        Body::Log {
            text: "thread 1 finished its 1,000,000 changes; waiting for the others".into(),
        },
    )
}

fn codec(c: &mut Criterion) {
    let mut group = c.benchmark_group("codec");
    group.throughput(Throughput::Elements(1));
    for (name, event) in [("live", live_event()), ("log", log_event())] {
        let line = event.encode().unwrap();
        assert_eq!(Event::decode(&line).unwrap(), event);
        group.bench_function(format!("{name}/encode+decode"), |b| {
            b.iter(|| {
                let line = black_box(&event).encode().unwrap();
                Event::decode(black_box(&line)).unwrap()
            })
        });
        group.bench_function(format!("{name}/encode"), |b| {
            b.iter(|| black_box(&event).encode().unwrap())
        });
        group.bench_function(format!("{name}/decode"), |b| {
            b.iter(|| Event::decode(black_box(&line)).unwrap())
        });
    }
    group.finish();
}

/// Two threads passing the simulated GIL back and forth as fast as it allows: each takes it
/// and releases it at once with a forced switch (wait until the other has taken it), so
/// every release is a hand-off. The time per element is one hand-off.
fn gil_handoff(c: &mut Criterion) {
    let mut group = c.benchmark_group("gil");
    group.throughput(Throughput::Elements(1));
    group.bench_function("handoff", |b| {
        b.iter_custom(|iters| {
            let gil = Gil::new(Duration::from_millis(5));
            let start = Barrier::new(3);
            let from = std::thread::scope(|s| {
                for me in 0..2 {
                    let (gil, start) = (&gil, &start);
                    s.spawn(move || {
                        start.wait();
                        for _ in 0..iters.div_ceil(2) {
                            gil.take(me);
                            gil.release(true);
                        }
                    });
                }
                start.wait();
                Instant::now()
            });
            // Per hand-off, not per loop: a thread that found nobody waiting did not hand off.
            from.elapsed()
                .mul_f64(iters as f64 / gil.handoffs().max(1) as f64)
        })
    });
    group.finish();
}

/// Latencies recorded per benchmark iteration: one short `queue mode=rate` run's worth.
const LATENCY_SAMPLES: usize = 100_000;

/// Per sample: recording into the histogram and summing it up, against pushing every sample
/// and sorting them for the percentiles (what the scenarios did before, 8 bytes a sample).
fn latency_recording(c: &mut Criterion) {
    let mut rng = SplitMix64::new(1);
    // Like a queue's latencies: mostly a few µs, some tens, a rare hundreds.
    let samples: Vec<u64> = (0..LATENCY_SAMPLES)
        .map(|_| 2_000 + rng.up_to(10_000) * (1 + rng.up_to(1) * rng.up_to(30)))
        .collect();
    let mut group = c.benchmark_group("latency");
    group.throughput(Throughput::Elements(LATENCY_SAMPLES as u64));
    group.bench_function("histogram", |b| {
        b.iter(|| {
            let mut h = LatencyHistogram::default();
            for &ns in black_box(&samples) {
                h.record(ns);
            }
            h.summary()
        })
    });
    group.bench_function("every_sample", |b| {
        b.iter(|| {
            let mut kept = Vec::with_capacity(LATENCY_SAMPLES);
            for &ns in black_box(&samples) {
                kept.push(ns);
            }
            kept.sort_unstable();
            (kept[kept.len() / 2], kept[kept.len() * 99 / 100])
        })
    });
    group.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(30)
}

criterion_group! {
    name = benches;
    config = config();
    targets = mutex_uncontended, mutex_contended, codec, gil_handoff, latency_recording
}
criterion_main!(benches);
