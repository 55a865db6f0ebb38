//! What the pool's timeline and the queue's panel draw, built from a run's events: the
//! happenings its processes log (`task 4 started at 812.3 ms`, `got A at 3.2 ms`, on the run's
//! clock whichever process wrote them), the roles they announce, and the runner's live depth.

use super::run::Run;
use crate::event::{Body, Event};
use crate::lab::happening::{Happening, Said};
use crate::scenarios::Panel;
use std::collections::{BTreeMap, VecDeque};

/// One task of a pool, on the run's clock.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TaskSpan {
    pub queued_ms: Option<f64>,
    pub start_ms: Option<f64>,
    pub end_ms: Option<f64>,
    pub worker: Option<u32>,
}

/// The pool's workers and tasks.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TaskBoard {
    /// Worker PIDs in the order they announced themselves.
    pub workers: Vec<u32>,
    /// How each worker ended, once it has.
    pub exits: BTreeMap<u32, crate::exit::Exit>,
    pub tasks: BTreeMap<u32, TaskSpan>,
}

impl TaskBoard {
    fn observe(&mut self, event: &Event) {
        match &event.body {
            Body::Process { role, .. } if role == "worker" => self.add_worker(event.pid),
            Body::ProcessExit { exit } if self.workers.contains(&event.pid) => {
                self.exits.insert(event.pid, *exit);
            }
            Body::Log { text } => {
                let Some((happening, at)) = Happening::parse(text) else {
                    return;
                };
                match happening {
                    Happening::Queued(n) => self.tasks.entry(n).or_default().queued_ms = Some(at),
                    Happening::Started(n) => {
                        self.add_worker(event.pid);
                        let task = self.tasks.entry(n).or_default();
                        task.start_ms = Some(at);
                        task.worker = Some(event.pid);
                    }
                    Happening::Done(n) => self.tasks.entry(n).or_default().end_ms = Some(at),
                    Happening::Put(_) | Happening::Got(_) => {}
                }
            }
            _ => {}
        }
    }

    fn add_worker(&mut self, pid: u32) {
        if !self.workers.contains(&pid) {
            self.workers.push(pid);
        }
    }

    /// The latest time any task mentions.
    pub fn latest_ms(&self) -> f64 {
        self.tasks
            .values()
            .flat_map(|t| [t.queued_ms, t.start_ms, t.end_ms])
            .flatten()
            .fold(0.0, f64::max)
    }

    /// The tasks that had to wait for a free worker: those not started yet, and those that
    /// were not their worker's first task. (A worker's first task only waited for the process
    /// to start, which is not the pool's queue at work.) One pass, so a frame stays cheap with
    /// a thousand tasks.
    pub fn waiters(&self) -> Vec<(u32, &TaskSpan)> {
        let mut first: BTreeMap<u32, f64> = BTreeMap::new();
        for t in self.tasks.values() {
            if let (Some(start), Some(worker)) = (t.start_ms, t.worker) {
                let f = first.entry(worker).or_insert(start);
                *f = f.min(start);
            }
        }
        self.tasks
            .iter()
            .filter(|(_, t)| match (t.start_ms, t.worker) {
                (Some(start), Some(worker)) => first.get(&worker).is_some_and(|f| start > *f),
                _ => true,
            })
            .map(|(id, t)| (*id, t))
            .collect()
    }
}

/// How many of `waiters` wait at `t_ms`: queued by then, not started yet.
pub fn waiting_at(waiters: &[(u32, &TaskSpan)], t_ms: f64) -> usize {
    waiters
        .iter()
        .filter(|(_, t)| t.queued_ms.is_some_and(|q| q <= t_ms))
        .filter(|(_, t)| t.start_ms.is_none_or(|s| s > t_ms))
        .count()
}

/// One put or get, as the queue panel lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueEntry {
    pub at_ms: f64,
    pub pid: u32,
    pub put: bool,
    pub item: String,
    /// The i-th put, or the i-th get (which took the i-th put: a queue is first in, first out).
    pub index: usize,
}

