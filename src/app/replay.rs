//! A recording played back in the dashboard (`conlab replay FILE`). The model is the live
//! dashboard's own [`App`], fed the recording's items as the event loop fed it the runners'
//! messages and the sampler's samples, so every panel draws what it drew live; the CPU panel
//! shows the recorded machine's cores, whatever this one has.
//!
//! The position is how many items have been applied. Going forward applies the next ones;
//! going back rebuilds the model from the start up to the position, so a step back leaves
//! exactly what stepping forward to there left — no panel has to know how to undo an event.

use super::run::Run;
use super::{App, Msg};
use crate::event::record::{Header, Item, Recording};
use crate::keymap::ReplayAction;
use crate::params::Params;
use crate::runner::{RunId, RunnerMsg, RunnerUpdate};
use crate::sampler::Sample;
use crate::scenarios::{self, Scenario};
use crate::text_safe::quoted;
use std::collections::{HashMap, VecDeque};
use std::time::Duration;

/// The speeds `-` and `+` step through.
pub const SPEEDS: [f64; 7] = [0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0];
/// Index of 1× in [`SPEEDS`].
const NORMAL_SPEED: usize = 3;

/// One recorded item, checked and ready to feed the model.
#[derive(Debug, Clone)]
enum Step {
    Run {
        id: RunId,
        scenario: &'static Scenario,
        params: Params,
    },
    Runner(RunnerUpdate),
    Sample(Sample),
}

impl Step {
    /// What a learner steps through: everything but the sampler's ticks.
    fn is_event(&self) -> bool {
        !matches!(self, Step::Sample(_))
    }
}

#[derive(Debug)]
pub struct Replay {
    /// The model as it stands at the position.
    pub app: App,
    /// What the recording is called in the position readout (its file name).
    pub name: String,
    pub header: Header,
    /// Each item's time on the recording's clock (ms; never earlier than the one before).
    stamps: Vec<f64>,
    steps: Vec<Step>,
    /// Items applied.
    position: usize,
    /// Where the clock is, ms on the recording's clock.
    playhead_ms: f64,
    speed: usize,
    pub paused: bool,
}

impl Replay {
    /// A replay of `recording`, playing from its start on a screen of `size`; or why it
    /// cannot be replayed, naming the line.
    pub fn new(recording: Recording, name: &str, size: (u16, u16)) -> Result<Replay, String> {
        let (stamps, steps) = prepare(recording.items)?;
        let mut replay = Replay {
            app: App::new(size, 0),
            name: name.to_string(),
            header: recording.header,
            stamps,
            steps,
            position: 0,
            playhead_ms: 0.0,
            speed: NORMAL_SPEED,
            paused: false,
        };
        replay.app = replay.fresh_app(&replay.app);
        Ok(replay)
    }

    /// An empty model for this recording, keeping what the user chose in `from` (language,
    /// threads shown, an overlay, the screen size).
    fn fresh_app(&self, from: &App) -> App {
        let interval = self.header.interval_ms.unwrap_or(500);
        let mut app = App::new(from.size, interval);
        app.replaying = true;
        app.lang = from.lang;
        app.show_threads = from.show_threads;
        app.overlay = from.overlay.clone();
        // The recorded machine's cores from the start, so the panels do not jump at the
        // first sample; a recording without samples (a headless run) has no CPU to show.
        if self.steps.iter().any(|s| !s.is_event()) {
            app.cpu.cores = vec![VecDeque::new(); self.header.cores];
        }
        if let Some(scenario) = self.steps.iter().find_map(|s| match s {
            Step::Run { scenario, .. } => Some(*scenario),
            _ => None,
        }) {
            select(&mut app, scenario);
        }
        app
    }

    /// Items applied so far, of [`Replay::len`].
    pub fn position(&self) -> usize {
        self.position
    }

    pub fn len(&self) -> usize {
        self.steps.len()
    }

    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    /// Events (items but samples) applied so far, and in all.
    pub fn events(&self) -> (usize, usize) {
        let count = |steps: &[Step]| steps.iter().filter(|s| s.is_event()).count();
        (count(&self.steps[..self.position]), count(&self.steps))
    }

    /// Whether the recording has the dashboard's samples (a headless run's has none).
    pub fn has_samples(&self) -> bool {
        self.steps.iter().any(|s| !s.is_event())
    }

