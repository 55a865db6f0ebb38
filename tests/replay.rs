//! `conlab replay FILE`: a recording played back draws what the dashboard drew live, steps
//! back and forth exactly, shows the recorded machine's cores, refuses a damaged file with
//! exit 2, and answers its keys in a real terminal.

mod common;

use common::pty::{Tui, serial, session_members};
use common::view::rows;
use common::{Conlab, MARK_VAR, Orphans, assert_none_marked, marked, new_mark, run_args};
use conlab::app::replay::Replay;
use conlab::app::{App, Msg};
use conlab::event::Reassembler;
use conlab::event::record::{self, Header, Item, Recorder, Recording, Source};
use conlab::exit::Exit;
use conlab::keymap::ReplayAction;
use conlab::params::Params;
use conlab::runner::{RunnerMsg, RunnerUpdate};
use conlab::sampler::ProcSample;
use conlab::view::ViewState;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::path::{Path, PathBuf};
use std::time::Duration;

const CONLAB: Conlab = Conlab {
    deadline: Duration::from_secs(120),
    orphans: Orphans::Adopted,
};

/// The screen every comparison draws on.
const SIZE: (u16, u16) = (120, 40);

/// A short pool run: five tasks on four workers, the fifth queued.
const POOL: [&str; 3] = ["size=4", "tasks=5", "max_sleep_ms=400"];

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("replay");
    std::fs::create_dir_all(&dir).expect("scratch directory");
    dir.join(format!("{}-{name}", std::process::id()))
}

/// The screen's rows below the header, which live says "1 run active" where a replay has
/// its position readout.
fn below_header(terminal: &Terminal<TestBackend>) -> Vec<String> {
    rows(terminal.backend().buffer())[1..].to_vec()
}

/// The live dashboard's screen, but for the keys its borders name: a replay names only the
/// keys that work in it (no run, no edit), so those are drawn as a replay draws them.
fn draw_live(app: &mut App) -> Vec<String> {
    let mut terminal = Terminal::new(TestBackend::new(SIZE.0, SIZE.1)).unwrap();
    app.replaying = true;
    terminal
        .draw(|f| conlab::view::draw(f, app, &mut ViewState::default()))
        .unwrap();
    app.replaying = false;
    below_header(&terminal)
}

fn draw_replay(replay: &Replay) -> Terminal<TestBackend> {
    let mut terminal = Terminal::new(TestBackend::new(SIZE.0, SIZE.1)).unwrap();
    terminal
        .draw(|f| conlab::view::replay::draw(f, replay, &mut ViewState::default()))
        .unwrap();
    terminal
}

fn press(app: &mut App, code: KeyCode) -> Vec<conlab::app::Effect> {
    app.update(Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)))
}

/// A pool run as the dashboard lives it: the runner's stdout read as the dashboard reads it,
/// each message fed to a dashboard and recorded as a dashboard session records it. The
/// screen after each message, and the recording.
fn live_pool_run(name: &str) -> (Vec<Vec<String>>, PathBuf) {
    let mut app = App::new(SIZE, 500);
    while app.scenario().id != "pool" {
        press(&mut app, KeyCode::Down);
    }
    let params = Params::from_assignments(app.scenario().params, &POOL).unwrap();
    app.params[app.selected] = params.clone();
    assert_eq!(
        press(&mut app, KeyCode::Enter),
        vec![conlab::app::Effect::Start(1)]
    );

    let path = scratch(name);
    let header = Header::new(Source::Dashboard, 2, Some(500));
    let mut recorder = Recorder::create(&path, &header).unwrap();
    recorder.run_started(1, "pool", params.to_json());

    let args = run_args("pool", &["--events"], &POOL);
    let mark = new_mark("replay-live");
    let outcome = CONLAB.finish(CONLAB.start(&args, &[(MARK_VAR, &mark)]), &args);
    outcome.assert_success("the pool runner");
    assert_none_marked(&mark, Duration::from_secs(10), "the pool runner");
    app.runner_started(1, outcome.pid);

    let mut joiner = Reassembler::default();
    let mut messages: Vec<RunnerMsg> = outcome
        .stdout
        .lines()
        .filter_map(|line| joiner.feed_line(line.as_bytes()).expect("an event"))
        .map(RunnerMsg::Event)
        .collect();
    messages.push(RunnerMsg::Exited {
        exit: Some(Exit::Code(0)),
    });
    let mut screens = Vec::new();
    for msg in messages {
        msg.record_to(1, &mut recorder);
        app.update(Msg::Runner(RunnerUpdate { run: 1, msg }));
        screens.push(draw_live(&mut app));
    }
    recorder.finish().unwrap();
    (screens, path)
}

