//! A run's insights under its verdict: each sentence where they all fit, else one line naming
//! them, so the figures and the verdict above keep their rows at 80x24.

use crate::i18n::Lang;
use crate::report::Warning;
use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};

crate::i18n::phrases! {
    pub WORDS {
        named: "! insights: {titles} (the report has each in full)" => "! 提示：{titles}（报告里有完整的说明）",
        count: " ! {n} insights " => " ! {n} 条提示 ",
    }
}

/// What an insight's line starts with, in either language.
const MARK: &str = "! ";

const INSIGHT: Style = Style::new().fg(Color::Yellow);

/// The lines for `warnings` in `lang`: whole sentences if they take no more than `rows` rows
/// at `width`, else their titles on one line; and whether that was every sentence whole.
pub fn lines(
    warnings: &[Warning],
    width: u16,
    rows: u16,
    lang: Lang,
) -> (Vec<Line<'static>>, bool) {
    if warnings.is_empty() {
        return (Vec::new(), true);
    }
    let full: Vec<Line<'static>> = warnings
        .iter()
        .map(|w| {
            Line::from(vec![
                Span::styled(MARK, INSIGHT),
                Span::raw(w.text_in(lang).to_string()),
            ])
        })
        .collect();
    let needed = crate::line_break::rows(&full, width);
    if needed <= usize::from(rows) {
        return (full, true);
    }
    let titles: Vec<&str> = warnings
        .iter()
        .map(|w| crate::insights::title(&w.id).map_or(w.id.as_str(), |t| t.get(lang)))
        .collect();
    let joined = titles.join(match lang {
        Lang::En => ", ",
        Lang::Zh => "、",
    });
    let named = vec![Line::from(Span::styled(
        WORDS.named.with(lang, &[("titles", &joined)]),
        INSIGHT,
    ))];
    (named, false)
}

/// For the panel's border when the sentences do not all fit: how many insights there are.
pub fn count(warnings: &[Warning], lang: Lang) -> Option<Span<'static>> {
    (!warnings.is_empty())
        .then(|| Span::styled(WORDS.count.with(lang, &[("n", &warnings.len())]), INSIGHT))
}
