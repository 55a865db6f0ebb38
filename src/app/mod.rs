//! The dashboard's model. Everything that can happen arrives as a [`Msg`]; [`App::update`]
//! changes the model and returns the [`Effect`]s for the event loop to carry out (start or
//! cancel a runner, quit). Nothing here touches the terminal or a process, so it is tested
//! directly and drawn from fixed models in snapshot tests.

pub mod compare;
pub mod cpu;
pub mod field;
pub mod form;
pub mod processes;
pub mod replay;
pub mod run;
pub mod scroll;
pub mod watch;

use crate::event::Body;
use crate::i18n::Lang;
use crate::keymap::{self, Action, Context, ReplayAction};
use crate::params::Params;
use crate::runner::{RunId, RunnerMsg, RunnerUpdate};
use crate::sampler::Sample;
use crate::scenarios::{self, Scenario};
use compare::Compare;
use cpu::CpuHistory;
use crossterm::event::{KeyEvent, KeyEventKind};
use form::{Form, FormOutcome};
use processes::ProcessTable;
use run::{Run, RunStatus};
use scroll::{Scroll, ScrollRequest, Scrollable};
use std::collections::{BTreeMap, VecDeque};

crate::i18n::phrases! {
    pub WORDS {
        parameters_set: "{id}: parameters set: {params}" => "{id}：参数已设为 {params}",
        at_once: "at the same time" => "同时运行",
        one_by_one: "one after another" => "依次运行",
        next_runs: "compare: next runs go {how} ({rerun} reruns)" => "比较：下一轮{how}（按 {rerun} 重跑）",
        still_running: "#{id} {scenario} is still running; {stop} stops it" => "#{id} {scenario} 还在运行；按 {stop} 停止",
        starting: "#{id} {scenario}: starting with {params}" => "#{id} {scenario}：以 {params} 启动",
        stopping: "#{id}: stopping (SIGTERM to its process group)" => "#{id}：正在停止（向其进程组发 SIGTERM）",
        no_comparison: "{id} has no comparison to open" => "{id} 没有可以打开的比较",
        could_not_start: "#{id}: could not start the runner: {error}" => "#{id}：无法启动 runner：{error}",
    }
}

/// Everything that can happen to the dashboard.
#[derive(Debug)]
pub enum Msg {
    Key(KeyEvent),
    /// Text the terminal delivered as one paste (bracketed paste).
    Paste(String),
    /// A left click on something the view drew.
    Click(Target),
    /// Mouse wheel notches over something the view drew: down positive.
    Wheel(Target, isize),
    Resize(u16, u16),
    Sample(Box<Sample>),
    Runner(RunnerUpdate),
    /// Watch a program (`conlab watch`): these are the watch's parameters.
    Watch(Params),
    /// SIGINT, SIGTERM or SIGHUP: leave cleanly.
    Terminate,
}

/// What a mouse action landed on, as the view last drew it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// A scenario's line in the menu (its index in the registry).
    Scenario(usize),
    Processes,
}

/// What the event loop must do after an update.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Start a runner for this run (its scenario and parameters are in `App::runs`).
    Start(RunId),
    Cancel(RunId),
    /// Write out the tutorial program of this scenario's lesson and watch python3 run it.
    WatchTutorial(&'static str),
    /// Give the terminal back and stop until continued (Ctrl-Z).
    Suspend,
    /// Move a replay's clock (see [`replay::Replay`]).
    Replay(ReplayAction),
    Quit,
}

/// The smallest terminal the panels fit in; below it only a message saying so is drawn.
pub const MIN_SIZE: (u16, u16) = (80, 24);

/// What covers the main area, if anything.
#[derive(Debug, Clone, PartialEq)]
pub enum Overlay {
    None,
    Help,
    /// The whole lesson.
    Lesson,
    /// The last run's whole report.
    Report,
    /// Every event kept, newest last.
    Log,
    Form(Form),
}

/// Lines kept in the event log.
pub const LOG_LINES: usize = 200;

/// Lines PgUp and PgDn scroll an overlay or the compare verdicts.
const OVERLAY_PAGE: isize = 10;

/// Lines one notch of the mouse wheel scrolls.
const WHEEL_LINES: isize = 3;

