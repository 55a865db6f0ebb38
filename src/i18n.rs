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

/// A fixed word or phrase in both languages, for tables made at compile time (a panel's
/// labels declared with its scenario).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Term {
    pub en: &'static str,
    pub zh: &'static str,
}

impl Term {
    pub const fn new(en: &'static str, zh: &'static str) -> Term {
        Term { en, zh }
    }

    /// The term in `lang`, or in English where there is no translation.
    pub fn get(self, lang: Lang) -> &'static str {
        match lang {
            Lang::Zh if !self.zh.is_empty() => self.zh,
            _ => self.en,
        }
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
}