fn load(path: &Path) -> Replay {
    let file = std::fs::File::open(path).unwrap();
    let recording = record::read(std::io::BufReader::new(file)).unwrap();
    Replay::new(recording, "pool.jsonl", SIZE).unwrap()
}

#[test]
fn a_recorded_pool_run_replays_to_the_same_screens_as_live() {
    let (live, path) = live_pool_run("live-pool.jsonl");
    assert!(live.len() > 10, "a pool run has more to say");
    let mut replay = load(&path);
    // The run begins: what the dashboard knew before its runner said anything.
    replay.control(ReplayAction::StepForward);
    for (i, screen) in live.iter().enumerate() {
        replay.control(ReplayAction::StepForward);
        assert_eq!(
            &below_header(&draw_replay(&replay)),
            screen,
            "after message {i} of {}",
            live.len()
        );
    }
    assert!(replay.at_end());
    let timeline = live.last().unwrap().join("\n");
    assert!(
        timeline.contains("TIMELINE") && timeline.contains("queued"),
        "{timeline}"
    );

    // Played on its clock rather than stepped, it ends in the same place.
    let mut played = load(&path);
    played.control(ReplayAction::Faster);
    while !played.at_end() {
        played.tick(Duration::from_millis(50));
    }
    assert_eq!(&below_header(&draw_replay(&played)), live.last().unwrap());
}

/// What a step could change: the screen, and the model's parts a panel draws from. (Not the
/// model's `Debug` text: a panel's hash maps list their keys in another order each time one
/// is built.)
#[derive(Debug, PartialEq)]
struct Model {
    screen: Vec<String>,
    processes: conlab::app::processes::ProcessTable,
    cpu: conlab::app::cpu::CpuHistory,
    log: Vec<String>,
    logged: u64,
    runs: Vec<RunSeen>,
    position: usize,
    playhead_ms: f64,
}

/// A run as its panel knows it: runner PID, status, clock, output lines, whether it reported.
type RunSeen = (Option<u32>, String, f64, Vec<String>, bool);

impl Model {
    fn of(replay: &Replay) -> Model {
        let app = &replay.app;
        Model {
            screen: rows(draw_replay(replay).backend().buffer()),
            processes: app.processes.clone(),
            cpu: app.cpu.clone(),
            log: app.log.iter().cloned().collect(),
            logged: app.logged,
            runs: app
                .runs
                .values()
                .map(|r| {
                    let status = format!("{:?}", r.status);
                    (r.pid, status, r.t_ms, r.output.clone(), r.report.is_some())
                })
                .collect(),
            position: replay.position(),
            playhead_ms: replay.playhead_ms(),
        }
    }
}

#[test]
fn stepping_forward_then_back_leaves_exactly_what_was_there() {
    let (_, path) = live_pool_run("steps-pool.jsonl");
    let mut replay = load(&path);
    let state = Model::of;
    let (_, events) = replay.events();
    for start in [0, 1, 5, events / 2, events - 3] {
        replay.control(ReplayAction::ToStart);
        if !replay.paused {
            replay.control(ReplayAction::PlayPause);
        }
        for _ in 0..start {
            replay.control(ReplayAction::StepForward);
        }
        let before = state(&replay);
        for k in [1, 2, 7].into_iter().filter(|k| start + k <= events) {
            for _ in 0..k {
                replay.control(ReplayAction::StepForward);
            }
            for _ in 0..k {
                replay.control(ReplayAction::StepBack);
            }
            assert_eq!(
                state(&replay),
                before,
                "forward {k} then back {k} from event {start} changed the model"
            );
        }
    }
}

