//! Drawing. What a frame shows is a function of the [`App`] model and the view's own
//! [`ViewState`] (scroll positions, where the mouse can act), generic over the ratatui
//! backend, so snapshot tests draw into a `TestBackend` from a fixed model.

pub mod braille;
pub mod compare;
pub mod cpu;
pub mod form;
pub mod help;
pub mod hits;
pub mod insights;
pub mod log;
pub mod menu;
pub mod overlay;
pub mod processes;
pub mod replay;
pub mod scenario;
pub mod scroll;
pub mod state;
pub mod status;
pub mod too_small;
pub mod watch;

use crate::app::{App, MIN_SIZE, Overlay, Target};
use crate::keymap::{self, Action, Context};
use crate::style::DIM;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
pub use state::ViewState;

crate::i18n::phrases! {
    pub WORDS {
        lab: " concurrency lab · " => " 并发实验室 · ",
        idle: "idle" => "空闲",
        one_active: "1 run active" => "1 个在运行",
        many_active: "{n} runs active" => "{n} 个在运行",
    }
}

/// Where each panel goes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Areas {
    pub header: Rect,
    pub menu: Rect,
    pub main: Rect,
    pub cpu: Rect,
    pub processes: Rect,
    pub log: Rect,
    /// A big screen (see [`BIG`]): the CPU panel draws graphs, the bottom panels take their
    /// whole share.
    pub big: bool,
}

/// Width of the scenario menu.
const MENU_WIDTH: u16 = 20;
/// From this width on, the CPU and processes panels sit side by side.
const SIDE_BY_SIDE: u16 = 100;
/// From this size on (columns, rows) the screen is big: each core's history is a graph
/// several rows tall, and the processes panel takes the height the bottom panels are given.
pub const BIG: (u16, u16) = (160, 50);

pub fn layout(area: Rect, cores: usize) -> Areas {
    let tall = area.height >= 40;
    let big = area.width >= BIG.0 && area.height >= BIG.1;
    let log_h = if tall { 6 } else { 1 };
    let side_by_side = area.width >= SIDE_BY_SIDE;
    let cpu_w = if side_by_side {
        area.width * 11 / 20
    } else {
        area.width
    };
    // At most ~40% of the height goes to the bottom panels.
    let bottom_max = (area.height * 2 / 5).max(6);
    // Stacked, the cores come first: the processes panel keeps at least its header and a row.
    let cpu_max = if side_by_side {
        bottom_max
    } else {
        bottom_max.saturating_sub(3).max(3)
    };
    let cpu_h = cpu::height(cores, cpu_w, cpu_max, big);
    // A taller terminal shows more processes: a quarter of its rows.
    let procs_h: u16 = if tall { (area.height / 4).max(10) } else { 5 };
    let bottom_h = if big {
        bottom_max
    } else if side_by_side {
        cpu_h.max(procs_h)
    } else {
        cpu_h + procs_h
    }
    .min(bottom_max.max(cpu_h));

    let [header, middle, bottom, log] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(6),
        Constraint::Length(bottom_h),
        Constraint::Length(log_h),
    ])
    .areas(area);
    let [menu, main] =
        Layout::horizontal([Constraint::Length(MENU_WIDTH), Constraint::Min(20)]).areas(middle);
    let (cpu, processes) = if side_by_side {
        let [c, p] =
            Layout::horizontal([Constraint::Length(cpu_w), Constraint::Min(20)]).areas(bottom);
        (c, p)
    } else {
        let [c, p] =
            Layout::vertical([Constraint::Length(cpu_h), Constraint::Min(3)]).areas(bottom);
        (c, p)
    };
    Areas {
        header,
        menu,
        main,
        cpu,
        processes,
        log,
        big,
    }
}

/// Draws the whole dashboard, and records in `state` where it stands and what it drew.
pub fn draw(frame: &mut Frame, app: &App, state: &mut ViewState) {
    state.hits.clear();
    let area = frame.area();
    let lang = app.lang;
    if area.width < MIN_SIZE.0 || area.height < MIN_SIZE.1 {
        too_small::draw(frame, area, lang);
        return;
    }
    let areas = layout(area, app.cpu.cores.len());
    frame.render_widget(header(app, areas.header.width), areas.header);
    match (&app.compare, app.watched()) {
        // A watched program's panel takes the menu's place too: its lines are long.
        (_, Some(run)) => watch::draw(frame, areas.main.union(areas.menu), run, lang),
        // Side by side needs the width: the compare view takes the menu's place too.
        (Some(c), None) => compare::draw(
            frame,
            areas.main.union(areas.menu),
            app,
            c,
            &mut state.compare_summary,
        ),
        (None, None) => {
            menu::draw(frame, areas.menu, app, &mut state.hits);
            scenario::draw(frame, areas.main, app);
        }
    }
    let nice = match app.watching {
        Some(_) => crate::runner::nice_for(crate::watch::ID),
        None => crate::runner::RUNNER_NICE,
    };
    cpu::draw(
        frame,
        areas.cpu,
        &app.cpu,
        nice,
        app.interval_ms,
        lang,
        areas.big,
    );
    processes::draw(
        frame,
        areas.processes,
        &app.processes,
        app.show_threads,
        &mut state.processes,
        lang,
    );
    state.hits.add(areas.processes, Target::Processes);
    log::draw(frame, areas.log, &app.log, lang);
    let arrived =
        usize::try_from(app.logged.saturating_sub(state.logged_seen)).unwrap_or(usize::MAX);
    state.logged_seen = app.logged;
    match &app.overlay {
        Overlay::None => {}
        Overlay::Help => help::draw(frame, area, app.panels_key_context(), lang),
        Overlay::Lesson => overlay::lesson(frame, area, app.scenario(), lang, &mut state.lesson),
        Overlay::Report => overlay::report(frame, area, app, lang, &mut state.report),
        Overlay::Log => log::overlay(frame, area, &app.log, arrived, &mut state.event_log, lang),
        Overlay::Form(form) => {
            // The main column down to the event log, for a form taller than the main area.
            let room = Rect {
                height: areas.log.y.saturating_sub(areas.main.y),
                ..areas.main
            };
            form::draw(frame, areas.main, room, app.scenario(), form, lang);
            state.hits.cover(room);
        }
    }
    if matches!(
        app.overlay,
        Overlay::Help | Overlay::Lesson | Overlay::Report | Overlay::Log
    ) {
        // Until a key closes it, an overlay is all the mouse can reach.
        state.hits.cover(area);
    }
}

