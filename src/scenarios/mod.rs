//! The scenario registry: every lesson that can run, with its parameters and its natural
//! comparison. Only built scenarios are listed; the menu and `conlab list` show exactly these.

mod async_io;
mod costs;
mod cpu_vs_io;
mod distributed;
mod fork;
pub mod lock;
mod master_worker;
mod multicore;
mod pipe;
pub mod pool;
mod process;
mod queue;
mod subprocess;
mod switching;
mod thread_local;
mod threads;
pub mod watch;

use crate::i18n::{Lang, Phrase};
use crate::params::ParamSpec;
use crate::probe::Probe;
use crate::report::Metrics;
use ratatui::text::Text;
use std::sync::OnceLock;

/// The tutorial's parts, in its order; the menu groups scenarios by them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Group {
    Processes,
    Threads,
    Models,
    Distributed,
    /// Not a lesson: what a runner starts as its children (never in the menu or `list`).
    Internal,
}

impl Group {
    pub const ALL: [Group; 4] = [
        Group::Processes,
        Group::Threads,
        Group::Models,
        Group::Distributed,
    ];

    pub fn name(self) -> &'static str {
        self.name_in(Lang::En)
    }

    /// The group's name in `lang`: in Chinese, the tutorial's own headings.
    pub fn name_in(self, lang: Lang) -> &'static str {
        let name = match self {
            Group::Processes => Phrase::new("Processes", "多进程"),
            Group::Threads => Phrase::new("Threads", "多线程"),
            Group::Models => Phrase::new("Models", "进程 vs 线程"),
            Group::Distributed => Phrase::new("Distributed", "分布式进程"),
            Group::Internal => Phrase::new("Internal", "内部"),
        };
        name.get(lang)
    }
}

/// What a finished scenario found (the runner wraps it into a [`crate::report::Report`]).
#[derive(Debug, Default)]
pub struct Findings {
    /// False when the run did not do what it set out to (not when it shows a bug on purpose).
    pub ok: bool,
    pub wall_ms: f64,
    pub metrics: Metrics,
    /// What the run shows, in both languages (see [`crate::i18n::Text`]).
    pub notes: Vec<crate::i18n::Text>,
}

/// Which panel kind shows a scenario's figures in the dashboard (see [`crate::panels`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Panel {
    /// Its highlights, one metric a line.
    Highlights,
    /// The balance, lost updates and the lock's contention.
    Lock,
    /// Cores used and, with the GIL, each thread's shares.
    Multicore,
    /// Items on lanes over time, built from the run's spans.
    Timeline(TimelineSpec),
    /// A channel's puts, gets, depth and latency, built from the run's events.
    Channel(ChannelSpec),
    /// Values the run counts over time (`count` events), each a sparkline.
    Counts(CountsSpec),
    /// Measured costs, one row each: median, spread, and a published figure beside it.
    Table(TableSpec),
    /// Figures against a swept parameter, one line per series, built from the run's points.
    Sweep(SweepSpec),
}

/// What a sweep panel draws, in the scenario's words (both languages): the swept parameter,
/// the figures plotted against it, the names of the series, and the figures of the latest
/// point. The points themselves say which series and which figures they carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SweepSpec {
    /// The swept parameter, as the x axis calls it (`tasks`); the axis is logarithmic.
    pub x: Phrase,
    /// One chart per figure, as many as the panel has room for, the first always.
    pub plots: &'static [Plot],
    /// Names for the series words the points carry; a word not listed is shown as it is.
    pub series: &'static [(&'static str, Phrase)],
    /// The figures of the latest point, shown under the charts while the sweep runs.
    pub latest: &'static [Figure],
}

/// A figure a sweep panel plots, and its scale.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plot {
    pub figure: Figure,
    /// Logarithmic: for a figure that spans powers of ten (context switches per second).
    pub log: bool,
}

/// A figure of a point (named as in its metrics; the unit is in the name) and its label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Figure {
    pub name: &'static str,
    pub label: Phrase,
}

