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

/// The global's value when the program starts.
const GLOBAL_AT_START: u64 = 0;
/// A global the parent changes before `start()`: a spawned child has a fresh copy of the
/// program, so it sees the initial value. (A forked one would see the parent's.)
static GLOBAL: AtomicU64 = AtomicU64::new(GLOBAL_AT_START);

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
    include_str!("../../assets/lessons/process.en.md"),
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
.with_chinese(
    "Process — 启动子进程，join 等它结束",
    "子进程带参数执行一个按名字指定的函数（spawn：conlab 再启动一次自己），父进程 join 它并读取它的退出状态",
    include_str!("../../assets/lessons/process.zh.md"),
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

    let seen = Seen {
        parent: me,
        child: child_pid,
        exit: end.exit,
        fail,
        target,
        child_global: end
            .report
            .as_ref()
            .and_then(|r| r.metrics.get("global"))
            .map(|g| g.as_f64()),
        child_error: end.report.as_ref().and_then(|r| r.error.clone()),
        start_ms: announced
            .get()
            .map(|at| at.duration_since(spawned_at).as_secs_f64() * 1000.0),
    };
    let ok = end.exit == fail.expected() || probe.cancelled();
    Ok(Findings {
        ok,
        wall_ms,
        metrics,
        notes: notes(&seen, probe.cancelled()),
    })
}

impl Ending {
    /// How the child ends when its function ends this way.
    fn expected(self) -> Exit {
        match self {
            Ending::Exits => Exit::Code(FAIL_CODE),
            Ending::Crashes => Exit::Signal(nix::libc::SIGABRT),
            Ending::Returns => Exit::Code(0),
        }
    }
}

/// What the parent learned of its child.
#[derive(Debug, Clone)]
struct Seen {
    parent: u32,
    child: u32,
    exit: Exit,
    /// How the child was asked to end.
    fail: Ending,
    target: Target,
    /// The GLOBAL the child read, if it ran read_global and reported.
    child_global: Option<f64>,
    child_error: Option<String>,
    /// From spawn to the child's first event.
    start_ms: Option<f64>,
}

/// What the run shows: how the child was started and joined, how it really ended (whatever
/// it was asked to do), what it saw of the parent's global, and how long it took to start.
fn notes(seen: &Seen, cancelled: bool) -> Vec<Text> {
    let (me, child, exit) = (seen.parent, seen.child, seen.exit);
    let mut notes = vec![Text::new(
        format!(
            "parent {me} started child {child} by running conlab again with the function's name and arguments on its command line; join() returned when it ended: {exit}"
        ),
        format!(
            "父进程 {me} 重新运行 conlab，把函数名和参数写在命令行上，启动了子进程 {child}；子进程结束后 join() 返回：{exit}"
        ),
    )];
    match exit {
        Exit::Code(0) => {}
        Exit::Code(code) => notes.push(Text::new(
            format!(
                "the child chose exit code {code}; the parent learns it from waitpid — Python's p.exitcode is {code}"
            ),
            format!("子进程自己选了退出码 {code}；父进程通过 waitpid 得知——就是 Python 的 p.exitcode，值为 {code}"),
        )),
        Exit::Signal(signal) => {
            let crashed = if signal == nix::libc::SIGABRT {
                Text::new("the child crashed (abort): ", "子进程崩溃了（abort）：")
            } else {
                Text::default()
            };
            notes.push(Text::new(
                format!(
                    "{}killed by {exit}, only the child died; the parent reads the signal from waitpid and goes on (Python's p.exitcode is -{signal})",
                    crashed.en
                ),
                format!(
                    "{}被 {exit} 终止，死的只是子进程；父进程通过 waitpid 读到这个信号，继续运行（Python 的 p.exitcode 为 -{signal}）",
                    crashed.zh
                ),
            ));
        }
        Exit::KilledWithGroup => notes.push(Text::new(
            "the child was gone before the parent could wait for it: it ended with its process group",
            "父进程还没等到子进程，它就随着所在的进程组一起结束了",
        )),
        // Only `conlab watch --pid` says these, of processes it does not wait for.
        Exit::Unseen | Exit::StillRunning => {}
    }
    if let (Target::ReadGlobal, Some(saw)) = (seen.target, seen.child_global) {
        notes.push(global_note(saw));
    }
    if let Some(error) = &seen.child_error {
        notes.push(Text::new(
            format!("the child reported an error: {error}"),
            format!("子进程报告了一个错误：{error}"),
        ));
    }
    if let Some(ms) = seen.start_ms {
        notes.push(Text::new(
            format!(
                "from spawn to the child's first word: {ms:.1} ms (a whole program starts; fork_us in `fork` is the price of a copy)"
            ),
            format!(
                "从启动到子进程第一次发出消息：{ms:.1} ms（启动的是一个完整的程序；`fork` 里的 fork_us 是复制一个进程的代价）"
            ),
        ));
    }
    let expected = seen.fail.expected();
    if exit != expected && !cancelled {
        notes.push(Text::new(
            format!("expected the child to end with {expected}"),
            format!("本来预期子进程以 {expected} 结束"),
        ));
    }
    notes
}

