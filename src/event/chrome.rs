//! A recording as a Chrome trace: the JSON trace event format that ui.perfetto.dev and
//! chrome://tracing open (`{"traceEvents": [...], "displayTimeUnit": "ms"}`).
//!
//! Each process of a run is a process of the trace, named `<role> <pid>` (and its run, for a
//! dashboard session); each thread is a thread of it. Spans become complete slices (`X`) on
//! their thread; marks, logs, exits and reports instants (`i`); counts and live snapshots
//! counters (`C`) on the process that wrote them, one counter per name, so Perfetto gives each
//! metric — each thread's, too — a track of its own with its own scale; the dashboard's CPU
//! samples counters of a "machine" process. An item's trip between lanes (a flow) becomes flow
//! events bound to the slices it passed through, in the order the item reached them.

use super::record::{Item, Recording, RunId, Source};
use super::{Body, Event};
use crate::text_safe::cut;
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, HashMap, HashSet};

/// One above the largest PID Linux gives (PID_MAX_LIMIT, 2^22): the PIDs of the trace that no
/// process had — the machine's, and a later run's process whose PID an earlier run's had.
const SYNTHETIC_PID: u32 = 1 << 22;

/// How far inside its slice a flow event is bound (at most halfway): at its very edge, a
/// viewer could bind it to the slice before or after.
const BIND_INSIDE: i64 = 1_000;

/// The longest name an instant made from a log line gets (the whole line is in its args).
const LOG_NAME_CHARS: usize = 60;

/// The recording as a Chrome trace. `waits`: the categories of spans that begin before their
/// flow's item reaches them (a get waits for an item put later): the item is there when such
/// a span ends, and when any other span begins.
pub fn export(recording: &Recording, waits: &[&str]) -> Value {
    let mut trace = Trace::new(recording, waits);
    for item in &recording.items {
        trace.add(item);
    }
    trace.finish(recording)
}

/// Nanoseconds on the recording's clock, from its milliseconds.
fn ns(ms: f64) -> i64 {
    (ms * 1e6).round() as i64
}

/// Nanoseconds as the trace's microseconds. Perfetto reads a time by multiplying it by 1000
/// and dropping the fraction, so `n` ns written as the decimal `n/1000` may come back as
/// `n - 1`, and a slice that ends where its parent ends would stick out of it. Written half
/// a nanosecond later, every time comes back exactly as `n`.
fn us(ns: i64) -> f64 {
    (ns as f64 + 0.5) / 1000.0
}

/// A process of the trace.
struct Process {
    run: RunId,
    /// Its PID on the machine (the trace's may be synthetic).
    pid: u32,
    /// `None` until its `process` event, if it ever came.
    role: Option<String>,
}

/// A span that began and has not ended (yet).
struct Open {
    begin: i64,
    pid: u32,
    tid: u32,
    cat: String,
    name: String,
    flow: Option<u64>,
}

/// A span, begun and ended: a complete slice.
struct Slice {
    run: RunId,
    end: i64,
    /// It never ended: it is drawn to the end of the trace.
    unfinished: bool,
    open: Open,
}

struct Trace<'a> {
    waits: &'a [&'a str],
    dashboard: bool,
    /// Where each run's clock begins on the recording's.
    origins: HashMap<RunId, i64>,
    scenarios: HashMap<RunId, String>,
    /// The last moment anything was recorded: where spans that never ended end.
    end: i64,
    /// The trace's PID of each process of each run.
    pids: HashMap<(RunId, u32), u32>,
    used: HashSet<u32>,
    /// The last synthetic PID given out, above [`SYNTHETIC_PID`].
    synthetic: u32,
    processes: BTreeMap<u32, Process>,
    /// Each run's runner (the first process it announced), by the trace's PID.
    runners: HashMap<RunId, u32>,
    threads: BTreeMap<(u32, u32), String>,
    open: HashMap<(RunId, u32, u64), Open>,
    slices: Vec<Slice>,
    /// Every event but the metadata, with its time in ns.
    events: Vec<(i64, Value)>,
    cpu_samples: bool,
}

