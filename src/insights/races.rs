//! Lints of the lock lesson: updates lost without a lock, and a lock that changes hands on
//! nearly every acquisition.

use super::{Facts, Finding, Lint, say};
use crate::i18n::Phrase;
use crate::metrics::{Num, group_thousands};

crate::i18n::phrases! {
    pub WORDS {
        title_convoy: "lock convoy" => "锁护送",
        title_lost: "updates lost" => "更新丢失",
        lost: "{lost} updates were lost: a thread wrote back a value another thread had changed in between; a lock or an atomic keeps every update" => "丢失了 {lost} 次更新：一个线程写回的值，另一个线程已在中间改过；加锁或用原子操作，一次也不会丢",
        convoy: "the lock changed hands {handoffs} times in {acquisitions} acquisitions ({pct}%): the threads queue behind it and each sleeps and wakes in turn (a lock convoy); hold it for less time, or share less" => "锁在 {acquisitions} 次获取中换手 {handoffs} 次（{pct}%）：线程在锁后排队，轮流睡下、被唤醒（锁护送）；缩短持锁时间，或少共享些数据",
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
        if acquisitions < CONVOY_MIN_ACQUISITIONS || handoffs < CONVOY_SHARE * acquisitions {
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
                ],
            ),
            figures: vec![
                ("acquisitions", Num::Int(acquisitions as i64)),
                ("owner_changes", Num::Int(handoffs as i64)),
                ("handoff_pct", Num::Float(pct)),
            ],
        })
    }
}
