//! The parameter form (`e`) reads back what it shows: opened on any valid parameters of any
//! scenario and applied without an edit, it gives the same parameters. A form that filled in
//! `3,000` where the grammar wants `3000` or `3_000` would refuse its own text.

use conlab::app::form::Form;
use conlab::params::{ParamKind, ParamSpec, Params};
use proptest::prelude::*;

/// Text for one parameter that is valid for it, or nearly so: any value in its range, any of
/// its words, any short text.
fn value_text(spec: &ParamSpec) -> BoxedStrategy<String> {
    let any_text = proptest::collection::vec(any::<char>(), 0..20).prop_map(String::from_iter);
    match spec.kind {
        ParamKind::Int { min, max } => (min..=max).prop_map(|n| n.to_string()).boxed(),
        ParamKind::IntOrCores { min, max } => prop_oneof![
            (min..=max).prop_map(|n| n.to_string()),
            Just("cores".to_string())
        ]
        .boxed(),
        ParamKind::Choice(words) => proptest::sample::select(words)
            .prop_map(str::to_string)
            .boxed(),
        ParamKind::Text { .. } | ParamKind::Command { .. } => any_text.boxed(),
        ParamKind::List { .. } => proptest::collection::vec("[A-Za-z0-9 ]{1,8}", 1..5)
            .prop_map(|items| items.join(","))
            .boxed(),
    }
}

/// A scenario and parameters valid for it: each text that parses replaces the default.
fn scenario_and_params() -> impl Strategy<Value = (&'static [ParamSpec], Params)> {
    proptest::sample::select(conlab::scenarios::all())
        .prop_flat_map(|scenario| {
            let texts: Vec<_> = scenario.params.iter().map(value_text).collect();
            (Just(scenario.params), texts)
        })
        .prop_map(|(specs, texts)| {
            let mut params = Params::defaults(specs);
            for (spec, text) in specs.iter().zip(&texts) {
                let _ = params.set(specs, spec.key, text);
            }
            (specs, params)
        })
}

proptest! {
    #[test]
    fn the_form_applies_what_it_was_opened_on(
        (specs, params) in scenario_and_params()
    ) {
        let form = Form::new(specs, &params);
        prop_assert_eq!(form.validate(), Ok(params));
    }
}

#[test]
fn every_scenario_s_defaults_apply_unchanged() {
    for scenario in conlab::scenarios::all() {
        let defaults = Params::defaults(scenario.params);
        let form = Form::new(scenario.params, &defaults);
        assert_eq!(form.validate(), Ok(defaults), "{}", scenario.id);
    }
}
