//! Every key the dashboard answers, in one table: where it works, what it does, and the words
//! for it. The model reads the actions ([`action`]), the view the words (the help overlay and
//! every footer hint), so a key cannot do one thing and be described as another.
//!
//! It sits below both model and view and imports neither, so both read it without the model
//! importing the view (which is why it is not in `tui/`, above them both). Figures the words
//! mention are placeholders the view fills from where they are defined: `{grace}` (the
//! cancel grace period) and `{kept}` (how many events the log keeps).

use Action as A;
use Context as C;
use KeyCode::{BackTab, Backspace, Down, Enter, Esc, Left, PageDown, PageUp, Right, Tab, Up};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// Where the dashboard is when a key arrives; one context at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Context {
    /// Not a context of its own: the keys that work in every one.
    Anywhere,
    /// The screen is below the size the panels need.
    TooSmall,
    /// The menu and the selected scenario's panel.
    Main,
    /// The compare view.
    Compare,
    /// The parameter form.
    Form,
    Help,
    Lesson,
    EventLog,
}

impl Context {
    pub const ALL: [Context; 8] = [
        Context::Anywhere,
        Context::TooSmall,
        Context::Main,
        Context::Compare,
        Context::Form,
        Context::Help,
        Context::Lesson,
        Context::EventLog,
    ];
}

/// What a key asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Quit,
    Suspend,
    SelectPrevious,
    SelectNext,
    Run,
    Edit,
    /// Stop the run (in compare: the running variants).
    Stop,
    OpenCompare,
    Lesson,
    Events,
    Help,
    ToggleThreads,
    ProcessesPageUp,
    ProcessesPageDown,
    /// In compare: run every variant again.
    Rerun,
    /// In compare: one after another, or all at once.
    RaceMode,
    /// In compare: stop the running variants, or close the view when none runs.
    StopOrClose,
    CloseCompare,
    /// In a scrolling view: a line, or ten.
    ScrollUp,
    ScrollDown,
    ScrollPageUp,
    ScrollPageDown,
    /// Close the overlay.
    Close,
    Form(FormAction),
}

/// What a key asks of the parameter form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormAction {
    Apply,
    Cancel,
    NextField,
    PreviousField,
    PreviousChoice,
    NextChoice,
    DeleteChar,
    /// Type the key's character into the focused field.
    Type,
}

/// A key as the table names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    /// This key, whatever modifiers come with it (Shift makes `?`; a terminal may add Alt).
    Code(KeyCode),
    /// The letter with Ctrl held.
    Ctrl(char),
    /// Any character without a binding of its own in the context.
    AnyChar,
    /// Any key without a binding of its own in the context.
    Any,
}

impl Key {
    fn matches(self, key: &KeyEvent) -> bool {
        match self {
            Key::Code(code) => key.code == code,
            Key::Ctrl(c) => {
                key.code == KeyCode::Char(c) && key.modifiers.contains(KeyModifiers::CONTROL)
            }
            Key::AnyChar => matches!(key.code, KeyCode::Char(_)),
            Key::Any => true,
        }
    }

    fn is_wildcard(self) -> bool {
        matches!(self, Key::AnyChar | Key::Any)
    }
}

/// Words for some keys: the keys as written, and what they do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Words {
    pub keys: &'static str,
    pub does: &'static str,
}

impl Words {
    /// `e edit`; `↑↓` alone when the keys say it all.
    pub fn hint(&self) -> String {
        if self.does.is_empty() {
            self.keys.to_string()
        } else {
            format!("{} {}", self.keys, self.does)
        }
    }
}

/// One row of the table: keys bound to actions in some contexts, with the line the help
/// shows for them and the hint a footer shows.
#[derive(Debug)]
pub struct Binding {
    pub contexts: &'static [Context],
    pub keys: &'static [(Key, Action)],
    pub help: Option<Words>,
    pub hint: Option<Words>,
}

const fn words(keys: &'static str, does: &'static str) -> Option<Words> {
    Some(Words { keys, does })
}

const fn letter(c: char) -> Key {
    Key::Code(KeyCode::Char(c))
}

const fn code(code: KeyCode) -> Key {
    Key::Code(code)
}

const DASHBOARD: &[Context] = &[C::Main, C::Compare];
const SCROLLING_OVERLAYS: &[Context] = &[C::Lesson, C::EventLog];

