//! Fixed models for the view snapshots: a dashboard built through the public API (messages
//! into `App::update`, as the event loop sends them), with fixed PIDs, times and CPU figures,
//! drawn into ratatui's `TestBackend` and read back cell by cell.
//!
//! No `insta` snapshot is taken here: a snapshot's name carries the module that takes it.

use conlab::app::{App, Effect, Msg, Target};
use conlab::event::{Body, Event};
use conlab::runner::{RunId, RunnerMsg, RunnerUpdate};
use conlab::sampler::{ProcSample, Sample};
use conlab::view::ViewState;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::style::Color;

/// The PID the fixed dashboard pretends to have (every runner's parent).
pub const DASHBOARD: u32 = 4100;

pub fn press(app: &mut App, code: KeyCode) -> Vec<Effect> {
    app.update(Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)))
}

/// A dashboard with the scenario `id` selected in the menu (with ↓, as a user would; other
/// scenarios may come before it in the registry).
pub fn dashboard(id: &str, width: u16, height: u16) -> App {
    let mut app = App::with_catalogue((width, height), 500, catalogue());
    for _ in 0..catalogue().len() {
        if app.scenario().id == id {
            break;
        }
        press(&mut app, KeyCode::Down);
    }
    assert_eq!(app.scenario().id, id, "`{id}` is in the menu");
    app
}

/// The menu every snapshot draws: the lessons as they stood when the snapshots were made, so
/// a scenario added to conlab rewrites none of them (a snapshot of its own shows it).
const CATALOGUE: [&str; 10] = [
    "fork",
    "process",
    "pool",
    "subprocess",
    "queue",
    "pipe",
    "threads",
    "lock",
    "multicore",
    "thread-local",
];

pub fn catalogue() -> &'static [&'static conlab::scenarios::Scenario] {
    static FIXED: std::sync::OnceLock<Vec<&'static conlab::scenarios::Scenario>> =
        std::sync::OnceLock::new();
    FIXED.get_or_init(|| {
        CATALOGUE
            .iter()
            .map(|id| conlab::scenarios::find(id).expect("a lesson of the fixed menu"))
            .collect()
    })
}

/// One sampling tick: fixed per-core figures, the runners' processes.
pub fn sample(cores: &[f32], processes: Vec<ProcSample>) -> Msg {
    let total = cores.iter().sum::<f32>() / cores.len().max(1) as f32;
    Msg::Sample(Box::new(Sample {
        cores: cores.to_vec(),
        total,
        self_cpu_pct: 1.5,
        processes,
        reaped: Vec::new(),
    }))
}

/// `n` ticks of a machine with `cores` cores, each core with its own repeatable pattern, so
/// the history graphs have something to show.
pub fn feed_cpu(app: &mut App, cores: usize, n: usize) {
    for step in 0..n {
        let figures: Vec<f32> = (0..cores)
            .map(|i| ((i * 37 + step * 13) % 101) as f32)
            .collect();
        app.update(sample(&figures, vec![]));
    }
}

/// A dashboard on scenario `id`, on a 2-core machine that has been sampled a few times.
pub fn idle(id: &str, width: u16, height: u16) -> App {
    let mut app = dashboard(id, width, height);
    feed_cpu(&mut app, 2, 12);
    app
}

pub fn event(app: &mut App, run: RunId, t_ms: f64, pid: u32, body: Body) {
    app.update(Msg::Runner(RunnerUpdate {
        run,
        msg: RunnerMsg::Event(Event::new(t_ms, pid, body)),
    }));
}

/// A log line of process `pid`.
pub fn log(app: &mut App, run: RunId, t_ms: f64, pid: u32, text: &str) {
    event(app, run, t_ms, pid, Body::Log { text: text.into() });
}

/// Process `pid` begins span `span` of category `cat`, a step of item `flow`.
#[allow(clippy::too_many_arguments)]
pub fn begin(
    app: &mut App,
    run: RunId,
    t_ms: f64,
    pid: u32,
    span: u64,
    cat: &str,
    name: &str,
    flow: u64,
) {
    let body = Body::Begin {
        span,
        cat: cat.to_string(),
        name: name.to_string(),
        tid: Some(pid),
        flow: Some(flow),
    };
    event(app, run, t_ms, pid, body);
}

/// Process `pid` ends its span `span`.
pub fn end(app: &mut App, run: RunId, t_ms: f64, pid: u32, span: u64) {
    event(app, run, t_ms, pid, Body::End { span });
}

/// Process `pid` counts `name` at `value`.
pub fn count(app: &mut App, run: RunId, t_ms: f64, pid: u32, name: &str, value: f64) {
    let name = name.to_string();
    event(app, run, t_ms, pid, Body::Count { name, value });
}

/// Process `pid` announces itself as `role`.
pub fn announce(app: &mut App, run: RunId, t_ms: f64, pid: u32, ppid: u32, role: &str) {
    let role = role.to_string();
    event(app, run, t_ms, pid, Body::Process { ppid, role });
}

