//! `costs` — what each step of multitasking costs on this machine: fork, spawning a program, a
//! thread, a context switch between threads and between processes, a mutex alone and handed
//! between threads, a channel, a round trip over a pipe, a Unix socket and loopback TCP, and
//! an event-loop task. Each is the median of repeated runs with its spread
//! ([`crate::lab::calibrate`]), shown beside what published measurements found; other
//! lessons can quote it ("this pool's start-up ≈ 4 forks").
//!
//! Forks happen while the runner has other threads (the live reporter, echo threads): the
//! child only makes system calls (read, write, close, _exit), which is all a child of a
//! threaded process may safely do.

use super::{Findings, Group, Panel, Scenario, TableRow, TableSpec};
use crate::i18n::Text;
use crate::lab::calibrate::{self, Cost, time_fallible, time_ops};
use crate::params::choice_enum;
use crate::probe::Probe;
use crate::report::Metrics;
use nix::sched::{CpuSet, sched_getaffinity, sched_getcpu, sched_setaffinity};
use nix::unistd::Pid;
use std::fs::File;
use std::hint::black_box;
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

choice_enum! {
    /// How long to measure.
    pub(super) enum Mode {
        Quick = "quick",
        Thorough = "thorough",
    }
}

/// Each cost: its key in the report, its words, and what published measurements found (the
/// lesson names each source in full).
const ROWS: &[TableRow] = &[
    TableRow {
        key: "fork_exit_wait",
        en: "fork + exit + wait",
        zh: "fork + exit + wait（创建并回收子进程）",
        typical: "50–500 µs lmbench",
    },
    TableRow {
        key: "spawn_wait",
        en: "spawn + wait of `true`",
        zh: "启动并等待一个小程序（true）",
        typical: "0.3–1 ms lmbench",
    },
    TableRow {
        key: "thread_spawn_join",
        en: "thread spawn + join",
        zh: "创建线程 + join",
        typical: "≈ 20 µs NPTL 2003",
    },
    TableRow {
        key: "switch_threads",
        en: "context switch, 2 threads on 1 CPU",
        zh: "线程切换（2 个线程，同一 CPU）",
        typical: "1–2 µs Bendersky",
    },
    TableRow {
        key: "switch_processes",
        en: "context switch, 2 processes on 1 CPU",
        zh: "进程切换（2 个进程，同一 CPU）",
        typical: "2–5 µs lmbench",
    },
    TableRow {
        key: "mutex",
        en: "mutex lock + unlock, uncontended",
        zh: "互斥锁加锁 + 解锁（无竞争）",
        typical: "25 ns Norvig",
    },
    TableRow {
        key: "handoff",
        en: "mutex handed to a waiting thread",
        zh: "锁交给正在等待的线程",
        typical: "2–10 µs",
    },
    TableRow {
        key: "channel",
        en: "channel send + receive",
        zh: "通道发送 + 接收",
        typical: "20–100 ns crossbeam",
    },
    TableRow {
        key: "pipe_rtt",
        en: "round trip over a pipe",
        zh: "管道往返一次",
        typical: "5–10 µs lmbench",
    },
    TableRow {
        key: "unix_rtt",
        en: "round trip over a Unix socket",
        zh: "Unix 套接字往返一次",
        typical: "5–10 µs lmbench",
    },
    TableRow {
        key: "tcp_rtt",
        en: "round trip over loopback TCP",
        zh: "本机 TCP 往返一次",
        typical: "10–30 µs lmbench",
    },
    TableRow {
        key: "task_spawn_join",
        en: "event-loop task spawn + join (tokio)",
        zh: "事件循环任务创建 + join（tokio）",
        typical: "< 1 µs tokio",
    },
];

pub static SCENARIO: Scenario = Scenario::lesson(
    "costs",
    Group::Models,
    "Costs — what each step of multitasking costs here",
    "fork, spawn, a thread, a context switch, a lock, a channel, a pipe, a socket, a task: each measured here, beside published figures",
    include_str!("../../assets/lessons/costs.en.md"),
    &[Mode::spec(
        "mode",
        Mode::Quick,
        "quick: 9 runs of each, a few seconds; thorough: 31 runs of 4 times the work",
    )],
    run,
)
.with_panel(Panel::Table(TableSpec { rows: ROWS }))
.with_chinese(
    "代价 — 多任务的每一步在这台机器上花多少时间",
    "fork、启动程序、线程、上下文切换、锁、通道、管道、套接字、任务：逐项在本机测量，并与公开的测量对照",
    include_str!("../../assets/lessons/costs.zh.md"),
);

