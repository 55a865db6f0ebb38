//! The scenario menu, grouped as the tutorial is. Groups without a built scenario are left out.

use crate::app::App;
use crate::scenarios::{self, Group};
use crate::style::{DIM, LABEL};
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

/// The first menu row shown when `visible` rows fit: the menu scrolls just enough to keep
/// the selected scenario in view.
pub fn first_shown(selected: usize, visible: usize) -> usize {
    let at = rows()
        .iter()
        .position(|r| *r == MenuRow::Scenario(selected))
        .unwrap_or(0);
    (at + 1).saturating_sub(visible.max(1))
}

/// The scenario on screen line `line` (0 = first line inside the border) of a menu showing
/// `visible` rows with `selected` selected, if any.
pub fn scenario_at_line(line: usize, selected: usize, visible: usize) -> Option<usize> {
    match rows().get(first_shown(selected, visible) + line) {
        Some(MenuRow::Scenario(i)) => Some(*i),
        _ => None,
    }
}

pub fn draw(frame: &mut Frame, area: Rect, app: &App) {
    let visible = area.height.saturating_sub(2) as usize;
    let all = rows();
    let first = first_shown(app.selected, visible);
    let hidden_below = all.len().saturating_sub(first + visible);
    let lines: Vec<Line> = all
        .into_iter()
        .skip(first)
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
    let more = match (first > 0, hidden_below > 0) {
        (true, true) => " ↑↓ more ",
        (true, false) => " ↑ more ",
        (false, true) => " ↓ more ",
        (false, false) => " ↑↓ Enter ",
    };
    let block = Block::bordered()
        .title(" Scenarios ")
        .title_bottom(Line::from(Span::styled(more, DIM)));
    frame.render_widget(Paragraph::new(lines).block(block), area);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_menu_scrolls_to_keep_the_selection_in_view() {
        let last = scenarios::all().len() - 1;
        let total = rows().len();
        assert_eq!(first_shown(0, total), 0, "everything fits");
        assert_eq!(
            first_shown(last, total - 1),
            1,
            "one row scrolled off the top"
        );
        // A click maps through the scroll: line 0 is then the row after the first heading.
        assert_eq!(scenario_at_line(0, last, total - 1), Some(0));
        assert_eq!(scenario_at_line(total - 2, last, total - 1), Some(last));
        assert_eq!(scenario_at_line(0, 0, total), None, "a group heading");
    }
}
