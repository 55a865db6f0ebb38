//! Runs a command and follows it with ptrace: the kernel stops it at each fork, vfork and
//! clone, so every process and thread is seen, however briefly it lived, and every exit
//! status reaches the tracer before the parent's `wait` (the process stays a zombie until
//! then). Only those events stop the program; its system calls run untraced.
//!
//! Nothing is left behind:
//! - the command runs in a process group of its own; cancelling sends SIGTERM to every
//!   process it started (in the group or not), then SIGKILL;
//! - a process that double-forks or leaves the group is still a tracee, so it is known by
//!   PID and ended with the rest; the runner is a subreaper, so it is re-parented here;
//! - `PTRACE_O_EXITKILL`: should the runner die, even by SIGKILL, the kernel kills every
//!   tracee;
//! - when the command's first process ends, whatever it left running is killed (counted in
//!   `left_running`).

use super::TERM_GRACE;
use super::counts::Counts;
use super::summary::Summary;
use crate::event::Body;
use crate::exit::Exit;
use crate::probe::Probe;
use nix::errno::Errno;
use nix::sys::ptrace::{self, Event as Stop, Options};
use nix::sys::signal::{Signal, kill};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::Pid;
use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Lines of the command's output longer than this are cut (an event is one pipe write).
const LINE_MAX: usize = 2000;

/// Processes of the command still alive, by PID: what cancelling signals.
type Live = Arc<Mutex<HashSet<u32>>>;

/// Runs `words` (a program and its arguments) to its end, or until the run is cancelled.
pub fn watch(probe: &Probe, words: &[String]) -> Result<Summary, String> {
    let mut command = Command::new(&words[0]);
    command
        .args(&words[1..])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    crate::lifeline::die_with_parent(&mut command);
    // SAFETY: ptrace(PTRACE_TRACEME) is one system call, async-signal-safe.
    unsafe {
        command.pre_exec(|| ptrace::traceme().map_err(std::io::Error::from));
    }
    let started = Instant::now();
    let mut child = command
        .spawn()
        .map_err(|e| format!("could not start {}: {e}", words[0]))?;
    let root = child.id();
    let (stdout, stderr) = (child.stdout.take(), child.stderr.take());
    // The tracee stops with SIGTRAP once exec has succeeded.
    match waitpid(Pid::from_raw(root as i32), Some(WaitPidFlag::__WALL)) {
        Ok(WaitStatus::Stopped(_, Signal::SIGTRAP)) => {}
        other => {
            return Err(format!(
                "{} did not start under ptrace: {other:?}",
                words[0]
            ));
        }
    }
    let options = Options::PTRACE_O_TRACEFORK
        | Options::PTRACE_O_TRACEVFORK
        | Options::PTRACE_O_TRACECLONE
        | Options::PTRACE_O_TRACEEXEC
        | Options::PTRACE_O_EXITKILL;
    let root_pid = Pid::from_raw(root as i32);
    if let Err(e) = ptrace::setoptions(root_pid, options) {
        let _ = kill(root_pid, Signal::SIGKILL);
        return Err(format!("ptrace refused to follow {}: {e}", words[0]));
    }
    let counts = Counts::default();
    let live: Live = Arc::default();
    let done = AtomicBool::new(false);
    let mut tracer = Tracer::new(probe, &counts, live.clone(), root);
    tracer.process_started(root, std::process::id());
    let _ = ptrace::cont(root_pid, None);

    let end = std::thread::scope(|scope| {
        for pipe in [stdout.map(box_read), stderr.map(box_read)]
            .into_iter()
            .flatten()
        {
            scope.spawn(move || relay_output(probe, pipe));
        }
        scope.spawn(|| cancel_when_asked(probe, &live, &done));
        let end = probe.with_live(|m| counts.snapshot(m), || tracer.follow(started));
        done.store(true, Ordering::SeqCst);
        end
    });
    let usage = nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_CHILDREN)
        .map_err(|e| format!("getrusage: {e}"))?;
    let ms = |t: nix::sys::time::TimeVal| t.tv_sec() as f64 * 1000.0 + t.tv_usec() as f64 / 1000.0;
    let (processes_seen, threads_seen) = counts.seen();
    Ok(Summary {
        program: words[0].clone(),
        pid: root,
        wall_ms: end.wall_ms,
        cpu_user_ms: ms(usage.user_time()),
        cpu_system_ms: ms(usage.system_time()),
        peak_rss_kib: usage.max_rss().max(0) as u64,
        processes_seen,
        threads_seen,
        voluntary_switches: usage.voluntary_context_switches().max(0) as u64,
        involuntary_switches: usage.involuntary_context_switches().max(0) as u64,
        exit: end.exit,
        left_running: end.left_running,
        attached: false,
    })
}

