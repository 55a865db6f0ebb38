//! The command line: the dashboard (default), `list`, `run`, `compare`, `export`, and the
//! hidden runner mode (`run --events`) that the dashboard and the headless commands start as
//! child processes.

use crate::event::Body;
use crate::event::record::{self, Header, Recorder, Source};
use crate::i18n::Lang;
use crate::lab::cpu_stat::LoadWatch;
use crate::params::{Params, VALUE_SEPARATOR, find_spec, split_assignment};
use crate::repeats::Repeat;
use crate::report::Report;
use crate::runner::{self, RunnerMsg};
use crate::scenarios::{self, Group, Scenario};
use crate::signals::forward_ending_signals;
use crate::text_safe::{QUOTE_CHARS, excerpt, printable, printable_lines, quoted};
use clap::{Parser, Subcommand};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(
    name = "conlab",
    version,
    about = "concurrency-lab: watch processes, threads, locks and cores at work",
    after_help = "Without a command, opens the dashboard."
)]
pub struct Cli {
    /// Sampling period of the CPU and processes panels, in milliseconds (200 to 60000).
    // Hyphen values are taken as values, so `-1` is refused by the parser, which names the
    // range, rather than read as an unknown flag.
    #[arg(long, value_name = "MS", default_value_t = 500,
          value_parser = interval_ms, allow_hyphen_values = true)]
    pub interval: u64,

    /// Open the dashboard with this scenario selected (see `conlab list`).
    #[arg(long, value_name = "ID")]
    pub scenario: Option<String>,

    /// The language of the dashboard and of the text `list`, `run` and `compare` print: en
    /// or zh (中文). Without it, the locale decides (LC_ALL, LC_MESSAGES, LANG: zh_* is
    /// Chinese). JSON is the same in both.
    #[arg(long, value_name = "LANG", global = true, value_parser = Lang::parse)]
    pub lang: Option<Lang>,
    /// Record the dashboard session to FILE (JSON Lines): every event of every run, and the
    /// CPU samples. `conlab export` turns it into a trace.
    #[arg(long, value_name = "FILE")]
    pub record: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// List every scenario with its parameters and defaults.
    List,
    /// Run one scenario headless and print its report.
    Run {
        /// The scenario id (see `conlab list`).
        scenario: String,
        #[arg(long = "set", value_name = "KEY=VALUE", help = SET_HELP)]
        set: Vec<String>,
        /// Print the report as one JSON object.
        #[arg(long)]
        json: bool,
        /// Record the run's events (its children's too) to FILE (JSON Lines); `conlab
        /// export` turns it into a trace.
        #[arg(long, value_name = "FILE", conflicts_with = "events")]
        record: Option<PathBuf>,
        /// Runner mode: run in this process and write JSON Lines events to stdout.
        #[arg(long, hide = true)]
        events: bool,
        /// Runner mode: the role this process plays (a runner's children are `worker`s, ...).
        #[arg(long, hide = true, default_value = crate::runner::RUNNER)]
        role: String,
    },
    /// Run variants of one scenario one after another and print them side by side.
    Compare {
        /// The scenario id (see `conlab list`).
        scenario: String,
        /// The parameter to vary and its values, separated by commas, e.g.
        /// --vary mode=nolock,lock,atomic or --vary iterations=1_000,1_000_000. Defaults to
        /// the scenario's natural comparison. The varied parameter cannot also be --set.
        #[arg(long, value_name = "KEY=V1,V2[,V3...]")]
        vary: Option<String>,
        /// Set a parameter for every variant (repeatable, each parameter once). Integers may
        /// group digits with `_`; a comma only ever separates values.
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
        /// Run each variant N times, taking turns (a, b, a, b, …), and show every figure as
        /// mean ± σ with min…max, each ratio with its 95% interval. Without it: as many as
        /// make the whole comparison last about a second at the pace of the first round (each
        /// variant once), at least 3 and at most 30. --runs 1 is one run each.
        #[arg(long, value_name = "N", value_parser = runs_count, allow_hyphen_values = true)]
        runs: Option<usize>,
        /// Print the comparison as one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Watch a program: run CMD in a process group of its own under the dashboard (every
    /// process and thread it starts, the cores, context switches, exits), or attach read-only
    /// to a running process with --pid. When it ends its summary stays, as `time -v` prints.
    Watch {
        /// Attach read-only to this running process and its descendants: never signalled,
        /// left running when conlab stops watching.
        #[arg(long, value_name = "PID")]
        pid: Option<u32>,
        /// Run headless and print the summary as one JSON object; the program's output goes
        /// to stderr. The exit code is the program's (128 + N for signal N).
        #[arg(long)]
        json: bool,
        /// The program and its arguments: conlab watch -- CMD ARGS…
        #[arg(
            trailing_var_arg = true,
            allow_hyphen_values = true,
            value_name = "CMD"
        )]
        command: Vec<String>,
    },
    /// Export a recording (made with --record) as a trace to open in ui.perfetto.dev or
    /// chrome://tracing.
    Export {
        /// The recording.
        recording: PathBuf,
        /// Write it as a Chrome trace (JSON trace event format) to this file.
        #[arg(long, value_name = "OUT.json", required = true)]
        chrome_trace: PathBuf,
    },
    /// Play a recording (made with --record) back in the dashboard: pause, step, speed,
    /// jump to the start or the end.
    Replay {
        /// The recording.
        recording: PathBuf,
    },
    /// Serve the distributed lesson's tasks over TCP to `conlab worker`s (task_master.py).
    Master(MasterArgs),
    /// Take tasks from a `conlab master`, here or on another machine (task_worker.py).
    Worker(WorkerArgs),
}

