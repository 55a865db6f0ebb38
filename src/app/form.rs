//! The parameter form (`e`): one field per parameter, each held to its parameter's
//! [`Capacity`] as it is typed or pasted, validated on apply.

use super::field::Capacity;
use crate::i18n::Lang;
use crate::keymap::{self, Action, Context, FormAction};
use crate::metrics::group_thousands;
use crate::params::{ParamKind, ParamSpec, Params};
use crossterm::event::{KeyCode, KeyEvent};

#[derive(Debug, Clone, PartialEq)]
pub struct Form {
    pub specs: &'static [ParamSpec],
    /// The text of each field, in the order of `specs`.
    pub fields: Vec<String>,
    pub focus: usize,
    /// Why the last apply was refused.
    pub error: Option<String>,
    /// What the last key or paste could not do (a full field, characters dropped), until the
    /// next key.
    pub notice: Option<String>,
    /// The language of its notices (it stays while the form is open: `L` is typed there).
    pub lang: Lang,
}

crate::i18n::phrases! {
    pub WORDS {
        full: "`{key}` is full ({limit}): `{c}` was not added" => "`{key}` 已满（{limit}）：`{c}` 没有加进去",
        pasted: "pasted {taken} of {offered} characters: `{key}` holds {limit}"
            => "粘贴了 {offered} 个字符中的 {taken} 个：`{key}` {limit}",
        dropped: "dropped {n} line breaks and control characters: a field is one line"
            => "去掉了 {n} 个换行和控制字符：一个字段只有一行",
    }
}

/// What a key did to the form.
#[derive(Debug, PartialEq)]
pub enum FormOutcome {
    Editing,
    Cancelled,
    Applied(Params),
}

/// The most characters of a quoted value a message keeps: quoting a long field back whole
/// would push the rest of the form off the screen.
const QUOTED_MAX: usize = 24;

/// `message` with every `quoted` value cut to [`QUOTED_MAX`] characters, as every message
/// quotes input (see `text_safe::quoted`), only shorter.
fn elide_quoted(message: &str) -> String {
    message
        .split('`')
        .enumerate()
        .map(|(i, part)| match i % 2 {
            0 => part.to_string(),
            _ => crate::text_safe::cut(part, QUOTED_MAX).into_owned(),
        })
        .collect::<Vec<_>>()
        .join("`")
}

impl Form {
    pub fn new(specs: &'static [ParamSpec], current: &Params) -> Form {
        let fields = specs
            .iter()
            .map(|s| {
                current
                    .get(s.key)
                    .map(|v| v.to_string())
                    .unwrap_or_default()
            })
            .collect();
        Form {
            specs,
            fields,
            focus: 0,
            error: None,
            notice: None,
            lang: Lang::En,
        }
    }

    /// The form with its notices in `lang`.
    pub fn in_lang(mut self, lang: Lang) -> Form {
        self.lang = lang;
        self
    }

    /// A key, as the keymap's form rows say.
    pub fn key(&mut self, key: KeyEvent) -> FormOutcome {
        let spec = self.specs[self.focus];
        self.notice = None;
        let Some(Action::Form(action)) = keymap::action(Context::Form, &key) else {
            return FormOutcome::Editing;
        };
        match action {
            FormAction::Cancel => return FormOutcome::Cancelled,
            FormAction::Apply => match self.validate() {
                Ok(params) => return FormOutcome::Applied(params),
                Err(e) => self.error = Some(elide_quoted(&e)),
            },
            FormAction::PreviousField => {
                self.focus = self.focus.checked_sub(1).unwrap_or(self.specs.len() - 1)
            }
            FormAction::NextField => self.focus = (self.focus + 1) % self.specs.len(),
            FormAction::PreviousChoice | FormAction::NextChoice => {
                self.cycle_choice(&spec, action == FormAction::NextChoice)
            }
            FormAction::DeleteChar => {
                self.fields[self.focus].pop();
            }
            FormAction::Type => match key.code {
                KeyCode::Char(c) if !c.is_control() && !self.push(c) => {
                    let limit = self.capacity().describe(self.lang);
                    self.notice = Some(WORDS.full.with(
                        self.lang,
                        &[("key", &spec.key), ("limit", &limit), ("c", &c)],
                    ));
                }
                _ => {}
            },
        }
        FormOutcome::Editing
    }

