//! How much one field of the parameter form holds, from its parameter's bounds: a field
//! stops growing where no valid value could go on, so typing or pasting past it is refused
//! as it happens, not at apply time, and no field can push the form off the screen.

use crate::params::{ParamKind, ParamSpec};

/// The most a field may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Capacity {
    /// Bytes of UTF-8, as text parameters are counted (the kernel cuts a thread name at 15
    /// bytes, mid-character).
    Bytes(usize),
    /// Characters.
    Chars(usize),
    /// An integer: at most `digits` digits, and `chars` characters in all — room for a sign,
    /// `_` or `,` between groups of digits (`2,000,000,000`), or the word `cores`.
    Digits { digits: usize, chars: usize },
}

/// How many digits `n` has.
fn digits(n: u64) -> usize {
    n.checked_ilog10().map_or(1, |log| log as usize + 1)
}

/// The width of `n` written with a separator between groups of three digits.
fn grouped_width(n: u64) -> usize {
    let d = digits(n);
    d + (d - 1) / 3
}

impl Capacity {
    pub fn of(spec: &ParamSpec) -> Capacity {
        match spec.kind {
            ParamKind::Int { min, max } | ParamKind::IntOrCores { min, max } => {
                let widest = min.unsigned_abs().max(max.unsigned_abs());
                let sign = usize::from(min < 0);
                let word = match spec.kind {
                    ParamKind::IntOrCores { .. } => "cores".len(),
                    _ => 0,
                };
                Capacity::Digits {
                    digits: digits(widest),
                    chars: (grouped_width(widest) + sign).max(word),
                }
            }
            ParamKind::Choice(words) => {
                Capacity::Chars(words.iter().map(|w| w.chars().count()).max().unwrap_or(0))
            }
            ParamKind::Text { max_len } => Capacity::Bytes(max_len),
            ParamKind::Command { max_len } => Capacity::Chars(max_len),
            // Room for a comma and a space between items.
            ParamKind::List { max_items, max_len } => {
                Capacity::Chars(max_items * max_len + 2 * max_items.saturating_sub(1))
            }
        }
    }

    /// Whether `c` still fits after `text`.
    pub fn fits(&self, text: &str, c: char) -> bool {
        match *self {
            Capacity::Bytes(n) => text.len() + c.len_utf8() <= n,
            Capacity::Chars(n) => text.chars().count() < n,
            Capacity::Digits { digits, chars } => {
                let digits_now = text.chars().filter(char::is_ascii_digit).count();
                text.chars().count() < chars && (!c.is_ascii_digit() || digits_now < digits)
            }
        }
    }

    /// Whether `text` is within the capacity.
    pub fn holds(&self, text: &str) -> bool {
        match *self {
            Capacity::Bytes(n) => text.len() <= n,
            Capacity::Chars(n) => text.chars().count() <= n,
            Capacity::Digits { digits, chars } => {
                text.chars().count() <= chars
                    && text.chars().filter(char::is_ascii_digit).count() <= digits
            }
        }
    }

    /// The limit in words, in `lang`: `at most 2 digits`, `at most 64 bytes`.
    pub fn describe(&self, lang: crate::i18n::Lang) -> String {
        match *self {
            Capacity::Bytes(n) => WORDS.bytes.with(lang, &[("n", &n)]),
            Capacity::Chars(n) => WORDS.chars.with(lang, &[("n", &n)]),
            Capacity::Digits { digits, chars } => WORDS
                .digits
                .with(lang, &[("digits", &digits), ("chars", &chars)]),
        }
    }
}

crate::i18n::phrases! {
    pub WORDS {
        bytes: "at most {n} bytes" => "最多 {n} 字节",
        chars: "at most {n} characters" => "最多 {n} 个字符",
        digits: "at most {digits} digits, {chars} characters with separators"
            => "最多 {digits} 位数字，连分隔符 {chars} 个字符",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(kind: ParamKind) -> ParamSpec {
        ParamSpec {
            key: "k",
            kind,
            default: "",
            help: "",
        }
    }

    #[test]
    fn integers_hold_the_digits_of_their_widest_bound() {
        let iterations = Capacity::of(&spec(ParamKind::Int {
            min: 1,
            max: 2_000_000_000,
        }));
        assert_eq!(
            iterations,
            Capacity::Digits {
                digits: 10,
                chars: 13
            }
        );
        assert!(iterations.fits("200000000", '0'));
        assert!(!iterations.fits("2000000000", '0'), "an 11th digit");
        assert!(iterations.fits("2,000,000,00", '0'), "separators fit");
        let signed = Capacity::of(&spec(ParamKind::Int { min: -64, max: 8 }));
        assert_eq!(
            signed,
            Capacity::Digits {
                digits: 2,
                chars: 3
            }
        );
        let workers = Capacity::of(&spec(ParamKind::IntOrCores { min: 1, max: 64 }));
        assert_eq!(
            workers,
            Capacity::Digits {
                digits: 2,
                chars: 5
            }
        );
        assert!(workers.fits("core", 's'));
        assert_eq!(digits(0), 1);
        assert_eq!(grouped_width(999), 3);
        assert_eq!(grouped_width(1000), 5);
    }

    #[test]
    fn text_counts_bytes_and_the_rest_characters() {
        let name = Capacity::of(&spec(ParamKind::Text { max_len: 4 }));
        assert!(name.fits("abc", 'd'));
        assert!(!name.fits("abc", 'é'), "two bytes where one is left");
        let command = Capacity::of(&spec(ParamKind::Command { max_len: 3 }));
        assert!(command.fits("éé", 'é'));
        assert!(!command.fits("ééé", 'a'));
        let choice = Capacity::of(&spec(ParamKind::Choice(&["lock", "nolock"])));
        assert_eq!(choice, Capacity::Chars(6));
        let list = Capacity::of(&spec(ParamKind::List {
            max_items: 3,
            max_len: 2,
        }));
        assert_eq!(list, Capacity::Chars(10), "`AB, CD, EF`");
    }
}
