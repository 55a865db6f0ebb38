//! The runner's event stream (`conlab run <scenario> --events`): every line a versioned event
//! under PIPE_BUF, the runner announced first and the report last, time and counters moving
//! forward only, and lines from many writers on one pipe never interleaving.

mod common;

use common::{read_lines, read_text, run_args, wait_bounded};
use conlab::event::{Body, CodecError, EVENT_VERSION, Event, MAX_LINE, write_line};
use conlab::report::{Metrics, Num};
use std::collections::BTreeMap;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A runner that outlives this is killed, waited for, and fails the test.
const DEADLINE: Duration = Duration::from_secs(180);

/// `conlab run lock --events --set ...`: its stdout split into lines (newlines kept), its
/// stderr, and whether it exited with code 0.
fn runner_output(sets: &[&str]) -> (Vec<Vec<u8>>, String, u32) {
    let mut child = common::command(&run_args("lock", &["--events"], sets))
        .spawn()
        .expect("start the runner");
    let pid = child.id();
    let err_reader = read_text(child.stderr.take().expect("piped"));
    let out_reader = read_lines(child.stdout.take().expect("piped"));
    let status = wait_bounded(&mut child, DEADLINE, "the runner");
    let lines = out_reader.join().unwrap().expect("read stdout");
    let stderr = err_reader.join().unwrap().expect("stderr is UTF-8");
    assert_eq!(status.code(), Some(0), "runner exit; stderr: {stderr}");
    (lines, stderr, pid)
}

/// Decodes one line, failing with the line itself.
fn decode(line: &[u8]) -> Event {
    assert!(
        line.len() <= MAX_LINE,
        "line of {} bytes (newline included) exceeds {MAX_LINE}",
        line.len()
    );
    assert_eq!(line.last(), Some(&b'\n'), "every line is terminated");
    Event::decode(line).unwrap_or_else(|e| {
        panic!(
            "undecodable line ({e}): {}",
            String::from_utf8_lossy(line).trim_end()
        )
    })
}

/// Live counters that only ever grow while a run goes.
fn is_counter(name: &str) -> bool {
    matches!(
        name,
        "iterations_done"
            | "lost_updates"
            | "acquisitions"
            | "contended"
            | "wait_ns_total"
            | "wait_ns_max"
            | "owner_changes"
    ) || (name.starts_with("thread_") && name.ends_with("_done"))
}

#[test]
fn a_long_lock_run_streams_process_live_events_and_the_report() {
    let iterations: i64 = 20_000_000;
    let (lines, stderr, pid) = runner_output(&[
        &format!("iterations={iterations}"),
        "mode=lock",
        "seconds=0",
    ]);
    assert!(stderr.is_empty(), "runner stderr: {stderr}");
    let events: Vec<Event> = lines.iter().map(|l| decode(l)).collect();
    assert!(events.len() >= 4, "{} events", events.len());

    for e in &events {
        assert_eq!(e.v, EVENT_VERSION);
        assert_eq!(e.pid, pid, "only the runner writes in the lock scenario");
    }
    match &events[0].body {
        Body::Process { ppid, role } => {
            assert_eq!(role, "runner");
            assert_eq!(*ppid, std::process::id(), "its parent is this test");
        }
        other => panic!("first event is not the runner's Process event: {other:?}"),
    }
    let Body::Report { report } = &events.last().unwrap().body else {
        panic!("last event is not the report: {:?}", events.last());
    };
    let reports = events
        .iter()
        .filter(|e| matches!(e.body, Body::Report { .. }))
        .count();
    assert_eq!(reports, 1, "exactly one report");

    for pair in events.windows(2) {
        assert!(
            pair[1].t_ms >= pair[0].t_ms,
            "t_ms went back from {} to {}",
            pair[0].t_ms,
            pair[1].t_ms
        );
    }

    let live: Vec<&Metrics> = events
        .iter()
        .filter_map(|e| match &e.body {
            Body::Live { metrics } => Some(metrics),
            _ => None,
        })
        .collect();
    assert!(
        live.len() >= 2,
        "{} live events in a {:.0} ms run",
        live.len(),
        report.wall_ms
    );
    let total = 2 * iterations;
    for m in &live {
        assert_eq!(m.get("iterations_total"), Some(Num::Int(total)));
        for name in [
            "iterations_done",
            "acquisitions",
            "contended",
            "owner_changes",
        ] {
            assert!(m.get(name).is_some(), "live `{name}` missing: {m:?}");
        }
    }
    for pair in live.windows(2) {
        for (name, before) in pair[0].iter().filter(|(n, _)| is_counter(n)) {
            let after = pair[1]
                .get(name)
                .unwrap_or_else(|| panic!("`{name}` disappeared from the live figures"));
            assert!(
                after.as_f64() >= before.as_f64(),
                "live `{name}` went back from {before:?} to {after:?}"
            );
        }
    }
    // The last live figures are the final ones (published once more at the end).
    let last = live.last().unwrap();
    assert_eq!(last.get("iterations_done"), Some(Num::Int(total)));
    assert_eq!(last.get("acquisitions"), report.metrics.get("acquisitions"));
    assert_eq!(report.metrics.get("acquisitions"), Some(Num::Int(total)));
    assert_eq!(report.metrics.get("balance"), Some(Num::Int(0)));
    assert!(report.ok && !report.cancelled, "{report:?}");
    assert!(
        report.processes.is_empty(),
        "the runner leaves process records to whoever reaps it"
    );
}