/// The table. Rows with help words appear in the help in this order.
pub const KEYMAP: &[Binding] = &[
    Binding {
        contexts: &[C::Main],
        keys: &[
            (code(Up), A::SelectPrevious),
            (code(Down), A::SelectNext),
            (letter('k'), A::SelectPrevious),
            (letter('j'), A::SelectNext),
        ],
        help: words("↑ ↓  j k", "select a scenario (or click it)"),
        hint: words("↑↓", "select"),
    },
    Binding {
        contexts: &[C::Main],
        keys: &[(code(Enter), A::Run)],
        help: words("Enter", "run the selected scenario"),
        hint: words("Enter", "run"),
    },
    Binding {
        contexts: &[C::Main],
        keys: &[(letter('e'), A::Edit)],
        help: words(
            "e",
            "edit its parameters (Tab moves, ←→ cycles choices, Enter applies)",
        ),
        hint: words("e", "edit"),
    },
    Binding {
        contexts: &[C::Main],
        keys: &[(letter('s'), A::Stop), (code(Esc), A::Stop)],
        help: words(
            "s  Esc",
            "stop the run: SIGTERM to its process group, SIGKILL after {grace}",
        ),
        hint: words("s", "stop"),
    },
    Binding {
        contexts: &[C::Main],
        keys: &[(letter('c'), A::OpenCompare)],
        help: words("c", "compare its variants side by side (runs them)"),
        hint: words("c", "compare"),
    },
    Binding {
        contexts: &[C::Compare],
        keys: &[(letter('r'), A::Rerun), (code(Enter), A::Rerun)],
        help: words("  r", "in compare: run again"),
        hint: words("r", "rerun"),
    },
    Binding {
        contexts: &[C::Compare],
        keys: &[(letter('m'), A::RaceMode)],
        help: words(
            "  m",
            "in compare: one after another ⇄ all at once (a race)",
        ),
        hint: words("m", "race/one by one"),
    },
    Binding {
        contexts: &[C::Compare],
        keys: &[
            (code(Up), A::ScrollUp),
            (code(Down), A::ScrollDown),
            (letter('k'), A::ScrollUp),
            (letter('j'), A::ScrollDown),
        ],
        help: words(
            "  ↑↓ j k",
            "in compare: scroll the verdicts when they do not fit",
        ),
        hint: words("↑↓", ""),
    },
    Binding {
        contexts: &[C::Compare],
        keys: &[(letter('s'), A::Stop)],
        help: None,
        hint: words("s", "stop"),
    },
    Binding {
        contexts: &[C::Compare],
        keys: &[(code(Esc), A::StopOrClose)],
        help: None,
        hint: words("Esc", "close"),
    },
    Binding {
        contexts: &[C::Compare],
        keys: &[(letter('c'), A::CloseCompare)],
        help: None,
        hint: None,
    },
    Binding {
        contexts: DASHBOARD,
        keys: &[(letter('t'), A::ToggleThreads)],
        help: words(
            "t",
            "show/hide each process's threads (TID, name, core, switches)",
        ),
        hint: words("t", "shows threads"),
    },
    Binding {
        contexts: DASHBOARD,
        keys: &[
            (code(PageUp), A::ProcessesPageUp),
            (code(PageDown), A::ProcessesPageDown),
        ],
        help: words(
            "PgUp PgDn",
            "scroll the processes panel (the mouse wheel over it too)",
        ),
        hint: words("PgUp PgDn", ""),
    },
    Binding {
        contexts: &[C::Main],
        keys: &[(letter('l'), A::Lesson)],
        help: words("l", "read the whole lesson"),
        hint: words("l", "lesson"),
    },
    Binding {
        contexts: DASHBOARD,
        keys: &[(letter('v'), A::Events)],
        help: words(
            "v",
            "every event of the session (the last {kept}), to scroll back",
        ),
        hint: words("v", "events"),
    },
    Binding {
        contexts: DASHBOARD,
        keys: &[(letter('?'), A::Help)],
        help: words("?", "this help"),
        hint: words("?", "help"),
    },
    Binding {
        contexts: &[C::Anywhere],
        keys: &[(Key::Ctrl('z'), A::Suspend)],
        help: words(
            "Ctrl-Z",
            "suspend to the shell (fg resumes); runs go on meanwhile",
        ),
        hint: None,
    },
    Binding {
        contexts: &[C::Anywhere],
        keys: &[(Key::Ctrl('c'), A::Quit)],
        help: words(
            "q  Ctrl-C",
            "quit: stops every run and restores the terminal",
        ),
        hint: None,
    },
    Binding {
        contexts: &[C::Main, C::Compare, C::Help, C::Lesson, C::EventLog],
        keys: &[(letter('q'), A::Quit)],
        help: None,
        hint: words("q", "quit"),
    },
    Binding {
        contexts: &[C::TooSmall],
        keys: &[(letter('q'), A::Quit)],
        help: None,
        hint: words("q", "to quit"),
    },
    Binding {
        contexts: SCROLLING_OVERLAYS,
        keys: &[
            (code(Up), A::ScrollUp),
            (code(Down), A::ScrollDown),
            (letter('k'), A::ScrollUp),
            (letter('j'), A::ScrollDown),
            (code(PageUp), A::ScrollPageUp),
            (code(PageDown), A::ScrollPageDown),
        ],
        help: None,
        hint: words("↑↓ PgUp PgDn", ""),
    },
    Binding {
        contexts: SCROLLING_OVERLAYS,
        keys: &[(Key::Any, A::Close)],
        help: None,
        hint: words("any other key", "closes"),
    },
    Binding {
        contexts: &[C::Help],
        keys: &[(Key::Any, A::Close)],
        help: None,
        hint: words("Any key", "closes this help."),
    },
    Binding {
        contexts: &[C::Form],
        keys: &[(code(Enter), A::Form(FormAction::Apply))],
        help: None,
        hint: words("Enter", "applies"),
    },
    Binding {
        contexts: &[C::Form],
        keys: &[(code(Esc), A::Form(FormAction::Cancel))],
        help: None,
        hint: words("Esc", "cancels"),
    },
    Binding {
        contexts: &[C::Form],
        keys: &[
            (code(Tab), A::Form(FormAction::NextField)),
            (code(Down), A::Form(FormAction::NextField)),
            (code(BackTab), A::Form(FormAction::PreviousField)),
            (code(Up), A::Form(FormAction::PreviousField)),
        ],
        help: None,
        hint: words("Tab/↑↓", "move"),
    },
    Binding {
        contexts: &[C::Form],
        keys: &[
            (code(Left), A::Form(FormAction::PreviousChoice)),
            (code(Right), A::Form(FormAction::NextChoice)),
        ],
        help: None,
        hint: None,
    },
    Binding {
        contexts: &[C::Form],
        keys: &[(code(Backspace), A::Form(FormAction::DeleteChar))],
        help: None,
        hint: None,
    },
    Binding {
        contexts: &[C::Form],
        keys: &[(Key::AnyChar, A::Form(FormAction::Type))],
        help: None,
        hint: None,
    },
];