/// Which counts a counts panel draws, in order, and what it calls them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CountsSpec {
    pub series: &'static [CountSeries],
}

/// One count: the name its `count` events carry, and its words in both languages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CountSeries {
    pub name: &'static str,
    pub en: &'static str,
    pub zh: &'static str,
}

/// The rows of a table panel, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableSpec {
    pub rows: &'static [TableRow],
}

/// One measured cost: the key of its figures (see [`crate::lab::calibrate`]), what it is in
/// both languages, and what published measurements found, for comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableRow {
    pub key: &'static str,
    pub en: &'static str,
    pub zh: &'static str,
    pub typical: &'static str,
}

/// What a channel panel calls the channel (`queue`, 队列), in both languages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChannelSpec {
    pub name: Phrase,
}

/// What a timeline draws, in the scenario's own words in both languages: which processes or
/// threads are its lanes, which spans its bars, and what the wait before a bar means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimelineSpec {
    /// Processes that announce this role are the lanes (each gets a row before its first bar).
    pub lane_role: &'static str,
    /// Threads the trace names with this prefix are lanes too, one per thread (their spans'
    /// `tid`), for work that runs on threads of one process rather than on processes.
    pub lane_thread: Option<&'static str>,
    /// What a lane is called (`worker`, 工作进程); in English an `s` makes it plural.
    pub lane: Phrase,
    /// Spans of this category are the bars; an item's other spans are the steps around it.
    pub bar: &'static str,
    /// What a bar is called (`task`, 任务); in English an `s` makes it plural.
    pub item: Phrase,
    /// What an item waits for between its first step and its bar (`a free worker`).
    pub waits_for: Phrase,
    /// Marks of this category make their process a lane too, and their name says where it
    /// joined from: a worker the run did not start (on another machine), which whoever saw
    /// it join speaks for.
    pub lane_mark: Option<&'static str>,
    /// A table of the lanes under the chart, where the panel has room for it.
    pub table: Option<LanesTable>,
}

/// The table of a timeline's lanes: each lane's PID, where it joined from (its lane mark),
/// the items it finished, the one it runs, and what is left of the time it may run it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LanesTable {
    /// The heading of where a lane joined from (`joined`).
    pub from: Phrase,
    /// The parameter bounding how long an item may run on its lane (`lease_ms`), and the
    /// heading of what is left of it (`lease left`).
    pub limit: &'static str,
    pub left: Phrase,
}

impl TimelineSpec {
    /// Its words, by name, for the tests that hold both languages to each other.
    pub fn words(&self) -> [(&'static str, Phrase); 3] {
        [
            ("lane", self.lane),
            ("item", self.item),
            ("waits_for", self.waits_for),
        ]
    }
}

/// Something a runner can run: a lesson from the menu, or the work a lesson's child process does.
#[derive(Debug)]
pub struct Scenario {
    pub id: &'static str,
    pub group: Group,
    pub title: &'static str,
    pub params: &'static [ParamSpec],
    pub run: fn(&Probe) -> Result<Findings, String>,
    /// What the menu, the lesson pane and the compare view show; a child has none.
    lesson: Option<Lesson>,
}

/// The parts of a scenario only a lesson has.
#[derive(Debug)]
struct Lesson {
    /// One line, for `conlab list` and the menu.
    summary: &'static str,
    /// The lesson in Markdown (`assets/lessons/<id>.en.md`): the tutorial's section, what
    /// the user is seeing, and the section's code, corrected.
    text: &'static str,
    /// The text as [`Scenario::lesson_in`] gives it, rendered on first use.
    rendered: OnceLock<Text<'static>>,
    compare: Option<Comparison>,
    highlights: &'static [&'static str],
    panel: Panel,
    /// The title, summary and lesson in Chinese, the tutorial's language.
    chinese: Option<Chinese>,
}

/// A lesson's words in Chinese.
#[derive(Debug)]
struct Chinese {
    title: &'static str,
    summary: &'static str,
    /// `assets/lessons/<id>.zh.md`.
    text: &'static str,
    rendered: OnceLock<Text<'static>>,
}