/// How much to measure: runs of each cost, and a multiplier of each run's operations.
struct Plan {
    runs: usize,
    scale: u64,
}

impl Plan {
    fn of(mode: Mode) -> Plan {
        match mode {
            Mode::Quick => Plan { runs: 9, scale: 1 },
            Mode::Thorough => Plan { runs: 31, scale: 4 },
        }
    }
}

/// One measurement: `run(ops)` does `ops` operations and says how long they took.
type Measure = fn(u64) -> Result<Duration, String>;

/// Each row's measurement and its operations per run at quick's scale: a few ms a run, so
/// `quick` takes a couple of seconds even in a debug build on a busy machine.
const MEASURES: &[(&str, u64, Measure)] = &[
    ("fork_exit_wait", 20, fork_exit_wait),
    ("spawn_wait", 5, spawn_wait),
    ("thread_spawn_join", 100, thread_spawn_join),
    ("switch_threads", 1000, switch_threads),
    ("switch_processes", 1000, switch_processes),
    ("mutex", 100_000, mutex),
    ("handoff", 500, handoff),
    ("channel", 50_000, channel),
    ("pipe_rtt", 300, pipe_rtt),
    ("unix_rtt", 300, unix_rtt),
    ("tcp_rtt", 300, tcp_rtt),
    ("task_spawn_join", 5_000, task_spawn_join),
];

fn run(probe: &Probe) -> Result<Findings, String> {
    let mode = probe.params().choice::<Mode>("mode")?;
    let plan = Plan::of(mode);
    let started = Instant::now();
    let measured = Mutex::new(Metrics::default());
    let finished = std::sync::atomic::AtomicUsize::new(0);
    let snapshot = |m: &mut Metrics| {
        let so_far = measured.lock().unwrap_or_else(|p| p.into_inner());
        m.set(
            "progress_pct",
            finished.load(std::sync::atomic::Ordering::Relaxed) as f64 * 100.0
                / MEASURES.len() as f64,
        );
        for (name, value) in so_far.iter() {
            m.set(name, value);
        }
    };
    let mut costs = Vec::new();
    probe.with_live(snapshot, || -> Result<(), String> {
        for (key, ops, measure) in MEASURES {
            if probe.cancelled() {
                break;
            }
            let _span = probe.span(COST, *key);
            let cost = match calibrate::measure(
                plan.runs,
                ops * plan.scale,
                || probe.cancelled(),
                measure,
            ) {
                Ok(cost) => cost,
                // The cancel reached the measurement's own processes too (`true`, a forked
                // echo: they are in the run's process group), and they ended early.
                Err(_) if probe.cancelled() => break,
                Err(e) => return Err(format!("{key}: {e}")),
            };
            if let Some(cost) = cost {
                cost.add_to(&mut measured.lock().unwrap_or_else(|p| p.into_inner()), key);
                costs.push((*key, cost));
            }
            finished.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        Ok(())
    })?;
    let mut metrics = measured.into_inner().unwrap_or_else(|p| p.into_inner());
    metrics.set("runs", plan.runs as u64);
    let wall_ms = started.elapsed().as_secs_f64() * 1000.0;
    metrics.set("wall_ms", wall_ms);
    Ok(Findings {
        ok: costs.len() == MEASURES.len(),
        wall_ms,
        metrics,
        notes: notes(&costs, plan.runs),
    })
}

/// The trace's word for one cost being measured.
pub const COST: &str = "cost";

/// The median of `key`, in ns, if it was measured.
fn median(costs: &[(&str, Cost)], key: &str) -> Option<f64> {
    costs
        .iter()
        .find(|(k, _)| *k == key)
        .map(|(_, c)| c.median_ns)
}

fn us(ns: f64) -> String {
    crate::style::duration_ns(ns)
}

/// `0.9×`, `8.3×`, `45×`: a ratio to the precision it deserves.
fn times(x: f64) -> String {
    if x < 10.0 {
        format!("{x:.1}×")
    } else {
        format!("{x:.0}×")
    }
}

/// What this run's figures say, in both languages.
fn notes(costs: &[(&str, Cost)], runs: usize) -> Vec<Text> {
    let mut notes = Vec::new();
    let m = |key| median(costs, key);
    if let (Some(fork), Some(thread), Some(mutex)) =
        (m("fork_exit_wait"), m("thread_spawn_join"), m("mutex"))
    {
        notes.push(Text::new(
            format!(
                "a fork + exit + wait took {} (median of {runs} runs): {} a thread's spawn + join ({}) and {} an uncontended mutex ({})",
                us(fork),
                times(fork / thread),
                us(thread),
                times(fork / mutex),
                us(mutex)
            ),
            format!(
                "一次 fork + exit + wait 用了 {}（{runs} 次运行的中位数）：是创建并 join 一个线程（{}）的 {}，是一次无竞争加解锁（{}）的 {}",
                us(fork),
                us(thread),
                times(fork / thread),
                us(mutex),
                times(fork / mutex)
            ),
        ));
    }
    if let (Some(threads), Some(processes)) = (m("switch_threads"), m("switch_processes")) {
        let ratio = processes / threads;
        let (en, zh) = if ratio > 1.2 {
            (
                format!(
                    "a switch between processes cost {:.1}× one between threads: it also changes the address space",
                    ratio
                ),
                format!(
                    "进程之间切换的代价是线程之间的 {:.1} 倍：还要切换地址空间",
                    ratio
                ),
            )
        } else {
            (
                "switches between processes and between threads cost about the same here: the address-space change is cheap on this CPU".to_string(),
                "在这台机器上，进程切换和线程切换的代价差不多：这颗 CPU 切换地址空间很便宜".to_string(),
            )
        };
        notes.push(Text::new(
            format!(
                "a context switch (at most half a pinned round trip): {} between threads, {} between processes; {en}",
                us(threads),
                us(processes)
            ),
            format!(
                "一次上下文切换（至多是同一 CPU 上一次往返的一半）：线程之间 {}，进程之间 {}；{zh}",
                us(threads),
                us(processes)
            ),
        ));
    }
    if let (Some(task), Some(thread)) = (m("task_spawn_join"), m("thread_spawn_join")) {
        notes.push(Text::new(
            format!(
                "an event-loop task cost {} to spawn and join, {} less than a thread: why one loop can hold thousands of connections",
                us(task),
                times(thread / task)
            ),
            format!(
                "事件循环里的一个任务，创建并 join 只要 {}，是线程的 1/{}：这就是一个事件循环能撑住成千上万个连接的原因",
                us(task),
                times(thread / task).trim_end_matches('×')
            ),
        ));
    }
    if let Some((key, widest)) = costs
        .iter()
        .max_by(|a, b| a.1.spread_pct().total_cmp(&b.1.spread_pct()))
        && widest.spread_pct() > 50.0
    {
        notes.push(Text::new(
            format!(
                "{key} varied most: half its runs lay within {}–{}, {:.0}% of its median; something else was busy on this machine",
                us(widest.q1_ns),
                us(widest.q3_ns),
                widest.spread_pct()
            ),
            format!(
                "{key} 波动最大：一半的运行落在 {}–{} 之间，相当于中位数的 {:.0}%；这台机器上还有别的工作在运行",
                us(widest.q1_ns),
                us(widest.q3_ns),
                widest.spread_pct()
            ),
        ));
    }
    notes
}

fn errno(what: &str) -> impl Fn(nix::Error) -> String + '_ {
    move |e| format!("{what}: {e}")
}

