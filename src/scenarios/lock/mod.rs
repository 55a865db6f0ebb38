//! `lock` — the tutorial's Lock section: threads add and subtract on one shared balance.
//! Without a lock updates are lost; with a lock the balance is right but threads queue; a fair
//! lock, handed over in arrival order, makes them take turns (a convoy); with atomics it is
//! right without a lock. Two locks taken in opposite orders deadlock; one order,
//! or a try-lock with back-off, does not. A body that fails inside the lock still releases it.
//! With python3 present, the tutorial's own code runs in real CPython next to a variant that
//! does race there.
//!
//! - [`changes`]: what the threads share and one change in each mode;
//! - [`in_rounds`]: the modes that end, run in rounds for at least `seconds`;
//! - [`deadlock`]: the mode that never ends on its own;
//! - [`python`]: the tutorial's code in CPython;
//! - [`notes`]: what each run's figures say, in English and Chinese.

mod changes;
mod deadlock;
mod in_rounds;
mod notes;
mod python;

pub use changes::ACCOUNTS;

use super::{Findings, Group, Panel, Scenario};
use crate::lab::affinity;
use crate::params::{ParamKind, ParamSpec, choice_enum};
use crate::probe::Probe;

pub static SCENARIO: Scenario = Scenario::lesson(
    "lock",
    Group::Threads,
    "Lock — the shared balance",
    "threads add and subtract on one balance: no lock loses updates, a lock queues, atomics do neither; two locks can deadlock",
    include_str!("../../../assets/lessons/lock.en.md"),
    &[
        Mode::spec(
            "mode",
            Mode::NoLock,
            "nolock: separate load and store; lock: a counted mutex; atomic: fetch_add/fetch_sub; \
             fair: a lock handed to waiters in arrival order; deadlock: two locks, opposite \
             orders; ordered: one order; trylock: back off; python: CPython",
        ),
        ParamSpec {
            key: "threads",
            kind: ParamKind::Int { min: 1, max: 64 },
            default: "2",
            help: "threads changing the balance at once (thread i adds and subtracts 5 + 3i)",
        },
        ParamSpec {
            key: "iterations",
            kind: ParamKind::Int {
                min: 1,
                max: 2_000_000_000,
            },
            default: "1000000",
            help: "changes per thread in each round (one change = balance += n, then balance -= n)",
        },
        ParamSpec {
            key: "seconds",
            kind: ParamKind::Int { min: 0, max: 3600 },
            default: "2",
            help: "rounds repeat until this long has passed (0: one round); deadlock runs until stopped",
        },
        ParamSpec {
            key: "fail_every",
            kind: ParamKind::Int {
                min: 0,
                max: 2_000_000_000,
            },
            default: "0",
            help: "every Nth change of a thread fails inside the lock (a panic, caught); 0: none",
        },
        Pin::spec(
            "pin",
            Pin::Off,
            "off: the scheduler places the threads; spread: thread i is pinned to the i-th CPU \
             this process may use (wrapping round)",
        ),
    ],
    run,
)
.with_chinese(
    "Lock（锁）—— 共享的余额",
    "多个线程对同一个余额加了又减：不加锁会丢失更新，加锁要排队，原子操作两者都不会；两把锁可能造成死锁",
    include_str!("../../../assets/lessons/lock.zh.md"),
)
.with_compare("mode", &["nolock", "lock", "atomic"])
.with_highlights(&[
    "balance",
    "lost_updates",
    "contended",
    "wait_ns_total",
    "owner_changes",
    "wall_ms",
    "ops_per_sec",
])
.with_panel(Panel::Lock);

choice_enum! {
    /// How the threads change the balance.
    pub(super) enum Mode {
        NoLock = "nolock",
        Lock = "lock",
        Atomic = "atomic",
        Fair = "fair",
        Deadlock = "deadlock",
        Ordered = "ordered",
        TryLock = "trylock",
        Python = "python",
    }
}

choice_enum! {
    /// Where the changing threads run.
    pub(super) enum Pin {
        Off = "off",
        Spread = "spread",
    }
}

impl Mode {
    /// The modes whose changes take two locks, one for each of two accounts.
    fn takes_two_locks(self) -> bool {
        matches!(self, Mode::Deadlock | Mode::Ordered | Mode::TryLock)
    }

    /// The modes whose changes run inside a lock.
    fn locks(self) -> bool {
        matches!(self, Mode::Lock | Mode::Fair) || self.takes_two_locks()
    }
}

/// A run's parameters, read once.
#[derive(Debug, Clone, Copy)]
struct Plan {
    mode: Mode,
    threads: usize,
    iterations: u64,
    seconds: u64,
    fail_every: u64,
    pin: Pin,
}

impl Plan {
    /// The CPUs thread i is pinned to, the i-th (wrapping round); none when the scheduler
    /// places the threads.
    fn cpus(&self) -> Result<Vec<usize>, String> {
        match self.pin {
            Pin::Off => Ok(Vec::new()),
            Pin::Spread => affinity::allowed(),
        }
    }
}

fn run(probe: &Probe) -> Result<Findings, String> {
    let p = probe.params();
    let plan = Plan {
        mode: p.choice::<Mode>("mode")?,
        threads: p.int("threads") as usize,
        iterations: p.int("iterations") as u64,
        seconds: p.int("seconds") as u64,
        fail_every: p.int("fail_every") as u64,
        pin: p.choice::<Pin>("pin")?,
    };
    match plan.mode {
        Mode::Deadlock => deadlock::run(probe, &plan),
        Mode::Python => python::run(probe),
        _ => in_rounds::run(probe, &plan),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params::Params;

    #[test]
    fn the_lesson_is_in_both_languages_with_the_tutorial_heading_and_terms() {
        use crate::i18n::Lang;
        let en = SCENARIO.lesson_text_in(Lang::En);
        let zh = SCENARIO.lesson_text_in(Lang::Zh);
        assert!(en.starts_with("# Lock"), "{en}");
        assert!(zh.starts_with("# Lock"), "{zh}");
        for term in ["锁", "死锁", "竞争", "try...finally", "全局解释器锁"] {
            assert!(zh.contains(term), "the Chinese lesson lacks {term}");
        }
        for text in [en, zh] {
            // Ends with the tutorial's code, corrected, and what goes wrong as written.
            assert!(text.contains("lock.acquire()") && text.contains("TabError"));
            for mode in Mode::WORDS {
                assert!(text.contains(&format!("`{mode}`")), "no `{mode}` in {text}");
            }
        }
    }

    #[test]
    fn every_mode_is_read_from_its_word() {
        for word in Mode::WORDS {
            let p = Params::from_assignments(SCENARIO.params, &[format!("mode={word}")]).unwrap();
            assert_eq!(p.choice::<Mode>("mode").unwrap().word(), *word);
        }
    }
}