fn box_read(pipe: impl Read + Send + 'static) -> Box<dyn Read + Send> {
    Box::new(pipe)
}

/// The command's output, line by line, as the runner's log lines: every process of the
/// command writes to the one pipe, so which of them wrote a line is not known.
fn relay_output(probe: &Probe, pipe: Box<dyn Read + Send>) {
    let mut reader = BufReader::new(pipe);
    let mut line = Vec::new();
    while matches!(reader.read_until(b'\n', &mut line), Ok(n) if n > 0) {
        let text = String::from_utf8_lossy(&line);
        let text: String = text.trim_end().chars().take(LINE_MAX).collect();
        line.clear();
        probe.emit(Body::Log { text });
    }
}

/// On cancel, SIGTERM to every live process of the command, then SIGKILL to those left.
fn cancel_when_asked(probe: &Probe, live: &Live, done: &AtomicBool) {
    while !done.load(Ordering::SeqCst) {
        if probe.cancelled() {
            signal_all(live, Signal::SIGTERM);
            let deadline = Instant::now() + TERM_GRACE;
            while Instant::now() < deadline && !done.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(10));
            }
            signal_all(live, Signal::SIGKILL);
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Signals each live process by PID. A tracee that ended stays a zombie until the tracer has
/// seen it, so none of these PIDs can have been reused.
fn signal_all(live: &Live, signal: Signal) -> u64 {
    let pids: Vec<u32> = live
        .lock()
        .map(|l| l.iter().copied().collect())
        .unwrap_or_default();
    for &pid in &pids {
        let _ = kill(Pid::from_raw(pid as i32), signal);
    }
    pids.len() as u64
}

/// How the command ended.
struct End {
    wall_ms: f64,
    exit: Option<Exit>,
    left_running: u64,
}

/// The ptrace side: every call comes from the thread that started the command.
struct Tracer<'a> {
    probe: &'a Probe,
    counts: &'a Counts,
    live: Live,
    root: u32,
    /// Every live task (thread or process), with the process it belongs to.
    tasks: HashMap<u32, u32>,
    /// Each live process's parent, to announce it again after an exec.
    parents: HashMap<u32, u32>,
    /// New tasks announced by their parent's event whose first stop has not come yet.
    awaiting_stop: HashSet<u32>,
    /// New tasks whose first stop came before their parent's event.
    stopped_early: HashSet<u32>,
}

