//! A recording: a run's events (or a whole dashboard session's) and the dashboard's CPU
//! samples, kept in a file to be exported or replayed later.
//!
//! JSON Lines. The first line is the [`Header`]: the recording's own format version, the event
//! version its events were written in, and the machine it was made on. Each line after it is
//! one [`Item`]: a run began (its scenario and parameters), one of a run's events, a run's
//! runner was reaped, or a CPU sample. Times of events are on their run's clock; every other
//! time is on the recording's clock (milliseconds since the recording began), and a run's
//! clock begins at its `Run` item's `at_ms` on it.
//!
//! [`read`] gives the items back, or an error naming the line and what is wrong with it: a
//! file that is not a recording, one from an older or newer conlab, one cut short.

use super::{EVENT_VERSION, Event};
use crate::exit::Exit;
use crate::sampler::{ProcSample, Sample};
use serde::{Deserialize, Serialize};
use std::io::{self, BufRead, Write};
use std::path::Path;
use std::time::Instant;

/// Bumped whenever the header or an item changes shape; readers reject versions they do not
/// know. Version 2 added the processes to each sample; version 3, what was observed of each
/// run.
pub const RECORDING_VERSION: u32 = 3;

/// The oldest version this conlab still reads: what version 1 lacks (processes in a sample)
/// reads as empty, and a run of version 1 or 2 has no observations (so no insights).
pub const OLDEST_READ: u32 = 1;

/// Identifies one run within the recorded session (as the session numbered it).
pub type RunId = u64;

/// What the recording was made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// One headless run (`conlab run <scenario> --record FILE`).
    Run,
    /// A dashboard session (`conlab --record FILE`): any number of runs, and CPU samples.
    Dashboard,
}

/// The first line of a recording.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Header {
    /// The recording's format version ([`RECORDING_VERSION`]); its name says what the file is.
    pub conlab_recording: u32,
    /// The version its events were written in ([`EVENT_VERSION`]).
    pub events_version: u32,
    /// The version of conlab that wrote it.
    pub conlab: String,
    /// Cores of the machine it was recorded on.
    pub cores: usize,
    /// When the recording began: seconds since the Unix epoch.
    pub started: f64,
    pub source: Source,
    /// The dashboard's sampling period, for a dashboard session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval_ms: Option<u64>,
}

impl Header {
    /// A header for a recording beginning now, written by this conlab.
    pub fn new(source: Source, cores: usize, interval_ms: Option<u64>) -> Header {
        let started = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64());
        Header {
            conlab_recording: RECORDING_VERSION,
            events_version: EVENT_VERSION,
            conlab: env!("CARGO_PKG_VERSION").to_string(),
            cores,
            started,
            source,
            interval_ms,
        }
    }
}

/// One line after the header.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "item", rename_all = "snake_case")]
pub enum Item {
    /// A run began: its clock starts at `at_ms` on the recording's clock.
    Run {
        run: RunId,
        at_ms: f64,
        scenario: String,
        params: serde_json::Map<String, serde_json::Value>,
    },
    /// One event of run `run`, as its runner wrote it (parts already joined).
    Event { run: RunId, event: Event },
    /// What was observed of run `run` from outside it, for its insights, at `t_ms` (just
    /// before its `ended`), as `insights::Observed` writes itself.
    Observed {
        run: RunId,
        t_ms: f64,
        observed: serde_json::Value,
    },
    /// Run `run`'s runner was reaped at `t_ms` (`None`: its status could not be had).
    Ended {
        run: RunId,
        t_ms: f64,
        exit: Option<Exit>,
    },
    /// The dashboard's sample at `t_ms`: busy percent of each core, of all of them, and the
    /// dashboard's own CPU (percent of one core) — what the CPU panel draws; and (since
    /// version 2) the runs' processes and the orphans the dashboard reaped — what the
    /// processes panel draws.
    Cpu {
        t_ms: f64,
        cores: Vec<f32>,
        total: f32,
        conlab: f32,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        processes: Vec<ProcSample>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        reaped: Vec<(u32, Exit)>,
    },
}

