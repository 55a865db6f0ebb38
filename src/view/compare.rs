//! The compare view: the scenario's variants side by side, each column filling in live while
//! its run goes, with time and throughput ratios against the first column.

use super::scroll::ScrollState;
use super::status::short_status;
use crate::app::App;
use crate::app::compare::Compare;
use crate::app::run::Run;
use crate::i18n::Lang;
use crate::keymap::{self, Action, Context};
use crate::report::{Comparison, Report, is_ratio_metric, mark_wrong, ratio};
use crate::style::{DIM, LABEL, WRONG, breakable_lines, metric, metric_label, scroll_position};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Paragraph, Row, Table, Wrap};

crate::phrases! {
    pub WORDS {
        race: "all at the same time (a race)" => "同时运行（互相争抢）",
        one_by_one: "one after another" => "依次运行",
        title: " Compare {id} by {key} — {how} " => " 比较 {id} 的 {key} — {how} ",
        status: "status" => "状态",
        waiting: "· waiting" => "· 等待中",
        summary: "Summary: " => "总结：",
    }
}

/// `scroll`: lines of the summary and verdicts scrolled past (↑↓), when they do not fit.
pub fn draw(frame: &mut Frame, area: Rect, app: &App, compare: &Compare, scroll: &mut ScrollState) {
    let lang = app.lang;
    let how = if compare.simultaneous {
        WORDS.race
    } else {
        WORDS.one_by_one
    };
    let runs = runs_of(app, compare);
    let (table_area, summary_area) = split(area, compare);
    let summary = summary(compare, &runs, lang);
    let (lines, overflow) = fit(&summary, summary_area);
    let scroll = scroll.settle(overflow, usize::from(summary_area.height));
    let mut block = Block::bordered()
        .title(Line::from(Span::styled(
            WORDS.title.with(
                lang,
                &[
                    ("id", &compare.scenario.id),
                    ("key", &compare.key),
                    ("how", &how.get(lang)),
                ],
            ),
            Style::new().add_modifier(Modifier::BOLD),
        )))
        .title_bottom(
            Line::from(Span::styled(
                format!(
                    " {} ",
                    keymap::hints(
                        Context::Compare,
                        &[
                            Action::Rerun,
                            Action::RaceMode,
                            Action::Stop,
                            Action::StopOrClose
                        ],
                        lang
                    )
                ),
                DIM,
            ))
            .right_aligned(),
        );
    // Where the verdicts stand goes on the left, where narrow screens do not cut it.
    if let Some(position) = scroll_position(scroll, overflow - scroll, lang) {
        let keys = keymap::hints(Context::Compare, &[Action::ScrollDown], lang);
        block = block.title_bottom(Line::from(Span::styled(
            format!(" {position} · {keys} "),
            DIM,
        )));
    }
    frame.render_widget(block, area);
    frame.render_widget(table(compare, &runs, lang), table_area);

    let used = u16::try_from(lines).map_or(summary_area.height, |l| l.min(summary_area.height));
    let [top, rest] =
        Layout::vertical([Constraint::Length(used), Constraint::Min(0)]).areas(summary_area);
    let scroll = u16::try_from(scroll).unwrap_or(u16::MAX);
    frame.render_widget(summary.scroll((scroll, 0)), top);
    // With room to spare, the lesson explains what the columns show.
    if rest.height >= 3 {
        frame.render_widget(
            super::scenario::lesson_below(compare.scenario, lang, rest),
            rest,
        );
    }
}

/// The summary's lines in `area`, and how many of them do not fit.
fn fit(summary: &Paragraph, area: Rect) -> (usize, usize) {
    let lines = summary.line_count(area.width);
    (lines, lines.saturating_sub(usize::from(area.height)))
}

fn runs_of<'a>(app: &'a App, compare: &Compare) -> Vec<Option<&'a Run>> {
    compare
        .runs
        .iter()
        .map(|id| id.and_then(|id| app.runs.get(&id)))
        .collect()
}

