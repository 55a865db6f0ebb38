//! The processes panel's table: every runner and its descendants, merged from the runners'
//! events (roles, exits) and the sampler (state, CPU%, threads). Exited rows stay, dimmed.

use crate::exit::Exit;
use crate::runner::{RUNNER, RunId};
use crate::sampler::{ProcSample, ThreadSample};

#[derive(Debug, Clone, PartialEq)]
pub struct ProcRow {
    pub pid: u32,
    pub ppid: u32,
    pub run: RunId,
    pub role: String,
    pub state: char,
    pub cpu_pct: f32,
    pub threads: u32,
    /// Set once the process has exited.
    pub exit: Option<Exit>,
    /// Its threads at the latest sample (shown with `t`).
    pub tasks: Vec<ThreadSample>,
    /// It ended before a process above it exec'd: a launcher's own work (the dozens of short
    /// `bash` a pyenv shim runs before it becomes python3), listed after the program's own.
    pub before_exec: bool,
}

impl ProcRow {
    fn mark_exited(&mut self, exit: Exit) {
        self.exit = Some(exit);
        // One conlab stopped watching runs on as it was last seen.
        if exit != Exit::StillRunning {
            self.state = 'X';
        }
        self.cpu_pct = 0.0;
        self.tasks.clear();
    }
}

/// Rows kept before the oldest exited ones are dropped.
const MAX_ROWS: usize = 64;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProcessTable {
    /// Newest run first; within a run, in order of appearance, but for the processes that
    /// ended before a process above them exec'd, which come last.
    pub rows: Vec<ProcRow>,
}

impl ProcessTable {
    fn find(&mut self, pid: u32) -> Option<&mut ProcRow> {
        // A PID can be reused by a later run; the newest live row wins.
        self.rows
            .iter_mut()
            .find(|r| r.pid == pid && r.exit.is_none())
    }

    /// A process announced itself (its role comes from the scenario). One that announces
    /// itself again under another name exec'd: what it started and has ended by then was
    /// its launcher's doing, not the program's, and moves behind the program's own.
    pub fn started(&mut self, run: RunId, pid: u32, ppid: u32, role: &str) {
        if let Some(row) = self.find(pid) {
            if row.role != role {
                row.role = role.to_string();
                self.ended_before_exec(run, pid);
            }
            return;
        }
        let at = self
            .rows
            .iter()
            .position(|r| r.run < run)
            .unwrap_or(self.rows.len());
        let at = self.rows[..at]
            .iter()
            .rposition(|r| r.run == run && !r.before_exec)
            .map(|i| i + 1)
            .or_else(|| self.rows[..at].iter().position(|r| r.run == run))
            .unwrap_or(at);
        let row = ProcRow {
            pid,
            ppid,
            run,
            role: role.to_string(),
            state: 'R',
            cpu_pct: 0.0,
            threads: 1,
            exit: None,
            tasks: Vec::new(),
            before_exec: false,
        };
        self.rows.insert(at, row);
        self.trim();
    }

    /// `pid` of `run` exec'd: the rows below it that have ended move behind the rest of its
    /// run's rows, each side keeping its order.
    fn ended_before_exec(&mut self, run: RunId, pid: u32) {
        let mut below = std::collections::HashSet::from([pid]);
        for r in self.rows.iter_mut().filter(|r| r.run == run) {
            if r.pid != pid && below.contains(&r.ppid) {
                below.insert(r.pid);
                r.before_exec |= r.exit.is_some();
            }
        }
        let Some(first) = self.rows.iter().position(|r| r.run == run) else {
            return;
        };
        let end = first
            + self.rows[first..]
                .iter()
                .take_while(|r| r.run == run)
                .count();
        // A stable sort keeps the order of appearance on each side.
        self.rows[first..end].sort_by_key(|r| r.before_exec);
    }

    pub fn exited(&mut self, pid: u32, exit: Exit) {
        if let Some(row) = self.find(pid) {
            row.mark_exited(exit);
        }
    }

    /// Live figures from the sampler. An unknown process joins its parent's run as a
    /// "child", or, when its parent died and the dashboard adopted it, its runner's run (the
    /// runner's PID is its process group) as an "orphan".
    pub fn sampled(&mut self, samples: &[ProcSample]) {
        for s in samples {
            // A zombie whose exit was already reported is that process, not yet reaped.
            let reported = |r: &ProcRow| r.pid == s.pid && r.exit.is_some();
            if s.state == 'Z' && self.rows.iter().any(reported) {
                continue;
            }
            if self.find(s.pid).is_none() {
                let live = |pid: u32| move |r: &&ProcRow| r.pid == pid && r.exit.is_none();
                let joined = match self.rows.iter().find(live(s.ppid)) {
                    Some(parent) => Some((parent.run, "child")),
                    None => self
                        .rows
                        .iter()
                        .find(live(s.pgrp))
                        .filter(|r| r.role == RUNNER)
                        .map(|r| (r.run, "orphan")),
                };
                let Some((run, role)) = joined else {
                    continue;
                };
                self.started(run, s.pid, s.ppid, role);
            }
            if let Some(row) = self.find(s.pid) {
                // An adopted orphan's parent changes: show the new one.
                row.ppid = s.ppid;
                row.state = s.state;
                row.cpu_pct = s.cpu_pct;
                row.threads = s.threads;
                row.tasks = s.tasks.clone();
            }
        }
    }

    /// Every process of `run` still marked live is gone (its runner was reaped and its group killed).
    pub fn run_ended(&mut self, run: RunId) {
        for row in self
            .rows
            .iter_mut()
            .filter(|r| r.run == run && r.exit.is_none())
        {
            row.mark_exited(Exit::KilledWithGroup);
        }
    }

