//! One run as the dashboard knows it: its parameters, its runner, the live figures and the
//! final report, all built from the runner's messages.

use crate::event::Body;
use crate::exit::{Exit, describe};
use crate::i18n::Lang;
use crate::panels::{Figures, PanelState};
use crate::params::Params;
use crate::report::{Metrics, Report};
use crate::runner::{RunId, RunnerMsg};
use crate::scenarios::Scenario;

crate::i18n::phrases! {
    pub WORDS {
        started: "{role} started: pid {pid} (parent {ppid})" => "{role} 已启动：pid {pid}（父进程 {ppid}）",
        exited: "pid {pid} exited: {exit}" => "pid {pid} 已退出：{exit}",
        stopped_early: "stopped early in {ms} ms" => "{ms} ms 后提前停止",
        done: "done in {ms} ms" => "完成，用时 {ms} ms",
        failed: "FAILED in {ms} ms" => "{ms} ms 后失败",
        stderr: "runner stderr: {line}" => "runner 的 stderr：{line}",
        bad_line: "bad event line: {line}" => "无法读懂的事件行：{line}",
        reaped: "runner reaped: {exit}" => "runner 已回收：{exit}",
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum RunStatus {
    /// Asked for; the runner is not up yet (or waits for its turn in a compare).
    Starting,
    Running,
    /// Cancel sent; waiting for the runner to report and exit.
    Stopping,
    /// Reaped (`None`: its status could not be had).
    Ended {
        exit: Option<Exit>,
    },
    /// The runner could not be started at all.
    Failed(String),
}

#[derive(Debug, Clone)]
pub struct Run {
    pub id: RunId,
    pub scenario: &'static Scenario,
    pub params: Params,
    pub pid: Option<u32>,
    pub status: RunStatus,
    /// The latest live snapshot, and when it was published (ms on the run's clock).
    pub live: Metrics,
    pub live_ms: f64,
    /// Milliseconds since the runner started, from its latest event.
    pub t_ms: f64,
    pub report: Option<Report>,
    /// The runner's stderr (panic messages and such), kept for the panel.
    pub stderr: Vec<String>,
    /// A variant of a comparison, not a run of its own (it never shows in the scenario panel).
    pub compared: bool,
    /// The scenario's own output lines (log events), newest last, at most [`OUTPUT_LINES`].
    pub output: Vec<String>,
    /// What its scenario's panel builds from events, if it builds anything.
    pub panel: PanelState,
}

/// Output lines a run keeps for its panel.
pub const OUTPUT_LINES: usize = 200;

impl Run {
    pub fn new(id: RunId, scenario: &'static Scenario, params: Params) -> Run {
        Run {
            id,
            scenario,
            params,
            pid: None,
            status: RunStatus::Starting,
            live: Metrics::default(),
            live_ms: 0.0,
            t_ms: 0.0,
            report: None,
            stderr: Vec::new(),
            compared: false,
            output: Vec::new(),
            panel: PanelState::new(scenario.panel()),
        }
    }

    pub fn is_active(&self) -> bool {
        matches!(
            self.status,
            RunStatus::Starting | RunStatus::Running | RunStatus::Stopping
        )
    }

    /// The best figures available: the report's when done, else the live ones.
    pub fn metrics(&self) -> &Metrics {
        self.report
            .as_ref()
            .map(|r| &r.metrics)
            .unwrap_or(&self.live)
    }

    /// What the run's panel may know of it.
    pub fn figures(&self) -> Figures<'_> {
        Figures {
            params: &self.params,
            metrics: self.metrics(),
            live: &self.live,
            done: self.report.is_some(),
            active: self.is_active(),
            t_ms: self.t_ms,
        }
    }

    /// Progress 0–1 when the scenario publishes `progress_pct`, or `iterations_done` and
    /// `iterations_total`.
    pub fn progress(&self) -> Option<f64> {
        if let Some(pct) = self.live.get("progress_pct") {
            return Some((pct.as_f64() / 100.0).clamp(0.0, 1.0));
        }
        let done = self.live.get("iterations_done")?.as_f64();
        let total = self.live.get("iterations_total")?.as_f64();
        (total > 0.0).then(|| (done / total).clamp(0.0, 1.0))
    }

    /// Applies one runner message; returns a line for the event log, in `lang`, if it is
    /// worth one.
    pub fn apply(&mut self, msg: &RunnerMsg, lang: Lang) -> Option<String> {
        match msg {
            RunnerMsg::Event(event) => {
                self.t_ms = self.t_ms.max(event.t_ms);
                self.panel.observe(self.scenario.panel(), event);
                match &event.body {
                    // Children publish their own counters and reports; the run's are the runner's.
                    Body::Live { .. } | Body::Report { .. } if Some(event.pid) != self.pid => None,
                    // Parts were joined by the reader; none reaches the model.
                    Body::Part { .. } => None,
                    Body::Live { metrics } => {
                        self.live = metrics.clone();
                        self.live_ms = event.t_ms;
                        None
                    }
                    Body::Log { text } => {
                        // Only lines from other processes (children) need saying whose they are.
                        let line = match self.pid {
                            Some(pid) if pid == event.pid => text.clone(),
                            _ => format!("[{}] {text}", event.pid),
                        };
                        if self.output.len() == OUTPUT_LINES {
                            self.output.remove(0);
                        }
                        self.output.push(line.clone());
                        Some(line)
                    }
                    Body::Process { role, ppid } => {
                        if role == crate::runner::RUNNER {
                            self.pid = Some(event.pid);
                            if self.status == RunStatus::Starting {
                                self.status = RunStatus::Running;
                            }
                        }
                        let figures: [(&str, &dyn std::fmt::Display); 3] =
                            [("role", role), ("pid", &event.pid), ("ppid", ppid)];
                        Some(WORDS.started.with(lang, &figures))
                    }
                    Body::ProcessExit { exit } => Some(
                        WORDS
                            .exited
                            .with(lang, &[("pid", &event.pid), ("exit", exit)]),
                    ),
                    // Drawn by the run's panel, not logged.
                    Body::Thread { .. }
                    | Body::Begin { .. }
                    | Body::End { .. }
                    | Body::Mark { .. }
                    | Body::Count { .. }
                    | Body::Point { .. } => None,
                    Body::Report { report } => {
                        self.report = Some((**report).clone());
                        let ended = if report.cancelled {
                            WORDS.stopped_early
                        } else if report.ok {
                            WORDS.done
                        } else {
                            WORDS.failed
                        };
                        let ms = format!("{:.1}", report.wall_ms);
                        Some(ended.with(lang, &[("ms", &ms)]))
                    }
                }
            }
            RunnerMsg::Stderr(line) => {
                self.stderr.push(line.clone());
                Some(WORDS.stderr.with(lang, &[("line", line)]))
            }
            RunnerMsg::BadLine(line) => Some(WORDS.bad_line.with(lang, &[("line", line)])),
            RunnerMsg::Observed(observed) => {
                if let Some(report) = &mut self.report {
                    report.warnings = crate::insights::check(report, observed);
                }
                None
            }
            RunnerMsg::Exited { exit } => {
                self.status = RunStatus::Ended { exit: *exit };
                // A runner that died without a report (a crash that took the whole process)
                // still leaves what it had done: its last live figures, as the headless run's.
                if self.report.is_none() {
                    let live = (!self.live.is_empty()).then_some((&self.live, self.live_ms));
                    self.report = Some(crate::runner::dead_run_report(
                        self.scenario.id,
                        &self.params,
                        *exit,
                        live,
                        self.stderr.last().map(String::as_str),
                    ));
                }
                Some(WORDS.reaped.with(lang, &[("exit", &describe(*exit))]))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Event;

    #[test]
    fn a_run_whose_runner_died_keeps_its_last_live_figures() {
        let scenario = crate::scenarios::find("master-worker").unwrap();
        let mut run = Run::new(1, scenario, Params::defaults(scenario.params));
        let event = |t_ms, body| RunnerMsg::Event(Event::new(t_ms, 100, body));
        run.apply(
            &event(
                0.0,
                Body::Process {
                    ppid: 1,
                    role: crate::runner::RUNNER.into(),
                },
            ),
            Lang::En,
        );
        let mut metrics = Metrics::default();
        metrics.set("tasks_done", 7u64);
        run.apply(&event(300.0, Body::Live { metrics }), Lang::En);
        run.apply(
            &RunnerMsg::Exited {
                exit: Some(Exit::Signal(6)),
            },
            Lang::En,
        );
        let report = run.report.as_ref().expect("a dead run has a report");
        assert!(!report.ok);
        assert!(
            report
                .error
                .as_deref()
                .is_some_and(|e| e.contains("SIGABRT")),
            "{report:?}"
        );
        assert_eq!(
            run.metrics().get("tasks_done").map(|v| v.as_f64()),
            Some(7.0)
        );
        assert!(run.figures().done && !run.figures().active);
    }
}
