//! The runner's event stream: one JSON object per line on stdout, versioned, each line under
//! PIPE_BUF (4096 bytes) so lines written by many processes with one `write` never interleave.
//!
//! A run is a trace: what a panel draws arrives as typed events — a process or thread joined,
//! a span began or ended, a mark, a count, a sweep's point — never as prose parsed back. Each
//! maps onto the Chrome trace event format (`M`, `B`/`E` or `X`, `i`, `C`; a point is a `C`
//! named by its series with its figures as the args), so recording and exporting a run are
//! transformations of the stream. An item's trip between lanes (a task submitted, run and
//! reported; an item put and got) is a *flow*: the spans and marks that are its steps carry its
//! id, which is how the Chrome format binds a flow to the slices it passes through. Times are on
//! the run's clock, whichever process of the run wrote them (see [`crate::probe`]).

use crate::exit::Exit;
use crate::report::{Metrics, Report};
use serde::{Deserialize, Serialize};
use std::io;

pub mod chrome;
mod live_line;
pub mod record;

/// Bumped whenever an event changes shape; readers reject other versions.
pub const EVENT_VERSION: u32 = 2;

/// Longest line (with its newline) that is written atomically to a pipe.
pub const MAX_LINE: usize = 4096;

/// One line of the stream.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Event {
    pub v: u32,
    /// Milliseconds since the runner started.
    pub t_ms: f64,
    /// The process that wrote the line.
    pub pid: u32,
    #[serde(flatten)]
    pub body: Body,
}

/// What happened.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Body {
    /// A process joined the run (the runner itself first).
    Process { ppid: u32, role: String },
    /// A process of the run ended.
    ProcessExit { exit: Exit },
    /// A snapshot of the live counters, published about every 100 ms.
    Live { metrics: Metrics },
    /// A line of the scenario's own output.
    Log { text: String },
    /// The final report (its `processes` are filled in by whoever reaped the runner).
    Report { report: Box<Report> },
    /// A thread of the writing process, by its kernel TID, and the name it goes by.
    Thread { tid: u32, name: String },
    /// Something with a duration began on the writing process (on thread `tid`, if given): a
    /// task, a wait, a request. `span` is unique within the process; `cat` says what kind of
    /// thing it is (the writer owns the word; panels select by it).
    Begin {
        span: u64,
        cat: String,
        name: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        tid: Option<u32>,
        /// The item whose trip this span is a step of.
        #[serde(skip_serializing_if = "Option::is_none")]
        flow: Option<u64>,
    },
    /// The span `span` of the writing process ended.
    End { span: u64 },
    /// Something at one instant: a crash, a refusal, a handshake.
    Mark {
        cat: String,
        name: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        tid: Option<u32>,
        #[serde(skip_serializing_if = "Option::is_none")]
        flow: Option<u64>,
    },
    /// A value over time: a queue's depth, workers alive.
    Count { name: String, value: f64 },
    /// One measured point of a sweep: the figures of `series` at `x` of the swept parameter
    /// (a task count, a worker count). The series and the figures are the writer's words
    /// (see [`crate::lab::sweep`]); a Sweep panel draws one line per series.
    Point {
        series: String,
        x: f64,
        figures: Metrics,
    },
    /// A piece of an event too long for one line; [`Reassembler`] joins the pieces.
    Part {
        /// Unique per writing process (its PID in the high bits).
        id: u64,
        last: bool,
        /// A slice of the whole event's JSON text.
        data: String,
    },
}

impl Body {
    /// Part of the run's trace (what a timeline draws), not counters, text or results.
    pub fn is_trace(&self) -> bool {
        matches!(
            self,
            Body::Process { .. }
                | Body::ProcessExit { .. }
                | Body::Thread { .. }
                | Body::Begin { .. }
                | Body::End { .. }
                | Body::Mark { .. }
                | Body::Count { .. }
                | Body::Point { .. }
        )
    }
}