/// Puts and gets the panel keeps, most recent last.
pub const RECENT: usize = 64;
/// Live depth samples kept for the sparkline.
pub const DEPTH_SAMPLES: usize = 240;

/// The queue's traffic: who put and got what when, the depth over time, each item's latency.
/// The writer's and the reader's lines come through different pipes, so a get may arrive
/// before its put; everything here is paired by order and sorted by time, never by arrival.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct QueueHistory {
    /// Role of each process that announced itself (writer, reader).
    pub roles: BTreeMap<u32, String>,
    pub exits: BTreeMap<u32, crate::exit::Exit>,
    pub recent: VecDeque<QueueEntry>,
    /// Every put's and every get's time, each in its own order.
    pub put_times: Vec<f64>,
    pub get_times: Vec<f64>,
    /// The depth each process read just after its put or get, with the time.
    pub depth_samples: Vec<(f64, u64)>,
    /// The runner's depth samples (rate mode, where there is no line per item).
    pub live_depth: VecDeque<u64>,
}

impl QueueHistory {
    fn observe(&mut self, event: &Event, runner: Option<u32>) {
        match &event.body {
            Body::Process { role, .. } => {
                self.roles.insert(event.pid, role.clone());
            }
            Body::ProcessExit { exit } => {
                self.exits.insert(event.pid, *exit);
            }
            Body::Live { metrics } if Some(event.pid) == runner => {
                if let Some(d) = metrics.get("queue_depth") {
                    if self.live_depth.len() == DEPTH_SAMPLES {
                        self.live_depth.pop_front();
                    }
                    self.live_depth.push_back(d.as_f64() as u64);
                }
            }
            Body::Log { text } => {
                let Some(Said {
                    happening,
                    at_ms,
                    depth,
                }) = Said::parse(text)
                else {
                    return;
                };
                if let Some(d) = depth {
                    self.depth_samples.push((at_ms, d));
                }
                let (put, item, times) = match happening {
                    Happening::Put(item) => (true, item, &mut self.put_times),
                    Happening::Got(item) => (false, item, &mut self.get_times),
                    _ => return,
                };
                times.push(at_ms);
                let index = times.len() - 1;
                if self.recent.len() == RECENT {
                    self.recent.pop_front();
                }
                self.recent.push_back(QueueEntry {
                    at_ms,
                    pid: event.pid,
                    put,
                    item,
                    index,
                });
            }
            _ => {}
        }
    }

    /// `writer`, `reader`, or `?` when the process never said.
    pub fn role(&self, pid: u32) -> &str {
        self.roles.get(&pid).map_or("?", String::as_str)
    }

    /// Put-to-get time of the i-th item, once both are known.
    pub fn latency_us(&self, i: usize) -> Option<f64> {
        let put = self.put_times.get(i)?;
        let get = self.get_times.get(i)?;
        Some(((get - put) * 1000.0).max(0.0))
    }

    /// The depth after every put and get, in time order (as each process read it).
    pub fn depth_series(&self) -> Vec<u64> {
        let mut samples = self.depth_samples.clone();
        samples.sort_by(|a, b| a.0.total_cmp(&b.0));
        samples.into_iter().map(|(_, d)| d).collect()
    }
}

/// The state a run keeps for its scenario's panel: only the panels drawn from events have any.
#[derive(Debug, Clone, PartialEq)]
pub enum PanelState {
    /// The panel draws the run's figures alone.
    Figures,
    Timeline(TaskBoard),
    Queue(QueueHistory),
}

impl PanelState {
    pub fn new(panel: Panel) -> PanelState {
        match panel {
            Panel::Timeline => PanelState::Timeline(TaskBoard::default()),
            Panel::Queue => PanelState::Queue(QueueHistory::default()),
            Panel::Highlights | Panel::Lock | Panel::Multicore => PanelState::Figures,
        }
    }
}

