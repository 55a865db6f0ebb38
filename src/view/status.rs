//! A run's state in a few words, for the scenario panel and the compare columns.

use crate::app::run::{Run, RunStatus};
use crate::i18n::Lang;
use crate::style::{DIM, RIGHT, WRONG, duration_ms};
use ratatui::style::{Color, Style};
use ratatui::text::Span;

crate::i18n::phrases! {
    pub WORDS {
        stopped: "■ stopped" => "■ 已停止",
        failed: "✗ failed" => "✗ 失败",
        starting: "◌ starting" => "◌ 启动中",
        running: "● running{progress}" => "● 运行中{progress}",
        stopping: "◍ stopping" => "◍ 停止中",
        could_not_start: "✗ could not start: {error}" => "✗ 无法启动：{error}",
        stopped_after: "■ stopped after {time}" => "■ 运行 {time} 后停止",
        done_in: "✓ done in {time}" => "✓ 完成，用时 {time}",
        failed_because: "✗ failed: {error}" => "✗ 失败：{error}",
        see_notes: "see notes" => "见下方说明",
        no_report: "✗ runner ended ({exit}) without a report" => "✗ runner 已结束（{exit}），没有给出报告",
    }
}

/// ` 43%`, or nothing when the run does not say how far it is.
fn progress(run: &Run) -> String {
    run.progress()
        .map(|p| format!(" {:.0}%", p * 100.0))
        .unwrap_or_default()
}

/// `✓ 3.10 ms`, `● 43%`, `■ stopped`: a run's state in a narrow column.
pub fn short_status(run: &Run, lang: Lang) -> Span<'static> {
    match (&run.status, &run.report) {
        (RunStatus::Ended { .. }, Some(r)) if r.cancelled => {
            Span::styled(WORDS.stopped.get(lang), DIM)
        }
        (RunStatus::Ended { .. }, Some(r)) if r.ok => {
            Span::styled(format!("✓ {}", duration_ms(r.wall_ms)), RIGHT)
        }
        (RunStatus::Ended { .. } | RunStatus::Failed(_), _) => {
            Span::styled(WORDS.failed.get(lang), WRONG)
        }
        (RunStatus::Running, _) => Span::styled(
            format!("●{}", progress(run)),
            Style::new().fg(Color::Yellow),
        ),
        _ => status(run, lang),
    }
}

/// `● running 43%`, `✓ done in 3.10 ms`, `■ stopped`, ...
pub fn status(run: &Run, lang: Lang) -> Span<'static> {
    let report = run.report.as_ref();
    let yellow = Style::new().fg(Color::Yellow);
    match &run.status {
        RunStatus::Starting => Span::styled(WORDS.starting.get(lang), yellow),
        RunStatus::Running => Span::styled(
            WORDS.running.with(lang, &[("progress", &progress(run))]),
            yellow,
        ),
        RunStatus::Stopping => Span::styled(WORDS.stopping.get(lang), yellow),
        RunStatus::Failed(e) => {
            Span::styled(WORDS.could_not_start.with(lang, &[("error", e)]), WRONG)
        }
        RunStatus::Ended { exit } => match report {
            Some(r) if r.cancelled => Span::styled(
                WORDS
                    .stopped_after
                    .with(lang, &[("time", &duration_ms(run.t_ms))]),
                DIM,
            ),
            Some(r) if r.ok => Span::styled(
                WORDS
                    .done_in
                    .with(lang, &[("time", &duration_ms(r.wall_ms))]),
                RIGHT,
            ),
            Some(r) => {
                let error = r
                    .error
                    .as_deref()
                    .unwrap_or_else(|| WORDS.see_notes.get(lang));
                Span::styled(WORDS.failed_because.with(lang, &[("error", &error)]), WRONG)
            }
            None => Span::styled(
                WORDS
                    .no_report
                    .with(lang, &[("exit", &crate::exit::describe(*exit))]),
                WRONG,
            ),
        },
    }
}
