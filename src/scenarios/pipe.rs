//! `pipe` — a duplex pipe between two processes: `ping` sends 8 bytes, `pong` sends them back,
//! `rounds` times; the round-trip distribution, then the same with both pinned to one CPU,
//! where each round trip is two context switches.
//!
//! The pipe is a `socketpair(AF_UNIX, SOCK_STREAM)`, what Python's duplex `Pipe()` is made of
//! on Unix; each process has its end as stdin and both reads and writes it.

use super::{Findings, Group, Scenario};
use crate::event::Body;
use crate::i18n::Text;
use crate::lab::affinity;
use crate::lab::children;
use crate::lab::join;
use crate::lab::latency::LatencyHistogram;
use crate::params::{ParamKind, ParamSpec};
use crate::probe::Probe;
use crate::report::{Metrics, group_thousands};
use std::io::{Read, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Instant;

const ROUNDS: ParamSpec = ParamSpec {
    key: "rounds",
    kind: ParamKind::Int {
        min: 1,
        max: 10_000_000,
    },
    default: "10000",
    help: "round trips to measure (after 100 of warm-up)",
};
const PINNED_ROUNDS: ParamSpec = ParamSpec {
    key: "pinned_rounds",
    kind: ParamKind::Int {
        min: 0,
        max: 1_000_000,
    },
    default: "2000",
    help: "round trips with both processes pinned to one CPU, for the context-switch cost (0 skips)",
};

pub static SCENARIO: Scenario = Scenario::lesson(
    "pipe",
    Group::Processes,
    "Pipe — ping-pong between two processes",
    "two processes send 8 bytes back and forth over a duplex pipe: round-trip latency, and a context switch's cost",
    include_str!("../../assets/lessons/pipe.en.md"),
    &[ROUNDS, PINNED_ROUNDS],
    run,
)
.with_chinese(
    "Pipe — 两个进程之间来回传递",
    "两个进程通过双向管道来回发送 8 个字节：往返延迟，以及一次上下文切换的代价",
    include_str!("../../assets/lessons/pipe.zh.md"),
)
.with_compare("rounds", &["1000", "10000"])
.with_highlights(&[
    "rtt_p50_us",
    "rtt_p99_us",
    "rtt_max_us",
    "rtt_mean_us",
    "round_trips_per_sec",
    "context_switch_us",
    "wall_ms",
]);

/// The ping process: it sends, waits for the echo, and times it.
pub static PING: Scenario = Scenario::child(
    "pipe-ping",
    "Pipe ping",
    &[
        ROUNDS,
        PINNED_ROUNDS,
        ParamSpec {
            key: "peer_pid",
            kind: ParamKind::Int {
                min: 0,
                max: i32::MAX as i64,
            },
            default: "0",
            help: "the pong process, pinned with this one",
        },
    ],
    ping,
);

/// The pong process: it sends back whatever it reads.
pub static PONG: Scenario = Scenario::child("pipe-pong", "Pipe pong", &[], pong);

/// Round trips before the measured ones: page faults, caches, the scheduler settling.
const WARM_UP: usize = 100;

fn run(probe: &Probe) -> Result<Findings, String> {
    let p = probe.params();
    let rounds = p.int("rounds");
    let pinned = p.int("pinned_rounds");
    let started = Instant::now();
    // std makes the pair with SOCK_CLOEXEC: only the stdin copies cross into the children.
    let (ping_end, pong_end) =
        UnixStream::pair().map_err(|e| format!("could not make a socket pair: {e}"))?;
    let pong = children::spawn_with(
        probe,
        PONG.id,
        "pong",
        &[],
        Stdio::from(OwnedFd::from(pong_end)),
        |_| {},
    )
    .map_err(|e| format!("could not start the pong process: {e}"))?;
    let done = Arc::new(AtomicU64::new(0));
    let seen = done.clone();
    let ping = children::spawn_with(
        probe,
        PING.id,
        "ping",
        &[
            format!("rounds={rounds}"),
            format!("pinned_rounds={pinned}"),
            format!("peer_pid={}", pong.pid),
        ],
        Stdio::from(OwnedFd::from(ping_end)),
        move |e| {
            if let Body::Live { metrics } = &e.body
                && let Some(n) = metrics.get("rounds_done")
            {
                seen.store(n.as_f64() as u64, Relaxed);
            }
        },
    )
    .map_err(|e| format!("could not start the ping process: {e}"))?;
    probe.log(format!(
        "parent process {} joined ping {} and pong {} with a socketpair",
        std::process::id(),
        ping.pid,
        pong.pid
    ));
    let total = (rounds + pinned) as f64;
    let snapshot = |m: &mut Metrics| {
        let n = done.load(Relaxed);
        m.set("rounds_done", n);
        m.set("progress_pct", n as f64 * 100.0 / total);
    };
    let (ping_end, pong_end) = probe.with_live(snapshot, || {
        let ping = join::join(ping, probe);
        // Ping has closed its end: pong reads end-of-file and exits.
        (ping, join::join(pong, probe))
    });
    let wall_ms = started.elapsed().as_secs_f64() * 1000.0;
    let mut m = Metrics::default();
    let mut notes = Vec::new();
    let ok = match &ping_end.report {
        Some(r) if r.ok => {
            for (name, value) in r.metrics.iter().filter(|(n, _)| *n != "wall_ms") {
                m.set(name, value);
            }
            notes.extend(r.note_texts());
            true
        }
        Some(r) => {
            notes.push(match r.error.as_deref() {
                Some(error) => Text::new(
                    format!("ping failed: {error}"),
                    format!("ping 进程失败：{error}"),
                ),
                None => Text::new("ping failed: see its notes", "ping 进程失败：见它的说明"),
            });
            false
        }
        None => {
            let exit = ping_end.exit;
            notes.push(Text::new(
                format!("ping ended ({exit}) without a report"),
                format!("ping 进程结束了（{exit}），没有留下报告"),
            ));
            false
        }
    };
    m.set("wall_ms", wall_ms);
    if !pong_end.exit.success() {
        let exit = pong_end.exit;
        notes.push(Text::new(
            format!("pong ended with {exit}"),
            format!("pong 进程以 {exit} 结束"),
        ));
    }
    Ok(Findings {
        ok: ok && pong_end.exit.success() && !probe.cancelled(),
        wall_ms,
        metrics: m,
        notes,
    })
}

/// This process's end of the pipe (a duplicate of stdin, so std can own it).
fn stdin_stream() -> Result<UnixStream, String> {
    let fd = std::io::stdin()
        .as_fd()
        .try_clone_to_owned()
        .map_err(|e| format!("stdin: {e}"))?;
    Ok(UnixStream::from(fd))
}

/// `n` round trips; each one's time in nanoseconds goes to `into` (unless it is None).
fn round_trips(
    stream: &mut UnixStream,
    n: usize,
    mut into: Option<&mut LatencyHistogram>,
    done: &AtomicU64,
    probe: &Probe,
) -> Result<(), String> {
    let mut buf = [0u8; 8];
    for i in 0..n {
        if i % 256 == 0 && probe.cancelled() {
            break;
        }
        let sent = (i as u64).to_le_bytes();
        let t = Instant::now();
        stream
            .write_all(&sent)
            .and_then(|_| stream.read_exact(&mut buf))
            .map_err(|e| format!("round trip {i}: {e}"))?;
        let ns = t.elapsed().as_nanos() as u64;
        if buf != sent {
            return Err(format!("round trip {i}: pong sent back other bytes"));
        }
        if let Some(h) = into.as_deref_mut() {
            h.record(ns);
            done.fetch_add(1, Relaxed);
        }
    }
    Ok(())
}

/// Pins this process and `peer` to the CPU this one is on now; the CPU, or why not.
fn pin_both(peer: i32) -> Result<usize, String> {
    let cpu = affinity::current()?;
    affinity::pin(0, &[cpu]).map_err(|e| format!("ping: {e}"))?;
    affinity::pin(peer, &[cpu]).map_err(|e| format!("pong: {e}"))?;
    Ok(cpu)
}

fn ping(probe: &Probe) -> Result<Findings, String> {
    let p = probe.params();
    let rounds = p.int("rounds") as usize;
    let pinned = p.int("pinned_rounds") as usize;
    let peer = p.int("peer_pid") as i32;
    let mut stream = stdin_stream()?;
    let started = Instant::now();
    let done = AtomicU64::new(0);
    let mut free = LatencyHistogram::default();
    let mut on_one_cpu = LatencyHistogram::default();
    let mut notes = Vec::new();
    let mut cpu = None;
    let snapshot = |m: &mut Metrics| m.set("rounds_done", done.load(Relaxed));
    let measured_secs = probe.with_live(snapshot, || -> Result<f64, String> {
        let warm_up = probe.span(PHASE, "warm-up");
        round_trips(&mut stream, WARM_UP, None, &done, probe)?;
        drop(warm_up);
        let t = Instant::now();
        let measured = probe.span(PHASE, format!("{rounds} round trips"));
        round_trips(&mut stream, rounds, Some(&mut free), &done, probe)?;
        drop(measured);
        let secs = t.elapsed().as_secs_f64();
        if pinned > 0 && !probe.cancelled() {
            match pin_both(peer) {
                Ok(c) => {
                    cpu = Some(c);
                    let _pinned = probe.span(PHASE, format!("{pinned} round trips on CPU {c}"));
                    round_trips(&mut stream, WARM_UP, None, &done, probe)?;
                    round_trips(&mut stream, pinned, Some(&mut on_one_cpu), &done, probe)?;
                }
                Err(e) => notes.push(Text::new(
                    format!("no context-switch figure: could not pin ({e})"),
                    format!("没有上下文切换的数据：无法把两个进程绑定到同一个 CPU（{e}）"),
                )),
            }
        }
        Ok(secs)
    })?;
    let mut m = Metrics::default();
    m.set("rounds", free.len());
    let n = free.len();
    if let Some(l) = free.summary() {
        l.add_to(&mut m, "rtt");
        m.set("round_trips_per_sec", n as f64 / measured_secs.max(1e-9));
        let rounds = group_thousands(n as i64);
        let (p50, p99, max) = (
            l.p50_ns as f64 / 1e3,
            l.p99_ns as f64 / 1e3,
            l.max_ns as f64 / 1e3,
        );
        notes.push(Text::new(
            format!(
                "{rounds} round trips of 8 bytes over a socketpair: median {p50:.1} µs, p99 {p99:.1} µs, worst {max:.1} µs"
            ),
            format!(
                "经 socketpair 往返 8 字节共 {rounds} 次：中位数 {p50:.1} µs，p99 {p99:.1} µs，最慢 {max:.1} µs"
            ),
        ));
    }
    if let (Some(cpu), Some(l)) = (cpu, on_one_cpu.summary()) {
        l.add_to(&mut m, "pinned_rtt");
        let switch_us = l.p50_ns as f64 / 2e3;
        m.set("context_switch_us", (switch_us * 1000.0).round() / 1000.0);
        m.set("pinned_cpu", cpu as u64);
        let p50 = l.p50_ns as f64 / 1e3;
        notes.push(Text::new(
            format!(
                "both pinned to CPU {cpu}: a round trip is 2 context switches + 2 writes + 2 reads, median {p50:.1} µs, so one switch costs at most {switch_us:.1} µs here"
            ),
            format!(
                "两个进程都绑定在 CPU {cpu} 上：一次往返 = 2 次上下文切换 + 2 次写 + 2 次读，中位数 {p50:.1} µs，所以在这台机器上一次切换最多花 {switch_us:.1} µs"
            ),
        ));
    }
    m.set("wall_ms", started.elapsed().as_secs_f64() * 1000.0);
    Ok(Findings {
        ok: true,
        wall_ms: started.elapsed().as_secs_f64() * 1000.0,
        metrics: m,
        notes,
    })
}

/// The trace's word for a stretch of ping's round trips (warm-up, measured, pinned).
const PHASE: &str = "phase";

/// Sends back every 8 bytes it reads, until ping closes its end.
fn pong(_probe: &Probe) -> Result<Findings, String> {
    let mut stream = stdin_stream()?;
    let started = Instant::now();
    let mut buf = [0u8; 8];
    let mut echoed = 0u64;
    loop {
        match stream.read_exact(&mut buf) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
            Err(e) => return Err(format!("reading: {e}")),
        }
        stream
            .write_all(&buf)
            .map_err(|e| format!("writing: {e}"))?;
        echoed += 1;
    }
    let mut m = Metrics::default();
    m.set("echoed", echoed);
    Ok(Findings {
        ok: true,
        wall_ms: started.elapsed().as_secs_f64() * 1000.0,
        metrics: m,
        notes: vec![],
    })
}