/// The keys the header names, when it is wide enough for all of them; the language key last.
const HEADER_KEYS: &[Action] = &[
    Action::SelectNext,
    Action::Run,
    Action::Edit,
    Action::OpenCompare,
    Action::Stop,
    Action::Help,
    Action::Quit,
    Action::SwitchLanguage,
];
/// The keys it names otherwise. The language key is always there: its hint is in the other
/// language, for whoever cannot read this one.
const HEADER_KEYS_NARROW: &[Action] = &[Action::Help, Action::Quit, Action::SwitchLanguage];

fn header(app: &App, width: u16) -> Line<'static> {
    let lang = app.lang;
    let running = app.active_runs().len();
    let state = match running {
        0 => WORDS.idle.get(lang).to_string(),
        1 => WORDS.one_active.get(lang).to_string(),
        n => WORDS.many_active.with(lang, &[("n", &n)]),
    };
    let line = |keys: &[Action]| {
        Line::from(vec![
            Span::styled(
                " conlab ",
                Style::new()
                    .fg(Color::Black)
                    .bg(Color::Cyan)
                    .add_modifier(Modifier::BOLD),
            ),
            Span::raw(WORDS.lab.get(lang)),
            Span::styled(state.clone(), Style::new().fg(Color::Yellow)),
            Span::styled(
                format!("   {}", keymap::hints(Context::Main, keys, lang)),
                DIM,
            ),
        ])
    };
    let wide = line(HEADER_KEYS);
    if wide.width() <= usize::from(width) {
        wide
    } else {
        line(HEADER_KEYS_NARROW)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::Msg;
    use crate::sampler::Sample;
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;
    use scroll::ScrollState;

    /// Every size from tiny to large draws without a panic, with every overlay, in both
    /// languages, and with every scrollable part scrolled too far.
    #[test]
    fn draws_at_any_size() {
        let mut app = App::new((80, 24), 500);
        let sample = Sample {
            cores: vec![50.0; 12],
            total: 50.0,
            ..Sample::default()
        };
        app.update(Msg::Sample(Box::new(sample)));
        app.update(Msg::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)));
        for i in 0..40 {
            app.push_log(format!("event {i} {}", "word ".repeat(i)));
        }
        let tiny: Vec<(u16, u16)> = [0, 1, 2, 5, 10, 20]
            .into_iter()
            .flat_map(|w| (0..4).map(move |h| (w, h)))
            .collect();
        let grid: Vec<(u16, u16)> = (0..=120)
            .step_by(13)
            .flat_map(|w| (0..=50).step_by(6).map(move |h| (w, h)))
            .chain(tiny.iter().copied())
            .collect();
        // Scrolled too far, a few real sizes and the tiny ones are enough.
        let scrolled: Vec<(u16, u16)> = [(80, 24), (120, 40), (200, 60)]
            .into_iter()
            .chain(tiny.iter().copied())
            .collect();
        let every = ['_', '?', 'e', 'l', 'v', 'c'];
        let both = [crate::i18n::Lang::En, crate::i18n::Lang::Zh];
        for (lang, overlay) in both.into_iter().flat_map(|l| every.map(|o| (l, o))) {
            app.lang = lang;
            if overlay != '_' {
                app.overlay = Overlay::None;
                app.update(Msg::Key(KeyEvent::new(
                    KeyCode::Char(overlay),
                    KeyModifiers::NONE,
                )));
            }
            for scroll in [0, usize::MAX] {
                let sizes = if scroll == 0 { &grid } else { &scrolled };
                for &(w, h) in sizes {
                    let mut state = ViewState {
                        processes: ScrollState::at(scroll),
                        lesson: ScrollState::at(scroll),
                        event_log: ScrollState::at(scroll),
                        compare_summary: ScrollState::at(scroll),
                        ..ViewState::default()
                    };
                    let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
                    terminal.draw(|f| draw(f, &app, &mut state)).unwrap();
                }
            }
        }
    }
}
