//! The keymap is the whole truth about keys: in every context, a key the table binds does
//! something to the dashboard, and a key it does not bind does nothing at all. Every key a
//! keyboard sends, with every modifier, is pressed on dashboards in each context.

mod common;

use common::view::{dashboard, exited, press};
use conlab::app::{App, Effect, Msg};
use conlab::keymap::{self, Context};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// Every key worth pressing: printable ASCII, a few wider characters, and the named keys.
fn every_key() -> Vec<KeyEvent> {
    let mut codes: Vec<KeyCode> = (' '..='~').chain(['é', '进']).map(KeyCode::Char).collect();
    codes.extend([
        KeyCode::Enter,
        KeyCode::Esc,
        KeyCode::Tab,
        KeyCode::BackTab,
        KeyCode::Backspace,
        KeyCode::Up,
        KeyCode::Down,
        KeyCode::Left,
        KeyCode::Right,
        KeyCode::PageUp,
        KeyCode::PageDown,
        KeyCode::Home,
        KeyCode::End,
        KeyCode::Insert,
        KeyCode::Delete,
    ]);
    codes.extend((1..=12).map(KeyCode::F));
    let modifiers = [
        KeyModifiers::NONE,
        KeyModifiers::SHIFT,
        KeyModifiers::CONTROL,
        KeyModifiers::ALT,
    ];
    codes
        .into_iter()
        .flat_map(|code| modifiers.map(|m| KeyEvent::new(code, m)))
        .collect()
}

/// The lock lesson selected (neither first nor last in the menu), its run going.
fn running() -> App {
    let mut app = dashboard("lock", 80, 24);
    assert_eq!(press(&mut app, KeyCode::Enter), vec![Effect::Start(1)]);
    app
}

/// The compare view with its first variant running.
fn comparing() -> App {
    let mut app = dashboard("lock", 80, 24);
    assert_eq!(press(&mut app, KeyCode::Char('c')), vec![Effect::Start(1)]);
    app
}

/// The compare view with every variant done.
fn compared() -> App {
    let mut app = comparing();
    exited(&mut app, 1, "code 0");
    exited(&mut app, 2, "code 0");
    exited(&mut app, 3, "code 0");
    app
}

/// A program being watched (`conlab watch -- true`), its runner going.
fn watching() -> App {
    let mut app = dashboard("lock", 80, 24);
    let params = conlab::params::Params::defaults(conlab::watch::PARAMS);
    assert_eq!(app.update(Msg::Watch(params)), vec![Effect::Start(1)]);
    app
}

/// The watched program has ended: its summary stays.
fn watched() -> App {
    let mut app = watching();
    exited(&mut app, 1, "code 0");
    app
}

/// A dashboard in `context`, in the states that together let every bound key show.
fn states(context: Context) -> Vec<App> {
    let opened = |key: char| {
        let mut app = running();
        press(&mut app, KeyCode::Char(key));
        app
    };
    let apps = match context {
        // Not a context of its own: its keys are in every other one.
        Context::Anywhere => vec![],
        Context::TooSmall => {
            let mut app = running();
            app.update(Msg::Resize(79, 24));
            vec![app]
        }
        Context::Main => vec![running()],
        Context::Compare => vec![comparing(), compared()],
        Context::Watch => vec![watching(), watched()],
        Context::Form => vec![opened('e')],
        Context::Help => vec![opened('?')],
        Context::Lesson => vec![opened('l')],
        Context::Report => vec![opened('r')],
        Context::EventLog => vec![opened('v')],
        Context::Replay => {
            let mut app = running();
            app.replaying = true;
            vec![app]
        }
    };
    for app in &apps {
        assert_eq!(app.key_context(), context);
    }
    apps
}

#[test]
fn a_key_does_something_exactly_when_the_table_binds_it() {
    let keys = every_key();
    for context in Context::ALL.into_iter().filter(|c| *c != Context::Anywhere) {
        for key in &keys {
            let bound = keymap::action(context, key).is_some();
            let mut changed = false;
            for mut app in states(context) {
                let before = format!("{app:?}");
                let effects = app.update(Msg::Key(*key));
                changed |= !effects.is_empty() || format!("{app:?}") != before;
            }
            assert_eq!(
                changed,
                bound,
                "{context:?}: {key:?} is {} in the keymap but {} to the dashboard",
                if bound { "bound" } else { "not bound" },
                if changed {
                    "does something"
                } else {
                    "does nothing"
                },
            );
        }
    }
}
