//! Both languages, held to each other: every word of the dashboard exists in English and in
//! Chinese, with the same figures to fill in; the command line speaks the language it is asked
//! for (`--lang`, else the locale), and refuses one it does not speak.

mod common;

use common::{Conlab, Orphans};
use conlab::i18n::{Lang, Phrase};
use conlab::keymap::{Action, KEYMAP};
use conlab::report::Report;
use conlab::scenarios::{self, Group, Panel};
use std::time::Duration;

const CONLAB: Conlab = Conlab {
    deadline: Duration::from_secs(120),
    orphans: Orphans::Ignored,
};

/// Every table of the dashboard's words, by where it is.
fn tables() -> Vec<(&'static str, Vec<(&'static str, Phrase)>)> {
    use conlab::{app, panels, style, tui, view};
    let mut tables = vec![
        ("app", app::WORDS.all()),
        ("app::run", app::run::WORDS.all()),
        ("app::form", app::form::WORDS.all()),
        ("app::field", app::field::WORDS.all()),
        ("tui", tui::WORDS.all()),
        ("view", view::WORDS.all()),
        ("view::compare", view::compare::WORDS.all()),
        ("view::cpu", view::cpu::WORDS.all()),
        ("view::form", view::form::WORDS.all()),
        ("view::help", view::help::WORDS.all()),
        ("view::log", view::log::WORDS.all()),
        ("view::menu", view::menu::WORDS.all()),
        ("view::overlay", view::overlay::WORDS.all()),
        ("view::processes", view::processes::WORDS.all()),
        ("view::replay", view::replay::WORDS.all()),
        ("view::scenario", view::scenario::WORDS.all()),
        ("view::status", view::status::WORDS.all()),
        ("view::too_small", view::too_small::WORDS.all()),
        ("panels::channel", panels::channel::WORDS.all()),
        ("panels::lock", panels::lock::WORDS.all()),
        ("panels::multicore", panels::multicore::WORDS.all()),
        ("panels::timeline", panels::timeline::WORDS.all()),
        ("style", style::WORDS.all()),
        ("insights", conlab::insights::WORDS.all()),
        ("insights::races", conlab::insights::races::WORDS.all()),
        ("insights::cores", conlab::insights::cores::WORDS.all()),
        ("insights::queues", conlab::insights::queues::WORDS.all()),
        (
            "insights::children",
            conlab::insights::children::WORDS.all(),
        ),
        ("view::insights", view::insights::WORDS.all()),
        ("style::METRIC_LABELS", style::METRIC_LABELS.to_vec()),
    ];
    let groups = Group::ALL
        .iter()
        .map(|g| {
            (
                g.name(),
                Phrase::new(g.name_in(Lang::En), g.name_in(Lang::Zh)),
            )
        })
        .collect();
    tables.push(("the menu's groups", groups));
    for s in scenarios::all() {
        let words = match s.panel() {
            Panel::Timeline(spec) => spec.words().to_vec(),
            Panel::Channel(spec) => vec![("name", spec.name)],
            _ => continue,
        };
        tables.push((s.id, words));
    }
    tables
}

/// Entries whose Chinese has no Chinese character on purpose: a name a reader looks up (GIL),
/// or only punctuation around figures.
const NO_HAN_ON_PURPOSE: &[(&str, &str)] = &[
    ("panels::multicore", "gil"),
    ("panels::channel", "of_capacity"),
    ("panels::channel", "through_of"),
    ("panels::channel", "by"),
];

fn has_chinese(text: &str) -> bool {
    text.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
}

/// `{n}` and the like, in order of name (a language may put them in another order).
fn figures(phrase: Phrase, lang: Lang) -> Vec<&'static str> {
    let mut names = phrase.placeholders(lang);
    names.sort_unstable();
    names
}

/// Each entry is said in both languages, Chinese in Chinese, with the same figures.
fn check(place: &str, name: &str, phrase: Phrase, problems: &mut Vec<String>) {
    let at = format!("{place}: `{name}`");
    if phrase.en.trim().is_empty() {
        problems.push(format!("{at} has no English"));
    }
    if phrase.zh.trim().is_empty() {
        problems.push(format!("{at} has no Chinese (English: {:?})", phrase.en));
    }
    if figures(phrase, Lang::En) != figures(phrase, Lang::Zh) {
        problems.push(format!(
            "{at} fills in {:?} in English but {:?} in Chinese",
            figures(phrase, Lang::En),
            figures(phrase, Lang::Zh)
        ));
    }
    let no_han = NO_HAN_ON_PURPOSE.contains(&(place, name));
    if !no_han && !has_chinese(phrase.zh) {
        problems.push(format!("{at} is not in Chinese: {:?}", phrase.zh));
    }
    if no_han && has_chinese(phrase.zh) {
        problems.push(format!("{at} is listed as having no Chinese, and has"));
    }
}