#[derive(Debug)]
pub struct App {
    /// The scenarios of the menu, in its order: every built one (tests draw a fixed list, so
    /// a new scenario changes none of their screens).
    pub catalogue: &'static [&'static Scenario],
    /// Index into `catalogue`.
    pub selected: usize,
    /// The parameters each scenario will run with (edited with `e`).
    pub params: Vec<Params>,
    pub runs: BTreeMap<RunId, Run>,
    pub compare: Option<Compare>,
    /// Run variants at the same time when compare opens.
    pub race_mode: bool,
    pub overlay: Overlay,
    pub cpu: CpuHistory,
    pub processes: ProcessTable,
    pub log: VecDeque<String>,
    /// Lines ever added to the log, dropped ones included: how the view tells new ones.
    pub logged: u64,
    /// Terminal size: below [`MIN_SIZE`] keys and the mouse do nothing.
    pub size: (u16, u16),
    /// Sampling period, shown in the CPU panel title.
    pub interval_ms: u64,
    pub quitting: bool,
    /// Show each process's threads in the processes panel (`t`).
    pub show_threads: bool,
    /// The language the dashboard speaks (`L` switches it).
    pub lang: Lang,
    /// The watched program's run, while its panel is open.
    pub watching: Option<RunId>,
    /// A recording played back: keys move its clock, none starts a run.
    pub replaying: bool,
    /// Scroll requests since the view last took them, oldest first.
    scroll_requests: Vec<ScrollRequest>,
    next_run: RunId,
}

impl App {
    pub fn new(size: (u16, u16), interval_ms: u64) -> App {
        App::with_catalogue(size, interval_ms, scenarios::all())
    }

