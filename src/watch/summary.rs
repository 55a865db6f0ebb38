//! A watched program's summary, the figures `/usr/bin/time -v` gives and what only a watch
//! sees: every process and thread, and how the program ended.

use crate::exit::Exit;
use crate::i18n::Text;
use crate::insights::observed::{AttachedUsage, Usage};
use crate::report::{Metrics, Report};

/// The metrics an attached watch's usage is read back from ([`attached_usage`]).
const CPU_MS: &str = "cpu_ms";
const VOLUNTARY: &str = "voluntary_switches";
const INVOLUNTARY: &str = "involuntary_switches";

/// The figures of one watch. With a command they come from the kernel's accounting of every
/// process conlab reaped (`getrusage(RUSAGE_CHILDREN)`, as `time` reads it); attached to a PID,
/// from the last `/proc` reading of each process (see `attach`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Summary {
    /// The program as it was called (or the attached process's name).
    pub program: String,
    pub pid: u32,
    pub wall_ms: f64,
    pub cpu_user_ms: f64,
    pub cpu_system_ms: f64,
    /// The largest resident set of any one process.
    pub peak_rss_kib: u64,
    pub processes_seen: u64,
    /// Threads, each process's main thread included.
    pub threads_seen: u64,
    pub voluntary_switches: u64,
    pub involuntary_switches: u64,
    /// How the first process ended (`None`: attached, and it still runs).
    pub exit: Option<Exit>,
    /// Processes still running when the first one ended, which conlab then ended (a command),
    /// or left running (attached).
    pub left_running: u64,
    /// Attached to a running process rather than started it.
    pub attached: bool,
}

impl Summary {
    pub fn metrics(&self) -> Metrics {
        let mut m = Metrics::default();
        m.set("wall_ms", round3(self.wall_ms));
        m.set("cpu_user_ms", round3(self.cpu_user_ms));
        m.set("cpu_system_ms", round3(self.cpu_system_ms));
        m.set(CPU_MS, round3(self.cpu_user_ms + self.cpu_system_ms));
        m.set("peak_rss_kib", self.peak_rss_kib);
        m.set("processes_seen", self.processes_seen);
        m.set("threads_seen", self.threads_seen);
        m.set(VOLUNTARY, self.voluntary_switches);
        m.set(INVOLUNTARY, self.involuntary_switches);
        m.set("left_running", self.left_running);
        match self.exit {
            Some(Exit::Code(code)) => m.set("exit_code", code as i64),
            Some(Exit::Signal(signal)) => m.set("exit_signal", signal as i64),
            _ => {}
        }
        m
    }

    /// What happened, one sentence per line, in both languages.
    pub fn notes(&self) -> Vec<Text> {
        let (program, pid) = (&self.program, self.pid);
        let secs = self.wall_ms / 1000.0;
        let ended = match self.exit {
            // Attached: its parent, not conlab, reaped it before its status could be read.
            Some(Exit::Unseen) => Text::new(
                format!(
                    "{program} (PID {pid}) ended after {secs:.2} s; its parent took its exit status"
                ),
                format!("{program}（PID {pid}）在 {secs:.2} 秒后结束；退出状态由它的父进程取走"),
            ),
            Some(exit) => Text::new(
                format!("{program} (PID {pid}) ended with {exit} after {secs:.2} s"),
                format!("{program}（PID {pid}）在 {secs:.2} 秒后结束：{exit}"),
            ),
            None => Text::new(
                format!("{program} (PID {pid}) was watched for {secs:.2} s and still runs"),
                format!("观察了 {program}（PID {pid}）{secs:.2} 秒，它仍在运行"),
            ),
        };
        let (processes, threads) = (self.processes_seen, self.threads_seen);
        let cpu = self.cpu_user_ms + self.cpu_system_ms;
        let cores = if self.wall_ms > 0.0 {
            cpu / self.wall_ms
        } else {
            0.0
        };
        let (user, sys) = (self.cpu_user_ms / 1000.0, self.cpu_system_ms / 1000.0);
        let rss = self.peak_rss_kib as f64 / 1024.0;
        let (vol, invol) = (self.voluntary_switches, self.involuntary_switches);
        let mut notes = vec![
            ended,
            Text::new(
                format!("{processes} processes and {threads} threads seen (main threads included)"),
                format!("共见到 {processes} 个进程、{threads} 个线程（含各进程的主线程）"),
            ),
            Text::new(
                format!(
                    "CPU {user:.2} s user + {sys:.2} s system = {cores:.2} cores on average; peak RSS {rss:.1} MiB (the largest process)"
                ),
                format!(
                    "CPU 用户态 {user:.2} 秒 + 内核态 {sys:.2} 秒，平均占用 {cores:.2} 个核；内存峰值 {rss:.1} MiB（最大的那个进程）"
                ),
            ),
            Text::new(
                format!(
                    "{vol} voluntary context switches (waiting: IO, locks, sleep), {invol} involuntary (preempted)"
                ),
                format!(
                    "主动上下文切换 {vol} 次（等待 IO、锁、睡眠），被动切换 {invol} 次（被抢占）"
                ),
            ),
        ];
        let left = self.left_running;
        if left > 0 && !self.attached {
            notes.push(Text::new(
                match left {
                    1 => "the 1 process it left running was ended, so nothing outlives it".into(),
                    n => format!(
                        "the {n} processes it left running were ended, so nothing outlives it"
                    ),
                },
                format!("它结束时还有 {left} 个进程在跑，已全部结束，什么也没留下"),
            ));
        }
        if self.attached {
            notes.push(Text::new(
                "attached read-only: CPU time and context switches count from the moment conlab attached, read from /proc; nothing was signalled, and what runs goes on running",
                "只读附加：CPU 时间和上下文切换从 conlab 附加的那一刻算起，读自 /proc；没有发送任何信号，仍在运行的进程继续运行",
            ));
        }
        notes
    }
}

