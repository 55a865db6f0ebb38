//! The `?` overlay: every key, in one place.

use crate::style::LABEL;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};

pub const KEYS: &[(&str, &str)] = &[
    ("↑ ↓  j k", "select a scenario (or click it)"),
    ("Enter", "run the selected scenario"),
    (
        "e",
        "edit its parameters (Tab moves, ←→ cycles choices, Enter applies)",
    ),
    (
        "s  Esc",
        "stop the run: SIGTERM to its process group, SIGKILL after 0.8 s",
    ),
    ("c", "compare its variants side by side (runs them)"),
    ("  r", "in compare: run again"),
    (
        "  m",
        "in compare: one after another ⇄ all at once (a race)",
    ),
    (
        "  ↑↓ j k",
        "in compare: scroll the verdicts when they do not fit",
    ),
    (
        "t",
        "show/hide each process's threads (TID, name, core, switches)",
    ),
    (
        "PgUp PgDn",
        "scroll the processes panel (the mouse wheel over it too)",
    ),
    ("l", "read the whole lesson"),
    (
        "v",
        "every event of the session (the last 200), to scroll back",
    ),
    ("?", "this help"),
    (
        "Ctrl-Z",
        "suspend to the shell (fg resumes); runs go on meanwhile",
    ),
    (
        "q  Ctrl-C",
        "quit: stops every run and restores the terminal",
    ),
];

pub fn draw(frame: &mut Frame, area: Rect) {
    let mut lines: Vec<Line> = KEYS
        .iter()
        .map(|(key, what)| {
            Line::from(vec![
                Span::styled(format!(" {key:<11}"), LABEL),
                Span::raw(*what),
            ])
        })
        .collect();
    lines.push(Line::raw(""));
    lines.push(Line::raw(" Any key closes this help."));
    let widest = lines.iter().map(Line::width).max().unwrap_or(0) as u16 + 3;
    let width = widest.min(area.width);
    let body = Paragraph::new(lines).wrap(Wrap { trim: false });
    let height = body.line_count(width.saturating_sub(2)) as u16 + 2;
    let area = super::overlay::centered(area, width, height);
    frame.render_widget(Clear, area);
    frame.render_widget(body.block(Block::bordered().title(" Keys ")), area);
}
