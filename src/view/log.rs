//! The event log: the latest runner events, newest last.

use super::DIM;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use std::collections::VecDeque;

pub fn draw(frame: &mut Frame, area: Rect, log: &VecDeque<String>) {
    let shown = area.height as usize;
    let lines: Vec<Line> = if log.is_empty() {
        vec![Line::from(Span::styled(
            " events appear here: select a scenario and press Enter",
            DIM,
        ))]
    } else {
        log.iter()
            .skip(log.len().saturating_sub(shown))
            .map(|l| {
                Line::from(vec![
                    Span::styled(" ▸ ", Style::new().fg(Color::Cyan)),
                    Span::raw(l.clone()),
                ])
            })
            .collect()
    };
    frame.render_widget(Paragraph::new(lines), area);
}
