//! The selected scenario's panel: title, parameters, status, live figures or the report,
//! the verdict, and as much of the lesson as fits (`l` shows all of it).

use super::status::status;
use crate::app::App;
use crate::app::run::Run;
use crate::i18n::Lang;
use crate::keymap::{self, Action};
use crate::panels::{self, PanelState};
use crate::params::Value;
use crate::report::group_thousands;
use crate::scenarios::{Panel, Scenario};
use crate::style::{DIM, LABEL, WRONG, columns, cut_to, metric, metric_label, pad};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{Block, Paragraph};

/// Rows kept for the verdict under figures that choose their height; a longer verdict runs
/// on below, as far as the panel goes.
const VERDICT_ROWS: u16 = 1;

crate::i18n::phrases! {
    pub WORDS {
        error: "error: {error}" => "错误：{error}",
        stderr: "runner stderr: {line}" => "runner 的 stderr：{line}",
        output: "─ output " => "─ 输出 ",
        ready: "○ ready — Enter runs it" => "○ 就绪——按 Enter 运行",
        not_yet: "○ not started yet in the recording" => "○ 录制中此时还没开始运行",
        run: "  run #{id}{pid}" => "  运行 #{id}{pid}",
        runner_pid: " · runner pid {pid}" => " · runner 进程 {pid}",
        not_run: "Not run yet. Enter runs it with these parameters." => "还没运行。按 Enter 用这些参数运行。",
    }
}

/// The keys the panel's border names.
const PANEL_KEYS: &[Action] = &[
    Action::Lesson,
    Action::Report,
    Action::Events,
    Action::Edit,
    Action::OpenCompare,
];

pub fn draw(frame: &mut Frame, area: Rect, app: &App) {
    let lang = app.lang;
    let scenario = app.scenario();
    let run = app.current_run();
    let mut block = Block::bordered().title_bottom(
        Line::from(Span::styled(
            format!(
                " {} ",
                keymap::hints(app.panels_context(), PANEL_KEYS, lang)
            ),
            DIM,
        ))
        .right_aligned(),
    );
    let inner = block.inner(area);

    let mut lines = vec![params_line(app), status_line(app, run), Line::raw("")];
    // The verdict, insights, errors and stderr come after the figures.
    let report = run.and_then(|r| r.report.as_ref());
    let mut verdict = Vec::new();
    let mut after = Vec::new();
    if let Some(report) = report {
        for note in report.notes_in(lang) {
            verdict.push(Line::from(vec![
                Span::styled("→ ", LABEL),
                Span::raw(note.to_string()),
            ]));
        }
        if let Some(error) = &report.error {
            let text = WORDS.error.with(lang, &[("error", error)]);
            after.push(Line::from(Span::styled(text, WRONG)));
        }
    }
    for line in run
        .map(|r| r.stderr.as_slice())
        .unwrap_or_default()
        .iter()
        .rev()
        .take(3)
        .rev()
    {
        let text = WORDS.stderr.with(lang, &[("line", line)]);
        after.push(Line::from(Span::styled(text, WRONG)));
    }
    // The rows the figures may take and still leave the start of the verdict in view.
    let rows = |l: &[Line<'static>]| crate::line_break::rows(l, inner.width) as u16;
    let room = inner
        .height
        .saturating_sub(rows(&lines))
        .saturating_sub(rows(&[&verdict[..], &after[..]].concat()).min(VERDICT_ROWS));
    lines.extend(body(scenario, run, inner.width, room, lang));
    lines.extend(verdict);
    let mut insights_count = None;
    if let Some(report) = report {
        let left = inner
            .height
            .saturating_sub(rows(&lines))
            .saturating_sub(rows(&after));
        let (insights, whole) = super::insights::lines(&report.warnings, inner.width, left, lang);
        lines.extend(insights);
        // Out of room: the border at least says there is more to read.
        if !whole && let Some(count) = super::insights::count(&report.warnings, lang) {
            insights_count = Some(count);
        }
    }
    // The title, cut with `…` where the border is too short for it and the count beside it.
    let room = usize::from(area.width.saturating_sub(4))
        .saturating_sub(insights_count.as_ref().map_or(0, Span::width));
    block = block.title(Line::from(Span::styled(
        format!(" {} ", cut_to(scenario.title_in(lang), room)),
        Style::new().add_modifier(Modifier::BOLD),
    )));
    if let Some(count) = insights_count {
        block = block.title(Line::from(count).right_aligned());
    }
    lines.extend(after);
    frame.render_widget(block, area);
    let (figures, figure_rows) = wrapped(lines, inner.width);
    let used = (figure_rows as u16).min(inner.height);
    let [top, rest] = Layout::vertical([Constraint::Length(used), Constraint::Min(0)]).areas(inner);
    frame.render_widget(figures, top);
    let output = run.map(|r| r.output.as_slice()).unwrap_or_default();
    if !output.is_empty() && rest.height >= 2 {
        draw_output_tail(frame, rest, output, lang);
    } else if rest.height >= 2 {
        frame.render_widget(lesson_below(scenario, lang, rest), rest);
    }
}

/// The start of the lesson in `lang` under a panel's figures, after a blank line, broken to
/// the width of `area`, as much as its height holds.
pub fn lesson_below(scenario: &Scenario, lang: Lang, area: Rect) -> Paragraph<'_> {
    let mut lines = vec![Line::default()];
    let rows = usize::from(area.height.saturating_sub(1));
    lines.extend(crate::line_break::wrap_at_most(
        scenario.lesson_in(lang),
        area.width,
        rows,
    ));
    Paragraph::new(lines).style(Style::new().fg(Color::Gray))
}

