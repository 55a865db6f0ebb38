//! Overlays over the whole screen: the lesson, the last run's report, and the frame they
//! share with the event log.

use super::scroll::ScrollState;
use crate::app::App;
use crate::i18n::Lang;
use crate::keymap::{self, Action, Context};
use crate::line_break;
use crate::scenarios::Scenario;
use crate::style::DIM;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

crate::i18n::phrases! {
    pub WORDS {
        lesson: " Lesson: {title} " => " 课程：{title} ",
        report: " Report: {scenario} · run #{run} " => " 报告：{scenario} · 运行 #{run} ",
        no_report: " Report: {scenario} " => " 报告：{scenario} ",
        not_yet: "No finished run of this scenario yet: Enter runs it, and its report appears here." => "这个实验还没有跑完的运行：按 Enter 运行，报告会出现在这里。",
        stderr: "stderr:" => "标准错误输出：",
    }
}

/// A `width` x `height` rectangle centred in `area`, shrunk to fit.
pub fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let w = width.min(area.width);
    let h = height.min(area.height);
    Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    )
}

/// The whole lesson in `lang` over the screen, scrolled down `scroll` lines (kept within it).
pub fn lesson(
    frame: &mut Frame,
    area: Rect,
    scenario: &Scenario,
    lang: Lang,
    scroll: &mut ScrollState,
) {
    let width = area.width.saturating_sub(2);
    let text = Paragraph::new(line_break::wrap(scenario.lesson_in(lang), width));
    let last = last_scroll(&text, area);
    let scroll = scroll.settle(last, page(area));
    let title = WORDS
        .lesson
        .with(lang, &[("title", &scenario.title_in(lang))]);
    full_screen(
        frame,
        area,
        Context::Lesson,
        text,
        &title,
        scroll,
        last - scroll,
        lang,
    );
}

/// The selected scenario's last finished run, its report as `conlab run` prints it (every
/// figure, the verdict and each insight whole, those first) and the end of its stderr, scrolled down `scroll`.
pub fn report(frame: &mut Frame, area: Rect, app: &App, lang: Lang, scroll: &mut ScrollState) {
    // While a program is watched, its report; else the selected lesson's last run's.
    let (scenario, run) = match app.watched() {
        Some(run) => (run.scenario, Some(run)),
        None => (app.scenario(), app.current_run()),
    };
    let (title, body) = match run.and_then(|r| r.report.as_ref().map(|report| (r, report))) {
        Some((run, report)) => {
            let mut body = report.to_text_verdict_first(lang);
            if !run.stderr.is_empty() {
                body.push_str(WORDS.stderr.get(lang));
                body.push('\n');
                for line in &run.stderr {
                    body.push_str(&format!("  {}\n", crate::text_safe::printable(line)));
                }
            }
            let title = WORDS
                .report
                .with(lang, &[("scenario", &scenario.id), ("run", &run.id)]);
            (title, body)
        }
        None => (
            WORDS.no_report.with(lang, &[("scenario", &scenario.id)]),
            WORDS.not_yet.get(lang).to_string(),
        ),
    };
    let width = area.width.saturating_sub(2);
    let lines: Vec<Line<'static>> = body.lines().flat_map(|l| hung(l, width)).collect();
    let text = Paragraph::new(lines);
    let last = last_scroll(&text, area);
    let scroll = scroll.settle(last, page(area));
    full_screen(
        frame,
        area,
        Context::Report,
        text,
        &title,
        scroll,
        last - scroll,
        lang,
    );
}

/// One line of a report broken to `width`: a verdict (`→`) or an insight (`!`) hangs under
/// its first word.
fn hung(line: &str, width: u16) -> Vec<Line<'static>> {
    let body = line.trim_start();
    let marked = ["→ ", "! "].iter().find(|m| body.starts_with(*m));
    match marked {
        Some(mark) => {
            let lead = format!("{}{mark}", &line[..line.len() - body.len()]);
            line_break::hanging(Span::raw(lead), &body[mark.len()..], width)
        }
        None => line_break::wrap_lines(&[Line::raw(line.to_string())], width),
    }
}

/// The lines of `text`, over the whole of `area` inside a border, that do not fit.
pub fn last_scroll(text: &Paragraph, area: Rect) -> usize {
    let total = text.line_count(area.width.saturating_sub(2));
    total.saturating_sub(page(area))
}

/// Lines of text a full-screen overlay shows at once.
pub fn page(area: Rect) -> usize {
    usize::from(area.height.saturating_sub(2))
}

/// Draws `text` over the whole of `area` in a border, `above` lines scrolled past and
/// `below` still to come; where it stands on the left of the bottom border, how to close it
/// on the right, both in the words of the overlay's keys (`context`), in `lang`.
#[allow(clippy::too_many_arguments)]
pub fn full_screen(
    frame: &mut Frame,
    area: Rect,
    context: Context,
    text: Paragraph,
    title: &str,
    above: usize,
    below: usize,
    lang: Lang,
) {
    frame.render_widget(Clear, area);
    let close = format!(" {} ", keymap::hints(context, &[Action::Close], lang));
    let mut block = Block::bordered()
        .title(title.to_string())
        .title_bottom(Line::from(Span::styled(close, DIM)).right_aligned());
    if let Some(position) = crate::style::scroll_position(above, below, lang) {
        let keys = keymap::hints(context, &[Action::ScrollDown], lang);
        block = block.title_bottom(Line::from(Span::styled(
            format!(" {position} · {keys} "),
            DIM,
        )));
    }
    let scroll = u16::try_from(above).unwrap_or(u16::MAX);
    frame.render_widget(text.scroll((scroll, 0)).block(block), area);
}
