//! The model's side of watching a program: which run the watch panel shows, starting one (from
//! `conlab watch`, or a lesson's "run the tutorial's code" key), stopping and closing it.

use super::run::{Run, RunStatus};
use super::{App, Effect};
use crate::params::Params;
use crate::watch::tutorial::Unavailable;

crate::i18n::phrases! {
    pub WORDS {
        watching: "#{id} watching: {what}" => "#{id} 观察：{what}",
        attached: "PID {pid}, read-only" => "PID {pid}（只读）",
        no_program: "{id}: its lesson argues in prose; there is no tutorial program to run" => "{id}：本课以文字论述，没有可运行的教程代码",
        no_python: "python3 is not on PATH: the tutorial's code of {id} cannot run here ({run} runs the Rust scenario)" => "PATH 中找不到 python3：无法在这里运行 {id} 的教程代码（按 {run} 运行 Rust 版实验）",
        write_failed: "{id}: could not write out the tutorial program: {error}" => "{id}：无法写出教程代码：{error}",
        stopping: "#{id}: stopping the program (SIGTERM to each of its processes)" => "#{id}：正在停止程序（向它的每个进程发 SIGTERM）",
        detaching: "#{id}: no longer watching; PID {pid} runs on" => "#{id}：停止观察；PID {pid} 继续运行",
    }
}

/// Whether the processes panel lists a process of `run` that announces itself as `role`: a
/// watch's runner is conlab's own, and its threads would crowd out the program's.
pub(super) fn lists_process(run: &Run) -> impl Fn(&str) -> bool + use<> {
    let watch = std::ptr::eq(run.scenario, &crate::scenarios::watch::WATCH);
    move |role| !(watch && role == crate::runner::RUNNER)
}

impl App {
    /// Watches a program: a run of the internal watch scenario, shown in the watch panel.
    pub fn start_watch(&mut self, params: Params) -> Vec<Effect> {
        let what = match params.int(crate::watch::PID) {
            0 => params.word(crate::watch::COMMAND).to_string(),
            pid => WORDS.attached.with(self.lang, &[("pid", &pid)]),
        };
        let id = self.new_run_of(&crate::scenarios::watch::WATCH, params);
        self.watching = Some(id);
        self.compare = None;
        let line = WORDS
            .watching
            .with(self.lang, &[("id", &id), ("what", &what)]);
        self.push_log(line);
        vec![Effect::Start(id)]
    }

    /// The run the watch panel shows, if it is open.
    pub fn watched(&self) -> Option<&Run> {
        self.runs.get(&self.watching?)
    }

    /// `s`: a command is stopped (its runner ends each of its processes); an attached process
    /// is only no longer watched.
    pub(super) fn stop_watch(&mut self) -> Vec<Effect> {
        let Some(run) = self.watched().filter(|r| r.is_active()) else {
            return vec![];
        };
        let (id, pid) = (run.id, run.params.int(crate::watch::PID));
        let line = match pid {
            0 => WORDS.stopping.with(self.lang, &[("id", &id)]),
            pid => WORDS
                .detaching
                .with(self.lang, &[("id", &id), ("pid", &pid)]),
        };
        self.push_log(line);
        if let Some(run) = self.runs.get_mut(&id) {
            run.status = RunStatus::Stopping;
        }
        vec![Effect::Cancel(id)]
    }

    /// Esc: stop a program that runs; close the panel of one that has ended.
    pub(super) fn stop_or_close_watch(&mut self) -> Vec<Effect> {
        if self.watched().is_some_and(Run::is_active) {
            return self.stop_watch();
        }
        self.watching = None;
        vec![]
    }

    /// Processes that live watches attached to: the sampler follows them as it follows runners.
    pub(super) fn attached_pids(&self) -> impl Iterator<Item = u32> + '_ {
        self.runs
            .values()
            .filter(|r| r.is_active() && std::ptr::eq(r.scenario, &crate::scenarios::watch::WATCH))
            .filter_map(|r| u32::try_from(r.params.int(crate::watch::PID)).ok())
            .filter(|&pid| pid > 0)
    }

    /// Says why the tutorial's code of `scenario` cannot be watched.
    pub fn tutorial_unavailable(&mut self, scenario: &str, why: Unavailable) {
        let run = crate::keymap::key_for(crate::keymap::Context::Main, crate::keymap::Action::Run);
        let line = match why {
            Unavailable::NoProgram => WORDS.no_program.with(self.lang, &[("id", &scenario)]),
            Unavailable::NoPython => WORDS
                .no_python
                .with(self.lang, &[("id", &scenario), ("run", &run)]),
            Unavailable::Write(error) => WORDS
                .write_failed
                .with(self.lang, &[("id", &scenario), ("error", &error)]),
        };
        self.push_log(line);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::Msg;
    use crate::event::{Body, Event};
    use crate::keymap::Context;
    use crate::runner::{RunnerMsg, RunnerUpdate};
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

    fn key(app: &mut App, code: KeyCode) -> Vec<Effect> {
        app.update(Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)))
    }

    fn from_runner(app: &mut App, msg: RunnerMsg) {
        app.update(Msg::Runner(RunnerUpdate { run: 1, msg }));
    }

    #[test]
    fn a_watch_stops_then_its_ended_panel_closes() {
        let mut app = App::new((80, 24), 500);
        let params = Params::defaults(crate::watch::PARAMS);
        assert_eq!(app.update(Msg::Watch(params)), vec![Effect::Start(1)]);
        assert_eq!(app.key_context(), Context::Watch);
        let announce = |pid, role: &str| {
            RunnerMsg::Event(Event::new(
                0.0,
                pid,
                Body::Process {
                    ppid: 1,
                    role: role.into(),
                },
            ))
        };
        from_runner(&mut app, announce(100, crate::runner::RUNNER));
        from_runner(&mut app, announce(101, "python3"));
        let listed: Vec<u32> = app.processes.rows.iter().map(|r| r.pid).collect();
        assert_eq!(listed, [101], "the watcher is conlab's, not the program's");
        assert_eq!(key(&mut app, KeyCode::Esc), vec![Effect::Cancel(1)]);
        assert!(app.watched().is_some(), "stopping keeps the panel");
        from_runner(
            &mut app,
            RunnerMsg::Exited {
                exit: Some(crate::exit::Exit::Code(0)),
            },
        );
        assert_eq!(key(&mut app, KeyCode::Char('s')), vec![]);
        assert!(app.watched().is_some(), "the summary stays");
        assert_eq!(key(&mut app, KeyCode::Esc), vec![]);
        assert_eq!(app.key_context(), Context::Main, "back to the lessons");
    }

    #[test]
    fn the_lesson_key_asks_for_the_selected_lessons_program() {
        let mut app = App::new((80, 24), 500);
        let id = app.scenario().id;
        assert_eq!(
            key(&mut app, KeyCode::Char('p')),
            vec![Effect::WatchTutorial(id)]
        );
        app.tutorial_unavailable(id, Unavailable::NoPython);
        assert!(
            app.log
                .back()
                .is_some_and(|l| l.contains("python3 is not on PATH"))
        );
    }
}