/// The comparison `c` and `conlab compare` open: one parameter and the values to put side by side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Comparison {
    pub key: &'static str,
    pub values: &'static [&'static str],
}

/// In the tutorial's order: fork, Process, Pool, subprocess, Queue and Pipe; then threads,
/// Lock, multi-core and the GIL, ThreadLocal; then the models in the tutorial's order:
/// processes vs threads, task switching (and what each step costs), CPU- vs IO-bound, async IO.
static SCENARIOS: &[&Scenario] = &[
    &fork::SCENARIO,
    &process::SCENARIO,
    &pool::SCENARIO,
    &subprocess::SCENARIO,
    &queue::SCENARIO,
    &pipe::SCENARIO,
    &threads::SCENARIO,
    &lock::SCENARIO,
    &multicore::SCENARIO,
    &thread_local::SCENARIO,
    &master_worker::SCENARIO,
    &switching::SCENARIO,
    &costs::SCENARIO,
    &cpu_vs_io::SCENARIO,
    &async_io::SCENARIO,
    &distributed::SCENARIO,
];

impl Scenario {
    /// A lesson of the menu, with no comparison, no highlighted metrics and the plain
    /// highlights panel until the `with_` methods say otherwise.
    pub const fn lesson(
        id: &'static str,
        group: Group,
        title: &'static str,
        summary: &'static str,
        text: &'static str,
        params: &'static [ParamSpec],
        run: fn(&Probe) -> Result<Findings, String>,
    ) -> Scenario {
        assert!(
            !matches!(group, Group::Internal),
            "a lesson belongs to a group of the menu; internal scenarios are children"
        );
        Scenario {
            id,
            group,
            title,
            params,
            run,
            lesson: Some(Lesson {
                summary,
                text,
                rendered: OnceLock::new(),
                compare: None,
                highlights: &[],
                panel: Panel::Highlights,
                chinese: None,
            }),
        }
    }

    /// What a runner starts as a lesson's child process: never in the menu or `list`.
    pub const fn child(
        id: &'static str,
        title: &'static str,
        params: &'static [ParamSpec],
        run: fn(&Probe) -> Result<Findings, String>,
    ) -> Scenario {
        Scenario {
            id,
            group: Group::Internal,
            title,
            params,
            run,
            lesson: None,
        }
    }

