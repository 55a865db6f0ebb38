//! A run's state in a few words, for the scenario panel and the compare columns.

use crate::app::run::{Run, RunStatus};
use crate::style::{DIM, RIGHT, WRONG, duration_ms};
use ratatui::style::{Color, Style};
use ratatui::text::Span;

/// `✓ 3.10 ms`, `● 43%`, `■ stopped`: a run's state in a narrow column.
pub fn short_status(run: &Run) -> Span<'static> {
    match (&run.status, &run.report) {
        (RunStatus::Ended { .. }, Some(r)) if r.cancelled => Span::styled("■ stopped", DIM),
        (RunStatus::Ended { .. }, Some(r)) if r.ok => {
            Span::styled(format!("✓ {}", duration_ms(r.wall_ms)), RIGHT)
        }
        (RunStatus::Ended { .. } | RunStatus::Failed(_), _) => Span::styled("✗ failed", WRONG),
        (RunStatus::Running, _) => {
            let progress = run
                .progress()
                .map(|p| format!(" {:.0}%", p * 100.0))
                .unwrap_or_default();
            Span::styled(format!("●{progress}"), Style::new().fg(Color::Yellow))
        }
        _ => status(run),
    }
}

/// `● running 43%`, `✓ done in 3.10 ms`, `■ stopped`, ...
pub fn status(run: &Run) -> Span<'static> {
    let report = run.report.as_ref();
    match &run.status {
        RunStatus::Starting => Span::styled("◌ starting", Style::new().fg(Color::Yellow)),
        RunStatus::Running => {
            let progress = run
                .progress()
                .map(|p| format!(" {:.0}%", p * 100.0))
                .unwrap_or_default();
            Span::styled(
                format!("● running{progress}"),
                Style::new().fg(Color::Yellow),
            )
        }
        RunStatus::Stopping => Span::styled("◍ stopping", Style::new().fg(Color::Yellow)),
        RunStatus::Failed(e) => Span::styled(format!("✗ could not start: {e}"), WRONG),
        RunStatus::Ended { exit } => match report {
            Some(r) if r.cancelled => {
                Span::styled(format!("■ stopped after {}", duration_ms(run.t_ms)), DIM)
            }
            Some(r) if r.ok => Span::styled(format!("✓ done in {}", duration_ms(r.wall_ms)), RIGHT),
            Some(r) => Span::styled(
                format!("✗ failed: {}", r.error.as_deref().unwrap_or("see notes")),
                WRONG,
            ),
            None => Span::styled(
                format!(
                    "✗ runner ended ({}) without a report",
                    crate::exit::describe(*exit)
                ),
                WRONG,
            ),
        },
    }
}
