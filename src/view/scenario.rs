//! The selected scenario's panel: title, parameters, status, live figures or the report,
//! the verdict, and as much of the lesson as fits (`l` shows all of it).

use super::status::status;
use crate::app::App;
use crate::app::run::Run;
use crate::keymap::{self, Action, Context};
use crate::panels::{self, PanelState};
use crate::params::Value;
use crate::report::group_thousands;
use crate::scenarios::{Panel, Scenario};
use crate::style::{DIM, LABEL, WRONG, metric, metric_label};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{Block, Paragraph, Wrap};

/// Rows kept for the verdict under figures that choose their height; a longer verdict runs
/// on below, as far as the panel goes.
const VERDICT_ROWS: u16 = 1;

/// The keys the panel's border names.
const PANEL_KEYS: &[Action] = &[
    Action::Lesson,
    Action::Events,
    Action::Edit,
    Action::OpenCompare,
];

pub fn draw(frame: &mut Frame, area: Rect, app: &App) {
    let scenario = app.scenario();
    let run = app.current_run();
    let block = Block::bordered()
        .title(Line::from(Span::styled(
            format!(" {} ", scenario.title),
            Style::new().add_modifier(Modifier::BOLD),
        )))
        .title_bottom(
            Line::from(Span::styled(
                format!(" {} ", keymap::hints(Context::Main, PANEL_KEYS)),
                DIM,
            ))
            .right_aligned(),
        );
    let inner = block.inner(area);
    frame.render_widget(block, area);

    let mut lines = vec![params_line(app), status_line(run), Line::raw("")];
    let mut after = Vec::new();
    if let Some(report) = run.and_then(|r| r.report.as_ref()) {
        for note in &report.notes {
            after.push(Line::from(vec![
                Span::styled("→ ", LABEL),
                Span::raw(note.clone()),
            ]));
        }
        if let Some(error) = &report.error {
            after.push(Line::from(Span::styled(format!("error: {error}"), WRONG)));
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
        after.push(Line::from(Span::styled(
            format!("runner stderr: {line}"),
            WRONG,
        )));
    }
    // The rows the figures may take and still leave the start of the verdict in view.
    let rows = |l: &[Line]| {
        Paragraph::new(l.to_vec())
            .wrap(Wrap { trim: false })
            .line_count(inner.width) as u16
    };
    let room = inner
        .height
        .saturating_sub(rows(&lines))
        .saturating_sub(rows(&after).min(VERDICT_ROWS));
    lines.extend(body(scenario, run, inner.width, room));
    lines.extend(after);
    let figures = Paragraph::new(lines).wrap(Wrap { trim: false });
    let used = (figures.line_count(inner.width) as u16).min(inner.height);
    let [top, rest] = Layout::vertical([Constraint::Length(used), Constraint::Min(0)]).areas(inner);
    frame.render_widget(figures, top);
    let output = run.map(|r| r.output.as_slice()).unwrap_or_default();
    if !output.is_empty() && rest.height >= 2 {
        draw_output_tail(frame, rest, output);
    } else if rest.height >= 2 {
        frame.render_widget(lesson_below(scenario), rest);
    }
}

/// The lesson under a panel's figures, after a blank line: it borrows the reflowed text
/// rather than copying it every frame.
pub fn lesson_below(scenario: &Scenario) -> Paragraph<'_> {
    let mut text = Text::raw(scenario.lesson_text());
    text.lines.insert(0, Line::default());
    Paragraph::new(text)
        .style(Style::new().fg(Color::Gray))
        .wrap(Wrap { trim: true })
}

/// The newest output lines that fit, newest at the bottom, under a rule.
fn draw_output_tail(frame: &mut Frame, area: Rect, output: &[String]) {
    let rule = Line::from(Span::styled(
        format!("{:─<w$}", "─ output ", w = area.width as usize),
        DIM,
    ));
    let mut first = output.len();
    // One row goes to the rule; the lines from `from` on must fit in the rest.
    let fits = |from: usize| {
        let lines: Vec<Line> = output[from..]
            .iter()
            .map(|l| Line::raw(l.clone()))
            .collect();
        let rows = Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .line_count(area.width);
        rows < usize::from(area.height)
    };
    while first > 0 && fits(first - 1) {
        first -= 1;
    }
    let mut lines = vec![rule];
    lines.extend(output[first..].iter().map(|l| Line::raw(l.clone())));
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), area);
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

fn status_line(run: Option<&Run>) -> Line<'static> {
    match run {
        None => Line::from(Span::styled("○ ready — Enter runs it", DIM)),
        Some(run) => {
            let pid = run
                .pid
                .map(|p| format!(" · runner pid {p}"))
                .unwrap_or_default();
            Line::from(vec![
                status(run),
                Span::styled(format!("  run #{}{pid}", run.id), DIM),
            ])
        }
    }
}

/// The scenario's own figures, in about `room` rows where the kind can choose its height;
/// scenarios without a dedicated view list their highlights.
fn body(scenario: &Scenario, run: Option<&Run>, width: u16, room: u16) -> Vec<Line<'static>> {
    match scenario.panel() {
        Panel::Lock => panels::lock::lines(run.map(Run::figures).as_ref(), width),
        Panel::Multicore => panels::multicore::lines(run.map(Run::figures).as_ref(), width),
        Panel::Timeline(spec) => {
            let figures = run.map(Run::figures);
            let state = run.and_then(|r| match &r.panel {
                PanelState::Timeline(t) => Some(t),
                _ => None,
            });
            panels::timeline::lines(figures.as_ref().zip(state), &spec, width)
        }
        Panel::Channel(spec) => {
            let figures = run.map(Run::figures);
            let state = run.and_then(|r| match &r.panel {
                PanelState::Channel(c) => Some(c),
                _ => None,
            });
            panels::channel::lines(figures.as_ref().zip(state), &spec, width)
        }
        Panel::Sweep(spec) => {
            let figures = run.map(Run::figures);
            let state = run.and_then(|r| match &r.panel {
                PanelState::Sweep(s) => Some(s),
                _ => None,
            });
            // English until the dashboard carries a language of its own.
            let lang = crate::i18n::Lang::En;
            panels::sweep::lines(figures.as_ref().zip(state), &spec, lang, width, room)
        }
        Panel::Highlights => {
            let Some(run) = run else {
                return vec![Line::from(Span::styled(
                    "Not run yet. Enter runs it with these parameters.",
                    DIM,
                ))];
            };
            let m = run.metrics();
            scenario
                .highlights()
                .iter()
                .filter_map(|name| m.get(name).map(|v| (name, v)))
                .map(|(name, v)| {
                    Line::from(vec![
                        Span::styled(format!("{:<16}", metric_label(name)), LABEL),
                        Span::raw(metric(name, v)),
                    ])
                })
                .collect()
        }
    }
}
