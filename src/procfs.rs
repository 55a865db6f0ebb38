//! Reading `/proc` for what sysinfo does not give: thread counts, per-thread state, CPU time,
//! the core a thread last ran on, its context switches, and which processes a process started.

use std::collections::{HashMap, HashSet, VecDeque};

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

/// User and system time of a process (all its threads, living and ended), in clock ticks.
pub fn user_system_ticks(pid: u32) -> Option<(u64, u64)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let fields = fields_after_name(&text)?;
    Some((
        fields.get(14 - 3)?.parse().ok()?,
        fields.get(15 - 3)?.parse().ok()?,
    ))
}

/// How a zombie ended (`exit_code`, field 52, as `waitpid` encodes it); `None` while it runs,
/// once it is reaped, or on a kernel older than 3.5.
pub fn zombie_exit(pid: u32) -> Option<crate::exit::Exit> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let fields = fields_after_name(&text)?;
    if fields.first()? != &"Z" {
        return None;
    }
    let status: i32 = fields.get(52 - 3)?.parse().ok()?;
    Some(match status & 0x7f {
        0 => crate::exit::Exit::Code((status >> 8) & 0xff),
        signal => crate::exit::Exit::Signal(signal),
    })
}

/// The fields of a stat line after the command name, which may hold spaces and parentheses.
fn fields_after_name(text: &str) -> Option<Vec<&str>> {
    Some(
        text.get(text.rfind(')')? + 2..)?
            .split_whitespace()
            .collect(),
    )
}

pub fn stat(pid: u32) -> Option<Stat> {
    parse_stat(&std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
}

/// The stat fields and the command name the kernel keeps for the process (as `comm`, up to
/// 15 bytes; it changes at `exec`), from one read.
pub fn stat_and_name(pid: u32) -> Option<(Stat, String)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let name = text.get(text.find('(')? + 1..text.rfind(')')?)?.to_string();
    Some((parse_stat(&text)?, name))
}

/// Every process on the machine with its stat line: one pass over `/proc`.
pub fn processes() -> impl Iterator<Item = (u32, Stat)> {
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(|pid| Some((pid, stat(pid)?)))
}

/// The roots and every process below them, parents before children (the roots whether or
/// not they still exist). Only the tree's own `children` files are read, so the cost follows
/// the tree, not the machine; a kernel without them (built without CONFIG_PROC_CHILDREN) costs
/// one pass over every process's parent instead.
pub fn descendants(roots: &[u32]) -> Vec<u32> {
    if roots.is_empty() {
        Vec::new()
    } else if has_children_files() {
        descendants_by(roots, children)
    } else {
        descendants_by(roots, children_by_parent())
    }
}

/// The roots and every process below them, parents before children, each with what `read`
/// found of it; one `read` finds gone is left out. `read` also gives the process's thread
/// count, so a process of one thread has its one `children` file read without listing its
/// threads (a thread started between the two readings is seen from the next walk on).
pub fn walk<T>(roots: &[u32], mut read: impl FnMut(u32) -> Option<(T, u32)>) -> Vec<(u32, T)> {
    let mut by_parent = (!has_children_files()).then(children_by_parent);
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    let mut queue: VecDeque<u32> = roots.iter().copied().collect();
    while let Some(pid) = queue.pop_front() {
        // A PID freed and reused while the tree is read could turn up twice.
        if !seen.insert(pid) {
            continue;
        }
        let Some((found, threads)) = read(pid) else {
            continue;
        };
        out.push((pid, found));
        match &mut by_parent {
            Some(by_parent) => queue.extend(by_parent(pid)),
            None if threads == 1 => {
                queue.extend(children_listed(format!("/proc/{pid}/task/{pid}/children")))
            }
            None => queue.extend(children(pid)),
        }
    }
    out
}

/// Children of this process in one of the process `groups` other than the groups' leaders:
/// orphans it adopted as a subreaper when their parents died. Their group still names the
/// runner they came from.
pub fn adopted_from(groups: &[u32]) -> Vec<u32> {
    if groups.is_empty() {
        return Vec::new();
    }
    children_of(std::process::id())
        .into_iter()
        .filter(|pid| !groups.contains(pid))
        .filter(|&pid| stat(pid).is_some_and(|s| groups.contains(&(s.pgrp as u32))))
        .collect()
}

