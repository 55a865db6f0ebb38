//! `thread-local` — per-thread context without passing it down: each worker binds its
//! "student" in thread-local storage and nested functions read it; the `global-map` variant
//! does the same through one map keyed by thread id behind a counted lock.

use super::{Findings, Group, Scenario};
use crate::i18n::Text;
use crate::lab::counted_mutex::{CountedMutex, LockStats};
use crate::lab::per_thread::PerThread;
use crate::params::{ParamKind, ParamSpec, choice_enum};
use crate::probe::Probe;
use crate::report::{Metrics, group_thousands};
use std::cell::RefCell;
use std::collections::HashMap;
use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::thread::ThreadId;
use std::time::Instant;

pub static SCENARIO: Scenario = Scenario::lesson(
    "thread-local",
    Group::Threads,
    "ThreadLocal — context without arguments",
    "each thread binds its own student and nested functions find it: thread-local storage vs a global map behind a lock",
    include_str!("../../assets/lessons/thread-local.en.md"),
    &[
        Mode::spec(
            "mode",
            Mode::Tls,
            "tls: thread_local! storage; global-map: one HashMap<ThreadId, student> behind a counted lock",
        ),
        ParamSpec {
            key: "threads",
            kind: ParamKind::Int { min: 1, max: 64 },
            default: "2",
            help: "workers, each with its own student",
        },
        ParamSpec {
            key: "lookups",
            kind: ParamKind::Int {
                min: 1,
                max: 1_000_000_000,
            },
            default: "1000000",
            help: "how often each worker looks its student up",
        },
    ],
    run,
)
.with_chinese(
    "ThreadLocal — 不用传参数的上下文",
    "每个线程绑定自己的学生，层层调用的函数都能找到它：线程局部存储，对比加了锁的全局表",
    include_str!("../../assets/lessons/thread-local.zh.md"),
)
.with_compare("mode", &["tls", "global-map"])
.with_highlights(&[
    "lookups_per_sec",
    "acquisitions",
    "contended",
    "mismatches",
    "wall_ms",
]);

/// The tutorial's students, `aaron` and `ss`; more workers get numbered ones.
const STUDENTS: [&str; 2] = ["aaron", "ss"];

fn student(i: usize) -> String {
    STUDENTS
        .get(i)
        .map(|s| s.to_string())
        .unwrap_or_else(|| format!("Student-{i}"))
}

/// The tutorial's thread names, `Thread-A` and `Thread-B`, on to `Thread-Z`; then numbers.
fn thread_name(worker: usize) -> String {
    match u8::try_from(worker).ok().filter(|&w| w < 26) {
        Some(w) => format!("Thread-{}", char::from(b'A' + w)),
        None => format!("Thread-{worker}"),
    }
}

thread_local! {
    /// This thread's student: its index and name.
    static STUDENT: RefCell<Option<(usize, String)>> = const { RefCell::new(None) };
}

choice_enum! {
    /// Where the students are kept, as the user picks it.
    pub(super) enum Mode {
        Tls = "tls",
        GlobalMap = "global-map",
    }
}

/// Where a worker's student lives, and how the nested functions find it.
enum Context {
    ThreadLocal,
    GlobalMap(CountedMutex<HashMap<ThreadId, (usize, String)>>),
}

impl Context {
    fn bind(&self, index: usize) {
        let entry = (index, student(index));
        match self {
            Context::ThreadLocal => STUDENT.with(|s| *s.borrow_mut() = Some(entry)),
            Context::GlobalMap(map) => {
                map.lock().insert(std::thread::current().id(), entry);
            }
        }
    }

    /// The calling thread's student, found without being passed in.
    fn current(&self) -> Option<(usize, String)> {
        match self {
            Context::ThreadLocal => STUDENT.with(|s| s.borrow().clone()),
            Context::GlobalMap(map) => map.lock().get(&std::thread::current().id()).cloned(),
        }
    }

    /// Only the index: what the timed loop compares, without cloning the name.
    fn current_index(&self) -> Option<usize> {
        match self {
            Context::ThreadLocal => STUDENT.with(|s| s.borrow().as_ref().map(|(i, _)| *i)),
            Context::GlobalMap(map) => map
                .lock()
                .get(&std::thread::current().id())
                .map(|(i, _)| *i),
        }
    }
}

