//! Every key the dashboard answers, in one table: where it works, what it does, and the words
//! for it. The model reads the actions ([`action`]), the view the words (the help overlay and
//! every footer hint), so a key cannot do one thing and be described as another.
//!
//! The words are in both languages ([`Phrase`]); keys are named the same in both, but for the
//! wildcards (`any other key`, 其他任意键).
//!
//! It sits below both model and view and imports neither, so both read it without the model
//! importing the view (which is why it is not in `tui/`, above them both). Figures the words
//! mention are placeholders the view fills from where they are defined: `{grace}` (the
//! cancel grace period), `{kept}` (how many events the log keeps) and `{term}` (how long a
//! watched program gets to end on SIGTERM).

use crate::i18n::{Lang, Phrase};
use Action as A;
use Context as C;
use KeyCode::{
    BackTab, Backspace, Down, End, Enter, Esc, Home, Left, PageDown, PageUp, Right, Tab, Up,
};
use ReplayAction as R;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// Where the dashboard is when a key arrives; one context at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Context {
    /// Not a context of its own: the keys that work in every one.
    Anywhere,
    /// The screen is below the size the panels need.
    TooSmall,
    /// The menu and the selected scenario's panel.
    Main,
    /// The compare view.
    Compare,
    /// A watched program's panel (`conlab watch`, or a lesson's tutorial code).
    Watch,
    /// The parameter form.
    Form,
    Help,
    Lesson,
    /// The last run's whole report.
    Report,
    EventLog,
    /// A recording played back (`conlab replay`): its panels, with time controls.
    Replay,
}

impl Context {
    pub const ALL: [Context; 11] = [
        Context::Anywhere,
        Context::TooSmall,
        Context::Main,
        Context::Compare,
        Context::Watch,
        Context::Form,
        Context::Help,
        Context::Lesson,
        Context::Report,
        Context::EventLog,
        Context::Replay,
    ];
}

/// What a key asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Quit,
    Suspend,
    SelectPrevious,
    SelectNext,
    Run,
    Edit,
    /// Stop the run (in compare: the running variants).
    Stop,
    OpenCompare,
    Lesson,
    /// The last run's whole report: figures, verdict, insights.
    Report,
    Events,
    Help,
    /// English ⇄ Chinese.
    SwitchLanguage,
    ToggleThreads,
    ProcessesPageUp,
    ProcessesPageDown,
    /// In compare: run every variant again.
    Rerun,
    /// In compare: run every variant several times, for statistics.
    Repeat,
    /// In compare: one after another, or all at once.
    RaceMode,
    /// In compare: stop the running variants, or close the view when none runs.
    StopOrClose,
    CloseCompare,
    /// Watch python3 running the selected lesson's tutorial program.
    TutorialCode,
    /// In a scrolling view: a line, or ten.
    ScrollUp,
    ScrollDown,
    ScrollPageUp,
    ScrollPageDown,
    /// Close the overlay.
    Close,
    Form(FormAction),
    Replay(ReplayAction),
}

/// What a key asks of a replay's clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplayAction {
    PlayPause,
    /// To just after the next event (pauses).
    StepForward,
    /// To just after the previous event (pauses).
    StepBack,
    Faster,
    Slower,
    ToStart,
    ToEnd,
}

/// What a key asks of the parameter form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormAction {
    Apply,
    Cancel,
    NextField,
    PreviousField,
    PreviousChoice,
    NextChoice,
    DeleteChar,
    /// Type the key's character into the focused field.
    Type,
}

/// A key as the table names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    /// This key, whatever modifiers come with it (Shift makes `?`; a terminal may add Alt).
    Code(KeyCode),
    /// The letter with Ctrl held.
    Ctrl(char),
    /// Any character without a binding of its own in the context.
    AnyChar,
    /// Any key without a binding of its own in the context.
    Any,
}

impl Key {
    fn matches(self, key: &KeyEvent) -> bool {
        match self {
            Key::Code(code) => key.code == code,
            Key::Ctrl(c) => {
                key.code == KeyCode::Char(c) && key.modifiers.contains(KeyModifiers::CONTROL)
            }
            Key::AnyChar => matches!(key.code, KeyCode::Char(_)),
            Key::Any => true,
        }
    }

    fn is_wildcard(self) -> bool {
        matches!(self, Key::AnyChar | Key::Any)
    }
}

