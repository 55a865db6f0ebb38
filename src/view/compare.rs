//! The compare view: the scenario's variants side by side, each column filling in live while
//! its run goes, with time and throughput ratios against the first column.

use super::fmt::{metric, metric_label, short_status};
use super::{DIM, LABEL, WRONG};
use crate::app::App;
use crate::app::compare::Compare;
use crate::app::run::Run;
use crate::report::{Comparison, Report, is_ratio_metric, mark_wrong, ratio};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Paragraph, Row, Table, Wrap};

pub fn draw(frame: &mut Frame, area: Rect, app: &App, compare: &Compare) {
    let how = if compare.simultaneous {
        "all at the same time (a race)"
    } else {
        "one after another"
    };
    let block = Block::bordered()
        .title(Line::from(Span::styled(
            format!(
                " Compare {} by {} — {how} ",
                compare.scenario.id, compare.key
            ),
            Style::new().add_modifier(Modifier::BOLD),
        )))
        .title_bottom(
            Line::from(Span::styled(
                " r rerun · m switch race/sequential · s stop · Esc close ",
                DIM,
            ))
            .right_aligned(),
        );
    let inner = block.inner(area);
    frame.render_widget(block, area);

    let runs: Vec<Option<&Run>> = compare
        .runs
        .iter()
        .map(|id| id.and_then(|id| app.runs.get(&id)))
        .collect();
    let first = runs.first().copied().flatten();

    let mut header = vec![Cell::from("")];
    header.extend(
        (0..compare.values.len())
            .map(|i| Cell::from(compare.label(i)).style(LABEL.add_modifier(Modifier::BOLD))),
    );
    let mut rows = vec![Row::new(
        std::iter::once(Cell::from("status"))
            .chain(runs.iter().map(|r| match r {
                Some(run) => Cell::from(Line::from(short_status(run))),
                None => Cell::from(Span::styled("· waiting", DIM)),
            }))
            .collect::<Vec<_>>(),
    )];
    for name in compare.scenario.highlights {
        let mut cells = vec![Cell::from(Span::styled(metric_label(name), LABEL))];
        for run in &runs {
            cells.push(cell(name, *run, first));
        }
        rows.push(Row::new(cells));
    }
    let n = compare.values.len() as u32;
    let mut widths = vec![Constraint::Length(16)];
    widths.extend((0..n).map(|_| Constraint::Ratio(1, n)));
    let table_h = rows.len() as u16 + 1;
    let [table_area, summary_area] =
        Layout::vertical([Constraint::Length(table_h), Constraint::Min(0)]).areas(inner);
    frame.render_widget(
        Table::new(rows, widths)
            .header(Row::new(header))
            .column_spacing(1),
        table_area,
    );

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
            runs: reports.clone(),
        };
        summary.push(Line::from(vec![
            Span::styled("Summary: ", LABEL),
            Span::raw(comparison.summary_line()),
        ]));
    }
    for (value, run) in compare.values.iter().zip(&runs) {
        for note in run
            .and_then(|r| r.report.as_ref())
            .map(|r| r.notes.as_slice())
            .unwrap_or_default()
        {
            summary.push(Line::from(vec![
                Span::styled(format!("{value}: "), LABEL),
                Span::raw(note.clone()),
            ]));
        }
    }
    // With room to spare, the lesson explains what the columns show.
    let summary = Paragraph::new(summary).wrap(Wrap { trim: false });
    let used = (summary.line_count(summary_area.width) as u16).min(summary_area.height);
    let [top, rest] =
        Layout::vertical([Constraint::Length(used), Constraint::Min(0)]).areas(summary_area);
    frame.render_widget(summary, top);
    if rest.height >= 3 {
        frame.render_widget(super::scenario::lesson_below(compare.scenario), rest);
    }
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