/// An event as it lies on the wire: every field of every kind, flat. Decoding through it
/// reads each line once; serde's `flatten` with an internally tagged enum buffered it twice.
#[derive(Deserialize)]
struct Wire {
    v: u32,
    t_ms: f64,
    pid: u32,
    kind: Kind,
    ppid: Option<u32>,
    role: Option<String>,
    exit: Option<Exit>,
    metrics: Option<Metrics>,
    text: Option<String>,
    report: Option<Box<Report>>,
    id: Option<u64>,
    last: Option<bool>,
    data: Option<String>,
    tid: Option<u32>,
    name: Option<String>,
    span: Option<u64>,
    cat: Option<String>,
    flow: Option<u64>,
    value: Option<f64>,
    series: Option<String>,
    x: Option<f64>,
    figures: Option<Metrics>,
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum Kind {
    Process,
    ProcessExit,
    Live,
    Log,
    Report,
    Part,
    Thread,
    Begin,
    End,
    Mark,
    Count,
    Point,
}

impl<'de> Deserialize<'de> for Event {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Event, D::Error> {
        use serde::de::Error;
        let w = Wire::deserialize(d)?;
        let need = |field: &'static str| D::Error::missing_field(field);
        let body = match w.kind {
            Kind::Process => Body::Process {
                ppid: w.ppid.ok_or_else(|| need("ppid"))?,
                role: w.role.ok_or_else(|| need("role"))?,
            },
            Kind::ProcessExit => Body::ProcessExit {
                exit: w.exit.ok_or_else(|| need("exit"))?,
            },
            Kind::Live => Body::Live {
                metrics: w.metrics.ok_or_else(|| need("metrics"))?,
            },
            Kind::Log => Body::Log {
                text: w.text.ok_or_else(|| need("text"))?,
            },
            Kind::Report => Body::Report {
                report: w.report.ok_or_else(|| need("report"))?,
            },
            Kind::Part => Body::Part {
                id: w.id.ok_or_else(|| need("id"))?,
                last: w.last.ok_or_else(|| need("last"))?,
                data: w.data.ok_or_else(|| need("data"))?,
            },
            Kind::Thread => Body::Thread {
                tid: w.tid.ok_or_else(|| need("tid"))?,
                name: w.name.ok_or_else(|| need("name"))?,
            },
            Kind::Begin => Body::Begin {
                span: w.span.ok_or_else(|| need("span"))?,
                cat: w.cat.ok_or_else(|| need("cat"))?,
                name: w.name.ok_or_else(|| need("name"))?,
                tid: w.tid,
                flow: w.flow,
            },
            Kind::End => Body::End {
                span: w.span.ok_or_else(|| need("span"))?,
            },
            Kind::Mark => Body::Mark {
                cat: w.cat.ok_or_else(|| need("cat"))?,
                name: w.name.ok_or_else(|| need("name"))?,
                tid: w.tid,
                flow: w.flow,
            },
            Kind::Count => Body::Count {
                name: w.name.ok_or_else(|| need("name"))?,
                value: w.value.ok_or_else(|| need("value"))?,
            },
            Kind::Point => Body::Point {
                series: w.series.ok_or_else(|| need("series"))?,
                x: w.x.ok_or_else(|| need("x"))?,
                figures: w.figures.ok_or_else(|| need("figures"))?,
            },
        };
        Ok(Event {
            v: w.v,
            t_ms: w.t_ms,
            pid: w.pid,
            body,
        })
    }
}

/// Bytes of an event's JSON per part: even if every byte needs escaping, a part stays a line.
const PART_DATA: usize = 1500;

static NEXT_PART_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

#[derive(Debug)]
pub enum CodecError {
    TooLong(usize),
    Json(serde_json::Error),
    Version(u32),
    TooManyParts,
}

impl std::fmt::Display for CodecError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CodecError::TooLong(n) => write!(f, "event line of {n} bytes exceeds {MAX_LINE}"),
            CodecError::Json(e) => write!(f, "malformed event: {e}"),
            CodecError::TooManyParts => write!(
                f,
                "more than {MAX_OPEN_PARTS} events in parts are unfinished at once"
            ),
            CodecError::Version(v) => {
                write!(f, "event version {v}, this conlab reads {EVENT_VERSION}")
            }
        }
    }
}

impl Event {
    pub fn new(t_ms: f64, pid: u32, body: Body) -> Event {
        Event {
            v: EVENT_VERSION,
            t_ms,
            pid,
            body,
        }
    }

