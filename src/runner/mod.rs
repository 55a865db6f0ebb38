//! Starting runners (`conlab run <scenario> --events` child processes, each in its own process
//! group), reading their event streams on reader threads, cancelling and reaping them.
//!
//! The dashboard and the headless CLI both drive scenarios through this module, so a scenario
//! that crashes, forks or pins every core never takes its caller down with it.

mod observe;
mod side;

pub use observe::{FEED_MAX_INTERVAL, Feed};
pub use side::run_in_runner;

use crate::event::{Body, Event};
use crate::exit::{Exit, describe};
use crate::i18n::Text;
use crate::params::Params;
use crate::report::Metrics;
use crossbeam_channel::{Receiver, Sender};
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use std::io::{self, BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::process::{Child, ExitStatus, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Identifies one run within a dashboard or CLI session.
pub type RunId = u64;

/// The niceness the dashboard starts runners at, so it answers keys while every core is busy.
pub const RUNNER_NICE: i32 = 10;

/// The niceness a runner of `scenario` gets: a watched program runs as it would unwatched;
/// lessons give way to the dashboard.
pub fn nice_for(scenario: &str) -> i32 {
    match scenario {
        crate::watch::ID => 0,
        _ => RUNNER_NICE,
    }
}

/// How long a cancelled runner gets to print its partial report before SIGKILL.
pub const CANCEL_GRACE: Duration = Duration::from_millis(800);

/// What a runner's reader threads forward to the owner of the runs.
#[derive(Debug, Clone, PartialEq)]
pub enum RunnerMsg {
    Event(Event),
    /// A line on the runner's stderr (a panic message, a warning).
    Stderr(String),
    /// A stdout line that is not a valid event.
    BadLine(String),
    /// What was seen of the run from outside it, for the insights: sent once the runner is
    /// reaped, just before [`RunnerMsg::Exited`].
    Observed(Box<crate::insights::Observed>),
    /// The runner was reaped (`None`: its status could not be had). Always the run's last
    /// message.
    Exited {
        exit: Option<Exit>,
    },
}

impl RunnerMsg {
    /// Records what a recording keeps of the message: an event, what was observed of the run
    /// (a replay has its insights from it), or the runner's reaping.
    pub fn record_to(&self, run: RunId, recorder: &mut crate::event::record::Recorder) {
        match self {
            RunnerMsg::Event(event) => recorder.event(run, event),
            RunnerMsg::Observed(observed) => {
                if let Ok(value) = serde_json::to_value(observed) {
                    recorder.observed(run, value);
                }
            }
            RunnerMsg::Exited { exit } => recorder.ended(run, *exit),
            // Text for people: not part of the run's trace.
            RunnerMsg::Stderr(_) | RunnerMsg::BadLine(_) => {}
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct RunnerUpdate {
    pub run: RunId,
    pub msg: RunnerMsg,
}

/// The role a runner announces itself with (its children have their scenario's roles).
pub const RUNNER: &str = "runner";

/// Cancels every live runner (SIGTERM to its group): each ends what it started and exits.
/// Safe to call from a panic hook: the runners outlive this process only as long as their
/// scenario takes to stop.
pub fn cancel_all_runners() {
    crate::lifeline::signal_kept_groups(Signal::SIGTERM);
}

/// A running (or finished) runner process.
pub struct RunnerHandle {
    pub run: RunId,
    pub pid: u32,
    exited: Arc<AtomicBool>,
    reader: Option<JoinHandle<()>>,
}

/// Starts `conlab run <scenario> --set ... --events` and streams its events into `updates`.
/// `nice` lowers the runner's scheduling priority (0 keeps it), so a dashboard stays
/// responsive while a scenario keeps every core busy. `feed`: a sampler's readings of the
/// runner's tree, for its insights; without one the tree is read here.
pub fn spawn(
    run: RunId,
    scenario: &str,
    params: &Params,
    nice: i32,
    updates: Sender<RunnerUpdate>,
    feed: Option<Feed>,
) -> io::Result<RunnerHandle> {
    crate::lifeline::adopt_orphans();
    let mut command = crate::lifeline::conlab_again()?;
    command.arg("run").arg(scenario).arg("--events");
    for assignment in params.assignments() {
        command.arg("--set").arg(assignment);
    }
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // Own process group: cancel signals the whole group, and terminal Ctrl-C does not reach it.
    command.process_group(0);
    // Should this process die, even by SIGKILL, the runner is cancelled and ends its own tree.
    crate::lifeline::cancel_with_parent(&mut command);
    if nice != 0 {
        // SAFETY: setpriority is a plain system call, async-signal-safe.
        unsafe {
            command.pre_exec(move || {
                nix::libc::setpriority(nix::libc::PRIO_PROCESS, 0, nice);
                Ok(())
            });
        }
    }
    let mut child = crate::lifeline::spawn_kept(&mut command)?;
    let pid = child.id();

    let stdout = child.stdout.take().expect("stdout was piped");
    let stderr = child.stderr.take().expect("stderr was piped");
    let exited = Arc::new(AtomicBool::new(false));
    let watch = observe::Watch::start(run, pid, crate::watch::attached(scenario, params), feed);

    let (status_tx, status_rx) = crossbeam_channel::bounded(1);
    std::thread::Builder::new()
        .name(format!("runner-{run}-wait"))
        .spawn(move || wait_and_clean_group(child, status_tx))?;

    let err_updates = updates.clone();
    let stderr_reader = std::thread::Builder::new()
        .name(format!("runner-{run}-stderr"))
        .spawn(move || {
            // Lossy: a line that is not UTF-8 is still shown, and the lines after it too.
            let mut reader = BufReader::new(stderr);
            let mut line = Vec::new();
            while matches!(reader.read_until(b'\n', &mut line), Ok(n) if n > 0) {
                let text = String::from_utf8_lossy(&line).trim_end().to_string();
                line.clear();
                let _ = err_updates.send(RunnerUpdate {
                    run,
                    msg: RunnerMsg::Stderr(text),
                });
            }
        })?;

    let flag = exited.clone();
    let reader = std::thread::Builder::new()
        .name(format!("runner-{run}-events"))
        .spawn(move || {
            let mut trace = crate::insights::observed::TraceSeen::default();
            read_events(run, stdout, &updates, &mut trace);
            let _ = stderr_reader.join();
            let reaped = status_rx.recv().ok();
            let exit = reaped.map(|(status, _)| Exit::of(status));
            let observed = watch.finish(reaped.map(|(_, usage)| usage), trace);
            let _ = updates.send(RunnerUpdate {
                run,
                msg: RunnerMsg::Observed(Box::new(observed)),
            });
            flag.store(true, Ordering::SeqCst);
            let _ = updates.send(RunnerUpdate {
                run,
                msg: RunnerMsg::Exited { exit },
            });
        })?;

    Ok(RunnerHandle {
        run,
        pid,
        exited,
        reader: Some(reader),
    })
}

/// Reaps the runner, then ends anything it left: its group, and whatever detached from the
/// group (a new session, a double fork), which came to this process, a subreaper, when the
/// runner died. A runner ends its own tree before it exits; this is for one that was killed.
fn wait_and_clean_group(
    child: Child,
    status: Sender<(ExitStatus, crate::insights::observed::Usage)>,
) {
    use nix::sys::wait::{Id, WaitPidFlag, waitid};
    let pid = child.id() as i32;
    // Wait for the exit without reaping: the zombie keeps its PID, and so the group's ID, from
    // being reused while the group is killed.
    let _ = waitid(
        Id::Pid(Pid::from_raw(pid)),
        WaitPidFlag::WEXITED | WaitPidFlag::WNOWAIT,
    );
    let _ = killpg(Pid::from_raw(pid), Signal::SIGKILL);
    let result = reap_with_usage(pid);
    // Reaped here, not through `child`, whose drop neither waits nor kills.
    drop(child);
    crate::lifeline::release(pid as u32);
    crate::lifeline::end_descendants(Duration::from_secs(2));
    if let Some(s) = result {
        let _ = status.send(s);
    }
}

/// Waits for `pid` and reaps it with `wait4`, which also tells what the kernel charged it and
/// every descendant it reaped: the whole run's CPU time and context switches.
fn reap_with_usage(pid: i32) -> Option<(ExitStatus, crate::insights::observed::Usage)> {
    use std::os::unix::process::ExitStatusExt;
    let mut raw = 0;
    // SAFETY: an all-zero rusage is a valid value of the plain C struct wait4 fills in.
    let mut usage: nix::libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: both pointers are to live locals of the types wait4 expects.
        let got = unsafe { nix::libc::wait4(pid, &mut raw, 0, &mut usage) };
        if got == pid {
            return Some((ExitStatus::from_raw(raw), observe::usage_of(&usage)));
        }
        if got == -1 && nix::errno::Errno::last() == nix::errno::Errno::EINTR {
            continue;
        }
        return None;
    }
}

fn read_events(
    run: RunId,
    stdout: impl io::Read,
    updates: &Sender<RunnerUpdate>,
    trace: &mut crate::insights::observed::TraceSeen,
) {
    let mut reader = BufReader::new(stdout);
    let mut line = Vec::with_capacity(512);
    let mut joiner = crate::event::Reassembler::default();
    loop {
        line.clear();
        match reader.read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let msg = match joiner.feed_line(&line) {
            Ok(None) => continue,
            Ok(Some(event)) => {
                trace.observe(&event);
                // An attached watch's report says what the program used while watched: the
                // runner's own usage is only the watching's (see `observe::Watch::finish`).
                if let Body::Report { report } = &event.body
                    && let Some(attached) = crate::watch::summary::attached_usage(report)
                {
                    trace.attached = Some(attached);
                }
                RunnerMsg::Event(event)
            }
            Err(e) => RunnerMsg::BadLine(format!(
                "{e}: {}",
                String::from_utf8_lossy(&line).trim_end()
            )),
        };
        if updates.send(RunnerUpdate { run, msg }).is_err() {
            return;
        }
    }
}

impl RunnerHandle {
    pub fn has_exited(&self) -> bool {
        self.exited.load(Ordering::SeqCst)
    }

    /// Asks the runner's group to stop (SIGTERM: the scenario reports what it has), and
    /// SIGKILLs the group if it is still there after [`CANCEL_GRACE`].
    pub fn cancel(&self) {
        if self.has_exited() {
            return;
        }
        let group = Pid::from_raw(self.pid as i32);
        let _ = killpg(group, Signal::SIGTERM);
        let exited = self.exited.clone();
        let _ = std::thread::Builder::new()
            .name("runner-cancel".into())
            .spawn(move || {
                let deadline = Instant::now() + CANCEL_GRACE;
                while Instant::now() < deadline {
                    if exited.load(Ordering::SeqCst) {
                        return;
                    }
                    std::thread::sleep(Duration::from_millis(20));
                }
                let _ = killpg(group, Signal::SIGKILL);
            });
    }

    /// Ends runs the polite way, all at once: each is cancelled (it ends what it started and
    /// reports), gets [`CANCEL_GRACE`], and is then killed and reaped (bounded by `timeout`).
    pub fn end_all(handles: impl IntoIterator<Item = RunnerHandle>, timeout: Duration) {
        let handles: Vec<RunnerHandle> = handles.into_iter().collect();
        handles.iter().for_each(RunnerHandle::cancel);
        let deadline = Instant::now() + CANCEL_GRACE;
        while Instant::now() < deadline && !handles.iter().all(RunnerHandle::has_exited) {
            std::thread::sleep(Duration::from_millis(5));
        }
        for handle in handles {
            handle.kill_and_reap(timeout);
        }
    }

    /// Kills the group outright and waits (bounded) until the runner has been reaped.
    pub fn kill_and_reap(mut self, timeout: Duration) {
        self.reap(timeout);
    }

    fn reap(&mut self, timeout: Duration) {
        if !self.has_exited() {
            let _ = killpg(Pid::from_raw(self.pid as i32), Signal::SIGKILL);
        }
        let deadline = Instant::now() + timeout;
        while !self.has_exited() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        if self.has_exited()
            && let Some(reader) = self.reader.take()
        {
            let _ = reader.join();
        }
    }
}

impl Drop for RunnerHandle {
    /// A handle dropped on an error path still leaves nothing behind.
    fn drop(&mut self) {
        if self.reader.is_some() {
            self.reap(Duration::from_secs(2));
        }
    }
}

/// Runs one scenario in a runner and collects its messages until it is reaped.
/// Used by the headless CLI; any message on `cancel` cancels the run; `on_msg` sees each
/// message as it arrives.
pub fn run_to_end<T>(
    run: RunId,
    scenario: &str,
    params: &Params,
    cancel: &Receiver<T>,
    mut on_msg: impl FnMut(&RunnerMsg),
) -> io::Result<Vec<RunnerMsg>> {
    let (tx, rx) = crossbeam_channel::unbounded();
    let handle = spawn(run, scenario, params, 0, tx, None)?;
    let mut messages = Vec::new();
    loop {
        crossbeam_channel::select! {
            recv(rx) -> update => {
                let Ok(update) = update else { break };
                on_msg(&update.msg);
                let last = matches!(update.msg, RunnerMsg::Exited { .. });
                messages.push(update.msg);
                if last {
                    break;
                }
            }
            recv(cancel) -> _ => handle.cancel(),
        }
    }
    handle.kill_and_reap(Duration::from_secs(2));
    Ok(messages)
}

/// The report event of a finished run, with the runner's own process record filled in. A
/// runner that died before writing one gets [`dead_run_report`]: its last live figures.
pub fn final_report(
    scenario: &str,
    params: &Params,
    messages: &[RunnerMsg],
) -> crate::report::Report {
    use crate::report::ProcessRecord;
    let mut report = None;
    let mut processes: Vec<ProcessRecord> = Vec::new();
    let mut runner_exit = None;
    let mut stderr = Vec::new();
    let mut last_live = None;
    let mut observed = None;
    for msg in messages {
        match msg {
            RunnerMsg::Event(event) => {
                // The runner announces itself first; reports and counters of its children are
                // theirs.
                let from_runner = processes.first().is_some_and(|p| p.pid == event.pid);
                match &event.body {
                    Body::Report { report: r } if from_runner => report = Some((**r).clone()),
                    Body::Live { metrics } if from_runner => {
                        last_live = Some((metrics.clone(), event.t_ms));
                    }
                    // A live process that announces itself again (after an exec) has a
                    // new role, not a second record.
                    Body::Process { ppid, role } => match processes
                        .iter_mut()
                        .find(|p| p.pid == event.pid && p.exit.is_none())
                    {
                        Some(known) => known.role.clone_from(role),
                        None => processes.push(ProcessRecord {
                            pid: event.pid,
                            ppid: *ppid,
                            role: role.clone(),
                            exit: None,
                        }),
                    },
                    Body::ProcessExit { exit } => {
                        if let Some(p) = processes.iter_mut().find(|p| p.pid == event.pid) {
                            p.exit = Some(*exit);
                        }
                    }
                    // Parts were joined by the reader; none reaches here. The rest is for panels.
                    _ => {}
                }
            }
            RunnerMsg::Exited { exit } => runner_exit = *exit,
            RunnerMsg::Observed(seen) => observed = Some(seen),
            RunnerMsg::Stderr(line) => stderr.push(line.clone()),
            RunnerMsg::BadLine(_) => {}
        }
    }
    // The runner cannot report its own exit; whoever reaped it can.
    if let Some(runner) = processes.first_mut() {
        runner.exit = runner_exit;
    }
    let mut report = report.unwrap_or_else(|| {
        let live = last_live.as_ref().map(|(m, t)| (m, *t));
        dead_run_report(
            scenario,
            params,
            runner_exit,
            live,
            stderr.last().map(String::as_str),
        )
    });
    if !runner_exit.is_some_and(Exit::success) && report.error.is_none() {
        report.ok = false;
        report.error = Some(format!("runner ended with {}", describe(runner_exit)));
    }
    // Descendants that never reported an exit went down with the runner's group.
    for p in processes.iter_mut().filter(|p| p.exit.is_none()) {
        p.exit = Some(Exit::KilledWithGroup);
    }
    report.processes = processes;
    if let Some(observed) = observed {
        report.warnings = crate::insights::check(&report, observed);
    }
    report
}

/// The report of a run whose runner ended without writing one — it crashed, or was killed:
/// not ok, how the runner ended as the error, and `last_live` (the last live figures it
/// published, and when) as its metrics, so what was done until it died is not lost with it.
pub fn dead_run_report(
    scenario: &str,
    params: &Params,
    runner_exit: Option<Exit>,
    last_live: Option<(&Metrics, f64)>,
    stderr_last: Option<&str>,
) -> crate::report::Report {
    use crate::report::Report;
    let ended = describe(runner_exit);
    let mut notes = Vec::new();
    if let Some((live, t_ms)) = last_live {
        // The figures that tell the scenario's story, or all of them if it names none.
        let named = crate::scenarios::find_for_runner(scenario).map_or(&[][..], |s| s.highlights());
        let shown: Vec<String> = live
            .iter()
            .filter(|(name, _)| named.is_empty() || named.contains(name))
            .map(|(name, value)| format!("{name} {}", value.human_for(name)))
            .collect();
        let shown = shown.join(", ");
        notes.push(Text::new(
            format!(
                "the metrics are the last live figures the runner published, {t_ms:.0} ms into the run, before it ended ({ended}): {shown}"
            ),
            format!("以下指标是运行器结束（{ended}）前最后一次发布的实时数据，在运行 {t_ms:.0} ms 时：{shown}"),
        ));
    }
    Report {
        scenario: scenario.to_string(),
        params: params.to_json(),
        ok: false,
        wall_ms: last_live.map_or(0.0, |(_, t)| t),
        metrics: last_live.map(|(m, _)| m.clone()).unwrap_or_default(),
        notes: notes.iter().map(|n| n.en.clone()).collect(),
        notes_zh: notes.iter().map(|n| n.zh.clone()).collect(),
        cancelled: false,
        error: Some(format!(
            "the runner ended ({ended}) without a report{}",
            stderr_last.map(|l| format!(": {l}")).unwrap_or_default()
        )),
        processes: vec![],
        warnings: vec![],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(t_ms: f64, pid: u32, body: Body) -> RunnerMsg {
        RunnerMsg::Event(Event::new(t_ms, pid, body))
    }

    fn live(pairs: &[(&str, u64)]) -> Body {
        let mut metrics = Metrics::default();
        for (name, value) in pairs {
            metrics.set(name, *value);
        }
        Body::Live { metrics }
    }

    #[test]
    fn a_runner_that_died_leaves_its_last_live_figures() {
        let scenario = crate::scenarios::find("master-worker").unwrap();
        let params = Params::defaults(scenario.params);
        let messages = [
            event(
                0.0,
                100,
                Body::Process {
                    ppid: 1,
                    role: RUNNER.into(),
                },
            ),
            event(100.0, 100, live(&[("tasks_done", 3), ("workers_died", 0)])),
            // A child's counters are its own, never the run's.
            event(150.0, 101, live(&[("tasks_done", 99)])),
            event(200.0, 100, live(&[("tasks_done", 7), ("workers_died", 0)])),
            RunnerMsg::Exited {
                exit: Some(Exit::Signal(6)),
            },
        ];
        let report = final_report(scenario.id, &params, &messages);
        assert!(!report.ok);
        let error = report.error.as_deref().unwrap_or_default();
        assert!(
            error.contains("signal 6 (SIGABRT)") && error.contains("without a report"),
            "{error}"
        );
        assert_eq!(
            report.metrics.get("tasks_done").map(|v| v.as_f64()),
            Some(7.0)
        );
        assert_eq!(report.wall_ms, 200.0);
        assert!(
            report.notes[0].contains("last live figures")
                && report.notes[0].contains("tasks_done 7"),
            "{:?}",
            report.notes
        );
        assert_eq!(report.processes[0].exit, Some(Exit::Signal(6)));
    }

    #[test]
    fn a_process_announced_again_after_an_exec_is_one_record_with_its_new_role() {
        let params = Params::defaults(&[]);
        let announce = |pid, role: &str| {
            event(
                0.0,
                pid,
                Body::Process {
                    ppid: 1,
                    role: role.into(),
                },
            )
        };
        let messages = [
            announce(100, RUNNER),
            announce(101, "sh"),
            announce(101, "sleep"),
            event(
                1.0,
                101,
                Body::ProcessExit {
                    exit: Exit::Code(0),
                },
            ),
            // The PID used again by a new process after the first ended: a record of its own.
            announce(101, "sh"),
            RunnerMsg::Exited {
                exit: Some(Exit::Code(0)),
            },
        ];
        let report = final_report("watch", &params, &messages);
        let roles: Vec<(u32, &str)> = report
            .processes
            .iter()
            .map(|p| (p.pid, p.role.as_str()))
            .collect();
        assert_eq!(roles, [(100, RUNNER), (101, "sleep"), (101, "sh")]);
    }

    #[test]
    fn a_runner_that_died_before_any_figures_says_only_how_it_ended() {
        let params = Params::defaults(&[]);
        let messages = [
            event(
                0.0,
                100,
                Body::Process {
                    ppid: 1,
                    role: RUNNER.into(),
                },
            ),
            RunnerMsg::Stderr("boom".into()),
            RunnerMsg::Exited {
                exit: Some(Exit::Signal(9)),
            },
        ];
        let report = final_report("lock", &params, &messages);
        assert_eq!(
            report.error.as_deref(),
            Some("the runner ended (signal 9 (SIGKILL)) without a report: boom")
        );
        assert!(report.metrics.is_empty() && report.notes.is_empty());
    }
}
