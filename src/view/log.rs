//! The event log: the latest runner events, newest last; and with `v`, every event kept,
//! over the whole screen, to scroll back through.

use super::DIM;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use std::collections::VecDeque;

pub fn draw(frame: &mut Frame, area: Rect, log: &VecDeque<String>) {
    let lines: Vec<Line> = if log.is_empty() {
        vec![Line::from(Span::styled(
            " events appear here: select a scenario and press Enter",
            DIM,
        ))]
    } else {
        newest(log, area.height as usize)
    };
    frame.render_widget(Paragraph::new(lines), area);
}

/// The `v` overlay: scrolled `back` screen lines from the newest (kept within the log).
/// Long events wrap, so nothing is cut off at 80 columns.
pub fn overlay(frame: &mut Frame, area: Rect, log: &VecDeque<String>, back: usize) {
    let text = every_event(log);
    let last = super::overlay::last_scroll(&text, (area.width, area.height));
    let back = back.min(last);
    let title = format!(" Events · the last {} ", log.len());
    super::overlay::full_screen(frame, area, text, &title, last - back, back);
}

/// How far back the `v` overlay scrolls at this screen size.
pub fn overlay_last_scroll(log: &VecDeque<String>, size: (u16, u16)) -> usize {
    super::overlay::last_scroll(&every_event(log), size)
}

/// Screen lines one event takes in the `v` overlay.
pub fn overlay_lines_of(line: &str, size: (u16, u16)) -> usize {
    Paragraph::new(entry(line))
        .wrap(Wrap { trim: false })
        .line_count(size.0.saturating_sub(2))
}

fn every_event(log: &VecDeque<String>) -> Paragraph<'_> {
    Paragraph::new(newest(log, log.len())).wrap(Wrap { trim: false })
}

/// The last `count` lines of the log.
fn newest(log: &VecDeque<String>, count: usize) -> Vec<Line<'_>> {
    log.range(log.len().saturating_sub(count)..)
        .map(|l| entry(l))
        .collect()
}

fn entry(text: &str) -> Line<'_> {
    Line::from(vec![
        Span::styled(" ▸ ", Style::new().fg(Color::Cyan)),
        Span::raw(text),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;

    fn screen(log: &VecDeque<String>, back: usize) -> Vec<String> {
        let mut terminal = Terminal::new(TestBackend::new(60, 6)).unwrap();
        terminal.draw(|f| overlay(f, f.area(), log, back)).unwrap();
        let buffer = terminal.backend().buffer();
        (0..6)
            .map(|y| (0..60).map(|x| buffer[(x, y)].symbol()).collect())
            .collect()
    }

    #[test]
    fn the_overlay_shows_a_page_ending_where_it_was_scrolled_back_to() {
        let log: VecDeque<String> = (0..10).map(|i| format!("event {i}")).collect();
        let lines = screen(&log, 0);
        assert!(lines[0].contains("Events · the last 10"), "{lines:#?}");
        assert!(
            lines[1].contains("event 6") && lines[4].contains("event 9"),
            "{lines:#?}"
        );
        assert!(lines[5].contains("+6 above ·"), "{lines:#?}");
        let lines = screen(&log, 3);
        assert!(
            lines[1].contains("event 3") && lines[4].contains("event 6"),
            "{lines:#?}"
        );
        // Further back than the log goes: the oldest page.
        let lines = screen(&log, 99);
        assert!(lines[1].contains("event 0") && lines[5].contains("+6 below ·"));
    }

    #[test]
    fn a_long_event_wraps_instead_of_being_cut() {
        let long = format!("start {} end", "word ".repeat(20));
        let log: VecDeque<String> = ["first".to_string(), long].into();
        let lines = screen(&log, 0);
        assert!(lines.iter().any(|l| l.contains("end")), "{lines:#?}");
        // With its " ▸ ", the long event is 113 characters: two lines of 58.
        assert_eq!(overlay_last_scroll(&log, (60, 6)), 0);
        assert_eq!(overlay_lines_of(&log[1], (60, 6)), 2);
    }
}
