//! Lessons are written in Markdown; this turns one into styled terminal text — headings bold,
//! `code` and code blocks coloured, emphasis, lists — with the Markdown marks themselves gone,
//! to be broken into lines of a terminal's width by [`crate::line_break`]. The parsing is
//! tui-markdown's; the look is ours. A leaf, like [`crate::style`].

use ratatui::style::{Color, Modifier, Style};
use ratatui::text::Text;
use tui_markdown::{Options, StyleSheet};

/// `markdown` as lines of styled text, borrowing from it where it can: a paragraph or a list
/// item is one line, to be broken to the terminal's width by [`crate::line_break::wrap`]; a code block keeps its
/// lines and their indentation.
pub fn render(markdown: &str) -> Text<'_> {
    tui_markdown::from_str_with_options(markdown, &Options::new(Look))
}

/// How a lesson looks: no `#` before a heading and no fences around code, which a reader of a
/// terminal does not need, and colours that read on dark and light backgrounds alike.
#[derive(Debug, Clone, Copy)]
struct Look;

const CODE: Style = Style::new().fg(Color::Yellow);

impl StyleSheet for Look {
    fn heading(&self, level: u8) -> Style {
        let bold = Style::new().add_modifier(Modifier::BOLD);
        match level {
            1 => bold.fg(Color::Cyan),
            _ => bold,
        }
    }

    fn heading_marker(&self, _level: u8) -> &str {
        ""
    }

    fn code(&self) -> Style {
        CODE
    }

    fn code_block_fence(&self) -> &str {
        ""
    }

    fn link(&self) -> Style {
        Style::new().add_modifier(Modifier::UNDERLINED)
    }

    fn blockquote(&self) -> Style {
        Style::new().add_modifier(Modifier::ITALIC)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(lines: &[ratatui::text::Line]) -> Vec<String> {
        lines.iter().map(|l| l.to_string()).collect()
    }

    #[test]
    fn inline_code_loses_its_backticks_and_keeps_a_style_of_its_own() {
        let text = render("Call `fork()` *once*, it returns **twice**.");
        assert_eq!(plain(&text.lines), ["Call fork() once, it returns twice."]);
        let spans = &text.lines[0].spans;
        let code = spans.iter().find(|s| s.content == "fork()").unwrap();
        assert_eq!(code.style.fg, Some(Color::Yellow));
        let once = spans.iter().find(|s| s.content == "once").unwrap();
        assert!(once.style.add_modifier.contains(Modifier::ITALIC));
        let twice = spans.iter().find(|s| s.content == "twice").unwrap();
        assert!(twice.style.add_modifier.contains(Modifier::BOLD));
    }

    #[test]
    fn a_paragraph_is_one_line_and_a_code_block_keeps_its_indentation() {
        let text = render(
            "# 进程池Pool\n\nOne paragraph\nover two lines.\n\n- first\n- second\n\n```python\ndef f():\n    return 1\n```\n",
        );
        assert_eq!(
            plain(&text.lines),
            [
                "进程池Pool",
                "",
                "One paragraph over two lines.",
                "",
                "- first",
                "- second",
                "",
                "def f():",
                "    return 1",
            ]
        );
        assert_eq!(text.lines[8].style.fg, Some(Color::Yellow), "code");
    }
}
