//! The dashboard's terminal side: set-up and restore (on quit, signals and panic), suspend
//! and resume (Ctrl-Z, SIGTSTP, SIGCONT), the input thread, and the event loop that
//! `select!`s over input, samples, runner updates and signals, feeds them to
//! [`App::update`], carries out the effects and redraws: at once (~20 a second at most) after
//! a key, ~5 times a second for what runs and the sampler send.

mod modes;
mod recorder;
mod replay;

use crate::app::{App, Effect, Msg};
use crate::event::record::Recorder;
use crate::i18n::Lang;
use crate::keymap::{self, Action, Context};
use crate::runner::{self, RunId, RunnerHandle, RunnerMsg, RunnerUpdate};
use crate::sampler::{self, Sample, Tracked};
use crate::signals::{self, forward_dashboard_signals};
use crate::view;
use crate::view::ViewState;
use crossbeam_channel::{Receiver, select};
use crossterm::event::{self as term, Event, KeyEventKind, MouseButton, MouseEventKind};
use nix::sys::signal::Signal;
use ratatui::Terminal;
use ratatui::backend::{Backend, CrosstermBackend};
use recorder::SessionRecorder;
use std::collections::HashMap;
use std::io;
use std::time::{Duration, Instant};

pub use replay::run_replay;

/// Shortest time between two frames (~20 a second) after a key or a signal: an answer to
/// the user is drawn at once.
pub const FRAME: Duration = Duration::from_millis(50);

/// Shortest time between two frames owed only to what runs and the sampler send (~5 a
/// second): live figures come every 100 ms, more than the eye follows, and each frame of a
/// big screen costs about 2 ms of CPU.
pub const QUIET_FRAME: Duration = Duration::from_millis(200);

/// How long quitting waits for each killed runner to be reaped.
const REAP_TIMEOUT: Duration = Duration::from_secs(2);

/// Opens the dashboard, speaking `lang`, and runs it until the user quits or a signal ends it;
/// with a `recorder`, the session is recorded; with `watch`, it watches that program first.
pub fn run_dashboard(
    interval_ms: u64,
    selected: usize,
    lang: Lang,
    recorder: Option<Recorder>,
    watch: Option<crate::params::Params>,
) -> io::Result<()> {
    let signals = forward_dashboard_signals();
    if !crossterm::tty::IsTty::is_tty(&io::stdout()) {
        return Err(io::Error::other(
            "the dashboard needs a terminal; for a headless run use `conlab run <scenario>` (see `conlab list`)",
        ));
    }
    // A panic cancels every run (each runner ends what it started) and gives the terminal
    // back before the message.
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        runner::cancel_all_runners();
        modes::give_back();
        default_hook(info);
    }));
    let mut recorder = SessionRecorder::new(recorder);
    let result = modes::take().and_then(|()| {
        let mut terminal = Terminal::new(CrosstermBackend::new(io::stdout()))?;
        event_loop(
            &mut terminal,
            interval_ms,
            (selected, lang),
            signals,
            &mut recorder,
            watch.map(Msg::Watch),
        )
    });
    modes::give_back();
    let recorded = recorder
        .finish()
        .map_err(|e| io::Error::other(format!("the recording stopped: {e}")));
    result.and(recorded)
}

crate::i18n::phrases! {
    pub WORDS {
        no_resume: "Ctrl-Z ignored: no job-control shell started conlab, so nothing here could resume it ({quit} quits)"
            => "已忽略 Ctrl-Z：conlab 不是由带作业控制的 shell 启动的，挂起后没有谁能让它继续（按 {quit} 退出）",
    }
}

/// Why Ctrl-Z does nothing where nothing could resume the dashboard.
fn no_resume(lang: Lang) -> String {
    let quit = keymap::key_for(Context::Main, Action::Quit);
    WORDS.no_resume.with(lang, &[("quit", &quit)])
}

/// Gives the terminal back, stops the whole process until it is continued, and takes the
/// terminal again. Runners go on meanwhile: they are in process groups of their own.
fn suspend<B: Backend>(terminal: &mut Terminal<B>) -> io::Result<()>
where
    B::Error: Send + Sync + 'static,
{
    modes::give_back();
    signals::stop_until_continued();
    resume(terminal)
}

/// Takes the terminal again after a stop; the next frame redraws all of it, since whatever
/// ran meanwhile may have written over it.
fn resume<B: Backend>(terminal: &mut Terminal<B>) -> io::Result<()>
where
    B::Error: Send + Sync + 'static,
{
    modes::take()?;
    // Not `Terminal::clear`: it asks the terminal where the cursor is, and the input thread
    // would take the answer. A resize to the current size clears the screen and forgets
    // the last frame all the same.
    let size = terminal.size().map_err(io::Error::other)?;
    terminal
        .resize(ratatui::layout::Rect::new(0, 0, size.width, size.height))
        .map_err(io::Error::other)
}

