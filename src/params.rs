//! Typed scenario parameters: what a scenario accepts, with defaults and bounds, and the
//! validation that turns `key=value` text into values (or a message naming what is valid).

use crate::text_safe::{excerpt, quoted};
use std::fmt;

/// The one character that separates values: the variants of `--vary`, the items of a list.
/// Nothing else uses it, so `1,000` never means a thousand; integers group digits with `_`.
pub const VALUE_SEPARATOR: char = ',';

/// The type and bounds of one parameter.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ParamKind {
    /// An integer in `min..=max`.
    Int { min: i64, max: i64 },
    /// One of a fixed set of words.
    Choice(&'static [&'static str]),
    /// An integer in `min..=max`, or the word `cores` for this machine's core count.
    IntOrCores { min: i64, max: i64 },
    /// Free text of at most `max_len` bytes of UTF-8 (a thread name, a function's argument).
    Text { max_len: usize },
    /// A command line of at most `max_len` characters: at least one word, quotes balanced
    /// (split as [`crate::shell_words::split`] does).
    Command { max_len: usize },
    /// Comma-separated items (`A,B,C`): 1 to `max_items` of them, none empty, each at most
    /// `max_len` characters.
    List { max_items: usize, max_len: usize },
}

/// The number of cores this process may run on.
pub fn cores() -> i64 {
    std::thread::available_parallelism()
        .map(|n| n.get() as i64)
        .unwrap_or(1)
}

/// One parameter a scenario declares.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ParamSpec {
    pub key: &'static str,
    pub kind: ParamKind,
    pub default: &'static str,
    pub help: &'static str,
}

/// A parameter's value after validation.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Int(i64),
    Word(String),
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Int(n) => write!(f, "{n}"),
            Value::Word(w) => f.write_str(w),
        }
    }
}

impl ParamSpec {
    /// What values are valid, in words, for error messages and the help form.
    pub fn valid_values(&self) -> String {
        match self.kind {
            ParamKind::Int { min, max } => format!("an integer from {min} to {max}"),
            ParamKind::Choice(words) => format!("one of {}", words.join(", ")),
            ParamKind::IntOrCores { min, max } => {
                format!(
                    "an integer from {min} to {max}, or `cores` ({} here)",
                    cores()
                )
            }
            ParamKind::Text { max_len } => format!("text of at most {max_len} bytes"),
            ParamKind::Command { max_len } => format!(
                "a command line of at most {max_len} characters: a program and its arguments, quoted as in a shell (e.g. sort -r, or sh -c \"echo hi\")"
            ),
            ParamKind::List { max_items, max_len } => format!(
                "1 to {max_items} comma-separated items, none empty, each of at most {max_len} characters"
            ),
        }
    }

    /// The valid values in a few characters: `1..64`, `nolock|lock|atomic`, `1..64|cores`.
    pub fn short_range(&self) -> String {
        match self.kind {
            ParamKind::Int { min, max } => format!("{min}..{max}"),
            ParamKind::Choice(words) => words.join("|"),
            ParamKind::IntOrCores { min, max } => format!("{min}..{max}|cores"),
            ParamKind::Text { max_len } => format!("text, ≤ {max_len} bytes"),
            ParamKind::Command { max_len } => format!("command, ≤ {max_len} chars"),
            ParamKind::List { max_items, .. } => format!("a,b,… ≤ {max_items} items"),
        }
    }