/// A dashboard session recorded on a 64-core machine: a multicore run and its samples.
fn recording_of_64_cores() -> Recording {
    let mut header = Header::new(Source::Dashboard, 64, Some(500));
    header.started = 0.0;
    let mut items = vec![Item::Run {
        run: 1,
        at_ms: 10.0,
        scenario: "multicore".into(),
        params: Default::default(),
    }];
    items.push(Item::Event {
        run: 1,
        event: conlab::event::Event::new(
            0.5,
            9000,
            conlab::event::Body::Process {
                ppid: 8999,
                role: "runner".into(),
            },
        ),
    });
    for tick in 1..=6 {
        let cores: Vec<f32> = (0..64)
            .map(|core| ((core * 7 + tick * 13) % 101) as f32)
            .collect();
        let total = cores.iter().sum::<f32>() / 64.0;
        items.push(Item::Cpu {
            t_ms: 500.0 * tick as f64,
            cores,
            total,
            conlab: 1.5,
            processes: vec![ProcSample {
                pid: 9000,
                ppid: 8999,
                pgrp: 9000,
                name: "conlab".into(),
                state: 'R',
                cpu_pct: 6300.0,
                threads: 65,
                tasks: vec![],
            }],
            reaped: vec![],
        });
    }
    Recording { header, items }
}

#[test]
fn a_64_core_recording_shows_64_cores_here() {
    let mut replay = Replay::new(recording_of_64_cores(), "big.jsonl", SIZE).unwrap();
    assert_eq!(
        replay.app.cpu.cores.len(),
        64,
        "the recorded cores from the start"
    );
    replay.control(ReplayAction::ToEnd);
    let terminal = draw_replay(&replay);
    let text = rows(terminal.backend().buffer()).join("\n");
    assert!(text.contains("CPU · 64 cores"), "{text}");
    assert!(text.contains("9000") && text.contains("6300"), "{text}");
    insta::assert_snapshot!("replay_64_cores_120x40", terminal.backend());
}

/// `conlab replay` on `bytes` written to a file: exit 2, a message naming `says`.
fn refused(name: &str, bytes: &[u8], says: &[&str]) {
    let path = scratch(name);
    std::fs::write(&path, bytes).unwrap();
    let path = path.to_str().unwrap();
    let mut names = vec![path];
    names.extend(says);
    CONLAB.assert_usage_error(&["replay", path], &names);
}

/// The ids of the warnings the run of a replay played to its end has.
fn replayed_warnings(recording: Recording) -> Vec<String> {
    let mut replay = Replay::new(recording, "lock.jsonl", SIZE).expect("it opens");
    replay.seek(replay.len());
    let run = replay.app.runs.values().next().expect("the recorded run");
    let report = run.report.as_ref().expect("its report");
    report.warnings.iter().map(|w| w.id.clone()).collect()
}

#[test]
fn a_replayed_run_has_the_insights_the_run_had() {
    // Two threads without a lock lose updates: the run says so, and so must its replay.
    let path = scratch("lock-insights.jsonl");
    let file = path.to_str().unwrap();
    let sets = ["mode=nolock", "threads=2", "seconds=0"];
    let outcome = CONLAB.invoke(&run_args("lock", &["--json", "--record", file], &sets));
    outcome.assert_success("a recorded lock run");
    let report = outcome.json();
    let live: Vec<String> = report["warnings"]
        .as_array()
        .expect("warnings")
        .iter()
        .map(|w| w["id"].as_str().unwrap().to_string())
        .collect();
    assert!(live.contains(&"updates_lost".to_string()), "{report}");
    let recording = record::read(std::io::BufReader::new(std::fs::File::open(&path).unwrap()))
        .expect("the recording reads");
    assert_eq!(replayed_warnings(recording.clone()), live);
    let mut replay = Replay::new(recording.clone(), "lock.jsonl", SIZE).unwrap();
    replay.seek(replay.len());
    let screen = rows(draw_replay(&replay).backend().buffer()).join("\n");
    assert!(
        screen.contains("a thread wrote back a value"),
        "the insight is on the screen: {screen}"
    );

    // A recording made before runs were observed opens all the same, with no insights.
    let mut older = recording;
    older.header.conlab_recording = 2;
    older.items.retain(|i| !matches!(i, Item::Observed { .. }));
    assert_eq!(replayed_warnings(older), Vec::<String>::new());
}