/// Four runners write to one pipe at once; every line must come out whole.
#[test]
fn lines_from_several_runners_on_one_pipe_never_interleave() {
    const RUNNERS: usize = 4;
    // 64 threads make every live line ~1,800 bytes: more than one buffered write would take
    // with println! (stdout's LineWriter buffer is 1 KiB), still under PIPE_BUF.
    let sets = [
        "mode=atomic",
        "threads=64",
        "iterations=1000000",
        "seconds=0",
    ];
    let (reader, writer) = std::io::pipe().expect("pipe");
    let mut children = Vec::new();
    for _ in 0..RUNNERS {
        let mut command = common::command(&run_args("lock", &["--events"], &sets));
        command.stdout(writer.try_clone().expect("clone the pipe writer"));
        children.push(command.spawn().expect("start a runner"));
        // `command` holds a copy of the writer until it is dropped here.
    }
    drop(writer);
    let pids: Vec<u32> = children.iter().map(Child::id).collect();

    let stderr_readers: Vec<_> = children
        .iter_mut()
        .map(|c| read_text(c.stderr.take().expect("piped")))
        .collect();
    let lines_reader = read_lines(reader);
    for (child, pid) in children.iter_mut().zip(&pids) {
        let status = wait_bounded(child, DEADLINE, &format!("runner {pid}"));
        assert!(status.success(), "runner {pid}: {status}");
    }
    let lines = lines_reader.join().unwrap().expect("read the pipe");
    for r in stderr_readers {
        let stderr = r.join().unwrap().expect("stderr is UTF-8");
        assert!(stderr.is_empty(), "a runner wrote to stderr: {stderr}");
    }

    #[derive(Default, Debug)]
    struct Seen {
        process: usize,
        live: usize,
        reports: usize,
        longest: usize,
        threads: usize,
        spans_begun: usize,
        spans_ended: usize,
    }
    let mut seen: BTreeMap<u32, Seen> = BTreeMap::new();
    for line in &lines {
        let event = decode(line);
        let s = seen.entry(event.pid).or_default();
        s.longest = s.longest.max(line.len());
        match event.body {
            Body::Process { role, ppid } => {
                assert_eq!(role, "runner");
                assert_eq!(ppid, std::process::id());
                s.process += 1;
            }
            Body::Live { .. } => s.live += 1,
            // Each thread that changes the balance is named, and its work is a span.
            Body::Thread { .. } => s.threads += 1,
            Body::Begin { .. } => s.spans_begun += 1,
            Body::End { .. } => s.spans_ended += 1,
            Body::Report { report } => {
                assert_eq!(report.metrics.get("balance"), Some(Num::Int(0)));
                s.reports += 1;
            }
            other => panic!("unexpected event from {}: {other:?}", event.pid),
        }
    }
    assert_eq!(
        seen.keys().copied().collect::<Vec<_>>(),
        {
            let mut p = pids.clone();
            p.sort_unstable();
            p
        },
        "events come from exactly the four runners"
    );
    for (pid, s) in &seen {
        assert_eq!((s.process, s.reports), (1, 1), "runner {pid}: {s:?}");
        assert!(s.live >= 1, "runner {pid}: {s:?}");
        assert_eq!(
            (s.threads, s.spans_begun, s.spans_ended),
            (64, 64, 64),
            "runner {pid}: {s:?}"
        );
        assert!(
            s.longest > 1024,
            "runner {pid}: lines long enough to be split by a buffered writer: {s:?}"
        );
    }
}