/// `conlab master`'s flags. The key is read from a file or CONLAB_AUTHKEY: on the command
/// line, `ps` would show it to every user.
#[derive(clap::Args, Debug)]
pub struct MasterArgs {
    /// Where to listen. Anything but loopback is reachable from other machines (a warning says so).
    #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:5000")]
    bind: String,
    /// A file holding the authkey (one line); without it, CONLAB_AUTHKEY.
    #[arg(long, value_name = "FILE")]
    authkey_file: Option<PathBuf>,
    /// Random numbers to square.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    tasks: u32,
    /// How long each task takes a worker, in milliseconds.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(0..=60_000))]
    work_ms: u64,
    /// How long a worker may hold a task before it goes back to the queue, in milliseconds.
    #[arg(long, default_value_t = 3000, value_parser = clap::value_parser!(u64).range(50..=600_000))]
    lease_ms: u64,
    /// A task that loses this many leases is set aside (dead letter).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=10))]
    max_attempts: u32,
    /// Seed of the random numbers.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Put the tasks in Redis Streams at this URL instead of serving them here.
    #[arg(long, value_name = "URL")]
    redis: Option<String>,
    /// With --redis: the prefix of the Redis keys workers meet at.
    #[arg(long, value_name = "NAME", default_value = crate::dist::redis_backend::DEFAULT_QUEUE)]
    queue: String,
}

/// `conlab worker`'s flags.
#[derive(clap::Args, Debug)]
pub struct WorkerArgs {
    /// The master's address.
    #[arg(long, value_name = "HOST:PORT", required_unless_present = "redis")]
    connect: Option<String>,
    /// A file holding the authkey (one line); without it, CONLAB_AUTHKEY.
    #[arg(long, value_name = "FILE")]
    authkey_file: Option<PathBuf>,
    /// Take tasks from Redis Streams at this URL instead of from a conlab master.
    #[arg(long, value_name = "URL", conflicts_with = "connect")]
    redis: Option<String>,
    /// With --redis: the prefix of the Redis keys the master put the tasks under.
    #[arg(long, value_name = "NAME", default_value = crate::dist::redis_backend::DEFAULT_QUEUE)]
    queue: String,
}

/// The grammar of values, said once for `run --set` (and in short for `compare`).
const SET_HELP: &str = "Set a parameter, e.g. --set mode=lock (repeatable, each parameter \
once). Integers may group digits with `_` (--set iterations=1_000_000); a comma only ever \
separates values (the items of a list, the variants of compare --vary), so 1,000 is refused: \
write 1000 or 1_000.";

/// Exit code for bad usage (unknown scenario, bad parameter), as clap uses.
const USAGE: u8 = 2;
/// Exit code for a run that failed or was cancelled.
const FAILED: u8 = 1;

fn usage_error(message: &str) -> ExitCode {
    eprintln!("conlab: {}", printable_lines(message));
    ExitCode::from(USAGE)
}