/// The processes `pid` started and has not reaped (zombies included).
pub fn children_of(pid: u32) -> Vec<u32> {
    if has_children_files() {
        children(pid)
    } else {
        children_by_parent()(pid)
    }
}

fn descendants_by(roots: &[u32], mut children: impl FnMut(u32) -> Vec<u32>) -> Vec<u32> {
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    let mut queue: VecDeque<u32> = roots.iter().copied().collect();
    while let Some(pid) = queue.pop_front() {
        // A PID freed and reused while the tree is read could turn up twice.
        if seen.insert(pid) {
            out.push(pid);
            queue.extend(children(pid));
        }
    }
    out
}

/// The processes `pid` started and has not reaped (zombies included), from each of its
/// threads' `children` file: a child is listed under the thread that forked it. Empty when
/// `pid` is gone.
fn children(pid: u32) -> Vec<u32> {
    let Ok(threads) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return Vec::new();
    };
    threads
        .flatten()
        .flat_map(|t| children_listed(t.path().join("children")))
        .collect()
}

/// The PIDs a thread's `children` file lists (none if it cannot be read).
fn children_listed(path: impl AsRef<std::path::Path>) -> Vec<u32> {
    std::fs::read_to_string(path)
        .map(|list| {
            list.split_whitespace()
                .filter_map(|c| c.parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

/// Children from one pass over every process's parent.
fn children_by_parent() -> impl FnMut(u32) -> Vec<u32> {
    let mut by_parent: HashMap<u32, Vec<u32>> = HashMap::new();
    for (pid, s) in processes() {
        by_parent.entry(s.ppid).or_default().push(pid);
    }
    move |pid| by_parent.remove(&pid).unwrap_or_default()
}

fn has_children_files() -> bool {
    static HAS: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *HAS.get_or_init(|| std::path::Path::new("/proc/thread-self/children").exists())
}

/// The state letter of each thread of `pid` (empty if the process is gone): one small read
/// a thread, for sampling many often.
pub fn task_states(pid: u32) -> Vec<char> {
    let Ok(dir) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return Vec::new();
    };
    dir.flatten()
        .filter_map(|entry| {
            let text = std::fs::read_to_string(entry.path().join("stat")).ok()?;
            Some(parse_stat(&text)?.state)
        })
        .collect()
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
                voluntary_switches: field(&status, "voluntary_ctxt_switches:").unwrap_or(0),
                involuntary_switches: field(&status, "nonvoluntary_ctxt_switches:").unwrap_or(0),
            })
        })
        .collect();
    out.sort_by_key(|t| t.tid);
    out
}

/// A process's memory as `/proc/<pid>/status` tells it, in KiB.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Memory {
    /// Resident now (`VmRSS`).
    pub rss_kib: u64,
    /// The most it was ever resident (`VmHWM`, the high-water mark).
    pub peak_kib: u64,
}

/// `None` once the process is gone or a zombie (its memory is gone with it).
pub fn memory(pid: u32) -> Option<Memory> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    Some(Memory {
        rss_kib: field(&status, "VmRSS:")?,
        peak_kib: field(&status, "VmHWM:")?,
    })
}

/// This process's resident memory (`VmRSS`), in KiB.
pub fn resident_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    field(&status, "VmRSS:").unwrap_or(0)
}

/// The memory only `pid` holds — private pages, resident or swapped, not the pages it
/// shares with its parent since a fork — in KiB (`smaps_rollup`); 0 once it is gone.
pub fn private_kib(pid: u32) -> u64 {
    let rollup = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).unwrap_or_default();
    ["Private_Clean:", "Private_Dirty:", "Swap:"]
        .iter()
        .filter_map(|key| field(&rollup, key))
        .sum()
}

/// The number after `key` in a `/proc` file of `Key: value` lines, its unit left off:
/// `VmRSS:     4512 kB` → 4512, `voluntary_ctxt_switches: 12` → 12.
fn field(text: &str, key: &str) -> Option<u64> {
    text.lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
}

/// Clock ticks per second, for turning `cpu_ticks` into time.
pub fn ticks_per_second() -> f64 {
    nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK)
        .ok()
        .flatten()
        .map(|t| t as f64)
        .unwrap_or(100.0)
}

