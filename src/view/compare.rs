//! The compare view: the scenario's variants side by side, each column filling in live while
//! its run goes, with time and throughput ratios against the first column.

use super::scroll::ScrollState;
use super::status::short_status;
use crate::app::App;
use crate::app::compare::Compare;
use crate::app::run::Run;
use crate::i18n::Lang;
use crate::keymap::{self, Action, Context};
use crate::report::{Comparison, Num, is_ratio_metric, mark_wrong, ratio, ratio_with_interval};
use crate::style::{DIM, LABEL, WRONG, columns, metric, metric_label, scroll_position};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{Block, Cell, Paragraph, Row, Table};

crate::i18n::phrases! {
    pub WORDS {
        race: "all at the same time (a race)" => "同时运行（互相争抢）",
        one_by_one: "one after another" => "依次运行",
        title: " Compare {id} by {key} — {how} " => " 比较 {id} 的 {key} — {how} ",
        status: "status" => "状态",
        waiting: "· waiting" => "· 等待中",
        summary: "Summary: " => "总结：",
        runs_each: "{n} runs each" => "每种 {n} 次",
        choosing: "timing the first round to choose how many runs" => "先为第一轮计时，再定运行次数",
        outlier: "outlier, " => "离群，",
    }
}

/// The figures' names' column.
const LABEL_WIDTH: u16 = 16;

