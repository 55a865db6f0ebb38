//! A replay's frame: the dashboard as it stood at the replay's position, with the header
//! turned into the position readout (time / total, speed, paused) and the time controls.

use super::ViewState;
use crate::app::MIN_SIZE;
use crate::app::replay::Replay;
use crate::i18n::Lang;
use crate::keymap::{self, Action, Context, ReplayAction};
use crate::style::DIM;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};

crate::i18n::phrases! {
    pub WORDS {
        replay: " replay · " => " 回放 · ",
        playing: "playing" => "播放中",
        paused: "paused" => "已暂停",
        ended: "at the end" => "已到结尾",
        events: "event {n}/{of}" => "事件 {n}/{of}",
        no_samples: "no CPU samples: a headless run" => "无 CPU 采样：无界面运行的录制",
    }
}

/// The keys the readout names when it is wide enough for all of them.
const KEYS: &[Action] = &[
    Action::Replay(ReplayAction::PlayPause),
    Action::Replay(ReplayAction::Faster),
    Action::Replay(ReplayAction::ToEnd),
    Action::Help,
    Action::Quit,
    Action::SwitchLanguage,
];
/// The keys it names otherwise; the language key always (see `view::HEADER_KEYS_NARROW`).
const KEYS_NARROW: &[Action] = &[
    Action::Replay(ReplayAction::PlayPause),
    Action::Help,
    Action::SwitchLanguage,
];

/// Draws the dashboard at the replay's position and the readout over its header.
pub fn draw(frame: &mut Frame, replay: &Replay, state: &mut ViewState) {
    super::draw(frame, &replay.app, state);
    let area = frame.area();
    if area.width < MIN_SIZE.0 || area.height < MIN_SIZE.1 {
        return;
    }
    let header = Rect { height: 1, ..area };
    frame.render_widget(ratatui::widgets::Clear, header);
    frame.render_widget(readout(replay, area.width), header);
}

/// The keys it names at the narrowest: help lists the rest.
const KEYS_TINY: &[Action] = &[Action::Help, Action::SwitchLanguage];

/// What the readout holds besides the clock, fullest first: the first that fits is shown.
const FITTINGS: [(bool, bool, &[Action]); 6] = [
    (true, true, KEYS),
    (true, true, KEYS_NARROW),
    (false, true, KEYS_NARROW),
    (false, false, KEYS_NARROW),
    (false, false, KEYS_TINY),
    (false, false, &[]),
];

/// `conlab replay · pool.jsonl · 1.2 s / 3.4 s · 1× · paused · event 12/40   Space …`, as
/// much of it as `width` holds: the clock always, then the keys, the event count, the file
/// name (and whether the CPU was recorded).
pub fn readout(replay: &Replay, width: u16) -> Line<'static> {
    let lang = replay.app.lang;
    let line = |(named, counted, keys): (bool, bool, &[Action])| {
        readout_with(replay, lang, named, counted, keys)
    };
    FITTINGS
        .into_iter()
        .map(line)
        .find(|l| l.width() <= usize::from(width))
        .unwrap_or_else(|| line(FITTINGS[FITTINGS.len() - 1]))
}

fn readout_with(
    replay: &Replay,
    lang: Lang,
    named: bool,
    counted: bool,
    keys: &[Action],
) -> Line<'static> {
    let (state, colour) = if replay.at_end() {
        (WORDS.ended, Color::Green)
    } else if replay.paused {
        (WORDS.paused, Color::Yellow)
    } else {
        (WORDS.playing, Color::Cyan)
    };
    let seconds = |ms: f64| format!("{:.1} s", ms / 1e3);
    let mut spans = vec![
        Span::styled(
            " conlab ",
            Style::new()
                .fg(Color::Black)
                .bg(Color::Cyan)
                .add_modifier(Modifier::BOLD),
        ),
        Span::raw(WORDS.replay.get(lang)),
    ];
    if named {
        let name = crate::text_safe::printable(&replay.name).into_owned();
        spans.push(Span::raw(format!("{name} · ")));
    }
    spans.push(Span::raw(format!(
        "{} / {} · {}× · ",
        seconds(replay.playhead_ms()),
        seconds(replay.total_ms()),
        replay.speed()
    )));
    spans.push(Span::styled(state.get(lang), Style::new().fg(colour)));
    if counted {
        let (n, of) = replay.events();
        let events = WORDS.events.with(lang, &[("n", &n), ("of", &of)]);
        spans.push(Span::raw(format!(" · {events}")));
    }
    if named && !replay.has_samples() {
        let note = WORDS.no_samples.get(lang);
        spans.push(Span::styled(format!(" · {note}"), DIM));
    }
    if !keys.is_empty() {
        let hints = keymap::hints(Context::Replay, keys, lang);
        spans.push(Span::styled(format!("   {hints}"), DIM));
    }
    Line::from(spans)
}
