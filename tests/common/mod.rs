// Every test binary compiles its own copy of this module and uses a different subset of it.
#![allow(dead_code)]
//! The harness the integration tests share (each test file says `mod common;`): the real
//! `conlab` binary run headless with a bounded wait and its output read on threads, the JSON
//! report's figures, usage errors, and what /proc says about the processes a run leaves (or
//! does not leave) behind. The dashboard in a pseudo-terminal is in [`pty`], the fixed models
//! of the view snapshots in [`view`].

pub mod programs;
pub mod pty;
pub mod view;

use serde_json::Value;
use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Mutex, MutexGuard, Once};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_conlab");

/// Locks `m`, whether or not a test that held it before panicked.
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

// ---------------------------------------------------------------------------------------
// Running conlab

/// How a test file runs `conlab`.
#[derive(Debug, Clone, Copy)]
pub struct Conlab {
    /// A run that outlives this is killed, waited for, and fails the test: long enough for
    /// the slowest run of the file on a loaded 2-core machine, short enough that a hang fails
    /// the test instead of the whole CI job.
    pub deadline: Duration,
    /// What becomes of the processes a run orphans.
    pub orphans: Orphans,
}

/// What becomes of the processes a run orphans.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Orphans {
    /// Nothing is done about them: they go to PID 1 (which on some machines never reaps).
    Ignored,
    /// This process becomes a child subreaper and registers every `conlab` it starts, so an
    /// orphan of a run comes here and can be told from them: see [`adopted_children`].
    Adopted,
    /// As `Adopted`, and after every run the adopted zombies are reaped and recorded: see
    /// [`reap_adopted`] and [`adopted_as`].
    Reaped,
}

/// What one `conlab` invocation did.
#[derive(Debug)]
pub struct Outcome {
    /// The PID of the `conlab` process itself (the runner's parent).
    pub pid: u32,
    /// Start time of the `conlab` process (clock ticks since boot): every process of the run
    /// started at or after it.
    pub since: u64,
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    /// From the start of the wait to the exit, output read.
    pub took: Duration,
    /// The largest resident set, in KiB, of `conlab` and of every descendant that was waited
    /// for (its runner, and the runner's children): `ru_maxrss` as `wait4` tells it.
    pub peak_rss_kib: u64,
}

impl Outcome {
    /// Stdout as the one JSON object it must be.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not one JSON object ({e}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }

    /// Exit code 0 and no panic.
    pub fn assert_success(&self, what: &str) {
        self.assert_no_panic(what);
        assert_eq!(self.code, Some(0), "{what}: {self:?}");
    }

    pub fn assert_no_panic(&self, what: &str) {
        assert!(
            !self.stderr.contains("panicked"),
            "{what} panicked: {}",
            self.stderr
        );
    }
}

