//! `threads` — starting, naming and joining threads: the main thread starts `thread-01`, which
//! counts to five; unnamed threads get default names (Python's `Thread-N (thr)`; Rust's: none).

use super::{Findings, Group, Scenario};
use crate::i18n::Text;
use crate::lab::per_thread::PerThread;
use crate::params::{ParamKind, ParamSpec};
use crate::probe::Probe;
use crate::report::Metrics;
use std::time::{Duration, Instant};

pub static SCENARIO: Scenario = Scenario::lesson(
    "threads",
    Group::Threads,
    "Threads — start, name, join",
    "the main thread starts named and unnamed threads, each counts and reports its name and kernel TID, then joins them",
    include_str!("../../assets/lessons/threads.en.md"),
    &[
        ParamSpec {
            key: "threads",
            kind: ParamKind::Int { min: 1, max: 16 },
            default: "1",
            help: "threads to start; the first gets `name`, the others no name",
        },
        ParamSpec {
            key: "name",
            kind: ParamKind::Text { max_len: 15 },
            default: "thread-01",
            help: "the first thread's name (Linux keeps 15 characters of a thread name)",
        },
        ParamSpec {
            key: "count",
            kind: ParamKind::Int { min: 1, max: 1000 },
            default: "5",
            help: "how far each thread counts",
        },
        ParamSpec {
            key: "delay_ms",
            kind: ParamKind::Int {
                min: 0,
                max: 10_000,
            },
            default: "200",
            help: "pause between two counts",
        },
    ],
    run,
)
.with_chinese(
    "多线程 — 启动、命名、join",
    "主线程启动有名字和没名字的线程，每个线程计数并报告自己的名字和内核 TID，最后逐个 join",
    include_str!("../../assets/lessons/threads.zh.md"),
)
.with_compare("threads", &["1", "4"])
.with_highlights(&["threads", "steps", "wall_ms"]);

/// The function every thread runs, as the tutorial names it: since Python 3.10 a thread
/// started without a name is named after its target too, `Thread-1 (thr)`.
const TARGET: &str = "thr";

/// How a thread is known: to Python, to Rust, and to the kernel.
struct Names {
    python: String,
    rust: Option<String>,
    kernel: String,
    tid: i32,
}

fn kernel_name(tid: i32) -> String {
    std::fs::read_to_string(format!("/proc/self/task/{tid}/comm"))
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "?".to_string())
}

fn current_names(python: String) -> Names {
    let tid = nix::unistd::gettid().as_raw();
    Names {
        python,
        rust: std::thread::current().name().map(str::to_string),
        kernel: kernel_name(tid),
        tid,
    }
}

fn describe(n: &Names) -> String {
    let rust = n
        .rust
        .as_deref()
        .map(|r| format!("\"{r}\""))
        .unwrap_or_else(|| "no name".to_string());
    format!(
        "{} (tid {}; Rust: {rust}; kernel: \"{}\")",
        n.python, n.tid, n.kernel
    )
}

fn run(probe: &Probe) -> Result<Findings, String> {
    let p = probe.params();
    let threads = p.int("threads") as usize;
    let count = p.int("count") as u64;
    let delay = Duration::from_millis(p.int("delay_ms") as u64);
    let first_name = p.word("name").to_string();
    let started = Instant::now();

    let main = current_names("MainThread".to_string());
    probe.log(format!("thread {} is running", describe(&main)));
    let steps = PerThread::new(threads);
    let snapshot = |m: &mut Metrics| {
        let done = steps.sum();
        m.set("steps", done);
        m.set(
            "progress_pct",
            done as f64 * 100.0 / (count * threads as u64) as f64,
        );
        for (i, s) in steps.iter().enumerate() {
            m.set(&format!("thread_{i}_steps"), s);
        }
    };
    let names: Vec<Names> = probe.with_live(snapshot, || {
        std::thread::scope(|scope| {
            let mut handles = Vec::new();
            // Python numbers only the threads it has to name itself: Thread-1 (thr), ...
            // An empty name counts as no name, as in Python.
            let mut unnamed = 0;
            let steps = &steps;
            for i in 0..threads {
                let (builder, python) = if i == 0 && !first_name.is_empty() {
                    (
                        std::thread::Builder::new().name(first_name.clone()),
                        first_name.clone(),
                    )
                } else {
                    unnamed += 1;
                    (
                        std::thread::Builder::new(),
                        format!("Thread-{unnamed} ({TARGET})"),
                    )
                };
                let handle = builder
                    .spawn_scoped(scope, move || {
                        let me = current_names(python);
                        probe.thread_named(me.python.clone());
                        let _counting = probe.span("thread", format!("{} counts", me.python));
                        probe.log(format!("thread {} is running", describe(&me)));
                        for n in 1..=count {
                            if probe.cancelled() {
                                break;
                            }
                            probe.log(format!("thread {} >>> {n}", me.python));
                            steps.set(i, n);
                            std::thread::sleep(delay);
                        }
                        probe.log(format!("thread {} ended", me.python));
                        me
                    })
                    .map_err(|e| format!("could not start thread {i}: {e}"))?;
                handles.push(handle);
            }
            handles
                .into_iter()
                .map(|h| h.join().map_err(|_| "a thread panicked".to_string()))
                .collect::<Result<Vec<_>, _>>()
        })
    })?;
    probe.log(format!("thread {} ended", main.python));

    let mut metrics = Metrics::default();
    metrics.set("threads", threads as u64);
    metrics.set("steps", steps.sum());
    metrics.set("main_tid", main.tid as i64);
    for (i, n) in names.iter().enumerate() {
        metrics.set(&format!("thread_{i}_tid"), n.tid as i64);
    }
    let wall_ms = started.elapsed().as_secs_f64() * 1000.0;
    metrics.set("wall_ms", wall_ms);
    let mut notes = vec![format!("main: {}", describe(&main))];
    notes.extend(names.iter().map(describe));
    if threads > 1 {
        notes.push(
            "an unnamed thread is Thread-N (thr) to Python 3.10+ (Thread-N before); Rust gives it no name, and the kernel shows the process's name"
                .to_string(),
        );
    }
    Ok(Findings {
        ok: true,
        wall_ms,
        metrics,
        notes: notes.into_iter().map(Text::from).collect(),
    })
}
