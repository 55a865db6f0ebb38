//! `process` — a child process started with a target function and its arguments, then joined:
//! Python's `Process(target=run_proc, args=('test',))`, started the "spawn" way. The runner
//! re-executes conlab with the internal scenario `process-child`, naming the function and
//! carrying its arguments as JSON on the command line; nothing else of the parent reaches it.

use super::{Findings, Group, Scenario};
use crate::event::Body;
use crate::exit::Exit;
use crate::i18n::Text;
use crate::lab::children;
use crate::params::{ParamKind, ParamSpec, choice_enum};
use crate::probe::Probe;
use crate::report::Metrics;
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

choice_enum! {
    /// The functions a child can be asked to run, by name (Python pickles a reference to the
    /// function the same way: by its name, looked up again in the child).
    pub(super) enum Target {
        RunProc = "run_proc",
        ReadGlobal = "read_global",
    }
}

choice_enum! {
    /// How the child's function ends.
    pub(super) enum Ending {
        Returns = "none",
        Exits = "exit",
        Crashes = "crash",
    }
}

/// The exit code of `fail=exit`.
const FAIL_CODE: i32 = 3;
/// What the parent sets its global to before starting the child (which never sees it).
const PARENT_GLOBAL: u64 = 42;

/// A global the parent changes before `start()`: a spawned child has a fresh copy of the
/// program, so it sees the initial value. (A forked one would see the parent's.)
static GLOBAL: AtomicU64 = AtomicU64::new(0);

/// How the child's function ends; the parent passes it on to the child unchanged.
const FAIL: ParamSpec = Ending::spec(
    "fail",
    Ending::Returns,
    "none: the function returns; exit: it exits with code 3; crash: it aborts (SIGABRT)",
);

/// How long the child's function works; passed on like `fail`.
const CHILD_MS: ParamSpec = ParamSpec {
    key: "child_ms",
    kind: ParamKind::Int {
        min: 0,
        max: 60_000,
    },
    default: "0",
    help: "how long the child's function works before it returns",
};

pub static SCENARIO: Scenario = Scenario::lesson(
    "process",
    Group::Processes,
    "Process — start a child, join it",
    "a child process runs a named function with arguments (spawn: conlab starts itself again), the parent joins it and reads its exit",
    include_str!("../../assets/lessons/process.md"),
    &[
        ParamSpec {
            key: "name",
            kind: ParamKind::Text { max_len: 64 },
            default: "test",
            help: "the argument passed to the child's function (the tutorial's run_proc('test'))",
        },
        Target::spec(
            "target",
            Target::RunProc,
            "the function the child runs: run_proc prints its name and PID; read_global prints a global the parent changed before start()",
        ),
        FAIL,
        CHILD_MS,
    ],
    run,
)
.with_compare("fail", &["none", "exit", "crash"])
.with_highlights(&[
    "parent_pid",
    "child_pid",
    "exitcode",
    "signal",
    "start_ms",
    "wall_ms",
]);

/// The child's side: runs one function of [`Target`] with arguments given as JSON.
/// Only runners start it (see [`super::INTERNAL`]).
pub static CHILD: Scenario = Scenario::child(
    "process-child",
    "Process — the child's side",
    &[
        Target::spec("target", Target::RunProc, "the function to run"),
        ParamSpec {
            key: "args",
            kind: ParamKind::Text { max_len: 512 },
            default: "[]",
            help: "its arguments, as a JSON list of strings",
        },
        FAIL,
        CHILD_MS,
    ],
    run_child,
);