    pub fn playhead_ms(&self) -> f64 {
        self.playhead_ms
    }

    /// The recording's length on its clock, ms.
    pub fn total_ms(&self) -> f64 {
        self.stamps.last().copied().unwrap_or(0.0)
    }

    pub fn speed(&self) -> f64 {
        SPEEDS[self.speed]
    }

    /// Whether the clock has reached the end.
    pub fn at_end(&self) -> bool {
        self.position == self.steps.len()
    }

    /// Moves the model to `position` items applied: forward by applying the items between,
    /// back by rebuilding from the start.
    pub fn seek(&mut self, position: usize) {
        let position = position.min(self.steps.len());
        if position < self.position {
            self.app = self.fresh_app(&self.app);
            self.position = 0;
        }
        for step in &self.steps[self.position..position] {
            apply(&mut self.app, step);
        }
        self.position = position;
    }

    /// Moves to `position` and puts the clock on its last item.
    fn jump(&mut self, position: usize) {
        self.seek(position);
        self.playhead_ms = match self.position {
            0 => 0.0,
            p => self.stamps[p - 1],
        };
    }

    /// Carries out a time control.
    pub fn control(&mut self, action: ReplayAction) {
        match action {
            ReplayAction::PlayPause if self.at_end() => {
                // Play again from the start, as a player does at its end.
                self.jump(0);
                self.paused = false;
            }
            ReplayAction::PlayPause => self.paused = !self.paused,
            ReplayAction::StepForward => {
                self.paused = true;
                let next = self.steps[self.position..]
                    .iter()
                    .position(Step::is_event)
                    .map_or(self.steps.len(), |i| self.position + i + 1);
                self.jump(next);
            }
            ReplayAction::StepBack => {
                self.paused = true;
                let before = self.position.saturating_sub(1);
                let previous = self.steps[..before]
                    .iter()
                    .rposition(Step::is_event)
                    .map_or(0, |i| i + 1);
                self.jump(previous);
            }
            ReplayAction::Faster => self.speed = (self.speed + 1).min(SPEEDS.len() - 1),
            ReplayAction::Slower => self.speed = self.speed.saturating_sub(1),
            ReplayAction::ToStart => self.jump(0),
            ReplayAction::ToEnd => {
                self.jump(self.steps.len());
                self.playhead_ms = self.total_ms();
                self.paused = true;
            }
        }
    }

    /// `elapsed` of wall time went by: unless paused, the clock moves on by it times the
    /// speed and every item it passes is applied. At the end the replay pauses.
    pub fn tick(&mut self, elapsed: Duration) {
        if self.paused {
            return;
        }
        let total = self.total_ms();
        self.playhead_ms =
            (self.playhead_ms + elapsed.as_secs_f64() * 1e3 * self.speed()).min(total);
        let due = self.stamps.partition_point(|t| *t <= self.playhead_ms);
        self.seek(due.max(self.position));
        if self.playhead_ms >= total {
            self.seek(self.steps.len());
            self.paused = true;
        }
    }

    /// Passes a message (a key, a resize) to the model; the time controls it asks for are
    /// carried out here, the other effects (quit, suspend) are the caller's.
    pub fn update(&mut self, msg: Msg) -> Vec<super::Effect> {
        let mut effects = self.app.update(msg);
        effects.retain(|effect| match effect {
            super::Effect::Replay(action) => {
                self.control(*action);
                false
            }
            _ => true,
        });
        effects
    }
}

/// Selects `scenario` in the menu, as the user did when the recording was made.
fn select(app: &mut App, scenario: &'static Scenario) {
    if let Some(i) = app
        .catalogue
        .iter()
        .position(|s| std::ptr::eq(*s, scenario))
    {
        app.selected = i;
    }
}

/// Feeds one item to the model, as the live dashboard was fed it.
fn apply(app: &mut App, step: &Step) {
    match step {
        Step::Run {
            id,
            scenario,
            params,
        } => {
            select(app, scenario);
            // The parameters the user had set for it, as the panel shows them.
            app.params[app.selected] = params.clone();
            app.runs
                .insert(*id, Run::new(*id, scenario, params.clone()));
            let line = super::WORDS.starting.with(
                app.lang,
                &[
                    ("id", id),
                    ("scenario", &scenario.id),
                    ("params", &params.summary()),
                ],
            );
            app.push_log(line);
        }
        Step::Runner(update) => {
            app.update(Msg::Runner(update.clone()));
        }
        Step::Sample(sample) => {
            app.update(Msg::Sample(Box::new(sample.clone())));
        }
    }
}

