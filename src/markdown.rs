//! Lessons are written in Markdown; this turns one into styled terminal text — headings bold,
//! `code` and code blocks coloured, emphasis, lists — with the Markdown marks themselves gone,
//! and breaks it into lines of a terminal's width. The parsing is tui-markdown's; the look and
//! the line breaking, which must know where Chinese may break, are ours. A leaf, like
//! [`crate::style`].

use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span, StyledGrapheme, Text};
use tui_markdown::{Options, StyleSheet};
use unicode_width::UnicodeWidthStr;

/// `markdown` as lines of styled text, borrowing from it where it can: a paragraph or a list
/// item is one line, to be broken to the terminal's width by [`wrap`]; a code block keeps its
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

/// `text` broken into lines no wider than `width` terminal columns (a Chinese character takes
/// two). English breaks at spaces, which vanish at the break; Chinese, which puts no spaces
/// between words, may break between any two characters — except before punctuation that must
/// not begin a line (`，` `。`) or after punctuation that must not end one (`（` `「`). A word
/// longer than the line is cut where the line ends. Lines that fit are borrowed as they are.
///
/// ratatui's own word wrapper is not used: a break inside Chinese text needs a zero-width
/// space for it to see, and at such breaks it lets a wide character run one column past the
/// width, where it is cut off.
pub fn wrap<'a>(text: &'a Text<'a>, width: u16) -> Vec<Line<'a>> {
    wrap_at_most(text, width, usize::MAX)
}

/// The first `rows` lines of [`wrap`], the rest of the text left unbroken: a panel that shows
/// the start of a lesson pays only for what fits, every frame.
pub fn wrap_at_most<'a>(text: &'a Text<'a>, width: u16, rows: usize) -> Vec<Line<'a>> {
    let width = usize::from(width.max(1));
    let mut lines = Vec::with_capacity(text.lines.len().min(rows));
    for line in &text.lines {
        if lines.len() >= rows {
            break;
        }
        if line.width() <= width {
            lines.push(line.clone().patch_style(text.style));
        } else {
            let graphemes: Vec<StyledGrapheme> = line.styled_graphemes(text.style).collect();
            wrap_graphemes(&graphemes, width, &mut lines);
        }
    }
    lines.truncate(rows);
    lines
}

/// A run of graphemes that stays on one line: a word, one Chinese character with what must
/// stay next to it, or the spaces between words.
struct Piece {
    start: usize,
    end: usize,
    width: usize,
    spaces: bool,
}

fn wrap_graphemes(graphemes: &[StyledGrapheme], width: usize, out: &mut Vec<Line<'_>>) {
    let mut line: Vec<&StyledGrapheme> = Vec::new();
    let mut used = 0;
    // Spaces after the last word: they go on the line only if a word follows them there.
    let (mut gap, mut gap_width): (&[StyledGrapheme], usize) = (&[], 0);
    for piece in pieces(graphemes) {
        let run = &graphemes[piece.start..piece.end];
        if piece.spaces {
            (gap, gap_width) = (run, piece.width);
            continue;
        }
        if used > 0 && used + gap_width + piece.width > width {
            out.push(styled_line(&line));
            (line, used) = (Vec::new(), 0);
        } else {
            // The gap between two words, or the indentation a line starts with.
            line.extend(gap);
            used += gap_width;
        }
        (gap, gap_width) = (&[], 0);
        for g in run {
            let w = g.symbol.width();
            if used > 0 && used + w > width {
                out.push(styled_line(&line));
                (line, used) = (Vec::new(), 0);
            }
            line.push(g);
            used += w;
        }
    }
    out.push(styled_line(&line));
}

/// Cuts a line into the pieces [`wrap`] may break between.
fn pieces(graphemes: &[StyledGrapheme]) -> Vec<Piece> {
    let mut pieces: Vec<Piece> = Vec::new();
    let mut previous: Option<char> = None;
    for (i, g) in graphemes.iter().enumerate() {
        let first = g.symbol.chars().next().unwrap_or(' ');
        let spaces = first == ' ';
        let joins = match (pieces.last(), previous) {
            (Some(last), Some(before)) => {
                last.spaces == spaces && (spaces || !may_break_between(before, first))
            }
            _ => false,
        };
        let w = g.symbol.width();
        match pieces.last_mut() {
            Some(last) if joins => {
                last.end = i + 1;
                last.width += w;
            }
            _ => pieces.push(Piece {
                start: i,
                end: i + 1,
                width: w,
                spaces,
            }),
        }
        previous = g.symbol.chars().last();
    }
    pieces
}