fn run(probe: &Probe) -> Result<Findings, String> {
    let p = probe.params();
    let name = p.word("name").to_string();
    let target = p.choice::<Target>("target")?;
    let fail = p.choice::<Ending>("fail")?;
    let started = Instant::now();
    let me = std::process::id();

    probe.log(format!("Parent process {me}."));
    if target == Target::ReadGlobal {
        GLOBAL.store(PARENT_GLOBAL, Ordering::SeqCst);
        probe.log(format!(
            "Parent set GLOBAL = {} just before start()",
            GLOBAL.load(Ordering::SeqCst)
        ));
    }
    // What crosses to the child: the function's name and its arguments, serialized.
    let args = serde_json::to_string(&[&name]).expect("strings serialize");
    let assignments = vec![
        format!("target={}", target.word()),
        format!("args={args}"),
        format!("fail={}", fail.word()),
        format!("child_ms={}", p.int("child_ms")),
    ];
    probe.log("Child process will start.");
    let announced: Arc<OnceLock<Instant>> = Arc::new(OnceLock::new());
    let seen = announced.clone();
    let spawned_at = Instant::now();
    let child = children::spawn_with(
        probe,
        CHILD.id,
        "child",
        &assignments,
        Stdio::null(),
        move |event| {
            if matches!(event.body, Body::Process { .. }) {
                let _ = seen.set(Instant::now());
            }
        },
    )
    .map_err(|e| format!("could not start the child process: {e}"))?;
    let child_pid = child.pid;
    // join(): wait for the child and reap it.
    let end = child.finish(probe);
    probe.log(format!(
        "Child process end: pid {}, exit {}",
        end.pid, end.exit
    ));

    let wall_ms = started.elapsed().as_secs_f64() * 1000.0;
    let mut metrics = Metrics::default();
    metrics.set("parent_pid", i64::from(me));
    metrics.set("child_pid", i64::from(child_pid));
    // Python's Process.exitcode: the exit code, or minus the signal that killed it.
    if let Some(exitcode) = end.exit.python_code() {
        metrics.set("exitcode", i64::from(exitcode));
    }
    if let Some(s) = end.exit.signal() {
        metrics.set("signal", i64::from(s));
    }
    if let Some(at) = announced.get() {
        metrics.set(
            "start_ms",
            at.duration_since(spawned_at).as_secs_f64() * 1000.0,
        );
    }
    metrics.set("wall_ms", wall_ms);

    let expected = match fail {
        Ending::Exits => Exit::Code(FAIL_CODE),
        Ending::Crashes => Exit::Signal(nix::libc::SIGABRT),
        Ending::Returns => Exit::Code(0),
    };
    let mut notes = vec![format!(
        "parent {me} started child {child_pid} by running conlab again with the function's name and arguments on its command line; join() returned when it ended: {}",
        end.exit
    )];
    match fail {
        Ending::Exits => notes.push(format!(
            "the child chose its exit code ({FAIL_CODE}); the parent learns it from waitpid — Python's p.exitcode"
        )),
        Ending::Crashes => notes.push(
            "the child crashed (abort, SIGABRT): only the child died; the parent reads the signal from waitpid and goes on (Python's p.exitcode is -6)"
                .to_string(),
        ),
        Ending::Returns => {}
    }
    let child_global = end.report.as_ref().and_then(|r| r.metrics.get("global"));
    if let (Target::ReadGlobal, Some(seen)) = (target, child_global) {
        notes.push(format!(
            "the parent's GLOBAL was {PARENT_GLOBAL} at start(); the child saw {}: spawn copies no memory, only the arguments crossed",
            seen.as_f64()
        ));
    }
    if let Some(error) = end.report.as_ref().and_then(|r| r.error.as_ref()) {
        notes.push(format!("the child reported an error: {error}"));
    }
    if let Some(at) = announced.get() {
        notes.push(format!(
            "from spawn to the child's first word: {:.1} ms (a whole program starts; fork_us in `fork` is the price of a copy)",
            at.duration_since(spawned_at).as_secs_f64() * 1000.0
        ));
    }
    let ok = end.exit == expected || probe.cancelled();
    if !ok {
        notes.push(format!("expected the child to end with {expected}"));
    }
    Ok(Findings {
        ok,
        wall_ms,
        metrics,
        notes: notes.into_iter().map(Text::from).collect(),
    })
}

/// The child: look the function up by name, decode its arguments, run it.
fn run_child(probe: &Probe) -> Result<Findings, String> {
    let p = probe.params();
    let target = p.choice::<Target>("target")?;
    let ending = p.choice::<Ending>("fail")?;
    let args: Vec<String> = serde_json::from_str(p.word("args"))
        .map_err(|e| format!("`args` is not a JSON list of strings: {e}"))?;
    let [name] = args.as_slice() else {
        return Err(format!(
            "{} takes 1 argument (name), got {}",
            target.word(),
            args.len()
        ));
    };
    let me = std::process::id();
    match target {
        Target::ReadGlobal => probe.log(format!(
            "Run child process {name} ({me}): GLOBAL = {} here",
            GLOBAL.load(Ordering::SeqCst)
        )),
        Target::RunProc => probe.log(format!("Run child process {name} ({me})")),
    }
    let working = probe.span("function", format!("{}({name:?})", target.word()));
    let until = Instant::now() + Duration::from_millis(p.int("child_ms") as u64);
    while Instant::now() < until && !probe.cancelled() {
        std::thread::sleep(
            Duration::from_millis(10).min(until.saturating_duration_since(Instant::now())),
        );
    }
    // exit() and abort() run no destructors: the span stays open, and the trace shows the
    // function never returned.
    match ending {
        Ending::Exits => {
            probe.log(format!(
                "Child process {name} ({me}) exits with code {FAIL_CODE}"
            ));
            std::process::exit(FAIL_CODE);
        }
        Ending::Crashes => {
            probe.log(format!("Child process {name} ({me}) crashes: abort()"));
            crate::lab::crash::abort();
        }
        Ending::Returns => drop(working),
    }
    let mut metrics = Metrics::default();
    metrics.set("global", GLOBAL.load(Ordering::SeqCst));
    Ok(Findings {
        ok: true,
        wall_ms: probe.elapsed_ms(),
        metrics,
        notes: vec![],
    })
}
