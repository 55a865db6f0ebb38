//! `fork` — one call, two returns: the runner (still single-threaded) calls `fork()`; the
//! parent and each child print their own PID and the other's, from their own processes; the
//! parent waits for every child and announces how it ended.

use super::{Findings, Group, Scenario};
use crate::event::Body;
use crate::exit::Exit;
use crate::i18n::Text;
use crate::params::{ParamKind, ParamSpec};
use crate::probe::Probe;
use crate::report::Metrics;
use nix::unistd::{ForkResult, Pid, fork, getppid};
use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;
use std::time::{Duration, Instant};

pub static SCENARIO: Scenario = Scenario::lesson(
    "fork",
    Group::Processes,
    "fork — one call, two returns",
    "the runner calls fork(): parent and child each print their own PID and the other's; the parent waits for the child",
    include_str!("../../assets/lessons/fork.en.md"),
    &[
        ParamSpec {
            key: "children",
            kind: ParamKind::Int { min: 1, max: 16 },
            default: "1",
            help: "how many times the parent calls fork()",
        },
        ParamSpec {
            key: "child_ms",
            kind: ParamKind::Int {
                min: 0,
                max: 60_000,
            },
            default: "0",
            help: "how long each child stays before it exits (to watch it in the processes panel)",
        },
    ],
    run,
)
.with_chinese(
    "fork — 调用一次，返回两次",
    "运行进程调用 fork()：父进程和子进程各自打印自己和对方的 PID；父进程等待子进程结束",
    include_str!("../../assets/lessons/fork.zh.md"),
)
.with_compare("children", &["1", "8"])
.with_highlights(&[
    "parent_pid",
    "child_0_pid",
    "children",
    "fork_us",
    "wall_ms",
]);

/// The exit code of a child whose own code panicked (as Rust's for a panicking main).
const CHILD_PANICKED: i32 = 101;

fn run(probe: &Probe) -> Result<Findings, String> {
    let p = probe.params();
    let children = p.int("children") as usize;
    let child_ms = p.int("child_ms") as u64;
    let started = Instant::now();
    let me = std::process::id();

    // After fork() in a threaded process, the child has one thread and every lock another
    // thread held stays locked forever; runners start single-threaded, so check it holds.
    probe.stop_watching_parent();
    let threads = threads_of_this_process();
    if threads != Some(1) {
        return Err(format!(
            "the runner has {} threads; this scenario forks only a single-threaded process",
            threads.map_or("an unknown number of".to_string(), |n| n.to_string())
        ));
    }
    probe.log(format!("Process {me} starts"));

    let mut forked: Vec<(Pid, Duration)> = Vec::new();
    let mut fork_error = None;
    for i in 0..children {
        if probe.cancelled() {
            break;
        }
        let before = Instant::now();
        // SAFETY: this process has exactly one thread (checked above), so the child is a
        // complete copy: no lock is held by a thread that does not exist there. The child
        // only writes its events and leaves with _exit.
        match unsafe { fork() } {
            Ok(ForkResult::Child) => be_the_child(probe, me, child_ms),
            Ok(ForkResult::Parent { child }) => {
                let took = before.elapsed();
                probe.log(format!(
                    "I am {me}, my child is {child} — fork() returned {child} here"
                ));
                forked.push((child, took));
            }
            Err(e) => {
                fork_error = Some(format!("fork() number {} failed: {e}", i + 1));
                break;
            }
        }
    }

    // join: wait for every child, so none is left a zombie.
    let mut exits = Vec::new();
    for (pid, _) in &forked {
        // Only a child someone else reaped has no status for us: it is gone, with its group.
        let exit = wait_for(*pid).map_or(Exit::KilledWithGroup, Exit::of);
        probe.emit_as(pid.as_raw() as u32, Body::ProcessExit { exit });
        probe.log(format!("child {pid} ended: {exit}"));
        exits.push(exit);
    }
    if let Some(e) = fork_error {
        return Err(e);
    }

    let wall_ms = started.elapsed().as_secs_f64() * 1000.0;
    let fork_us: Vec<f64> = forked.iter().map(|(_, d)| d.as_secs_f64() * 1e6).collect();
    let mut metrics = Metrics::default();
    metrics.set("children", forked.len() as u64);
    metrics.set("parent_pid", i64::from(me));
    for (i, (pid, _)) in forked.iter().enumerate() {
        metrics.set(&format!("child_{i}_pid"), i64::from(pid.as_raw()));
    }
    if !fork_us.is_empty() {
        metrics.set(
            "fork_us",
            fork_us.iter().sum::<f64>() / fork_us.len() as f64,
        );
        metrics.set("fork_us_max", fork_us.iter().copied().fold(0.0, f64::max));
    }
    metrics.set("threads_at_fork", 1u64);
    metrics.set("wall_ms", wall_ms);

    let clean = exits.iter().filter(|e| e.success()).count();
    Ok(Findings {
        ok: clean == forked.len(),
        wall_ms,
        metrics,
        notes: notes(me, &exits, fork_us.first().copied(), probe.cancelled()),
    })
}