/// fork(); the child leaves at once with _exit; the parent waits for it.
fn fork_exit_wait(ops: u64) -> Result<Duration, String> {
    time_fallible(ops, || {
        // SAFETY: the child only calls _exit, which is async-signal-safe.
        match unsafe { nix::unistd::fork() }.map_err(errno("fork"))? {
            nix::unistd::ForkResult::Child => unsafe { nix::libc::_exit(0) },
            nix::unistd::ForkResult::Parent { child } => {
                nix::sys::wait::waitpid(child, None).map_err(errno("waitpid"))?;
                Ok(())
            }
        }
    })
}

/// `true`, found on the PATH, started and waited for.
fn spawn_wait(ops: u64) -> Result<Duration, String> {
    use std::process::{Command, Stdio};
    time_fallible(ops, || {
        let status = Command::new("true")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map_err(|e| format!("could not run `true`: {e}"))?;
        status
            .success()
            .then_some(())
            .ok_or_else(|| format!("`true` ended with {status}"))
    })
}

fn thread_spawn_join(ops: u64) -> Result<Duration, String> {
    time_fallible(ops, || {
        std::thread::spawn(|| black_box(0))
            .join()
            .map(drop)
            .map_err(|_| "a thread panicked".to_string())
    })
}

fn mutex(ops: u64) -> Result<Duration, String> {
    let m = Mutex::new(0u64);
    Ok(time_ops(ops, || {
        let mut guard = black_box(&m).lock().unwrap_or_else(|p| p.into_inner());
        *guard += 1;
    }))
}