    /// A dashboard whose menu holds `catalogue`.
    pub fn with_catalogue(
        size: (u16, u16),
        interval_ms: u64,
        catalogue: &'static [&'static Scenario],
    ) -> App {
        App {
            catalogue,
            selected: 0,
            params: catalogue
                .iter()
                .map(|s| Params::defaults(s.params))
                .collect(),
            runs: BTreeMap::new(),
            compare: None,
            race_mode: false,
            overlay: Overlay::None,
            cpu: CpuHistory::default(),
            processes: ProcessTable::default(),
            log: VecDeque::new(),
            logged: 0,
            size,
            interval_ms,
            quitting: false,
            show_threads: false,
            lang: Lang::En,
            watching: None,
            replaying: false,
            scroll_requests: Vec::new(),
            next_run: 1,
        }
    }

    pub fn scenario(&self) -> &'static Scenario {
        self.catalogue[self.selected]
    }

    /// The latest single run (not a compare variant) of the selected scenario.
    pub fn current_run(&self) -> Option<&Run> {
        self.runs
            .values()
            .rev()
            .find(|r| std::ptr::eq(r.scenario, self.scenario()) && !r.compared)
    }

    /// PIDs of runners still alive, and of processes watches attached to, for the sampler.
    pub fn live_runner_pids(&self) -> Vec<u32> {
        self.runs
            .values()
            .filter(|r| r.is_active())
            .filter_map(|r| r.pid)
            .chain(self.attached_pids())
            .collect()
    }

    pub fn active_runs(&self) -> Vec<RunId> {
        self.runs
            .values()
            .filter(|r| r.is_active())
            .map(|r| r.id)
            .collect()
    }

    pub fn push_log(&mut self, line: String) {
        if self.log.len() == LOG_LINES {
            self.log.pop_front();
        }
        self.log.push_back(line);
        self.logged += 1;
    }

    /// The scroll requests made since the last call, oldest first, for the view to apply.
    pub fn take_scroll_requests(&mut self) -> Vec<ScrollRequest> {
        std::mem::take(&mut self.scroll_requests)
    }

    fn scroll(&mut self, what: Scrollable, how: Scroll) {
        if how == Scroll::Reset {
            // Nothing asked before a reset can still matter.
            self.scroll_requests.retain(|r| r.what != what);
        }
        self.scroll_requests.push(ScrollRequest { what, how });
    }

    /// Applies one message; returns what the event loop must do.
    pub fn update(&mut self, msg: Msg) -> Vec<Effect> {
        match msg {
            Msg::Key(key) if key.kind != KeyEventKind::Release => self.key(key),
            Msg::Key(_) => vec![],
            Msg::Paste(text) => {
                // Only the form takes text; anywhere else a paste must not act as keys.
                let fits = self.fits_screen();
                if let Overlay::Form(form) = &mut self.overlay
                    && fits
                {
                    form.paste(&text);
                }
                vec![]
            }
            Msg::Click(target) => {
                if self.fits_screen() {
                    self.click(target);
                }
                vec![]
            }
            Msg::Wheel(target, notches) => {
                if self.fits_screen() {
                    self.wheel(target, notches);
                }
                vec![]
            }
            Msg::Resize(w, h) => {
                self.size = (w, h);
                vec![]
            }
            Msg::Sample(sample) => {
                self.cpu.record(&sample);
                let active = self.compare_active_runs();
                if let Some(c) = &mut self.compare {
                    c.sampled(&sample, &active);
                }
                self.processes.sampled(&sample.processes);
                for (pid, exit) in &sample.reaped {
                    self.processes.exited(*pid, *exit);
                }
                vec![]
            }
            Msg::Runner(update) => self.runner(update),
            Msg::Watch(params) => self.start_watch(params),
            Msg::Terminate => self.quit(),
        }
    }

    /// Whether the terminal is large enough for the panels (see [`MIN_SIZE`]).
    pub fn fits_screen(&self) -> bool {
        self.size.0 >= MIN_SIZE.0 && self.size.1 >= MIN_SIZE.1
    }

    fn quit(&mut self) -> Vec<Effect> {
        self.quitting = true;
        vec![Effect::Quit]
    }

    /// Where the panels' own keys come from: the dashboard's rows, or a replay's.
    pub fn panels_context(&self) -> Context {
        if self.replaying {
            Context::Replay
        } else {
            Context::Main
        }
    }

    /// Where keys go now: which rows of the [`keymap`] apply.
    pub fn key_context(&self) -> Context {
        if !self.fits_screen() {
            // Too small to see anything, keys would act unseen: only quitting works.
            return Context::TooSmall;
        }
        match &self.overlay {
            Overlay::Form(_) => Context::Form,
            Overlay::Help => Context::Help,
            Overlay::Lesson => Context::Lesson,
            Overlay::Report => Context::Report,
            Overlay::Log => Context::EventLog,
            Overlay::None => self.panels_key_context(),
        }
    }

    /// Where keys would go with no overlay open: the view the help describes.
    pub fn panels_key_context(&self) -> Context {
        if self.watching.is_some() {
            Context::Watch
        } else if self.compare.is_some() {
            Context::Compare
        } else {
            self.panels_context()
        }
    }

    fn key(&mut self, key: KeyEvent) -> Vec<Effect> {
        let context = self.key_context();
        match keymap::action(context, &key) {
            Some(Action::Quit) => self.quit(),
            Some(Action::Suspend) => vec![Effect::Suspend],
            // The form reads its own keys from the table: a typed key needs its character.
            _ if context == Context::Form => self.form_key(key),
            Some(action) => self.act(context, action),
            None => vec![],
        }
    }

    fn form_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        let Overlay::Form(form) = &mut self.overlay else {
            return vec![];
        };
        match form.key(key) {
            FormOutcome::Editing => {}
            FormOutcome::Cancelled => self.overlay = Overlay::None,
            FormOutcome::Applied(params) => {
                let line = WORDS.parameters_set.with(
                    self.lang,
                    &[("id", &self.scenario().id), ("params", &params.summary())],
                );
                self.push_log(line);
                self.params[self.selected] = params;
                self.overlay = Overlay::None;
            }
        }
        vec![]
    }

    /// Carries out what a key asked for in `context`.
    fn act(&mut self, context: Context, action: Action) -> Vec<Effect> {
        match action {
            Action::Quit => self.quit(),
            Action::Suspend => vec![Effect::Suspend],
            Action::SelectPrevious => self.select(self.selected.saturating_sub(1)),
            Action::SelectNext => self.select(self.selected + 1),
            Action::Run => self.start_single(),
            Action::Edit => {
                let form = Form::new(self.scenario().params, &self.params[self.selected]);
                self.overlay = Overlay::Form(form.in_lang(self.lang));
                vec![]
            }
            Action::Stop if context == Context::Compare => self.stop_compare(),
            Action::Stop if context == Context::Watch => self.stop_watch(),
            Action::Stop => self.stop_current(),
            Action::OpenCompare => self.open_compare(),
            Action::TutorialCode => vec![Effect::WatchTutorial(self.scenario().id)],
            Action::Lesson => {
                self.overlay = Overlay::Lesson;
                self.scroll(Scrollable::Lesson, Scroll::Reset);
                vec![]
            }
            Action::Report => {
                self.overlay = Overlay::Report;
                self.scroll(Scrollable::Report, Scroll::Reset);
                vec![]
            }
            Action::Events => {
                self.overlay = Overlay::Log;
                self.scroll(Scrollable::EventLog, Scroll::Reset);
                vec![]
            }
            Action::Help => {
                self.overlay = Overlay::Help;
                vec![]
            }
            Action::SwitchLanguage => {
                self.lang = self.lang.other();
                vec![]
            }
            Action::ToggleThreads => {
                self.show_threads = !self.show_threads;
                // Lines shift when threads come and go: start again from the newest run.
                self.scroll(Scrollable::Processes, Scroll::Reset);
                vec![]
            }
            Action::ProcessesPageUp => {
                self.scroll(Scrollable::Processes, Scroll::Pages(-1));
                vec![]
            }
            Action::ProcessesPageDown => {
                self.scroll(Scrollable::Processes, Scroll::Pages(1));
                vec![]
            }
            Action::Rerun => self.rerun_compare(None),
            Action::Repeat => self.rerun_compare(Some(true)),
            Action::RaceMode => self.toggle_race_mode(),
            Action::StopOrClose if context == Context::Watch => self.stop_or_close_watch(),
            Action::StopOrClose if self.compare_active_runs().is_empty() => self.close_compare(),
            Action::StopOrClose => self.stop_compare(),
            Action::CloseCompare => self.close_compare(),
            Action::ScrollUp => self.scroll_lines(context, -1),
            Action::ScrollDown => self.scroll_lines(context, 1),
            Action::ScrollPageUp => self.scroll_lines(context, -OVERLAY_PAGE),
            Action::ScrollPageDown => self.scroll_lines(context, OVERLAY_PAGE),
            Action::Close => {
                self.overlay = Overlay::None;
                vec![]
            }
            // The form's keys go to the form (see `key`).
            Action::Form(_) => vec![],
            Action::Replay(action) => vec![Effect::Replay(action)],
        }
    }

    /// Scrolls what `context` shows by `lines` (down positive).
    fn scroll_lines(&mut self, context: Context, lines: isize) -> Vec<Effect> {
        let what = match context {
            Context::Lesson => Scrollable::Lesson,
            Context::Report => Scrollable::Report,
            Context::EventLog => Scrollable::EventLog,
            Context::Compare => Scrollable::CompareSummary,
            _ => return vec![],
        };
        self.scroll(what, Scroll::Lines(lines));
        vec![]
    }

    /// Runs the comparison again, `repeated` or not (None: as it was).
    fn rerun_compare(&mut self, repeated: Option<bool>) -> Vec<Effect> {
        if !self.compare_active_runs().is_empty() {
            return vec![];
        }
        let simultaneous = self.compare.as_ref().is_some_and(|c| c.simultaneous);
        let repeated =
            repeated.unwrap_or_else(|| self.compare.as_ref().is_some_and(|c| c.repeated));
        self.new_compare(simultaneous, repeated);
        self.start_compare_runs()
    }

    fn toggle_race_mode(&mut self) -> Vec<Effect> {
        self.race_mode = !self.race_mode;
        let idle = self.compare_active_runs().is_empty();
        if let Some(c) = &mut self.compare
            && idle
        {
            c.simultaneous = self.race_mode;
        }
        let how = if self.race_mode {
            WORDS.at_once
        } else {
            WORDS.one_by_one
        };
        let rerun = keymap::key_for(Context::Compare, Action::Rerun);
        let line = WORDS.next_runs.with(
            self.lang,
            &[("how", &how.get(self.lang)), ("rerun", &rerun)],
        );
        self.push_log(line);
        vec![]
    }

    /// Cancels the compare runs still going; no further variant starts.
    fn stop_compare(&mut self) -> Vec<Effect> {
        let active = self.compare_active_runs();
        if active.is_empty() {
            return vec![];
        }
        if let Some(c) = &mut self.compare {
            c.stopped = true;
        }
        active.into_iter().map(Effect::Cancel).collect()
    }

    fn close_compare(&mut self) -> Vec<Effect> {
        let effects = self.stop_compare();
        self.compare = None;
        effects
    }

    fn select(&mut self, index: usize) -> Vec<Effect> {
        let index = index.min(self.catalogue.len() - 1);
        if index != self.selected {
            self.selected = index;
            self.compare = None;
        }
        vec![]
    }

    fn click(&mut self, target: Target) {
        // The menu is only live when nothing covers it: an open form edits the selected
        // scenario's parameters, and the compare view draws over the menu. A replay's
        // selection follows the recording.
        let menu_live = self.overlay == Overlay::None && self.compare.is_none() && !self.replaying;
        if let Target::Scenario(index) = target
            && menu_live
        {
            self.select(index);
        }
    }

    fn wheel(&mut self, target: Target, notches: isize) {
        if target == Target::Processes && self.overlay == Overlay::None {
            let lines = notches.saturating_mul(WHEEL_LINES);
            self.scroll(Scrollable::Processes, Scroll::Lines(lines));
        }
    }

    fn new_run(&mut self, params: Params) -> RunId {
        self.new_run_of(self.scenario(), params)
    }

    fn new_run_of(&mut self, scenario: &'static Scenario, params: Params) -> RunId {
        let id = self.next_run;
        self.next_run += 1;
        // The new run's processes come first in the panel: show them.
        self.scroll(Scrollable::Processes, Scroll::Reset);
        self.runs.insert(id, Run::new(id, scenario, params));
        id
    }

    fn start_single(&mut self) -> Vec<Effect> {
        if let Some(run) = self.current_run().filter(|r| r.is_active()) {
            let line = WORDS.still_running.with(
                self.lang,
                &[
                    ("id", &run.id),
                    ("scenario", &run.scenario.id),
                    ("stop", &keymap::key_for(Context::Main, Action::Stop)),
                ],
            );
            self.push_log(line);
            return vec![];
        }
        let params = self.params[self.selected].clone();
        let id = self.new_run(params.clone());
        let line = WORDS.starting.with(
            self.lang,
            &[
                ("id", &id),
                ("scenario", &self.scenario().id),
                ("params", &params.summary()),
            ],
        );
        self.push_log(line);
        vec![Effect::Start(id)]
    }

    fn stop_current(&mut self) -> Vec<Effect> {
        match self.current_run().filter(|r| r.is_active()).map(|r| r.id) {
            Some(id) => {
                if let Some(run) = self.runs.get_mut(&id) {
                    run.status = RunStatus::Stopping;
                }
                self.push_log(WORDS.stopping.with(self.lang, &[("id", &id)]));
                vec![Effect::Cancel(id)]
            }
            None => vec![],
        }
    }

    fn open_compare(&mut self) -> Vec<Effect> {
        self.new_compare(self.race_mode, false);
        if self.compare.is_none() {
            let id = self.scenario().id;
            self.push_log(WORDS.no_comparison.with(self.lang, &[("id", &id)]));
        }
        self.start_compare_runs()
    }

    /// A fresh comparison of the selected scenario (none if it has no comparison), its
    /// verdicts shown from the top.
    fn new_compare(&mut self, simultaneous: bool, repeated: bool) {
        self.compare = Compare::new(
            self.scenario(),
            self.params[self.selected].clone(),
            simultaneous,
            repeated,
        );
        self.scroll(Scrollable::CompareSummary, Scroll::Reset);
    }

    /// Starts every variant of the next round (race) or the next waiting one (one after
    /// another).
    fn start_compare_runs(&mut self) -> Vec<Effect> {
        let idle = self.compare_active_runs().is_empty();
        let Some(compare) = &mut self.compare else {
            return vec![];
        };
        compare.choose_runs(&self.runs);
        let indices: Vec<usize> = if compare.simultaneous {
            compare.next_race(idle)
        } else {
            compare.next_waiting().into_iter().collect()
        };
        let mut effects = Vec::new();
        for i in indices {
            let params = self
                .compare
                .as_ref()
                .map(|c| c.params_for(i))
                .expect("compare is open");
            let id = self.new_run(params);
            if let Some(run) = self.runs.get_mut(&id) {
                run.compared = true;
            }
            if let Some(c) = &mut self.compare {
                c.runs[i].push(id);
            }
            effects.push(Effect::Start(id));
        }
        effects
    }

    fn compare_active_runs(&self) -> Vec<RunId> {
        let Some(c) = &self.compare else {
            return vec![];
        };
        c.all_runs()
            .filter(|id| self.runs.get(id).is_some_and(Run::is_active))
            .collect()
    }

    /// The event loop started the runner: track its PID from now on.
    pub fn runner_started(&mut self, id: RunId, pid: u32) {
        if let Some(run) = self.runs.get_mut(&id) {
            run.pid = Some(pid);
            if run.status == RunStatus::Starting {
                run.status = RunStatus::Running;
            }
        }
    }

    /// The event loop could not start the runner.
    pub fn start_failed(&mut self, id: RunId, error: String) {
        let line = WORDS
            .could_not_start
            .with(self.lang, &[("id", &id), ("error", &error)]);
        self.push_log(line);
        if let Some(run) = self.runs.get_mut(&id) {
            run.status = RunStatus::Failed(error);
        }
    }

    fn runner(&mut self, update: RunnerUpdate) -> Vec<Effect> {
        let RunnerUpdate { run: id, msg } = update;
        let Some(run) = self.runs.get_mut(&id) else {
            return vec![];
        };
        let scenario = run.scenario.id;
        let listed = watch::lists_process(run);
        let line = run.apply(&msg, self.lang);
        match &msg {
            RunnerMsg::Event(event) => match &event.body {
                Body::Process { ppid, role } if listed(role) => {
                    self.processes.started(id, event.pid, *ppid, role)
                }
                Body::ProcessExit { exit } => self.processes.exited(event.pid, *exit),
                _ => {}
            },
            RunnerMsg::Exited { exit, .. } => {
                if let (Some(pid), Some(exit)) = (self.runs.get(&id).and_then(|r| r.pid), exit) {
                    self.processes.exited(pid, *exit);
                }
                self.processes.run_ended(id);
            }
            _ => {}
        }
        if let Some(line) = line {
            self.push_log(format!("#{id} {scenario}: {line}"));
        }
        // One after another: the next variant starts when the previous one is reaped; in a
        // race, the next round when the last of this one is.
        let compare_turn = matches!(msg, RunnerMsg::Exited { .. })
            && self
                .compare
                .as_ref()
                .is_some_and(|c| c.variant_of(id).is_some());
        if compare_turn {
            self.start_compare_runs()
        } else {
            vec![]
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Event;
    use crossterm::event::{KeyCode, KeyModifiers};

    fn key(code: KeyCode) -> Msg {
        Msg::Key(KeyEvent::new(code, KeyModifiers::NONE))
    }

    /// A dashboard with the lock scenario selected.
    fn on_lock() -> App {
        let mut app = App::new((80, 24), 500);
        app.selected = scenarios::all()
            .iter()
            .position(|s| s.id == "lock")
            .unwrap();
        app
    }

    fn exited(run: RunId) -> Msg {
        Msg::Runner(RunnerUpdate {
            run,
            msg: RunnerMsg::Exited {
                exit: Some(crate::exit::Exit::Code(0)),
            },
        })
    }

    #[test]
    fn scroll_keys_ask_the_view_to_move_what_they_scroll() {
        let mut app = on_lock();
        let asked = |app: &mut App| app.take_scroll_requests();
        let request = |what, how| ScrollRequest { what, how };
        app.update(key(KeyCode::PageDown));
        app.update(key(KeyCode::PageUp));
        assert_eq!(
            asked(&mut app),
            [
                request(Scrollable::Processes, Scroll::Pages(1)),
                request(Scrollable::Processes, Scroll::Pages(-1)),
            ]
        );
        assert!(asked(&mut app).is_empty(), "taken once");
        // A reset makes what came before it moot.
        app.update(key(KeyCode::PageDown));
        app.update(key(KeyCode::Char('t')));
        assert_eq!(
            asked(&mut app),
            [request(Scrollable::Processes, Scroll::Reset)]
        );
        app.update(key(KeyCode::Char('v')));
        app.update(key(KeyCode::Char('k')));
        app.update(key(KeyCode::Char('x')));
        app.update(key(KeyCode::Char('l')));
        app.update(key(KeyCode::PageDown));
        assert_eq!(
            asked(&mut app),
            [
                request(Scrollable::EventLog, Scroll::Reset),
                request(Scrollable::EventLog, Scroll::Lines(-1)),
                request(Scrollable::Lesson, Scroll::Reset),
                request(Scrollable::Lesson, Scroll::Lines(10)),
            ]
        );
        app.update(key(KeyCode::Esc));
        app.update(key(KeyCode::Char('c')));
        app.update(key(KeyCode::Down));
        assert_eq!(
            asked(&mut app),
            [
                request(Scrollable::CompareSummary, Scroll::Reset),
                request(Scrollable::Processes, Scroll::Reset),
                request(Scrollable::CompareSummary, Scroll::Lines(1)),
            ],
            "a new run shows its processes; a new comparison its verdicts from the top"
        );
    }

    #[test]
    fn the_wheel_scrolls_the_processes_panel_only_when_nothing_covers_it() {
        let mut app = on_lock();
        app.update(Msg::Wheel(Target::Processes, -2));
        app.update(Msg::Wheel(Target::Scenario(0), 1));
        assert_eq!(
            app.take_scroll_requests(),
            [ScrollRequest {
                what: Scrollable::Processes,
                how: Scroll::Lines(-6)
            }]
        );
        app.update(key(KeyCode::Char('?')));
        app.update(Msg::Wheel(Target::Processes, 1));
        assert!(app.take_scroll_requests().is_empty());
    }

    #[test]
    fn enter_starts_once_and_s_stops() {
        let mut app = on_lock();
        assert_eq!(app.update(key(KeyCode::Enter)), vec![Effect::Start(1)]);
        assert_eq!(
            app.update(key(KeyCode::Enter)),
            vec![],
            "one run at a time per scenario"
        );
        assert_eq!(app.update(key(KeyCode::Char('s'))), vec![Effect::Cancel(1)]);
        app.update(exited(1));
        assert!(!app.runs[&1].is_active());
        assert_eq!(app.update(key(KeyCode::Enter)), vec![Effect::Start(2)]);
    }

    #[test]
    fn compare_runs_variants_one_after_another() {
        let mut app = on_lock();
        assert_eq!(app.update(key(KeyCode::Char('c'))), vec![Effect::Start(1)]);
        assert_eq!(app.runs[&1].params.word("mode"), "nolock");
        assert_eq!(app.update(exited(1)), vec![Effect::Start(2)]);
        assert_eq!(app.runs[&2].params.word("mode"), "lock");
        assert_eq!(app.update(exited(2)), vec![Effect::Start(3)]);
        assert_eq!(app.update(exited(3)), vec![]);
        assert!(
            app.current_run().is_none(),
            "compare runs are not the single run"
        );
        app.update(key(KeyCode::Esc));
        assert!(app.compare.is_none());
        assert!(
            app.current_run().is_none(),
            "not even once the comparison is closed"
        );
    }

    #[test]
    fn compare_race_mode_starts_all_and_stop_cancels_all() {
        let mut app = on_lock();
        app.update(key(KeyCode::Char('c')));
        app.update(key(KeyCode::Char('s')));
        app.update(exited(1));
        app.update(key(KeyCode::Char('m')));
        assert_eq!(
            app.update(key(KeyCode::Char('r'))),
            vec![Effect::Start(2), Effect::Start(3), Effect::Start(4)]
        );
        assert_eq!(
            app.update(key(KeyCode::Esc)),
            vec![Effect::Cancel(2), Effect::Cancel(3), Effect::Cancel(4)]
        );
    }

    #[test]
    fn runner_events_fill_the_run_and_the_process_table() {
        let mut app = on_lock();
        app.update(key(KeyCode::Enter));
        let event = Event::new(
            1.0,
            4242,
            Body::Process {
                ppid: 1,
                role: "runner".into(),
            },
        );
        app.update(Msg::Runner(RunnerUpdate {
            run: 1,
            msg: RunnerMsg::Event(event),
        }));
        assert_eq!(app.live_runner_pids(), vec![4242]);
        assert_eq!(app.processes.rows[0].role, "runner");
        app.update(exited(1));
        assert_eq!(app.processes.rows[0].exit, Some(crate::exit::Exit::Code(0)));
        assert!(app.live_runner_pids().is_empty());
    }

    #[test]
    fn clicks_reach_the_menu_only_when_nothing_covers_it() {
        let mut app = on_lock();
        let lock = app.selected;
        let first = Msg::Click(Target::Scenario(0));
        app.update(key(KeyCode::Char('e')));
        app.update(Msg::Click(Target::Scenario(0)));
        assert_eq!(
            app.selected, lock,
            "a click must not move the selection under the form"
        );
        app.update(key(KeyCode::Esc));
        app.update(key(KeyCode::Char('c')));
        app.update(Msg::Click(Target::Scenario(0)));
        assert_eq!(app.selected, lock, "the compare view covers the menu");
        app.compare = None;
        app.update(first);
        assert_eq!(
            app.selected, 0,
            "with nothing over it, the menu takes the click"
        );
        app.update(Msg::Resize(79, 24));
        app.update(Msg::Click(Target::Scenario(lock)));
        assert_eq!(app.selected, 0, "too small: nothing is clickable");
    }

    #[test]
    fn the_language_key_switches_anywhere_but_in_the_form() {
        let mut app = on_lock();
        let switch = || key(KeyCode::Char('L'));
        app.update(switch());
        assert_eq!(app.lang, Lang::Zh);
        app.update(key(KeyCode::Char('?')));
        app.update(switch());
        assert_eq!(
            (app.lang, &app.overlay),
            (Lang::En, &Overlay::Help),
            "the help stays open, in the other language"
        );
        app.update(key(KeyCode::Esc));
        app.update(key(KeyCode::Char('e')));
        app.update(key(KeyCode::Backspace));
        app.update(switch());
        assert_eq!(app.lang, Lang::En, "in the form, `L` is typed");
        let Overlay::Form(form) = &app.overlay else {
            panic!("the form closed")
        };
        assert_eq!(form.fields[0], "nolocL");
        let mut small = on_lock_at(60, 20);
        small.update(switch());
        assert_eq!(small.lang, Lang::Zh, "the too-small message switches too");
    }

    #[test]
    fn ctrl_c_and_q_quit() {
        let mut app = on_lock();
        let ctrl_c = Msg::Key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL));
        assert_eq!(app.update(ctrl_c), vec![Effect::Quit]);
        assert_eq!(
            App::new((80, 24), 500).update(key(KeyCode::Char('q'))),
            vec![Effect::Quit]
        );
    }

    #[test]
    fn below_the_minimum_size_only_quitting_works() {
        for (w, h) in [(79, 24), (80, 23), (10, 3)] {
            let mut app = on_lock();
            app.update(Msg::Resize(w, h));
            assert!(!app.fits_screen());
            assert_eq!(
                app.update(key(KeyCode::Enter)),
                vec![],
                "{w}x{h}: no run unseen"
            );
            app.update(key(KeyCode::Char('e')));
            assert_eq!(app.overlay, Overlay::None, "{w}x{h}: no form unseen");
            assert_eq!(app.update(key(KeyCode::Char('q'))), vec![Effect::Quit]);
            let ctrl_c = Msg::Key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL));
            assert_eq!(on_lock_at(w, h).update(ctrl_c), vec![Effect::Quit]);
        }
        let mut app = on_lock_at(79, 24);
        app.update(Msg::Resize(80, 24));
        assert_eq!(app.update(key(KeyCode::Enter)), vec![Effect::Start(1)]);
    }

    fn on_lock_at(w: u16, h: u16) -> App {
        let mut app = on_lock();
        app.update(Msg::Resize(w, h));
        app
    }

    #[test]
    fn ctrl_z_suspends_from_anywhere() {
        let ctrl_z = || Msg::Key(KeyEvent::new(KeyCode::Char('z'), KeyModifiers::CONTROL));
        let mut app = on_lock();
        assert_eq!(app.update(ctrl_z()), vec![Effect::Suspend]);
        app.update(key(KeyCode::Char('e')));
        assert_eq!(app.update(ctrl_z()), vec![Effect::Suspend]);
        let Overlay::Form(form) = &app.overlay else {
            panic!("the form closed")
        };
        assert_eq!(form.fields[0], "nolock", "no `z` typed into the form");
        assert_eq!(on_lock_at(20, 5).update(ctrl_z()), vec![Effect::Suspend]);
    }

    #[test]
    fn a_paste_goes_into_the_form_and_nowhere_else() {
        let mut app = on_lock();
        // Outside the form pasted text is not keys: `q` in it does not quit.
        assert_eq!(app.update(Msg::Paste("q\r".into())), vec![]);
        assert_eq!((app.overlay.clone(), app.quitting), (Overlay::None, false));
        app.update(key(KeyCode::Char('e')));
        app.update(key(KeyCode::Tab));
        app.update(key(KeyCode::Backspace));
        app.update(Msg::Paste("16".into()));
        let Overlay::Form(form) = &app.overlay else {
            panic!("the form closed")
        };
        assert_eq!(form.fields[1], "16");
    }
}