/// What the run shows: how many children the two returns of fork() made and how each ended,
/// what the first fork() cost, and what a cancel did.
fn notes(parent: u32, exits: &[Exit], first_fork_us: Option<f64>, cancelled: bool) -> Vec<Text> {
    let n = exits.len();
    let clean = exits.iter().filter(|e| e.success()).count();
    // A child it could not wait for had already been ended with its group.
    let waited = exits
        .iter()
        .filter(|e| **e != Exit::KilledWithGroup)
        .count();
    let mut notes = Vec::new();
    if n == 0 {
        notes.push(Text::new(
            "no child was forked: the run ended before the first fork()",
            "没有 fork 出子进程：第一次调用 fork() 之前运行就结束了",
        ));
    } else if n == 1 && clean == 1 {
        notes.push(Text::new(
            format!(
                "fork() returned twice: the child's PID in the parent ({parent}), 0 in the child; the child exited with code 0 and was waited for"
            ),
            format!(
                "fork() 返回了两次：在父进程（{parent}）里返回子进程的 PID，在子进程里返回 0；子进程以退出码 0 结束，并被父进程等待回收"
            ),
        ));
    } else if clean == n {
        notes.push(Text::new(
            format!(
                "fork() returned twice per call: the child's PID in the parent ({parent}), 0 in each child; all {n} children exited with code 0 and were waited for"
            ),
            format!(
                "每次调用 fork() 都返回了两次：在父进程（{parent}）里返回子进程的 PID，在子进程里返回 0；{n} 个子进程都以退出码 0 结束，并且都被父进程等待回收了"
            ),
        ));
    } else {
        let others: Vec<String> = exits
            .iter()
            .filter(|e| !e.success())
            .map(|e| e.to_string())
            .collect();
        let others = others.join(", ");
        notes.push(Text::new(
            format!(
                "fork() returned each child's PID in the parent ({parent}); {clean} of {n} children saw 0 and exited with code 0, the others ended with {others}; {waited} of {n} were waited for"
            ),
            format!(
                "fork() 在父进程（{parent}）里返回了每个子进程的 PID；{n} 个子进程中有 {clean} 个拿到 0 并以退出码 0 结束，其余的结束方式是 {others}；{n} 个中有 {waited} 个被父进程等待回收"
            ),
        ));
    }
    if let Some(us) = first_fork_us {
        notes.push(Text::new(
            format!(
                "the first fork() took {us:.0} µs in the parent (copying the page tables, not the memory: pages are shared until written)"
            ),
            format!("第一次 fork() 在父进程里用了 {us:.0} µs（复制的是页表，不是内存：页面在被写入之前父子共享）"),
        ));
    }
    if cancelled {
        notes.push(Text::new(
            "cancelled: SIGTERM went to the runner's whole process group, children included, so they cut their stay short",
            "已取消：SIGTERM 发给了运行进程所在的整个进程组，子进程也收到了，于是提前结束",
        ));
    }
    notes
}

