//! Reading `/proc` for what sysinfo does not give: thread counts, per-thread state, CPU time,
//! the core a thread last ran on, and its context switches.

/// The fields of a `/proc/.../stat` line that conlab uses.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stat {
    /// One letter as in `ps`: R running, S sleeping, D disk wait, Z zombie, T stopped.
    pub state: char,
    pub ppid: u32,
    /// Process group.
    pub pgrp: i32,
    /// User + system time, in clock ticks.
    pub cpu_ticks: u64,
    pub threads: u32,
    /// The core it last ran on.
    pub processor: u32,
}

/// Parses a stat line; the command name may hold spaces and parentheses, so fields are
/// counted from after the last `)`.
pub fn parse_stat(text: &str) -> Option<Stat> {
    let rest = text.get(text.rfind(')')? + 2..)?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // Field n of proc(5) is at index n - 3 here.
    let num = |n: usize| fields.get(n - 3).and_then(|f| f.parse::<u64>().ok());
    Some(Stat {
        state: fields.first()?.chars().next()?,
        ppid: num(4)? as u32,
        pgrp: num(5)? as i32,
        cpu_ticks: num(14)? + num(15)?,
        threads: num(20)? as u32,
        processor: num(39)? as u32,
    })
}

pub fn stat(pid: u32) -> Option<Stat> {
    parse_stat(&std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
}

/// One thread of a process, as `/proc/<pid>/task/<tid>/` shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskInfo {
    pub tid: u32,
    pub name: String,
    pub stat: Stat,
    pub voluntary_switches: u64,
    pub involuntary_switches: u64,
}

/// Every thread of `pid` (empty if the process is gone).
pub fn tasks(pid: u32) -> Vec<TaskInfo> {
    let Ok(dir) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return Vec::new();
    };
    let mut out: Vec<TaskInfo> = dir
        .flatten()
        .filter_map(|entry| {
            let tid: u32 = entry.file_name().to_str()?.parse().ok()?;
            let base = entry.path();
            let stat = parse_stat(&std::fs::read_to_string(base.join("stat")).ok()?)?;
            let name = std::fs::read_to_string(base.join("comm"))
                .unwrap_or_default()
                .trim()
                .to_string();
            let status = std::fs::read_to_string(base.join("status")).unwrap_or_default();
            Some(TaskInfo {
                tid,
                name,
                stat,
                voluntary_switches: status_field(&status, "voluntary_ctxt_switches:"),
                involuntary_switches: status_field(&status, "nonvoluntary_ctxt_switches:"),
            })
        })
        .collect();
    out.sort_by_key(|t| t.tid);
    out
}

fn status_field(status: &str, key: &str) -> u64 {
    status
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

/// Clock ticks per second, for turning `cpu_ticks` into time.
pub fn ticks_per_second() -> f64 {
    nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK)
        .ok()
        .flatten()
        .map(|t| t as f64)
        .unwrap_or(100.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_stat_line_with_a_tricky_name() {
        let line = "42 (a) b (c) S 1 42 42 0 -1 4194560 100 0 0 0 7 3 0 0 20 0 5 0 12345 1000 100 \
                    1 1 1 1 1 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0";
        let s = parse_stat(line).unwrap();
        assert_eq!(
            (s.state, s.cpu_ticks, s.threads, s.processor),
            ('S', 10, 5, 1)
        );
        assert_eq!((s.ppid, s.pgrp), (1, 42));
    }

    #[test]
    fn lists_our_own_threads() {
        let (stop, stopped) = crossbeam_channel::bounded::<()>(0);
        let (ready, started) = crossbeam_channel::bounded::<()>(1);
        let helper = std::thread::Builder::new()
            .name("procfs-probe".into())
            .spawn(move || {
                // std names the thread before running this, so the name is visible now.
                let _ = ready.send(());
                stopped.recv()
            })
            .unwrap();
        started.recv().unwrap();
        let tasks = tasks(std::process::id());
        drop(stop);
        let _ = helper.join();
        assert!(tasks.iter().any(|t| t.name == "procfs-probe"), "{tasks:?}");
        let me = nix::unistd::gettid().as_raw() as u32;
        assert!(
            tasks.iter().any(|t| t.tid == me && t.stat.state == 'R'),
            "{tasks:?}"
        );
    }
}
