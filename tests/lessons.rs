//! Every lesson as a reader of the tutorial meets it: in English and in Chinese, opening with its
//! tutorial section's heading, ending with that section's code corrected — the very program in
//! `assets/python/tutorial/`, which `tests/tutorial_python.rs` runs — and drawn as styled text,
//! without Markdown's marks.

use conlab::i18n::Lang;
use conlab::scenarios::{self, Scenario};
use conlab::view::overlay;
use conlab::view::scroll::ScrollState;
use conlab::watch::tutorial;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

/// Each lesson with code, and its tutorial section's heading as the tutorial writes it; its
/// program is the one the dashboard runs ([`tutorial::PROGRAMS`]).
const LESSONS: &[(&str, &str)] = &[
    ("fork", "多进程(multiprocessing)"),
    ("process", "多进程(multiprocessing)"),
    ("pool", "进程池Pool"),
    ("subprocess", "子进程"),
    ("queue", "进程间通信"),
    ("pipe", "进程间通信"),
    ("threads", "多线程"),
    ("multicore", "多核CPU"),
    ("thread-local", "ThreadLocal"),
    ("distributed", "分布式进程"),
];

/// Lessons of sections the tutorial argues in prose, with no code to correct: each still opens
/// with its section's heading.
const PROSE_SECTIONS: &[(&str, &str)] = &[
    ("master-worker", "进程 vs 线程"),
    ("async-io", "异步IO"),
    ("costs", "线程切换"),
    ("switching", "线程切换"),
    ("cpu-vs-io", "计算密集型 vs IO密集型"),
];

/// Lessons of the menu written and checked with their own scenario's work.
const ELSEWHERE: &[&str] = &["lock"];

fn lessons() -> impl Iterator<Item = (&'static Scenario, &'static str, &'static str)> {
    LESSONS.iter().map(|&(id, heading)| {
        let scenario = scenarios::find(id).unwrap_or_else(|e| panic!("{e}"));
        let program = tutorial::for_scenario(id)
            .unwrap_or_else(|| panic!("{id}: no program in watch::tutorial::PROGRAMS"));
        (scenario, heading, program.file)
    })
}

fn has_han(text: &str) -> bool {
    text.chars().any(|c| ('\u{4E00}'..='\u{9FFF}').contains(&c))
}

#[test]
fn every_lesson_of_the_menu_is_checked_here() {
    for s in scenarios::all() {
        assert!(
            LESSONS.iter().any(|(id, ..)| *id == s.id)
                || PROSE_SECTIONS.iter().any(|(id, _)| *id == s.id)
                || ELSEWHERE.contains(&s.id),
            "{}: add it to LESSONS with its tutorial heading, and its program to watch::tutorial",
            s.id
        );
    }
}

#[test]
fn every_program_belongs_to_a_lesson_with_code() {
    for program in tutorial::PROGRAMS {
        assert!(
            LESSONS.iter().any(|(id, _)| *id == program.scenario),
            "{}: {} is run for a lesson this file does not check",
            program.scenario,
            program.file
        );
    }
    for (id, _) in PROSE_SECTIONS {
        assert!(tutorial::for_scenario(id).is_none(), "{id} argues in prose");
    }
}

#[test]
fn every_lesson_title_and_summary_exists_in_both_languages() {
    for (s, ..) in lessons() {
        let (en, zh) = (s.lesson_text_in(Lang::En), s.lesson_text_in(Lang::Zh));
        assert!(!std::ptr::eq(en, zh), "{}: no Chinese lesson", s.id);
        assert!(
            has_han(zh) && !has_han(en.lines().nth(1).unwrap_or("")),
            "{}",
            s.id
        );
        assert!(
            has_han(s.title_in(Lang::Zh)),
            "{}: {}",
            s.id,
            s.title_in(Lang::Zh)
        );
        assert!(has_han(s.summary_in(Lang::Zh)), "{}", s.id);
        assert!(!has_han(s.title) && !has_han(s.summary()), "{}", s.id);
    }
}

#[test]
fn every_lesson_begins_with_its_tutorial_sections_heading() {
    let prose = PROSE_SECTIONS
        .iter()
        .map(|&(id, heading)| (scenarios::find(id).unwrap(), heading, ""));
    for (s, heading, _) in lessons().chain(prose) {
        let zh = s
            .lesson_text_in(Lang::Zh)
            .lines()
            .next()
            .unwrap_or_default();
        assert_eq!(zh, format!("# {heading}"), "{}", s.id);
        // In English: the heading in English, the tutorial's in brackets to find the section.
        let en = s
            .lesson_text_in(Lang::En)
            .lines()
            .next()
            .unwrap_or_default();
        let english = en
            .strip_prefix("# ")
            .and_then(|h| h.strip_suffix(&format!(" [{heading}]")))
            .unwrap_or_else(|| panic!("{}: `{en}` is not `# English [{heading}]`", s.id));
        assert!(!english.is_empty() && !has_han(english), "{}: `{en}`", s.id);
    }
}

