//! The queue lesson's lint: a consumer that cannot keep up.

use super::{Facts, Finding, Lint, say};
use crate::i18n::Phrase;
use crate::metrics::Num;

crate::i18n::phrases! {
    pub WORDS {
        title: "consumer too slow" => "读进程太慢",
        full: "the queue filled to its capacity of {capacity}, {full_pct}% of the depth readings: the reader could not keep up, so the writer waited for room; a faster reader or more readers close a steady gap, a bigger queue only delays it" => "队列涨满到容量 {capacity}，{full_pct}% 的深度读数是满的：读进程跟不上，写进程只能等空位；长期的差距要靠更快或更多的读进程来补，队列再大也只是推迟",
        full_once: "the queue filled to its capacity of {capacity}: the reader could not keep up, so the writer waited for room; a faster reader or more readers close a steady gap, a bigger queue only delays it" => "队列涨满到容量 {capacity}：读进程跟不上，写进程只能等空位；长期的差距要靠更快或更多的读进程来补，队列再大也只是推迟",
    }
}

/// The queue's depth rose to its capacity: the writer had to wait for the reader.
pub struct ConsumerTooSlow;

impl Lint for ConsumerTooSlow {
    fn id(&self) -> &'static str {
        "consumer_too_slow"
    }

    fn lesson(&self) -> &'static str {
        "queue"
    }

    fn title(&self) -> Phrase {
        WORDS.title
    }

    fn check(&self, facts: &Facts) -> Option<Finding> {
        let capacity = facts.metric("capacity")?;
        let depth_max = facts.metric("depth_max")?;
        let put = facts.metric("items_put")?;
        // A queue that only ever held what was put into it all at once says nothing of speed.
        if capacity < 1.0 || depth_max < capacity || put <= capacity {
            return None;
        }
        let mut figures = vec![
            ("capacity", Num::Int(capacity as i64)),
            ("depth_max", Num::Int(depth_max as i64)),
        ];
        let text = match facts.observed.trace.full_share(capacity as u64) {
            Some(share) => {
                let pct = (share * 100.0).round();
                figures.push(("depth_full_pct", Num::Float(pct)));
                say(WORDS.full, &[("capacity", &capacity), ("full_pct", &pct)])
            }
            None => say(WORDS.full_once, &[("capacity", &capacity)]),
        };
        Some(Finding { text, figures })
    }
}