    /// The comparison `c` opens: `key` set to each of `values`, one run each.
    pub const fn with_compare(
        mut self,
        key: &'static str,
        values: &'static [&'static str],
    ) -> Scenario {
        self.lesson_mut().compare = Some(Comparison { key, values });
        self
    }

    /// The metrics that tell the story, in order: the compare view's rows.
    pub const fn with_highlights(mut self, metrics: &'static [&'static str]) -> Scenario {
        self.lesson_mut().highlights = metrics;
        self
    }

    /// The dashboard's panel for its figures.
    pub const fn with_panel(mut self, panel: Panel) -> Scenario {
        self.lesson_mut().panel = panel;
        self
    }

    /// Its title, summary and lesson in Chinese.
    pub const fn with_chinese(
        mut self,
        title: &'static str,
        summary: &'static str,
        text: &'static str,
    ) -> Scenario {
        let chinese = Some(Chinese {
            title,
            summary,
            text,
            rendered: OnceLock::new(),
        });
        // The value replaced is None, with nothing to drop; const code cannot run a destructor.
        std::mem::forget(std::mem::replace(&mut self.lesson_mut().chinese, chinese));
        self
    }

    /// The title in `lang` (English where there is no translation).
    pub fn title_in(&self, lang: Lang) -> &'static str {
        match (lang, self.chinese()) {
            (Lang::Zh, Some(zh)) => zh.title,
            _ => self.title,
        }
    }

    /// The one-line summary in `lang` (English where there is no translation).
    pub fn summary_in(&self, lang: Lang) -> &'static str {
        match (lang, self.chinese()) {
            (Lang::Zh, Some(zh)) => zh.summary,
            _ => self.summary(),
        }
    }

    /// The lesson's Markdown in `lang` (English where there is no translation); a child has none.
    pub fn lesson_text_in(&self, lang: Lang) -> &'static str {
        match (lang, self.chinese()) {
            (Lang::Zh, Some(zh)) => zh.text,
            _ => self.lesson_text(),
        }
    }

    /// The lesson in `lang` as styled text (see [`crate::markdown`]), rendered once per
    /// scenario and language: the panels that show it draw every frame. A child has none.
    pub fn lesson_in(&self, lang: Lang) -> &Text<'static> {
        static NONE: Text<'static> = Text {
            lines: Vec::new(),
            style: ratatui::style::Style::new(),
            alignment: None,
        };
        let Some(lesson) = &self.lesson else {
            return &NONE;
        };
        let (text, rendered) = match (lang, &lesson.chinese) {
            (Lang::Zh, Some(zh)) => (zh.text, &zh.rendered),
            _ => (lesson.text, &lesson.rendered),
        };
        rendered.get_or_init(|| crate::markdown::render(text))
    }

    fn chinese(&self) -> Option<&Chinese> {
        self.lesson.as_ref().and_then(|l| l.chinese.as_ref())
    }

    /// Declaring a comparison or a panel for a child is a mistake the build reports: the
    /// registry is made in const context, where this panic is a compile error.
    const fn lesson_mut(&mut self) -> &mut Lesson {
        match &mut self.lesson {
            Some(lesson) => lesson,
            None => panic!("only a lesson has a comparison, highlights or a panel"),
        }
    }

    /// One line, for `conlab list` and the menu; a child's is its title.
    pub fn summary(&self) -> &'static str {
        self.lesson.as_ref().map_or(self.title, |l| l.summary)
    }

    /// The lesson's Markdown in English; a child has none.
    pub fn lesson_text(&self) -> &'static str {
        self.lesson.as_ref().map_or("", |l| l.text)
    }

    /// Its natural comparison, if it has one.
    pub fn compare(&self) -> Option<Comparison> {
        self.lesson.as_ref().and_then(|l| l.compare)
    }

    /// The metrics that tell the story, in order; none for a child.
    pub fn highlights(&self) -> &'static [&'static str] {
        self.lesson.as_ref().map_or(&[], |l| l.highlights)
    }

    /// The panel for its figures; a child's figures, were they ever shown, are a plain list.
    pub fn panel(&self) -> Panel {
        self.lesson.as_ref().map_or(Panel::Highlights, |l| l.panel)
    }
}

/// Every built scenario, grouped in tutorial order.
pub fn all() -> &'static [&'static Scenario] {
    SCENARIOS
}

/// Scenarios that only runners start, as their children's work.
static INTERNAL: &[&Scenario] = &[
    &process::CHILD,
    &pool::WORKER,
    &queue::WRITER,
    &queue::READER,
    &pipe::PING,
    &pipe::PONG,
    &multicore::WORKER,
    &async_io::SERVER,
    &async_io::CLIENT,
    &master_worker::WORKER,
    &switching::TASKS,
    &watch::WATCH,
    &distributed::WORKER,
];

/// What a runner may run: every scenario, and the internal ones children of runners run.
pub fn find_for_runner(id: &str) -> Result<&'static Scenario, String> {
    INTERNAL
        .iter()
        .copied()
        .find(|s| s.id == id)
        .map_or_else(|| find(id), Ok)
}

