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
const NOTE_CHARS: usize = 16;
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

    let outcome = Outcome {
        line: &line,
        pid,
        exit,
        returncode,
        duration_ms: duration.as_secs_f64() * 1000.0,
        timeout_ms: timeout.as_millis(),
        timed_out: end.timed_out,
        communicate,
        written: talk.written,
        input_len: talk.input.len(),
        out: &talk.out,
        err: &talk.err,
        pipe_size: talk.pipe_size,
        pipes_left_open: end.pipes_left_open,
        cancelled: probe.cancelled(),
        leftovers,
    };
    Ok(Findings {
        ok: !end.timed_out,
        wall_ms: probe.elapsed_ms(),
        metrics,
        notes: notes(&outcome),
    })
}

/// What a run of the command came to, for its notes.
struct Outcome<'a> {
    line: &'a str,
    pid: u32,
    exit: Exit,
    returncode: i32,
    duration_ms: f64,
    timeout_ms: u128,
    timed_out: bool,
    communicate: bool,
    written: usize,
    input_len: usize,
    out: &'a Stream,
    err: &'a Stream,
    pipe_size: Option<u64>,
    pipes_left_open: bool,
    cancelled: bool,
    leftovers: usize,
}

/// What the run shows: how the command ended, what came out of it and went into it, and what
/// it left behind — each as this run measured it.
fn notes(o: &Outcome) -> Vec<Text> {
    let (exit, returncode, pid) = (o.exit, o.returncode, o.pid);
    let line = preview(o.line, NOTE_CHARS);
    let ms = o.duration_ms;
    let mut notes = vec![Text::new(
        format!("$ {line} → {exit} (Python's returncode {returncode}) after {ms:.1} ms"),
        format!("$ {line} → {exit}（Python 的 returncode 为 {returncode}），用时 {ms:.1} ms"),
    )];
    if o.timed_out {
        let limit = o.timeout_ms;
        notes.insert(
            0,
            Text::new(
                format!(
                    "timed out after {limit} ms: the command (pid {pid}) and all it started were killed; Python raises TimeoutExpired"
                ),
                format!(
                    "{limit} ms 后超时：命令（pid {pid}）及其启动的进程都被杀掉；Python 会抛出 TimeoutExpired"
                ),
            ),
        );
    } else if matches!(exit, Exit::Signal(_)) {
        notes.push(Text::new(
            format!("killed by {exit}: the kernel ended it, so it chose no exit code"),
            format!("被 {exit} 终止：是内核结束了它，退出码不是它自己选的"),
        ));
    } else if returncode != 0 {
        notes.push(Text::new(
            format!(
                "the command failed with exit code {returncode}: call() hands it back; check_call() would raise CalledProcessError"
            ),
            format!(
                "命令失败，退出码 {returncode}：call() 把它原样返回；换成 check_call() 会抛出 CalledProcessError"
            ),
        ));
    }
    notes.push(o.out.summary());
    notes.push(o.err.summary());
    let (written, all) = (o.written, o.input_len);
    notes.push(match (o.communicate, written == all) {
        (true, true) => Text::new(
            format!("communicate: wrote all {all} bytes, then closed stdin: the end of its input"),
            format!("communicate：写完全部 {all} 字节后关闭 stdin，它读到了输入的结尾"),
        ),
        (true, false) => Text::new(
            format!("communicate: it stopped reading stdin after {written} of {all} bytes"),
            format!("communicate：它读了 {all} 字节中的 {written} 字节后就不再读 stdin"),
        ),
        (false, _) => Text::new(
            "call: its stdin was /dev/null (Python's call() would pass on its own)",
            "call：它的 stdin 是 /dev/null（Python 的 call() 会把自己的 stdin 传给它）",
        ),
    });
    if let Some(size) = o.pipe_size.filter(|s| o.out.bytes > *s) {
        let (times, kib) = (o.out.bytes as f64 / size as f64, size / 1024);
        notes.push(Text::new(
            format!(
                "stdout was {times:.0}× the pipe buffer ({kib} KiB): read as it came, it never blocked the command"
            ),
            format!("stdout 是管道缓冲区（{kib} KiB）的 {times:.0} 倍：边产生边读，命令没有因管道写满而阻塞"),
        ));
    }
    if o.pipes_left_open && !o.timed_out && !o.cancelled {
        let grace = DRAIN_GRACE.as_millis();
        notes.push(Text::new(
            format!("something it left running held its output open {grace} ms after it exited"),
            format!("它退出 {grace} ms 后，输出管道仍被它留下的进程占着"),
        ));
    }
    if o.leftovers > 0 {
        let n = o.leftovers;
        let es = if n == 1 { "" } else { "es" };
        notes.push(Text::new(
            format!("killed and reaped {n} process{es} the command left running"),
            format!("杀掉并回收了命令留下的 {n} 个进程"),
        ));
    }
    notes
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

    /// `stdout: 12 bytes, 2 lines; first: hello`, in both languages.
    fn summary(&self) -> Text {
        let (label, bytes, n) = (self.label, self.bytes, self.lines);
        let lines = if n == 1 { "line" } else { "lines" };
        let mut en = format!("{label}: {bytes} bytes, {n} {lines}");
        let mut zh = format!("{label}：{bytes} 字节，{n} 行");
        if let Some(first) = self.first.first() {
            let first = preview(first, NOTE_CHARS);
            en.push_str(&format!("; first: {first}"));
            zh.push_str(&format!("；第一行：{first}"));
        }
        if n > SHOWN_LINES as u64 {
            en.push_str(&format!(" ({SHOWN_LINES} logged)"));
            zh.push_str(&format!("（记录了 {SHOWN_LINES} 行）"));
        }
        Text::new(en, zh)
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
        out.bytes = 99_999 * 65_536;
        // Every kind of run (timed out or killed by a signal; call, or communicate that wrote
        // all or part of its input), with every note it can have at its longest.
        let outcome = |timed_out, communicate, written| Outcome {
            line: &cmd,
            pid: 4_194_304,
            exit: Exit::Signal(31),
            returncode: -31,
            duration_ms: 600_000.0,
            timeout_ms: 600_000,
            timed_out,
            communicate,
            written,
            input_len: 512,
            out: &out,
            err: &err,
            pipe_size: Some(65_536),
            pipes_left_open: true,
            cancelled: false,
            leftovers: 4_194_304,
        };
        for (i, o) in [
            outcome(true, true, 512),
            outcome(true, true, 511),
            outcome(true, false, 0),
            outcome(false, true, 512),
            outcome(false, true, 511),
            outcome(false, false, 0),
        ]
        .iter()
        .enumerate()
        {
            let notes = notes(o);
            let report = Report {
                scenario: "subprocess".into(),
                params: params.to_json(),
                ok: false,
                wall_ms: 600_000.123,
                metrics: metrics.clone(),
                notes: notes.iter().map(|n| n.en.clone()).collect(),
                notes_zh: notes.iter().map(|n| n.zh.clone()).collect(),
                cancelled: true,
                ..Report::default()
            };
            assert!(report.notes_zh.iter().all(|n| !n.is_empty()), "{report:?}");
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
                "run kind {i}: {} bytes, little margin left",
                line.len()
            );
        }
    }

    fn quiet_run(communicate: bool, written: usize, input_len: usize) -> Vec<Text> {
        let (out, err) = (Stream::new("stdout", None), Stream::new("stderr", None));
        notes(&Outcome {
            line: "head -c 3",
            pid: 7,
            exit: Exit::Code(0),
            returncode: 0,
            duration_ms: 1.0,
            timeout_ms: 5000,
            timed_out: false,
            communicate,
            written,
            input_len,
            out: &out,
            err: &err,
            pipe_size: Some(65_536),
            pipes_left_open: false,
            cancelled: false,
            leftovers: 0,
        })
    }

    /// `head -c 3` stops reading: the command never saw the end of an input it did not read.
    #[test]
    fn input_the_command_stopped_reading_is_not_said_to_have_ended() {
        let notes = quiet_run(true, 3, 10);
        let text: Vec<&str> = notes.iter().map(|n| n.en.as_str()).collect();
        assert!(
            !text.iter().any(|n| n.contains("end of its input")),
            "{text:?}"
        );
        assert!(
            text.contains(&"communicate: it stopped reading stdin after 3 of 10 bytes"),
            "{text:?}"
        );
        let text: Vec<String> = quiet_run(true, 10, 10).into_iter().map(|n| n.en).collect();
        assert!(
            text.iter().any(|n| n.contains("wrote all 10 bytes")),
            "{text:?}"
        );
    }

    /// Python's call() hands the command its own stdin; this one got /dev/null, and says both.
    #[test]
    fn call_says_what_its_stdin_was_and_what_python_would_give() {
        let notes = quiet_run(false, 0, 0);
        let call = notes
            .iter()
            .find(|n| n.en.starts_with("call:"))
            .expect("a call note");
        assert!(
            call.en.contains("/dev/null") && call.en.contains("would pass on its own"),
            "{call:?}"
        );
        assert!(notes.iter().all(Text::is_translated), "{notes:?}");
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