/// `compare --runs`: any text is taken, so that every bad value, `-3` too, gets the range.
fn runs_count(text: &str) -> Result<usize, String> {
    let most = crate::repeats::MAX_RUNS;
    text.parse()
        .ok()
        .filter(|n| (1..=most).contains(n))
        .ok_or_else(|| format!("the runs of each variant are a whole number in 1..={most}"))
}

/// `--interval`: any text is taken, so that every bad value, `-1` too, gets the valid range.
fn interval_ms(text: &str) -> Result<u64, String> {
    const RANGE: std::ops::RangeInclusive<u64> = 200..=60_000;
    text.parse()
        .ok()
        .filter(|ms| RANGE.contains(ms))
        .ok_or_else(|| {
            format!(
                "the sampling period is a whole number of milliseconds in {}..={}",
                RANGE.start(),
                RANGE.end()
            )
        })
}

/// clap's message, plus the commands that do exist when the first word was not one of them.
fn clap_error(e: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    let code = ExitCode::from(e.exit_code().clamp(0, 255) as u8);
    if !e.use_stderr() {
        // --help and --version: our own words, printed as clap styles them.
        let _ = e.print();
        return code;
    }
    // Lossy: an argument that is not UTF-8 must not make the error itself panic.
    let args: Vec<String> = std::env::args_os()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    // Plain text: the message quotes what was typed, so it is made safe as a whole, which
    // leaves no room for clap's colours.
    eprint!("{}", shorten_arguments(&e.render().to_string(), &args));
    if matches!(
        e.kind(),
        ErrorKind::InvalidSubcommand | ErrorKind::UnknownArgument
    ) && !args.first().is_some_and(|a| {
        a.starts_with('-')
            || [
                "run", "list", "compare", "export", "watch", "replay", "master", "worker",
            ]
            .contains(&a.as_str())
    }) {
        eprintln!(
            "\ncommands: list, run, compare, export, watch, replay, master, worker — or none, to open the dashboard"
        );
    }
    code
}

/// `message` made printable, with each long argument it repeats (whole, or the value of a
/// `--key=value`) cut to an [`excerpt`].
fn shorten_arguments(message: &str, args: &[String]) -> String {
    let mut long: Vec<&str> = args
        .iter()
        .flat_map(|a| [Some(a.as_str()), a.split_once('=').map(|(_, v)| v)])
        .flatten()
        .filter(|w| w.chars().count() > QUOTE_CHARS)
        .collect();
    // Longest first, so an argument is never cut by a piece of itself.
    long.sort_by_key(|w| std::cmp::Reverse(w.len()));
    let mut message = message.to_string();
    for word in long {
        message = message.replace(word, &excerpt(word));
    }
    printable_lines(&message).into_owned()
}

/// Parses the command line and does what it says.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return clap_error(e),
    };
    if !matches!(cli.command, None | Some(Command::Run { events: true, .. })) {
        // Printing commands die quietly on a closed pipe (`conlab list | head`), as cat does,
        // instead of panicking in println!.
        // SAFETY: setting a signal to its default disposition has no preconditions.
        unsafe {
            let _ = nix::sys::signal::signal(
                nix::sys::signal::Signal::SIGPIPE,
                nix::sys::signal::SigHandler::SigDfl,
            );
        }
    }
    let lang = cli.lang.unwrap_or_else(Lang::from_env);
    if cli.record.is_some() && cli.command.is_some() {
        return usage_error(
            "--record before a command records the dashboard; to record a run, put it after: conlab run <scenario> --record FILE",
        );
    }
    match cli.command {
        None => dashboard(
            cli.interval,
            cli.scenario.as_deref(),
            lang,
            cli.record.as_deref(),
        ),
        Some(Command::List) => {
            print!("{}", list_text(lang));
            ExitCode::SUCCESS
        }
        Some(Command::Run {
            scenario,
            set,
            json,
            record,
            events,
            role,
        }) => {
            if events {
                runner_mode(&scenario, &set, &role)
            } else {
                run(&scenario, &set, json, lang, record.as_deref())
            }
        }
        Some(Command::Compare {
            scenario,
            vary,
            set,
            runs,
            json,
        }) => compare(&scenario, vary.as_deref(), &set, runs, json, lang),
        Some(Command::Export {
            recording,
            chrome_trace,
        }) => export(&recording, &chrome_trace),
        Some(Command::Watch { pid, json, command }) => {
            let params = match watch_params(&command, pid) {
                Ok(params) => params,
                Err(e) => return usage_error(&e),
            };
            match json {
                true => watch_headless(&params),
                false => watch_dashboard(cli.interval, lang, params),
            }
        }
        Some(Command::Replay { recording }) => replay(&recording, lang),
        Some(Command::Master(a)) => crate::dist::commands::master(
            &crate::dist::commands::MasterOptions {
                bind: a.bind,
                tasks: a.tasks,
                work_ms: a.work_ms,
                lease_ms: a.lease_ms,
                max_attempts: a.max_attempts,
                seed: a.seed,
                redis: a.redis.map(|url| (url, a.queue)),
            },
            a.authkey_file.as_deref(),
        ),
        Some(Command::Worker(a)) => crate::dist::commands::worker(
            a.connect.as_deref(),
            a.redis.map(|url| (url, a.queue)).as_ref(),
            a.authkey_file.as_deref(),
        ),
    }
}

