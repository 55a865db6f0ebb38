//! The watched program's panel: what runs (or what was attached to), its status, the processes
//! and threads seen and live while it runs, its summary and insights once it has ended (they
//! stay), and the newest lines of its output. Its processes and threads are in the processes
//! panel below.

use super::scenario::draw_output_tail;
use super::status::status;
use crate::app::run::Run;
use crate::i18n::Lang;
use crate::keymap::{self, Action, Context};
use crate::line_break;
use crate::style::{DIM, LABEL, WRONG};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

crate::i18n::phrases! {
    pub WORDS {
        title: " Watch · {what} " => " 观察 · {what} ",
        attached: "PID {pid}, read-only" => "PID {pid}（只读）",
        run: "  run #{id}{pid}" => "  运行 #{id}{pid}",
        runner_pid: " · watcher pid {pid}" => " · 观察进程 {pid}",
        processes: "processes" => "进程",
        threads: "threads" => "线程",
        counted: "{seen} seen · {live} live" => "见到 {seen} 个 · {live} 个在运行",
        error: "error: {error}" => "错误：{error}",
    }
}

/// The keys the panel's border names.
const PANEL_KEYS: &[Action] = &[
    Action::Stop,
    Action::ToggleThreads,
    Action::Events,
    Action::Report,
    Action::StopOrClose,
];

pub fn draw(frame: &mut Frame, area: Rect, run: &Run, lang: Lang) {
    let what = match run.params.int(crate::watch::PID) {
        // Shown, never obeyed: a command line may hold any character.
        0 => crate::text_safe::printable(run.params.word(crate::watch::COMMAND)).into_owned(),
        pid => WORDS.attached.with(lang, &[("pid", &pid)]),
    };
    let mut block = Block::bordered()
        .title(Line::from(Span::styled(
            WORDS.title.with(lang, &[("what", &what)]),
            Style::new().add_modifier(Modifier::BOLD),
        )))
        .title_bottom(
            Line::from(Span::styled(
                format!(" {} ", keymap::hints(Context::Watch, PANEL_KEYS, lang)),
                DIM,
            ))
            .right_aligned(),
        );
    let inner = block.inner(area);

    let mut lines = line_break::wrap_lines(&figures(run, lang), inner.width);
    // The insights under the summary: whole where they fit, else their titles, and the
    // border counts them.
    if let Some(report) = &run.report {
        let left = inner.height.saturating_sub(lines.len() as u16);
        let (insights, whole) = super::insights::lines(&report.warnings, inner.width, left, lang);
        lines.extend(line_break::wrap_lines(&insights, inner.width));
        if !whole && let Some(count) = super::insights::count(&report.warnings, lang) {
            block = block.title(Line::from(count).right_aligned());
        }
    }
    frame.render_widget(block, area);
    let used = (lines.len() as u16).min(inner.height);
    let figures = Paragraph::new(lines);
    let [top, rest] = Layout::vertical([Constraint::Length(used), Constraint::Min(0)]).areas(inner);
    frame.render_widget(figures, top);
    if !run.output.is_empty() && rest.height >= 2 {
        draw_output_tail(frame, rest, &run.output, lang);
    }
}

/// Status, then the counts while it runs, or the summary once it has ended.
fn figures(run: &Run, lang: Lang) -> Vec<Line<'static>> {
    let pid = run
        .pid
        .map(|p| WORDS.runner_pid.with(lang, &[("pid", &p)]))
        .unwrap_or_default();
    let text = WORDS.run.with(lang, &[("id", &run.id), ("pid", &pid)]);
    let mut lines = vec![Line::from(vec![status(run, lang), Span::styled(text, DIM)])];
    match &run.report {
        None => {
            let m = &run.live;
            let count = |name: &str| m.get(name).map_or(0.0, |v| v.as_f64());
            for (label, seen, live) in [
                (WORDS.processes, "processes_seen", "processes_live"),
                (WORDS.threads, "threads_seen", "threads_live"),
            ] {
                let counted = WORDS
                    .counted
                    .with(lang, &[("seen", &count(seen)), ("live", &count(live))]);
                lines.push(Line::from(vec![
                    Span::styled(format!("{:<10}", label.get(lang)), LABEL),
                    Span::raw(counted),
                ]));
            }
        }
        Some(report) => {
            for note in report.notes_in(lang) {
                lines.push(Line::from(vec![
                    Span::styled("→ ", LABEL),
                    Span::raw(note.to_string()),
                ]));
            }
            if let Some(error) = &report.error {
                let text = WORDS.error.with(lang, &[("error", error)]);
                lines.push(Line::from(Span::styled(text, WRONG)));
            }
        }
    }
    lines
}