/// Reads terminal input on its own thread (crossterm's `read` blocks).
fn spawn_input() -> io::Result<Receiver<Event>> {
    let (tx, rx) = crossbeam_channel::unbounded();
    std::thread::Builder::new()
        .name("input".into())
        .spawn(move || {
            while let Ok(event) = term::read() {
                if tx.send(event).is_err() {
                    return;
                }
            }
        })?;
    Ok(rx)
}

/// Input the model cares about; mouse motion and key releases are dropped here so they never
/// cause a redraw. A click or a wheel notch goes to what the last frame drew under it.
fn input_msg(event: Event, view: &ViewState) -> Option<Msg> {
    match event {
        Event::Key(key) if key.kind != KeyEventKind::Release => Some(Msg::Key(key)),
        Event::Mouse(mouse) => {
            let target = view.target_at(mouse.column, mouse.row)?;
            match mouse.kind {
                MouseEventKind::Down(MouseButton::Left) => Some(Msg::Click(target)),
                MouseEventKind::ScrollDown => Some(Msg::Wheel(target, 1)),
                MouseEventKind::ScrollUp => Some(Msg::Wheel(target, -1)),
                _ => None,
            }
        }
        Event::Resize(w, h) => Some(Msg::Resize(w, h)),
        Event::Paste(text) => Some(Msg::Paste(text)),
        _ => None,
    }
}

/// The end-to-end tests prove the terminal is restored after a panic: with
/// `CONLAB_TEST_PANIC_KEY=<char>` set, that key makes the UI thread panic.
fn panic_if_asked(msg: &Msg) {
    if let Msg::Key(key) = msg
        && let Ok(wanted) = std::env::var("CONLAB_TEST_PANIC_KEY")
        && key.code == crossterm::event::KeyCode::Char(wanted.chars().next().unwrap_or('\0'))
    {
        panic!("panic requested by CONLAB_TEST_PANIC_KEY");
    }
}

fn event_loop<B: Backend>(
    terminal: &mut Terminal<B>,
    interval_ms: u64,
    (selected, lang): (usize, Lang),
    signals: Receiver<Signal>,
    recorder: &mut SessionRecorder,
    first: Option<Msg>,
) -> io::Result<()>
where
    B::Error: Send + Sync + 'static,
{
    let input = spawn_input()?;
    let tracked = std::sync::Arc::new(Tracked::default());
    let (sample_tx, samples) = crossbeam_channel::bounded::<Box<Sample>>(4);
    let (_stop_sampler, sampler_stop) = crossbeam_channel::bounded::<()>(0);
    sampler::spawn(
        Duration::from_millis(interval_ms),
        tracked.clone(),
        sample_tx,
        sampler_stop,
    )?;
    let (runner_tx, runner_updates) = crossbeam_channel::unbounded::<RunnerUpdate>();

    let size = terminal.size().map_err(io::Error::other)?;
    let mut app = App::new((size.width, size.height), interval_ms);
    app.selected = selected;
    app.lang = lang;
    let mut handles: HashMap<RunId, RunnerHandle> = HashMap::new();
    let channels = Channels {
        input,
        samples,
        runner_updates,
        runner_tx,
        signals,
        feed_observers: Duration::from_millis(interval_ms) <= runner::FEED_MAX_INTERVAL,
    };
    let result = drive(
        terminal,
        &mut app,
        &channels,
        (&tracked, &mut handles),
        recorder,
        first,
    );
    // However the loop ended (quit, a signal, a terminal that went away), every run is
    // cancelled first, so each runner ends what it started; killed only if it does not end
    // in time.
    RunnerHandle::end_all(handles.into_values(), REAP_TIMEOUT);
    // What those runs said while they ended belongs in a recording of the session too.
    for update in channels.runner_updates.try_iter() {
        recorder.runner(&update);
    }
    crate::watch::tutorial::remove_dir(&crate::watch::tutorial::session_dir());
    result
}

/// What the event loop listens to, and where runners send their updates.
struct Channels {
    input: Receiver<Event>,
    samples: Receiver<Box<Sample>>,
    runner_updates: Receiver<RunnerUpdate>,
    runner_tx: crossbeam_channel::Sender<RunnerUpdate>,
    signals: Receiver<nix::sys::signal::Signal>,
    /// The sampler reads often enough that a run's observer takes its readings of the tree
    /// rather than reading `/proc` again.
    feed_observers: bool,
}

