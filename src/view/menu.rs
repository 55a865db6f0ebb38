//! The scenario menu, grouped as the tutorial is. Groups without a built scenario are left out.

use super::{DIM, LABEL};
use crate::app::App;
use crate::scenarios::{self, Group};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

/// One line of the menu: a group heading or a scenario (its index in the registry).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum MenuRow {
    Group(Group),
    Scenario(usize),
}

pub fn rows() -> Vec<MenuRow> {
    let mut rows = Vec::new();
    for group in Group::ALL {
        let members: Vec<usize> = (0..scenarios::all().len())
            .filter(|i| scenarios::all()[*i].group == group)
            .collect();
        if !members.is_empty() {
            rows.push(MenuRow::Group(group));
            rows.extend(members.into_iter().map(MenuRow::Scenario));
        }
    }
    rows
}

/// The scenario on menu line `row` (0 = first line inside the border), if any.
pub fn scenario_at_row(row: usize) -> Option<usize> {
    match rows().get(row) {
        Some(MenuRow::Scenario(i)) => Some(*i),
        _ => None,
    }
}

pub fn draw(frame: &mut Frame, area: Rect, app: &App) {
    let lines: Vec<Line> = rows()
        .into_iter()
        .map(|row| match row {
            MenuRow::Group(g) => {
                Line::from(Span::styled(g.name(), LABEL.add_modifier(Modifier::BOLD)))
            }
            MenuRow::Scenario(i) => {
                let s = scenarios::all()[i];
                let running = app
                    .runs
                    .values()
                    .any(|r| std::ptr::eq(r.scenario, s) && r.is_active());
                let marker = if running { "●" } else { " " };
                let text = format!("{marker} {}", s.id);
                if i == app.selected {
                    Line::from(Span::styled(
                        format!("{text:<w$}", w = area.width.saturating_sub(2) as usize),
                        Style::new()
                            .fg(Color::Black)
                            .bg(Color::Cyan)
                            .add_modifier(Modifier::BOLD),
                    ))
                } else {
                    Line::from(text)
                }
            }
        })
        .collect();
    let block = Block::bordered()
        .title(" Scenarios ")
        .title_bottom(Line::from(Span::styled(" ↑↓ Enter ", DIM)));
    frame.render_widget(Paragraph::new(lines).block(block), area);
}
