//! The event loop of a replay (`conlab replay FILE`): the dashboard's terminal, input and
//! signals, with the replay's clock in place of runners and the sampler. Nothing is started:
//! everything drawn comes from the recording.

use super::{FRAME, input_msg, modes, no_resume, resume, spawn_input, suspend};
use crate::app::replay::Replay;
use crate::app::{Effect, Msg};
use crate::signals::{self, forward_dashboard_signals};
use crate::view::{self, ViewState};
use crossbeam_channel::{Receiver, select};
use nix::sys::signal::Signal;
use ratatui::Terminal;
use ratatui::backend::{Backend, CrosstermBackend};
use std::io;
use std::time::{Duration, Instant};

/// Plays `replay` in the terminal until the user quits or a signal ends it.
pub fn run_replay(mut replay: Replay) -> io::Result<()> {
    let signals = forward_dashboard_signals();
    if !crossterm::tty::IsTty::is_tty(&io::stdout()) {
        return Err(io::Error::other(
            "a replay needs a terminal; `conlab export` turns a recording into a trace instead",
        ));
    }
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        modes::give_back();
        default_hook(info);
    }));
    let result = modes::take().and_then(|()| {
        let mut terminal = Terminal::new(CrosstermBackend::new(io::stdout()))?;
        replay_loop(&mut terminal, &mut replay, &signals)
    });
    modes::give_back();
    result
}

fn replay_loop<B: Backend>(
    terminal: &mut Terminal<B>,
    replay: &mut Replay,
    signals: &Receiver<Signal>,
) -> io::Result<()>
where
    B::Error: Send + Sync + 'static,
{
    let input = spawn_input()?;
    let size = terminal.size().map_err(io::Error::other)?;
    replay.update(Msg::Resize(size.width, size.height));
    let mut view_state = ViewState::default();
    let mut clock = Instant::now();
    // After a stop of our own the SIGCONT that ended it is still to come as a message.
    let mut continue_expected = false;
    loop {
        view_state.request(replay.app.take_scroll_requests());
        terminal
            .draw(|frame| view::replay::draw(frame, replay, &mut view_state))
            .map_err(io::Error::other)?;
        // Playing, the next frame is due; paused, only input moves anything.
        let wait = if replay.paused {
            Duration::from_secs(3600)
        } else {
            FRAME
        };
        let msg = select! {
            recv(input) -> event => event.ok().and_then(|e| input_msg(e, &view_state)),
            recv(signals) -> signal => match signal {
                Ok(Signal::SIGTSTP) => {
                    suspend(terminal)?;
                    continue_expected = true;
                    // Time stopped is not time played.
                    clock = Instant::now();
                    None
                }
                Ok(Signal::SIGCONT) => {
                    if !std::mem::take(&mut continue_expected) {
                        resume(terminal)?;
                    }
                    None
                }
                _ => Some(Msg::Terminate),
            },
            default(wait) => None,
        };
        // The clock moves by the time that passed before the message: a key that resumes
        // play does not count the pause as played.
        replay.tick(clock.elapsed());
        clock = Instant::now();
        let Some(msg) = msg else { continue };
        for effect in replay.update(msg) {
            match effect {
                Effect::Quit => return Ok(()),
                Effect::Suspend if signals::can_be_resumed() => {
                    suspend(terminal)?;
                    continue_expected = true;
                    clock = Instant::now();
                }
                Effect::Suspend => {
                    let line = no_resume(replay.app.lang);
                    replay.app.push_log(line);
                }
                // No key of a replay starts or stops a run, or a program.
                Effect::Start(_)
                | Effect::Cancel(_)
                | Effect::Replay(_)
                | Effect::WatchTutorial(_) => {}
            }
        }
    }
}