/// The items as steps with their times, checked: every run is one this conlab has, with
/// parameters it takes, and begins before its events. The line named is the file's.
fn prepare(items: Vec<Item>) -> Result<(Vec<f64>, Vec<Step>), String> {
    let mut began: HashMap<RunId, f64> = HashMap::new();
    let mut stamps = Vec::with_capacity(items.len());
    let mut steps = Vec::with_capacity(items.len());
    let mut latest: f64 = 0.0;
    for (i, item) in items.into_iter().enumerate() {
        // The header is line 1.
        let line = i + 2;
        let unknown_run = |run: RunId| {
            format!("line {line}: run {run} has no earlier \"run\" line saying what it runs")
        };
        let (t_ms, step) = match item {
            Item::Run {
                run,
                at_ms,
                scenario,
                params,
            } => {
                let found = scenarios::find(&scenario)
                    .map_err(|e| format!("line {line}: a run this conlab cannot show: {e}"))?;
                let params = recorded_params(found, &params)
                    .map_err(|e| format!("line {line}: run {run} of {scenario}: {e}"))?;
                began.insert(run, at_ms);
                let step = Step::Run {
                    id: run,
                    scenario: found,
                    params,
                };
                (at_ms, step)
            }
            Item::Event { run, event } => {
                let at = *began.get(&run).ok_or_else(|| unknown_run(run))?;
                let msg = RunnerMsg::Event(event.clone());
                (at + event.t_ms, Step::Runner(RunnerUpdate { run, msg }))
            }
            Item::Observed {
                run,
                t_ms,
                observed,
            } => {
                began.get(&run).ok_or_else(|| unknown_run(run))?;
                let observed = serde_json::from_value(observed).map_err(|e| {
                    format!("line {line}: what was observed of run {run} cannot be read: {e}")
                })?;
                let msg = RunnerMsg::Observed(Box::new(observed));
                (t_ms, Step::Runner(RunnerUpdate { run, msg }))
            }
            Item::Ended { run, t_ms, exit } => {
                began.get(&run).ok_or_else(|| unknown_run(run))?;
                let msg = RunnerMsg::Exited { exit };
                (t_ms, Step::Runner(RunnerUpdate { run, msg }))
            }
            Item::Cpu {
                t_ms,
                cores,
                total,
                conlab,
                processes,
                reaped,
            } => {
                let sample = Sample {
                    cores,
                    total,
                    self_cpu_pct: conlab,
                    processes,
                    reaped,
                };
                (t_ms, Step::Sample(sample))
            }
        };
        // Items are in the order the dashboard received them; an event stamped a little
        // before the sample that arrived ahead of it still comes after it.
        latest = latest.max(t_ms);
        stamps.push(latest);
        steps.push(step);
    }
    Ok((stamps, steps))
}