    /// Lines the panel would show: a row per process, plus its threads with `t`.
    pub fn line_count(&self, show_threads: bool) -> usize {
        let threads = |r: &ProcRow| if show_threads { r.tasks.len() } else { 0 };
        self.rows.iter().map(|r| 1 + threads(r)).sum()
    }

    fn trim(&mut self) {
        while self.rows.len() > MAX_ROWS {
            match self.rows.iter().rposition(|r| r.exit.is_some()) {
                Some(i) => {
                    self.rows.remove(i);
                }
                None => break,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newest_run_first_and_exits_kept() {
        let mut t = ProcessTable::default();
        t.started(1, 100, 1, "runner");
        t.exited(100, Exit::Code(0));
        t.started(2, 200, 1, "runner");
        t.started(2, 201, 200, "child");
        assert_eq!(
            t.rows.iter().map(|r| r.pid).collect::<Vec<_>>(),
            vec![200, 201, 100]
        );
        assert_eq!(t.rows[2].exit, Some(Exit::Code(0)));
        t.run_ended(2);
        assert!(t.rows.iter().all(|r| r.exit.is_some()));
    }

    #[test]
    fn what_a_launcher_ran_before_it_exec_d_the_program_comes_after_the_programs_own() {
        // A pyenv shim (bash, PID 10) runs short programs, one with a child of its own, then execs
        // python3, which forks a worker; another run is listed below.
        let mut t = ProcessTable::default();
        t.started(1, 50, 1, "runner");
        t.started(2, 10, 9, "bash");
        for (pid, ppid) in [(11, 10), (12, 11), (13, 10)] {
            t.started(2, pid, ppid, "bash");
        }
        for pid in [12, 11, 13] {
            t.exited(pid, Exit::Code(0));
        }
        // One still running at the exec stays where it was.
        t.started(2, 14, 10, "sleep");
        t.started(2, 10, 9, "python3");
        t.started(2, 15, 10, "python3");
        let order = |t: &ProcessTable| t.rows.iter().map(|r| r.pid).collect::<Vec<_>>();
        assert_eq!(order(&t), vec![10, 14, 15, 11, 12, 13, 50]);
        assert!(t.rows[3..6].iter().all(|r| r.before_exec));
        // The same role again is no exec; a child's exec concerns only what is below it.
        t.started(2, 10, 9, "python3");
        t.started(2, 16, 15, "sh");
        t.exited(16, Exit::Code(0));
        t.started(2, 15, 10, "worker");
        assert_eq!(order(&t), vec![10, 14, 15, 16, 11, 12, 13, 50]);
        assert!(t.rows[3].before_exec);
    }

    #[test]
    fn sampled_descendants_join_their_parents_run() {
        let mut t = ProcessTable::default();
        t.started(7, 100, 1, "runner");
        let child = ProcSample {
            pid: 101,
            ppid: 100,
            pgrp: 100,
            name: "conlab".into(),
            state: 'S',
            cpu_pct: 50.0,
            threads: 3,
            tasks: vec![],
        };
        let stranger = ProcSample {
            pid: 555,
            ppid: 1,
            pgrp: 555,
            ..child.clone()
        };
        t.sampled(&[child.clone(), stranger]);
        assert_eq!(t.rows.len(), 2);
        assert_eq!((t.rows[1].run, t.rows[1].threads), (7, 3));
        assert_eq!(t.rows[1].role, "child");

        // 101 dies; its child 102, adopted by the dashboard (PID 50), is still in group 100.
        t.exited(101, Exit::Code(0));
        let orphan = ProcSample {
            pid: 102,
            ppid: 50,
            ..child
        };
        t.sampled(&[orphan]);
        let row = t
            .rows
            .iter()
            .find(|r| r.pid == 102)
            .expect("the orphan is listed");
        assert_eq!((row.run, row.role.as_str(), row.ppid), (7, "orphan", 50));
    }

    #[test]
    fn a_zombie_whose_exit_was_reported_is_not_listed_again() {
        let mut t = ProcessTable::default();
        t.started(7, 100, 1, "runner");
        t.started(7, 101, 100, "sleep");
        t.exited(101, Exit::Code(0));
        let zombie = ProcSample {
            pid: 101,
            ppid: 100,
            pgrp: 100,
            name: "sleep".into(),
            state: 'Z',
            cpu_pct: 0.0,
            threads: 1,
            tasks: vec![],
        };
        t.sampled(std::slice::from_ref(&zombie));
        assert_eq!(t.rows.len(), 2, "{:?}", t.rows);
        assert_eq!(t.rows[1].exit, Some(Exit::Code(0)));
        // A live process that reuses the PID is a new one.
        t.sampled(&[ProcSample {
            state: 'S',
            ..zombie
        }]);
        assert_eq!(t.rows.len(), 3);
    }

    #[test]
    fn a_stranger_in_a_group_that_is_no_runner_stays_out() {
        let mut t = ProcessTable::default();
        t.started(7, 100, 1, "runner");
        t.started(7, 101, 100, "worker");
        let stranger = ProcSample {
            pid: 300,
            ppid: 1,
            // The group of a worker, not of a runner: not one of ours.
            pgrp: 101,
            name: "x".into(),
            state: 'S',
            cpu_pct: 0.0,
            threads: 1,
            tasks: vec![],
        };
        t.sampled(&[stranger]);
        assert_eq!(t.rows.len(), 2);
    }
}
