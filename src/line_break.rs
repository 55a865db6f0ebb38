//! Breaking styled text into lines of a terminal's width, the one way every panel and overlay
//! does it: English at spaces, Chinese between characters (it puts no spaces between words),
//! and never a wide character past the last column. A leaf, like [`crate::style`].

use ratatui::style::Style;
use ratatui::text::{Line, Span, StyledGrapheme, Text};
use unicode_width::UnicodeWidthStr;

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

/// [`wrap`] for lines a view has just built.
pub fn wrap_lines(lines: &[Line<'static>], width: u16) -> Vec<Line<'static>> {
    lines_at_most(lines, Style::default(), width, usize::MAX)
}

/// `text` behind `lead`, broken to `width` with the rows after the first indented under the
/// text, as a list item or a log line hangs.
pub fn hanging(lead: Span<'static>, text: &str, width: u16) -> Vec<Line<'static>> {
    let indent = lead.width();
    let room = width
        .saturating_sub(u16::try_from(indent).unwrap_or(u16::MAX))
        .max(1);
    wrap_lines(&[Line::raw(text.to_string())], room)
        .into_iter()
        .enumerate()
        .map(|(i, row)| {
            let first = if i == 0 {
                lead.clone()
            } else {
                Span::raw(" ".repeat(indent))
            };
            let mut spans = vec![first];
            spans.extend(row.spans);
            Line::from(spans)
        })
        .collect()
}

/// The rows `lines` take broken to `width`.
pub fn rows(lines: &[Line<'_>], width: u16) -> usize {
    let width = usize::from(width.max(1));
    lines
        .iter()
        .map(|line| {
            if line.width() <= width {
                1
            } else {
                let graphemes: Vec<StyledGrapheme> =
                    line.styled_graphemes(Style::default()).collect();
                let mut out = Vec::new();
                wrap_graphemes(&graphemes, width, &mut out);
                out.len()
            }
        })
        .sum()
}

/// The first `rows` lines of [`wrap`], the rest of the text left unbroken: a panel that shows
/// the start of a lesson pays only for what fits, every frame.
pub fn wrap_at_most<'a>(text: &'a Text<'a>, width: u16, rows: usize) -> Vec<Line<'a>> {
    lines_at_most(&text.lines, text.style, width, rows)
}

/// `lines` in `style`, broken to `width`, the first `rows` of them.
fn lines_at_most<'a>(lines: &[Line<'a>], style: Style, width: u16, rows: usize) -> Vec<Line<'a>> {
    let width = usize::from(width.max(1));
    let mut out = Vec::with_capacity(lines.len().min(rows));
    for line in lines {
        if out.len() >= rows {
            break;
        }
        if line.width() <= width {
            out.push(line.clone().patch_style(style));
        } else {
            let graphemes: Vec<StyledGrapheme> = line.styled_graphemes(style).collect();
            wrap_graphemes(&graphemes, width, &mut out);
        }
    }
    out.truncate(rows);
    out
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
    use crate::markdown::render;
    use ratatui::style::Color;

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
}
