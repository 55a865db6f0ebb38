//! Insights: small lints over a finished run — its report's figures, what its trace said and
//! what was seen of its processes from outside — each a sentence with the figures that
//! triggered it and the lesson that explains it (tokio-console's `warnings.rs` is the model:
//! a type per lint, a check over the run, a list of what fired).
//!
//! - [`races`]: updates lost, a lock convoy.
//! - [`cores`]: GIL-bound, oversubscribed, IO-bound, another program took cores.
//! - [`queues`]: the consumer is too slow.
//! - [`children`]: a child not reaped.

pub mod children;
pub mod cores;
pub mod observed;
pub mod queues;
pub mod races;

use crate::i18n::{Lang, Phrase, Text};
use crate::metrics::{Metrics, Num};
use crate::report::{Report, Warning};
pub use observed::Observed;

/// What a lint may look at.
#[derive(Debug, Clone, Copy)]
pub struct Facts<'a> {
    pub report: &'a Report,
    pub observed: &'a Observed,
}

impl Facts<'_> {
    /// A metric of the report.
    pub fn metric(&self, name: &str) -> Option<f64> {
        self.report.metrics.get(name).map(Num::as_f64)
    }

    /// Cores the run kept busy on average: its CPU time over its wall time.
    pub fn cores_used(&self) -> Option<f64> {
        let usage = self.observed.usage?;
        (self.observed.wall_ms > 0.0).then(|| usage.cpu_ms / self.observed.wall_ms)
    }

    pub fn wall_secs(&self) -> f64 {
        self.observed.wall_ms / 1000.0
    }
}

/// What one lint found: its sentence in both languages and the figures behind it.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub text: Text,
    pub figures: Vec<(&'static str, Num)>,
}

/// One kind of insight.
pub trait Lint: Sync {
    /// A stable name, snake_case: scripts select warnings by it.
    fn id(&self) -> &'static str;
    /// The scenario whose lesson explains what it finds.
    fn lesson(&self) -> &'static str;
    /// A few words for where a sentence does not fit.
    fn title(&self) -> Phrase;
    fn check(&self, facts: &Facts) -> Option<Finding>;
}

/// Every lint, in the order their warnings are listed.
pub const LINTS: &[&dyn Lint] = &[
    &races::UpdatesLost,
    &races::LockConvoy,
    &cores::GilBound,
    &cores::Oversubscribed,
    &cores::IoBound,
    &queues::ConsumerTooSlow,
    &children::NotReaped,
    &cores::OtherLoad,
];

crate::i18n::phrases! {
    pub WORDS {
        lesson: "{text} (lesson: {lesson})" => "{text}（课程：{lesson}）",
    }
}

/// Every lint that fires on the run, as the report carries them.
pub fn check(report: &Report, observed: &Observed) -> Vec<Warning> {
    let facts = Facts { report, observed };
    LINTS
        .iter()
        .filter_map(|lint| Some((lint, lint.check(&facts)?)))
        .map(|(lint, found)| {
            let lesson = lint.lesson();
            let say = |lang: Lang| {
                WORDS.lesson.with(
                    lang,
                    &[("text", &found.text.get(lang)), ("lesson", &lesson)],
                )
            };
            let mut figures = Metrics::default();
            for (name, value) in &found.figures {
                figures.set(name, *value);
            }
            Warning {
                id: lint.id().to_string(),
                lesson: lesson.to_string(),
                text: say(Lang::En),
                text_zh: say(Lang::Zh),
                figures,
            }
        })
        .collect()
}

/// The title of the lint called `id`, if there is one.
pub fn title(id: &str) -> Option<Phrase> {
    LINTS.iter().find(|l| l.id() == id).map(|l| l.title())
}

/// `phrase` in both languages with its figures filled in.
fn say(phrase: Phrase, figures: &[(&str, &dyn std::fmt::Display)]) -> Text {
    Text::new(
        phrase.with(Lang::En, figures),
        phrase.with(Lang::Zh, figures),
    )
}

/// `1.93`, `0.5`: a figure of cores or seconds as people say it.
fn short(x: f64) -> String {
    let text = format!("{x:.2}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}