impl<'a> Trace<'a> {
    fn new(recording: &Recording, waits: &'a [&'a str]) -> Trace<'a> {
        let mut origins = HashMap::new();
        let mut scenarios = HashMap::new();
        for item in &recording.items {
            if let Item::Run {
                run,
                at_ms,
                scenario,
                ..
            } = item
            {
                origins.insert(*run, ns(*at_ms));
                scenarios.insert(*run, scenario.clone());
            }
        }
        let mut trace = Trace {
            waits,
            dashboard: recording.header.source == Source::Dashboard,
            origins,
            scenarios,
            end: 0,
            pids: HashMap::new(),
            // The machine's, so no process gets it.
            used: HashSet::from([SYNTHETIC_PID]),
            synthetic: 0,
            processes: BTreeMap::new(),
            runners: HashMap::new(),
            threads: BTreeMap::new(),
            open: HashMap::new(),
            slices: Vec::new(),
            events: Vec::new(),
            cpu_samples: false,
        };
        trace.end = recording
            .items
            .iter()
            .map(|item| trace.time_of(item))
            .max()
            .unwrap_or(0);
        trace
    }

    /// When `item` happened on the recording's clock, in ns.
    fn time_of(&self, item: &Item) -> i64 {
        match item {
            Item::Run { at_ms, .. } => ns(*at_ms),
            Item::Event { run, event } => self.on_recording(*run, event),
            Item::Observed { t_ms, .. } | Item::Ended { t_ms, .. } | Item::Cpu { t_ms, .. } => {
                ns(*t_ms)
            }
        }
    }

    fn on_recording(&self, run: RunId, event: &Event) -> i64 {
        self.origins.get(&run).copied().unwrap_or(0) + ns(event.t_ms)
    }

    /// The trace's PID for process `pid` of `run`: its own, unless a process of another run
    /// had it first (PIDs are reused), so each run's processes keep tracks of their own.
    fn pid(&mut self, run: RunId, pid: u32) -> u32 {
        if let Some(traced) = self.pids.get(&(run, pid)) {
            return *traced;
        }
        let mut traced = pid;
        while !self.used.insert(traced) {
            self.synthetic += 1;
            traced = SYNTHETIC_PID + self.synthetic;
        }
        self.pids.insert((run, pid), traced);
        self.processes.insert(
            traced,
            Process {
                run,
                pid,
                role: None,
            },
        );
        traced
    }

    /// The trace's TID of thread `tid` (`None`: the main thread) of process `pid` of `run`:
    /// the main thread's is its process's trace PID, as Perfetto expects of a main thread.
    fn tid(&mut self, run: RunId, pid: u32, tid: Option<u32>) -> (u32, u32) {
        let traced = self.pid(run, pid);
        match tid {
            Some(tid) if tid != pid => (traced, tid),
            _ => (traced, traced),
        }
    }

    fn add(&mut self, item: &Item) {
        match item {
            // What the insights read is in the run's report, not on a track.
            Item::Run { .. } | Item::Observed { .. } => {}
            Item::Event { run, event } => self.add_event(*run, event),
            Item::Ended { run, t_ms, exit } => {
                if let Some(&runner) = self.runners.get(run) {
                    let exit = crate::exit::describe(*exit);
                    let args = json!({ "exit": exit });
                    let name = format!("runner reaped: {exit}");
                    self.instant(ns(*t_ms), (runner, runner), "process", &name, args);
                }
            }
            Item::Cpu {
                t_ms,
                cores,
                total,
                conlab,
                ..
            } => {
                self.cpu_samples = true;
                let t = ns(*t_ms);
                for (i, busy) in cores.iter().enumerate() {
                    self.counter(t, SYNTHETIC_PID, &format!("cpu{i}"), "busy_pct", *busy);
                }
                self.counter(t, SYNTHETIC_PID, "cpu total", "busy_pct", *total);
                self.counter(t, SYNTHETIC_PID, "conlab", "cpu_pct", *conlab);
            }
        }
    }

    fn add_event(&mut self, run: RunId, event: &Event) {
        let t = self.on_recording(run, event);
        let pid = event.pid;
        let main = self.tid(run, pid, None);
        match &event.body {
            Body::Process { role, .. } => {
                self.runners.entry(run).or_insert(main.0);
                if let Some(p) = self.processes.get_mut(&main.0) {
                    p.role = Some(role.clone());
                }
            }
            Body::ProcessExit { exit } => {
                let args = json!({ "exit": exit });
                self.instant(t, main, "process", &format!("exit: {exit}"), args);
            }
            Body::Thread { tid, name } => {
                let thread = self.tid(run, pid, Some(*tid));
                self.threads.insert(thread, name.clone());
            }
            Body::Begin {
                span,
                cat,
                name,
                tid,
                flow,
            } => {
                let (pid_traced, tid) = self.tid(run, pid, *tid);
                let open = Open {
                    begin: t,
                    pid: pid_traced,
                    tid,
                    cat: cat.clone(),
                    name: name.clone(),
                    flow: *flow,
                };
                self.open.insert((run, pid, *span), open);
            }
            Body::End { span } => {
                if let Some(open) = self.open.remove(&(run, pid, *span)) {
                    self.slices.push(Slice {
                        run,
                        end: t.max(open.begin),
                        unfinished: false,
                        open,
                    });
                }
            }
            Body::Mark {
                cat,
                name,
                tid,
                flow,
            } => {
                let thread = self.tid(run, pid, *tid);
                let args = flow.map_or_else(|| json!({}), |f| json!({ "flow": f }));
                self.instant(t, thread, cat, name, args);
            }
            Body::Count { name, value } => self.counter(t, main.0, name, "value", *value),
            // A sweep's point: each of its figures on a counter of its series.
            Body::Point {
                series, figures, ..
            } => {
                for (name, value) in figures.iter() {
                    let counter = format!("{series} {name}");
                    self.counter(t, main.0, &counter, "value", value.as_f64());
                }
            }
            Body::Live { metrics } => {
                for (name, value) in metrics.iter() {
                    self.counter(t, main.0, name, "value", value.as_f64());
                }
            }
            Body::Log { text } => {
                let args = json!({ "text": text });
                self.instant(t, main, "log", &cut(text, LOG_NAME_CHARS), args);
            }
            Body::Report { report } => {
                let args = json!({
                    "ok": report.ok,
                    "cancelled": report.cancelled,
                    "wall_ms": report.wall_ms,
                    "error": report.error,
                });
                self.instant(t, main, "report", "report", args);
            }
            // The reader joined parts before they were recorded.
            Body::Part { .. } => {}
        }
    }

    /// An instant on one thread.
    fn instant(&mut self, t: i64, (pid, tid): (u32, u32), cat: &str, name: &str, args: Value) {
        let event = json!({
            "ph": "i", "s": "t", "name": name, "cat": cat,
            "pid": pid, "tid": tid, "ts": us(t), "args": args,
        });
        self.events.push((t, event));
    }

    /// One value of the counter `name` of process `pid`; JSON has no NaN or infinity, so a
    /// value that is neither is left out.
    fn counter(&mut self, t: i64, pid: u32, name: &str, key: &str, value: impl Into<f64>) {
        let value = value.into();
        if !value.is_finite() {
            return;
        }
        let event = json!({
            "ph": "C", "name": name, "pid": pid, "ts": us(t), "args": { key: value },
        });
        self.events.push((t, event));
    }

    fn finish(mut self, recording: &Recording) -> Value {
        let end = self.end;
        for ((run, _, _), open) in std::mem::take(&mut self.open) {
            self.slices.push(Slice {
                run,
                end: end.max(open.begin),
                unfinished: true,
                open,
            });
        }
        // Spans in the order they began, so a file reads as the run went.
        self.slices
            .sort_by_key(|s| (s.open.begin, std::cmp::Reverse(s.end)));
        for slice in &self.slices {
            let mut args = Map::new();
            if let Some(flow) = slice.open.flow {
                args.insert("flow".into(), flow.into());
            }
            if slice.unfinished {
                args.insert(
                    "unfinished".into(),
                    "never ended: drawn to the end of the trace".into(),
                );
            }
            let event = json!({
                "ph": "X", "name": slice.open.name, "cat": slice.open.cat,
                "pid": slice.open.pid, "tid": slice.open.tid,
                "ts": us(slice.open.begin), "dur": us(slice.end - slice.open.begin),
                "args": args,
            });
            self.events.push((slice.open.begin, event));
        }
        let flows = self.flows();
        self.events.extend(flows);
        // Stable: at one time, a slice stays before the flow events bound to it.
        self.events.sort_by_key(|(t, _)| *t);
        let mut all = self.metadata(recording);
        all.extend(self.events.into_iter().map(|(_, event)| event));
        json!({
            "traceEvents": all,
            "displayTimeUnit": "ms",
            "otherData": {
                "conlab": recording.header.conlab,
                "recording_version": recording.header.conlab_recording,
                "started_unix_s": recording.header.started,
                "cores": recording.header.cores,
            },
        })
    }

    /// When the flow's item reached `slice`: as it ended, for a span that waits for it, else
    /// as it began. Both are stamped after the step before handed the item on, so this
    /// orders a flow's steps even when their spans overlap (a get waits through the put).
    fn reached(&self, slice: &Slice) -> i64 {
        match self.waits.contains(&slice.open.cat.as_str()) {
            true => slice.end,
            false => slice.open.begin,
        }
    }

    /// Each flow's steps (the slices carrying its id) in the order its item reached them, as
    /// a start, steps and an end. Each is bound at a moment inside its slice, near when the
    /// item reached it and never before the step before; a step that ended before that
    /// moment (it cannot be, unless its times are wrong) is left out of the flow.
    fn flows(&self) -> Vec<(i64, Value)> {
        let mut steps: BTreeMap<(RunId, u64), Vec<&Slice>> = BTreeMap::new();
        for slice in &self.slices {
            if let Some(flow) = slice.open.flow {
                steps.entry((slice.run, flow)).or_default().push(slice);
            }
        }
        let mut events = Vec::new();
        let mut id = 0u64;
        for ((_, flow), mut slices) in steps {
            slices.sort_by_key(|s| (self.reached(s), s.open.begin));
            let mut at = i64::MIN;
            let mut bound = Vec::new();
            for slice in slices {
                let inside = ((slice.end - slice.open.begin) / 2).min(BIND_INSIDE);
                let near = match self.reached(slice) == slice.end {
                    true => slice.end - inside,
                    false => slice.open.begin + inside,
                };
                if at.max(near) <= slice.end {
                    at = at.max(near);
                    bound.push((slice, at));
                }
            }
            if bound.len() < 2 {
                continue;
            }
            id += 1;
            let name = format!("flow {flow}");
            let last = bound.len() - 1;
            for (i, (slice, at)) in bound.into_iter().enumerate() {
                let mut event = json!({
                    "ph": match i { 0 => "s", i if i == last => "f", _ => "t" },
                    "id": id, "cat": "flow", "name": name,
                    "pid": slice.open.pid, "tid": slice.open.tid, "ts": us(at),
                });
                if i == last {
                    // Bound to the slice it is inside, not to the next one to begin.
                    event["bp"] = "e".into();
                }
                events.push((at, event));
            }
        }
        events
    }

    /// Names of the processes and threads (`M` events).
    fn metadata(&self, recording: &Recording) -> Vec<Value> {
        let meta = |name: &str, pid: u32, tid: u32, value: String| json!({ "ph": "M", "name": name, "pid": pid, "tid": tid, "args": { "name": value } });
        let mut events = Vec::new();
        if self.cpu_samples {
            let cores = recording.header.cores;
            let name = format!("machine · {cores} cores");
            events.push(meta("process_name", SYNTHETIC_PID, SYNTHETIC_PID, name));
        }
        for (&traced, process) in &self.processes {
            let role = process.role.as_deref().unwrap_or("process");
            let mut name = format!("{role} {}", process.pid);
            if self.dashboard {
                let scenario = self.scenarios.get(&process.run).map_or("", String::as_str);
                name = format!("{name} · run {} {scenario}", process.run);
            }
            events.push(meta("process_name", traced, traced, name));
            if !self.threads.contains_key(&(traced, traced)) {
                events.push(meta("thread_name", traced, traced, role.to_string()));
            }
        }
        for (&(pid, tid), name) in &self.threads {
            events.push(meta("thread_name", pid, tid, name.clone()));
        }
        events
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::record::Header;

    fn event(t_ms: f64, pid: u32, body: Body) -> Item {
        Item::Event {
            run: 1,
            event: Event::new(t_ms, pid, body),
        }
    }

    fn begin(span: u64, name: &str, tid: u32, flow: Option<u64>) -> Body {
        Body::Begin {
            span,
            cat: "step".into(),
            name: name.into(),
            tid: Some(tid),
            flow,
        }
    }

    fn recording(items: Vec<Item>) -> Recording {
        Recording {
            header: Header::new(Source::Run, 2, None),
            items,
        }
    }

    fn of_phase<'a>(trace: &'a Value, ph: &str) -> Vec<&'a Value> {
        trace["traceEvents"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["ph"] == ph)
            .collect()
    }

    /// Time as Perfetto reads it: µs times 1000, the fraction dropped.
    fn perfetto_ns(v: &Value) -> i64 {
        (v.as_f64().unwrap() * 1000.0) as i64
    }

    #[test]
    fn times_come_back_to_the_nanosecond_as_perfetto_reads_them() {
        // Written as n / 1000, 1001 ns would read back as 1000 and 131383004 as 131383003.
        for n in [
            0,
            1,
            999,
            1_001,
            1_003,
            131_383_004,
            8_460_211_552,
            86_400_000_000_999,
        ] {
            assert_eq!(perfetto_ns(&json!(us(n))), n, "{n} ns");
        }
    }

    fn process(pid: u32, role: &str) -> Item {
        let body = Body::Process {
            ppid: 1,
            role: role.into(),
        };
        event(0.0, pid, body)
    }

    /// Step `span` of flow 0, of kind `cat`, on thread `tid`.
    fn step(cat: &str, span: u64, tid: u32) -> Body {
        Body::Begin {
            span,
            cat: cat.into(),
            name: "A".into(),
            tid: Some(tid),
            flow: Some(0),
        }
    }

    fn end(t_ms: f64, pid: u32, span: u64) -> Item {
        event(t_ms, pid, Body::End { span })
    }

    #[test]
    fn a_wait_that_began_first_still_ends_its_flow() {
        // The reader waits for item 0 from 1 ms; the writer puts it at 5 ms; the reader has it
        // at 5.4 ms, before the writer's put() has returned (5.5 ms).
        let items = vec![
            process(10, "reader"),
            process(20, "writer"),
            event(5.0, 20, step("put", 1, 20)),
            event(1.0, 10, step("get", 1, 10)),
            end(5.4, 10, 1),
            end(5.5, 20, 1),
        ];
        let trace = export(&recording(items), &["get"]);
        let (start, end) = (of_phase(&trace, "s"), of_phase(&trace, "f"));
        assert_eq!((start.len(), end.len()), (1, 1), "{trace:#}");
        assert_eq!(start[0]["pid"], 20, "the put starts it");
        assert_eq!(end[0]["pid"], 10, "the get ends it");
        assert_eq!(end[0]["bp"], "e");
        let (s, f) = (perfetto_ns(&start[0]["ts"]), perfetto_ns(&end[0]["ts"]));
        assert!(5_000_000 < s && s < f && f < 5_400_000, "{s} {f}");
    }

    #[test]
    fn steps_that_do_not_wait_follow_each_other_as_they_began() {
        // A task that began before its submit span ended, and ended before it too.
        let items = vec![
            event(1.0, 10, step("submit", 1, 10)),
            event(1.2, 20, step("task", 1, 20)),
            end(1.3, 20, 1),
            end(1.4, 10, 1),
            event(2.0, 10, step("result", 2, 10)),
            end(2.1, 10, 2),
        ];
        let trace = export(&recording(items), &["get"]);
        let order: Vec<(&str, u64)> = trace["traceEvents"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["cat"] == "flow")
            .map(|e| (e["ph"].as_str().unwrap(), e["pid"].as_u64().unwrap()))
            .collect();
        assert_eq!(order, [("s", 10), ("t", 20), ("f", 10)]);
    }

    #[test]
    fn a_span_that_never_ended_ends_with_the_trace_and_says_so() {
        let items = vec![
            process(10, "runner"),
            event(1.0, 10, begin(1, "outer", 10, None)),
            event(2.0, 10, begin(2, "inner", 10, None)),
            event(
                9.0,
                10,
                Body::Log {
                    text: "last".into(),
                },
            ),
        ];
        let trace = export(&recording(items), &[]);
        let slices = of_phase(&trace, "X");
        assert_eq!(slices.len(), 2);
        for s in &slices {
            let end = perfetto_ns(&s["ts"]) + perfetto_ns(&s["dur"]);
            assert_eq!(end, 9_000_000, "{s}");
            assert!(
                s["args"]["unfinished"]
                    .as_str()
                    .unwrap()
                    .contains("never ended")
            );
        }
        assert_eq!(slices[0]["name"], "outer", "the outer one first");
    }

    #[test]
    fn a_reused_pid_gets_a_track_of_its_own_in_a_later_run() {
        let mut items = vec![
            Item::Run {
                run: 1,
                at_ms: 0.0,
                scenario: "lock".into(),
                params: Map::new(),
            },
            Item::Run {
                run: 2,
                at_ms: 100.0,
                scenario: "lock".into(),
                params: Map::new(),
            },
        ];
        for run in [1, 2] {
            let body = Body::Process {
                ppid: 1,
                role: "runner".into(),
            };
            items.push(Item::Event {
                run,
                event: Event::new(0.0, 77, body),
            });
        }
        let mut rec = recording(items);
        rec.header.source = Source::Dashboard;
        let trace = export(&rec, &[]);
        let names: Vec<(u64, String)> = of_phase(&trace, "M")
            .iter()
            .filter(|m| m["name"] == "process_name")
            .map(|m| {
                (
                    m["pid"].as_u64().unwrap(),
                    m["args"]["name"].as_str().unwrap().into(),
                )
            })
            .collect();
        assert_eq!(names.len(), 2, "{names:?}");
        assert_eq!(names[0], (77, "runner 77 · run 1 lock".to_string()));
        assert!(names[1].0 > u64::from(SYNTHETIC_PID), "{names:?}");
        assert_eq!(names[1].1, "runner 77 · run 2 lock");
    }
}