#[test]
fn a_damaged_recording_is_refused_with_exit_2() {
    let good = {
        let mut out = Vec::new();
        let header = Header::new(Source::Run, 2, None);
        out.extend(serde_json::to_vec(&header).unwrap());
        out.push(b'\n');
        let run = r#"{"item":"run","run":1,"at_ms":1.0,"scenario":"pool","params":{"size":4}}"#;
        out.extend(run.as_bytes());
        out.push(b'\n');
        let event = r#"{"item":"event","run":1,"event":{"v":2,"t_ms":0.5,"pid":7,"kind":"process","ppid":1,"role":"runner"}}"#;
        out.extend(event.as_bytes());
        out.push(b'\n');
        out
    };
    refused(
        "text.jsonl",
        b"hello\n",
        &["line 1", "not a conlab recording"],
    );
    refused("empty.jsonl", b"", &["line 1", "empty"]);
    refused(
        "cut.jsonl",
        &good[..good.len() - 10],
        &["line 3", "cut short"],
    );
    let text = String::from_utf8(good.clone()).unwrap();
    let this = record::RECORDING_VERSION;
    let newer = text.replacen(
        &format!("\"conlab_recording\":{this}"),
        &format!("\"conlab_recording\":{}", this + 1),
        1,
    );
    refused(
        "newer.jsonl",
        newer.as_bytes(),
        &["line 1", &format!("format version {}, newer", this + 1)],
    );
    let unknown = text.replace("\"pool\"", "\"teleport\"");
    refused(
        "unknown.jsonl",
        unknown.as_bytes(),
        &["line 2", "unknown scenario", "teleport"],
    );
    let bad_param = text.replace("\"size\":4", "\"size\":0");
    refused("param.jsonl", bad_param.as_bytes(), &["line 2", "size"]);
    CONLAB.assert_usage_error(
        &["replay", "/nonexistent-conlab-dir/x.jsonl"],
        &["cannot read", "/nonexistent-conlab-dir/x.jsonl"],
    );
    // The good one gets past every check: only the terminal is missing.
    let path = scratch("good.jsonl");
    std::fs::write(&path, &good).unwrap();
    let outcome = CONLAB.invoke(&["replay", path.to_str().unwrap()]);
    assert_eq!(outcome.code, Some(1), "{}", outcome.stderr);
    assert!(
        outcome.stderr.contains("needs a terminal"),
        "{}",
        outcome.stderr
    );
}

#[test]
fn the_time_controls_work_in_a_terminal() {
    let _serial = serial();
    let path = scratch("e2e-pool.jsonl");
    let path_text = path.to_str().unwrap();
    // The lesson's own pool (tasks of up to 3 s): long enough to pause on the way.
    let args = run_args("pool", &["--record", path_text], &[]);
    CONLAB.invoke(&args).assert_success("recording a pool run");

    let mut tui = Tui::start_replay(&path, 120, 30);
    let readout = |t: &str| t.lines().next().unwrap_or("").to_string();
    tui.send("\x1b[F"); // End
    let end = tui.wait_for("the end", |t| readout(t).contains("at the end"));
    let first = readout(&end);
    let total = first
        .split(" / ")
        .nth(1)
        .and_then(|rest| rest.split(" s").next())
        .expect("a total");
    assert!(
        first.contains(&format!(" {total} s / {total} s")),
        "{first}"
    );
    assert!(end.contains("✓ done"), "{end}");
    tui.send("\x1b[H"); // Home
    tui.wait_for("the start, paused", |t| {
        let line = readout(t);
        line.contains(" 0.0 s /") && line.contains("paused") && line.contains("event 0/")
    });
    // Before its run began, the status line offers no Enter to run it.
    let start = tui.text();
    assert!(
        start.contains("○ not started yet in the recording") && !start.contains("○ ready"),
        "{start}"
    );
    tui.send("\x1b[C"); // →
    tui.wait_for("one event on", |t| readout(t).contains("event 1/"));
    tui.send("\x1b[C\x1b[C");
    tui.wait_for("three events on", |t| readout(t).contains("event 3/"));
    tui.send("\x1b[D"); // ←
    tui.wait_for("one back", |t| readout(t).contains("event 2/"));
    tui.send("++");
    tui.wait_for("faster", |t| readout(t).contains("· 5× ·"));
    tui.send("-");
    tui.wait_for("slower", |t| readout(t).contains("· 2× ·"));
    tui.send(" ");
    tui.wait_for("playing", |t| readout(t).contains("playing"));
    tui.send(" ");
    tui.wait_for("paused again", |t| readout(t).contains("paused"));
    tui.send("L");
    tui.wait_for("in Chinese", |t| readout(t).contains("已暂停"));
    tui.send("q");
    let status = tui.wait_exit();
    assert!(status.success(), "{status:?}\n{}", tui.dump());
    tui.assert_restored();
    assert!(
        session_members(tui.pid).is_empty(),
        "the replay left processes"
    );
    assert!(marked(&tui.mark).is_empty(), "the replay left processes");
}