/// What `key` does in `context`: a key that works anywhere first, then the context's own
/// keys, then what it does with any other key.
pub fn action(context: Context, key: &KeyEvent) -> Option<Action> {
    let find = |context: Context, wildcard: bool| {
        KEYMAP
            .iter()
            .filter(|b| b.contexts.contains(&context))
            .flat_map(|b| b.keys)
            .find(|(k, _)| k.is_wildcard() == wildcard && k.matches(key))
            .map(|(_, action)| *action)
    };
    find(C::Anywhere, false)
        .or_else(|| find(context, false))
        .or_else(|| find(context, true))
}

/// The footer words for `action` in `context`.
pub fn hint(context: Context, action: Action) -> Option<Words> {
    KEYMAP
        .iter()
        .filter(|b| b.contexts.contains(&context))
        .filter(|b| b.keys.iter().any(|(_, a)| *a == action))
        .find_map(|b| b.hint)
}

/// The key a message names for `action` in `context` (`s` for stop), as its hint writes it.
pub fn key_for(context: Context, action: Action) -> &'static str {
    hint(context, action).map_or("", |w| w.keys)
}

/// `e edit · c compare`: the hints for `actions` in `context`, in that order.
pub fn hints(context: Context, actions: &[Action]) -> String {
    actions
        .iter()
        .filter_map(|a| hint(context, *a))
        .map(|w| w.hint())
        .collect::<Vec<_>>()
        .join(" · ")
}