/// The tutorial's nesting: process_student → do_task → greet, none of them given the student.
fn process_student(ctx: &Context, probe: &Probe, worker: usize) -> Option<usize> {
    do_task(ctx, probe, worker)
}

fn do_task(ctx: &Context, probe: &Probe, worker: usize) -> Option<usize> {
    greet(ctx, probe, worker)
}

/// Says which student this thread found, in the tutorial's words: `aaron in Thread-A`.
fn greet(ctx: &Context, probe: &Probe, worker: usize) -> Option<usize> {
    let found = ctx.current();
    let tid = nix::unistd::gettid().as_raw();
    let thread = thread_name(worker);
    match &found {
        Some((_, name)) => probe.log(format!("{name} in {thread} (tid {tid})")),
        None => probe.log(format!("{thread} (tid {tid}) found no student")),
    }
    found.map(|(i, _)| i)
}

fn run(probe: &Probe) -> Result<Findings, String> {
    let p = probe.params();
    let threads = p.int("threads") as usize;
    let lookups = p.int("lookups") as u64;
    let ctx = match p.choice::<Mode>("mode")? {
        Mode::GlobalMap => Context::GlobalMap(CountedMutex::new(HashMap::new())),
        Mode::Tls => Context::ThreadLocal,
    };
    let done = PerThread::new(threads);
    let mismatches = AtomicU64::new(0);
    let started = Instant::now();
    let snapshot = |m: &mut Metrics| {
        let sum = done.sum();
        m.set("lookups", sum);
        m.set(
            "progress_pct",
            sum as f64 * 100.0 / (lookups * threads as u64) as f64,
        );
        m.set(
            "lookups_per_sec",
            sum as f64 / started.elapsed().as_secs_f64().max(1e-9),
        );
        m.set("mismatches", mismatches.load(Relaxed));
        if let Context::GlobalMap(map) = &ctx {
            m.set("acquisitions", map.stats().acquisitions);
            m.set("contended", map.stats().contended);
        }
    };
    let seen = probe.with_live(snapshot, || {
        std::thread::scope(|scope| {
            let mut handles = Vec::new();
            for worker in 0..threads {
                let (ctx, done, mismatches) = (&ctx, &done, &mismatches);
                let name = thread_name(worker);
                let handle = std::thread::Builder::new()
                    .name(name.clone())
                    .spawn_scoped(scope, move || {
                        probe.thread_named(name.clone());
                        let _working = probe.span("lookups", name);
                        ctx.bind(worker);
                        let seen = process_student(ctx, probe, worker);
                        let mut wrong = 0;
                        for n in 1..=lookups {
                            if black_box(ctx.current_index()) != Some(worker) {
                                wrong += 1;
                            }
                            if n % 4096 == 0 || n == lookups {
                                done.set(worker, n);
                                if probe.cancelled() {
                                    break;
                                }
                            }
                        }
                        mismatches.fetch_add(wrong, Relaxed);
                        seen
                    })
                    .map_err(|e| format!("could not start worker {worker}: {e}"))?;
                handles.push(handle);
            }
            Ok::<_, String>(
                handles
                    .into_iter()
                    .map(|h| h.join().ok().flatten())
                    .collect::<Vec<_>>(),
            )
        })
    })?;
    let wall = started.elapsed().as_secs_f64();
    let total = done.sum();
    let wrong = mismatches.load(Relaxed)
        + seen
            .iter()
            .enumerate()
            .filter(|(i, s)| **s != Some(*i))
            .count() as u64;

    let mut metrics = Metrics::default();
    metrics.set("lookups", total);
    metrics.set("lookups_per_sec", total as f64 / wall);
    metrics.set("mismatches", wrong);
    let stats = match &ctx {
        Context::GlobalMap(map) => map.stats(),
        Context::ThreadLocal => Default::default(),
    };
    metrics.set("acquisitions", stats.acquisitions);
    metrics.set("contended", stats.contended);
    metrics.set("wait_ns_total", stats.wait_ns_total);
    metrics.set("wall_ms", wall * 1000.0);
    let mode = match ctx {
        Context::ThreadLocal => Mode::Tls,
        Context::GlobalMap(_) => Mode::GlobalMap,
    };
    Ok(Findings {
        ok: wrong == 0,
        wall_ms: wall * 1000.0,
        metrics,
        notes: vec![verdict(mode, threads, wrong, &stats)],
    })
}

