//! Lints about cores: threads that take turns behind one lock (a GIL), more runnable threads
//! than cores, a run that mostly waits, and other programs that took cores from the run.
//! Attached to a running process (`watch --pid`), the run's usage and wall time are the
//! program's from the moment of attaching (`runner::observe`), so each judges it the same.

use super::{Facts, Finding, Lint, say, short};
use crate::i18n::Phrase;
use crate::metrics::{Num, group_thousands};

crate::i18n::phrases! {
    pub WORDS {
        title_other: "other programs took cores" => "其他程序占了核",
        title_io: "IO-bound" => "IO 密集",
        title_oversubscribed: "more threads than cores" => "线程多于核",
        title_gil: "GIL-bound" => "受 GIL 所限",
        gil: "{threads} threads kept only {used} of {cores} cores busy: they take turns holding one interpreter lock (a GIL), so more threads cannot use more cores; processes can" => "{threads} 个线程只用了 {cores} 个核中的 {used} 个：它们轮流持有同一把解释器锁（GIL），线程再多也用不上更多的核；多进程可以",
        gil_loaded: "{threads} threads kept only {used} of {cores} cores busy, while other programs took {others}: they take turns holding one interpreter lock (a GIL), so more threads cannot use more cores; processes can" => "{threads} 个线程只用了 {cores} 个核中的 {used} 个，其他程序同时占了 {others} 个：它们轮流持有同一把解释器锁（GIL），线程再多也用不上更多的核；多进程可以",
        oversubscribed: "{runnable} threads on average were ready to run on {cores} cores, and the kernel took the CPU from them {involuntary} times a second: past the core count, more threads only add switching" => "平均有 {runnable} 个线程等着在 {cores} 个核上运行，内核每秒从它们手里收回 CPU {involuntary} 次：线程数超过核数以后，再加线程只会多出切换",
        io_bound: "the run mostly waited: it gave up the CPU {voluntary} times and had it taken {involuntary} times, and kept {used} of {cores} cores busy; more workers, or an event loop, would overlap the waits" => "这次运行大多在等待：主动让出 CPU {voluntary} 次，被收回 {involuntary} 次，只用了 {cores} 个核中的 {used} 个；多开 worker 或用事件循环，可以让这些等待重叠起来",
        other_load: "other programs kept about {others} of {cores} cores busy during the run: times and cores used here are worse than on an idle machine" => "运行期间其他程序占用了约 {others} 个核（共 {cores} 个）：这里的耗时和用核数都比空闲的机器上差",
    }
}

/// The most cores a run behind one GIL keeps busy: one thread runs at a time, plus the
/// moments the lock changes hands and the runner's own work (none in an attached program's).
const GIL_MAX_CORES: f64 = 1.4;
/// The least share of what one core could give it (after other programs took theirs) that a
/// run must use to be held back by the GIL, not waiting for something else.
const GIL_MIN_SHARE: f64 = 0.6;

/// Threads that take turns behind a GIL: several threads, no more than about one core, while
/// they used most of what one core could give. The GIL shows in the run's figures (the
/// simulated one counts its hand-offs) or in its processes (a Python interpreter with several
/// threads).
pub struct GilBound;

impl Lint for GilBound {
    fn id(&self) -> &'static str {
        "gil_bound"
    }

    fn lesson(&self) -> &'static str {
        "multicore"
    }

    fn title(&self) -> Phrase {
        WORDS.title_gil
    }

    fn check(&self, facts: &Facts) -> Option<Finding> {
        let threads = if facts.report.metrics.get("gil_handoffs").is_some() {
            facts.metric("workers")?
        } else {
            f64::from(facts.observed.tree.python_threads_max)
        };
        let used = facts.cores_used()?;
        let cores = facts.observed.cores;
        let others = facts.observed.others_cores.unwrap_or(0.0);
        let one_core = (cores as f64 - others).clamp(0.1, 1.0);
        if threads < 2.0 || cores < 2 || used > GIL_MAX_CORES || used < GIL_MIN_SHARE * one_core {
            return None;
        }
        // Where other programs took cores, the sentence says so: the GIL is not all that held
        // the run back.
        let text = if others >= OTHERS_CORES {
            say(
                WORDS.gil_loaded,
                &[
                    ("threads", &threads),
                    ("used", &short(used)),
                    ("cores", &cores),
                    ("others", &format!("{others:.1}")),
                ],
            )
        } else {
            say(
                WORDS.gil,
                &[
                    ("threads", &threads),
                    ("used", &short(used)),
                    ("cores", &cores),
                ],
            )
        };
        Some(Finding {
            text,
            figures: vec![
                ("threads", Num::Int(threads as i64)),
                ("cores_used", Num::Float(round2(used))),
                ("cores", Num::Int(cores as i64)),
                ("others_cores", Num::Float(round2(others))),
            ],
        })
    }
}

/// Runnable threads per core, on average, from which the run is oversubscribed.
const RUNNABLE_PER_CORE: f64 = 2.0;
/// Involuntary switches per second and core from which preemption is a large part of the run:
/// a thread alone on its core is hardly ever preempted, while threads sharing one are every
/// few milliseconds.
const PREEMPTIONS_PER_CORE_SEC: f64 = 100.0;
/// Samples of the process tree a mean needs.
const MIN_SAMPLES: u32 = 3;

/// More threads ready to run than cores, and the kernel preempting them to share.
pub struct Oversubscribed;