/// Name of the helper below, run in a child copy of this test binary.
const CHILD_TEST: &str = "write_line_child";
const CHILD_ENV: &str = "CONLAB_EVENTS_WRITE_LINE_CHILD";
const CHILD_THREADS: usize = 8;
const CHILD_LINES: usize = 400;

/// The helper: several threads call `write_line` on fd 1 at once with lines near MAX_LINE.
/// It runs in a child process whose stdout is a pipe, so the test harness's own stdout is
/// never touched; run directly (without the variable) it does nothing.
#[test]
#[ignore = "helper run by write_line_from_many_threads_never_interleaves in a child process"]
fn write_line_child() {
    if std::env::var_os(CHILD_ENV).is_none() {
        return;
    }
    std::thread::scope(|scope| {
        for t in 0..CHILD_THREADS {
            scope.spawn(move || {
                let fill = char::from(b'a' + t as u8);
                for i in 0..CHILD_LINES {
                    let head = format!("{t}:{i}:");
                    let mut event = Event::new(0.0, t as u32, Body::Log { text: head.clone() });
                    let bare = event.encode().unwrap().len();
                    let text = format!("{head}{}", fill.to_string().repeat(MAX_LINE - bare));
                    event.body = Body::Log { text };
                    let line = event.encode().expect("exactly MAX_LINE bytes");
                    assert_eq!(line.len(), MAX_LINE);
                    write_line(&line).expect("write to the pipe");
                }
            });
        }
    });
}