/// The scenario called `id`, or a message naming every valid id.
pub fn find(id: &str) -> Result<&'static Scenario, String> {
    all().iter().copied().find(|s| s.id == id).ok_or_else(|| {
        let ids: Vec<&str> = all().iter().map(|s| s.id).collect();
        format!(
            "unknown scenario {}; valid: {}",
            crate::text_safe::quoted(id),
            ids.join(", ")
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params::Params;

    #[test]
    fn every_scenario_is_well_formed() {
        for s in all() {
            // Defaults parse (Params::defaults panics otherwise) and the comparison is valid.
            let mut p = Params::defaults(s.params);
            if let Some(natural) = s.compare() {
                for v in natural.values {
                    p.set(s.params, natural.key, v).unwrap();
                }
            }
            assert!(!s.lesson_text().is_empty(), "{} has no lesson", s.id);
        }
        let groups: Vec<Group> = all().iter().map(|s| s.group).collect();
        let sorted = {
            let mut g = groups.clone();
            g.sort();
            g
        };
        assert_eq!(groups, sorted, "registry must be in tutorial order");
    }

    #[test]
    fn internal_scenarios_are_well_formed_and_hidden() {
        for s in INTERNAL {
            Params::defaults(s.params);
            assert!(s.lesson.is_none(), "{} is a child, not a lesson", s.id);
            assert_eq!(s.group, Group::Internal, "{}", s.id);
            assert!(find(s.id).is_err(), "{} is only for runners", s.id);
            assert!(find_for_runner(s.id).is_ok(), "{}", s.id);
        }
    }

    #[test]
    fn each_lesson_is_rendered_once_per_language() {
        for s in all().iter().chain(INTERNAL) {
            for lang in [Lang::En, Lang::Zh] {
                let text = s.lesson_in(lang);
                assert!(std::ptr::eq(text, s.lesson_in(lang)), "{}", s.id);
            }
        }
        assert!(PLAIN.lesson_in(Lang::En).lines.len() == 1);
        assert!(CHILD.lesson_in(Lang::Zh).lines.is_empty());
    }

    fn nothing(_: &Probe) -> Result<Findings, String> {
        Ok(Findings::default())
    }

    const MODE: &[ParamSpec] = &[ParamSpec {
        key: "mode",
        kind: crate::params::ParamKind::Choice(&["a", "b"]),
        default: "a",
        help: "",
    }];

    static DECLARED: Scenario = Scenario::lesson(
        "declared",
        Group::Models,
        "Declared",
        "one line",
        "First\nparagraph.\n\nSecond.",
        MODE,
        nothing,
    )
    .with_compare("mode", &["a", "b"])
    .with_highlights(&["wall_ms"])
    .with_panel(Panel::Lock);

    static PLAIN: Scenario = Scenario::lesson(
        "plain",
        Group::Threads,
        "Plain",
        "one line",
        "Text.",
        &[],
        nothing,
    );

    static CHILD: Scenario = Scenario::child("declared-child", "Declared's child", MODE, nothing);

    #[test]
    fn a_lesson_reads_back_what_it_declares() {
        assert_eq!((DECLARED.id, DECLARED.group), ("declared", Group::Models));
        assert_eq!(
            (DECLARED.title, DECLARED.summary()),
            ("Declared", "one line")
        );
        assert_eq!(DECLARED.lesson_text(), "First\nparagraph.\n\nSecond.");
        let shown: Vec<String> = DECLARED
            .lesson_in(Lang::En)
            .lines
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(shown, ["First paragraph.", "", "Second."]);
        assert_eq!(DECLARED.params, MODE);
        assert_eq!(
            DECLARED.compare(),
            Some(Comparison {
                key: "mode",
                values: &["a", "b"]
            })
        );
        assert_eq!(DECLARED.highlights(), &["wall_ms"]);
        assert_eq!(DECLARED.panel(), Panel::Lock);
    }

    #[test]
    fn a_lesson_compares_nothing_and_lists_its_figures_until_told_otherwise() {
        assert_eq!(PLAIN.compare(), None);
        assert!(PLAIN.highlights().is_empty());
        assert_eq!(PLAIN.panel(), Panel::Highlights);
        assert_eq!(PLAIN.lesson_text(), "Text.");
    }

    #[test]
    fn a_child_has_no_lesson_comparison_or_figures() {
        assert_eq!(CHILD.group, Group::Internal);
        assert_eq!(
            (CHILD.id, CHILD.title, CHILD.params),
            ("declared-child", "Declared's child", MODE)
        );
        assert!(CHILD.lesson.is_none());
        assert_eq!(CHILD.compare(), None);
        assert!(CHILD.highlights().is_empty());
        assert_eq!(CHILD.lesson_text(), "");
        assert_eq!(CHILD.summary(), "Declared's child");
    }

    // In a static these are build errors; called at run time they panic with the reason.
    #[test]
    #[should_panic(expected = "only a lesson has a comparison")]
    fn a_child_cannot_be_given_a_comparison() {
        let _ = Scenario::child("c", "C", MODE, nothing).with_compare("mode", &["a"]);
    }

    #[test]
    #[should_panic(expected = "only a lesson has a comparison, highlights or a panel")]
    fn a_child_cannot_be_given_a_panel() {
        let _ = Scenario::child("c", "C", MODE, nothing).with_panel(Panel::Lock);
    }

    #[test]
    #[should_panic(expected = "a lesson belongs to a group of the menu")]
    fn a_lesson_cannot_be_internal() {
        let _ = Scenario::lesson("l", Group::Internal, "L", "l", "l", &[], nothing);
    }

    /// Reads a choice parameter as the enum `C`, as a scenario's code does.
    fn reads<C: crate::params::Choice>(p: &Params, key: &str) -> Result<(), String> {
        p.choice::<C>(key).map(drop)
    }

    type Reader = fn(&Params, &str) -> Result<(), String>;

    /// Each choice parameter of the registry, with the enum its scenario's code reads it as.
    const READERS: &[(&str, &str, Reader)] = &[
        ("process", "target", reads::<process::Target>),
        ("process", "fail", reads::<process::Ending>),
        ("process-child", "target", reads::<process::Target>),
        ("process-child", "fail", reads::<process::Ending>),
        ("subprocess", "mode", reads::<subprocess::Mode>),
        ("queue", "mode", reads::<queue::Mode>),
        ("queue-writer", "mode", reads::<queue::Mode>),
        ("queue-reader", "mode", reads::<queue::Mode>),
        ("lock", "mode", reads::<lock::Mode>),
        ("lock", "pin", reads::<lock::Pin>),
        ("multicore", "mode", reads::<multicore::Mode>),
        ("thread-local", "mode", reads::<thread_local::Mode>),
        ("async-io", "mode", reads::<async_io::Mode>),
        ("async-io-server", "mode", reads::<async_io::Mode>),
        ("costs", "mode", reads::<costs::Mode>),
        ("master-worker", "mode", reads::<master_worker::Mode>),
        ("master-worker", "crash", reads::<master_worker::Crash>),
        (
            "master-worker-worker",
            "crash",
            reads::<master_worker::Crash>,
        ),
        ("switching", "mode", reads::<switching::Mode>),
        ("cpu-vs-io", "mode", reads::<cpu_vs_io::Mode>),
        ("distributed", "fault", reads::<distributed::Fault>),
        ("distributed", "backend", reads::<distributed::Backend>),
        (
            "distributed-worker",
            "backend",
            reads::<distributed::Backend>,
        ),
    ];

    #[test]
    fn every_word_of_every_choice_is_a_variant_its_scenario_handles() {
        let mut checked = 0;
        for s in all().iter().chain(INTERNAL) {
            for spec in s.params {
                let crate::params::ParamKind::Choice(words) = spec.kind else {
                    continue;
                };
                let (_, _, read) = READERS
                    .iter()
                    .find(|(id, key, _)| *id == s.id && *key == spec.key)
                    .unwrap_or_else(|| {
                        panic!(
                            "{}: `{}` is a choice with no enum in READERS; declare one with choice_enum! and read it with Params::choice",
                            s.id, spec.key
                        )
                    });
                for word in words {
                    let mut p = Params::defaults(s.params);
                    p.set(s.params, spec.key, word).unwrap();
                    read(&p, spec.key).unwrap_or_else(|e| panic!("{}: {e}", s.id));
                }
                checked += 1;
            }
        }
        assert_eq!(
            checked,
            READERS.len(),
            "READERS names a choice no scenario has"
        );
    }

    #[test]
    fn unknown_ids_name_the_valid_ones() {
        let e = find("nope").unwrap_err();
        assert!(e.contains("lock"), "{e}");
    }
}
