//! The scenario registry: every lesson that can run, with its parameters and its natural
//! comparison. Only built scenarios are listed; the menu and `conlab list` show exactly these.

mod fork;
mod lock;
mod multicore;
mod pipe;
mod pool;
mod process;
mod queue;
mod subprocess;
mod thread_local;
mod threads;

use crate::params::ParamSpec;
use crate::probe::Probe;
use crate::report::Metrics;
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
        match self {
            Group::Processes => "Processes",
            Group::Threads => "Threads",
            Group::Models => "Models",
            Group::Distributed => "Distributed",
            Group::Internal => "Internal",
        }
    }
}

/// What a finished scenario found (the runner wraps it into a [`crate::report::Report`]).
#[derive(Debug, Default)]
pub struct Findings {
    /// False when the run did not do what it set out to (not when it shows a bug on purpose).
    pub ok: bool,
    pub wall_ms: f64,
    pub metrics: Metrics,
    pub notes: Vec<String>,
}

/// Which panel shows a scenario's figures in the dashboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Panel {
    /// Its highlights, one metric a line.
    Highlights,
    /// The balance, lost updates and the lock's contention.
    Lock,
    /// Cores used and, with the GIL, each thread's shares.
    Multicore,
    /// Each worker's tasks on a time line, built from the run's events.
    Timeline,
    /// The queue's puts, gets, depth and latency, built from the run's events.
    Queue,
}

/// One lesson that runs.
#[derive(Debug)]
pub struct Scenario {
    pub id: &'static str,
    pub group: Group,
    pub title: &'static str,
    /// One line, for `conlab list` and the menu.
    pub summary: &'static str,
    /// A few paragraphs explaining what the user is seeing.
    pub lesson: &'static str,
    /// The lesson as [`Scenario::lesson_text`] gives it, made on first use.
    lesson_reflowed: OnceLock<String>,
    pub params: &'static [ParamSpec],
    /// The comparison `c` opens: one parameter and the values to put side by side.
    pub compare_key: &'static str,
    pub compare_values: &'static [&'static str],
    /// The metrics that tell the story, in order: the compare view's rows.
    pub highlights: &'static [&'static str],
    /// The dashboard's panel for its figures.
    pub panel: Panel,
    pub run: fn(&Probe) -> Result<Findings, String>,
}

/// In the tutorial's order: fork, Process, Pool, subprocess, Queue and Pipe; then threads,
/// Lock, multi-core and the GIL, ThreadLocal.
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
];

impl Scenario {
    /// The lesson with each paragraph on one line, so the terminal can wrap it to any width.
    /// Reflowed once per scenario: the panels that show it draw every frame.
    pub fn lesson_text(&self) -> &str {
        self.lesson_reflowed.get_or_init(|| {
            self.lesson
                .trim()
                .split("\n\n")
                .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
                .collect::<Vec<_>>()
                .join("\n\n")
        })
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
            for v in s.compare_values {
                p.set(s.params, s.compare_key, v).unwrap();
            }
            assert!(!s.lesson.trim().is_empty(), "{} has no lesson", s.id);
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
            let mut p = Params::defaults(s.params);
            for v in s.compare_values {
                p.set(s.params, s.compare_key, v).unwrap();
            }
            assert_eq!(s.group, Group::Internal, "{}", s.id);
            assert!(find(s.id).is_err(), "{} is only for runners", s.id);
            assert!(find_for_runner(s.id).is_ok(), "{}", s.id);
        }
    }

    #[test]
    fn each_lesson_is_reflowed_once() {
        for s in all().iter().chain(INTERNAL) {
            let text = s.lesson_text();
            assert!(std::ptr::eq(text, s.lesson_text()), "{}", s.id);
            assert!(
                text.split("\n\n").all(|p| !p.contains('\n')),
                "{}: {text:?}",
                s.id
            );
        }
    }

    #[test]
    fn unknown_ids_name_the_valid_ones() {
        let e = find("nope").unwrap_err();
        assert!(e.contains("lock"), "{e}");
    }
}
