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

/// `thread-01 (tid 4242; Rust: "thread-01"; kernel: "thread-01")`, in both languages.
fn describe(n: &Names) -> Text {
    let (python, tid, kernel) = (&n.python, n.tid, &n.kernel);
    let (rust_en, rust_zh) = match n.rust.as_deref() {
        Some(r) => (format!("\"{r}\""), format!("\"{r}\"")),
        None => ("no name".to_string(), "没有名字".to_string()),
    };
    Text::new(
        format!("{python} (tid {tid}; Rust: {rust_en}; kernel: \"{kernel}\")"),
        format!("{python}（tid {tid}；Rust 里：{rust_zh}；内核里：\"{kernel}\"）"),
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
    probe.log(format!("thread {} is running", describe(&main).en));
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
                        probe.log(format!("thread {} is running", describe(&me).en));
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
    let counted: Vec<u64> = steps.iter().collect();
    Ok(Findings {
        ok: true,
        wall_ms,
        metrics,
        notes: notes(&main, &names, &counted, count),
    })
}

/// Each thread as Python, Rust and the kernel name it; how far each counted before it was
/// joined; and what an unnamed thread is called, as this run's threads were.
fn notes(main: &Names, threads: &[Names], counted: &[u64], count: u64) -> Vec<Text> {
    let described = describe(main);
    let mut notes = vec![Text::new(
        format!("main: {}", described.en),
        format!("主线程：{}", described.zh),
    )];
    notes.extend(threads.iter().map(describe));
    let n = threads.len();
    let short: Vec<String> = threads
        .iter()
        .zip(counted)
        .filter(|(_, c)| **c < count)
        .map(|(t, c)| format!("{} {c}", t.python))
        .collect();
    notes.push(match (n, short.is_empty()) {
        (1, true) => Text::new(
            format!("the main thread joined its thread after it counted to {count}"),
            format!("主线程在线程数到 {count} 之后 join 了它"),
        ),
        (_, true) => Text::new(
            format!("the main thread joined {n} threads, each after it counted to {count}"),
            format!("主线程 join 了 {n} 个线程，每个都数到了 {count}"),
        ),
        (_, false) => {
            let (short, threads) = (short.join(", "), if n == 1 { "thread" } else { "threads" });
            Text::new(
                format!("the main thread joined {n} {threads}, not all of which counted to {count}: {short}"),
                format!("主线程 join 了 {n} 个线程，但不是每个都数到了 {count}：{short}"),
            )
        }
    });
    // Rust names no thread it was not told to; what the kernel shows then is what it saw.
    let unnamed: Vec<&Names> = threads.iter().filter(|t| t.rust.is_none()).collect();
    if !unnamed.is_empty() {
        let kernel = if unnamed.iter().all(|t| t.kernel == main.kernel) {
            Text::new(
                format!("the kernel showed the process's name, \"{}\"", main.kernel),
                format!("内核里显示的是进程名 \"{}\"", main.kernel),
            )
        } else {
            let names: Vec<String> = unnamed
                .iter()
                .map(|t| format!("\"{}\"", t.kernel))
                .collect();
            let names = names.join(", ");
            Text::new(
                format!("the kernel showed {names}"),
                format!("内核里显示的是 {names}"),
            )
        };
        notes.push(Text::new(
            format!(
                "an unnamed thread is Thread-N to Python (3.10 and later add its target: Thread-1 (thr)); Rust gives it no name, and {}",
                kernel.en
            ),
            format!(
                "没有命名的线程在 Python 里叫 Thread-N（3.10 起还会带上目标函数名，如 Thread-1 (thr)）；Rust 不给它起名字，{}",
                kernel.zh
            ),
        ));
    }
    notes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(python: &str, rust: Option<&str>, kernel: &str, tid: i32) -> Names {
        Names {
            python: python.into(),
            rust: rust.map(str::to_string),
            kernel: kernel.into(),
            tid,
        }
    }

    /// An unnamed thread the kernel named otherwise is not said to carry the process's name.
    #[test]
    fn the_kernel_name_of_an_unnamed_thread_is_the_one_seen() {
        let main = names("MainThread", Some("main"), "conlab", 1);
        let threads = [
            names("thread-01", Some("thread-01"), "thread-01", 2),
            names("Thread-1", None, "conlab", 3),
        ];
        let notes = notes(&main, &threads, &[5, 5], 5);
        let last = notes.last().unwrap();
        assert!(last.en.contains("Thread-N to Python"), "{last:?}");
        assert!(
            last.en
                .ends_with("the kernel showed the process's name, \"conlab\""),
            "{last:?}"
        );
        let renamed = [names("Thread-1", None, "worker", 3)];
        let notes = super::notes(&main, &renamed, &[5], 5);
        let last = notes.last().unwrap();
        assert!(!last.en.contains("process's name"), "{last:?}");
        assert!(
            last.en.ends_with("the kernel showed \"worker\""),
            "{last:?}"
        );
        // Every thread named: nothing to say about unnamed ones.
        let notes = super::notes(&main, &threads[..1], &[5], 5);
        assert!(!notes.iter().any(|n| n.en.contains("unnamed")), "{notes:?}");
    }

    /// Cancelled mid-count: the notes say which thread stopped where.
    #[test]
    fn a_thread_that_stopped_short_is_not_said_to_have_counted_through() {
        let main = names("MainThread", Some("main"), "conlab", 1);
        let threads = [
            names("thread-01", Some("thread-01"), "thread-01", 2),
            names("Thread-1", None, "conlab", 3),
        ];
        let notes = notes(&main, &threads, &[5, 2], 5);
        let joined = notes.iter().find(|n| n.en.contains("joined")).unwrap();
        assert!(!joined.en.contains("each after it counted"), "{joined:?}");
        assert!(joined.en.contains("Thread-1 2"), "{joined:?}");
        let notes = super::notes(&main, &threads, &[5, 5], 5);
        assert!(
            notes
                .iter()
                .any(|n| n.en == "the main thread joined 2 threads, each after it counted to 5")
        );
        let notes = super::notes(&main, &threads[..1], &[3], 5);
        assert!(
            notes
                .iter()
                .any(|n| n.en.contains("not all of which counted to 5: thread-01 3")),
            "{notes:?}"
        );
        assert!(notes.iter().all(Text::is_translated), "{notes:?}");
    }
}