/// Opens the dashboard, on `scenario` if one is named, speaking `lang`, recording to `record`
/// if asked.
fn dashboard(interval: u64, scenario: Option<&str>, lang: Lang, record: Option<&Path>) -> ExitCode {
    let selected = match scenario.map(scenarios::find) {
        None => 0,
        Some(Ok(s)) => scenarios::all()
            .iter()
            .position(|x| std::ptr::eq(*x, s))
            .unwrap_or(0),
        Some(Err(e)) => return usage_error(&e),
    };
    let recording = record.map(|path| recorder(path, Source::Dashboard, Some(interval)));
    let recorder = match recording.transpose() {
        Ok(recorder) => recorder,
        Err(e) => return usage_error(&e),
    };
    match crate::tui::run_dashboard(interval, selected, lang, recorder, None) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("conlab: {e}");
            ExitCode::from(FAILED)
        }
    }
}

/// What `conlab watch` was asked to watch, or the message for exit code 2.
fn watch_params(command: &[String], pid: Option<u32>) -> Result<Params, String> {
    match (pid, command.is_empty()) {
        (Some(pid), true) => crate::watch::pid_params(pid),
        (None, _) => crate::watch::command_params(command),
        (Some(_), false) => {
            Err("watch either a command (conlab watch -- CMD ARGS…) or a running process (--pid PID), not both".to_string())
        }
    }
}

/// `conlab watch --json`: the program's output to stderr as it comes, then the summary. The
/// exit code is the program's: its own code, 128 + N when signal N ended it (as a shell says
/// it), 1 when it could not be watched, 0 when it was attached to and still runs.
fn watch_headless(params: &Params) -> ExitCode {
    use crate::exit::Exit;
    let signals = forward_ending_signals();
    const RUN: runner::RunId = 1;
    let messages = runner::run_to_end(RUN, crate::watch::ID, params, &signals, |msg| {
        let mut err = std::io::stderr();
        let _ = match msg {
            RunnerMsg::Event(event) => match &event.body {
                Body::Log { text } => writeln!(err, "{}", printable(text)),
                _ => Ok(()),
            },
            RunnerMsg::Stderr(line) => writeln!(err, "{}", printable(line)),
            RunnerMsg::BadLine(line) => writeln!(err, "conlab: {}", printable(line)),
            RunnerMsg::Observed(_) | RunnerMsg::Exited { .. } => Ok(()),
        };
    });
    let mut report = match messages {
        Ok(messages) => runner::final_report(crate::watch::ID, params, &messages),
        Err(e) => {
            eprintln!("conlab: could not start the runner: {e}");
            return ExitCode::from(FAILED);
        }
    };
    // The runner is conlab's own process, not the program's.
    if report
        .processes
        .first()
        .is_some_and(|p| p.role == runner::RUNNER)
    {
        report.processes.remove(0);
    }
    println!(
        "{}",
        serde_json::to_string(&report).expect("reports serialize")
    );
    let first = report.processes.first().and_then(|p| p.exit);
    let code = match first {
        _ if report.error.is_some() => FAILED,
        Some(Exit::Code(code)) => code.clamp(0, 255) as u8,
        Some(Exit::Signal(signal)) => (128 + signal).clamp(0, 255) as u8,
        _ => 0,
    };
    ExitCode::from(code)
}