/// Feeds everything that happens to the model, carries out its effects and redraws, until
/// the model says quit or drawing fails.
fn drive<B: Backend>(
    terminal: &mut Terminal<B>,
    app: &mut App,
    channels: &Channels,
    (tracked, handles): (&Tracked, &mut HashMap<RunId, RunnerHandle>),
    recorder: &mut SessionRecorder,
    mut first: Option<Msg>,
) -> io::Result<()>
where
    B::Error: Send + Sync + 'static,
{
    let Channels {
        input,
        samples,
        runner_updates,
        runner_tx,
        signals,
        feed_observers,
    } = channels;
    let mut view_state = ViewState::default();
    let mut dirty = true;
    // A key or a signal is waiting to be drawn: the next frame comes sooner.
    let mut urgent = true;
    let mut last_frame = Instant::now() - FRAME;
    // After a stop of our own the SIGCONT that ended it is still to come as a message; the
    // terminal was taken again already.
    let mut continue_expected = false;

    loop {
        let interval = if urgent { FRAME } else { QUIET_FRAME };
        if dirty && last_frame.elapsed() >= interval {
            view_state.request(app.take_scroll_requests());
            terminal
                .draw(|frame| view::draw(frame, app, &mut view_state))
                .map_err(io::Error::other)?;
            last_frame = Instant::now();
            dirty = false;
            urgent = false;
        }
        // Sleep until something happens, or until the next frame is allowed if one is owed.
        let wait = if dirty {
            interval.saturating_sub(last_frame.elapsed())
        } else {
            Duration::from_secs(3600)
        };
        let msg = if let Some(msg) = first.take() {
            msg
        } else {
            select! {
            recv(input) -> event => match event.ok().and_then(|e| input_msg(e, &view_state)) {
                Some(msg) => msg,
                None => continue,
            },
            recv(samples) -> sample => match sample {
                Ok(sample) => {
                    recorder.sample(&sample);
                    Msg::Sample(sample)
                }
                Err(_) => continue,
            },
            recv(runner_updates) -> update => match update {
                Ok(update) => {
                    recorder.runner(&update);
                    Msg::Runner(update)
                }
                Err(_) => continue,
            },
            recv(signals) -> signal => match signal {
                Ok(Signal::SIGTSTP) => {
                    suspend(terminal)?;
                    continue_expected = true;
                    (dirty, urgent) = (true, true);
                    continue;
                }
                Ok(Signal::SIGCONT) => {
                    if !std::mem::take(&mut continue_expected) {
                        resume(terminal)?;
                        (dirty, urgent) = (true, true);
                    }
                    continue;
                }
                _ => Msg::Terminate,
            },
            default(wait) => continue,
            }
        };
        panic_if_asked(&msg);
        urgent |= !matches!(msg, Msg::Runner(_) | Msg::Sample(_));
        let reaped = match &msg {
            Msg::Runner(RunnerUpdate {
                run,
                msg: RunnerMsg::Exited { .. },
            }) => Some(*run),
            _ => None,
        };
        let mut effects: std::collections::VecDeque<Effect> = app.update(msg).into();
        while let Some(effect) = effects.pop_front() {
            match effect {
                Effect::Start(id) => {
                    let Some(run) = app.runs.get(&id) else {
                        continue;
                    };
                    let nice = runner::nice_for(run.scenario.id);
                    let feed = feed_observers.then(|| tracked.observe());
                    let spawned = runner::spawn(
                        id,
                        run.scenario.id,
                        &run.params,
                        nice,
                        runner_tx.clone(),
                        feed,
                    );
                    match spawned {
                        Ok(handle) => {
                            recorder.run_started(id, run.scenario.id, &run.params);
                            app.runner_started(id, handle.pid);
                            handles.insert(id, handle);
                        }
                        Err(e) => app.start_failed(id, e.to_string()),
                    }
                }
                Effect::Cancel(id) => {
                    if let Some(handle) = handles.get(&id) {
                        handle.cancel();
                    }
                }
                Effect::WatchTutorial(scenario) => {
                    use crate::watch::tutorial;
                    let prepared = tutorial::for_scenario(scenario)
                        .ok_or(tutorial::Unavailable::NoProgram)
                        .and_then(|p| tutorial::watch_params(p, &tutorial::session_dir()));
                    match prepared {
                        Ok(params) => effects.extend(app.start_watch(params)),
                        Err(why) => app.tutorial_unavailable(scenario, why),
                    }
                }
                Effect::Suspend if signals::can_be_resumed() => {
                    suspend(terminal)?;
                    continue_expected = true;
                }
                Effect::Suspend => {
                    let line = no_resume(app.lang);
                    app.push_log(line);
                }
                Effect::Quit => return Ok(()),
                // Only a replay's keys ask for these, and a replay has its own loop.
                Effect::Replay(_) => {}
            }
        }
        if let Some(handle) = reaped.and_then(|id| handles.remove(&id)) {
            handle.kill_and_reap(REAP_TIMEOUT);
        }
        tracked.set_runners(app.live_runner_pids().into_iter().collect());
        tracked.set_threads(app.show_threads);
        dirty = true;
    }
}