/// `lines` broken to `width` columns, and the rows they take; moved as they are when every
/// line fits, as the lines of a panel laid out to the width (a timeline's lanes) do.
fn wrapped(lines: Vec<Line<'static>>, width: u16) -> (Text<'static>, usize) {
    let lines = if lines.iter().all(|l| l.width() <= usize::from(width)) {
        lines
    } else {
        crate::line_break::wrap_lines(&lines, width)
    };
    let rows = lines.len();
    (Text::from(lines), rows)
}

/// Rows one line of output takes wrapped to `width`: one when it fits, as most do.
fn output_rows(line: &str, width: u16) -> usize {
    crate::line_break::rows(&[Line::raw(line)], width)
}

/// The newest output lines that fit, newest at the bottom, under a rule.
pub(super) fn draw_output_tail(frame: &mut Frame, area: Rect, output: &[String], lang: Lang) {
    let title = WORDS.output.get(lang);
    let rest = usize::from(area.width).saturating_sub(columns(title));
    let rule = Line::from(Span::styled(format!("{title}{}", "─".repeat(rest)), DIM));
    // One row goes to the rule; the newest lines take the rest, each wrapped on its own.
    let mut first = output.len();
    let mut used = 0;
    while first > 0 {
        let rows = output_rows(&output[first - 1], area.width);
        if used + rows >= usize::from(area.height) {
            break;
        }
        used += rows;
        first -= 1;
    }
    let mut lines = vec![rule];
    let output: Vec<Line<'static>> = output[first..]
        .iter()
        .map(|l| Line::raw(l.clone()))
        .collect();
    lines.extend(crate::line_break::wrap_lines(&output, area.width));
    frame.render_widget(Paragraph::new(lines), area);
}

/// `mode=nolock  threads=2  iterations=1,000,000`
fn params_line(app: &App) -> Line<'static> {
    let mut spans = Vec::new();
    for (key, value) in app.params[app.selected].iter() {
        let shown = match value {
            Value::Int(n) => group_thousands(*n),
            Value::Word(w) => w.clone(),
        };
        spans.push(Span::styled(format!("{key}="), LABEL));
        spans.push(Span::styled(
            shown,
            Style::new().add_modifier(Modifier::BOLD),
        ));
        spans.push(Span::raw("  "));
    }
    Line::from(spans)
}