impl<'a> Tracer<'a> {
    fn new(probe: &'a Probe, counts: &'a Counts, live: Live, root: u32) -> Tracer<'a> {
        Tracer {
            probe,
            counts,
            live,
            root,
            tasks: HashMap::new(),
            parents: HashMap::new(),
            awaiting_stop: HashSet::new(),
            stopped_early: HashSet::new(),
        }
    }

    /// Waits for every tracee until none is left: the first process's end, then what it left.
    fn follow(&mut self, started: Instant) -> End {
        let mut end = None;
        loop {
            let status = match waitpid(None::<Pid>, Some(WaitPidFlag::__WALL)) {
                Ok(status) => status,
                Err(Errno::EINTR) => continue,
                // ECHILD: no child and no tracee left.
                Err(_) => break,
            };
            self.on(status);
            if end.is_none()
                && let Some(exit) = self.root_exit(&status)
            {
                // The command is over; what it left running goes now.
                let left_running = signal_all(&self.live, Signal::SIGKILL);
                end = Some(End {
                    wall_ms: started.elapsed().as_secs_f64() * 1000.0,
                    exit: Some(exit),
                    left_running,
                });
            }
        }
        end.unwrap_or(End {
            wall_ms: started.elapsed().as_secs_f64() * 1000.0,
            exit: None,
            left_running: 0,
        })
    }

    fn root_exit(&self, status: &WaitStatus) -> Option<Exit> {
        match *status {
            WaitStatus::Exited(pid, code) if pid.as_raw() as u32 == self.root => {
                Some(Exit::Code(code))
            }
            WaitStatus::Signaled(pid, signal, _) if pid.as_raw() as u32 == self.root => {
                Some(Exit::Signal(signal as i32))
            }
            _ => None,
        }
    }

    fn on(&mut self, status: WaitStatus) {
        match status {
            WaitStatus::PtraceEvent(pid, _, event) => {
                let parent = pid.as_raw() as u32;
                let is = |e: Stop| event == e as i32;
                if is(Stop::PTRACE_EVENT_FORK)
                    || is(Stop::PTRACE_EVENT_VFORK)
                    || is(Stop::PTRACE_EVENT_CLONE)
                {
                    if let Ok(new) = ptrace::getevent(pid) {
                        self.new_task(new as u32, parent);
                    }
                } else if is(Stop::PTRACE_EVENT_EXEC) {
                    self.execed(parent);
                }
                let _ = ptrace::cont(pid, None);
            }
            WaitStatus::Stopped(pid, signal) => {
                let tid = pid.as_raw() as u32;
                if signal == Signal::SIGSTOP && self.awaiting_stop.remove(&tid) {
                    // A new task's first stop: not a signal anyone sent.
                    let _ = ptrace::cont(pid, None);
                } else if signal == Signal::SIGSTOP && !self.tasks.contains_key(&tid) {
                    self.stopped_early.insert(tid);
                    let _ = ptrace::cont(pid, None);
                } else {
                    // A signal on its way: deliver it. A group-stop (no signal info) is
                    // resumed: a traced program cannot stop itself (documented).
                    let deliver = ptrace::getsiginfo(pid).ok().map(|_| signal);
                    let _ = ptrace::cont(pid, deliver);
                }
            }
            WaitStatus::Exited(pid, code) => self.ended(pid.as_raw() as u32, Exit::Code(code)),
            WaitStatus::Signaled(pid, signal, _) => {
                self.ended(pid.as_raw() as u32, Exit::Signal(signal as i32))
            }
            _ => {}
        }
    }

    /// A fork, vfork or clone of `parent` made `tid`: a process, or a thread of one.
    fn new_task(&mut self, tid: u32, parent: u32) {
        let parent_process = self.tasks.get(&parent).copied().unwrap_or(parent);
        match thread_group(tid) {
            Some(tgid) if tgid != tid => {
                self.tasks.insert(tid, tgid);
                self.counts.thread_started();
                self.probe.emit_as(
                    tgid,
                    Body::Thread {
                        tid,
                        name: comm(tid),
                    },
                );
            }
            _ => self.process_started(tid, parent_process),
        }
        if !self.stopped_early.remove(&tid) {
            self.awaiting_stop.insert(tid);
        }
    }

    fn process_started(&mut self, pid: u32, ppid: u32) {
        self.tasks.insert(pid, pid);
        self.parents.insert(pid, ppid);
        if let Ok(mut live) = self.live.lock() {
            live.insert(pid);
        }
        self.counts.process_started();
        self.probe.emit_as(
            pid,
            Body::Process {
                ppid,
                role: comm(pid),
            },
        );
    }

    /// After an exec the process has a new name: it announces itself again. An exec from a
    /// thread other than the main one took the main thread's PID; the thread's own TID is gone.
    fn execed(&mut self, pid: u32) {
        if let Ok(former) = ptrace::getevent(Pid::from_raw(pid as i32)) {
            let former = former as u32;
            if former != pid && self.tasks.remove(&former).is_some() {
                self.counts.thread_ended();
            }
        }
        let ppid = self.parents.get(&pid).copied().unwrap_or(0);
        self.probe.emit_as(
            pid,
            Body::Process {
                ppid,
                role: comm(pid),
            },
        );
    }

    fn ended(&mut self, tid: u32, exit: Exit) {
        let Some(tgid) = self.tasks.remove(&tid) else {
            return;
        };
        if tgid != tid {
            self.counts.thread_ended();
            return;
        }
        self.parents.remove(&tid);
        if let Ok(mut live) = self.live.lock() {
            live.remove(&tid);
        }
        self.counts.process_ended();
        self.probe.emit_as(tid, Body::ProcessExit { exit });
    }
}

/// The process a task belongs to (`Tgid` in its status), while it exists.
fn thread_group(tid: u32) -> Option<u32> {
    let status = std::fs::read_to_string(format!("/proc/{tid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("Tgid:"))?
        .trim()
        .parse()
        .ok()
}

/// A task's name: its executable's, until it names itself.
fn comm(tid: u32) -> String {
    std::fs::read_to_string(format!("/proc/{tid}/comm"))
        .map(|s| s.trim_end().to_string())
        .unwrap_or_else(|_| "?".to_string())
}