/// A real process tree for tests: `sh` → `sh` → `yes` (busy), each shell waiting for its child.
#[cfg(test)]
pub(crate) struct TestTree {
    root: std::process::Child,
}

#[cfg(test)]
impl TestTree {
    /// Starts the tree and waits (a bounded time) until all three processes exist.
    pub(crate) fn spawn() -> TestTree {
        let root = std::process::Command::new("sh")
            .args(["-c", "sh -c 'yes > /dev/null & wait' & wait"])
            .stdin(std::process::Stdio::null())
            .spawn()
            .expect("sh starts");
        let tree = TestTree { root };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while tree.pids().len() < 3 {
            assert!(
                std::time::Instant::now() < deadline,
                "the tree never grew: {:?}",
                tree.pids()
            );
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        tree
    }

    /// Root, middle, leaf.
    pub(crate) fn pids(&self) -> Vec<u32> {
        descendants_by(&[self.root.id()], children_by_parent())
    }
}

#[cfg(test)]
impl Drop for TestTree {
    /// Kills only the leaves: each shell then reaps its child and exits, and this process
    /// reaps the root, so nothing is orphaned (PID 1 may never reap it).
    fn drop(&mut self) {
        let tree = self.pids();
        for &pid in &tree {
            if descendants_by(&[pid], children_by_parent()).len() == 1 {
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(pid as i32),
                    nix::sys::signal::Signal::SIGKILL,
                );
            }
        }
        let _ = self.root.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_a_child_of_a_child_from_children_files_and_from_parents() {
        let tree = TestTree::spawn();
        let pids = tree.pids();
        let root = pids[0];
        let (middle, leaf) = (pids[1], pids[2]);
        assert_eq!(stat(middle).map(|s| s.ppid), Some(root));
        assert_eq!(stat(leaf).map(|s| s.ppid), Some(middle));
        if has_children_files() {
            assert_eq!(descendants_by(&[root], children), pids);
        }
        assert_eq!(descendants(&[root]), pids);
        assert_eq!(descendants(&[middle]), vec![middle, leaf]);
        assert_eq!(
            descendants(&[root, leaf]),
            vec![root, leaf, middle],
            "a root inside another's tree is listed once, as a root"
        );
    }

    #[test]
    fn a_walk_finds_the_same_tree_reading_each_process_once() {
        let tree = TestTree::spawn();
        let pids = tree.pids();
        let mut reads = Vec::new();
        let walked = walk(&[pids[0], u32::MAX], |pid| {
            reads.push(pid);
            let s = stat(pid)?;
            Some((s.ppid, s.threads))
        });
        let found: Vec<u32> = walked.iter().map(|&(pid, _)| pid).collect();
        assert_eq!(found, pids, "a root that is gone is left out");
        assert_eq!(walked[2].1, pids[1], "each with what was read of it");
        assert_eq!(reads, vec![pids[0], u32::MAX, pids[1], pids[2]]);
    }

    #[test]
    fn reads_a_processes_memory_and_its_peak() {
        let me = memory(std::process::id()).expect("this process's memory");
        assert!(me.rss_kib > 0 && me.peak_kib >= me.rss_kib, "{me:?}");
        assert_eq!(memory(u32::MAX), None);
    }

    #[test]
    fn memory_figures_read_their_kib() {
        assert_eq!(
            field("Name:\tx\nVmRSS:\t    4512 kB\n", "VmRSS:"),
            Some(4512)
        );
        assert_eq!(field("VmRSS: 7 kB", "VmHWM:"), None);
        assert_eq!(
            field("voluntary_ctxt_switches:\t12\n", "voluntary_ctxt_switches:"),
            Some(12)
        );
        assert!(resident_kib() > 0);
        assert!(private_kib(std::process::id()) > 0);
        assert_eq!(private_kib(u32::MAX), 0);
    }

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
    fn reads_a_stat_with_the_name_the_kernel_keeps() {
        let (stat, name) = stat_and_name(std::process::id()).unwrap();
        assert_eq!(stat.ppid, nix::unistd::getppid().as_raw() as u32);
        let comm = std::fs::read_to_string("/proc/self/comm").unwrap();
        assert_eq!(name, comm.trim_end());
        assert_eq!(stat_and_name(u32::MAX), None);
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