impl Lint for Oversubscribed {
    fn id(&self) -> &'static str {
        "oversubscribed"
    }

    fn lesson(&self) -> &'static str {
        "switching"
    }

    fn title(&self) -> Phrase {
        WORDS.title_oversubscribed
    }

    fn check(&self, facts: &Facts) -> Option<Finding> {
        let tree = &facts.observed.tree;
        let usage = facts.observed.usage?;
        let cores = facts.observed.cores.max(1) as f64;
        let runnable = tree.runnable_mean();
        let per_sec = usage.involuntary_switches as f64 / facts.wall_secs().max(1e-3);
        if tree.samples < MIN_SAMPLES
            || runnable < RUNNABLE_PER_CORE * cores
            || per_sec < PREEMPTIONS_PER_CORE_SEC * cores
        {
            return None;
        }
        Some(Finding {
            text: say(
                WORDS.oversubscribed,
                &[
                    ("runnable", &format!("{runnable:.1}")),
                    ("cores", &cores),
                    ("involuntary", &group_thousands(per_sec.round() as i64)),
                ],
            ),
            figures: vec![
                ("runnable_threads_mean", Num::Float(round2(runnable))),
                (
                    "runnable_threads_max",
                    Num::Int(i64::from(tree.runnable_max)),
                ),
                ("cores", Num::Int(cores as i64)),
                ("involuntary_switches_per_sec", Num::Float(per_sec.round())),
            ],
        })
    }
}

/// Voluntary switches per involuntary one from which the run is waiting, not computing.
const WAITS_PER_PREEMPTION: f64 = 4.0;
/// Voluntary switches per second below which a run is just idle (a few sleeps), not IO-bound.
const MIN_WAITS_PER_SEC: f64 = 200.0;
/// The share of the cores a run may keep busy and still leave them idle.
const IDLE_SHARE: f64 = 0.5;
/// Shorter runs are mostly starting and stopping.
const MIN_WALL_SECS: f64 = 0.2;

/// A run that waits: many more voluntary switches than involuntary ones, cores left idle.
pub struct IoBound;

/// The share of a run's waits that, spent waiting for a lock, make it lock-bound, not
/// IO-bound: every contended acquisition of a sleeping lock is one voluntary switch at most.
const LOCK_SHARE_OF_WAITS: f64 = 0.5;

impl Lint for IoBound {
    fn id(&self) -> &'static str {
        "io_bound"
    }

    fn lesson(&self) -> &'static str {
        "cpu-vs-io"
    }

    fn title(&self) -> Phrase {
        WORDS.title_io
    }

    fn check(&self, facts: &Facts) -> Option<Finding> {
        let usage = facts.observed.usage?;
        let used = facts.cores_used()?;
        let cores = facts.observed.cores.max(1);
        let secs = facts.wall_secs();
        let (voluntary, involuntary) = (
            usage.voluntary_switches as f64,
            usage.involuntary_switches as f64,
        );
        // A thread that waits for a lock gives up the CPU too; those waits are the lock's
        // (lock_convoy, the lesson's notes), and more workers would only queue behind it. So
        // are the waits of threads taking turns behind a GIL (gil_bound says so).
        let lock_waits = facts.metric("contended").unwrap_or(0.0);
        if secs < MIN_WALL_SECS
            || lock_waits >= LOCK_SHARE_OF_WAITS * voluntary
            || GilBound.check(facts).is_some()
            || voluntary < WAITS_PER_PREEMPTION * involuntary.max(1.0)
            || voluntary / secs < MIN_WAITS_PER_SEC
            || used > IDLE_SHARE * cores as f64
        {
            return None;
        }
        Some(Finding {
            text: say(
                WORDS.io_bound,
                &[
                    ("voluntary", &group_thousands(voluntary as i64)),
                    ("involuntary", &group_thousands(involuntary as i64)),
                    ("used", &short(used)),
                    ("cores", &cores),
                ],
            ),
            figures: vec![
                ("voluntary_switches", Num::Int(voluntary as i64)),
                ("involuntary_switches", Num::Int(involuntary as i64)),
                ("cores_used", Num::Float(round2(used))),
                ("cores", Num::Int(cores as i64)),
            ],
        })
    }
}

/// Other programs' load, in cores, from which the run's figures are worth doubting.
const OTHERS_CORES: f64 = 0.5;
/// ... and as a share of the machine's cores (half a core of 64 takes nothing worth saying).
const OTHERS_SHARE: f64 = 0.25;
/// `/proc/stat` counts in clock ticks of 10 ms: a shorter run spans a tick or two per core, and
/// whether one fell inside it says nothing of the machine's load.
const LOAD_MIN_WALL_SECS: f64 = 0.2;

/// Another program took cores during the run.
pub struct OtherLoad;

impl Lint for OtherLoad {
    fn id(&self) -> &'static str {
        "other_load"
    }

    fn lesson(&self) -> &'static str {
        "multicore"
    }

    fn title(&self) -> Phrase {
        WORDS.title_other
    }

    fn check(&self, facts: &Facts) -> Option<Finding> {
        let others = facts.observed.others_cores?;
        let cores = facts.observed.cores.max(1);
        if facts.wall_secs() < LOAD_MIN_WALL_SECS
            || others < OTHERS_CORES
            || others < OTHERS_SHARE * cores as f64
        {
            return None;
        }
        Some(Finding {
            text: say(
                WORDS.other_load,
                &[("others", &format!("{others:.1}")), ("cores", &cores)],
            ),
            figures: vec![
                ("others_cores", Num::Float(round2(others))),
                ("cores", Num::Int(cores as i64)),
            ],
        })
    }
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}