/// `conlab args...` with nothing on stdin and its output piped, in English whatever the
/// locale of whoever runs the tests (a test of Chinese asks for it).
pub fn command(args: &[&str]) -> Command {
    let mut command = Command::new(BIN);
    command
        .args(args)
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .env("LANG", "C.UTF-8")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

/// `run <scenario> <flags...> --set k=v ...`
pub fn run_args<'a>(scenario: &'a str, flags: &[&'a str], sets: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["run", scenario];
    args.extend(flags);
    for s in sets {
        args.extend(["--set", s]);
    }
    args
}

/// A started process with its stdout and stderr piped, not waited for yet.
pub struct Started {
    child: Child,
    pub pid: u32,
    /// Its start time, clock ticks since boot (0 if it was gone already).
    pub since: u64,
    /// Registered as started by a test (see [`Orphans::Adopted`]) until it is waited for.
    registered: bool,
}

/// Starts `command`.
pub fn spawn(command: &mut Command) -> Started {
    started(command.spawn().expect("start conlab"), false)
}

/// Starts `command` as a child this process waits for itself: this process becomes a child
/// subreaper, and the child is registered before anyone can look for adopted orphans, so it is
/// never mistaken for one.
pub fn spawn_registered(command: &mut Command) -> Started {
    become_subreaper();
    let mut registry = lock(&STARTED);
    let child = command.spawn().expect("start conlab");
    registry.push(child.id());
    drop(registry);
    started(child, true)
}

fn started(child: Child, registered: bool) -> Started {
    let pid = child.id();
    let since = stat(pid as i32).map(|s| s.start).unwrap_or(0);
    Started {
        child,
        pid,
        since,
        registered,
    }
}

impl Started {
    /// Reads stdout and stderr to the end on threads and waits for the exit (PID 1 here does
    /// not reap), within `deadline`: past it, the process is killed, waited for, and the test
    /// fails naming `what`.
    pub fn finish(mut self, deadline: Duration, what: &str) -> Outcome {
        let started = Instant::now();
        let out_reader = read_text(self.child.stdout.take().expect("piped"));
        let err_reader = read_text(self.child.stderr.take().expect("piped"));
        let (status, peak_rss_kib) = wait4_bounded(&mut self.child, deadline, what);
        let stdout = out_reader.join().unwrap().expect("stdout is UTF-8");
        let stderr = err_reader.join().unwrap().expect("stderr is UTF-8");
        if self.registered {
            lock(&STARTED).retain(|p| *p != self.pid);
        }
        Outcome {
            pid: self.pid,
            since: self.since,
            code: status.code(),
            stdout,
            stderr,
            took: started.elapsed(),
            peak_rss_kib,
        }
    }
}

/// Waits for `child`, polling; past `deadline` it is killed, waited for, and the test fails
/// naming `what`. `child` is reaped here (by `wait4`): its `Child` must not be waited for again.
pub fn wait_bounded(child: &mut Child, deadline: Duration, what: &str) -> ExitStatus {
    wait4_bounded(child, deadline, what).0
}

/// As [`wait_bounded`], and the peak RSS in KiB of `child` and of every descendant it waited
/// for: `ru_maxrss` of the rusage `wait4(2)` returns.
fn wait4_bounded(child: &mut Child, deadline: Duration, what: &str) -> (ExitStatus, u64) {
    use nix::libc;
    use std::os::unix::process::ExitStatusExt;
    let started = Instant::now();
    let pid = child.id() as libc::pid_t;
    let mut killed = false;
    loop {
        let mut status = 0;
        // SAFETY: an all-zero rusage is a valid value of this plain C struct.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        let flags = if killed { 0 } else { libc::WNOHANG };
        // SAFETY: `pid` is our own child, not reaped yet; both out-pointers are live locals.
        let got = unsafe { libc::wait4(pid, &mut status, flags, &mut usage) };
        if got == pid {
            assert!(!killed, "{what} did not finish within {deadline:?}");
            return (ExitStatus::from_raw(status), usage.ru_maxrss as u64);
        }
        if got < 0 {
            let e = std::io::Error::last_os_error();
            assert!(
                e.kind() == std::io::ErrorKind::Interrupted,
                "wait for {what}: {e}"
            );
            continue;
        }
        if started.elapsed() > deadline {
            let _ = child.kill();
            killed = true;
        } else {
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

/// Reads `from` to its end on a thread of its own, as text.
pub fn read_text(mut from: impl Read + Send + 'static) -> JoinHandle<std::io::Result<String>> {
    std::thread::spawn(move || {
        let mut s = String::new();
        from.read_to_string(&mut s).map(|_| s)
    })
}

/// Reads `from` to its end on a thread of its own, as lines with their newlines kept.
pub fn read_lines(from: impl Read + Send + 'static) -> JoinHandle<std::io::Result<Vec<Vec<u8>>>> {
    std::thread::spawn(move || {
        let mut lines = Vec::new();
        let mut reader = BufReader::new(from);
        loop {
            let mut line = Vec::new();
            match reader.read_until(b'\n', &mut line) {
                Ok(0) => return Ok(lines),
                Ok(_) => lines.push(line),
                Err(e) => return Err(e),
            }
        }
    })
}

impl Conlab {
    /// Starts `conlab args...` with `env` added.
    pub fn start(&self, args: &[&str], env: &[(&str, &str)]) -> Started {
        let mut command = command(args);
        for (key, value) in env {
            command.env(key, value);
        }
        match self.orphans {
            Orphans::Ignored => spawn(&mut command),
            Orphans::Adopted | Orphans::Reaped => spawn_registered(&mut command),
        }
    }

    /// Waits for a started `conlab args...` (see [`Started::finish`]).
    pub fn finish(&self, started: Started, args: &[&str]) -> Outcome {
        let outcome = started.finish(self.deadline, &format!("conlab {args:?}"));
        if self.orphans == Orphans::Reaped {
            reap_adopted();
        }
        outcome
    }

    /// Runs `conlab args...` to its end.
    pub fn invoke(&self, args: &[&str]) -> Outcome {
        self.invoke_env(args, &[])
    }

    /// Runs `conlab args...` with `env` added, to its end.
    pub fn invoke_env(&self, args: &[&str], env: &[(&str, &str)]) -> Outcome {
        self.finish(self.start(args, env), args)
    }

    /// `conlab run <scenario> --json --set k=v ...`: the report and the outcome.
    pub fn run_json(&self, scenario: &str, sets: &[&str]) -> (Value, Outcome) {
        let outcome = self.invoke(&run_args(scenario, &["--json"], sets));
        let report = outcome.json();
        (report, outcome)
    }

    /// `conlab run <scenario> --json --set k=v ...` that the scenario refuses: exit code 1 and a
    /// report whose `error` says `wanted`. The report, for more checks.
    pub fn run_refused(&self, scenario: &str, sets: &[&str], wanted: &str) -> Value {
        let (report, outcome) = self.run_json(scenario, sets);
        assert_run_error(&report, &outcome, wanted);
        report
    }

    /// `conlab run <scenario> --set k=v ...`: the text report, log lines first.
    pub fn run_text(&self, scenario: &str, sets: &[&str]) -> Outcome {
        self.invoke(&run_args(scenario, &[], sets))
    }

    /// Bad usage: exit code 2, nothing on stdout, a message on stderr that names every piece
    /// in `names`, and never a panic. The outcome, for more checks of the message.
    pub fn assert_usage_error(&self, args: &[&str], names: &[&str]) -> Outcome {
        let outcome = self.invoke(args);
        outcome.assert_no_panic(&format!("conlab {args:?}"));
        assert_eq!(outcome.code, Some(2), "conlab {args:?}: {outcome:?}");
        assert!(
            outcome.stdout.is_empty(),
            "conlab {args:?} printed to stdout: {}",
            outcome.stdout
        );
        for name in names {
            assert!(
                outcome.stderr.contains(name),
                "conlab {args:?}: stderr does not name `{name}`: {}",
                outcome.stderr
            );
        }
        outcome
    }
}

// ---------------------------------------------------------------------------------------
// The report's figures

pub fn metric<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["metrics"]
        .get(name)
        .unwrap_or_else(|| panic!("metric `{name}` missing: {report}"))
}

pub fn int(report: &Value, name: &str) -> i64 {
    metric(report, name)
        .as_i64()
        .unwrap_or_else(|| panic!("metric `{name}` is not a JSON integer in {report}"))
}

pub fn float(report: &Value, name: &str) -> f64 {
    metric(report, name)
        .as_f64()
        .unwrap_or_else(|| panic!("metric `{name}` is not a number in {report}"))
}

pub fn has_metric(report: &Value, name: &str) -> bool {
    report["metrics"].get(name).is_some()
}

// ---------------------------------------------------------------------------------------
// /proc

/// The fields of /proc/PID/stat the tests need.
#[derive(Debug, Clone, PartialEq)]
pub struct Stat {
    /// The command name (`conlab`, `python3`, ...), at most 15 bytes.
    pub comm: String,
    pub state: char,
    pub ppid: i32,
    pub session: i32,
    /// Start time in clock ticks since boot: tells a process from a later one with its PID.
    pub start: u64,
    pub nice: i64,
    /// User + system CPU time so far, in clock ticks.
    pub cpu_ticks: u64,
}

/// What /proc says about `pid` (zombies included), if it is there.
pub fn stat(pid: i32) -> Option<Stat> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (in parentheses) may hold spaces; the fields after it do not.
    let open = text.find('(')?;
    let close = text.rfind(')')?;
    let f: Vec<&str> = text[close + 1..].split_whitespace().collect();
    Some(Stat {
        comm: text.get(open + 1..close)?.to_string(),
        state: f.first()?.chars().next()?,
        ppid: f.get(1)?.parse().ok()?,
        session: f.get(3)?.parse().ok()?,
        start: f.get(19)?.parse().ok()?,
        nice: f.get(16)?.parse().ok()?,
        cpu_ticks: f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?,
    })
}

/// The command line of `pid`, its words joined by spaces (empty once it is gone).
pub fn cmdline(pid: i32) -> String {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .map(|b| {
            String::from_utf8_lossy(&b)
                .replace('\0', " ")
                .trim()
                .to_string()
        })
        .unwrap_or_default()
}

pub fn all_pids() -> Vec<i32> {
    std::fs::read_dir("/proc")
        .map(|dir| {
            dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

pub fn children_of(ppid: i32) -> Vec<i32> {
    all_pids()
        .into_iter()
        .filter(|p| stat(*p).is_some_and(|s| s.ppid == ppid))
        .collect()
}

/// True if `pid` is still a `conlab` process (running or an unreaped zombie). A PID that
/// exists but belongs to another program was reused, which is not a leftover.
pub fn is_conlab(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| s.contains("(conlab"))
}

/// Whether `python3` can be found on this process's PATH (the python modes need it).
pub fn python3_on_path() -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::env::var_os("PATH").is_some_and(|path| {
        std::env::split_paths(&path).any(|dir| {
            std::fs::metadata(dir.join("python3"))
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
    })
}

/// The cores `/proc/stat` lists (`cpu0`, `cpu1`, ...): what `core_N_busy_pct` covers.
pub fn proc_stat_cores() -> usize {
    std::fs::read_to_string("/proc/stat")
        .unwrap_or_default()
        .lines()
        .filter(|l| l.starts_with("cpu") && l.as_bytes().get(3).is_some_and(u8::is_ascii_digit))
        .count()
}

// ---------------------------------------------------------------------------------------
// Orphans

/// PIDs of the `conlab` processes the tests started themselves (and wait for themselves).
static STARTED: Mutex<Vec<u32>> = Mutex::new(Vec::new());
/// Processes that were orphaned, adopted and reaped here: `(pid, what it was)`.
static ADOPTED: Mutex<Vec<(u32, String)>> = Mutex::new(Vec::new());

/// A process orphaned by a dying parent comes to this process, not to PID 1 (which never
/// reaps here), where it can be found, reported as a leftover, and reaped.
pub fn become_subreaper() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| nix::sys::prctl::set_child_subreaper(true).expect("PR_SET_CHILD_SUBREAPER"));
}

/// The children of this process that no test started: orphans adopted here, zombies included.
pub fn adopted_children() -> Vec<(i32, Stat)> {
    let me = std::process::id() as i32;
    // Held throughout: no conlab can be started unregistered while we look.
    let started = lock(&STARTED);
    all_pids()
        .into_iter()
        .filter(|pid| !started.contains(&(*pid as u32)))
        .filter_map(|pid| Some((pid, stat(pid)?)))
        .filter(|(_, s)| s.ppid == me)
        .collect()
}

/// Reaps the zombies that became this process's children by adoption (never the `conlab`s
/// that the tests started and wait for themselves), and records them.
pub fn reap_adopted() {
    let me = std::process::id() as i32;
    // Held throughout: no conlab can be started (and exit) unregistered while we look.
    let started = lock(&STARTED);
    for pid in all_pids() {
        let Some(s) = stat(pid) else { continue };
        if s.ppid == me && s.state == 'Z' && !started.contains(&(pid as u32)) {
            let _ = nix::sys::wait::waitpid(
                nix::unistd::Pid::from_raw(pid),
                Some(nix::sys::wait::WaitPidFlag::WNOHANG),
            );
            lock(&ADOPTED).push((pid as u32, format!("{} (zombie)", s.comm)));
        }
    }
}

/// What `pid` was, if it was orphaned, adopted and reaped by [`reap_adopted`].
pub fn adopted_as(pid: u32) -> Option<String> {
    lock(&ADOPTED)
        .iter()
        .find(|(p, _)| *p == pid)
        .map(|(_, what)| what.clone())
}

/// Leaves nothing behind, even on failure: an orphan of ours, adopted by this process (the
/// subreaper), is killed unless it is a zombie already, and reaped.
pub fn kill_and_reap(pid: i32, s: &Stat) {
    if s.state != 'Z' {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid),
            nix::sys::signal::Signal::SIGKILL,
        );
    }
    let _ = nix::sys::wait::waitpid(nix::unistd::Pid::from_raw(pid), None);
}

// ---------------------------------------------------------------------------------------
// Finding what a run left behind, by a marker in the environment

/// The environment variable that marks every process a test starts: children inherit it
/// through any fork, exec, new session or double fork, so what outlives a run is found by it,
/// never by name.
pub const MARK_VAR: &str = "CONLAB_TEST_MARK";

/// A marker no other test (of this or another test process) uses.
pub fn new_mark(what: &str) -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!(
        "{what}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::SeqCst)
    )
}