/// Two threads take turns through one mutex and a condition variable: each turn the lock
/// passes to the thread that waits for it.
fn handoff(ops: u64) -> Result<Duration, String> {
    let turns = (Mutex::new(0u64), Condvar::new());
    let take_turns = |parity: u64, turns: &(Mutex<u64>, Condvar)| {
        let (count, changed) = turns;
        let mut n = count.lock().unwrap_or_else(|p| p.into_inner());
        while *n < ops {
            if *n % 2 == parity {
                *n += 1;
                changed.notify_one();
            } else {
                n = changed.wait(n).unwrap_or_else(|p| p.into_inner());
            }
        }
        changed.notify_one();
    };
    std::thread::scope(|s| {
        let other = s.spawn(|| take_turns(1, &turns));
        let started = Instant::now();
        take_turns(0, &turns);
        let took = started.elapsed();
        other.join().map_err(|_| "a thread panicked".to_string())?;
        Ok(took)
    })
}

fn channel(ops: u64) -> Result<Duration, String> {
    let (send, receive) = crossbeam_channel::unbounded::<u64>();
    Ok(time_ops(ops, || {
        let _ = send.send(black_box(1));
        let _ = black_box(receive.recv());
    }))
}

fn task_spawn_join(ops: u64) -> Result<Duration, String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .map_err(|e| format!("could not start an event loop: {e}"))?;
    runtime.block_on(async {
        let started = Instant::now();
        for i in 0..ops {
            tokio::spawn(async move { black_box(i) })
                .await
                .map_err(|e| format!("a task failed: {e}"))?;
        }
        Ok(started.elapsed())
    })
}

/// Sends back every 8 bytes it reads, until the other end closes.
fn echo(mut input: impl Read, mut output: impl Write) {
    let mut buf = [0u8; 8];
    while input.read_exact(&mut buf).is_ok() {
        if output.write_all(&buf).is_err() {
            break;
        }
    }
}

/// `rounds` round trips of 8 bytes: out through `out`, back through `back`.
fn round_trips(
    rounds: u64,
    out: &mut impl Write,
    back: &mut impl Read,
) -> Result<Duration, String> {
    let mut buf = [0u8; 8];
    time_fallible(rounds, || {
        out.write_all(&[7; 8])
            .and_then(|_| back.read_exact(&mut buf))
            .map_err(|e| format!("a round trip failed: {e}"))
    })
}

/// A pipe's read end and write end.
type Pipe = (OwnedFd, OwnedFd);

/// Two pipes, one each way.
fn pipes() -> Result<(Pipe, Pipe), String> {
    let there = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(errno("pipe"))?;
    let back = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(errno("pipe"))?;
    Ok((there, back))
}

/// Round trips over two pipes to an echo thread, both threads on `cpu` when given.
fn pipe_round_trips(rounds: u64, cpu: Option<CpuSet>) -> Result<Duration, String> {
    let ((there_r, there_w), (back_r, back_w)) = pipes()?;
    let (mut out, mut back) = (File::from(there_w), File::from(back_r));
    std::thread::scope(|s| {
        let echoer = s.spawn(move || {
            if let Some(set) = cpu {
                sched_setaffinity(Pid::from_raw(0), &set).map_err(errno("pinning"))?;
            }
            echo(File::from(there_r), File::from(back_w));
            Ok::<(), String>(())
        });
        let took = round_trips(rounds, &mut out, &mut back);
        drop(out);
        echoer
            .join()
            .map_err(|_| "the echo thread panicked".to_string())??;
        took
    })
}

fn pipe_rtt(ops: u64) -> Result<Duration, String> {
    pipe_round_trips(ops, None)
}

/// Pins the calling thread to the CPU it is on; its former CPUs, to restore.
fn pin_here() -> Result<(CpuSet, CpuSet), String> {
    let before = sched_getaffinity(Pid::from_raw(0)).map_err(errno("affinity"))?;
    let cpu = sched_getcpu().map_err(errno("sched_getcpu"))?;
    let mut one = CpuSet::new();
    one.set(cpu).map_err(errno("cpu"))?;
    sched_setaffinity(Pid::from_raw(0), &one).map_err(errno("pinning"))?;
    Ok((one, before))
}

/// Half of each pinned round trip: a switch to the echo thread and one back.
fn switch_threads(ops: u64) -> Result<Duration, String> {
    let (one, before) = pin_here()?;
    let took = pipe_round_trips(ops.div_ceil(2), Some(one));
    sched_setaffinity(Pid::from_raw(0), &before).map_err(errno("unpinning"))?;
    took
}

