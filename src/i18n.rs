//! The two languages conlab speaks: English, and Chinese — the tutorial's language and its
//! readers' — with the tutorial's own terms (进程池, 进程间通信, 死锁 …). Figures, keys and JSON
//! names are the same in both.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub enum Lang {
    #[default]
    En,
    Zh,
}

impl Lang {
    /// What the environment asks for, as the C library reads it: `LC_ALL`, then
    /// `LC_MESSAGES`, then `LANG`; a `zh…` locale is Chinese, anything else English.
    pub fn from_env() -> Lang {
        let get = |key| std::env::var(key).ok().filter(|v| !v.is_empty());
        let locale = get("LC_ALL")
            .or_else(|| get("LC_MESSAGES"))
            .or_else(|| get("LANG"));
        Lang::of_locale(locale.as_deref().unwrap_or(""))
    }

    /// `zh_CN.UTF-8` → Chinese; `en_US.UTF-8`, `C`, `` → English.
    pub fn of_locale(locale: &str) -> Lang {
        if locale.to_ascii_lowercase().starts_with("zh") {
            Lang::Zh
        } else {
            Lang::En
        }
    }

    /// `en` or `zh` (also `english`, `chinese`, `中文`), or a message naming both.
    pub fn parse(word: &str) -> Result<Lang, String> {
        match word.trim().to_ascii_lowercase().as_str() {
            "en" | "english" => Ok(Lang::En),
            "zh" | "chinese" | "中文" => Ok(Lang::Zh),
            _ => Err(format!(
                "{} is not a language conlab speaks; valid: en, zh",
                crate::text_safe::quoted(word)
            )),
        }
    }

    /// The other one (the language key switches between the two).
    pub fn other(self) -> Lang {
        match self {
            Lang::En => Lang::Zh,
            Lang::Zh => Lang::En,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Zh => "zh",
        }
    }
}

/// A text in both languages. An empty `zh` means it was not translated; it is shown in English.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Text {
    pub en: String,
    pub zh: String,
}

impl Text {
    pub fn new(en: impl Into<String>, zh: impl Into<String>) -> Text {
        Text {
            en: en.into(),
            zh: zh.into(),
        }
    }

    /// The text in `lang`, or in English where there is no translation.
    pub fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::Zh if !self.zh.is_empty() => &self.zh,
            _ => &self.en,
        }
    }

    pub fn is_translated(&self) -> bool {
        !self.zh.is_empty()
    }
}

/// English only, for now: shown in English in both languages until it is translated.
impl From<String> for Text {
    fn from(en: String) -> Text {
        Text {
            en,
            zh: String::new(),
        }
    }
}

impl From<&str> for Text {
    fn from(en: &str) -> Text {
        Text::from(en.to_string())
    }
}

/// A fixed text in both languages: the dashboard's own words, as `const`s (where [`Text`]
/// holds owned strings). `{name}` marks a figure filled in with [`Phrase::with`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Phrase {
    pub en: &'static str,
    pub zh: &'static str,
}

impl Phrase {
    pub const fn new(en: &'static str, zh: &'static str) -> Phrase {
        Phrase { en, zh }
    }

    pub fn get(self, lang: Lang) -> &'static str {
        match lang {
            Lang::En => self.en,
            Lang::Zh => self.zh,
        }
    }

    /// The text in `lang` with each `{name}` replaced by its figure.
    pub fn with(self, lang: Lang, figures: &[(&str, &dyn std::fmt::Display)]) -> String {
        let mut out = self.get(lang).to_string();
        for (name, value) in figures {
            out = out.replace(&format!("{{{name}}}"), &value.to_string());
        }
        out
    }

    /// The `{name}`s the text in `lang` has room for, in order.
    pub fn placeholders(self, lang: Lang) -> Vec<&'static str> {
        let mut rest = self.get(lang);
        let mut names = Vec::new();
        while let Some(open) = rest.find('{') {
            let Some(close) = rest[open..].find('}') else {
                break;
            };
            names.push(&rest[open + 1..open + close]);
            rest = &rest[open + close + 1..];
        }
        names
    }
}

/// A table of words in both languages: a struct with one [`Phrase`] per field, its one value
/// `$name`, and [`all`](#method.all) to list every entry by its field's name, so a test can
/// hold the two languages to each other.
///
/// ```ignore
/// phrases! {
///     pub WORDS {
///         idle: "idle" => "空闲",
///     }
/// }
/// WORDS.idle.get(lang)
/// ```
macro_rules! phrases {
    ($vis:vis $name:ident { $($(#[$doc:meta])* $field:ident: $en:literal => $zh:literal,)* }) => {
        /// This module's words in both languages.
        #[derive(Debug, Clone, Copy)]
        $vis struct Phrases {
            $($(#[$doc])* pub $field: $crate::i18n::Phrase,)*
        }

        $vis const $name: Phrases = Phrases {
            $($field: $crate::i18n::Phrase::new($en, $zh),)*
        };

        impl Phrases {
            /// Every entry, by its name.
            pub fn all(&self) -> Vec<(&'static str, $crate::i18n::Phrase)> {
                vec![$((stringify!($field), self.$field),)*]
            }
        }
    };
}
pub(crate) use phrases;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locales_and_words() {
        assert_eq!(Lang::of_locale("zh_CN.UTF-8"), Lang::Zh);
        assert_eq!(Lang::of_locale("zh_TW"), Lang::Zh);
        assert_eq!(Lang::of_locale("en_US.UTF-8"), Lang::En);
        assert_eq!(Lang::of_locale("C"), Lang::En);
        assert_eq!(Lang::of_locale(""), Lang::En);
        assert_eq!(Lang::parse("ZH"), Ok(Lang::Zh));
        assert_eq!(Lang::parse("中文"), Ok(Lang::Zh));
        let e = Lang::parse("fr").unwrap_err();
        assert!(e.contains("en, zh"), "{e}");
        assert_eq!(Lang::En.other(), Lang::Zh);
    }

    #[test]
    fn untranslated_text_shows_in_english() {
        let t = Text::from("done");
        assert_eq!((t.get(Lang::En), t.get(Lang::Zh)), ("done", "done"));
        assert!(!t.is_translated());
        let t = Text::new("done", "完成");
        assert_eq!(t.get(Lang::Zh), "完成");
    }

    #[test]
    fn phrases_fill_their_figures_in_either_language() {
        let p = Phrase::new("{n} runs of {id}", "{id} 运行了 {n} 次");
        assert_eq!(
            p.with(Lang::En, &[("n", &3), ("id", &"lock")]),
            "3 runs of lock"
        );
        assert_eq!(
            p.with(Lang::Zh, &[("n", &3), ("id", &"lock")]),
            "lock 运行了 3 次"
        );
        assert_eq!(p.placeholders(Lang::En), ["n", "id"]);
        assert_eq!(p.placeholders(Lang::Zh), ["id", "n"]);
    }
}