/// Whether every thread found only its own student, and what finding it cost: nothing shared
/// with thread-local storage; a lock per lookup with the global map. The tutorial's own
/// global_dict takes no lock (under CPython's GIL one dict operation is atomic) and its
/// complaint about it is clumsy code, not speed: a Rust map shared by threads needs the lock,
/// and the lock is what this variant measures.
fn verdict(mode: Mode, threads: usize, wrong: u64, stats: &LockStats) -> Text {
    let seen = if wrong == 0 {
        Text::new(
            "every thread saw only its own student",
            "每个线程都只看到了自己的 student",
        )
    } else {
        Text::new(
            format!("{wrong} lookups found another thread's student"),
            format!("有 {wrong} 次查找拿到了别的线程的 student"),
        )
    };
    let how = match mode {
        Mode::Tls => Text::new(
            "thread-local storage: no lock, no sharing",
            "ThreadLocal：不用锁，也不共享",
        ),
        Mode::GlobalMap => {
            let taken = group_thousands(stats.acquisitions as i64);
            let contended = match (threads, stats.contended) {
                (1, _) => Text::new(
                    "one thread, so it never had to wait",
                    "只有一个线程，所以从不需要等待",
                ),
                (_, 0) => Text::new("none of them had to wait", "一次也没有等待"),
                (_, n) => {
                    let n = group_thousands(n as i64);
                    Text::new(
                        format!("{n} of them had to wait"),
                        format!("其中 {n} 次需要等待"),
                    )
                }
            };
            Text::new(
                format!(
                    "the global map took its lock {taken} times, {}; the tutorial's global_dict takes none (CPython's GIL keeps one dict operation whole), a map shared by Rust threads must",
                    contended.en
                ),
                format!(
                    "全局 map 加锁 {taken} 次，{}；教程里的 global_dict 不加锁（CPython 的 GIL 保证一次 dict 操作不被打断），而 Rust 线程共享的 map 必须加锁",
                    contended.zh
                ),
            )
        }
    };
    Text::new(
        format!("{}; {}", seen.en, how.en),
        format!("{}；{}", seen.zh, how.zh),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats(acquisitions: u64, contended: u64) -> LockStats {
        LockStats {
            acquisitions,
            contended,
            ..LockStats::default()
        }
    }

    #[test]
    fn the_verdict_follows_mismatches_and_contention() {
        let v = verdict(Mode::Tls, 2, 0, &LockStats::default());
        assert!(
            v.en.starts_with("every thread saw only its own student"),
            "{v:?}"
        );
        let v = verdict(Mode::Tls, 2, 3, &LockStats::default());
        assert!(
            v.en.starts_with("3 lookups found another thread's student"),
            "{v:?}"
        );
        assert!(!v.en.contains("only its own"), "{v:?}");
        let v = verdict(Mode::GlobalMap, 2, 0, &stats(2_000_002, 0));
        assert!(
            v.en.contains("took its lock 2,000,002 times, none of them had to wait"),
            "{v:?}"
        );
        let v = verdict(Mode::GlobalMap, 2, 0, &stats(2_000_002, 1_234));
        assert!(v.en.contains("1,234 of them had to wait"), "{v:?}");
        let v = verdict(Mode::GlobalMap, 1, 0, &stats(1_000_001, 0));
        assert!(
            v.en.contains("one thread, so it never had to wait"),
            "{v:?}"
        );
    }

    /// What the global map compares: a lock the tutorial's global_dict does not take.
    #[test]
    fn the_global_map_says_what_it_compares() {
        let v = verdict(Mode::GlobalMap, 2, 0, &stats(10, 1));
        assert!(
            v.en.contains("the tutorial's global_dict takes none"),
            "{v:?}"
        );
        assert!(v.zh.contains("global_dict 不加锁"), "{v:?}");
        for mode in [Mode::Tls, Mode::GlobalMap] {
            assert!(verdict(mode, 2, 1, &stats(10, 1)).is_translated());
        }
    }
}