/// The help's lines, in the table's order; figures still as placeholders.
pub fn help() -> impl Iterator<Item = Words> {
    KEYMAP.iter().filter_map(|b| b.help)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The keys a label names: `s  Esc`, `↑↓ PgUp PgDn`, `Tab/↑↓`, `q  Ctrl-C`, `any other key`.
    fn named(label: &str) -> Vec<Key> {
        if label.eq_ignore_ascii_case("any other key") || label.eq_ignore_ascii_case("any key") {
            return vec![Key::Any];
        }
        label
            .split(|c: char| c.is_whitespace() || c == '/')
            .filter(|t| !t.is_empty())
            .flat_map(|token| match token {
                "Enter" => vec![code(Enter)],
                "Esc" => vec![code(Esc)],
                "Tab" => vec![code(Tab)],
                "PgUp" => vec![code(PageUp)],
                "PgDn" => vec![code(PageDown)],
                "Ctrl-C" => vec![Key::Ctrl('c')],
                "Ctrl-Z" => vec![Key::Ctrl('z')],
                arrows if arrows.chars().all(|c| "↑↓←→".contains(c)) => arrows
                    .chars()
                    .map(|c| match c {
                        '↑' => code(Up),
                        '↓' => code(Down),
                        '←' => code(Left),
                        _ => code(Right),
                    })
                    .collect(),
                one if one.chars().count() == 1 => vec![letter(one.chars().next().unwrap())],
                other => panic!("`{other}` in `{label}` names no key"),
            })
            .collect()
    }

    /// What `key` is bound to in one of `contexts` (or anywhere), row by row.
    fn bound_to(key: Key, contexts: &[Context]) -> Vec<Action> {
        KEYMAP
            .iter()
            .filter(|b| {
                b.contexts
                    .iter()
                    .any(|c| *c == C::Anywhere || contexts.contains(c))
            })
            .flat_map(|b| b.keys)
            .filter(|(k, _)| *k == key)
            .map(|(_, a)| *a)
            .collect()
    }

    #[test]
    fn the_words_name_only_keys_that_do_what_they_say() {
        for row in KEYMAP {
            let actions: Vec<Action> = row.keys.iter().map(|(_, a)| *a).collect();
            // A row for every context may name a key that does the same in some of them.
            let contexts: &[Context] = if row.contexts.contains(&C::Anywhere) {
                &Context::ALL
            } else {
                row.contexts
            };
            for words in [row.help, row.hint].into_iter().flatten() {
                let keys = named(words.keys);
                assert!(!keys.is_empty(), "{row:?}");
                for key in keys {
                    assert!(
                        bound_to(key, contexts).iter().any(|a| actions.contains(a)),
                        "`{}` names {key:?}, which does not do {actions:?} in {:?}",
                        words.keys,
                        row.contexts
                    );
                }
            }
        }
    }

    #[test]
    fn a_key_means_one_thing_in_each_context() {
        for context in Context::ALL {
            let mut seen: Vec<Key> = Vec::new();
            for row in KEYMAP.iter().filter(|b| b.contexts.contains(&context)) {
                for (key, _) in row.keys {
                    assert!(!seen.contains(key), "{key:?} twice in {context:?}");
                    seen.push(*key);
                }
            }
        }
    }

    #[test]
    fn every_context_but_anywhere_has_its_rows_and_a_way_out() {
        for context in Context::ALL.into_iter().filter(|c| *c != C::Anywhere) {
            let quit = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
            assert_eq!(action(context, &quit), Some(A::Quit), "{context:?}");
            assert!(
                KEYMAP.iter().any(|b| b.contexts.contains(&context)),
                "{context:?}"
            );
        }
    }

    #[test]
    fn keys_anywhere_come_first_then_the_contexts_own_then_any_other() {
        let press = |code| KeyEvent::new(code, KeyModifiers::NONE);
        let ctrl = |c| KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL);
        // In the form, Ctrl-C quits rather than typing a `c`; `q` is typed.
        assert_eq!(action(C::Form, &ctrl('c')), Some(A::Quit));
        assert_eq!(
            action(C::Form, &press(KeyCode::Char('q'))),
            Some(A::Form(FormAction::Type))
        );
        assert_eq!(action(C::Form, &press(KeyCode::F(1))), None);
        // In the lesson, ↓ scrolls, `q` quits and anything else closes it.
        assert_eq!(action(C::Lesson, &press(Down)), Some(A::ScrollDown));
        assert_eq!(action(C::Lesson, &press(KeyCode::Char('q'))), Some(A::Quit));
        assert_eq!(action(C::Lesson, &press(KeyCode::F(1))), Some(A::Close));
        // Shift makes `?`; the key still counts.
        let question = KeyEvent::new(KeyCode::Char('?'), KeyModifiers::SHIFT);
        assert_eq!(action(C::Main, &question), Some(A::Help));
        assert_eq!(action(C::TooSmall, &press(Enter)), None);
    }

    #[test]
    fn hints_come_in_the_order_asked_and_leave_out_what_has_none() {
        assert_eq!(
            hints(C::Main, &[A::Lesson, A::Events, A::Rerun, A::Edit]),
            "l lesson · v events · e edit"
        );
        assert_eq!(hints(C::Compare, &[A::ScrollDown]), "↑↓");
    }
}