#[test]
fn every_word_of_the_dashboard_is_in_both_languages() {
    let mut problems = Vec::new();
    let mut checked = 0;
    for (place, entries) in tables() {
        assert!(!entries.is_empty(), "{place} has no words");
        for (name, phrase) in entries {
            check(place, name, phrase, &mut problems);
            checked += 1;
        }
    }
    for (place, name) in NO_HAN_ON_PURPOSE {
        let listed = tables()
            .iter()
            .any(|(p, entries)| p == place && entries.iter().any(|(n, _)| n == name));
        assert!(listed, "{place}: `{name}` is no entry of any table");
    }
    assert!(checked > 150, "only {checked} entries: a table is missing");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The keymap's words: keys and what they do, row by row. What a key does is said in both
/// languages or in neither (`↑↓` alone); the keys are named the same in both but for the
/// wildcards, which are words.
#[test]
fn every_key_is_described_in_both_languages() {
    let mut problems = Vec::new();
    for (row, binding) in KEYMAP.iter().enumerate() {
        for (kind, words) in [("help", binding.help), ("hint", binding.hint)] {
            let Some(words) = words else { continue };
            let place = format!("keymap row {row} ({kind}, {:?})", binding.keys[0].1);
            let keys = words.keys;
            if keys.en.is_empty() || keys.zh.is_empty() {
                problems.push(format!("{place}: the keys are not named in both"));
            }
            if keys.en != keys.zh && !has_chinese(keys.zh) {
                problems.push(format!("{place}: keys {:?} not in Chinese", keys.zh));
            }
            let does = words.does;
            if does.en.is_empty() != does.zh.is_empty() {
                problems.push(format!(
                    "{place}: {:?} / {:?}: said in one language only",
                    does.en, does.zh
                ));
            } else if binding.keys[0].1 == Action::SwitchLanguage && kind == "hint" {
                // It names the language the key gives, in that language: `L 中文`, `L English`.
                if does.en != "中文" || does.zh != "English" {
                    problems.push(format!("{place}: {does:?} names not the other language"));
                }
            } else if !does.en.is_empty() {
                check(&place, "does", does, &mut problems);
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The compare view and the highlights name every figure a lesson highlights: each has its
/// Chinese name, and in either language it leaves a gap before the figure in the 16 columns
/// both give the name.
#[test]
fn every_highlighted_figure_has_a_chinese_name_that_fits() {
    for s in scenarios::all() {
        for name in s.highlights() {
            let listed = conlab::style::METRIC_LABELS.iter().any(|(n, _)| n == name);
            assert!(listed, "{}: `{name}` has no label in both languages", s.id);
            for lang in [Lang::En, Lang::Zh] {
                let label = conlab::style::metric_label(name, lang);
                let columns = conlab::style::columns(&label);
                assert!(columns < 16, "{}: `{label}` takes {columns} columns", s.id);
            }
        }
    }
}

/// A report's notes are printed in the language asked for; one not translated yet is printed
/// in English.
#[test]
fn the_text_report_prints_its_notes_in_the_language_asked_for() {
    let report = Report {
        scenario: "lock".into(),
        ok: true,
        wall_ms: 1.0,
        notes: vec!["balance stayed 0".into(), "not translated".into()],
        notes_zh: vec!["余额保持为 0".into(), String::new()],
        ..Report::default()
    };
    let zh = report.to_text(Lang::Zh);
    assert!(
        zh.contains("→ 余额保持为 0") && zh.contains("→ not translated"),
        "{zh}"
    );
    let en = report.to_text(Lang::En);
    assert!(
        en.contains("→ balance stayed 0") && !en.contains("余额"),
        "{en}"
    );
}

#[test]
fn the_command_line_follows_the_locale_unless_told_otherwise() {
    let zh_locale = [("LANG", "zh_CN.UTF-8")];
    let list = CONLAB.invoke_env(&["list"], &zh_locale);
    list.assert_success("conlab list under zh_CN");
    assert!(
        list.stdout.starts_with("多进程\n") && list.stdout.contains("\n多线程\n"),
        "{}",
        list.stdout
    );
    let told = CONLAB.invoke_env(&["--lang", "en", "list"], &zh_locale);
    told.assert_success("conlab --lang en list under zh_CN");
    assert!(told.stdout.starts_with("Processes\n"), "{}", told.stdout);
    // A global flag: after the command too.
    let after = CONLAB.invoke(&["list", "--lang", "zh"]);
    after.assert_success("conlab list --lang zh");
    assert!(after.stdout.starts_with("多进程\n"), "{}", after.stdout);
    // LC_ALL comes before LANG, as the C library reads them.
    let all = CONLAB.invoke_env(&["list"], &[("LC_ALL", "en_US.UTF-8"), ("LANG", "zh_CN")]);
    assert!(all.stdout.starts_with("Processes\n"), "{}", all.stdout);
}

#[test]
fn a_run_prints_its_text_report_in_the_language_asked_for() {
    let run = CONLAB.invoke(&["run", "threads", "--lang", "zh"]);
    run.assert_success("conlab run threads --lang zh");
    assert!(run.stdout.contains("threads  "), "{}", run.stdout);
    // JSON is the same in both languages.
    let json = CONLAB.invoke(&["run", "fork", "--json", "--lang", "zh"]);
    json.assert_success("conlab run fork --json --lang zh");
    assert_eq!(json.json()["scenario"], "fork");
}

#[test]
fn a_language_conlab_does_not_speak_is_refused_naming_both() {
    for args in [
        &["--lang", "fr"][..],
        &["--lang", "", "list"],
        &["list", "--lang", "de"],
        &["run", "lock", "--lang", "jp"],
        &["compare", "lock", "--lang=klingon"],
    ] {
        CONLAB.assert_usage_error(args, &["en, zh", "--lang"]);
    }
}