/// Whether a line may break between two characters that touch (no space between them).
fn may_break_between(a: char, b: char) -> bool {
    (is_chinese(a) || is_chinese(b))
        && !"，。、；：？！）」』”’》〉】…—％·),.:;!?]}%".contains(b)
        && !"（「『“‘《〈【([{".contains(a)
}

/// Han characters and the punctuation and full-width forms written with them.
fn is_chinese(c: char) -> bool {
    matches!(c,
        '\u{2E80}'..='\u{303F}'   // radicals, CJK symbols and punctuation
        | '\u{3400}'..='\u{4DBF}' // extension A
        | '\u{4E00}'..='\u{9FFF}' // unified ideographs
        | '\u{F900}'..='\u{FAFF}' // compatibility ideographs
        | '\u{FF00}'..='\u{FFEF}' // full-width forms: ，（）：
    )
}

/// One line from graphemes, neighbours of one style sharing a span.
fn styled_line(graphemes: &[&StyledGrapheme]) -> Line<'static> {
    let mut spans: Vec<Span<'static>> = Vec::new();
    for g in graphemes {
        match spans.last_mut() {
            Some(span) if span.style == g.style => span.content.to_mut().push_str(g.symbol),
            _ => spans.push(Span::styled(g.symbol.to_string(), g.style)),
        }
    }
    Line::from(spans)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(lines: &[Line]) -> Vec<String> {
        lines.iter().map(|l| l.to_string()).collect()
    }

    #[test]
    fn wrapping_at_most_some_rows_is_the_start_of_wrapping_it_all() {
        let text = render(
            "A long first paragraph, broken over several lines.\n\n进程池里的工作进程\n\nlast",
        );
        let all = plain(&wrap(&text, 12));
        for rows in [0, 1, 3, all.len(), all.len() + 5] {
            let start = plain(&wrap_at_most(&text, 12, rows));
            assert_eq!(start, all[..rows.min(all.len())], "{rows} rows");
        }
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

    fn wrapped(markdown: &str, width: u16) -> Vec<String> {
        let text = render(markdown);
        let lines = wrap(&text, width);
        for line in &lines {
            assert!(
                line.width() <= usize::from(width),
                "{line:?} is wider than {width}"
            );
        }
        plain(&lines)
    }

    #[test]
    fn chinese_fills_its_lines_and_keeps_punctuation_off_their_starts() {
        // Broken only at spaces, the first line would end after `fork()`: the Chinese after it
        // has no space and would move down whole.
        let rows = wrapped(
            "调用 `fork()` 一次，它返回两次：父进程得到子进程的 PID，子进程得到 0。",
            24,
        );
        assert_eq!(
            rows,
            [
                "调用 fork() 一次，它返回",
                "两次：父进程得到子进程的",
                "PID，子进程得到 0。",
            ]
        );
        // At 23 columns `回` no longer fits; `，` and `：` stay with what comes before them.
        assert_eq!(
            wrapped("调用 `fork()` 一次，它返回两次：父进程得到子进程的", 23),
            ["调用 fork() 一次，它返", "回两次：父进程得到子进", "程的"]
        );
        assert_eq!(
            wrapped("一二三四五六七，八", 14),
            ["一二三四五六", "七，八"]
        );
        assert_eq!(wrapped("（进程）", 6), ["（进", "程）"]);
    }

    #[test]
    fn a_wide_character_never_runs_past_the_width() {
        // An odd width with wide characters: ratatui's wrapper puts a line of 12 columns here.
        for width in 5..=13 {
            let rows = wrapped("一二三四可去：它在进程池 and some English words", width);
            let joined: String = rows.concat().chars().filter(|c| *c != ' ').collect();
            assert_eq!(
                joined, "一二三四可去：它在进程池andsomeEnglishwords",
                "{width}"
            );
        }
    }

    #[test]
    fn english_breaks_at_spaces_and_code_keeps_its_indentation() {
        assert_eq!(
            wrapped("fork() returns twice, once in each process", 16),
            ["fork() returns", "twice, once in", "each process"]
        );
        assert_eq!(
            wrapped("```\n    print('one two three')\n```", 16),
            ["    print('one", "two three')"]
        );
        assert_eq!(wrapped("abcdefghij", 4), ["abcd", "efgh", "ij"]);
        // Styles survive the break.
        let text = render("aaaa `bbbb`");
        let lines = wrap(&text, 5);
        assert_eq!(plain(&lines), ["aaaa", "bbbb"]);
        assert_eq!(lines[1].spans[0].style.fg, Some(Color::Yellow));
    }
}