    /// Parses `text` as this parameter's value; the error names what is valid.
    pub fn parse(&self, text: &str) -> Result<Value, String> {
        let text = text.trim();
        match self.kind {
            ParamKind::IntOrCores { .. } if text == "cores" => Ok(Value::Int(cores())),
            ParamKind::Int { min, max } | ParamKind::IntOrCores { min, max } => {
                let n = parse_int(text).map_err(|e| match e {
                    IntError::Comma { spelled } => format!(
                        "`{}`: {} has a comma, and a comma only ever separates values (--vary {}=1,2); {spelled}; valid: {}",
                        self.key,
                        quoted(text),
                        self.key,
                        self.valid_values()
                    ),
                    IntError::LeadingZero => format!(
                        "`{}`: {} has a leading zero, which integers here never have (a comma only ever separates values, so a thousand is 1000 or 1_000, never 1,000); use {}",
                        self.key,
                        quoted(text),
                        self.valid_values()
                    ),
                    IntError::NotInt => {
                        format!("`{}`: {} is not {}", self.key, quoted(text), self.valid_values())
                    }
                })?;
                if n < min || n > max {
                    return Err(format!(
                        "`{}`: {n} is out of range; use {}",
                        self.key,
                        self.valid_values()
                    ));
                }
                Ok(Value::Int(n))
            }
            ParamKind::Choice(words) => words
                .iter()
                .find(|w| **w == text)
                .map(|w| Value::Word((*w).to_string()))
                .ok_or_else(|| {
                    format!(
                        "`{}`: {} is not {}",
                        self.key,
                        quoted(text),
                        self.valid_values()
                    )
                }),
            ParamKind::Text { max_len } => {
                // Bytes, not characters: the kernel cuts a thread name at 15 bytes, mid-character.
                if text.len() > max_len {
                    Err(format!(
                        "`{}`: too long; use {}",
                        self.key,
                        self.valid_values()
                    ))
                } else {
                    Ok(Value::Word(text.to_string()))
                }
            }
            ParamKind::Command { max_len } => {
                if text.chars().count() > max_len {
                    return Err(format!(
                        "`{}`: too long; use {}",
                        self.key,
                        self.valid_values()
                    ));
                }
                let words = crate::shell_words::split(text)
                    .map_err(|e| format!("`{}`: {e}; use {}", self.key, self.valid_values()))?;
                // `''` is a word, but no program is called that: the run could only fail with
                // "command not found" and a blank name.
                match words.first() {
                    None => {
                        return Err(format!(
                            "`{}`: empty; use {}",
                            self.key,
                            self.valid_values()
                        ));
                    }
                    Some(program) if program.trim().is_empty() => {
                        return Err(format!(
                            "`{}`: the program's name is blank; use {}",
                            self.key,
                            self.valid_values()
                        ));
                    }
                    Some(_) => {}
                }
                Ok(Value::Word(text.to_string()))
            }
            ParamKind::List { max_items, max_len } => {
                let items: Vec<&str> = text.split(VALUE_SEPARATOR).map(str::trim).collect();
                let bad = items.len() > max_items
                    || items
                        .iter()
                        .any(|i| i.is_empty() || i.chars().count() > max_len);
                if bad {
                    return Err(format!(
                        "`{}`: {} is not valid; use {}",
                        self.key,
                        quoted(text),
                        self.valid_values()
                    ));
                }
                Ok(Value::Word(items.join(&VALUE_SEPARATOR.to_string())))
            }
        }
    }
}

/// Why text is not an integer.
enum IntError {
    /// It has commas; `spelled` says how to write it, when it is a number with its thousands
    /// separated (`write 1000 or 1_000`).
    Comma {
        spelled: String,
    },
    /// `000`: most likely the tail of `1,000` in `--vary`, which is two values.
    LeadingZero,
    NotInt,
}

/// An integer as a user types it: an optional sign, then digits, which `_` may group
/// (`1_000_000`, one `_` between two digits, as in Rust and Python), and no leading zero.
fn parse_int(text: &str) -> Result<i64, IntError> {
    if text.contains(VALUE_SEPARATOR) {
        let plain: String = text.chars().filter(|c| *c != VALUE_SEPARATOR).collect();
        let mut groups = text.split(VALUE_SEPARATOR);
        let lead = groups.next().unwrap_or("").trim_start_matches(['-', '+']);
        let grouped = (1..=3).contains(&lead.len()) && groups.all(|g| g.len() == 3);
        let spelled = match plain.parse::<i64>() {
            Ok(_) if grouped => format!("write {plain} or {}", text.replace(VALUE_SEPARATOR, "_")),
            _ => "give one integer, its digits grouped with `_` if you like (1_000)".to_string(),
        };
        return Err(IntError::Comma { spelled });
    }
    let bytes = text.as_bytes();
    let digit_at = |i: Option<usize>| i.and_then(|i| bytes.get(i)).is_some_and(u8::is_ascii_digit);
    let grouped_well = text
        .char_indices()
        .filter(|(_, c)| *c == '_')
        .all(|(i, _)| digit_at(i.checked_sub(1)) && digit_at(Some(i + 1)));
    if !grouped_well {
        return Err(IntError::NotInt);
    }
    let plain = text.replace('_', "");
    let n = plain.parse().map_err(|_| IntError::NotInt)?;
    let digits = plain.trim_start_matches(['-', '+']);
    if digits.len() > 1 && digits.starts_with('0') {
        return Err(IntError::LeadingZero);
    }
    Ok(n)
}