/// Process `pid` of the run ended with `exit` (as shown: `code 0`), as its parent announces it.
pub fn exit(app: &mut App, run: RunId, t_ms: f64, pid: u32, exit: &str) {
    let exit = exit.parse().expect("an exit as shown");
    event(app, run, t_ms, pid, Body::ProcessExit { exit });
}

/// The runner of `run` was reaped with `exit` (as shown: `code 0`).
pub fn exited(app: &mut App, run: RunId, exit: &str) -> Vec<Effect> {
    app.update(Msg::Runner(RunnerUpdate {
        run,
        msg: RunnerMsg::Exited {
            exit: Some(exit.parse().expect("an exit as shown")),
        },
    }))
}

/// What the event loop does when it starts a runner: records its PID, and the runner's first
/// event announces it.
pub fn runner_up(app: &mut App, run: RunId, pid: u32) {
    app.runner_started(run, pid);
    announce(app, run, 0.02, pid, DASHBOARD, "runner");
}

/// `app` drawn by a fresh view: everything that scrolls at its start. [`Screen`] keeps the
/// view from frame to frame.
pub fn draw(app: &App, width: u16, height: u16) -> Terminal<TestBackend> {
    draw_with(app, &mut ViewState::default(), width, height)
}

fn draw_with(app: &App, view: &mut ViewState, width: u16, height: u16) -> Terminal<TestBackend> {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("test terminal");
    terminal
        .draw(|frame| conlab::view::draw(frame, app, view))
        .expect("draw");
    terminal
}

/// The model and what the view keeps between frames, driven as the event loop drives them:
/// the view takes the model's scroll requests before each frame, a click goes to what the
/// last frame drew under it, and a frame follows every message.
pub struct Screen {
    pub app: App,
    pub view: ViewState,
}

impl Screen {
    /// `app` on a screen of its size, drawn once.
    pub fn new(app: App) -> Screen {
        let mut screen = Screen {
            app,
            view: ViewState::default(),
        };
        screen.draw();
        screen
    }

    /// A frame at the model's screen size.
    pub fn draw(&mut self) -> Terminal<TestBackend> {
        self.view.request(self.app.take_scroll_requests());
        let (width, height) = self.app.size;
        draw_with(&self.app, &mut self.view, width, height)
    }

    /// The screen's rows after a fresh frame.
    pub fn text(&mut self) -> String {
        rows(self.draw().backend().buffer()).join("\n")
    }

    pub fn update(&mut self, msg: Msg) -> Vec<Effect> {
        let effects = self.app.update(msg);
        self.draw();
        effects
    }

    pub fn press(&mut self, code: KeyCode) -> Vec<Effect> {
        self.update(Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)))
    }

    /// A left click at a cell; whatever the last frame drew there takes it.
    pub fn click(&mut self, column: u16, row: u16) {
        if let Some(target) = self.view.target_at(column, row) {
            self.update(Msg::Click(target));
        }
    }

    /// Mouse wheel notches (down positive) at a cell.
    pub fn wheel(&mut self, column: u16, row: u16, notches: isize) {
        if let Some(target) = self.view.target_at(column, row) {
            self.update(Msg::Wheel(target, notches));
        }
    }

    /// What a mouse action at a cell would reach.
    pub fn target_at(&self, column: u16, row: u16) -> Option<Target> {
        self.view.target_at(column, row)
    }
}

/// The buffer's rows as text, as on screen: a wide character (a Chinese one) is one
/// character of the text, the cell it covers none.
pub fn rows(buffer: &Buffer) -> Vec<String> {
    let width = buffer.area.width as usize;
    buffer
        .content
        .chunks(width)
        .map(|cells| {
            let mut covered = 0;
            let mut row = String::new();
            for cell in cells {
                if covered == 0 {
                    row.push_str(cell.symbol());
                }
                let width = ratatui::text::Span::raw(cell.symbol()).width();
                covered = covered.max(width).saturating_sub(1);
            }
            row
        })
        .collect()
}

/// Position of the first cell of the first occurrence of `text` (searched row by row, by
/// cells, so it works with multi-byte symbols).
pub fn find(buffer: &Buffer, text: &str) -> Option<(u16, u16)> {
    (0..buffer.area.height).find_map(|y| find_in_row(buffer, y, text).map(|x| (x, y)))
}

/// Column of the first occurrence of `text` in row `y` (a wide character covers the cell
/// after its own, as on screen).
pub fn find_in_row(buffer: &Buffer, y: u16, text: &str) -> Option<u16> {
    let want: Vec<String> = text.chars().map(String::from).collect();
    let width = buffer.area.width;
    (0..width).find(|x| {
        let mut cx = *x;
        want.iter().all(|ch| {
            let found = cx < width && buffer[(cx, y)].symbol() == ch;
            cx += ratatui::text::Span::raw(ch.as_str()).width().max(1) as u16;
            found
        })
    })
}

/// The foreground colour of the first cell of `text` on screen.
pub fn fg_of(buffer: &Buffer, text: &str) -> Color {
    let (x, y) = find(buffer, text)
        .unwrap_or_else(|| panic!("`{text}` not on screen:\n{}", rows(buffer).join("\n")));
    buffer[(x, y)].fg
}
