//! The parameter form over the main area: one row per field, the focused field's help under
//! it, then why the last apply was refused, what the last key or paste could not do, and the
//! keys. A field longer than its room scrolls sideways: the focused one shows its end, where
//! typing goes, the others their start, `…` marking the cut; so no field pushes the rest of
//! the form out of its box. A form taller than the main area grows down over the panels.

use crate::app::form::Form;
use crate::i18n::Lang;
use crate::keymap::{self, Action, Context, FormAction};
use crate::line_break;
use crate::params::{ParamKind, ParamSpec};
use crate::scenarios::Scenario;
use crate::style::{DIM, LABEL, WRONG, pad};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

crate::i18n::phrases! {
    pub WORDS {
        title: " Parameters of {id} " => " {id} 的参数 ",
        text: "text, ≤ {n} bytes" => "文本，≤ {n} 字节",
        command: "command, ≤ {n} chars" => "命令，≤ {n} 个字符",
        list: "a,b,… ≤ {n} items" => "a,b,… 最多 {n} 项",
    }
}

/// What a field takes, next to it: `1..64`, `nolock|lock|atomic`, `1..64|cores` are what
/// is typed, the same in both languages; the kinds described in words are said in `lang`.
fn range_in(spec: &ParamSpec, lang: Lang) -> String {
    match (spec.kind, lang) {
        (ParamKind::Int { .. } | ParamKind::Choice(_) | ParamKind::IntOrCores { .. }, Lang::Zh)
        | (_, Lang::En) => spec.short_range(),
        (ParamKind::Text { max_len }, Lang::Zh) => WORDS.text.with(lang, &[("n", &max_len)]),
        (ParamKind::Command { max_len }, Lang::Zh) => WORDS.command.with(lang, &[("n", &max_len)]),
        (ParamKind::List { max_items, .. }, Lang::Zh) => {
            WORDS.list.with(lang, &[("n", &max_items)])
        }
    }
}

/// The widest the form's box gets.
const MAX_WIDTH: u16 = 76;
/// The cursor after the focused field's text.
const CURSOR: &str = "▏";
/// Where a field's text was cut.
const CUT: &str = "…";

/// A notice: something the form did not do, not an error.
const NOTICE: Style = Style::new().fg(Color::Yellow);

fn columns(text: &str) -> usize {
    Span::raw(text).width()
}

/// `text` in at most `room` columns: whole when it fits; otherwise its end (`from_end`) or
/// its start, behind or before `…`.
pub fn visible(text: &str, room: usize, from_end: bool) -> String {
    if columns(text) <= room {
        return text.to_string();
    }
    let mut left = room.saturating_sub(columns(CUT));
    let mut buf = [0u8; 4];
    let mut fits = |c: char| {
        let w = columns(c.encode_utf8(&mut buf));
        let ok = w <= left;
        if ok {
            left -= w;
        }
        ok
    };
    if from_end {
        let start = text
            .char_indices()
            .rev()
            .take_while(|(_, c)| fits(*c))
            .last()
            .map_or(text.len(), |(i, _)| i);
        format!("{CUT}{}", &text[start..])
    } else {
        let end = text
            .char_indices()
            .take_while(|(_, c)| fits(*c))
            .last()
            .map_or(0, |(i, c)| i + c.len_utf8());
        format!("{}{CUT}", &text[..end])
    }
}

/// Draws the form centred in `area`, or, when it is taller than that, from the top of `area`
/// down into `room` (the panels below), so its messages and keys stay on screen.
pub fn draw(
    frame: &mut Frame,
    area: Rect,
    room: Rect,
    scenario: &Scenario,
    form: &Form,
    lang: Lang,
) {
    let width = area.width.min(MAX_WIDTH);
    let inner = usize::from(width.saturating_sub(2));
    let key_w = form.specs.iter().map(|s| s.key.len()).max().unwrap_or(0);
    let mut lines = Vec::new();
    for (i, (spec, text)) in form.specs.iter().zip(&form.fields).enumerate() {
        let focused = i == form.focus;
        let value_style = if focused {
            Style::new()
                .fg(Color::Black)
                .bg(Color::Cyan)
                .add_modifier(Modifier::BOLD)
        } else {
            Style::new().add_modifier(Modifier::BOLD)
        };
        let hint = match spec.kind {
            ParamKind::Choice(words) => format!("  ← {} →", words.join(" | ")),
            _ => format!("  {}", range_in(spec, lang)),
        };
        let label = format!(" {} ", pad(spec.key, key_w));
        // The cursor's column is kept for every field, so moving the focus moves nothing. A
        // value that does not fit beside its hint keeps the line, and the hint wraps below it:
        // the value is what the user is editing.
        let fixed = columns(&label) + columns(CURSOR);
        let beside_hint = inner.saturating_sub(fixed + columns(&hint));
        let room = if columns(text) <= beside_hint {
            beside_hint
        } else {
            inner.saturating_sub(fixed)
        }
        .max(1);
        let cursor = if focused { CURSOR } else { "" };
        lines.push(Line::from(vec![
            Span::styled(label, LABEL),
            Span::styled(
                format!("{}{cursor}", visible(text, room, focused)),
                value_style,
            ),
            Span::styled(hint, DIM),
        ]));
        if focused {
            lines.push(Line::from(Span::styled(spec.help, DIM)));
        }
    }
    lines.push(Line::raw(""));
    if let Some(e) = &form.error {
        lines.push(Line::from(Span::styled(format!(" {e}"), WRONG)));
    }
    if let Some(n) = &form.notice {
        lines.push(Line::from(Span::styled(format!(" {n}"), NOTICE)));
    }
    let keys = keymap::hints(
        Context::Form,
        &[
            Action::Form(FormAction::Apply),
            Action::Form(FormAction::Cancel),
            Action::Form(FormAction::NextField),
        ],
        lang,
    );
    lines.push(Line::from(Span::styled(format!(" {keys}"), DIM)));
    let lines = line_break::wrap_lines(&lines, width.saturating_sub(2));
    let height = lines.len() as u16 + 2;
    let body = Paragraph::new(lines);
    let area = if height <= area.height {
        super::overlay::centered(area, width, height)
    } else {
        let x = super::overlay::centered(area, width, 0).x;
        Rect::new(
            x,
            area.y,
            width,
            height.min(room.bottom().saturating_sub(area.y)),
        )
    };
    frame.render_widget(Clear, area);
    let block = Block::bordered().title(WORDS.title.with(lang, &[("id", &scenario.id)]));
    frame.render_widget(body.block(block), area);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_field_shows_its_end_or_its_start() {
        assert_eq!(visible("abc", 3, true), "abc");
        assert_eq!(visible("abcdef", 4, true), "…def");
        assert_eq!(visible("abcdef", 4, false), "abc…");
        // Double-width characters take two columns: never more than the room.
        assert_eq!(visible("日本語です", 6, true), "…です");
        assert_eq!(visible("日本語です", 6, false), "日本…");
        assert_eq!(visible("abcdef", 1, true), "…");
        assert_eq!(visible("abcdef", 0, false), "…");
    }
}