/// Live processes (zombies have no environment left) whose environment holds `mark`.
pub fn marked(mark: &str) -> Vec<i32> {
    let wanted = format!("{MARK_VAR}={mark}");
    all_pids()
        .into_iter()
        .filter(|&pid| {
            std::fs::read(format!("/proc/{pid}/environ")).is_ok_and(|env| {
                env.split(|b| *b == 0)
                    .any(|entry| entry == wanted.as_bytes())
            })
        })
        .collect()
}

/// Waits (bounded) until no process holds `mark`, reaping zombies adopted meanwhile; on
/// timeout, kills what is left so the next test starts clean, and fails naming each.
pub fn assert_none_marked(mark: &str, within: Duration, what: &str) {
    let deadline = Instant::now() + within;
    loop {
        reap_adopted();
        let left = marked(mark);
        if left.is_empty() {
            return;
        }
        if Instant::now() > deadline {
            let named: Vec<String> = left
                .iter()
                .map(|&pid| format!("{pid} {}", cmdline(pid)))
                .collect();
            for &pid in &left {
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(pid),
                    nix::sys::signal::Signal::SIGKILL,
                );
            }
            panic!("{what}: processes outlived the run by {within:?}: {named:#?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Waits (bounded) until at least `count` processes hold `mark`: everything a run was to
/// start has started.
pub fn wait_marked(mark: &str, count: usize, within: Duration, what: &str) {
    let deadline = Instant::now() + within;
    loop {
        let now = marked(mark);
        if now.len() >= count {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: {} of {count} processes started within {within:?}: {:?}",
            now.len(),
            now.iter().map(|&p| cmdline(p)).collect::<Vec<_>>()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A run that ended in error: exit code 1, and its report's `error` says `wanted`.
pub fn assert_run_error(report: &Value, outcome: &Outcome, wanted: &str) {
    assert_eq!(outcome.code, Some(1), "{outcome:?}");
    assert!(
        report["error"].as_str().is_some_and(|e| e.contains(wanted)),
        "no `{wanted}` in the error: {report}"
    );
}