/// Words for some keys: the keys as written, and what they do, in both languages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Words {
    pub keys: Phrase,
    pub does: Phrase,
}

impl Words {
    /// `e edit` (`e 编辑`); `↑↓` alone when the keys say it all.
    pub fn hint(&self, lang: Lang) -> String {
        let (keys, does) = (self.keys.get(lang), self.does.get(lang));
        if does.is_empty() {
            keys.to_string()
        } else {
            format!("{keys} {does}")
        }
    }
}

/// One row of the table: keys bound to actions in some contexts, with the line the help
/// shows for them and the hint a footer shows.
#[derive(Debug)]
pub struct Binding {
    pub contexts: &'static [Context],
    pub keys: &'static [(Key, Action)],
    pub help: Option<Words>,
    pub hint: Option<Words>,
}

/// Keys named the same in both languages, and what they do in English and in Chinese.
const fn words(keys: &'static str, en: &'static str, zh: &'static str) -> Option<Words> {
    Some(Words {
        keys: Phrase::new(keys, keys),
        does: Phrase::new(en, zh),
    })
}

/// Words for a wildcard: the keys, then what they do, each in English and in Chinese.
const fn any_key(
    keys: (&'static str, &'static str),
    does: (&'static str, &'static str),
) -> Option<Words> {
    Some(Words {
        keys: Phrase::new(keys.0, keys.1),
        does: Phrase::new(does.0, does.1),
    })
}

const fn letter(c: char) -> Key {
    Key::Code(KeyCode::Char(c))
}

const fn code(code: KeyCode) -> Key {
    Key::Code(code)
}

/// Where the panels are in view: keys that only look (threads, scrolling, the event log,
/// help) work while watching a program and in a replay too.
const DASHBOARD: &[Context] = &[C::Main, C::Compare, C::Watch, C::Replay];
/// The form types every character into its field, so a letter cannot work there.
const ALL_BUT_THE_FORM: &[Context] = &[
    C::TooSmall,
    C::Main,
    C::Compare,
    C::Watch,
    C::Help,
    C::Lesson,
    C::Report,
    C::EventLog,
    C::Replay,
];
const SCROLLING_OVERLAYS: &[Context] = &[C::Lesson, C::Report, C::EventLog];

