//! The process lesson's lint: a child that exited and was not waited for.

use super::{Facts, Finding, Lint, say, short};
use crate::i18n::Phrase;
use crate::metrics::Num;

crate::i18n::phrases! {
    pub WORDS {
        title: "a child not reaped" => "子进程没被回收",
        zombie: "process {pid} stayed a zombie for {secs} s: it had exited, but its parent did not wait for it; join or wait for every child you start" => "进程 {pid} 当了 {secs} 秒僵尸进程：它已经退出，父进程却没有 wait 它；启动的每个子进程都要 join 或 wait",
    }
}

/// How long a zombie may last before it is worth a word: a parent busy elsewhere for a moment
/// is no mistake.
const ZOMBIE_MS: f64 = 1000.0;

/// A child not reaped: a zombie for more than a second.
pub struct NotReaped;

impl Lint for NotReaped {
    fn id(&self) -> &'static str {
        "child_not_reaped"
    }

    fn lesson(&self) -> &'static str {
        "process"
    }

    fn title(&self) -> Phrase {
        WORDS.title
    }

    fn check(&self, facts: &Facts) -> Option<Finding> {
        let zombie = facts.observed.tree.longest_zombie?;
        (zombie.ms >= ZOMBIE_MS).then(|| Finding {
            text: say(
                WORDS.zombie,
                &[("pid", &zombie.pid), ("secs", &short(zombie.ms / 1000.0))],
            ),
            figures: vec![
                ("zombie_pid", Num::Int(i64::from(zombie.pid))),
                ("zombie_ms", Num::Float(zombie.ms.round())),
            ],
        })
    }
}
