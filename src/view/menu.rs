//! The scenario menu, grouped as the tutorial is. Groups without a built scenario are left out.

use super::hits::Hits;
use crate::app::{App, Target};
use crate::keymap::{self, Action, Context};
use crate::scenarios::{Group, Scenario};
use crate::style::{DIM, LABEL, pad};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

crate::i18n::phrases! {
    pub WORDS {
        title: " Scenarios " => " 实验 ",
        more_both: " ↑↓ more " => " ↑↓ 更多 ",
        more_above: " ↑ more " => " ↑ 更多 ",
        more_below: " ↓ more " => " ↓ 更多 ",
    }
}

/// One line of the menu: a group heading or a scenario (its index in the registry).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum MenuRow {
    Group(Group),
    Scenario(usize),
}

pub fn rows(catalogue: &[&Scenario]) -> Vec<MenuRow> {
    let mut rows = Vec::new();
    for group in Group::ALL {
        let members: Vec<usize> = (0..catalogue.len())
            .filter(|i| catalogue[*i].group == group)
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
pub fn first_shown(catalogue: &[&Scenario], selected: usize, visible: usize) -> usize {
    let at = rows(catalogue)
        .iter()
        .position(|r| *r == MenuRow::Scenario(selected))
        .unwrap_or(0);
    (at + 1).saturating_sub(visible.max(1))
}

/// Draws the menu and records where each scenario it shows can be clicked.
pub fn draw(frame: &mut Frame, area: Rect, app: &App, hits: &mut Hits) {
    let lang = app.lang;
    let visible = area.height.saturating_sub(2) as usize;
    let all = rows(app.catalogue);
    let first = first_shown(app.catalogue, app.selected, visible);
    let hidden_below = all.len().saturating_sub(first + visible);
    for (line, row) in all.iter().skip(first).take(visible).enumerate() {
        if let MenuRow::Scenario(i) = row {
            let y = area.y + 1 + line as u16;
            hits.add(Rect::new(area.x, y, area.width, 1), Target::Scenario(*i));
        }
    }
    let lines: Vec<Line> = all
        .into_iter()
        .skip(first)
        .map(|row| match row {
            MenuRow::Group(g) => Line::from(Span::styled(
                g.name_in(lang),
                LABEL.add_modifier(Modifier::BOLD),
            )),
            MenuRow::Scenario(i) => {
                let s = app.catalogue[i];
                let running = app
                    .runs
                    .values()
                    .any(|r| std::ptr::eq(r.scenario, s) && r.is_active());
                let marker = if running { "●" } else { " " };
                let text = format!("{marker} {}", s.id);
                if i == app.selected {
                    Line::from(Span::styled(
                        pad(&text, area.width.saturating_sub(2) as usize),
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
        (true, true) => WORDS.more_both.get(lang).to_string(),
        (true, false) => WORDS.more_above.get(lang).to_string(),
        (false, true) => WORDS.more_below.get(lang).to_string(),
        // A replay's selection follows the recording: no keys to name.
        (false, false) if app.replaying => String::new(),
        // Everything shows: how to pick and run instead.
        (false, false) => {
            let key = |action| keymap::key_for(Context::Main, action);
            format!(" {} {} ", key(Action::SelectNext), key(Action::Run))
        }
    };
    let block = Block::bordered()
        .title(WORDS.title.get(lang))
        .title_bottom(Line::from(Span::styled(more, DIM)));
    frame.render_widget(Paragraph::new(lines).block(block), area);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenarios;
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;
    use ratatui::layout::Position;

    #[test]
    fn the_menu_scrolls_to_keep_the_selection_in_view() {
        let last = scenarios::all().len() - 1;
        let total = rows(scenarios::all()).len();
        assert_eq!(
            first_shown(scenarios::all(), 0, total),
            0,
            "everything fits"
        );
        assert_eq!(
            first_shown(scenarios::all(), last, total - 1),
            1,
            "one row scrolled off the top"
        );
    }

    /// What a click on menu line `line` (0 = first inside the border) reaches, with `visible`
    /// lines shown and `selected` selected.
    fn clicked(line: u16, selected: usize, visible: usize) -> Option<Target> {
        let mut app = App::new((80, 24), 500);
        app.selected = selected;
        let area = Rect::new(0, 0, 20, visible as u16 + 2);
        let mut hits = Hits::default();
        let mut terminal = Terminal::new(TestBackend::new(20, area.height)).unwrap();
        terminal.draw(|f| draw(f, area, &app, &mut hits)).unwrap();
        hits.at(Position::new(3, 1 + line))
    }

    #[test]
    fn a_click_reaches_the_scenario_drawn_under_it() {
        let last = scenarios::all().len() - 1;
        let total = rows(scenarios::all()).len();
        // A click maps through the scroll: line 0 is then the row after the first heading.
        assert_eq!(clicked(0, last, total - 1), Some(Target::Scenario(0)));
        assert_eq!(
            clicked(total as u16 - 2, last, total - 1),
            Some(Target::Scenario(last))
        );
        assert_eq!(clicked(0, 0, total), None, "a group heading");
        assert_eq!(clicked(1, 0, total), Some(Target::Scenario(0)));
        // The bottom border is no scenario, even with scenarios hidden below it.
        assert_eq!(clicked(2, 0, 2), None);
    }
}