/// `conlab watch` with a terminal: the dashboard, watching.
fn watch_dashboard(interval: u64, lang: Lang, params: Params) -> ExitCode {
    if !crossterm::tty::IsTty::is_tty(&std::io::stdout()) {
        return usage_error(
            "conlab watch shows the dashboard, which needs a terminal; add --json to watch headless",
        );
    }
    match crate::tui::run_dashboard(interval, 0, lang, None, Some(params)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("conlab: {e}");
            ExitCode::from(FAILED)
        }
    }
}

/// A scenario and its parameters from the command line, or the message for exit code 2.
fn resolve(id: &str, assignments: &[String]) -> Result<(&'static Scenario, Params), String> {
    let scenario = scenarios::find(id)?;
    let params = Params::from_assignments(scenario.params, assignments)?;
    Ok((scenario, params))
}

/// The child process the dashboard, `run` and `compare` start: events on stdout.
fn runner_mode(id: &str, assignments: &[String], role: &str) -> ExitCode {
    let resolved = scenarios::find_for_runner(id)
        .and_then(|s| Ok((s, Params::from_assignments(s.params, assignments)?)));
    match resolved {
        Ok((scenario, params)) => ExitCode::from(runner::run_in_runner(scenario, params, role)),
        Err(e) => usage_error(&e),
    }
}

/// A recording of this machine beginning now at `path`, or the message for exit code 2.
fn recorder(path: &Path, source: Source, interval_ms: Option<u64>) -> Result<Recorder, String> {
    let cores = usize::try_from(crate::params::cores()).unwrap_or(1);
    Recorder::create(path, &Header::new(source, cores, interval_ms))
}

fn run(
    id: &str,
    assignments: &[String],
    json: bool,
    lang: Lang,
    record: Option<&Path>,
) -> ExitCode {
    let (scenario, params) = match resolve(id, assignments) {
        Ok(x) => x,
        Err(e) => return usage_error(&e),
    };
    let mut recorder = match record
        .map(|path| recorder(path, Source::Run, None))
        .transpose()
    {
        Ok(recorder) => recorder,
        Err(e) => return usage_error(&e),
    };
    let signals = forward_ending_signals();
    let report = match run_one(scenario, &params, &signals, !json, recorder.as_mut()) {
        Ok(report) => report,
        Err(e) => {
            eprintln!("conlab: could not start the runner: {e}");
            return ExitCode::from(FAILED);
        }
    };
    let recorded = match (recorder.map(Recorder::finish), record) {
        (Some(Err(e)), Some(path)) => {
            let path = path.display().to_string();
            eprintln!("conlab: the recording to {} failed: {e}", printable(&path));
            false
        }
        _ => true,
    };
    if json {
        println!(
            "{}",
            serde_json::to_string(&report).expect("reports serialize")
        );
    } else {
        print!("{}", report.to_text(lang));
    }
    if report.ok && !report.cancelled && recorded {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(FAILED)
    }
}

/// Runs one scenario in a runner; with `echo`, its log lines are printed as they arrive;
/// with a `recorder`, everything the runner says is recorded as it arrives.
fn run_one(
    scenario: &Scenario,
    params: &Params,
    signals: &crossbeam_channel::Receiver<nix::sys::signal::Signal>,
    echo: bool,
    mut recorder: Option<&mut Recorder>,
) -> std::io::Result<Report> {
    const RUN: runner::RunId = 1;
    if let Some(recorder) = recorder.as_deref_mut() {
        recorder.run_started(RUN, scenario.id, params.to_json());
    }
    let messages = runner::run_to_end(RUN, scenario.id, params, signals, |msg| {
        forward(msg, echo, &mut std::io::stdout(), &mut std::io::stderr());
        if let Some(recorder) = recorder.as_deref_mut() {
            msg.record_to(RUN, recorder);
        }
    })?;
    Ok(runner::final_report(scenario.id, params, &messages))
}