/// The table's place and the summary's, inside the view's border.
fn split(area: Rect, compare: &Compare) -> (Rect, Rect) {
    // A header, the status row, and a row per highlighted figure.
    let table_h = compare.scenario.highlights().len() as u16 + 2;
    let inner = Block::bordered().inner(area);
    let [table, summary] =
        Layout::vertical([Constraint::Length(table_h), Constraint::Min(0)]).areas(inner);
    (table, summary)
}

fn table<'a>(compare: &Compare, runs: &[Option<&Run>], lang: Lang) -> Table<'a> {
    let first = runs.first().copied().flatten();
    let mut header = vec![Cell::from("")];
    header.extend(
        (0..compare.values.len())
            .map(|i| Cell::from(compare.label(i)).style(LABEL.add_modifier(Modifier::BOLD))),
    );
    let mut rows = vec![Row::new(
        std::iter::once(Cell::from(WORDS.status.get(lang)))
            .chain(runs.iter().map(|r| match r {
                Some(run) => Cell::from(Line::from(short_status(run, lang))),
                None => Cell::from(Span::styled(WORDS.waiting.get(lang), DIM)),
            }))
            .collect::<Vec<_>>(),
    )];
    for name in compare.scenario.highlights() {
        let mut cells = vec![Cell::from(Span::styled(metric_label(name, lang), LABEL))];
        for run in runs {
            cells.push(cell(name, *run, first));
        }
        rows.push(Row::new(cells));
    }
    let n = compare.values.len() as u32;
    let mut widths = vec![Constraint::Length(16)];
    widths.extend((0..n).map(|_| Constraint::Ratio(1, n)));
    Table::new(rows, widths)
        .header(Row::new(header))
        .column_spacing(1)
}

/// The hyperfine-style summary once every variant is done, then each variant's verdicts.
fn summary(compare: &Compare, runs: &[Option<&Run>], lang: Lang) -> Paragraph<'static> {
    let reports: Vec<Report> = runs
        .iter()
        .filter_map(|r| r.and_then(|r| r.report.clone()))
        .collect();
    let mut summary = Vec::new();
    if reports.len() == compare.values.len() && reports.iter().all(|r| !r.cancelled) {
        let comparison = Comparison {
            scenario: compare.scenario.id.to_string(),
            key: compare.key.to_string(),
            values: compare.values.clone(),
            runs: reports,
        };
        summary.push(Line::from(vec![
            Span::styled(WORDS.summary.get(lang), LABEL),
            Span::raw(comparison.summary_line(lang)),
        ]));
    }
    for (value, run) in compare.values.iter().zip(runs) {
        let notes = run
            .and_then(|r| r.report.as_ref())
            .map(|r| r.notes_in(lang))
            .unwrap_or_default();
        for note in notes {
            summary.push(Line::from(vec![
                Span::styled(format!("{value}: "), LABEL),
                Span::raw(note.to_string()),
            ]));
        }
    }
    Paragraph::new(breakable_lines(summary)).wrap(Wrap { trim: false })
}

/// One figure: live while running, final when done; wrong values marked; ratios for time
/// and throughput once both this run and the first are done.
fn cell(name: &str, run: Option<&Run>, first: Option<&Run>) -> Cell<'static> {
    let Some(run) = run else {
        return Cell::from("");
    };
    let Some(value) = run.metrics().get(name) else {
        return Cell::from(Span::styled("—", DIM));
    };
    let mut spans = Vec::new();
    match &run.report {
        Some(report) if mark_wrong(report, name) => {
            spans.push(Span::styled(format!("{} ✗", metric(name, value)), WRONG))
        }
        _ => spans.push(Span::raw(metric(name, value))),
    }
    let first_value = first
        .and_then(|f| f.report.as_ref())
        .and_then(|r| r.metrics.get(name));
    if let (Some(f), true, true) = (first_value, is_ratio_metric(name), run.report.is_some()) {
        spans.push(Span::styled(
            format!(" {}", ratio(value.as_f64(), f.as_f64())),
            DIM,
        ));
    }
    Cell::from(Line::from(spans))
}