/// The child's whole life after fork() returned 0 in it: announce itself, say who its parent
/// is, stay `child_ms`, and leave with `_exit` — never returning into the parent's code (it
/// would go on to run the rest of the scenario and write a second report).
fn be_the_child(probe: &Probe, parent: u32, child_ms: u64) -> ! {
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        // Die with the parent, as every other process conlab starts does; if the parent is
        // already gone (we were reparented), there is nobody to report to.
        let _ = nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGKILL);
        let ppid = getppid().as_raw() as u32;
        if ppid != parent {
            return 1;
        }
        let me = std::process::id();
        probe.emit(Body::Process {
            ppid,
            role: "child".into(),
        });
        let _life = probe.span("child", format!("child {me}"));
        probe.log(format!(
            "I am {me}, my parent is {ppid} — fork() returned 0 here"
        ));
        // The cancel handler was copied with everything else: SIGTERM to the group ends the
        // stay early.
        let until = Instant::now() + Duration::from_millis(child_ms);
        while Instant::now() < until && !probe.cancelled() {
            std::thread::sleep(
                Duration::from_millis(10).min(until.saturating_duration_since(Instant::now())),
            );
        }
        0
    }));
    let code = outcome.unwrap_or(CHILD_PANICKED);
    // SAFETY: _exit ends the process at once, without running the parent's exit handlers or
    // destructors on the copies of its state.
    unsafe { nix::libc::_exit(code) }
}

/// Waits for `pid` (retrying when a signal interrupts the wait) and returns its status.
fn wait_for(pid: Pid) -> Result<ExitStatus, nix::Error> {
    let mut status = 0;
    loop {
        // SAFETY: waitpid writes one int through a valid pointer.
        let r = unsafe { nix::libc::waitpid(pid.as_raw(), &mut status, 0) };
        if r == pid.as_raw() {
            return Ok(ExitStatus::from_raw(status));
        }
        let e = nix::Error::last();
        if e != nix::Error::EINTR {
            return Err(e);
        }
    }
}

/// The `Threads:` line of /proc/self/status.
fn threads_of_this_process() -> Option<u64> {
    std::fs::read_to_string("/proc/self/status")
        .ok()?
        .lines()
        .find_map(|l| l.strip_prefix("Threads:"))?
        .trim()
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(notes: &[Text]) -> String {
        notes
            .iter()
            .map(|n| n.en.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// A child that crashed or was never waited for does not count as a clean second return.
    #[test]
    fn children_that_did_not_exit_cleanly_are_not_called_clean() {
        let exits = [Exit::Code(0), Exit::Signal(9), Exit::KilledWithGroup];
        let text = all(&notes(10, &exits, Some(80.0), false));
        assert!(
            !text.contains("all 3 children exited with code 0"),
            "{text}"
        );
        assert!(text.contains("1 of 3 children saw 0"), "{text}");
        assert!(
            text.contains("signal 9 (SIGKILL), killed with its group"),
            "{text}"
        );
        assert!(text.contains("2 of 3 were waited for"), "{text}");
        let text = all(&notes(10, &[Exit::Code(0); 2], Some(80.0), false));
        assert!(
            text.contains("all 2 children exited with code 0 and were waited for"),
            "{text}"
        );
        let text = all(&notes(10, &[Exit::Code(0)], Some(80.0), false));
        assert!(
            text.contains("the child exited with code 0 and was waited for"),
            "{text}"
        );
        let text = all(&notes(10, &[Exit::Code(1)], Some(80.0), false));
        assert!(text.contains("0 of 1 children saw 0"), "{text}");
    }

    #[test]
    fn no_child_no_claim_about_children() {
        let text = all(&notes(10, &[], None, true));
        assert!(!text.contains("returned twice"), "{text}");
        assert!(text.contains("no child was forked"), "{text}");
    }

    #[test]
    fn every_note_has_chinese() {
        for exits in [
            &[][..],
            &[Exit::Code(0)],
            &[Exit::Code(1)],
            &[Exit::Code(0); 3],
        ] {
            for n in notes(10, exits, Some(50.0), true) {
                assert!(n.is_translated(), "{n:?}");
            }
        }
    }
}
