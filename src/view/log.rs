//! The event log: the latest runner events, newest last; and with `v`, every event kept,
//! over the whole screen, to scroll back through.

use super::scroll::ScrollState;
use crate::i18n::Lang;
use crate::keymap::Context;
use crate::line_break;
use crate::style::DIM;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use std::collections::VecDeque;

crate::i18n::phrases! {
    pub WORDS {
        empty: " events appear here: select a scenario and press Enter"
            => " 事件会显示在这里：选一个实验，按 Enter",
        title: " Events · the last {n} " => " 事件 · 最近 {n} 条 ",
    }
}

pub fn draw(frame: &mut Frame, area: Rect, log: &VecDeque<String>, lang: Lang) {
    let lines: Vec<Line> = if log.is_empty() {
        vec![Line::from(Span::styled(WORDS.empty.get(lang), DIM))]
    } else {
        newest(log, area.height as usize)
    };
    frame.render_widget(Paragraph::new(lines), area);
}

/// The `v` overlay: `back` counts screen lines from the newest (kept within the log).
/// Long events wrap under their own text, so nothing is cut off at 80 columns. Scrolled
/// back, the lines being read stay put as the `arrived` newest events come in under them.
pub fn overlay(
    frame: &mut Frame,
    area: Rect,
    log: &VecDeque<String>,
    arrived: usize,
    back: &mut ScrollState,
    lang: Lang,
) {
    if back.offset() > 0 {
        let lines = log
            .iter()
            .rev()
            .take(arrived)
            .map(|l| wrapped(l, inside(area.width)).len())
            .sum();
        back.keep_in_view(lines);
    }
    let text = every_event(log, area.width);
    let last = super::overlay::last_scroll(&text, area);
    let back = back.settle(last, super::overlay::page(area));
    let title = WORDS.title.with(lang, &[("n", &log.len())]);
    super::overlay::full_screen(
        frame,
        area,
        Context::EventLog,
        text,
        &title,
        last - back,
        back,
        lang,
    );
}

/// Columns inside the overlay's border.
fn inside(width: u16) -> usize {
    usize::from(width.saturating_sub(2))
}

fn every_event(log: &VecDeque<String>, width: u16) -> Paragraph<'static> {
    let lines: Vec<Line> = log.iter().flat_map(|l| wrapped(l, inside(width))).collect();
    Paragraph::new(lines)
}

/// The last `count` lines of the log, one screen line each.
fn newest(log: &VecDeque<String>, count: usize) -> Vec<Line<'_>> {
    log.range(log.len().saturating_sub(count)..)
        .map(|l| Line::from(vec![marker(), Span::raw(l.as_str())]))
        .collect()
}

fn marker() -> Span<'static> {
    Span::styled(" ▸ ", Style::new().fg(Color::Cyan))
}

/// `text` behind the marker, broken to `width` columns with its continuation lines indented
/// under its first word.
fn wrapped(text: &str, width: usize) -> Vec<Line<'static>> {
    line_break::hanging(marker(), text, u16::try_from(width).unwrap_or(u16::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;

    fn screen(log: &VecDeque<String>, back: usize) -> Vec<String> {
        screen_after(log, 0, &mut ScrollState::at(back))
    }

    /// The overlay drawn once `arrived` of the log's events came in since the last frame.
    fn screen_after(log: &VecDeque<String>, arrived: usize, back: &mut ScrollState) -> Vec<String> {
        let mut terminal = Terminal::new(TestBackend::new(60, 6)).unwrap();
        terminal
            .draw(|f| overlay(f, f.area(), log, arrived, back, Lang::En))
            .unwrap();
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
    fn wrapping_keeps_every_character_and_indents_under_the_text() {
        let text = "apply_async after close() refused: the pool is closed — 进程池已关闭 \
                    averyveryveryveryverylongwordthatcannotfit end";
        for width in [1, 4, 10, 23, 60] {
            let lines = wrapped(text, width);
            let rows: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
            for row in &rows[1..] {
                assert!(row.starts_with("   "), "{width}: {rows:#?}");
            }
            // With room for a double-width character, no line is wider than the screen.
            if width >= 5 {
                for line in &lines {
                    assert!(line.width() <= width, "{width}: {rows:#?}");
                }
            }
            let words: String = lines
                .iter()
                .map(|l| l.spans[1].content.replace(' ', ""))
                .collect();
            assert_eq!(words, text.replace(' ', ""), "{width}");
        }
    }

    #[test]
    fn chinese_wraps_between_characters_not_after_the_word_before_it() {
        let text = "#3 pool: 进程池已经关闭，不能再添加新的任务了，apply_async 被拒绝";
        let lines = wrapped(text, 30);
        let rows: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
        assert!(rows[0].starts_with(" ▸ #3 pool: 进程池"), "{rows:#?}");
        for line in &lines {
            assert!(line.width() <= 30, "{rows:#?}");
        }
        assert!(lines[0].width() >= 29, "the first line is full: {rows:#?}");
        // No line begins with a comma.
        assert!(
            rows.iter().all(|r| !r.trim_start().starts_with('，')),
            "{rows:#?}"
        );
    }

    #[test]
    fn a_long_event_wraps_instead_of_being_cut() {
        let long = format!("start {} end", "word ".repeat(20));
        let log: VecDeque<String> = ["first".to_string(), long].into();
        let lines = screen(&log, 0);
        assert!(lines.iter().any(|l| l.contains("end")), "{lines:#?}");
        // With its " ▸ ", the long event is 113 characters: two lines of 58.
        let area = Rect::new(0, 0, 60, 6);
        assert_eq!(
            super::super::overlay::last_scroll(&every_event(&log, 60), area),
            0
        );
        assert_eq!(wrapped(&log[1], inside(60)).len(), 2);
    }

    #[test]
    fn scrolled_back_the_lines_being_read_stay_put_as_events_arrive() {
        let mut log: VecDeque<String> = (0..10).map(|i| format!("event {i}")).collect();
        let mut back = ScrollState::at(3);
        let lines = screen_after(&log, 0, &mut back);
        assert!(lines[1].contains("event 3"), "{lines:#?}");
        log.push_back(format!("a long one {}", "word ".repeat(20)));
        log.push_back("event 11".into());
        let lines = screen_after(&log, 2, &mut back);
        assert!(
            lines[1].contains("event 3") && lines[4].contains("event 6"),
            "{lines:#?}"
        );
        // At the newest, new events come into view.
        let mut newest = ScrollState::default();
        log.push_back("event 12".into());
        let lines = screen_after(&log, 1, &mut newest);
        assert!(lines[4].contains("event 12"), "{lines:#?}");
    }
}