/// A run's recorded parameters, checked as the command line checks them.
fn recorded_params(
    scenario: &Scenario,
    params: &serde_json::Map<String, serde_json::Value>,
) -> Result<Params, String> {
    let assignments: Vec<String> = params
        .iter()
        .map(|(key, value)| match value {
            serde_json::Value::String(word) => format!("{key}={word}"),
            other => format!("{key}={other}"),
        })
        .collect();
    Params::from_assignments(scenario.params, &assignments).map_err(|e| {
        format!(
            "parameters this conlab does not take ({e}): {}",
            quoted(&assignments.join(" "))
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Event;
    use crate::event::record::Source;

    /// A pool run: a runner, two tasks, and a sample between each event.
    fn recording() -> Recording {
        let mut header = Header::new(Source::Dashboard, 4, Some(500));
        header.started = 0.0;
        let event = |t_ms, body| Item::Event {
            run: 1,
            event: Event::new(t_ms, 100, body),
        };
        let sample = |t_ms| Item::Cpu {
            t_ms,
            cores: vec![10.0; 4],
            total: 10.0,
            conlab: 1.0,
            processes: vec![],
            reaped: vec![],
        };
        let items = vec![
            sample(100.0),
            Item::Run {
                run: 1,
                at_ms: 200.0,
                scenario: "pool".into(),
                params: Default::default(),
            },
            event(
                1.0,
                crate::event::Body::Process {
                    ppid: 1,
                    role: "runner".into(),
                },
            ),
            sample(600.0),
            event(
                500.0,
                crate::event::Body::Log {
                    text: "hello".into(),
                },
            ),
            Item::Ended {
                run: 1,
                t_ms: 900.0,
                exit: Some(crate::exit::Exit::Code(0)),
            },
            sample(1100.0),
        ];
        Recording { header, items }
    }

    fn replay() -> Replay {
        Replay::new(recording(), "pool.jsonl", (80, 24)).unwrap()
    }

    #[test]
    fn times_are_on_the_recordings_clock_and_never_go_back() {
        let r = replay();
        // The log event (run clock 500 ms, run began at 200) arrived after the 600 ms sample.
        assert_eq!(r.stamps, [100.0, 200.0, 201.0, 600.0, 700.0, 900.0, 1100.0]);
        assert_eq!(r.total_ms(), 1100.0);
        assert_eq!(r.events(), (0, 4));
    }

    #[test]
    fn steps_stop_after_each_event_and_come_back_exactly() {
        let mut r = replay();
        let mut positions = vec![r.position()];
        for _ in 0..4 {
            r.control(ReplayAction::StepForward);
            positions.push(r.position());
        }
        assert_eq!(positions, [0, 2, 3, 5, 6]);
        assert!(r.paused);
        assert_eq!(r.playhead_ms(), 900.0);
        for expected in positions.iter().rev().skip(1) {
            r.control(ReplayAction::StepBack);
            assert_eq!(r.position(), *expected);
        }
        r.control(ReplayAction::StepBack);
        assert_eq!(r.position(), 0, "the start is as far back as it goes");
    }

    #[test]
    fn the_clock_applies_what_it_passes_at_its_speed_and_stops_at_the_end() {
        let mut r = replay();
        r.tick(Duration::from_millis(150));
        assert_eq!(r.position(), 1);
        r.control(ReplayAction::Faster);
        assert_eq!(r.speed(), 2.0);
        r.tick(Duration::from_millis(100));
        assert_eq!((r.position(), r.playhead_ms()), (3, 350.0));
        assert_eq!(r.app.runs[&1].pid, Some(100));
        for _ in 0..10 {
            r.control(ReplayAction::Faster);
        }
        assert_eq!(r.speed(), 10.0);
        for _ in 0..10 {
            r.control(ReplayAction::Slower);
        }
        assert_eq!(r.speed(), 0.1);
        r.control(ReplayAction::Faster);
        r.control(ReplayAction::Faster);
        r.control(ReplayAction::Faster);
        r.tick(Duration::from_secs(10));
        assert!(r.at_end() && r.paused);
        assert_eq!(r.playhead_ms(), 1100.0);
        r.control(ReplayAction::PlayPause);
        assert_eq!(
            (r.position(), r.paused),
            (0, false),
            "play at the end starts again"
        );
    }

    #[test]
    fn a_run_of_a_scenario_this_conlab_lacks_or_bad_parameters_is_named() {
        let mut bad = recording();
        if let Item::Run { scenario, .. } = &mut bad.items[1] {
            *scenario = "teleport".into();
        }
        let e = Replay::new(bad, "x", (80, 24)).unwrap_err();
        assert!(
            e.starts_with("line 3: ") && e.contains("unknown scenario"),
            "{e}"
        );
        let mut bad = recording();
        if let Item::Run { params, .. } = &mut bad.items[1] {
            params.insert("size".into(), 0.into());
        }
        let e = Replay::new(bad, "x", (80, 24)).unwrap_err();
        assert!(e.starts_with("line 3: run 1 of pool: "), "{e}");
        let mut bad = recording();
        bad.items.remove(1);
        let e = Replay::new(bad, "x", (80, 24)).unwrap_err();
        assert!(e.starts_with("line 3: run 1 has no earlier"), "{e}");
    }
}
