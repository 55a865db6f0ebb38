//! The `?` overlay: every key, in one place, in the keymap's words.

use crate::app::LOG_LINES;
use crate::i18n::Lang;
use crate::keymap::{self, Action, Context};
use crate::line_break;
use crate::runner::CANCEL_GRACE;
use crate::style::{LABEL, pad};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

crate::i18n::phrases! {
    pub WORDS {
        title: " Keys " => " 按键 ",
    }
}

/// Columns of the keys, before what they do.
const KEYS_WIDTH: usize = 11;

/// The help's rows for `context` in `lang`: the keys as written, and what they do with every
/// figure filled in.
pub fn rows(context: Context, lang: Lang) -> Vec<(&'static str, String)> {
    keymap::help(context)
        .map(|w| (w.keys.get(lang), with_figures(w.does.get(lang))))
        .collect()
}

/// `text` with the keymap's placeholders replaced by the figures they stand for, taken from
/// where those are defined.
pub fn with_figures(text: &str) -> String {
    let grace = format!("{} s", CANCEL_GRACE.as_secs_f64());
    let term = format!("{} s", crate::watch::TERM_GRACE.as_secs_f64());
    text.replace("{grace}", &grace)
        .replace("{kept}", &LOG_LINES.to_string())
        .replace("{term}", &term)
}

/// The help for the keys of `context`, the view under the overlay.
pub fn draw(frame: &mut Frame, area: Rect, context: Context, lang: Lang) {
    let mut lines: Vec<Line> = rows(context, lang)
        .into_iter()
        .map(|(key, what)| {
            Line::from(vec![
                Span::styled(format!(" {}", pad(key, KEYS_WIDTH)), LABEL),
                Span::raw(what),
            ])
        })
        .collect();
    lines.push(Line::raw(""));
    let close = keymap::hints(Context::Help, &[Action::Close], lang);
    lines.push(Line::raw(format!(" {close}")));
    let widest = lines.iter().map(Line::width).max().unwrap_or(0) as u16 + 3;
    let width = widest.min(area.width);
    let lines = line_break::wrap_lines(&lines, width.saturating_sub(2));
    let height = lines.len() as u16 + 2;
    let body = Paragraph::new(lines);
    let area = super::overlay::centered(area, width, height);
    frame.render_widget(Clear, area);
    frame.render_widget(
        body.block(Block::bordered().title(WORDS.title.get(lang))),
        area,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_come_from_where_they_are_defined() {
        let grace_ms = CANCEL_GRACE.as_millis();
        let grace = format!("{}.{} s", grace_ms / 1000, grace_ms % 1000 / 100);
        for (lang, said) in [
            (
                Lang::En,
                [
                    format!("SIGKILL after {grace}"),
                    format!("(the last {LOG_LINES})"),
                ],
            ),
            (
                Lang::Zh,
                [
                    format!("{grace} 后再发 SIGKILL"),
                    format!("最近 {LOG_LINES} 条"),
                ],
            ),
        ] {
            let rows: Vec<_> = Context::ALL
                .into_iter()
                .flat_map(|context| rows(context, lang))
                .collect();
            for (keys, does) in &rows {
                assert!(!does.contains(['{', '}']), "`{keys}`: {does}");
            }
            for text in said {
                assert!(
                    rows.iter().any(|(_, does)| does.contains(&text)),
                    "{lang:?}: {text}"
                );
            }
        }
    }
}