/// The program's code without its comments and blank lines: what both lessons must show
/// alike, whatever language their comments are in.
fn code_only(program: &str) -> Vec<String> {
    program
        .lines()
        .map(|line| {
            let mut quote = None;
            let end = line
                .char_indices()
                .find(|&(_, c)| {
                    match (quote, c) {
                        (None, '\'' | '"') => quote = Some(c),
                        (Some(q), _) if c == q => quote = None,
                        _ => {}
                    }
                    quote.is_none() && c == '#'
                })
                .map_or(line.len(), |(i, _)| i);
            line[..end].trim_end().to_string()
        })
        .filter(|line| !line.is_empty())
        .collect()
}

/// The lesson's last block, which must be a Python code block with nothing after it.
fn last_code_block<'a>(s: &Scenario, text: &'a str) -> &'a str {
    let text = text.trim_end();
    let body = text
        .strip_suffix("```")
        .unwrap_or_else(|| panic!("{}: the lesson does not end with a code block", s.id));
    let start = body
        .rfind("```python\n")
        .unwrap_or_else(|| panic!("{}: its last code block is not Python", s.id));
    &body[start + "```python\n".len()..]
}

#[test]
fn every_lesson_ends_with_its_sections_code_corrected_the_program_that_runs() {
    for (s, _, program) in lessons() {
        let path = format!("assets/python/tutorial/{program}");
        let file = std::fs::read_to_string(format!("{}/{path}", env!("CARGO_MANIFEST_DIR")))
            .unwrap_or_else(|e| panic!("{path}: {e}"));
        for lang in [Lang::En, Lang::Zh] {
            let text = s.lesson_text_in(lang);
            assert!(
                text.contains(&path),
                "{} ({lang:?}) does not name {path}",
                s.id
            );
            let block = last_code_block(s, text);
            assert_eq!(
                code_only(block),
                code_only(&file),
                "{} ({lang:?}): the code block is not {path}",
                s.id
            );
        }
        let embedded = tutorial::for_scenario(s.id).map(|p| p.source);
        assert_eq!(
            embedded,
            Some(file.as_str()),
            "{}: the program run is the file",
            s.id
        );
        // The English lesson shows the program itself, comments and all.
        assert_eq!(
            last_code_block(s, s.lesson_text_in(Lang::En)),
            file,
            "{}",
            s.id
        );
    }
}

#[test]
fn comments_do_not_hide_code_from_the_comparison() {
    assert_eq!(
        code_only("x = 1  # one\nprint('# not a comment')  # a comment\n\n# alone\n"),
        ["x = 1", "print('# not a comment')"]
    );
}

/// The headings of a lesson's Markdown, outside its code blocks: (`## `, `Heading`).
fn headings(markdown: &str) -> Vec<(&str, &str)> {
    let mut in_code = false;
    markdown
        .lines()
        .filter(|line| {
            in_code ^= line.starts_with("```");
            !in_code && line.starts_with('#')
        })
        .filter_map(|line| line.split_once(' '))
        .collect()
}

#[test]
fn every_lesson_is_drawn_without_markdown_marks() {
    for s in scenarios::all() {
        for lang in [Lang::En, Lang::Zh] {
            let shown: Vec<String> = s
                .lesson_in(lang)
                .lines
                .iter()
                .map(ToString::to_string)
                .collect();
            assert!(!shown.is_empty(), "{} ({lang:?})", s.id);
            for line in &shown {
                assert!(
                    !line.contains('`') && !line.contains("**"),
                    "{} ({lang:?}): `{line}`",
                    s.id
                );
            }
            for (marks, heading) in headings(s.lesson_text_in(lang)) {
                assert!(
                    shown.iter().any(|l| l == heading),
                    "{} ({lang:?}): no line `{heading}` (without `{marks}`)",
                    s.id
                );
            }
        }
    }
}

fn lesson_overlay(id: &str, lang: Lang, width: u16, height: u16) -> Terminal<TestBackend> {
    let scenario = scenarios::find(id).unwrap();
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal
        .draw(|frame| {
            let area = frame.area();
            overlay::lesson(frame, area, scenario, lang, &mut ScrollState::default())
        })
        .unwrap();
    terminal
}

/// The buffer's rows as a reader sees them: a Chinese character's second cell left out.
fn rows(terminal: &Terminal<TestBackend>) -> Vec<String> {
    let buffer = terminal.backend().buffer();
    (0..buffer.area.height)
        .map(|y| {
            let mut row = String::new();
            let mut x = 0;
            while x < buffer.area.width {
                let symbol = buffer[(x, y)].symbol();
                row.push_str(symbol);
                x += u16::try_from(ratatui::text::Span::raw(symbol).width().max(1)).unwrap();
            }
            row
        })
        .collect()
}

#[test]
fn a_chinese_lesson_at_80x24() {
    let terminal = lesson_overlay("pool", Lang::Zh, 80, 24);
    let rows = rows(&terminal);
    assert!(
        rows[0].contains("进程池 Pool — 任务比工作进程多"),
        "{rows:#?}"
    );
    assert!(rows[1].starts_with("│进程池Pool "), "{rows:#?}");
    // Inline code is set apart by its colour, not by backticks.
    assert!(rows.iter().all(|r| !r.contains('`')), "{rows:#?}");
    assert!(rows.iter().any(|r| r.contains("Pool(4)")), "{rows:#?}");
    insta::assert_snapshot!("lesson_zh_80x24", terminal.backend());
}
