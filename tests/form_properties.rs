//! Properties of the parameter form, over every field of every scenario: whatever is typed or
//! pasted into a field, the field stays within its capacity and nothing panics — not the
//! validation, not the drawing; and a valid value round-trips: the text the form shows for it
//! can be typed whole and parses back to the same value.

use conlab::app::field::Capacity;
use conlab::app::form::{Form, FormOutcome};
use conlab::params::{ParamKind, ParamSpec, Params};
use conlab::scenarios::{self, Scenario};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use proptest::prelude::*;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

/// Every field of every scenario: (scenario, field index).
fn every_field() -> Vec<(&'static Scenario, usize)> {
    scenarios::all()
        .iter()
        .flat_map(|s| (0..s.params.len()).map(move |i| (*s, i)))
        .collect()
}

/// A scenario's form at its defaults, the focus on field `i`.
fn form_on(scenario: &'static Scenario, i: usize) -> Form {
    let mut form = Form::new(scenario.params, &Params::defaults(scenario.params));
    form.focus = i;
    form
}

fn type_text(form: &mut Form, text: &str) {
    for c in text.chars() {
        let outcome = form.key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE));
        assert_eq!(outcome, FormOutcome::Editing);
    }
}

/// Characters a hostile user or a clipboard might send: anything, and more often what the
/// parsers look at (digits, separators, signs, quotes, commas, spaces, line breaks).
fn hostile_char() -> impl Strategy<Value = char> {
    prop_oneof![
        3 => any::<char>(),
        3 => prop::char::range('0', '9'),
        2 => prop::sample::select(vec![',', '_', '-', '+', ' ', '"', '\'', '\\', '\n', '\t', 'é', '日']),
        1 => prop::char::range('a', 'z'),
    ]
}

/// How text reaches a field.
#[derive(Debug, Clone)]
enum Input {
    Typed(String),
    Pasted(String),
}

fn input() -> impl Strategy<Value = Input> {
    let text = || prop::collection::vec(hostile_char(), 0..700).prop_map(String::from_iter);
    prop_oneof![
        text().prop_map(Input::Typed),
        text().prop_map(Input::Pasted)
    ]
}

/// Text that `spec` accepts, as a user might write it.
fn valid_text(spec: ParamSpec) -> BoxedStrategy<String> {
    match spec.kind {
        ParamKind::Int { min, max } => (min..=max)
            .prop_flat_map(|n| {
                prop_oneof![
                    Just(n.to_string()),
                    // Digits grouped as the value grammar allows: with `_`, never `,`.
                    Just(conlab::metrics::group_thousands(n).replace(',', "_"))
                ]
            })
            .boxed(),
        ParamKind::IntOrCores { min, max } => prop_oneof![
            1 => Just("cores".to_string()),
            4 => (min..=max).prop_map(|n| n.to_string()),
        ]
        .boxed(),
        ParamKind::Choice(words) => prop::sample::select(words.to_vec())
            .prop_map(str::to_string)
            .boxed(),
        ParamKind::Text { max_len } => prop::collection::vec(hostile_char(), 0..=max_len)
            .prop_map(String::from_iter)
            .prop_filter("control characters are dropped", |t| {
                !t.chars().any(char::is_control)
            })
            .prop_filter("valid", move |t| spec.parse(t).is_ok())
            .boxed(),
        ParamKind::Command { .. } => "[a-z]{1,8}( [a-z0-9'\"=.-]{1,8}){0,4}"
            .prop_filter("valid", move |t| spec.parse(t).is_ok())
            .boxed(),
        ParamKind::List { max_items, max_len } => {
            let item = prop::collection::vec(prop::char::range('A', 'Z'), 1..=max_len)
                .prop_map(String::from_iter);
            prop::collection::vec(item, 1..=max_items)
                .prop_map(|items| items.join(","))
                .boxed()
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn any_input_keeps_the_field_within_capacity_and_never_panics(
        field in prop::sample::select(every_field()),
        inputs in prop::collection::vec(input(), 1..4),
    ) {
        let (scenario, i) = field;
        let mut form = form_on(scenario, i);
        for input in &inputs {
            match input {
                Input::Typed(text) => type_text(&mut form, text),
                Input::Pasted(text) => form.paste(text),
            }
        }
        let capacity = Capacity::of(&scenario.params[i]);
        prop_assert!(
            capacity.holds(&form.fields[i]),
            "{}.{}: {:?} beyond {capacity:?}", scenario.id, scenario.params[i].key, form.fields[i]
        );
        prop_assert!(!form.fields[i].chars().any(char::is_control));
        match form.validate() {
            // What was applied shows again as text that is valid and means the same.
            Ok(params) => {
                let again = Form::new(scenario.params, &params);
                prop_assert_eq!(again.validate(), Ok(params));
            }
            Err(e) => prop_assert!(e.contains('`'), "the error names the parameter: {e}"),
        }
        // The form draws at the smallest size and at a large one, in either language.
        for (w, h) in [(60, 13), (176, 40)] {
            for lang in [conlab::i18n::Lang::En, conlab::i18n::Lang::Zh] {
                let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
                terminal
                    .draw(|f| conlab::view::form::draw(f, f.area(), f.area(), scenario, &form, lang))
                    .unwrap();
            }
        }
    }

    #[test]
    fn a_valid_value_round_trips_through_the_form(
        (scenario, i, text) in prop::sample::select(every_field()).prop_flat_map(|(s, i)| {
            valid_text(s.params[i]).prop_map(move |t| (s, i, t))
        }),
    ) {
        let spec = scenario.params[i];
        let value = spec.parse(&text).unwrap();
        let mut params = Params::defaults(scenario.params);
        params.set(scenario.params, spec.key, &text).unwrap();
        // The form shows the value as text ...
        let shown = Form::new(scenario.params, &params).fields[i].clone();
        // ... which can be typed whole into the empty field, or pasted ...
        let mut typed = form_on(scenario, i);
        typed.fields[i].clear();
        type_text(&mut typed, &shown);
        prop_assert_eq!(&typed.fields[i], &shown, "typing was refused: {:?}", typed.notice);
        let mut pasted = form_on(scenario, i);
        pasted.fields[i].clear();
        pasted.paste(&shown);
        prop_assert_eq!(&pasted.fields[i], &shown, "the paste was cut: {:?}", pasted.notice);
        // ... and parses back to the same value.
        prop_assert_eq!(spec.parse(&shown), Ok(value));
        prop_assert_eq!(typed.validate(), Ok(params));
    }
}