    /// Pasted text goes into the focused field as if typed, up to the field's capacity: the
    /// part that fits is taken, the rest refused. Line breaks, tabs and other control
    /// characters are dropped (a field is one line, and they would be keys otherwise); the
    /// notice says what was cut or dropped, and why.
    pub fn paste(&mut self, text: &str) {
        let mut offered = 0usize;
        let mut taken = 0usize;
        let mut dropped = 0usize;
        for c in text.chars() {
            if c.is_control() {
                dropped += 1;
                continue;
            }
            offered += 1;
            // Once a character is refused the rest is too: a paste never skips a part.
            if taken + 1 == offered && self.push(c) {
                taken += 1;
            }
        }
        let mut said = Vec::new();
        if taken < offered {
            said.push(WORDS.pasted.with(
                self.lang,
                &[
                    ("taken", &group_thousands(taken as i64)),
                    ("offered", &group_thousands(offered as i64)),
                    ("key", &self.specs[self.focus].key),
                    ("limit", &self.capacity().describe(self.lang)),
                ],
            ));
        }
        if dropped > 0 {
            said.push(WORDS.dropped.with(self.lang, &[("n", &dropped)]));
        }
        let and = match self.lang {
            Lang::En => "; ",
            Lang::Zh => "；",
        };
        self.notice = (!said.is_empty()).then(|| said.join(and));
    }

    /// What the focused field may hold.
    pub fn capacity(&self) -> Capacity {
        Capacity::of(&self.specs[self.focus])
    }

    /// Adds `c` to the focused field if it fits; whether it did.
    fn push(&mut self, c: char) -> bool {
        let fits = self.capacity().fits(&self.fields[self.focus], c);
        if fits {
            self.fields[self.focus].push(c);
        }
        fits
    }

    fn cycle_choice(&mut self, spec: &ParamSpec, forward: bool) {
        let ParamKind::Choice(words) = spec.kind else {
            return;
        };
        let current = words
            .iter()
            .position(|w| *w == self.fields[self.focus])
            .unwrap_or(0);
        let next = if forward {
            (current + 1) % words.len()
        } else {
            (current + words.len() - 1) % words.len()
        };
        self.fields[self.focus] = words[next].to_string();
    }