    /// The line to write, newline included; refuses lines that could interleave.
    pub fn encode(&self) -> Result<Vec<u8>, CodecError> {
        // Most lines fit in 512 bytes: one allocation instead of growing from 128.
        let mut line = Vec::with_capacity(512);
        let by_hand = match &self.body {
            Body::Live { metrics } => live_line::encode(self.t_ms, self.pid, metrics, &mut line),
            _ => false,
        };
        if !by_hand {
            serde_json::to_writer(&mut line, self).map_err(CodecError::Json)?;
        }
        line.push(b'\n');
        if line.len() > MAX_LINE {
            return Err(CodecError::TooLong(line.len()));
        }
        Ok(line)
    }

    /// The lines that carry this event: one when it fits, else parts, each a whole line under
    /// [`MAX_LINE`], so they never interleave with other writers' lines either.
    pub fn encode_lines(&self) -> Result<Vec<Vec<u8>>, CodecError> {
        match self.encode() {
            Err(CodecError::TooLong(_)) => {}
            other => return other.map(|line| vec![line]),
        }
        let json = serde_json::to_string(self).map_err(CodecError::Json)?;
        let id = (u64::from(std::process::id()) << 32)
            | NEXT_PART_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut lines = Vec::new();
        let mut rest = json.as_str();
        while !rest.is_empty() {
            let mut cut = rest.len().min(PART_DATA);
            while !rest.is_char_boundary(cut) {
                cut -= 1;
            }
            let (data, tail) = rest.split_at(cut);
            rest = tail;
            let part = Body::Part {
                id,
                last: rest.is_empty(),
                data: data.to_string(),
            };
            lines.push(Event::new(self.t_ms, self.pid, part).encode()?);
        }
        Ok(lines)
    }

    /// Parses one line (with or without its newline).
    pub fn decode(line: &[u8]) -> Result<Event, CodecError> {
        if let Some(event) = live_line::decode(line) {
            return Ok(event);
        }
        let event: Event = serde_json::from_slice(line).map_err(CodecError::Json)?;
        if event.v != EVENT_VERSION {
            return Err(CodecError::Version(event.v));
        }
        Ok(event)
    }
}

/// The longest event that parts may join into, and how many may be half-joined at once: a
/// writer that never sends its last part cannot make the reader's memory grow without end.
const MAX_JOINED: usize = 1 << 20;
const MAX_OPEN_PARTS: usize = 256;

/// Joins the parts of long events back together; every other event passes straight through.
#[derive(Debug, Default)]
pub struct Reassembler {
    partial: std::collections::HashMap<(u32, u64), String>,
}

impl Reassembler {
    /// The whole event, once `event` completes one (or is not a part at all).
    pub fn feed(&mut self, event: Event) -> Result<Option<Event>, CodecError> {
        let Body::Part { id, last, data } = event.body else {
            return Ok(Some(event));
        };
        let key = (event.pid, id);
        if !self.partial.contains_key(&key) && self.partial.len() >= MAX_OPEN_PARTS {
            return Err(CodecError::TooManyParts);
        }
        let joined = self.partial.entry(key).or_default();
        joined.push_str(&data);
        if joined.len() > MAX_JOINED {
            self.partial.remove(&key);
            return Err(CodecError::TooLong(MAX_JOINED));
        }
        if !last {
            return Ok(None);
        }
        let json = self.partial.remove(&key).unwrap_or_default();
        Event::decode(json.as_bytes()).map(Some)
    }

    /// Decodes a line and feeds it.
    pub fn feed_line(&mut self, line: &[u8]) -> Result<Option<Event>, CodecError> {
        self.feed(Event::decode(line)?)
    }
}