/// Writes a recording. A write that fails stops the recording (the rest would be a file with
/// a hole in it); the first error is kept for [`Recorder::finish`], so the caller of a long
/// session is not interrupted on every item.
pub struct Recorder {
    out: Box<dyn Write + Send>,
    started: Instant,
    failed: Option<io::Error>,
}

impl Recorder {
    /// Creates (or replaces) `path` and writes the header; the message names the path.
    pub fn create(path: &Path, header: &Header) -> Result<Recorder, String> {
        let file = std::fs::File::create(path)
            .map_err(|e| format!("cannot record to {}: {e}", path.display()))?;
        let mut recorder = Recorder::to(Box::new(io::BufWriter::new(file)), header);
        match recorder.failed.take() {
            Some(e) => Err(format!("cannot record to {}: {e}", path.display())),
            None => Ok(recorder),
        }
    }

    /// A recording written to `out`, its clock starting now.
    pub fn to(out: Box<dyn Write + Send>, header: &Header) -> Recorder {
        let mut recorder = Recorder {
            out,
            started: Instant::now(),
            failed: None,
        };
        recorder.write(header);
        recorder
    }

    /// Milliseconds since the recording began, to the microsecond: what a sample or a reaping
    /// is stamped with is no finer, and the digits past it would be most of the line.
    pub fn now_ms(&self) -> f64 {
        (self.started.elapsed().as_secs_f64() * 1e6).round() / 1000.0
    }

    /// Run `run` began now.
    pub fn run_started(
        &mut self,
        run: RunId,
        scenario: &str,
        params: serde_json::Map<String, serde_json::Value>,
    ) {
        let item = Item::Run {
            run,
            at_ms: self.now_ms(),
            scenario: scenario.to_string(),
            params,
        };
        self.write(&item);
    }

    pub fn event(&mut self, run: RunId, event: &Event) {
        // Serialized in place: an event is most of what is written, and copying each one
        // into an `Item` first would be for nothing.
        #[derive(Serialize)]
        struct EventItem<'a> {
            item: &'static str,
            run: RunId,
            event: &'a Event,
        }
        self.write(&EventItem {
            item: "event",
            run,
            event,
        });
    }

    /// What was observed of run `run`, now.
    pub fn observed(&mut self, run: RunId, observed: serde_json::Value) {
        let item = Item::Observed {
            run,
            t_ms: self.now_ms(),
            observed,
        };
        self.write(&item);
    }

    /// Run `run`'s runner was reaped now.
    pub fn ended(&mut self, run: RunId, exit: Option<Exit>) {
        let item = Item::Ended {
            run,
            t_ms: self.now_ms(),
            exit,
        };
        self.write(&item);
    }

    /// The dashboard's sample, taken now (percentages kept to a tenth: what the panels
    /// show, and less than half the bytes of every digit an `f32` has).
    pub fn sample(&mut self, sample: &Sample) {
        let tenth = |pct: f32| (pct * 10.0).round() / 10.0;
        let processes = sample
            .processes
            .iter()
            .map(|p| {
                let mut p = p.clone();
                p.cpu_pct = tenth(p.cpu_pct);
                p.tasks
                    .iter_mut()
                    .for_each(|t| t.cpu_pct = tenth(t.cpu_pct));
                p
            })
            .collect();
        let item = Item::Cpu {
            t_ms: self.now_ms(),
            cores: sample.cores.iter().copied().map(tenth).collect(),
            total: tenth(sample.total),
            conlab: tenth(sample.self_cpu_pct),
            processes,
            reaped: sample.reaped.clone(),
        };
        self.write(&item);
        // Samples come every few hundred milliseconds: a recording that ends by SIGKILL
        // still has everything up to the last one.
        self.flush();
    }

    /// Writes what is buffered; the first error the recording met, if any.
    pub fn finish(mut self) -> io::Result<()> {
        self.flush();
        self.failed.take().map_or(Ok(()), Err)
    }

    fn flush(&mut self) {
        if self.failed.is_none()
            && let Err(e) = self.out.flush()
        {
            self.failed = Some(e);
        }
    }

    fn write(&mut self, line: &impl Serialize) {
        if self.failed.is_some() {
            return;
        }
        let written = serde_json::to_writer(&mut self.out, line)
            .map_err(io::Error::from)
            .and_then(|()| self.out.write_all(b"\n"));
        if let Err(e) = written {
            self.failed = Some(e);
        }
    }
}