impl Run {
    /// Feeds the panel that is built from events, if any (called for every event of the run).
    pub(crate) fn observe(&mut self, event: &Event) {
        match &mut self.panel {
            PanelState::Timeline(board) => board.observe(event),
            PanelState::Queue(queue) => queue.observe(event, self.pid),
            PanelState::Figures => {}
        }
    }

    /// The pool's workers and tasks, for a run whose panel is the timeline.
    pub fn tasks(&self) -> Option<&TaskBoard> {
        match &self.panel {
            PanelState::Timeline(board) => Some(board),
            _ => None,
        }
    }

    /// The queue's traffic, for a run whose panel is the queue's.
    pub fn queue(&self) -> Option<&QueueHistory> {
        match &self.panel {
            PanelState::Queue(queue) => Some(queue),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log(pid: u32, line: &str) -> Event {
        Event::new(
            0.0,
            pid,
            Body::Log {
                text: line.to_string(),
            },
        )
    }

    #[test]
    fn a_run_keeps_only_the_state_its_panel_draws() {
        let run = |id| {
            let scenario = crate::scenarios::find(id).unwrap();
            Run::new(
                1,
                scenario,
                crate::params::Params::defaults(scenario.params),
            )
        };
        let (pool, queue, lock) = (run("pool"), run("queue"), run("lock"));
        assert!(pool.tasks().is_some() && pool.queue().is_none());
        assert!(queue.queue().is_some() && queue.tasks().is_none());
        assert_eq!(lock.panel, PanelState::Figures);
    }

    #[test]
    fn the_board_follows_workers_and_tasks() {
        let mut b = TaskBoard::default();
        b.observe(&Event::new(
            0.0,
            11,
            Body::Process {
                ppid: 10,
                role: "worker".into(),
            },
        ));
        b.observe(&log(10, "task 3 queued at 1.000 ms"));
        b.observe(&log(10, "task 4 queued at 1.000 ms"));
        b.observe(&log(11, "task 3 started at 2.000 ms"));
        b.observe(&log(11, "task 3 done at 299.000 ms"));
        b.observe(&log(11, "task 4 started at 300.000 ms"));
        b.observe(&log(11, "task 4 done at 500.000 ms"));
        b.observe(&log(12, "task 5 started at 2.000 ms"));
        assert_eq!(
            b.workers,
            vec![11, 12],
            "a worker seen only in a log line joins too"
        );
        let t = &b.tasks[&4];
        assert_eq!(
            (t.queued_ms, t.start_ms, t.end_ms, t.worker),
            (Some(1.0), Some(300.0), Some(500.0), Some(11))
        );
        let waiters = b.waiters();
        let ids: Vec<u32> = waiters.iter().map(|(id, _)| *id).collect();
        assert_eq!(ids, vec![4], "3 and 5 were their workers' first tasks");
        let at = |t| waiting_at(&waiters, t);
        assert_eq!((at(0.5), at(1.5), at(100.0), at(400.0)), (0, 1, 1, 0));
        assert_eq!(b.latest_ms(), 500.0);
    }

    #[test]
    fn the_queue_pairs_gets_with_puts_whatever_order_they_arrive_in() {
        let mut q = QueueHistory::default();
        q.observe(&log(2, "put A at 1.000 ms (depth 1)"), Some(1));
        q.observe(&log(3, "got A at 1.500 ms (depth 0)"), Some(1));
        q.observe(&log(3, "got B at 2.250 ms (depth 0)"), Some(1));
        q.observe(&log(2, "put B at 2.000 ms (depth 1)"), Some(1));
        assert_eq!(
            (q.latency_us(0), q.latency_us(1)),
            (Some(500.0), Some(250.0))
        );
        assert_eq!(q.latency_us(2), None);
        assert_eq!(q.depth_series(), vec![1, 0, 1, 0]);
        assert_eq!(q.recent.len(), 4);
        assert_eq!(q.recent[2].index, 1, "the second get");
    }
}
