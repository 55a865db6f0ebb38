//! Text from outside — what a user typed, what a child printed, what a run reported — as it may
//! be written to a terminal: control characters are shown, never obeyed (an escape sequence in a
//! thread name must not clear the screen), and input quoted back in a message is cut to a
//! readable length. Every text output of conlab goes through here; JSON needs none of it, serde
//! escapes control characters itself.

use std::borrow::Cow;

/// Stands in for a control character: visible, one column wide, and never part of an escape.
pub const CONTROL_MARK: char = '·';

/// Characters of input quoted back in a message before it is cut.
pub const QUOTE_CHARS: usize = 60;

/// Tab only moves the cursor forward to the next stop: harmless, and some output lines use it.
fn is_unsafe(c: char) -> bool {
    c.is_control() && c != '\t'
}

/// `text` with every control character but tab (escape, carriage return, newline, C1 codes such
/// as CSI) shown as [`CONTROL_MARK`]: what a single line of output may hold. Borrowed when there
/// is nothing to replace, as is nearly always the case.
pub fn printable(text: &str) -> Cow<'_, str> {
    if !text.contains(is_unsafe) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(
        text.chars()
            .map(|c| if is_unsafe(c) { CONTROL_MARK } else { c })
            .collect(),
    )
}

/// As [`printable`], but newlines stay: for a whole output of many lines (a report, a listing,
/// a message that spans lines).
pub fn printable_lines(text: &str) -> Cow<'_, str> {
    if !text.contains(|c| c != '\n' && is_unsafe(c)) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(
        text.split('\n')
            .map(printable)
            .collect::<Vec<_>>()
            .join("\n"),
    )
}

/// At most `max` characters of `text`, ending in `…` when something was cut (never inside a
/// character).
pub fn cut(text: &str, max: usize) -> Cow<'_, str> {
    match text.char_indices().nth(max) {
        Some((at, _)) => Cow::Owned(format!("{}…", &text[..at])),
        None => Cow::Borrowed(text),
    }
}

/// Input as a message repeats it: printable, and for long input its first [`QUOTE_CHARS`]
/// characters and how long it was, `xxxx… (10240 characters)`, so a message never repeats a
/// whole pasted file or an escape sequence.
pub fn excerpt(text: &str) -> String {
    let shown = printable(&cut(text, QUOTE_CHARS)).into_owned();
    match text.chars().count() {
        n if n > QUOTE_CHARS => format!("{shown} ({n} characters)"),
        _ => shown,
    }
}

/// Input quoted back in a message: `` `threads` ``, `` `xxxx…` (10240 characters) ``: what
/// is between the backquotes is [`cut`] and printable, the length stays outside them, so a
/// narrower view may cut the quote further without losing it.
pub fn quoted(text: &str) -> String {
    let shown = printable(&cut(text, QUOTE_CHARS)).into_owned();
    match text.chars().count() {
        n if n > QUOTE_CHARS => format!("`{shown}` ({n} characters)"),
        _ => format!("`{shown}`"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_shown_not_obeyed() {
        assert_eq!(printable("a\u{1b}[2Jb"), "a·[2Jb");
        assert_eq!(printable("a\rb\nc\u{7f}d\u{9b}e\0"), "a·b·c·d·e·");
        assert_eq!(
            printable("tab\tstays, ünï€ 😀 too"),
            "tab\tstays, ünï€ 😀 too"
        );
        assert!(matches!(printable("plain"), Cow::Borrowed(_)));
    }

    #[test]
    fn whole_outputs_keep_their_lines() {
        assert_eq!(printable_lines("a\u{1b}c\nb\r\n"), "a·c\nb·\n");
        assert!(matches!(printable_lines("a\nb\n"), Cow::Borrowed(_)));
    }

    #[test]
    fn cuts_on_characters() {
        assert_eq!(cut("héllo", 2), "hé…");
        assert_eq!(cut("hi", 2), "hi");
        assert_eq!(cut("", 0), "");
    }

    #[test]
    fn quotes_a_bounded_printable_prefix_and_the_length() {
        assert_eq!(quoted("threads"), "`threads`");
        assert_eq!(quoted("a\u{1b}b"), "`a·b`");
        let long = "é".repeat(10_240);
        let q = quoted(&long);
        assert_eq!(
            q,
            format!("`{}…` (10240 characters)", "é".repeat(QUOTE_CHARS))
        );
        assert_eq!(
            quoted(&"x".repeat(QUOTE_CHARS)),
            format!("`{}`", "x".repeat(60))
        );
    }
}