#[test]
fn write_line_from_many_threads_never_interleaves() {
    let mut child = Command::new(std::env::current_exe().expect("this test binary"))
        .args([CHILD_TEST, "--exact", "--ignored", "--test-threads=1", "-q"])
        .env(CHILD_ENV, "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the child");
    let err_reader = read_text(child.stderr.take().unwrap());
    let out_reader = read_lines(child.stdout.take().unwrap());
    let status = wait_bounded(&mut child, DEADLINE, "the write_line child");
    let lines = out_reader.join().unwrap().expect("read the child's stdout");
    let stderr = err_reader.join().unwrap().unwrap_or_default();
    assert!(status.success(), "child failed: {status}\n{stderr}");

    // The harness's own lines ("running 1 test", ".", "test result: ...") come before the
    // threads start and after they end; every other line is an event.
    let (events, harness): (Vec<&Vec<u8>>, Vec<&Vec<u8>>) =
        lines.iter().partition(|l| l.starts_with(b"{"));
    for l in &harness {
        let text = String::from_utf8_lossy(l);
        assert!(
            !text.contains("\"v\"") && !text.contains(r#""kind""#),
            "a fragment of an event outside its line: {text}"
        );
    }
    let mut next = [0usize; CHILD_THREADS];
    for line in &events {
        assert_eq!(line.len(), MAX_LINE, "a line was cut or merged");
        let event = decode(line);
        let Body::Log { text } = event.body else {
            panic!("not a log line: {event:?}");
        };
        let mut parts = text.splitn(3, ':');
        let t: usize = parts.next().unwrap().parse().unwrap();
        let i: usize = parts.next().unwrap().parse().unwrap();
        let fill = char::from(b'a' + t as u8);
        assert!(
            parts.next().unwrap().chars().all(|c| c == fill),
            "thread {t} line {i} holds another thread's bytes"
        );
        assert_eq!(event.pid, t as u32);
        assert_eq!(i, next[t], "thread {t}'s lines out of order");
        next[t] += 1;
    }
    assert_eq!(
        next, [CHILD_LINES; CHILD_THREADS],
        "every line arrived whole"
    );
}

/// The longest live event the lock scenario can publish: 64 threads and every counter at
/// its largest value.
fn maximal_lock_live() -> Event {
    let mut m = Metrics::default();
    m.set("iterations_done", i64::MAX);
    m.set("iterations_total", i64::MAX);
    for i in 0..64 {
        m.set(&format!("thread_{i}_done"), i64::MAX);
    }
    m.set("balance", i64::MIN);
    for name in [
        "lost_updates",
        "acquisitions",
        "contended",
        "wait_ns_total",
        "wait_ns_max",
        "owner_changes",
    ] {
        m.set(name, i64::MAX);
    }
    m.set("ops_per_sec", -f64::MAX);
    Event::new(-f64::MAX, u32::MAX, Body::Live { metrics: m })
}

#[test]
fn a_maximal_live_event_fits_in_one_line_and_round_trips() {
    let event = maximal_lock_live();
    // If this were refused, a 64-thread run would show no live figures at all.
    let line = event
        .encode()
        .expect("the lock scenario's largest live event fits in a line");
    assert!(line.len() <= MAX_LINE, "{} bytes", line.len());
    assert_eq!(line.iter().filter(|b| **b == b'\n').count(), 1);
    assert_eq!(Event::decode(&line).unwrap(), event);
}

#[test]
fn events_over_the_limit_are_refused_not_cut() {
    // Twice the lock scenario's thread limit cannot fit: refused with its length.
    let Body::Live { mut metrics } = maximal_lock_live().body else {
        unreachable!()
    };
    for i in 64..128 {
        metrics.set(&format!("thread_{i}_done"), i64::MAX);
    }
    let big = Event::new(1.0, 1, Body::Live { metrics });
    let json_len = serde_json::to_vec(&big).unwrap().len();
    match big.encode() {
        Err(CodecError::TooLong(n)) => assert_eq!(n, json_len + 1),
        other => panic!("{json_len} bytes of JSON accepted: {other:?}"),
    }

    // The limit itself, to the byte: MAX_LINE is accepted, one more is not.
    let bare = Event::new(
        1.0,
        1,
        Body::Log {
            text: String::new(),
        },
    )
    .encode()
    .unwrap()
    .len();
    let at = |n: usize| {
        Event::new(
            1.0,
            1,
            Body::Log {
                text: "x".repeat(n),
            },
        )
        .encode()
    };
    let line = at(MAX_LINE - bare).expect("exactly MAX_LINE bytes is allowed");
    assert_eq!(line.len(), MAX_LINE);
    assert!(matches!(at(MAX_LINE - bare + 1), Err(CodecError::TooLong(n)) if n == MAX_LINE + 1));
}

#[test]
fn decode_refuses_what_is_not_a_current_event() {
    let ok = Event::new(2.5, 7, Body::Log { text: "hi".into() });
    let line = ok.encode().unwrap();
    assert_eq!(Event::decode(&line).unwrap(), ok);
    let text = String::from_utf8(line).unwrap();
    let other_version = text.replacen("\"v\":2", "\"v\":1", 1);
    assert!(matches!(
        Event::decode(other_version.as_bytes()),
        Err(CodecError::Version(1))
    ));
    let cut = &text.as_bytes()[..text.len() / 2];
    assert!(matches!(Event::decode(cut), Err(CodecError::Json(_))));
    let unknown_kind = text.replacen("\"kind\":\"log\"", "\"kind\":\"nope\"", 1);
    assert!(matches!(
        Event::decode(unknown_kind.as_bytes()),
        Err(CodecError::Json(_))
    ));
}