/// The table. Rows with help words appear in the help in this order.
pub const KEYMAP: &[Binding] = &[
    Binding {
        contexts: &[C::Main],
        keys: &[
            (code(Up), A::SelectPrevious),
            (code(Down), A::SelectNext),
            (letter('k'), A::SelectPrevious),
            (letter('j'), A::SelectNext),
        ],
        help: words(
            "↑ ↓  j k",
            "select a scenario (or click it)",
            "选择一个实验（或用鼠标点击）",
        ),
        hint: words("↑↓", "select", "选择"),
    },
    Binding {
        contexts: &[C::Main],
        keys: &[(code(Enter), A::Run)],
        help: words("Enter", "run the selected scenario", "运行选中的实验"),
        hint: words("Enter", "run", "运行"),
    },
    Binding {
        contexts: &[C::Main],
        keys: &[(letter('e'), A::Edit)],
        help: words(
            "e",
            "edit its parameters (Tab moves, ←→ cycles choices, Enter applies)",
            "编辑参数（Tab 移动，←→ 切换选项，Enter 应用）",
        ),
        hint: words("e", "edit", "编辑"),
    },
    Binding {
        contexts: &[C::Main],
        keys: &[(letter('s'), A::Stop), (code(Esc), A::Stop)],
        help: words(
            "s  Esc",
            "stop the run: SIGTERM to its process group, SIGKILL after {grace}",
            "停止运行：向其进程组发 SIGTERM，{grace} 后再发 SIGKILL",
        ),
        hint: words("s", "stop", "停止"),
    },
    Binding {
        contexts: &[C::Main],
        keys: &[(letter('c'), A::OpenCompare)],
        help: words(
            "c",
            "compare its variants side by side (runs them)",
            "并排比较各个变体（会逐一运行）",
        ),
        hint: words("c", "compare", "比较"),
    },
    Binding {
        contexts: &[C::Main],
        keys: &[(letter('p'), A::TutorialCode)],
        help: words(
            "p",
            "run this lesson's tutorial code in python3, watched",
            "用 python3 运行本课的教程代码，并观察它",
        ),
        hint: words("p", "tutorial code", "教程代码"),
    },
    Binding {
        contexts: &[C::Watch],
        keys: &[(letter('s'), A::Stop)],
        help: words(
            "  s",
            "watching: stop the program (SIGTERM, SIGKILL after {term})",
            "观察中：停止程序（先 SIGTERM，{term} 后 SIGKILL）",
        ),
        hint: words("s", "stop", "停止"),
    },
    Binding {
        contexts: &[C::Watch],
        keys: &[(code(Esc), A::StopOrClose)],
        help: words(
            "  Esc",
            "watching: stop; once it has ended, back to the lessons",
            "观察中：停止；程序结束后回到课程",
        ),
        hint: words("Esc", "close", "关闭"),
    },
    Binding {
        contexts: &[C::Compare],
        keys: &[(letter('r'), A::Rerun), (code(Enter), A::Rerun)],
        help: words("  r", "in compare: run again", "比较中：重新运行"),
        hint: words("r", "rerun", "重跑"),
    },
    Binding {
        contexts: &[C::Compare],
        keys: &[(letter('n'), A::Repeat)],
        help: words(
            "  n",
            "in compare: each variant several times: mean ± σ, ratios ± 95%",
            "比较中：每个变体运行多次：平均值 ± σ，比值带 95% 区间",
        ),
        hint: words("n", "×N runs", "×N 次"),
    },
    Binding {
        contexts: &[C::Compare],
        keys: &[(letter('m'), A::RaceMode)],
        help: words(
            "  m",
            "in compare: one after another ⇄ all at once (a race)",
            "比较中：依次运行 ⇄ 同时运行（互相争抢）",
        ),
        hint: words("m", "race/one by one", "同时/依次"),
    },
    Binding {
        contexts: &[C::Compare],
        keys: &[
            (code(Up), A::ScrollUp),
            (code(Down), A::ScrollDown),
            (letter('k'), A::ScrollUp),
            (letter('j'), A::ScrollDown),
        ],
        help: words(
            "  ↑↓ j k",
            "in compare: scroll the verdicts when they do not fit",
            "比较中：结论放不下时上下滚动",
        ),
        hint: words("↑↓", "", ""),
    },
    Binding {
        contexts: &[C::Compare],
        keys: &[(letter('s'), A::Stop)],
        help: None,
        hint: words("s", "stop", "停止"),
    },
    Binding {
        contexts: &[C::Compare],
        keys: &[(code(Esc), A::StopOrClose)],
        help: None,
        hint: words("Esc", "close", "关闭"),
    },
    Binding {
        contexts: &[C::Compare],
        keys: &[(letter('c'), A::CloseCompare)],
        help: None,
        hint: None,
    },
    Binding {
        contexts: &[C::Replay],
        keys: &[
            (letter(' '), A::Replay(R::PlayPause)),
            (code(Left), A::Replay(R::StepBack)),
            (code(Right), A::Replay(R::StepForward)),
        ],
        help: words(
            "Space ← →",
            "in a replay: pause ⇄ play; step to the previous / next event",
            "回放中：暂停 ⇄ 播放；后退/前进到上一个/下一个事件",
        ),
        hint: words("Space ←→", "pause, step", "暂停、单步"),
    },
    Binding {
        contexts: &[C::Replay],
        keys: &[
            (letter('-'), A::Replay(R::Slower)),
            (letter('+'), A::Replay(R::Faster)),
            // `+` without Shift.
            (letter('='), A::Replay(R::Faster)),
        ],
        help: words(
            "- +",
            "in a replay: slower / faster (0.1× to 10×)",
            "回放中：减速/加速（0.1× 到 10×）",
        ),
        hint: words("-/+", "speed", "速度"),
    },
    Binding {
        contexts: &[C::Replay],
        keys: &[
            (code(Home), A::Replay(R::ToStart)),
            (code(End), A::Replay(R::ToEnd)),
        ],
        help: words(
            "Home End",
            "in a replay: jump to the start / the end",
            "回放中：跳到开头/结尾",
        ),
        hint: words("Home End", "", ""),
    },
    Binding {
        contexts: DASHBOARD,
        keys: &[(letter('t'), A::ToggleThreads)],
        help: words(
            "t",
            "show/hide each process's threads (TID, name, core, switches)",
            "显示/隐藏每个进程的线程（TID、名称、CPU 核、切换次数）",
        ),
        hint: words("t", "shows threads", "显示线程"),
    },
    Binding {
        contexts: DASHBOARD,
        keys: &[
            (code(PageUp), A::ProcessesPageUp),
            (code(PageDown), A::ProcessesPageDown),
        ],
        help: words(
            "PgUp PgDn",
            "scroll the processes panel (the mouse wheel over it too)",
            "滚动进程面板（也可在上面用鼠标滚轮）",
        ),
        hint: words("PgUp PgDn", "", ""),
    },
    Binding {
        contexts: &[C::Main, C::Replay],
        keys: &[(letter('l'), A::Lesson)],
        help: words("l", "read the whole lesson", "阅读整篇课程"),
        hint: words("l", "lesson", "课程"),
    },
    Binding {
        contexts: &[C::Main, C::Watch, C::Replay],
        keys: &[(letter('r'), A::Report)],
        help: words(
            "r",
            "the last run's whole report: figures, verdict, insights",
            "上次运行的完整报告：数字、结论、提示",
        ),
        hint: words("r", "report", "报告"),
    },
    Binding {
        contexts: DASHBOARD,
        keys: &[(letter('v'), A::Events)],
        help: words(
            "v",
            "every event of the session (the last {kept}), to scroll back",
            "本次会话的全部事件（最近 {kept} 条），可向回滚动",
        ),
        hint: words("v", "events", "事件"),
    },
    Binding {
        contexts: DASHBOARD,
        keys: &[(letter('?'), A::Help)],
        help: words("?", "this help", "本帮助"),
        hint: words("?", "help", "帮助"),
    },
    Binding {
        contexts: ALL_BUT_THE_FORM,
        keys: &[(letter('L'), A::SwitchLanguage)],
        help: words(
            "L",
            "switch the language: English ⇄ 中文 (not in the parameter form)",
            "切换语言：中文 ⇄ English（编辑参数时除外）",
        ),
        // What the key gives, in the words of the language it gives.
        hint: words("L", "中文", "English"),
    },
    Binding {
        contexts: &[C::Anywhere],
        keys: &[(Key::Ctrl('z'), A::Suspend)],
        help: words(
            "Ctrl-Z",
            "suspend to the shell (fg resumes); runs go on meanwhile",
            "挂起回到 shell（fg 恢复）；运行中的实验继续进行",
        ),
        hint: None,
    },
    Binding {
        contexts: &[C::Anywhere],
        keys: &[(Key::Ctrl('c'), A::Quit)],
        help: words(
            "q  Ctrl-C",
            "quit: stops every run and restores the terminal",
            "退出：停止所有运行并恢复终端",
        ),
        hint: None,
    },
    Binding {
        contexts: &[
            C::Main,
            C::Compare,
            C::Watch,
            C::Help,
            C::Lesson,
            C::Report,
            C::EventLog,
            C::Replay,
        ],
        keys: &[(letter('q'), A::Quit)],
        help: None,
        hint: words("q", "quit", "退出"),
    },
    Binding {
        contexts: &[C::TooSmall],
        keys: &[(letter('q'), A::Quit)],
        help: None,
        hint: words("q", "to quit", "退出"),
    },
    Binding {
        contexts: SCROLLING_OVERLAYS,
        keys: &[
            (code(Up), A::ScrollUp),
            (code(Down), A::ScrollDown),
            (letter('k'), A::ScrollUp),
            (letter('j'), A::ScrollDown),
            (code(PageUp), A::ScrollPageUp),
            (code(PageDown), A::ScrollPageDown),
        ],
        help: None,
        hint: words("↑↓ PgUp PgDn", "", ""),
    },
    Binding {
        contexts: SCROLLING_OVERLAYS,
        keys: &[(Key::Any, A::Close)],
        help: None,
        hint: any_key(("any other key", "其他任意键"), ("closes", "关闭")),
    },
    Binding {
        contexts: &[C::Help],
        keys: &[(Key::Any, A::Close)],
        help: None,
        hint: any_key(("Any key", "任意键"), ("closes this help.", "关闭本帮助。")),
    },
    Binding {
        contexts: &[C::Form],
        keys: &[(code(Enter), A::Form(FormAction::Apply))],
        help: None,
        hint: words("Enter", "applies", "应用"),
    },
    Binding {
        contexts: &[C::Form],
        keys: &[(code(Esc), A::Form(FormAction::Cancel))],
        help: None,
        hint: words("Esc", "cancels", "取消"),
    },
    Binding {
        contexts: &[C::Form],
        keys: &[
            (code(Tab), A::Form(FormAction::NextField)),
            (code(Down), A::Form(FormAction::NextField)),
            (code(BackTab), A::Form(FormAction::PreviousField)),
            (code(Up), A::Form(FormAction::PreviousField)),
        ],
        help: None,
        hint: words("Tab/↑↓", "move", "移动"),
    },
    Binding {
        contexts: &[C::Form],
        keys: &[
            (code(Left), A::Form(FormAction::PreviousChoice)),
            (code(Right), A::Form(FormAction::NextChoice)),
        ],
        help: None,
        hint: None,
    },
    Binding {
        contexts: &[C::Form],
        keys: &[(code(Backspace), A::Form(FormAction::DeleteChar))],
        help: None,
        hint: None,
    },
    Binding {
        contexts: &[C::Form],
        keys: &[(Key::AnyChar, A::Form(FormAction::Type))],
        help: None,
        hint: None,
    },
];