/// What the child's GLOBAL says about how it was started: a spawned child (this lesson's way)
/// runs a fresh program and sees the first value; a forked one (Python 3.11's default on
/// Linux) has a copy of the parent's memory and sees its change.
fn global_note(saw: f64) -> Text {
    let first = GLOBAL_AT_START;
    if saw == PARENT_GLOBAL as f64 {
        Text::new(
            format!(
                "the parent set GLOBAL to {PARENT_GLOBAL} before start(); the child saw {saw}: it had a copy of the parent's memory, as a forked child does — a spawned one would see {first}"
            ),
            format!(
                "父进程在 start() 之前把 GLOBAL 设成了 {PARENT_GLOBAL}；子进程看到的是 {saw}：它拿到了父进程内存的副本，fork 出来的子进程就是这样——spawn 启动的子进程看到的会是 {first}"
            ),
        )
    } else if saw == first as f64 {
        Text::new(
            format!(
                "the parent set GLOBAL to {PARENT_GLOBAL} before start(); the child saw {saw}, the program's first value: it was started the spawn way, a new program that got only the arguments. With fork, Python 3.11's default on Linux, it would have seen {PARENT_GLOBAL}"
            ),
            format!(
                "父进程在 start() 之前把 GLOBAL 设成了 {PARENT_GLOBAL}；子进程看到的是 {saw}，即程序的初始值：它是用 spawn 方式启动的新程序，只收到了参数。若用 fork（Linux 上 Python 3.11 的默认方式），它会看到 {PARENT_GLOBAL}"
            ),
        )
    } else {
        Text::new(
            format!(
                "the child saw GLOBAL = {saw}: neither the program's first value ({first}) nor the parent's {PARENT_GLOBAL}"
            ),
            format!(
                "子进程看到 GLOBAL = {saw}：既不是程序的初始值（{first}），也不是父进程设的 {PARENT_GLOBAL}"
            ),
        )
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn seen(fail: Ending, exit: Exit) -> Seen {
        Seen {
            parent: 100,
            child: 101,
            exit,
            fail,
            target: Target::RunProc,
            child_global: None,
            child_error: None,
            start_ms: Some(2.5),
        }
    }

    fn all(notes: &[Text]) -> String {
        notes
            .iter()
            .map(|n| n.en.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Asked to exit with 3, the child was killed instead: nothing may say it chose 3.
    #[test]
    fn an_exit_code_is_named_only_when_the_child_chose_it() {
        let notes = notes(&seen(Ending::Exits, Exit::Signal(9)), false);
        let text = all(&notes);
        assert!(!text.contains("chose its exit code"), "{text}");
        assert!(text.contains("killed by signal 9"), "{text}");
        assert!(
            text.contains("expected the child to end with code 3"),
            "{text}"
        );
        let text = all(&super::notes(&seen(Ending::Exits, Exit::Code(3)), false));
        assert!(text.contains("the child chose exit code 3"), "{text}");
    }

    #[test]
    fn a_crash_is_named_only_when_the_child_crashed() {
        let text = all(&notes(&seen(Ending::Crashes, Exit::Code(0)), false));
        assert!(!text.contains("crashed") && !text.contains("-6"), "{text}");
        assert!(
            text.contains("expected the child to end with signal 6"),
            "{text}"
        );
        let text = all(&notes(&seen(Ending::Crashes, Exit::Signal(6)), false));
        assert!(text.contains("p.exitcode is -6"), "{text}");
        assert!(!text.contains("expected"), "{text}");
    }

    /// A child that saw the parent's change was not started the spawn way.
    #[test]
    fn what_the_child_saw_of_the_global_follows_the_figure() {
        let mut s = seen(Ending::Returns, Exit::Code(0));
        s.target = Target::ReadGlobal;
        s.child_global = Some(0.0);
        let text = all(&notes(&s, false));
        assert!(text.contains("the child saw 0"), "{text}");
        assert!(
            text.contains("fork") && text.contains("would have seen 42"),
            "{text}"
        );
        s.child_global = Some(42.0);
        let text = all(&notes(&s, false));
        assert!(text.contains("the child saw 42"), "{text}");
        assert!(!text.contains("copies no memory"), "{text}");
    }

    #[test]
    fn every_note_has_chinese() {
        let mut s = seen(Ending::Crashes, Exit::Signal(6));
        s.target = Target::ReadGlobal;
        s.child_global = Some(0.0);
        s.child_error = Some("boom".into());
        for fail in [Ending::Returns, Ending::Exits, Ending::Crashes] {
            for exit in [
                Exit::Code(0),
                Exit::Code(3),
                Exit::Signal(6),
                Exit::Signal(9),
            ] {
                s.fail = fail;
                s.exit = exit;
                for n in notes(&s, false) {
                    assert!(n.is_translated(), "{n:?}");
                }
            }
        }
    }
}