    /// All fields as parameters, or the first field's error.
    pub fn validate(&self) -> Result<Params, String> {
        let mut params = Params::defaults(self.specs);
        for (spec, text) in self.specs.iter().zip(&self.fields) {
            params.set(self.specs, spec.key, text)?;
        }
        Ok(params)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossterm::event::KeyModifiers;

    fn press(form: &mut Form, code: KeyCode) -> FormOutcome {
        form.key(KeyEvent::new(code, KeyModifiers::NONE))
    }

    #[test]
    fn cycles_choices_and_refuses_bad_numbers() {
        let specs = crate::scenarios::find("lock").unwrap().params;
        let mut form = Form::new(specs, &Params::defaults(specs));
        press(&mut form, KeyCode::Right);
        assert_eq!(form.fields[0], "lock");
        press(&mut form, KeyCode::Down);
        press(&mut form, KeyCode::Backspace);
        press(&mut form, KeyCode::Char('0'));
        press(&mut form, KeyCode::Char('0'));
        assert_eq!(press(&mut form, KeyCode::Enter), FormOutcome::Editing);
        assert!(
            form.error.as_deref().unwrap().contains("from 1 to 64"),
            "{:?}",
            form.error
        );
        press(&mut form, KeyCode::Backspace);
        press(&mut form, KeyCode::Backspace);
        press(&mut form, KeyCode::Backspace);
        press(&mut form, KeyCode::Char('4'));
        let FormOutcome::Applied(p) = press(&mut form, KeyCode::Enter) else {
            panic!("not applied")
        };
        assert_eq!((p.word("mode"), p.int("threads")), ("lock", 4));
    }

    #[test]
    fn a_long_value_is_cut_short_when_quoted_back() {
        let mut form = empty_field("queue", "items");
        form.paste(&"AB,".repeat(20));
        press(&mut form, KeyCode::Enter);
        let error = form.error.clone().expect("refused: an empty item");
        assert!(
            error.starts_with("`items`: `AB,AB,AB,AB,AB,AB,AB,AB,…` is not valid; use 1 to 16"),
            "{error}"
        );
        assert_eq!(elide_quoted("`k`: `short` x"), "`k`: `short` x");
    }

    /// The form of `scenario` with the focus on `key`, its field emptied.
    fn empty_field(scenario: &str, key: &str) -> Form {
        let specs = crate::scenarios::find(scenario).unwrap().params;
        let mut form = Form::new(specs, &Params::defaults(specs));
        form.focus = specs.iter().position(|s| s.key == key).unwrap();
        form.fields[form.focus].clear();
        form
    }

    #[test]
    fn typing_stops_at_the_fields_capacity_and_says_so() {
        let mut form = empty_field("lock", "iterations");
        for _ in 0..3000 {
            press(&mut form, KeyCode::Char('9'));
        }
        assert_eq!(form.fields[2], "9".repeat(10), "ten digits: 2,000,000,000");
        let notice = form.notice.clone().expect("a notice");
        assert!(
            notice.contains("`iterations` is full (at most 10 digits"),
            "{notice}"
        );
        press(&mut form, KeyCode::Backspace);
        assert_eq!(form.notice, None, "the next key clears it");
        assert_eq!(form.fields[2].len(), 9);
        // A form opened in Chinese says so in Chinese.
        let mut form = empty_field("lock", "iterations").in_lang(Lang::Zh);
        for _ in 0..11 {
            press(&mut form, KeyCode::Char('9'));
        }
        let notice = form.notice.clone().expect("a notice");
        assert!(
            notice.starts_with("`iterations` 已满（最多 10 位数字"),
            "{notice}"
        );
        form.paste("12\n");
        assert_eq!(
            form.notice.as_deref(),
            Some(
                "粘贴了 2 个字符中的 0 个：`iterations` 最多 10 位数字，连分隔符 13 个字符；去掉了 1 个换行和控制字符：一个字段只有一行"
            )
        );

        let mut form = empty_field("process", "name");
        for _ in 0..3000 {
            press(&mut form, KeyCode::Char('é'));
        }
        assert_eq!(form.fields[0], "é".repeat(32), "64 bytes");
    }

    #[test]
    fn a_paste_is_taken_up_to_the_capacity_without_control_characters() {
        let mut form = empty_field("process", "name");
        let text = format!("{}0123456{}", "a".repeat(57), "b".repeat(1936));
        form.paste(&text);
        assert_eq!(form.fields[0], format!("{}0123456", "a".repeat(57)));
        assert_eq!(
            form.notice.as_deref(),
            Some("pasted 64 of 2,000 characters: `name` holds at most 64 bytes")
        );

        let mut form = empty_field("lock", "threads");
        form.paste("1\r\n6\t\n");
        assert_eq!(form.fields[1], "16");
        assert_eq!(
            form.notice.as_deref(),
            Some("dropped 4 line breaks and control characters: a field is one line")
        );
        form.fields[1].clear();
        form.paste("64");
        assert_eq!(
            (form.fields[1].as_str(), form.notice.as_deref()),
            ("64", None)
        );

        // A refused character ends the paste: nothing after it is taken, even if it fits.
        let mut form = empty_field("process", "name");
        form.paste(&"a".repeat(63));
        form.paste("éa");
        assert_eq!(
            form.fields[0],
            "a".repeat(63),
            "é needs two bytes, one is left"
        );
    }
}