/// What `key` does in `context`: a key that works anywhere first, then the context's own
/// keys, then what it does with any other key.
pub fn action(context: Context, key: &KeyEvent) -> Option<Action> {
    let find = |context: Context, wildcard: bool| {
        KEYMAP
            .iter()
            .filter(|b| b.contexts.contains(&context))
            .flat_map(|b| b.keys)
            .find(|(k, _)| k.is_wildcard() == wildcard && k.matches(key))
            .map(|(_, action)| *action)
    };
    find(C::Anywhere, false)
        .or_else(|| find(context, false))
        .or_else(|| find(context, true))
}

/// The footer words for `action` in `context`.
pub fn hint(context: Context, action: Action) -> Option<Words> {
    KEYMAP
        .iter()
        .filter(|b| b.contexts.contains(&context))
        .filter(|b| b.keys.iter().any(|(_, a)| *a == action))
        .find_map(|b| b.hint)
}

/// The key a message names for `action` in `context` (`s` for stop), as its hint writes it.
pub fn key_for(context: Context, action: Action) -> &'static str {
    hint(context, action).map_or("", |w| w.keys.en)
}

/// `e edit · c compare`: the hints for `actions` in `context`, in that order, in `lang`.
pub fn hints(context: Context, actions: &[Action], lang: Lang) -> String {
    actions
        .iter()
        .filter_map(|a| hint(context, *a))
        .map(|w| w.hint(lang))
        .collect::<Vec<_>>()
        .join(" · ")
}

