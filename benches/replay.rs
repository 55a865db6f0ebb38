//! What a step back costs in a replay: the model is rebuilt from the start of the recording
//! up to the position, so the worst step is one back from the end of the longest recording.
//! The recording here is a 10-second dashboard session of the multicore lesson in processes
//! mode on a 64-core machine, sampled at the fastest interval (200 ms) with threads shown:
//! a runner and 64 workers, a live snapshot every 100 ms with every worker's figures, 50
//! samples of 64 cores and 65 processes.
//!
//! `cargo bench --bench replay`.

use conlab::app::replay::Replay;
use conlab::event::record::{Header, Item, Recording, Source};
use conlab::event::{Body, Event};
use conlab::metrics::Metrics;
use conlab::sampler::{ProcSample, ThreadSample};
use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;

const CORES: usize = 64;
const RUNNER: u32 = 10_000;

fn event(t_ms: f64, pid: u32, body: Body) -> Item {
    Item::Event {
        run: 1,
        event: Event::new(t_ms, pid, body),
    }
}

fn process(pid: u32, ppid: u32) -> ProcSample {
    ProcSample {
        pid,
        ppid,
        pgrp: RUNNER,
        name: "conlab".into(),
        state: 'R',
        cpu_pct: 99.5,
        threads: 1,
        tasks: vec![ThreadSample {
            tid: pid,
            name: "busy".into(),
            state: 'R',
            cpu_pct: 99.5,
            core: pid % CORES as u32,
            voluntary_switches: 3,
            involuntary_switches: 120,
        }],
    }
}

/// Ten seconds of a 64-worker multicore run in a dashboard session.
fn session() -> Recording {
    let header = Header::new(Source::Dashboard, CORES, Some(200));
    let mut params = serde_json::Map::new();
    params.insert("mode".into(), "processes".into());
    params.insert("workers".into(), CORES.into());
    let mut items = vec![Item::Run {
        run: 1,
        at_ms: 0.0,
        scenario: "multicore".into(),
        params,
    }];
    let role = |role: &str| role.to_string();
    items.push(event(
        0.1,
        RUNNER,
        Body::Process {
            ppid: 1,
            role: role("runner"),
        },
    ));
    let workers: Vec<u32> = (1..=CORES as u32).map(|i| RUNNER + i).collect();
    for (i, pid) in workers.iter().enumerate() {
        let body = Body::Process {
            ppid: RUNNER,
            role: role("worker"),
        };
        items.push(event(1.0 + i as f64, *pid, body));
        let begin = Body::Begin {
            span: i as u64,
            cat: "busy".into(),
            name: format!("busy-{i}"),
            tid: Some(*pid),
            flow: None,
        };
        items.push(event(70.0, *pid, begin));
    }
    for tick in 1..=100 {
        let t_ms = tick as f64 * 100.0;
        let mut metrics = Metrics::default();
        metrics.set("progress_pct", tick as f64);
        metrics.set("ops", tick as u64 * 1_000_000);
        metrics.set("cpu_cores_used", 63.5);
        for i in 0..CORES {
            metrics.set(&format!("thread_{i}_run_pct"), 99.0);
        }
        items.push(event(t_ms, RUNNER, Body::Live { metrics }));
        if tick % 2 == 0 {
            let mut processes = vec![process(RUNNER, 1)];
            processes.extend(workers.iter().map(|pid| process(*pid, RUNNER)));
            items.push(Item::Cpu {
                t_ms,
                cores: vec![99.0; CORES],
                total: 99.0,
                conlab: 2.0,
                processes,
                reaped: vec![],
            });
        }
    }
    for (i, pid) in workers.iter().enumerate() {
        items.push(event(10_000.0, *pid, Body::End { span: i as u64 }));
    }
    items.push(Item::Ended {
        run: 1,
        t_ms: 10_010.0,
        exit: Some(conlab::exit::Exit::Code(0)),
    });
    Recording { header, items }
}

fn step_back(c: &mut Criterion) {
    let mut replay =
        Replay::new(session(), "bench.jsonl", (200, 60)).expect("a replayable session");
    replay.seek(replay.len());
    let end = replay.len();
    c.bench_function(
        &format!("step back from the end of a 10 s 64-core session ({end} items)"),
        |b| {
            b.iter(|| {
                // Back to the last item but one, from the end: a rebuild from the start.
                replay.seek(end - 1);
                replay.seek(end);
                black_box(replay.position())
            })
        },
    );
}

criterion_group!(benches, step_back);
criterion_main!(benches);