/// `scroll`: lines of the summary and verdicts scrolled past (↑↓), when they do not fit.
pub fn draw(frame: &mut Frame, area: Rect, app: &App, compare: &Compare, scroll: &mut ScrollState) {
    let lang = app.lang;
    let how = if compare.simultaneous {
        WORDS.race
    } else {
        WORDS.one_by_one
    };
    let runs = runs_of(app, compare);
    // What the finished runs add up to, when some variant ran more than once.
    let stats = crate::repeats::comparison(
        compare.scenario.id,
        compare.key,
        compare.values.clone(),
        compare.repeats(&app.runs),
    );
    let (table_area, summary_area) = split(area, compare, &stats);
    let summary = summary(compare, &runs, &stats, lang, summary_area.width);
    let (lines, overflow) = fit(&summary, summary_area);
    let scroll = scroll.settle(overflow, usize::from(summary_area.height));
    let each = match (compare.repeated, compare.wanted) {
        (false, _) => String::new(),
        (true, Some(n)) => format!("· {} ", WORDS.runs_each.with(lang, &[("n", &n)])),
        (true, None) => format!("· {} ", WORDS.choosing.get(lang)),
    };
    let mut block = Block::bordered()
        .title(Line::from(vec![
            Span::styled(
                WORDS.title.with(
                    lang,
                    &[
                        ("id", &compare.scenario.id),
                        ("key", &compare.key),
                        ("how", &how.get(lang)),
                    ],
                ),
                Style::new().add_modifier(Modifier::BOLD),
            ),
            Span::styled(each, DIM),
        ]))
        .title_bottom(
            Line::from(Span::styled(
                format!(
                    " {} ",
                    keymap::hints(Context::Compare, &footer_actions(area.width), lang)
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
    frame.render_widget(
        table(compare, &runs, &stats, lang, table_area.width),
        table_area,
    );

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

/// The keys the footer names; the repeat key only where there is room beside the verdicts'
/// position (the help always lists it).
fn footer_actions(width: u16) -> Vec<Action> {
    let mut actions = vec![Action::Rerun];
    if width >= 100 {
        actions.push(Action::Repeat);
    }
    actions.extend([Action::RaceMode, Action::Stop, Action::StopOrClose]);
    actions
}

/// The summary's lines in `area`, and how many of them do not fit.
fn fit(summary: &Paragraph, area: Rect) -> (usize, usize) {
    let lines = summary.line_count(area.width);
    (lines, lines.saturating_sub(usize::from(area.height)))
}

fn runs_of<'a>(app: &'a App, compare: &Compare) -> Vec<Option<&'a Run>> {
    compare
        .latest()
        .into_iter()
        .map(|id| id.and_then(|id| app.runs.get(&id)))
        .collect()
}

/// The table's place and the summary's, inside the view's border.
fn split(area: Rect, compare: &Compare, stats: &Comparison) -> (Rect, Rect) {
    // A header, the status row, and the highlighted figures' rows.
    let table_h = figure_heights(compare, stats).iter().sum::<u16>() + 2;
    let inner = Block::bordered().inner(area);
    let [table, summary] =
        Layout::vertical([Constraint::Length(table_h), Constraint::Min(0)]).areas(inner);
    (table, summary)
}

fn table<'a>(
    compare: &Compare,
    runs: &[Option<&Run>],
    stats: &Comparison,
    lang: Lang,
    width: u16,
) -> Table<'a> {
    let first = runs.first().copied().flatten();
    let n = compare.values.len() as u16;
    // What each variant's column gets: the label's 16, a space before each column, the rest.
    let column = usize::from(width.saturating_sub(LABEL_WIDTH + n) / n.max(1));
    let mut header = vec![Cell::from("")];
    header.extend(
        (0..compare.values.len())
            .map(|i| Cell::from(compare.label(i)).style(LABEL.add_modifier(Modifier::BOLD))),
    );
    let mut rows = vec![Row::new(
        std::iter::once(Cell::from(WORDS.status.get(lang)))
            .chain(runs.iter().enumerate().map(|(i, r)| match r {
                Some(run) => Cell::from(Line::from(vec![
                    short_status(run, lang),
                    Span::styled(run_count(compare, i), DIM),
                ])),
                None => Cell::from(Span::styled(WORDS.waiting.get(lang), DIM)),
            }))
            .collect::<Vec<_>>(),
    )];
    let heights = figure_heights(compare, stats);
    for (name, height) in compare.scenario.highlights().iter().zip(heights) {
        let mut cells = vec![Cell::from(Span::styled(metric_label(name, lang), LABEL))];
        for (i, run) in runs.iter().enumerate() {
            cells.push(match spread_cell(stats, i, name, column) {
                Some(cell) => cell,
                None => cell(name, *run, first),
            });
        }
        rows.push(Row::new(cells).height(height));
    }
    let n = u32::from(n);
    let mut widths = vec![Constraint::Length(LABEL_WIDTH)];
    widths.extend((0..n).map(|_| Constraint::Ratio(1, n)));
    Table::new(rows, widths)
        .header(Row::new(header))
        .column_spacing(1)
}

/// Each highlighted figure's rows: two where some variant's runs spread (min…max goes under
/// the mean), one elsewhere.
fn figure_heights(compare: &Compare, stats: &Comparison) -> Vec<u16> {
    compare
        .scenario
        .highlights()
        .iter()
        .map(|name| {
            let spread = (0..compare.values.len()).any(|i| spread_of(stats, i, name).is_some());
            if spread { 2 } else { 1 }
        })
        .collect()
}

/// Variant `i`'s statistics of `name`, once two finished runs differ in it.
fn spread_of(stats: &Comparison, i: usize, name: &str) -> Option<crate::stats::Summary> {
    stats
        .summary_of(i, name)
        .filter(|s| s.runs >= 2 && s.min != s.max)
}

/// ` 2/5`: how many runs of variant `i` have started, of how many; nothing for one run each.
fn run_count(compare: &Compare, i: usize) -> String {
    match (compare.repeated, compare.wanted) {
        (false, _) => String::new(),
        (true, Some(n)) => format!(" {}/{n}", compare.runs[i].len()),
        (true, None) => format!(" {}/?", compare.runs[i].len()),
    }
}

/// The hyperfine-style summary once every variant is done (every run of every variant, when
/// they repeat), then the runs that stand out, then each variant's verdicts, broken to `width`.
fn summary(
    compare: &Compare,
    runs: &[Option<&Run>],
    stats: &Comparison,
    lang: Lang,
    width: u16,
) -> Paragraph<'static> {
    let done =
        |r: &Option<&Run>| r.is_some_and(|r| r.report.as_ref().is_some_and(|r| !r.cancelled));
    let all_done = runs.iter().all(done)
        && compare.wanted.is_some_and(|n| {
            stats.runs.len() == compare.values.len()
                && (n == 1 || stats.variants.iter().all(|v| v.runs == n))
        });
    let mut summary = Vec::new();
    if all_done {
        summary.push(Line::from(vec![
            Span::styled(WORDS.summary.get(lang), LABEL),
            Span::raw(stats.summary_line(lang)),
        ]));
    }
    for (value, variant) in compare.values.iter().zip(&stats.variants) {
        for outlier in &variant.outliers {
            summary.push(Line::from(vec![
                Span::styled(format!("{value}: "), LABEL),
                Span::styled(WORDS.outlier.get(lang), WRONG),
                Span::raw(outlier.describe(lang)),
            ]));
        }
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
    Paragraph::new(crate::line_break::wrap_lines(&summary, width))
}

/// `name` over variant `i`'s finished runs, once there are two: `mean ± σ` and the ratio to
/// the first variant with its interval, and `min…max` under them.
/// The ratio goes after the mean where the `column` has room, else after the range, else
/// it is left to the summary, which gives it too.
fn spread_cell(stats: &Comparison, i: usize, name: &str, column: usize) -> Option<Cell<'static>> {
    let s = spread_of(stats, i, name)?;
    let figure = |x: f64| metric(name, Num::Float(x));
    let mean = format!("{} ± {}", figure(s.mean), figure(s.stddev));
    let range = format!("{}…{}", figure(s.min), figure(s.max));
    let ratio = match (i, stats.variants[i].ratios.get(name)) {
        (0, _) if is_ratio_metric(name) => Some("1.00×".to_string()),
        (_, Some(r)) => Some(ratio_with_interval(r)),
        _ => None,
    };
    let mut lines = [
        vec![Span::raw(mean.clone())],
        vec![Span::styled(range.clone(), DIM)],
    ];
    if let Some(ratio) = ratio {
        let room = |text: &str| columns(text) + 1 + columns(&ratio) <= column;
        let line = match (room(&mean), room(&range)) {
            (true, _) => Some(0),
            (false, true) => Some(1),
            (false, false) => None,
        };
        if let Some(line) = line {
            lines[line].push(Span::styled(format!(" {ratio}"), DIM));
        }
    }
    Some(Cell::from(Text::from(lines.map(Line::from).to_vec())))
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