/// `conlab export FILE --chrome-trace OUT.json`: a path that cannot be opened or created is
/// bad usage (2); a file that is not a recording this conlab reads fails (1), naming the line.
fn export(recording: &Path, chrome_trace: &Path) -> ExitCode {
    let file = match std::fs::File::open(recording) {
        Ok(file) => file,
        Err(e) => return usage_error(&format!("cannot read {}: {e}", recording.display())),
    };
    let read = match record::read(std::io::BufReader::new(file)) {
        Ok(read) => read,
        Err(e) => {
            let path = recording.display();
            eprintln!("conlab: {}", printable(&format!("{path}: {e}")));
            return ExitCode::from(FAILED);
        }
    };
    let trace = crate::event::chrome::export(&read, crate::lab::channel::WAITING_STEPS);
    let out = match std::fs::File::create(chrome_trace) {
        Ok(out) => out,
        Err(e) => return usage_error(&format!("cannot write {}: {e}", chrome_trace.display())),
    };
    let mut out = std::io::BufWriter::new(out);
    let written = serde_json::to_writer(&mut out, &trace)
        .map_err(std::io::Error::from)
        .and_then(|()| out.flush());
    let shown = chrome_trace.display().to_string();
    if let Err(e) = written {
        eprintln!("conlab: writing {} failed: {e}", printable(&shown));
        return ExitCode::from(FAILED);
    }
    let events = trace["traceEvents"].as_array().map_or(0, Vec::len);
    println!(
        "{}: {events} trace events; open it in ui.perfetto.dev or chrome://tracing",
        printable(&shown)
    );
    ExitCode::SUCCESS
}

/// `conlab replay FILE`: a file that cannot be read, is not a recording this conlab reads
/// (cut short, of a newer version, ...) or holds a run it cannot show is bad usage (2),
/// named before the terminal is taken.
fn replay(recording: &Path, lang: Lang) -> ExitCode {
    let shown = recording.display().to_string();
    let loaded = std::fs::File::open(recording)
        .map_err(|e| format!("cannot read {shown}: {e}"))
        .and_then(|file| {
            record::read(std::io::BufReader::new(file)).map_err(|e| format!("{shown}: {e}"))
        })
        .and_then(|read| {
            let name = recording
                .file_name()
                .map_or_else(|| shown.clone(), |n| n.to_string_lossy().into_owned());
            crate::app::replay::Replay::new(read, &name, crate::app::MIN_SIZE)
                .map_err(|e| format!("{shown}: {e}"))
        });
    let mut replay = match loaded {
        Ok(replay) => replay,
        Err(e) => return usage_error(&e),
    };
    replay.app.lang = lang;
    match crate::tui::run_replay(replay) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("conlab: {e}");
            ExitCode::from(FAILED)
        }
    }
}

/// Passes on what a runner says, printable (a scenario's output may hold any byte): with
/// `echo`, its log lines as `[pid] text` to `out`; its stderr and unreadable lines to `err`.
fn forward(msg: &RunnerMsg, echo: bool, out: &mut impl Write, err: &mut impl Write) {
    // A closed stdout ends the process with SIGPIPE (see `main`); nothing else can fail here.
    let _ = match msg {
        RunnerMsg::Event(event) => match (echo, &event.body) {
            (true, Body::Log { text }) => writeln!(out, "[{}] {}", event.pid, printable(text)),
            _ => Ok(()),
        },
        RunnerMsg::Stderr(line) => writeln!(err, "{}", printable(line)),
        RunnerMsg::BadLine(line) => writeln!(err, "conlab: {}", printable(line)),
        RunnerMsg::Observed(_) | RunnerMsg::Exited { .. } => Ok(()),
    };
}

/// `key=v1,v2,...` checked against the scenario: the key exists and every value is valid.
fn parse_vary(scenario: &Scenario, vary: Option<&str>) -> Result<(String, Vec<String>), String> {
    let Some(vary) = vary else {
        let natural = scenario.compare().ok_or_else(|| {
            format!(
                "{} has no comparison of its own; name one with --vary key=v1,v2",
                scenario.id
            )
        })?;
        let values = natural.values.iter().map(|v| v.to_string()).collect();
        return Ok((natural.key.to_string(), values));
    };
    let (key, list) = split_assignment(vary).map_err(|_| {
        let example = natural_vary(scenario).map_or_else(String::new, |v| format!(" (e.g. {v})"));
        format!(
            "--vary {} is not of the form key=v1,v2{example}",
            quoted(vary)
        )
    })?;
    let spec = find_spec(scenario.params, key)?;
    let values: Vec<String> = list
        .split(VALUE_SEPARATOR)
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
        .collect();
    if values.len() < 2 {
        let example = match spec.kind {
            crate::params::ParamKind::Choice(words) => {
                words.iter().take(2).copied().collect::<Vec<_>>().join(",")
            }
            crate::params::ParamKind::Int { min, max }
            | crate::params::ParamKind::IntOrCores { min, max } => {
                format!("{min},{max}")
            }
            crate::params::ParamKind::Text { .. } | crate::params::ParamKind::List { .. } => {
                "a,b".to_string()
            }
            crate::params::ParamKind::Command { .. } => "sort,cat".to_string(),
        };
        return Err(format!(
            "--vary needs at least two values for `{key}`, e.g. {key}={example}"
        ));
    }
    for v in &values {
        spec.parse(v)?;
    }
    Ok((key.to_string(), values))
}