/// Writes one encoded line with a single `write(2)` on fd 1, bypassing Rust's stdout buffer
/// and its lock, so a forked child cannot inherit a half-written buffer.
pub fn write_line(line: &[u8]) -> io::Result<()> {
    let written = nix::unistd::write(io::stdout(), line).map_err(io::Error::from)?;
    if written != line.len() {
        return Err(io::Error::new(
            io::ErrorKind::WriteZero,
            "short write of an event line",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let mut metrics = Metrics::default();
        metrics.set("balance", -3i64);
        let e = Event::new(1.5, 42, Body::Live { metrics });
        let line = e.encode().unwrap();
        let text = std::str::from_utf8(&line).unwrap();
        assert!(text.starts_with("{\"v\":2,"), "{text}");
        assert!(text.contains("\"kind\":\"live\""), "{text}");
        assert_eq!(Event::decode(&line).unwrap(), e);
    }

    #[test]
    fn a_sweep_point_round_trips_with_its_figures() {
        let mut figures = Metrics::default();
        figures.set("throughput_pct", 42.5);
        figures.set("handoffs", 1024u64);
        let e = Event::new(
            9.0,
            3,
            Body::Point {
                series: "10 µs".into(),
                x: 64.0,
                figures,
            },
        );
        let line = e.encode().unwrap();
        let text = std::str::from_utf8(&line).unwrap();
        assert!(text.contains("\"kind\":\"point\""), "{text}");
        assert!(e.body.is_trace());
        assert_eq!(Event::decode(&line).unwrap(), e);
    }

    #[test]
    fn parts_that_never_end_cannot_grow_without_bound() {
        let part = |id: u64, data: &str| {
            Event::new(
                1.0,
                9,
                Body::Part {
                    id,
                    last: false,
                    data: data.to_string(),
                },
            )
        };
        let mut joiner = Reassembler::default();
        let chunk = "x".repeat(PART_DATA);
        let mut refused = None;
        for _ in 0..(MAX_JOINED / PART_DATA + 2) {
            if let Err(e) = joiner.feed(part(1, &chunk)) {
                refused = Some(e.to_string());
                break;
            }
        }
        assert!(refused.is_some_and(|e| e.contains("exceeds")));
        let mut joiner = Reassembler::default();
        for id in 0..MAX_OPEN_PARTS as u64 {
            joiner.feed(part(id, "x")).unwrap();
        }
        let e = joiner.feed(part(u64::MAX, "x")).unwrap_err();
        assert!(e.to_string().contains("unfinished"), "{e}");
    }

    #[test]
    fn long_events_travel_in_parts_and_come_back_whole() {
        let long = Event::new(
            2.0,
            7,
            Body::Log {
                text: "\"x\\".repeat(3000),
            },
        );
        let short = Event::new(3.0, 8, Body::Log { text: "hi".into() });
        let lines = long.encode_lines().unwrap();
        assert!(lines.len() > 2, "{} lines", lines.len());
        assert!(lines.iter().all(|l| l.len() <= MAX_LINE));
        let mut joiner = Reassembler::default();
        let mut out = Vec::new();
        // Another writer's line in the middle does not disturb the parts.
        let (first, rest) = lines.split_first().unwrap();
        for line in std::iter::once(first)
            .chain(std::iter::once(&short.encode().unwrap()))
            .chain(rest)
        {
            out.extend(joiner.feed_line(line).unwrap());
        }
        assert_eq!(out, vec![short, long]);
    }

    #[test]
    fn refuses_long_lines_and_other_versions() {
        let e = Event::new(
            0.0,
            1,
            Body::Log {
                text: "x".repeat(5000),
            },
        );
        assert!(matches!(e.encode(), Err(CodecError::TooLong(_))));
        let line = br#"{"v":99,"t_ms":0,"pid":1,"kind":"log","text":"hi"}"#;
        assert!(matches!(Event::decode(line), Err(CodecError::Version(99))));
    }

    /// Properties of the decoder the dashboard and the CLI read every runner through: whatever
    /// arrives on the pipe, it answers without panicking, and whatever a runner writes comes
    /// back as it was.
    mod properties {
        use super::*;
        use crate::metrics::Num;
        use crate::report::ProcessRecord;
        use proptest::prelude::*;

        /// Any text, control characters and newlines included (`any::<String>()` has no `\n`).
        fn text(max: usize) -> impl Strategy<Value = String> {
            proptest::collection::vec(any::<char>(), 0..max).prop_map(String::from_iter)
        }

        /// Any finite float, from every bit pattern, and plain ones that are common in reports.
        fn finite() -> impl Strategy<Value = f64> {
            prop_oneof![
                any::<u64>()
                    .prop_map(f64::from_bits)
                    .prop_filter("finite", |x| x.is_finite()),
                -1e9..1e9f64,
                Just(0.0),
            ]
        }

        fn num() -> impl Strategy<Value = Num> {
            prop_oneof![
                any::<i64>().prop_map(Num::Int),
                finite().prop_map(Num::Float)
            ]
        }

        /// Names a scenario would use, and names that need escaping or are not ASCII.
        fn metrics() -> impl Strategy<Value = Metrics> {
            let name = prop_oneof!["[a-z_]{1,24}", text(12)];
            proptest::collection::vec((name, num()), 0..20).prop_map(|pairs| {
                let mut m = Metrics::default();
                for (name, value) in pairs {
                    m.set(&name, value);
                }
                m
            })
        }

        fn report() -> impl Strategy<Value = Report> {
            let param = prop_oneof![
                any::<i64>().prop_map(serde_json::Value::from),
                text(20).prop_map(serde_json::Value::from),
            ];
            let process = (
                any::<u32>(),
                any::<u32>(),
                text(10),
                proptest::option::of(exit()),
            )
                .prop_map(|(pid, ppid, role, exit)| ProcessRecord {
                    pid,
                    ppid,
                    role,
                    exit,
                });
            (
                (text(12), proptest::collection::vec((text(8), param), 0..4)),
                (any::<bool>(), finite(), metrics()),
                (proptest::collection::vec(text(80), 0..3), any::<bool>()),
                (
                    proptest::option::of(text(80)),
                    proptest::collection::vec(process, 0..3),
                ),
            )
                .prop_map(
                    |(
                        (scenario, params),
                        (ok, wall_ms, metrics),
                        (notes, cancelled),
                        (error, processes),
                    )| {
                        Report {
                            scenario,
                            params: params.into_iter().collect(),
                            ok,
                            wall_ms,
                            metrics,
                            notes_zh: notes.clone(),
                            notes,
                            cancelled,
                            error,
                            processes,
                            warnings: vec![],
                        }
                    },
                )
        }

        fn exit() -> impl Strategy<Value = Exit> {
            prop_oneof![
                any::<i32>().prop_map(Exit::Code),
                any::<i32>().prop_map(Exit::Signal),
                Just(Exit::KilledWithGroup),
            ]
        }

        fn body() -> impl Strategy<Value = Body> {
            prop_oneof![
                (any::<u32>(), text(20)).prop_map(|(ppid, role)| Body::Process { ppid, role }),
                exit().prop_map(|exit| Body::ProcessExit { exit }),
                metrics().prop_map(|metrics| Body::Live { metrics }),
                // Up to three parts' worth, so long logs travel in parts.
                text(5000).prop_map(|text| Body::Log { text }),
                report().prop_map(|report| Body::Report {
                    report: Box::new(report)
                }),
                (text(20), finite(), metrics()).prop_map(|(series, x, figures)| Body::Point {
                    series,
                    x,
                    figures
                }),
            ]
        }

        fn event() -> impl Strategy<Value = Event> {
            (finite(), any::<u32>(), body())
                .prop_map(|(t_ms, pid, body)| Event::new(t_ms, pid, body))
        }

        proptest! {
            #[test]
            fn any_bytes_are_answered_without_a_panic(lines in proptest::collection::vec(
                proptest::collection::vec(any::<u8>(), 0..300), 1..8)
            ) {
                let mut joiner = Reassembler::default();
                for line in &lines {
                    let _ = Event::decode(line);
                    let _ = joiner.feed_line(line);
                }
            }

            #[test]
            fn any_text_is_answered_without_a_panic(line in text(300)) {
                let _ = Event::decode(line.as_bytes());
                let _ = Reassembler::default().feed_line(line.as_bytes());
            }

            /// Lines that are almost events: a real one with a few bytes changed or cut.
            #[test]
            fn damaged_events_are_answered_without_a_panic(
                event in event(),
                damage in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
                cut in any::<prop::sample::Index>(),
            ) {
                let mut joiner = Reassembler::default();
                for mut line in event.encode_lines().unwrap() {
                    for (at, byte) in &damage {
                        let at = at.index(line.len());
                        line[at] = *byte;
                    }
                    let _ = Event::decode(&line);
                    let _ = joiner.feed_line(&line[..cut.index(line.len() + 1)]);
                    let _ = joiner.feed_line(&line);
                }
            }

            #[test]
            fn every_event_comes_back_as_it_was_written(event in event()) {
                let lines = event.encode_lines().unwrap();
                let mut joiner = Reassembler::default();
                let mut out = Vec::new();
                for line in &lines {
                    prop_assert!(line.len() <= MAX_LINE);
                    prop_assert_eq!(line.last(), Some(&b'\n'));
                    out.extend(joiner.feed_line(line).unwrap());
                }
                prop_assert_eq!(out, vec![event]);
            }
        }
    }
}