fn status_line(app: &App, run: Option<&Run>) -> Line<'static> {
    let lang = app.lang;
    match run {
        None if app.replaying => Line::from(Span::styled(WORDS.not_yet.get(lang), DIM)),
        None => Line::from(Span::styled(WORDS.ready.get(lang), DIM)),
        Some(run) => {
            let pid = run
                .pid
                .map(|p| WORDS.runner_pid.with(lang, &[("pid", &p)]))
                .unwrap_or_default();
            let text = WORDS.run.with(lang, &[("id", &run.id), ("pid", &pid)]);
            Line::from(vec![status(run, lang), Span::styled(text, DIM)])
        }
    }
}

/// The scenario's own figures, in about `room` rows where the kind can choose its height;
/// scenarios without a dedicated view list their highlights.
fn body(
    scenario: &Scenario,
    run: Option<&Run>,
    width: u16,
    room: u16,
    lang: Lang,
) -> Vec<Line<'static>> {
    match scenario.panel() {
        Panel::Lock => panels::lock::lines(run.map(Run::figures).as_ref(), width, lang),
        Panel::Multicore => panels::multicore::lines(run.map(Run::figures).as_ref(), width, lang),
        Panel::Timeline(spec) => {
            let figures = run.map(Run::figures);
            let state = run.and_then(|r| match &r.panel {
                PanelState::Timeline(t) => Some(t),
                _ => None,
            });
            panels::timeline::lines(figures.as_ref().zip(state), &spec, width, room, lang)
        }
        Panel::Channel(spec) => {
            let figures = run.map(Run::figures);
            let state = run.and_then(|r| match &r.panel {
                PanelState::Channel(c) => Some(c),
                _ => None,
            });
            panels::channel::lines(figures.as_ref().zip(state), &spec, width, lang)
        }
        Panel::Counts(spec) => {
            let figures = run.map(Run::figures);
            let state = run.and_then(|r| match &r.panel {
                PanelState::Counts(c) => Some(c),
                _ => None,
            });
            let mut lines = panels::counts::lines(figures.as_ref().zip(state), &spec, lang, width);
            if let Some(run) = run {
                lines.extend(highlights(scenario, run, lang));
            }
            lines
        }
        Panel::Sweep(spec) => {
            let figures = run.map(Run::figures);
            let state = run.and_then(|r| match &r.panel {
                PanelState::Sweep(s) => Some(s),
                _ => None,
            });
            panels::sweep::lines(figures.as_ref().zip(state), &spec, lang, width, room)
        }
        Panel::Table(spec) => {
            panels::table::lines(run.map(Run::figures).as_ref(), &spec, lang, width)
        }
        Panel::Highlights => match run {
            None => vec![Line::from(Span::styled(WORDS.not_run.get(lang), DIM))],
            Some(run) => highlights(scenario, run, lang),
        },
    }
}

/// The scenario's highlighted figures, one a line, as far as the run has them.
fn highlights(scenario: &Scenario, run: &Run, lang: Lang) -> Vec<Line<'static>> {
    let m = run.metrics();
    // Wide enough for the longest label (in terminal columns), so none runs into its figure.
    let width = scenario
        .highlights()
        .iter()
        .map(|name| columns(&metric_label(name, lang)) + 1)
        .max()
        .unwrap_or(0)
        .max(16);
    scenario
        .highlights()
        .iter()
        .filter_map(|name| m.get(name).map(|v| (name, v)))
        .map(|(name, v)| {
            Line::from(vec![
                Span::styled(pad(&metric_label(name, lang), width), LABEL),
                Span::raw(metric(name, v)),
            ])
        })
        .collect()
}