/// `runs`: of each variant, or None to choose (see [`crate::repeats::runs_for`]).
fn compare(
    id: &str,
    vary: Option<&str>,
    assignments: &[String],
    runs: Option<usize>,
    json: bool,
    lang: Lang,
) -> ExitCode {
    let (scenario, base) = match resolve(id, assignments) {
        Ok(x) => x,
        Err(e) => return usage_error(&e),
    };
    let (key, values) = match parse_vary(scenario, vary) {
        Ok(x) => x,
        Err(e) => return usage_error(&e),
    };
    if let Err(e) = vary_not_set(&key, vary.is_some(), assignments) {
        return usage_error(&e);
    }
    let signals = forward_ending_signals();
    // Rounds of every variant in turn, so what changes on the machine meanwhile falls on all.
    let mut repeats: Vec<Vec<Repeat>> = vec![Vec::new(); values.len()];
    let (mut wanted, mut round, mut cancelled) = (runs, 0, false);
    while !cancelled && wanted.is_none_or(|n| round < n) {
        let started = std::time::Instant::now();
        for (value, runs) in values.iter().zip(&mut repeats) {
            let mut params = base.clone();
            params
                .set(scenario.params, &key, value)
                .expect("validated by parse_vary");
            if !json {
                let params = printable(&params.summary()).into_owned();
                eprintln!(
                    "running {} {params}{}",
                    scenario.id,
                    progress(round, wanted)
                );
            }
            // Other programs' load during this run, to explain it if it stands out.
            let load = LoadWatch::start();
            match run_one(scenario, &params, &signals, false, None) {
                Ok(report) => {
                    cancelled = report.cancelled;
                    let others_cores = (load.elapsed() >= crate::repeats::LOAD_READABLE)
                        .then(|| load.until_now().others_cores);
                    runs.push(Repeat {
                        report,
                        others_cores,
                    });
                    if cancelled {
                        break;
                    }
                }
                Err(e) => {
                    eprintln!("conlab: could not start the runner: {e}");
                    return ExitCode::from(FAILED);
                }
            }
        }
        round += 1;
        wanted = wanted.or_else(|| Some(crate::repeats::runs_for(started.elapsed())));
    }
    if cancelled {
        // A comparison cut short: each variant's last run, as far as it got.
        for runs in &mut repeats {
            *runs = runs.split_off(runs.len().saturating_sub(1));
        }
    }
    let all_ok = !cancelled
        && repeats
            .iter()
            .all(|runs| !runs.is_empty() && runs.iter().all(|r| r.report.ok));
    let comparison = crate::repeats::comparison(scenario.id, &key, values, repeats);
    if json {
        println!(
            "{}",
            serde_json::to_string(&comparison).expect("comparisons serialize")
        );
    } else {
        print!("{}", comparison.to_text(lang));
    }
    if all_ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(FAILED)
    }
}

/// ` (run 2 of 5)` after a run's parameters; nothing for one run each.
fn progress(round: usize, wanted: Option<usize>) -> String {
    match wanted {
        None => format!(" (run {}, timed to choose how many)", round + 1),
        Some(1) => String::new(),
        Some(n) => format!(" (run {} of {n})", round + 1),
    }
}

/// The varied parameter is not also `--set`: one of the two would be dropped without a word.
fn vary_not_set(key: &str, explicit: bool, assignments: &[String]) -> Result<(), String> {
    let Some(set) = assignments
        .iter()
        .find(|a| split_assignment(a).is_ok_and(|(k, _)| k == key))
    else {
        return Ok(());
    };
    let varied = match explicit {
        true => "is varied by --vary",
        false => "is what this comparison varies (unless --vary says otherwise)",
    };
    Err(format!(
        "`{key}` {varied} and also given as --set {}; give it in one place (or --vary another parameter)",
        quoted(set)
    ))
}

