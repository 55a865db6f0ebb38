//! The parameter form (`e`): one field per parameter, validated on apply.

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
}

/// What a key did to the form.
#[derive(Debug, PartialEq)]
pub enum FormOutcome {
    Editing,
    Cancelled,
    Applied(Params),
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
        }
    }

    pub fn key(&mut self, key: KeyEvent) -> FormOutcome {
        let spec = self.specs[self.focus];
        match key.code {
            KeyCode::Esc => return FormOutcome::Cancelled,
            KeyCode::Enter => match self.validate() {
                Ok(params) => return FormOutcome::Applied(params),
                Err(e) => self.error = Some(e),
            },
            KeyCode::Up | KeyCode::BackTab => {
                self.focus = self.focus.checked_sub(1).unwrap_or(self.specs.len() - 1)
            }
            KeyCode::Down | KeyCode::Tab => self.focus = (self.focus + 1) % self.specs.len(),
            KeyCode::Left | KeyCode::Right if matches!(spec.kind, ParamKind::Choice(_)) => {
                self.cycle_choice(&spec, key.code == KeyCode::Right)
            }
            KeyCode::Backspace => {
                self.fields[self.focus].pop();
            }
            KeyCode::Char(c) if !c.is_control() => self.fields[self.focus].push(c),
            _ => {}
        }
        FormOutcome::Editing
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
}