/// What an attached watch's `report` says the program used while watched, read back from the
/// figures [`Summary::metrics`] wrote; `None` for any other report.
pub fn attached_usage(report: &Report) -> Option<AttachedUsage> {
    let pid = report.params.get(super::PID)?.as_u64()?;
    if report.scenario != super::ID || pid == 0 {
        return None;
    }
    let metric = |name| report.metrics.get(name).map(crate::metrics::Num::as_f64);
    let count = |name| metric(name).map(|n| n.max(0.0) as u64);
    Some(AttachedUsage {
        pid: u32::try_from(pid).ok()?,
        usage: Usage {
            cpu_ms: metric(CPU_MS)?,
            voluntary_switches: count(VOLUNTARY)?,
            involuntary_switches: count(INVOLUNTARY)?,
        },
        wall_ms: report.wall_ms,
    })
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report_of(summary: &Summary, params: serde_json::Value) -> Report {
        Report {
            scenario: super::super::ID.into(),
            params: params.as_object().cloned().unwrap_or_default(),
            ok: true,
            wall_ms: summary.wall_ms,
            metrics: summary.metrics(),
            ..Report::default()
        }
    }

    /// The observer reads an attached watch's report for what the program used while watched;
    /// a watch that ran a command has its usage from `wait4`, not from its report.
    #[test]
    fn an_attached_watchs_report_tells_the_observer_what_the_program_used() {
        let summary = Summary {
            pid: 42,
            wall_ms: 1500.0,
            cpu_user_ms: 900.0,
            cpu_system_ms: 100.0,
            voluntary_switches: 7,
            involuntary_switches: 3,
            attached: true,
            ..Summary::default()
        };
        let seen = |params| attached_usage(&report_of(&summary, params));
        assert_eq!(
            seen(serde_json::json!({"command": "true", "pid": 42})),
            Some(AttachedUsage {
                pid: 42,
                usage: Usage {
                    cpu_ms: 1000.0,
                    voluntary_switches: 7,
                    involuntary_switches: 3,
                },
                wall_ms: 1500.0,
            })
        );
        assert_eq!(
            seen(serde_json::json!({"command": "sleep 1", "pid": 0})),
            None
        );
    }

    /// Attached, the program's parent reaps it: the first note says so instead of naming a
    /// status nobody read.
    #[test]
    fn an_attached_program_reaped_by_its_parent_is_said_to_have_ended() {
        let summary = Summary {
            program: "sh".into(),
            pid: 42,
            wall_ms: 1500.0,
            exit: Some(Exit::Unseen),
            attached: true,
            ..Summary::default()
        };
        let first = &summary.notes()[0];
        assert_eq!(
            first.en,
            "sh (PID 42) ended after 1.50 s; its parent took its exit status"
        );
        assert!(first.zh.contains("父进程"), "{}", first.zh);
    }
}