/// The scenario's own comparison, as `--vary` would spell it.
fn natural_vary(scenario: &Scenario) -> Option<String> {
    let natural = scenario.compare()?;
    Some(format!("{}={}", natural.key, natural.values.join(",")))
}

/// `conlab list`: scenarios by group, each with its parameters and natural comparison; the
/// groups and summaries in `lang` (parameters are named and described as the code has them).
pub fn list_text(lang: Lang) -> String {
    printable_lines(&listing(lang)).into_owned()
}

fn listing(lang: Lang) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    for group in Group::ALL {
        let members: Vec<_> = scenarios::all()
            .iter()
            .filter(|s| s.group == group)
            .collect();
        if members.is_empty() {
            continue;
        }
        let _ = writeln!(out, "{}", group.name_in(lang));
        for s in members {
            let _ = writeln!(out, "  {:<12} {}", s.id, s.summary_in(lang));
            for p in s.params {
                let range = p.short_range();
                let _ = writeln!(
                    out,
                    "  {:<12}   {}={} ({range}): {}",
                    "", p.key, p.default, p.help
                );
            }
            if let Some(vary) = natural_vary(s) {
                let _ = writeln!(out, "  {:<12}   compare: {vary}", "");
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Event;

    /// What a runner passes on reaches the terminal shown, never obeyed: a scenario's log line,
    /// a line on the runner's stderr, a line that is not an event.
    #[test]
    fn forwarded_lines_show_control_characters() {
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let log = Event::new(
            1.0,
            42,
            Body::Log {
                text: "a\u{1b}[2Jb\rc".into(),
            },
        );
        for msg in [
            RunnerMsg::Event(log),
            RunnerMsg::Stderr("panicked at \u{1b}]0;title\u{7}".into()),
            RunnerMsg::BadLine("malformed event: \u{9b}31m".into()),
        ] {
            forward(&msg, true, &mut out, &mut err);
        }
        let (out, err) = (
            String::from_utf8(out).unwrap(),
            String::from_utf8(err).unwrap(),
        );
        assert_eq!(out, "[42] a·[2Jb·c\n");
        assert_eq!(
            err,
            "panicked at ·]0;title·\nconlab: malformed event: ·31m\n"
        );
    }

    #[test]
    fn long_arguments_are_cut_where_clap_repeats_them() {
        let long = "x".repeat(10_000);
        let message = format!("error: invalid value '{long}' for '--interval <MS>'\n\u{1b}[2J");
        let args = [format!("--interval={long}")];
        let shown = shorten_arguments(&message, &args);
        assert!(shown.len() < 200, "{shown}");
        assert!(shown.contains("x… (10000 characters)'"), "{shown}");
        assert!(shown.ends_with("\n·[2J"), "{shown:?}");
    }

    fn nothing(_: &crate::probe::Probe) -> Result<scenarios::Findings, String> {
        Ok(scenarios::Findings::default())
    }

    static NO_COMPARISON: Scenario = Scenario::lesson(
        "plain",
        Group::Models,
        "Plain",
        "a lesson with no comparison of its own",
        "Text.",
        &[crate::params::ParamSpec {
            key: "n",
            kind: crate::params::ParamKind::Int { min: 1, max: 9 },
            default: "1",
            help: "",
        }],
        nothing,
    );

    #[test]
    fn a_lesson_without_a_comparison_needs_vary() {
        let e = parse_vary(&NO_COMPARISON, None).unwrap_err();
        assert!(
            e.contains("plain has no comparison of its own") && e.contains("--vary"),
            "{e}"
        );
        let e = parse_vary(&NO_COMPARISON, Some("n")).unwrap_err();
        assert!(e.ends_with("is not of the form key=v1,v2"), "{e}");
        assert_eq!(
            parse_vary(&NO_COMPARISON, Some("n=1,2")),
            Ok(("n".to_string(), vec!["1".to_string(), "2".to_string()]))
        );
        let lock = scenarios::find("lock").unwrap();
        let e = parse_vary(lock, Some("mode")).unwrap_err();
        assert!(e.ends_with("(e.g. mode=nolock,lock,atomic)"), "{e}");
    }
}