/// The enum a [`ParamKind::Choice`] parameter is read as (see [`Params::choice`]). Declared
/// with [`choice_enum!`], whose one list gives each variant its word: the words the parameter
/// offers and the variants the code matches on cannot drift apart.
pub trait Choice: Copy + 'static {
    /// Every variant, in the order the parameter offers their words.
    const ALL: &'static [Self];
    /// The word that selects this variant.
    fn word(self) -> &'static str;
}

/// Declares a [`Choice`] enum, each variant with its word:
/// `choice_enum! { enum Mode { NoLock = "nolock", Lock = "lock" } }`.
/// Besides the trait it gives `Mode::WORDS`, a const `word()`, and `Mode::spec(key, default,
/// help)`, the parameter offering exactly those words. Two variants with one word do not build.
macro_rules! choice_enum {
    (
        $(#[$attr:meta])*
        $vis:vis enum $name:ident {
            $($(#[$variant_attr:meta])* $variant:ident = $word:literal),+ $(,)?
        }
    ) => {
        $(#[$attr])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        $vis enum $name {
            $($(#[$variant_attr])* $variant),+
        }

        impl $name {
            /// The parameter's words, in the order of the variants.
            pub const WORDS: &'static [&'static str] = &[$($word),+];

            /// The word that selects this variant.
            pub const fn word(self) -> &'static str {
                match self {
                    $($name::$variant => $word),+
                }
            }

            /// The parameter that chooses between the variants, by their words.
            pub const fn spec(
                key: &'static str,
                default: Self,
                help: &'static str,
            ) -> $crate::params::ParamSpec {
                $crate::params::ParamSpec {
                    key,
                    kind: $crate::params::ParamKind::Choice(Self::WORDS),
                    default: default.word(),
                    help,
                }
            }
        }

        impl $crate::params::Choice for $name {
            const ALL: &'static [Self] = &[$($name::$variant),+];

            fn word(self) -> &'static str {
                $name::word(self)
            }
        }

        const _: () = assert!(
            $crate::params::distinct($name::WORDS),
            concat!("two variants of ", stringify!($name), " have the same word")
        );
    };
}
pub(crate) use choice_enum;

/// No word twice: a word that selects two variants would silently select the first.
pub(crate) const fn distinct(words: &[&str]) -> bool {
    let mut i = 0;
    while i < words.len() {
        let mut j = i + 1;
        while j < words.len() {
            if same(words[i].as_bytes(), words[j].as_bytes()) {
                return false;
            }
            j += 1;
        }
        i += 1;
    }
    true
}

const fn same(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// A full set of values for one scenario's parameters, in declaration order.
#[derive(Debug, Clone, PartialEq)]
pub struct Params {
    entries: Vec<(&'static str, Value)>,
}

impl Params {
    /// Every parameter at its default.
    pub fn defaults(specs: &[ParamSpec]) -> Params {
        let entries = specs
            .iter()
            .map(|s| {
                let value = s.parse(s.default).unwrap_or_else(|e| {
                    panic!("scenario bug: default of `{}` is invalid: {e}", s.key)
                });
                (s.key, value)
            })
            .collect();
        Params { entries }
    }

    /// Defaults overridden by `key=value` assignments, each validated.
    pub fn from_assignments<S: AsRef<str>>(
        specs: &[ParamSpec],
        assignments: &[S],
    ) -> Result<Params, String> {
        let mut params = Params::defaults(specs);
        let mut given: Vec<(&str, &str)> = Vec::new();
        for assignment in assignments {
            let (key, value) = split_assignment(assignment.as_ref())?;
            let key = find_spec(specs, key)?.key;
            // Last-wins would let a mistake in a long command line pass unseen.
            if let Some((_, first)) = given.iter().find(|(k, _)| *k == key) {
                return Err(format!(
                    "`{key}` is given twice ({key}={}, then {key}={}); give each parameter once",
                    excerpt(first),
                    excerpt(value)
                ));
            }
            given.push((key, value));
            params.set(specs, key, value)?;
        }
        Ok(params)
    }

    /// Sets one parameter from text; the error names the valid keys or values.
    pub fn set(&mut self, specs: &[ParamSpec], key: &str, text: &str) -> Result<(), String> {
        let spec = find_spec(specs, key)?;
        let value = spec.parse(text)?;
        if let Some(entry) = self.entries.iter_mut().find(|(k, _)| *k == spec.key) {
            entry.1 = value;
        }
        Ok(())
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        self.entries.iter().find(|(k, _)| *k == key).map(|(_, v)| v)
    }

    /// An integer parameter; scenarios only ask for keys they declared.
    pub fn int(&self, key: &str) -> i64 {
        match self.get(key) {
            Some(Value::Int(n)) => *n,
            other => panic!("scenario bug: `{key}` is not an integer parameter ({other:?})"),
        }
    }

    /// A word parameter; scenarios only ask for keys they declared.
    pub fn word(&self, key: &str) -> &str {
        match self.get(key) {
            Some(Value::Word(w)) => w,
            other => panic!("scenario bug: `{key}` is not a word parameter ({other:?})"),
        }
    }

    /// A choice parameter as the enum the scenario matches on. A word the parameter allows
    /// but the enum lacks is an error naming both, never a silent default; a spec made with
    /// the enum's `spec` offers only its words, so this fails only when the two differ.
    pub fn choice<C: Choice>(&self, key: &str) -> Result<C, String> {
        let word = self.word(key);
        C::ALL
            .iter()
            .copied()
            .find(|c| c.word() == word)
            .ok_or_else(|| {
                let known: Vec<&str> = C::ALL.iter().map(|c| c.word()).collect();
                format!(
                    "`{key}`: {} is allowed but this scenario does not handle it; it handles {}",
                    quoted(word),
                    known.join(", ")
                )
            })
    }

    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &Value)> {
        self.entries.iter().map(|(k, v)| (*k, v))
    }

    /// `key=value` pairs, as passed to a runner with `--set`.
    pub fn assignments(&self) -> Vec<String> {
        self.iter().map(|(k, v)| format!("{k}={v}")).collect()
    }

    /// `key=value key=value`, for titles and logs.
    pub fn summary(&self) -> String {
        self.assignments().join(" ")
    }

    /// As a JSON object, for reports.
    pub fn to_json(&self) -> serde_json::Map<String, serde_json::Value> {
        self.iter()
            .map(|(k, v)| {
                let json = match v {
                    Value::Int(n) => serde_json::Value::from(*n),
                    Value::Word(w) => serde_json::Value::from(w.as_str()),
                };
                (k.to_string(), json)
            })
            .collect()
    }
}

/// Splits `key=value`, with a message if the `=` is missing.
pub fn split_assignment(text: &str) -> Result<(&str, &str), String> {
    text.split_once('=')
        .map(|(k, v)| (k.trim(), v.trim()))
        .ok_or_else(|| format!("{} is not of the form key=value", quoted(text)))
}

/// The spec for `key`, or a message listing every valid key.
pub fn find_spec<'a>(specs: &'a [ParamSpec], key: &str) -> Result<&'a ParamSpec, String> {
    specs.iter().find(|s| s.key == key).ok_or_else(|| {
        let keys: Vec<&str> = specs.iter().map(|s| s.key).collect();
        if keys.is_empty() {
            format!(
                "unknown parameter {}; this scenario takes none",
                quoted(key)
            )
        } else {
            format!(
                "unknown parameter {}; valid: {}",
                quoted(key),
                keys.join(", ")
            )
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPECS: &[ParamSpec] = &[
        ParamSpec {
            key: "mode",
            kind: ParamKind::Choice(&["a", "b"]),
            default: "a",
            help: "",
        },
        ParamSpec {
            key: "n",
            kind: ParamKind::Int { min: 1, max: 10 },
            default: "3",
            help: "",
        },
    ];

    #[test]
    fn defaults_then_overrides() {
        let p = Params::from_assignments(SPECS, &["n=7", "mode=b"]).unwrap();
        assert_eq!(p.int("n"), 7);
        assert_eq!(p.word("mode"), "b");
        assert_eq!(p.summary(), "mode=b n=7");
    }

    choice_enum! {
        /// Two words of `SPECS`' mode.
        enum Letter {
            A = "a",
            B = "b",
        }
    }

    #[test]
    fn a_choice_reads_as_its_enum_and_its_spec_offers_its_words() {
        assert_eq!(Letter::WORDS, &["a", "b"]);
        assert_eq!((Letter::A.word(), Letter::B.word()), ("a", "b"));
        let spec = Letter::spec("mode", Letter::B, "which letter");
        assert_eq!(
            spec,
            ParamSpec {
                key: "mode",
                kind: ParamKind::Choice(&["a", "b"]),
                default: "b",
                help: "which letter",
            }
        );
        assert_eq!(Params::defaults(&[spec]).choice("mode"), Ok(Letter::B));
        for (word, letter) in [("a", Letter::A), ("b", Letter::B)] {
            let p = Params::from_assignments(SPECS, &[format!("mode={word}")]).unwrap();
            assert_eq!(p.choice::<Letter>("mode"), Ok(letter));
        }
    }

    #[test]
    fn a_word_the_enum_lacks_is_an_error_naming_it_not_a_default() {
        let wider = [ParamSpec {
            key: "mode",
            kind: ParamKind::Choice(&["a", "b", "c"]),
            default: "a",
            help: "",
        }];
        let p = Params::from_assignments(&wider, &["mode=c"]).unwrap();
        let e = p.choice::<Letter>("mode").unwrap_err();
        assert!(
            e.contains("`mode`") && e.contains("`c`") && e.contains("it handles a, b"),
            "{e}"
        );
    }

    #[test]
    fn words_are_distinct_or_refused() {
        assert!(distinct(&["a", "b", "ab"]));
        assert!(distinct(&[]));
        assert!(!distinct(&["a", "b", "a"]));
        assert!(!distinct(&["gil", "threads", "gil"]));
    }

    #[test]
    fn errors_name_what_is_valid() {
        let e = Params::from_assignments(SPECS, &["n=11"]).unwrap_err();
        assert!(e.contains("from 1 to 10"), "{e}");
        let e = Params::from_assignments(SPECS, &["mode=c"]).unwrap_err();
        assert!(e.contains("one of a, b"), "{e}");
        let e = Params::from_assignments(SPECS, &["x=1"]).unwrap_err();
        assert!(e.contains("valid: mode, n"), "{e}");
        let e = Params::from_assignments(SPECS, &["n"]).unwrap_err();
        assert!(e.contains("key=value"), "{e}");
    }

    #[test]
    fn cores_and_text() {
        let workers = ParamSpec {
            key: "workers",
            kind: ParamKind::IntOrCores { min: 1, max: 4096 },
            default: "cores",
            help: "",
        };
        assert_eq!(workers.parse("cores"), Ok(Value::Int(cores())));
        assert_eq!(workers.parse("3"), Ok(Value::Int(3)));
        assert!(workers.parse("0").unwrap_err().contains("or `cores`"));
        let name = ParamSpec {
            key: "name",
            kind: ParamKind::Text { max_len: 4 },
            default: "",
            help: "",
        };
        assert_eq!(name.parse("abcd"), Ok(Value::Word("abcd".into())));
        assert!(name.parse("abcde").is_err());
    }

    #[test]
    fn commands_need_a_word_and_balanced_quotes() {
        let cmd = ParamSpec {
            key: "cmd",
            kind: ParamKind::Command { max_len: 20 },
            default: "sort",
            help: "",
        };
        assert_eq!(
            cmd.parse(" sh -c 'echo hi' "),
            Ok(Value::Word("sh -c 'echo hi'".into()))
        );
        let e = cmd.parse("  ").unwrap_err();
        assert!(
            e.contains("`cmd`: empty") && e.contains("a command line"),
            "{e}"
        );
        let e = cmd.parse("sh -c 'echo").unwrap_err();
        assert!(e.contains("single quote"), "{e}");
        assert!(cmd.parse(&"x".repeat(21)).unwrap_err().contains("too long"));
    }

    #[test]
    fn lists_refuse_empty_items() {
        let items = ParamSpec {
            key: "items",
            kind: ParamKind::List {
                max_items: 3,
                max_len: 2,
            },
            default: "A",
            help: "",
        };
        assert_eq!(items.parse(" A, B ,C"), Ok(Value::Word("A,B,C".into())));
        for bad in ["", "A,,B", "A,", "A,B,C,D", "ABC"] {
            let e = items.parse(bad).unwrap_err();
            assert!(e.contains("none empty"), "{bad}: {e}");
        }
    }

    #[test]
    fn integers_accept_separators() {
        let p = Params::from_assignments(SPECS, &["n=1_0"]).unwrap();
        assert_eq!(p.int("n"), 10);
    }

    const BIG: ParamSpec = ParamSpec {
        key: "iterations",
        kind: ParamKind::Int {
            min: 1,
            max: 2_000_000_000,
        },
        default: "1",
        help: "",
    };

    #[test]
    fn underscores_group_digits_and_commas_are_refused_with_the_right_spelling() {
        assert_eq!(BIG.parse("1_000_000"), Ok(Value::Int(1_000_000)));
        assert_eq!(BIG.parse("1_0_0"), Ok(Value::Int(100)));
        for bad in ["_100", "100_", "1__000", "+_1", "1 000"] {
            let e = BIG.parse(bad).unwrap_err();
            assert!(e.contains("is not an integer from 1"), "{bad}: {e}");
        }
        let e = BIG.parse("1,000").unwrap_err();
        assert!(
            e.contains("`1,000`")
                && e.contains("write 1000 or 1_000")
                && e.contains("an integer from 1 to 2000000000"),
            "{e}"
        );
        // What `--vary iterations=1,000` gives besides the 1: refused, with the right spelling.
        for tail in ["000", "0_000", "-05"] {
            let e = BIG.parse(tail).unwrap_err();
            assert!(
                e.contains("has a leading zero")
                    && e.contains("1000 or 1_000")
                    && e.contains("an integer from 1 to 2000000000"),
                "{tail}: {e}"
            );
        }
        assert!(SPECS[1].parse("-0").unwrap_err().contains("out of range"));
        let e = BIG.parse("12,345,678").unwrap_err();
        assert!(e.contains("write 12345678 or 12_345_678"), "{e}");
        // Not a number with its thousands separated: no spelling to offer but the rule.
        for bad in ["1,2", "1234,567", "1,000,", ",1"] {
            let e = BIG.parse(bad).unwrap_err();
            assert!(
                e.contains("comma only ever separates values") && e.contains("1_000"),
                "{bad}: {e}"
            );
        }
    }

    #[test]
    fn a_blank_program_is_refused() {
        let cmd = ParamSpec {
            key: "cmd",
            kind: ParamKind::Command { max_len: 256 },
            default: "sort",
            help: "",
        };
        for blank in ["''", "\"\"", "'' -r", "' ' x", "\"\t\""] {
            let e = cmd.parse(blank).unwrap_err();
            assert!(
                e.contains("`cmd`") && e.contains("blank") && e.contains("a command line"),
                "{blank}: {e}"
            );
        }
        assert!(cmd.parse("x ''").is_ok(), "an empty argument is fine");
    }

    #[test]
    fn a_key_given_twice_is_refused() {
        let e = Params::from_assignments(SPECS, &["n=2", "mode=b", " n = 3"]).unwrap_err();
        assert!(
            e.contains("`n` is given twice") && e.contains("n=2, then n=3"),
            "{e}"
        );
    }

    #[test]
    fn quoted_input_is_bounded_and_printable() {
        let long = "9".repeat(10_000);
        for (assignment, at_most) in [
            (format!("n={long}"), 200),
            (format!("mode={long}"), 200),
            (format!("{long}=1"), 200),
            (long.clone(), 200),
        ] {
            let e = Params::from_assignments(SPECS, &[assignment]).unwrap_err();
            assert!(e.len() < at_most, "{} bytes: {e}", e.len());
            assert!(e.contains("10000 characters"), "{e}");
        }
        let e = Params::from_assignments(SPECS, &["mode=a\u{1b}[2Jb"]).unwrap_err();
        assert!(e.contains("`a·[2Jb`") && !e.contains('\u{1b}'), "{e}");
    }

    /// The parser against any text: it never panics, and a value it accepts, written back the
    /// way `assignments()` and the form write it, reads back as the same value.
    mod properties {
        use super::*;
        use proptest::prelude::*;

        /// One parameter of every kind.
        const ALL_KINDS: &[ParamSpec] = &[
            ParamSpec {
                key: "mode",
                kind: ParamKind::Choice(&["nolock", "lock", "atomic"]),
                default: "nolock",
                help: "",
            },
            ParamSpec {
                key: "iterations",
                kind: ParamKind::Int {
                    min: -5,
                    max: 2_000_000_000,
                },
                default: "1000000",
                help: "",
            },
            ParamSpec {
                key: "workers",
                kind: ParamKind::IntOrCores { min: 1, max: 256 },
                default: "cores",
                help: "",
            },
            ParamSpec {
                key: "name",
                kind: ParamKind::Text { max_len: 15 },
                default: "thread-01",
                help: "",
            },
            ParamSpec {
                key: "cmd",
                kind: ParamKind::Command { max_len: 256 },
                default: "sort",
                help: "",
            },
            ParamSpec {
                key: "items",
                kind: ParamKind::List {
                    max_items: 16,
                    max_len: 64,
                },
                default: "A,B,C",
                help: "",
            },
        ];

        /// Any text, control characters included, and text made of the characters the
        /// grammar gives a meaning to, which random text seldom hits.
        fn text() -> impl Strategy<Value = String> {
            prop_oneof![
                proptest::collection::vec(any::<char>(), 0..40).prop_map(String::from_iter),
                "[-+0-9_, ='\"\\a-z]{0,24}",
            ]
        }

        /// `1234567` as `1_234_567`.
        fn grouped(n: i64) -> String {
            group_thousands(n).replace(',', "_")
        }

        proptest! {
            #[test]
            fn any_text_parses_or_is_refused_and_what_parses_reads_back(t in text()) {
                for spec in ALL_KINDS {
                    if let Ok(value) = spec.parse(&t) {
                        prop_assert_eq!(spec.parse(&value.to_string()), Ok(value));
                    }
                }
            }

            #[test]
            fn any_assignments_parse_or_are_refused_and_what_parses_reads_back(
                assignments in proptest::collection::vec(
                    prop_oneof![
                        text(),
                        (proptest::sample::select(ALL_KINDS), text())
                            .prop_map(|(spec, t)| format!("{}={t}", spec.key)),
                    ],
                    0..6,
                )
            ) {
                if let Ok(params) = Params::from_assignments(ALL_KINDS, &assignments) {
                    prop_assert_eq!(
                        Params::from_assignments(ALL_KINDS, &params.assignments()),
                        Ok(params)
                    );
                }
            }

            #[test]
            fn integers_in_range_read_plain_or_grouped(n in -5..=2_000_000_000i64) {
                let spec = &ALL_KINDS[1];
                prop_assert_eq!(spec.parse(&n.to_string()), Ok(Value::Int(n)));
                prop_assert_eq!(spec.parse(&grouped(n)), Ok(Value::Int(n)));
                prop_assert!(spec.parse(&group_thousands(n)).is_ok() == (n.abs() < 1000));
            }
        }

        use crate::metrics::group_thousands;
    }
}