/// As [`switch_threads`], with the echo in a forked child on the same CPU.
fn switch_processes(ops: u64) -> Result<Duration, String> {
    let (_, before) = pin_here()?;
    let took = fork_echo_round_trips(ops.div_ceil(2));
    sched_setaffinity(Pid::from_raw(0), &before).map_err(errno("unpinning"))?;
    took
}

/// Round trips to a forked child (it inherits this thread's CPU) that echoes over two pipes.
fn fork_echo_round_trips(rounds: u64) -> Result<Duration, String> {
    let ((there_r, there_w), (back_r, back_w)) = pipes()?;
    // SAFETY: the child makes only system calls (close, read, write, _exit), all
    // async-signal-safe, on descriptors it owns, then leaves with _exit.
    match unsafe { nix::unistd::fork() }.map_err(errno("fork"))? {
        nix::unistd::ForkResult::Child => unsafe {
            use nix::libc;
            libc::close(there_w.as_raw_fd());
            libc::close(back_r.as_raw_fd());
            let mut buf = [0u8; 8];
            loop {
                let n = libc::read(there_r.as_raw_fd(), buf.as_mut_ptr().cast(), 8);
                if n <= 0 || libc::write(back_w.as_raw_fd(), buf.as_ptr().cast(), n as usize) != n {
                    libc::_exit(0);
                }
            }
        },
        nix::unistd::ForkResult::Parent { child } => {
            drop((there_r, back_w));
            let (mut out, mut back) = (File::from(there_w), File::from(back_r));
            let took = round_trips(rounds, &mut out, &mut back);
            drop(out);
            nix::sys::wait::waitpid(child, None).map_err(errno("waitpid"))?;
            took
        }
    }
}

fn unix_rtt(ops: u64) -> Result<Duration, String> {
    use std::os::unix::net::UnixStream;
    let (mut ours, theirs) = UnixStream::pair().map_err(|e| format!("socketpair: {e}"))?;
    let theirs_out = theirs.try_clone().map_err(|e| format!("socket: {e}"))?;
    std::thread::scope(|s| {
        let echoer = s.spawn(move || echo(theirs, theirs_out));
        let mut back = ours.try_clone().map_err(|e| format!("socket: {e}"))?;
        let took = round_trips(ops, &mut ours, &mut back);
        let _ = ours.shutdown(std::net::Shutdown::Both);
        echoer
            .join()
            .map_err(|_| "the echo thread panicked".to_string())?;
        took
    })
}

fn tcp_rtt(ops: u64) -> Result<Duration, String> {
    use std::net::{Ipv4Addr, TcpListener, TcpStream};
    let fail = |e: std::io::Error| format!("loopback TCP: {e}");
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).map_err(fail)?;
    let mut ours = TcpStream::connect(listener.local_addr().map_err(fail)?).map_err(fail)?;
    let (theirs, _) = listener.accept().map_err(fail)?;
    ours.set_nodelay(true).map_err(fail)?;
    theirs.set_nodelay(true).map_err(fail)?;
    let theirs_out = theirs.try_clone().map_err(fail)?;
    std::thread::scope(|s| {
        let echoer = s.spawn(move || echo(theirs, theirs_out));
        let mut back = ours.try_clone().map_err(fail)?;
        let took = round_trips(ops, &mut ours, &mut back);
        let _ = ours.shutdown(std::net::Shutdown::Both);
        echoer
            .join()
            .map_err(|_| "the echo thread panicked".to_string())?;
        took
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_row_is_measured_and_every_measurement_has_a_row() {
        let rows: Vec<&str> = ROWS.iter().map(|r| r.key).collect();
        let measured: Vec<&str> = MEASURES.iter().map(|(k, _, _)| *k).collect();
        assert_eq!(rows, measured);
    }

    #[test]
    fn each_measurement_runs_and_takes_time() {
        for (key, _, measure) in MEASURES {
            let took = measure(4).unwrap_or_else(|e| panic!("{key}: {e}"));
            assert!(took > Duration::ZERO, "{key}");
        }
    }

    #[test]
    fn a_pinned_measurement_gives_the_thread_its_cpus_back() {
        let before = sched_getaffinity(Pid::from_raw(0)).unwrap();
        switch_threads(4).unwrap();
        switch_processes(4).unwrap();
        assert_eq!(sched_getaffinity(Pid::from_raw(0)).unwrap(), before);
    }
}