/// A recording read back.
#[derive(Debug, Clone, PartialEq)]
pub struct Recording {
    pub header: Header,
    pub items: Vec<Item>,
}

/// Why a recording cannot be read: the line (from 1) and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadError {
    pub line: usize,
    pub what: String,
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.what)
    }
}

/// Reads a whole recording: its header, checked against what this conlab reads, and every
/// item after it.
pub fn read(mut input: impl BufRead) -> Result<Recording, ReadError> {
    let mut header = None;
    let mut items = Vec::new();
    let mut bytes = Vec::new();
    for number in 1.. {
        bytes.clear();
        let read = input.read_until(b'\n', &mut bytes).map_err(|e| ReadError {
            line: number,
            what: format!("cannot be read: {e}"),
        })?;
        if read == 0 {
            break;
        }
        let complete = bytes.last() == Some(&b'\n');
        let fail = |what: String| ReadError { line: number, what };
        // A last line without its newline was cut short, unless it is whole all the same.
        let cut = |what: String| match complete {
            true => fail(what),
            false => fail(format!(
                "the recording ends in the middle of this line: the file was cut short ({what})"
            )),
        };
        let text = std::str::from_utf8(&bytes).map_err(|e| cut(format!("not UTF-8: {e}")))?;
        match &header {
            None => header = Some(read_header(text).map_err(cut)?),
            Some(_) => items.push(read_item(text).map_err(cut)?),
        }
    }
    let header = header.ok_or_else(|| ReadError {
        line: 1,
        what: "the file is empty: a conlab recording begins with its header line".to_string(),
    })?;
    Ok(Recording { header, items })
}

/// The first line, if it is the header of a recording this conlab reads.
fn read_header(text: &str) -> Result<Header, String> {
    let not_a_recording = |why: &str| {
        format!(
            "not a conlab recording: {why} (a recording begins with {{\"conlab_recording\": {RECORDING_VERSION}, ...}})"
        )
    };
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| {
        not_a_recording(&format!("the first line is not JSON ({})", json_error(&e)))
    })?;
    let version = value
        .get("conlab_recording")
        .ok_or_else(|| not_a_recording("the first line has no \"conlab_recording\""))?;
    let version = version
        .as_u64()
        .ok_or_else(|| not_a_recording("\"conlab_recording\" is not a version number"))?;
    let this = env!("CARGO_PKG_VERSION");
    let known = u64::from(OLDEST_READ)..=u64::from(RECORDING_VERSION);
    if !known.contains(&version) {
        let age = if version > u64::from(RECORDING_VERSION) {
            "newer"
        } else {
            "older"
        };
        return Err(format!(
            "the recording is format version {version}, {age} than this conlab ({this}) reads: versions {OLDEST_READ} to {RECORDING_VERSION}"
        ));
    }
    match value.get("events_version").and_then(|v| v.as_u64()) {
        Some(v) if v == u64::from(EVENT_VERSION) => {}
        Some(v) => {
            let age = if v > u64::from(EVENT_VERSION) {
                "newer"
            } else {
                "older"
            };
            return Err(format!(
                "the recording's events are version {v}, {age} than this conlab ({this}) reads: version {EVENT_VERSION}"
            ));
        }
        None => return Err("the header has no \"events_version\" number".to_string()),
    }
    serde_json::from_value(value).map_err(|e| format!("a header that cannot be read: {e}"))
}

