//! Lints of the lock lesson: updates lost without a lock, and a lock that changes hands on
//! nearly every acquisition.

use super::{Facts, Finding, Lint, say};
use crate::i18n::Phrase;
use crate::metrics::{Num, group_thousands};

crate::i18n::phrases! {
    pub WORDS {
        title_convoy: "lock convoy" => "锁护航",
        title_lost: "updates lost" => "更新丢失",
        lost: "{lost} updates were lost: a thread wrote back a value another thread had changed in between; a lock or an atomic keeps every update" => "丢失了 {lost} 次更新：一个线程写回的值，另一个线程已在中间改过；加锁或用原子操作，一次也不会丢",
        convoy: "the lock changed hands {handoffs} times in {acquisitions} acquisitions ({pct}%) and the threads gave up the CPU {sleeps} times: they queue behind it, each sleeping until it is woken in turn (a lock convoy); hold it for less time, share less, or use a lock that lets the releasing thread take it back" => "锁在 {acquisitions} 次获取中换手 {handoffs} 次（{pct}%），线程主动让出 CPU {sleeps} 次：它们在锁后排队，轮流睡下、被唤醒（锁护航）；缩短持锁时间、少共享些数据，或换用允许释放者马上重新拿锁的锁",
    }
}

/// Updates lost to a race: the run counted stores that overwrote another thread's write.
pub struct UpdatesLost;

impl Lint for UpdatesLost {
    fn id(&self) -> &'static str {
        "updates_lost"
    }

    fn lesson(&self) -> &'static str {
        "lock"
    }

    fn title(&self) -> Phrase {
        WORDS.title_lost
    }

    fn check(&self, facts: &Facts) -> Option<Finding> {
        let lost = facts.report.metrics.get("lost_updates")?;
        (lost.as_f64() > 0.0).then(|| Finding {
            text: say(
                WORDS.lost,
                &[("lost", &group_thousands(lost.as_f64() as i64))],
            ),
            figures: vec![("lost_updates", lost)],
        })
    }
}

/// Acquisitions below which a hand-off share says nothing.
const CONVOY_MIN_ACQUISITIONS: f64 = 1000.0;
/// The share of acquisitions that passed the lock to another thread from which threads are
/// taking turns rather than working: an uncontended or briefly contended lock stays with its
/// holder for runs of acquisitions (well under 5 % here).
const CONVOY_SHARE: f64 = 0.5;
/// The least number of times the run gave up the CPU, as a share of its hand-offs, for the
/// hand-offs to be a convoy: a waiter that spins takes the lock the moment it is free, and
/// threads that alternate that way are merely busy (an unoptimised build's counted mutex hands
/// over on half its acquisitions, spinning); a convoy's waiter sleeps and is woken every time.
const CONVOY_SLEEPS_PER_HANDOFF: f64 = 0.5;

/// A lock convoy: the lock passes to another thread on most acquisitions.
pub struct LockConvoy;

impl Lint for LockConvoy {
    fn id(&self) -> &'static str {
        "lock_convoy"
    }

    fn lesson(&self) -> &'static str {
        "lock"
    }

    fn title(&self) -> Phrase {
        WORDS.title_convoy
    }

    fn check(&self, facts: &Facts) -> Option<Finding> {
        let acquisitions = facts.metric("acquisitions")?;
        let handoffs = facts.metric("owner_changes")?;
        let sleeps = facts.observed.usage?.voluntary_switches as f64;
        if acquisitions < CONVOY_MIN_ACQUISITIONS
            || handoffs < CONVOY_SHARE * acquisitions
            || sleeps < CONVOY_SLEEPS_PER_HANDOFF * handoffs
        {
            return None;
        }
        let pct = (handoffs / acquisitions * 100.0).round();
        Some(Finding {
            text: say(
                WORDS.convoy,
                &[
                    ("handoffs", &group_thousands(handoffs as i64)),
                    ("acquisitions", &group_thousands(acquisitions as i64)),
                    ("pct", &pct),
                    ("sleeps", &group_thousands(sleeps as i64)),
                ],
            ),
            figures: vec![
                ("acquisitions", Num::Int(acquisitions as i64)),
                ("owner_changes", Num::Int(handoffs as i64)),
                ("handoff_pct", Num::Float(pct)),
                ("voluntary_switches", Num::Int(sleeps as i64)),
            ],
        })
    }
}
