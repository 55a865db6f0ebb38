//! A channel between processes as the trace shows it — a producer puts items, a consumer gets
//! them, first in first out. Whoever moves items (the queue's writer and reader, and any later
//! producer/consumer pair) says so in these words, and [`Traffic`] reads them back: the same
//! figures for the runner's report and for the dashboard's Channel panel.
//!
//! - each put is a [`PUT`] span on the producer, from put() called to put() returned (a put that
//!   waits for room lasts that long), named by the item;
//! - each get is a [`GET`] span on the consumer, from when it began to wait for an item to when
//!   it had one;
//! - the i-th put and the i-th get both carry flow `i` (a queue is first in, first out);
//! - [`DEPTH`] counts the items in the channel, as a process read it just after a put or a get.

use crate::event::{Body, Event};
use std::collections::{BTreeMap, HashMap};

pub const PUT: &str = "put";
pub const GET: &str = "get";
pub const DEPTH: &str = "depth";

/// Steps of an item's trip that begin before the item reaches them, and have it when they
/// end: a get waits for an item put later (a trace orders a trip's steps by it).
pub const WAITING_STEPS: &[&str] = &[GET];

/// A channel whose items are too many to trace one by one (a rate run) is counted instead:
/// the runner's metrics under these names (live and in the report).
pub const ITEMS_PUT: &str = "items_put";
pub const ITEMS_GOT: &str = "items_got";
pub const ITEMS_PER_SEC: &str = "items_per_sec";
/// How many items the run means to move, while it runs.
pub const ITEMS_EXPECTED: &str = "items_expected";
/// The runner's live reading of the depth, and the channel's capacity.
pub const LIVE_DEPTH: &str = "queue_depth";
pub const CAPACITY: &str = "capacity";

/// One put or get: which item, by whom, when (a put when it was called, a get when it
/// returned: an item's latency runs between the two).
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub item: String,
    pub pid: u32,
    pub at_ms: f64,
}

/// A channel's traffic, built from a run's events in any order they arrive (a consumer's
/// events may come before the producer's: they travel through different pipes).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Traffic {
    /// The i-th put and the i-th get, by their flow.
    pub puts: BTreeMap<u64, Step>,
    pub gets: BTreeMap<u64, Step>,
    /// The depth each process read, with the time.
    pub depth: Vec<(f64, u64)>,
    /// Gets begun and not ended yet: (pid, span) → flow and item.
    open: HashMap<(u32, u64), (u64, String)>,
}

impl Traffic {
    /// Takes in one event; true if it was a put, a get or a depth.
    pub fn observe(&mut self, event: &Event) -> bool {
        let at_ms = event.t_ms;
        match &event.body {
            Body::Begin {
                cat,
                name,
                flow: Some(flow),
                ..
            } if cat == PUT => {
                self.puts.insert(
                    *flow,
                    Step {
                        item: name.clone(),
                        pid: event.pid,
                        at_ms,
                    },
                );
                true
            }
            Body::Begin {
                cat,
                name,
                flow: Some(flow),
                span,
                ..
            } if cat == GET => {
                self.open.insert((event.pid, *span), (*flow, name.clone()));
                false
            }
            Body::End { span } => match self.open.remove(&(event.pid, *span)) {
                Some((flow, item)) => {
                    let step = Step {
                        item,
                        pid: event.pid,
                        at_ms,
                    };
                    self.gets.insert(flow, step);
                    true
                }
                None => false,
            },
            Body::Count { name, value } if name == DEPTH => {
                self.depth.push((at_ms, *value as u64));
                true
            }
            _ => false,
        }
    }

    /// From the i-th put() called to the i-th get() returned, once both are known.
    pub fn latency_ms(&self, i: u64) -> Option<f64> {
        let put = self.puts.get(&i)?;
        let get = self.gets.get(&i)?;
        Some((get.at_ms - put.at_ms).max(0.0))
    }

    /// The depth after every put and get, in time order.
    pub fn depth_series(&self) -> Vec<u64> {
        let mut samples = self.depth.clone();
        samples.sort_by(|a, b| a.0.total_cmp(&b.0));
        samples.into_iter().map(|(_, d)| d).collect()
    }

    /// The deepest the channel was seen.
    pub fn depth_max(&self) -> u64 {
        self.depth.iter().map(|(_, d)| *d).max().unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn begin(t: f64, pid: u32, span: u64, cat: &str, item: &str, flow: u64) -> Event {
        Event::new(
            t,
            pid,
            Body::Begin {
                span,
                cat: cat.into(),
                name: item.into(),
                tid: Some(pid),
                flow: Some(flow),
            },
        )
    }

    fn end(t: f64, pid: u32, span: u64) -> Event {
        Event::new(t, pid, Body::End { span })
    }

    fn depth(t: f64, pid: u32, d: u64) -> Event {
        Event::new(
            t,
            pid,
            Body::Count {
                name: DEPTH.into(),
                value: d as f64,
            },
        )
    }

    #[test]
    fn gets_pair_with_puts_whatever_order_they_arrive_in() {
        let mut t = Traffic::default();
        // The reader's events first: they came through another pipe.
        for e in [
            begin(0.2, 3, 1, GET, "A", 0),
            end(1.5, 3, 1),
            depth(1.5, 3, 0),
            begin(1.5, 3, 2, GET, "B", 1),
            end(2.25, 3, 2),
            begin(1.0, 2, 1, PUT, "A", 0),
            end(1.1, 2, 1),
            depth(1.1, 2, 1),
            begin(2.0, 2, 2, PUT, "B", 1),
        ] {
            t.observe(&e);
        }
        assert_eq!((t.latency_ms(0), t.latency_ms(1)), (Some(0.5), Some(0.25)));
        assert_eq!(t.latency_ms(2), None);
        assert_eq!(t.gets[&1].item, "B");
        assert_eq!(t.depth_series(), vec![1, 0]);
        assert_eq!(t.depth_max(), 1);
        // A put's end and spans of other kinds are not gets.
        assert_eq!(t.gets.len(), 2);
    }
}