/// A line after the header.
fn read_item(text: &str) -> Result<Item, String> {
    let item: Item = serde_json::from_str(text)
        .map_err(|e| format!("not a recording item: {}", json_error(&e)))?;
    if let Item::Event { event, .. } = &item
        && event.v != EVENT_VERSION
    {
        return Err(format!(
            "an event of version {}, in a recording of version {EVENT_VERSION} events",
            event.v
        ));
    }
    Ok(item)
}

/// serde_json's message without its "at line 1 column N": a recording's lines are numbered
/// by the reader, and the column alone says where in the line.
fn json_error(e: &serde_json::Error) -> String {
    let message = e.to_string();
    let what = message
        .rfind(" at line ")
        .map_or(message.as_str(), |at| &message[..at]);
    format!("{what}, at column {}", e.column())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Body;
    use crate::report::Metrics;
    use std::sync::{Arc, Mutex};

    /// A `Write` whose bytes the test keeps.
    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);

    impl Write for Shared {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    fn header() -> Header {
        Header::new(Source::Dashboard, 2, Some(500))
    }

    /// A short session: a run, its events of several kinds, its end, a CPU sample.
    fn session() -> Vec<u8> {
        let out = Shared::default();
        let mut recorder = Recorder::to(Box::new(out.clone()), &header());
        let mut params = serde_json::Map::new();
        params.insert("size".into(), 4.into());
        recorder.run_started(1, "pool", params);
        let mut metrics = Metrics::default();
        metrics.set("thread_0_done", 12u64);
        metrics.set("ops_per_sec", 1.5e6);
        for body in [
            Body::Process {
                ppid: 1,
                role: "runner".into(),
            },
            Body::Begin {
                span: 1,
                cat: "task".into(),
                name: "task 0".into(),
                tid: Some(7),
                flow: Some(0),
            },
            Body::End { span: 1 },
            Body::Live { metrics },
        ] {
            recorder.event(1, &Event::new(0.25, 42, body));
        }
        recorder.ended(1, Some(Exit::Code(0)));
        recorder.sample(&Sample {
            cores: vec![12.34, 99.96],
            total: 56.15,
            self_cpu_pct: 0.25,
            processes: vec![process()],
            reaped: vec![(43, Exit::Code(1))],
        });
        recorder.finish().unwrap();
        out.0.lock().unwrap().clone()
    }

    /// The runner as a sample saw it, with one thread.
    fn process() -> ProcSample {
        ProcSample {
            pid: 42,
            ppid: 1,
            pgrp: 42,
            name: "conlab".into(),
            state: 'S',
            cpu_pct: 12.345,
            threads: 1,
            tasks: vec![crate::sampler::ThreadSample {
                tid: 42,
                name: "conlab".into(),
                state: 'R',
                cpu_pct: 3.21,
                core: 1,
                voluntary_switches: 5,
                involuntary_switches: 2,
            }],
        }
    }

    fn read_bytes(bytes: &[u8]) -> Result<Recording, ReadError> {
        read(bytes)
    }

    #[test]
    fn a_session_comes_back_as_it_was_written() {
        let bytes = session();
        let text = String::from_utf8(bytes.clone()).unwrap();
        let first = text.lines().next().unwrap();
        assert!(
            first.starts_with(&format!(
                "{{\"conlab_recording\":{RECORDING_VERSION},\"events_version\":{EVENT_VERSION},"
            )),
            "{first}"
        );
        let recording = read_bytes(&bytes).unwrap();
        assert_eq!(recording.header.source, Source::Dashboard);
        assert_eq!(recording.header.cores, 2);
        assert_eq!(recording.items.len(), 7, "{text}");
        assert!(
            matches!(&recording.items[0], Item::Run { run: 1, scenario, .. } if scenario == "pool")
        );
        let Item::Event { run: 1, event } = &recording.items[2] else {
            panic!("{:?}", recording.items[2]);
        };
        assert_eq!(
            event.body,
            Body::Begin {
                span: 1,
                cat: "task".into(),
                name: "task 0".into(),
                tid: Some(7),
                flow: Some(0),
            }
        );
        let Item::Event { event, .. } = &recording.items[4] else {
            panic!();
        };
        let Body::Live { metrics } = &event.body else {
            panic!();
        };
        assert_eq!(metrics.get("ops_per_sec").map(|n| n.as_f64()), Some(1.5e6));
        assert!(matches!(
            recording.items[5],
            Item::Ended {
                run: 1,
                exit: Some(Exit::Code(0)),
                ..
            }
        ));
        let Item::Cpu {
            cores,
            total,
            conlab,
            processes,
            reaped,
            ..
        } = &recording.items[6]
        else {
            panic!();
        };
        assert_eq!(
            (cores.as_slice(), *total, *conlab),
            (&[12.3, 100.0][..], 56.2, 0.3)
        );
        let mut kept = process();
        kept.cpu_pct = 12.3;
        kept.tasks[0].cpu_pct = 3.2;
        assert_eq!(processes, &[kept]);
        assert_eq!(reaped, &[(43, Exit::Code(1))]);
    }

    /// A version 1 recording, before samples held processes, reads with none.
    #[test]
    fn a_version_1_recording_is_still_read() {
        let text = concat!(
            r#"{"conlab_recording":1,"events_version":2,"conlab":"0.1.0","cores":64,"started":1.0,"source":"dashboard","interval_ms":500}"#,
            "\n",
            r#"{"item":"cpu","t_ms":500.0,"cores":[1.0,2.0],"total":1.5,"conlab":0.2}"#,
            "\n"
        );
        let recording = read_bytes(text.as_bytes()).unwrap();
        assert_eq!(recording.header.cores, 64);
        assert!(matches!(
            &recording.items[0],
            Item::Cpu { processes, reaped, .. } if processes.is_empty() && reaped.is_empty()
        ));
    }

    #[test]
    fn a_file_that_is_not_a_recording_is_named_so_at_line_1() {
        for (bytes, says) in [
            (&b""[..], "the file is empty"),
            (
                b"hello\n",
                "not a conlab recording: the first line is not JSON",
            ),
            (b"{\"v\":2,\"t_ms\":1.0}\n", "has no \"conlab_recording\""),
            (b"[1,2]\n", "has no \"conlab_recording\""),
            (b"{\"conlab_recording\":\"x\"}\n", "is not a version number"),
            (b"\xff\xfe\n", "not UTF-8"),
        ] {
            let e = read_bytes(bytes).unwrap_err();
            assert_eq!(e.line, 1, "{e}");
            assert!(e.to_string().contains(says), "{e}");
        }
    }

    /// The header of this session with `key` set to `value`.
    fn header_with(key: &str, value: serde_json::Value) -> Vec<u8> {
        let mut header = serde_json::to_value(header()).unwrap();
        header[key] = value;
        let mut bytes = serde_json::to_vec(&header).unwrap();
        bytes.push(b'\n');
        bytes
    }

    #[test]
    fn older_and_newer_recordings_are_refused_by_version() {
        let newer = format!("format version {}, newer", RECORDING_VERSION + 1);
        let cases = [
            ("conlab_recording", RECORDING_VERSION + 1, newer.as_str()),
            (
                "conlab_recording",
                OLDEST_READ - 1,
                "format version 0, older",
            ),
            (
                "events_version",
                EVENT_VERSION + 1,
                "events are version 3, newer",
            ),
            (
                "events_version",
                EVENT_VERSION - 1,
                "events are version 1, older",
            ),
        ];
        for (key, version, says) in cases {
            let e = read_bytes(&header_with(key, version.into())).unwrap_err();
            assert_eq!(e.line, 1, "{e}");
            assert!(e.to_string().contains(says), "{key}={version}: {e}");
            assert!(e.to_string().contains("this conlab"), "{e}");
        }
        let e = read_bytes(&header_with("events_version", serde_json::Value::Null)).unwrap_err();
        assert!(e.to_string().contains("no \"events_version\""), "{e}");
    }

    #[test]
    fn an_event_of_another_version_names_its_line() {
        let mut bytes = session();
        let line =
            r#"{"item":"event","run":1,"event":{"v":1,"t_ms":1.0,"pid":3,"kind":"end","span":1}}"#;
        bytes.extend_from_slice(line.as_bytes());
        bytes.push(b'\n');
        let e = read_bytes(&bytes).unwrap_err();
        assert_eq!(e.line, 9, "{e}");
        assert!(e.to_string().contains("an event of version 1"), "{e}");
    }

    #[test]
    fn a_cut_recording_names_its_last_line() {
        let bytes = session();
        let lines = bytes.iter().filter(|b| **b == b'\n').count();
        // Cut anywhere inside the last line: it is named as cut, never read as whole.
        let last_start = bytes[..bytes.len() - 1]
            .iter()
            .rposition(|b| *b == b'\n')
            .unwrap()
            + 1;
        for end in last_start + 1..bytes.len() - 1 {
            let e = read_bytes(&bytes[..end]).unwrap_err();
            assert_eq!(e.line, lines, "cut at {end}: {e}");
            assert!(e.to_string().contains("cut short"), "{e}");
        }
        // Cut right before the newline, nothing is missing.
        assert!(read_bytes(&bytes[..bytes.len() - 1]).is_ok());
        // Cut inside the header.
        let e = read_bytes(&bytes[..10]).unwrap_err();
        assert_eq!(e.line, 1);
        assert!(e.to_string().contains("cut short"), "{e}");
    }

    #[test]
    fn a_bad_line_in_the_middle_is_named() {
        let bytes = session();
        let text = String::from_utf8(bytes).unwrap();
        let mut lines: Vec<&str> = text.lines().collect();
        lines.insert(3, r#"{"item":"teleport","run":1}"#);
        let e = read_bytes((lines.join("\n") + "\n").as_bytes()).unwrap_err();
        assert_eq!(e.line, 4, "{e}");
        assert!(
            e.to_string()
                .contains("not a recording item: unknown variant `teleport`"),
            "{e}"
        );
        assert!(!e.to_string().contains("at line 1"), "{e}");
        lines[3] = "";
        let e = read_bytes((lines.join("\n") + "\n").as_bytes()).unwrap_err();
        assert_eq!(e.line, 4, "{e}");
    }

    #[test]
    fn an_unwritable_path_is_named() {
        let e = Recorder::create(Path::new("/nonexistent-dir/x.jsonl"), &header())
            .err()
            .unwrap();
        assert!(
            e.starts_with("cannot record to /nonexistent-dir/x.jsonl: "),
            "{e}"
        );
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(512))]

            #[test]
            fn any_bytes_are_answered_without_a_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
                let _ = read_bytes(&bytes);
            }

            /// Past a good header, any bytes: an error names a line that exists.
            #[test]
            fn any_bytes_after_a_header_name_a_line(
                tail in proptest::collection::vec(any::<u8>(), 0..600),
                keep in 0usize..2000,
            ) {
                let mut bytes = session();
                bytes.truncate(keep.max(1).min(bytes.len()));
                bytes.extend_from_slice(&tail);
                if let Err(e) = read_bytes(&bytes) {
                    let lines = bytes.split(|b| *b == b'\n').count();
                    prop_assert!(e.line >= 1 && e.line <= lines, "{} of {}", e, lines);
                }
            }
        }
    }
}
