//! `subprocess` — an external program as a child: `call` runs it and reads its exit code;
//! `communicate` feeds it input on stdin and collects stdout and stderr. Either way its output
//! is read from both pipes at once, so a command that writes more than a pipe holds never
//! blocks; a timeout or a cancel ends it and whatever it started.

use super::{Findings, Group, Scenario};
use crate::event::Body;
use crate::exit::Exit;
use crate::i18n::Text;
use crate::params::{ParamKind, ParamSpec, choice_enum};
use crate::probe::Probe;
use crate::report::Metrics;
use crate::text_safe::cut as preview;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use std::fs::File;
use std::io::{ErrorKind, Read, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::process::ExitStatusExt;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

pub static SCENARIO: Scenario = Scenario::lesson(
    "subprocess",
    Group::Processes,
    "subprocess — run a program",
    "an external program as a child: call waits for its exit code, communicate feeds its stdin and reads stdout and stderr",
    include_str!("../../assets/lessons/subprocess.en.md"),
    &[
        Mode::spec(
            "mode",
            Mode::Call,
            "call: no input, wait for the exit code; communicate: write `input` to its stdin, read stdout and stderr",
        ),
        ParamSpec {
            key: "cmd",
            kind: ParamKind::Command { max_len: 256 },
            default: r#"sh -c "echo hello from $$; sort""#,
            help: "the program and its arguments, quoted as in a shell; no shell runs it unless you name one (sh -c \"...\")",
        },
        ParamSpec {
            key: "input",
            kind: ParamKind::Text { max_len: 512 },
            default: r"python\ngo\nrust\n",
            help: r"communicate: the text written to its stdin (\n is a newline, \t a tab, \\ a backslash)",
        },
        ParamSpec {
            key: "timeout_ms",
            kind: ParamKind::Int {
                min: 10,
                max: 600_000,
            },
            default: "5000",
            help: "how long it may run; then it is killed, with everything it started",
        },
    ],
    run,
)
.with_chinese(
    "subprocess — 运行外部程序",
    "外部程序作为子进程：call 等待它的退出码，communicate 写入它的 stdin 并读取 stdout 和 stderr",
    include_str!("../../assets/lessons/subprocess.zh.md"),
)
.with_compare("mode", &["call", "communicate"])
.with_highlights(&[
    "command_pid",
    "returncode",
    "signal",
    "stdout_bytes",
    "stderr_bytes",
    "duration_ms",
]);

choice_enum! {
    /// How the program is run: for its exit code alone, or talked to through its pipes.
    pub(super) enum Mode {
        Call = "call",
        Communicate = "communicate",
    }
}

/// Output lines of each stream shown as they arrive (the counts cover all of them).
const SHOWN_LINES: usize = 20;
/// Characters kept of a shown line.
const SHOWN_CHARS: usize = 160;
/// Characters of the command line or of an output line repeated in a note: enough to
/// recognise it, short enough that the report stays one event line (long events travel in
/// parts, but a short report reads better everywhere).
const NOTE_CHARS: usize = 60;
/// How long, after the command exited, its pipes may stay open (held by something it left
/// running in the background) before conlab stops waiting for the end of its output.
const DRAIN_GRACE: Duration = Duration::from_millis(500);
/// How long a cancelled command gets to end on the SIGTERM its group received.
const CANCEL_GRACE: Duration = Duration::from_millis(200);
const POLL_MS: i32 = 10;
/// How long ending what the command left running may take.
const LEFTOVER_GRACE: Duration = Duration::from_secs(2);

fn run(probe: &Probe) -> Result<Findings, String> {
    let p = probe.params();
    let line = p.word("cmd").to_string();
    let words = crate::shell_words::split(&line)?;
    let (program, args) = words
        .split_first()
        .ok_or_else(|| "`cmd` is empty".to_string())?;
    let communicate = match p.choice::<Mode>("mode")? {
        Mode::Communicate => true,
        Mode::Call => false,
    };
    let input = if communicate {
        unescape(p.word("input"))
    } else {
        Vec::new()
    };
    let timeout = Duration::from_millis(p.int("timeout_ms") as u64);
    let me = std::process::id();

    probe.log(format!("$ {line}"));
    let mut command = Command::new(program);
    command
        .args(args)
        .stdin(if communicate {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // It stays in the runner's process group: a cancel (SIGTERM to the group) reaches it and
    // all it started, and so does the group's clean-up if the runner itself dies.
    crate::lifeline::die_with_parent(&mut command);
    let started = Instant::now();
    let mut child = command.spawn().map_err(|e| spawn_error(program, &e))?;
    let pid = child.id();
    probe.emit_as(
        pid,
        Body::Process {
            ppid: me,
            role: "command".into(),
        },
    );

    let mut talk = Talk::new(&mut child, input, pid);
    let end = talk.run(probe, &mut child, started + timeout);
    let duration = started.elapsed();
    // Whatever it left running (a shell's background job) came to the runner, a subreaper.
    let leftovers = crate::lifeline::end_descendants(LEFTOVER_GRACE);
    let exit = Exit::of(end.status);
    probe.emit_as(pid, Body::ProcessExit { exit });

    let mut metrics = Metrics::default();
    metrics.set("command_pid", i64::from(pid));
    let returncode = end
        .status
        .code()
        .or(end.status.signal().map(|s| -s))
        .unwrap_or(i32::MIN);
    metrics.set("returncode", i64::from(returncode));
    if let Some(signal) = end.status.signal() {
        metrics.set("signal", i64::from(signal));
    }
    if communicate {
        metrics.set("stdin_bytes", talk.written as u64);
    }
    metrics.set("stdout_bytes", talk.out.bytes);
    metrics.set("stdout_lines", talk.out.lines);
    metrics.set("stderr_bytes", talk.err.bytes);
    metrics.set("stderr_lines", talk.err.lines);
    if let Some(size) = talk.pipe_size {
        metrics.set("pipe_buffer_bytes", size);
    }
    metrics.set("timed_out", u64::from(end.timed_out));
    metrics.set("duration_ms", duration.as_secs_f64() * 1000.0);

    let mut notes = vec![format!(
        "$ {} → {exit} (Python's returncode {returncode}) after {:.1} ms",
        preview(&line, NOTE_CHARS),
        duration.as_secs_f64() * 1000.0
    )];
    if end.timed_out {
        notes.insert(
            0,
            format!(
                "timed out after {} ms: the command (pid {pid}) and what it started were killed — Python's timeout= raises TimeoutExpired",
                timeout.as_millis()
            ),
        );
    } else if let Some(signal) = end.status.signal() {
        notes.push(format!(
            "killed by {exit}: the kernel ended it, it chose no exit code; Python reports -{signal}"
        ));
    } else if returncode != 0 {
        notes.push(format!(
            "the command failed with exit code {returncode}: call() hands it back; check_call() would raise CalledProcessError"
        ));
    }
    notes.push(talk.out.summary());
    notes.push(talk.err.summary());
    if communicate {
        notes.push(format!(
            "communicate: wrote {} of {} bytes to its stdin, then closed it so the command saw the end of its input",
            talk.written,
            talk.input.len()
        ));
    } else {
        notes.push(
            "call: the command got no input (stdin is /dev/null); its output, which Python would let through to the terminal, is read here to show it"
                .to_string(),
        );
    }
    if let Some(size) = talk.pipe_size.filter(|s| talk.out.bytes > *s) {
        notes.push(format!(
            "stdout was {:.0}× the pipe buffer ({} KiB): reading it while the command ran kept the command from blocking on a full pipe",
            talk.out.bytes as f64 / size as f64,
            size / 1024
        ));
    }
    if end.pipes_left_open && !end.timed_out && !probe.cancelled() {
        notes.push(format!(
            "its output pipes were still held open {} ms after it exited, by something it left running",
            DRAIN_GRACE.as_millis()
        ));
    }
    if leftovers > 0 {
        notes.push(format!(
            "killed and reaped {leftovers} process{} the command left running, so nothing outlives the run",
            if leftovers == 1 { "" } else { "es" }
        ));
    }
    Ok(Findings {
        ok: !end.timed_out,
        wall_ms: probe.elapsed_ms(),
        metrics,
        notes: notes.into_iter().map(Text::from).collect(),
    })
}

/// A message that names the program, as a shell would.
fn spawn_error(program: &str, e: &std::io::Error) -> String {
    match e.kind() {
        ErrorKind::NotFound => format!("command not found: {program}"),
        ErrorKind::PermissionDenied => format!("permission denied: {program} cannot be executed"),
        _ => format!("could not start {program}: {e}"),
    }
}

/// `\n`, `\t`, `\r` and `\\` in a parameter's text, as the bytes they stand for.
fn unescape(text: &str) -> Vec<u8> {
    let mut out = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('\\') => out.push('\\'),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out.into_bytes()
}

/// One output pipe of the command: counted in full, its first lines shown as they come.
struct Stream {
    label: &'static str,
    pipe: Option<File>,
    bytes: u64,
    lines: u64,
    /// The line being read, up to [`SHOWN_CHARS`] bytes of it (the rest is only counted).
    partial: Vec<u8>,
    partial_len: usize,
    first: Vec<String>,
}

impl Stream {
    fn new(label: &'static str, pipe: Option<OwnedFd>) -> Stream {
        Stream {
            label,
            pipe: pipe.map(nonblocking),
            bytes: 0,
            lines: 0,
            partial: Vec::new(),
            partial_len: 0,
            first: Vec::new(),
        }
    }

    /// Reads what is there now; closes the pipe at its end.
    fn read_available(&mut self, probe: &Probe, pid: u32, buf: &mut [u8]) {
        loop {
            let Some(pipe) = self.pipe.as_mut() else {
                return;
            };
            match pipe.read(buf) {
                Ok(0) => {
                    self.close(probe, pid);
                    return;
                }
                Ok(n) => self.take(probe, pid, &buf[..n]),
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) if e.kind() == ErrorKind::WouldBlock => return,
                Err(_) => {
                    self.close(probe, pid);
                    return;
                }
            }
        }
    }

    fn take(&mut self, probe: &Probe, pid: u32, data: &[u8]) {
        self.bytes += data.len() as u64;
        for piece in data.split_inclusive(|b| *b == b'\n') {
            let (text, ends) = match piece.strip_suffix(b"\n") {
                Some(text) => (text, true),
                None => (piece, false),
            };
            let room = SHOWN_CHARS.saturating_sub(self.partial.len());
            self.partial
                .extend_from_slice(&text[..text.len().min(room)]);
            self.partial_len += text.len();
            if ends {
                self.end_line(probe, pid);
            }
        }
    }

    fn end_line(&mut self, probe: &Probe, pid: u32) {
        self.lines += 1;
        let shown = printable(&self.partial, self.partial_len);
        if self.first.len() < SHOWN_LINES {
            let text = match self.label {
                "stdout" => shown.clone(),
                other => format!("({other}) {shown}"),
            };
            probe.emit_as(pid, Body::Log { text });
            self.first.push(shown);
        }
        self.partial.clear();
        self.partial_len = 0;
    }

    fn close(&mut self, probe: &Probe, pid: u32) {
        if self.partial_len > 0 {
            self.end_line(probe, pid);
        }
        self.pipe = None;
    }

    fn summary(&self) -> String {
        let lines = if self.lines == 1 { "line" } else { "lines" };
        let mut s = format!(
            "{}: {} bytes, {} {lines}",
            self.label, self.bytes, self.lines
        );
        if let Some(first) = self.first.first() {
            s.push_str(&format!("; first: {}", preview(first, NOTE_CHARS)));
        }
        if self.lines > SHOWN_LINES as u64 {
            s.push_str(&format!(
                " (the first {SHOWN_LINES} lines are in the output)"
            ));
        }
        s
    }
}

/// A line as it can be shown: control characters as `·`, cut at [`SHOWN_CHARS`].
fn printable(kept: &[u8], full_len: usize) -> String {
    let mut text: String = crate::text_safe::printable(&String::from_utf8_lossy(kept))
        .chars()
        .take(SHOWN_CHARS)
        .collect();
    if full_len > kept.len() {
        text.push('…');
    }
    text
}

fn nonblocking(fd: OwnedFd) -> File {
    use nix::fcntl::{FcntlArg, OFlag, fcntl};
    let flags = fcntl(&fd, FcntlArg::F_GETFL).unwrap_or(0);
    let _ = fcntl(
        &fd,
        FcntlArg::F_SETFL(OFlag::from_bits_retain(flags) | OFlag::O_NONBLOCK),
    );
    File::from(fd)
}

/// The conversation with the command: input going in, both outputs coming out.
struct Talk {
    pid: u32,
    stdin: Option<File>,
    input: Vec<u8>,
    written: usize,
    out: Stream,
    err: Stream,
    pipe_size: Option<u64>,
}

/// How the conversation ended.
struct End {
    status: ExitStatus,
    timed_out: bool,
    pipes_left_open: bool,
}

impl Talk {
    fn new(child: &mut Child, input: Vec<u8>, pid: u32) -> Talk {
        let out = child.stdout.take().map(OwnedFd::from);
        let pipe_size = out.as_ref().and_then(|fd| {
            nix::fcntl::fcntl(fd, nix::fcntl::FcntlArg::F_GETPIPE_SZ)
                .ok()
                .map(|n| n as u64)
        });
        Talk {
            pid,
            stdin: child.stdin.take().map(OwnedFd::from).map(nonblocking),
            input,
            written: 0,
            out: Stream::new("stdout", out),
            err: Stream::new("stderr", child.stderr.take().map(OwnedFd::from)),
            pipe_size,
        }
    }

    /// Writes the input and reads both outputs as each becomes ready, until the command has
    /// exited and its output ended — or the deadline or a cancel ended it first.
    fn run(&mut self, probe: &Probe, child: &mut Child, deadline: Instant) -> End {
        let pid = Pid::from_raw(self.pid as i32);
        let mut buf = vec![0u8; 64 * 1024];
        let mut status = None;
        let mut exited_at = None;
        let mut timed_out = false;
        let mut cancel_seen: Option<Instant> = None;
        if self.input.is_empty() {
            self.stdin = None;
        }
        loop {
            if status.is_none() {
                match child.try_wait() {
                    Ok(Some(s)) => {
                        status = Some(s);
                        exited_at = Some(Instant::now());
                        // Nobody reads its stdin any more.
                        self.stdin = None;
                    }
                    Ok(None) => {}
                    Err(_) => {
                        let _ = child.kill();
                        status = child.wait().ok();
                        exited_at = Some(Instant::now());
                    }
                }
            }
            let open = self.out.pipe.is_some() || self.err.pipe.is_some();
            match (status, exited_at) {
                (Some(_), _) if !open => break,
                (Some(_), Some(at)) if at.elapsed() >= DRAIN_GRACE || timed_out => break,
                (None, _) => {
                    let now = Instant::now();
                    if !timed_out && now >= deadline {
                        timed_out = true;
                        let _ = kill(pid, Signal::SIGKILL);
                    }
                    if probe.cancelled() {
                        // The group's SIGTERM reached the command too; if it lingers, kill it.
                        let seen = *cancel_seen.get_or_insert(now);
                        if now.duration_since(seen) >= CANCEL_GRACE {
                            let _ = kill(pid, Signal::SIGKILL);
                        }
                    }
                }
                _ => {}
            }
            self.poll_once(probe, &mut buf);
        }
        let status = status.unwrap_or_else(|| {
            let _ = child.kill();
            child.wait().unwrap_or(ExitStatus::from_raw(0))
        });
        let pipes_left_open = self.out.pipe.is_some() || self.err.pipe.is_some();
        // Stop listening: whatever still holds the pipes gets EPIPE or is killed next.
        self.out.close(probe, self.pid);
        self.err.close(probe, self.pid);
        End {
            status,
            timed_out,
            pipes_left_open,
        }
    }

    /// One `poll(2)` over the pipes that are still open, for at most [`POLL_MS`].
    fn poll_once(&mut self, probe: &Probe, buf: &mut [u8]) {
        use nix::libc::{POLLERR, POLLHUP, POLLIN, POLLOUT, poll, pollfd};
        let mut fds: Vec<pollfd> = Vec::with_capacity(3);
        let entry = |f: &File, events| pollfd {
            fd: f.as_raw_fd(),
            events,
            revents: 0,
        };
        let out_at = self.out.pipe.as_ref().map(|f| {
            fds.push(entry(f, POLLIN));
            fds.len() - 1
        });
        let err_at = self.err.pipe.as_ref().map(|f| {
            fds.push(entry(f, POLLIN));
            fds.len() - 1
        });
        let in_at = self.stdin.as_ref().map(|f| {
            fds.push(entry(f, POLLOUT));
            fds.len() - 1
        });
        if fds.is_empty() {
            std::thread::sleep(Duration::from_millis(POLL_MS as u64));
            return;
        }
        // SAFETY: `fds` is a valid array of `fds.len()` pollfd structs for the whole call.
        let ready = unsafe { poll(fds.as_mut_ptr(), fds.len() as _, POLL_MS) };
        if ready <= 0 {
            return; // Timeout, or EINTR (a cancel signal): the caller looks again.
        }
        let fired = |at: Option<usize>, mask| at.is_some_and(|i| fds[i].revents & mask != 0);
        if fired(out_at, POLLIN | POLLHUP | POLLERR) {
            self.out.read_available(probe, self.pid, buf);
        }
        if fired(err_at, POLLIN | POLLHUP | POLLERR) {
            self.err.read_available(probe, self.pid, buf);
        }
        if fired(in_at, POLLOUT | POLLHUP | POLLERR) {
            self.write_some();
        }
    }

    /// Writes as much input as the pipe takes now; closes stdin at the end of the input, or
    /// when the command closed its end (EPIPE: it stopped reading, as `head` does).
    fn write_some(&mut self) {
        let Some(stdin) = self.stdin.as_mut() else {
            return;
        };
        while self.written < self.input.len() {
            match stdin.write(&self.input[self.written..]) {
                Ok(n) => self.written += n,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) if e.kind() == ErrorKind::WouldBlock => return,
                Err(_) => break,
            }
        }
        self.stdin = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_become_bytes() {
        assert_eq!(unescape(r"python\ngo\nrust\n"), b"python\ngo\nrust\n");
        assert_eq!(unescape(r"a\tb\\n\q\"), b"a\tb\\n\\q\\");
    }

    #[test]
    fn lines_are_shown_printable_and_cut() {
        assert_eq!(printable(b"a\0b\tc", 5), "a·b\tc");
        assert_eq!(printable(b"abc", 10), "abc…");
    }

    #[test]
    fn the_largest_report_still_fits_in_one_event_line() {
        use crate::event::Event;
        use crate::params::Params;
        use crate::report::Report;
        // Every parameter at its longest, made of characters JSON has to escape.
        let cmd = format!("sh -c '{}'", "\"".repeat(248));
        let input = "\\".repeat(512);
        let params = Params::from_assignments(
            SCENARIO.params,
            &[
                "mode=communicate".to_string(),
                format!("cmd={cmd}"),
                format!("input={input}"),
            ],
        )
        .unwrap();
        let mut out = Stream::new("stdout", None);
        let mut err = Stream::new("stderr", None);
        out.first.push(printable(&[b'\t'; SHOWN_CHARS], 1000));
        err.first.push(printable(&[b'\t'; SHOWN_CHARS], 1000));
        out.lines = 1000;
        err.lines = 1000;
        let mut metrics = Metrics::default();
        for name in SCENARIO.highlights().iter().chain(&[
            "stdin_bytes",
            "stdout_lines",
            "stderr_lines",
            "pipe_buffer_bytes",
            "timed_out",
        ]) {
            metrics.set(name, i64::MIN);
        }
        let notes = vec![
            format!(
                "timed out after 600000 ms: the command (pid 4194304) and what it started were killed — Python's timeout= raises TimeoutExpired"
            ),
            format!(
                "$ {} → signal 31 (SIGSYS) (Python's returncode -31) after 600000.0 ms",
                preview(&cmd, NOTE_CHARS)
            ),
            out.summary(),
            err.summary(),
            format!(
                "communicate: wrote 512 of 512 bytes to its stdin, then closed it so the command saw the end of its input"
            ),
            format!(
                "stdout was 99999× the pipe buffer (64 KiB): reading it while the command ran kept the command from blocking on a full pipe"
            ),
            format!(
                "its output pipes were still held open 500 ms after it exited, by something it left running"
            ),
            format!(
                "killed and reaped 4194304 processes the command left running, so nothing outlives the run"
            ),
        ];
        let report = Report {
            scenario: "subprocess".into(),
            params: params.to_json(),
            ok: false,
            wall_ms: 600_000.123,
            metrics,
            notes_zh: vec![],
            notes,
            cancelled: true,
            error: None,
            processes: vec![],
        };
        let line = Event::new(
            600_000.0,
            4_194_304,
            Body::Report {
                report: Box::new(report),
            },
        )
        .encode()
        .expect("the report fits in one event line");
        assert!(
            line.len() < 3600,
            "{} bytes: little margin left",
            line.len()
        );
    }

    #[test]
    fn previews_cut_on_characters() {
        assert_eq!(preview("héllo", 2), "hé…");
        assert_eq!(preview("hi", 2), "hi");
    }

    #[test]
    fn missing_programs_are_named() {
        let e = std::io::Error::from(ErrorKind::NotFound);
        assert_eq!(spawn_error("nope", &e), "command not found: nope");
    }
}