/// The help's lines for `context` (where `?` was pressed: the keys that work there, and those
/// that work everywhere), in the table's order; figures still as placeholders.
pub fn help(context: Context) -> impl Iterator<Item = Words> {
    KEYMAP
        .iter()
        .filter(move |b| b.contexts.contains(&context) || b.contexts.contains(&Context::Anywhere))
        .filter_map(|b| b.help)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The keys a label names: `s  Esc`, `↑↓ PgUp PgDn`, `Tab/↑↓`, `q  Ctrl-C`, `any other key`
    /// (其他任意键).
    fn named(label: &str) -> Vec<Key> {
        let any = ["any other key", "any key", "其他任意键", "任意键"];
        if any.iter().any(|a| label.eq_ignore_ascii_case(a)) {
            return vec![Key::Any];
        }
        label
            .split(|c: char| c.is_whitespace() || c == '/')
            .filter(|t| !t.is_empty())
            .flat_map(|token| match token {
                "Enter" => vec![code(Enter)],
                "Esc" => vec![code(Esc)],
                "Tab" => vec![code(Tab)],
                "PgUp" => vec![code(PageUp)],
                "PgDn" => vec![code(PageDown)],
                "Home" => vec![code(Home)],
                "End" => vec![code(End)],
                "Space" => vec![letter(' ')],
                "Ctrl-C" => vec![Key::Ctrl('c')],
                "Ctrl-Z" => vec![Key::Ctrl('z')],
                arrows if arrows.chars().all(|c| "↑↓←→".contains(c)) => arrows
                    .chars()
                    .map(|c| match c {
                        '↑' => code(Up),
                        '↓' => code(Down),
                        '←' => code(Left),
                        _ => code(Right),
                    })
                    .collect(),
                one if one.chars().count() == 1 => vec![letter(one.chars().next().unwrap())],
                other => panic!("`{other}` in `{label}` names no key"),
            })
            .collect()
    }

    /// What `key` is bound to in one of `contexts` (or anywhere), row by row.
    fn bound_to(key: Key, contexts: &[Context]) -> Vec<Action> {
        KEYMAP
            .iter()
            .filter(|b| {
                b.contexts
                    .iter()
                    .any(|c| *c == C::Anywhere || contexts.contains(c))
            })
            .flat_map(|b| b.keys)
            .filter(|(k, _)| *k == key)
            .map(|(_, a)| *a)
            .collect()
    }

    #[test]
    fn the_words_name_only_keys_that_do_what_they_say() {
        for row in KEYMAP {
            let actions: Vec<Action> = row.keys.iter().map(|(_, a)| *a).collect();
            // A row for every context may name a key that does the same in some of them.
            let contexts: &[Context] = if row.contexts.contains(&C::Anywhere) {
                &Context::ALL
            } else {
                row.contexts
            };
            let labels = [row.help, row.hint]
                .into_iter()
                .flatten()
                .flat_map(|w| [w.keys.en, w.keys.zh]);
            for label in labels {
                let keys = named(label);
                assert!(!keys.is_empty(), "{row:?}");
                for key in keys {
                    assert!(
                        bound_to(key, contexts).iter().any(|a| actions.contains(a)),
                        "`{label}` names {key:?}, which does not do {actions:?} in {:?}",
                        row.contexts
                    );
                }
            }
        }
    }

    #[test]
    fn a_key_means_one_thing_in_each_context() {
        for context in Context::ALL {
            let mut seen: Vec<Key> = Vec::new();
            for row in KEYMAP.iter().filter(|b| b.contexts.contains(&context)) {
                for (key, _) in row.keys {
                    assert!(!seen.contains(key), "{key:?} twice in {context:?}");
                    seen.push(*key);
                }
            }
        }
    }

    #[test]
    fn every_context_but_anywhere_has_its_rows_and_a_way_out() {
        for context in Context::ALL.into_iter().filter(|c| *c != C::Anywhere) {
            let quit = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
            assert_eq!(action(context, &quit), Some(A::Quit), "{context:?}");
            assert!(
                KEYMAP.iter().any(|b| b.contexts.contains(&context)),
                "{context:?}"
            );
        }
    }

    #[test]
    fn keys_anywhere_come_first_then_the_contexts_own_then_any_other() {
        let press = |code| KeyEvent::new(code, KeyModifiers::NONE);
        let ctrl = |c| KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL);
        // In the form, Ctrl-C quits rather than typing a `c`; `q` is typed.
        assert_eq!(action(C::Form, &ctrl('c')), Some(A::Quit));
        assert_eq!(
            action(C::Form, &press(KeyCode::Char('q'))),
            Some(A::Form(FormAction::Type))
        );
        assert_eq!(action(C::Form, &press(KeyCode::F(1))), None);
        // In the lesson, ↓ scrolls, `q` quits and anything else closes it.
        assert_eq!(action(C::Lesson, &press(Down)), Some(A::ScrollDown));
        assert_eq!(action(C::Lesson, &press(KeyCode::Char('q'))), Some(A::Quit));
        assert_eq!(action(C::Lesson, &press(KeyCode::F(1))), Some(A::Close));
        // Shift makes `?`; the key still counts.
        let question = KeyEvent::new(KeyCode::Char('?'), KeyModifiers::SHIFT);
        assert_eq!(action(C::Main, &question), Some(A::Help));
        assert_eq!(action(C::TooSmall, &press(Enter)), None);
    }

    #[test]
    fn hints_come_in_the_order_asked_and_leave_out_what_has_none() {
        let asked = [A::Lesson, A::Events, A::Rerun, A::Edit];
        assert_eq!(
            hints(C::Main, &asked, Lang::En),
            "l lesson · v events · e edit"
        );
        assert_eq!(hints(C::Main, &asked, Lang::Zh), "l 课程 · v 事件 · e 编辑");
        assert_eq!(hints(C::Compare, &[A::ScrollDown], Lang::Zh), "↑↓");
    }
}
