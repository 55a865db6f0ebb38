//! The dashboard end to end: the real `conlab` binary in a pseudo-terminal, driven with keys
//! and signals, read back through a vt100 screen model.
//!
//! What every test checks afterwards ([`Tui::finish`]) is what a user would notice: the
//! dashboard exited (with the right status, within a bound), the terminal is back in its normal
//! state (alternate screen left, mouse reporting off, cooked mode), and no runner process
//! outlived it.
//!
//! The tests of a file run one at a time ([`serial`]): they start CPU-heavy runners on a small
//! machine, and they look at every process of a dashboard's session in /proc. Waits are
//! conditions polled every [`POLL`] with generous bounds, never fixed sleeps (the one pause is
//! the gap after a lone Esc, which a key sent right after would turn into Alt+key).

use super::{MARK_VAR, Stat, all_pids, become_subreaper, cmdline, lock, marked, new_mark, stat};
use nix::sys::signal::{Signal, kill};
use nix::sys::wait::{WaitPidFlag, waitpid};
use nix::unistd::Pid;
use portable_pty::{Child, CommandBuilder, ExitStatus, MasterPty, PtySize, SlavePty};
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The binary under test (`CARGO_BIN_EXE_conlab`), under a name of this test process's own.
pub fn conlab() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let built = Path::new(env!("CARGO_BIN_EXE_conlab"));
        // The dashboard starts its runners from its own executable's path. When another cargo
        // command in the same target directory relinks the binary while a test runs, that path
        // is gone and runs fail with "could not start: No such file or directory". A hard link
        // of our own keeps the inode this test process started with.
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("e2e");
        let _ = std::fs::create_dir_all(&dir);
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let name = entry.file_name();
            let owner = name.to_str().and_then(|n| n.strip_prefix("conlab-"));
            if owner.is_some_and(|pid| !Path::new("/proc").join(pid).exists()) {
                let _ = std::fs::remove_file(entry.path());
            }
        }
        let own = dir.join(format!("conlab-{}", std::process::id()));
        let _ = std::fs::remove_file(&own);
        if std::fs::hard_link(built, &own).is_ok() || std::fs::copy(built, &own).is_ok() {
            own
        } else {
            built.to_path_buf()
        }
    })
}

/// Bound for anything the dashboard shows or does (2 noisy cores on CI).
pub const LONG: Duration = Duration::from_secs(30);
/// Bound for the dashboard to exit once asked, and for processes to disappear.
pub const EXIT: Duration = Duration::from_secs(20);
pub const POLL: Duration = Duration::from_millis(50);

/// Enter, as a terminal in raw mode sends it.
pub const ENTER: &str = "\r";
pub const TAB: &str = "\t";
pub const BACKSPACE: &str = "\x7f";
pub const CTRL_C: &str = "\x03";

/// Text on screen that means a run went wrong; waiting on is pointless.
pub const FATAL: &[&str] = &[
    "✗ failed",
    "could not start",
    "without a report",
    "runner stderr:",
];

/// The menu's title in each language: on screen once the first frame is.
pub const MENU_TITLES: [&str; 2] = ["Scenarios", " 实验 "];

static SERIAL: Mutex<()> = Mutex::new(());

/// Runs tests one at a time and makes this process the subreaper of everything it starts:
/// a runner orphaned by a dashboard that died (the panic test) comes here, where it is
/// reaped, instead of to PID 1, which on some machines never reaps.
pub fn serial() -> MutexGuard<'static, ()> {
    let guard = lock(&SERIAL);
    become_subreaper();
    guard
}

// ---------------------------------------------------------------------------------------
// /proc

/// Every process (zombies included) in the session `sid`, or whose parent is `sid`.
/// The dashboard is the leader of its own session (the pty made it so) and its runners only
/// change process group, so this is everything the dashboard started, wherever it was
/// reparented to.
pub fn session_members(sid: i32) -> Vec<(i32, Stat)> {
    all_pids()
        .into_iter()
        .filter(|pid| *pid != sid)
        .filter_map(|pid| Some((pid, stat(pid)?)))
        .filter(|(_, s)| s.session == sid || s.ppid == sid)
        .collect()
}

pub fn describe(pid: i32) -> String {
    match stat(pid) {
        Some(s) => format!(
            "pid {pid} state {} ppid {} session {} `{}`",
            s.state,
            s.ppid,
            s.session,
            cmdline(pid)
        ),
        None => format!("pid {pid} (gone)"),
    }
}

/// Reaps the zombies of session `sid` that were reparented to this process. Returns them.
pub fn reap_orphans(sid: i32) -> Vec<i32> {
    let me = std::process::id() as i32;
    let mut reaped = Vec::new();
    for (pid, s) in session_members(sid) {
        if s.ppid == me && s.state == 'Z' {
            let _ = waitpid(Pid::from_raw(pid), Some(WaitPidFlag::WNOHANG));
            reaped.push(pid);
        }
    }
    reaped
}

// ---------------------------------------------------------------------------------------
// Screen text

/// The runner PIDs the screen shows: `runner pid NNN` in the status line, and the PID column
/// of the processes panel (rows `PID PPID [#RUN] ROLE ...`).
pub fn screen_pids(text: &str) -> Vec<i32> {
    let mut pids = Vec::new();
    for line in text.lines() {
        let mut rest = line;
        while let Some(at) = rest.find("runner pid ") {
            rest = &rest[at + "runner pid ".len()..];
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            if let Ok(pid) = digits.parse() {
                pids.push(pid);
            }
        }
        for segment in line.split('│') {
            let tokens: Vec<&str> = segment.split_whitespace().collect();
            for w in tokens.windows(3) {
                let number = |t: &str| !t.is_empty() && t.chars().all(|c| c.is_ascii_digit());
                let run_or_role = w[2].strip_prefix('#').is_some_and(number)
                    || w[2].starts_with(|c: char| c.is_ascii_alphabetic());
                if number(w[0])
                    && number(w[1])
                    && run_or_role
                    && let Ok(pid) = w[0].parse()
                {
                    pids.push(pid);
                }
            }
        }
    }
    pids
}

/// Whether `bytes` hold an absolute cursor move (`ESC [ row ; col H`), as every frame does.
fn has_cursor_move(bytes: &[u8]) -> bool {
    let mut i = 0;
    while i + 1 < bytes.len() {
        if bytes[i] == 0x1b && bytes[i + 1] == b'[' {
            let mut j = i + 2;
            while j < bytes.len() && (bytes[j].is_ascii_digit() || bytes[j] == b';') {
                j += 1;
            }
            if j < bytes.len() && bytes[j] == b'H' && j > i + 2 {
                return true;
            }
        }
        i += 1;
    }
    false
}

fn rfind(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).rposition(|w| w == needle)
}

// ---------------------------------------------------------------------------------------
// The harness

/// One `conlab` dashboard in a pseudo-terminal.
pub struct Tui {
    child: Box<dyn Child + Send + Sync>,
    /// The PID of what the pty runs, also its session ID: the dashboard, or the shell that
    /// started it ([`Tui::start_in_shell`]).
    pub pid: i32,
    /// `None` once the terminal was closed ([`Tui::close_terminal`]).
    master: Option<Box<dyn MasterPty + Send>>,
    /// Kept open until the end, so the terminal's settings can be read after the dashboard
    /// exits.
    slave: Option<Box<dyn SlavePty + Send>>,
    writer: Box<dyn Write + Send>,
    parser: Arc<Mutex<vt100::Parser>>,
    raw: Arc<Mutex<Vec<u8>>>,
    reader: Option<JoinHandle<()>>,
    /// Tells the reader thread to let go of the terminal.
    closing: Arc<std::sync::atomic::AtomicBool>,
    status: Option<ExitStatus>,
    /// In the environment of the dashboard and so of everything it starts: what is still
    /// alive after the dashboard exited is found by it (see [`super::marked`]).
    pub mark: String,
    /// Every runner seen (on screen or in /proc) and every process watched, with its start
    /// time when seen alive in the dashboard's session.
    pub runners: BTreeMap<i32, Option<u64>>,
    /// Zombies this process had to reap because the dashboard had died.
    orphans_reaped: Vec<i32>,
}

impl Tui {
    /// The dashboard opened on `scenario` (`--scenario`) in a `cols` x `rows` terminal.
    pub fn start(scenario: &str, cols: u16, rows: u16) -> Tui {
        Tui::start_with(scenario, cols, rows, &[])
    }

    /// As [`Tui::start`], with `env` added to the dashboard's environment.
    pub fn start_with(scenario: &str, cols: u16, rows: u16, env: &[(&str, &str)]) -> Tui {
        Tui::launch(scenario, cols, rows, env, &[])
    }

    /// As [`Tui::start`], with `args` added to the dashboard's command line.
    pub fn start_with_args(scenario: &str, cols: u16, rows: u16, args: &[&str]) -> Tui {
        Tui::launch(scenario, cols, rows, &[], args)
    }

    fn launch(scenario: &str, cols: u16, rows: u16, env: &[(&str, &str)], args: &[&str]) -> Tui {
        let mut cmd = Tui::command(conlab().as_os_str());
        cmd.args(["--scenario", scenario]);
        cmd.args(args);
        for (key, value) in env {
            cmd.env(key, value);
        }
        let mut tui = Tui::open(cmd, cols, rows);
        tui.wait_for_first_frame(scenario);
        tui
    }

    /// `conlab watch ARGS…` in a `cols` x `rows` terminal, once its watch panel is up.
    pub fn start_watching(args: &[&str], cols: u16, rows: u16) -> Tui {
        let mut cmd = Tui::command(conlab().as_os_str());
        cmd.arg("watch");
        cmd.args(args);
        let mut tui = Tui::open(cmd, cols, rows);
        tui.wait_for("the watch panel", |t| {
            t.contains("Watch · ") && t.contains("cpu0")
        });
        tui
    }

    /// `conlab replay FILE` in a `cols` x `rows` terminal, once its first frame is up.
    pub fn start_replay(recording: &Path, cols: u16, rows: u16) -> Tui {
        let mut cmd = Tui::command(conlab().as_os_str());
        cmd.arg("replay");
        cmd.arg(recording.as_os_str());
        let mut tui = Tui::open(cmd, cols, rows);
        tui.wait_for("the replay's first frame", |t| t.contains("replay ·"));
        assert!(
            tui.is_raw(),
            "the replay is up but the terminal is not in raw mode"
        );
        tui
    }

    /// `conlab args...` that is not the dashboard (`master`, `worker`), in a `cols` x `rows`
    /// terminal of its own, as a user types it; nothing is awaited.
    pub fn start_command(args: &[&str], cols: u16, rows: u16) -> Tui {
        let mut cmd = Tui::command(conlab().as_os_str());
        cmd.args(args);
        Tui::open(cmd, cols, rows)
    }

    /// The dashboard opened on `scenario` by an interactive `sh` with job control, as a user
    /// starts it from a shell (`sh` leads the session here, the dashboard is its job). Returns
    /// the dashboard's PID too.
    pub fn start_in_shell(scenario: &str, cols: u16, rows: u16) -> (Tui, i32) {
        let mut cmd = Tui::command("sh".as_ref());
        cmd.arg("-i");
        cmd.env("PS1", "$ ");
        cmd.env_remove("ENV");
        let mut tui = Tui::open(cmd, cols, rows);
        tui.wait_for("the shell's prompt", |t| t.contains("$ "));
        let line = format!("'{}' --scenario {scenario}\r", conlab().display());
        tui.send(&line);
        tui.wait_for_first_frame(scenario);
        let dashboard = session_members(tui.pid)
            .into_iter()
            .map(|(pid, _)| pid)
            .find(|pid| cmdline(*pid).contains("--scenario"))
            .unwrap_or_else(|| panic!("no dashboard in the shell's session\n{}", tui.dump()));
        (tui, dashboard)
    }

    /// `program` to run in the pty: in the project's directory, with a terminal type, in
    /// English whatever the locale of whoever runs the tests (a test of Chinese asks for it),
    /// and without the panic trigger unless a test sets it.
    fn command(program: &std::ffi::OsStr) -> CommandBuilder {
        let mut cmd = CommandBuilder::new(program);
        cmd.cwd(env!("CARGO_MANIFEST_DIR"));
        cmd.env("TERM", "xterm-256color");
        cmd.env_remove("LC_ALL");
        cmd.env_remove("LC_MESSAGES");
        cmd.env("LANG", "C.UTF-8");
        cmd.env_remove("CONLAB_TEST_PANIC_KEY");
        cmd
    }

    /// `cmd` started in a new `cols` x `rows` pseudo-terminal, as the leader of its session.
    fn open(mut cmd: CommandBuilder, cols: u16, rows: u16) -> Tui {
        let pair = portable_pty::native_pty_system()
            .openpty(PtySize {
                rows,
                cols,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("openpty");
        // Everything the terminal's program starts inherits the mark: what outlives it is
        // found by it.
        let mark = new_mark("tui");
        cmd.env(MARK_VAR, &mark);
        let child = pair.slave.spawn_command(cmd).expect("spawn in the pty");
        let pid = child.process_id().expect("child pid") as i32;

        let nonzero = |n: u16| std::num::NonZeroU16::new(n).expect("a non-empty terminal");
        let parser = Arc::new(Mutex::new(vt100::Parser::new(
            nonzero(rows),
            nonzero(cols),
            0,
        )));
        let raw = Arc::new(Mutex::new(Vec::new()));
        let mut reader = pair.master.try_clone_reader().expect("pty reader");
        let master_fd = pair.master.as_raw_fd().expect("the pty's fd");
        let closing = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let reader = {
            let (parser, raw, closing) = (parser.clone(), raw.clone(), closing.clone());
            std::thread::Builder::new()
                .name("pty-reader".into())
                .spawn(move || {
                    let mut buf = [0u8; 16384];
                    loop {
                        // Waits in poll, not read, so closing the terminal can stop it. The
                        // reader is a duplicate of the master: the same open terminal.
                        if closing.load(std::sync::atomic::Ordering::SeqCst) {
                            return;
                        }
                        let mut fds = [nix::libc::pollfd {
                            fd: master_fd,
                            events: nix::libc::POLLIN,
                            revents: 0,
                        }];
                        // SAFETY: one valid pollfd; the master outlives this thread (joined
                        // before the master is dropped).
                        if unsafe { nix::libc::poll(fds.as_mut_ptr(), 1, 50) } <= 0 {
                            continue;
                        }
                        match reader.read(&mut buf) {
                            Ok(0) => return,
                            Ok(n) => {
                                // The screen first: whoever sees bytes in `raw` finds them on
                                // the screen too.
                                lock(&parser).process(&buf[..n]);
                                lock(&raw).extend_from_slice(&buf[..n]);
                            }
                            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                            // EIO: every slave side is closed.
                            Err(_) => return,
                        }
                    }
                })
                .expect("reader thread")
        };
        let writer = pair.master.take_writer().expect("pty writer");
        Tui {
            child,
            pid,
            master: Some(pair.master),
            slave: Some(pair.slave),
            writer,
            parser,
            raw,
            reader: Some(reader),
            closing,
            status: None,
            mark,
            runners: BTreeMap::new(),
            orphans_reaped: Vec::new(),
        }
    }

    /// Keys typed before raw mode is on would go through the line discipline: waits for the
    /// first full frame.
    fn wait_for_first_frame(&mut self, scenario: &str) {
        self.wait_for("the first frame", |t| {
            let menu = MENU_TITLES.iter().any(|title| t.contains(title));
            menu && t.contains(scenario) && t.contains("cpu0")
        });
        assert!(
            self.is_raw(),
            "the dashboard is up but the terminal is not in raw mode"
        );
    }

    /// The screen as text.
    pub fn text(&self) -> String {
        lock(&self.parser).screen().contents()
    }

    /// Everything the dashboard wrote to the terminal so far.
    pub fn raw(&self) -> Vec<u8> {
        lock(&self.raw).clone()
    }

    pub fn send(&mut self, keys: &str) {
        self.writer.write_all(keys.as_bytes()).expect("write keys");
        self.writer.flush().expect("flush keys");
    }

    /// `text` as a terminal delivers a paste when the program asked for bracketed paste:
    /// between `ESC [200~` and `ESC [201~`, in one write.
    pub fn paste(&mut self, text: &str) {
        self.send(&format!("\x1b[200~{text}\x1b[201~"));
    }

    /// Sends `signal` to the dashboard.
    pub fn signal(&self, signal: Signal) {
        kill(Pid::from_raw(self.pid), signal).expect("signal the dashboard");
    }

    /// Resizes the terminal, as a user dragging the window would: the pty's size changes
    /// (the dashboard gets SIGWINCH) and so does the screen model's.
    pub fn resize(&mut self, cols: u16, rows: u16) {
        self.master
            .as_ref()
            .expect("the terminal is open")
            .resize(PtySize {
                rows,
                cols,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("resize the pty");
        lock(&self.parser).set_size(
            std::num::NonZeroU16::new(rows).expect("rows"),
            std::num::NonZeroU16::new(cols).expect("cols"),
        );
    }

    /// Esc alone: a key right after it would be read as Alt+key, so leave a gap.
    pub fn send_esc(&mut self) {
        self.send("\x1b");
        std::thread::sleep(Duration::from_millis(250));
    }

    /// Sets one parameter through the form, as a user would: `e` opens the form of
    /// `scenario`, Tab moves the focus field by field to the one to set (`fields`: the name of
    /// each field the focus reaches, and the help line it shows when focused), `erase`
    /// backspaces clear it, `value` is typed, and Enter applies it. Returns once the form has
    /// closed and the screen shows `applied`.
    pub fn set_parameter(
        &mut self,
        scenario: &str,
        fields: &[(&str, &str)],
        erase: usize,
        value: &str,
        applied: &str,
    ) {
        let form = format!("Parameters of {scenario}");
        self.send("e");
        self.wait_for("the parameter form", |t| t.contains(&form));
        for (name, help) in fields {
            self.send(TAB);
            self.wait_for(&format!("focus on {name}"), |t| t.contains(help));
        }
        let name = fields.last().map_or("value", |(name, _)| name);
        self.send(&BACKSPACE.repeat(erase));
        self.send(value);
        // A long value scrolls in its field: its end shows, next to the cursor.
        let end: String = {
            let chars: Vec<char> = value.chars().collect();
            chars[chars.len().saturating_sub(24)..].iter().collect()
        };
        let typed = format!("{end}▏");
        self.wait_for(&format!("the typed {name}"), |t| t.contains(&typed));
        self.send(ENTER);
        self.wait_for("the applied parameters", |t| {
            t.contains(applied) && !t.contains(&form)
        });
    }

    /// Adds `pids` to the processes that must be gone once the dashboard has exited (see
    /// [`Tui::assert_no_leftovers`]).
    pub fn watch(&mut self, pids: &[i32]) {
        for &pid in pids {
            if !self.runners.contains_key(&pid) {
                let start = stat(pid).filter(|s| s.session == self.pid).map(|s| s.start);
                self.runners.insert(pid, start);
            }
        }
    }

    /// Notes runner PIDs from the screen and from the dashboard's session in /proc.
    fn track(&mut self, text: &str) {
        self.watch(&screen_pids(text));
        for (pid, s) in session_members(self.pid) {
            let known = self.runners.entry(pid).or_insert(None);
            if known.is_none() {
                *known = Some(s.start);
            }
        }
    }

    pub fn exited(&mut self) -> bool {
        if self.status.is_none()
            && let Ok(Some(status)) = self.child.try_wait()
        {
            self.status = Some(status);
        }
        self.status.is_some()
    }

    /// The screen, the last bytes written and the exit status, for a failure message.
    pub fn dump(&self) -> String {
        let raw = lock(&self.raw);
        let tail = &raw[raw.len().saturating_sub(600)..];
        format!(
            "--- screen ---\n{}\n--- last raw bytes ---\n{:?}\n--- exit: {:?}",
            self.text(),
            String::from_utf8_lossy(tail),
            self.status
        )
    }

    /// Polls the screen until `done` holds; fails on timeout, on a run that went wrong, or
    /// when the dashboard exits meanwhile.
    pub fn wait_for(&mut self, what: &str, done: impl Fn(&str) -> bool) -> String {
        match self.try_wait_for(what, LONG, done) {
            Ok(text) => text,
            Err(_) => panic!(
                "timed out after {LONG:?} waiting for {what}\n{}",
                self.dump()
            ),
        }
    }

    /// Polls the screen until `done` holds, for at most `bound`; the last screen on timeout.
    /// Fails on a run that went wrong, or when the dashboard exits meanwhile.
    pub fn try_wait_for(
        &mut self,
        what: &str,
        bound: Duration,
        done: impl Fn(&str) -> bool,
    ) -> Result<String, String> {
        self.poll_screen(what, bound, FATAL, done)
    }

    /// As [`Tui::wait_for`], for a run that is to fail: what [`FATAL`] lists is what the
    /// screen should come to show, not a reason to stop waiting.
    pub fn wait_for_failed_run(&mut self, what: &str, done: impl Fn(&str) -> bool) -> String {
        match self.poll_screen(what, LONG, &[], done) {
            Ok(text) => text,
            Err(_) => panic!(
                "timed out after {LONG:?} waiting for {what}\n{}",
                self.dump()
            ),
        }
    }

    /// Polls the screen until `done` holds, for at most `bound`; the last screen on timeout.
    /// Fails on text in `fatal`, or when the dashboard exits meanwhile.
    fn poll_screen(
        &mut self,
        what: &str,
        bound: Duration,
        fatal: &[&str],
        done: impl Fn(&str) -> bool,
    ) -> Result<String, String> {
        let deadline = Instant::now() + bound;
        loop {
            let text = self.text();
            self.track(&text);
            if done(&text) {
                return Ok(text);
            }
            if let Some(bad) = fatal.iter().find(|f| text.contains(**f)) {
                panic!(
                    "`{bad}` on screen while waiting for {what}\n{}",
                    self.dump()
                );
            }
            if self.exited() {
                panic!(
                    "the dashboard exited while waiting for {what}\n{}",
                    self.dump()
                );
            }
            if Instant::now() > deadline {
                return Err(text);
            }
            std::thread::sleep(POLL);
        }
    }

    pub fn wait_exit(&mut self) -> ExitStatus {
        let deadline = Instant::now() + EXIT;
        while !self.exited() {
            if Instant::now() > deadline {
                panic!(
                    "the dashboard did not exit within {EXIT:?}\n{}",
                    self.dump()
                );
            }
            let text = self.text();
            self.track(&text);
            std::thread::sleep(POLL);
        }
        self.status.clone().expect("exited")
    }

    /// Closes the terminal as a terminal emulator's window closing does: every handle on the
    /// master side goes, and the kernel hangs the terminal up (SIGHUP to the dashboard, its
    /// controlling process; EIO on its reads and writes). The screen stays as it was.
    pub fn close_terminal(&mut self) {
        self.closing
            .store(true, std::sync::atomic::Ordering::SeqCst);
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
        self.writer = Box::new(std::io::sink());
        self.master = None;
        // The slave, held open to read the terminal's settings, would keep it from hanging up.
        self.slave = None;
    }

    /// Whether the terminal is in raw mode (no line editing, no echo).
    pub fn is_raw(&self) -> bool {
        let (icanon, echo) = self.lflags();
        !icanon && !echo
    }

    /// ICANON and ECHO of the pty, read from the master side.
    fn lflags(&self) -> (bool, bool) {
        let master = self.master.as_ref().expect("the terminal is open");
        let termios = master.get_termios().expect("termios of the pty");
        let bits = termios.local_flags.bits();
        (bits & nix::libc::ICANON != 0, bits & nix::libc::ECHO != 0)
    }

    /// After the dashboard exited: the terminal is given back (see
    /// [`Tui::terminal_given_back`]).
    pub fn assert_restored(&mut self) {
        assert!(self.status.is_some(), "assert_restored before the exit");
        self.assert_given_back("exited");
    }

    /// The terminal is given back (see [`Tui::terminal_given_back`]), once the reader thread
    /// has drained what the dashboard wrote: polled for a bounded time. `when` goes into the
    /// failure message.
    pub fn assert_given_back(&self, when: &str) {
        let deadline = Instant::now() + EXIT;
        while let Err(problem) = self.terminal_given_back() {
            if Instant::now() > deadline {
                panic!("{when}, but {problem}\n{}", self.dump());
            }
            std::thread::sleep(POLL);
        }
    }

    /// Whether the terminal is as a shell expects it, with the dashboard gone or stopped: the
    /// last frame was followed by leaving the alternate screen, mouse reporting and bracketed
    /// paste are off, the cursor shows, and the pty is back in cooked mode. What is wrong, if
    /// anything.
    pub fn terminal_given_back(&self) -> Result<(), String> {
        {
            let raw = lock(&self.raw);
            let enter = rfind(&raw, b"\x1b[?1049h");
            let leave = rfind(&raw, b"\x1b[?1049l");
            let leave_at = match (enter, leave) {
                (Some(e), Some(l)) if l > e => l,
                _ => {
                    return Err(
                        "no `ESC[?1049l` (leave the alternate screen) after the last entering"
                            .into(),
                    );
                }
            };
            let after = &raw[leave_at..];
            if has_cursor_move(after) {
                return Err(format!(
                    "a frame was drawn after leaving the alternate screen: {:?}",
                    String::from_utf8_lossy(after)
                ));
            }
            if !has_cursor_move(&raw[..leave_at]) {
                return Err("no frame was ever drawn".into());
            }
        }
        {
            let parser = lock(&self.parser);
            let screen = parser.screen();
            if screen.alternate_screen() {
                return Err("the terminal is still on the alternate screen".into());
            }
            if screen.mouse_protocol_mode() != vt100::MouseProtocolMode::None {
                return Err("mouse reporting was left on".into());
            }
            if screen.bracketed_paste() {
                return Err("bracketed paste was left on".into());
            }
            if screen.hide_cursor() {
                return Err("the cursor was left hidden".into());
            }
        }
        let (icanon, echo) = self.lflags();
        if !(icanon && echo) {
            return Err(format!(
                "the pty was left in raw mode: ICANON {icanon}, ECHO {echo}"
            ));
        }
        Ok(())
    }

    /// The dashboard is in the terminal: alternate screen, mouse reporting and bracketed
    /// paste on, raw mode. What is missing, if anything.
    pub fn terminal_taken(&self) -> Result<(), String> {
        {
            let parser = lock(&self.parser);
            let screen = parser.screen();
            if !screen.alternate_screen() {
                return Err("not on the alternate screen".into());
            }
            if screen.mouse_protocol_mode() == vt100::MouseProtocolMode::None {
                return Err("mouse reporting is off".into());
            }
            if !screen.bracketed_paste() {
                return Err("bracketed paste is off".into());
            }
        }
        if !self.is_raw() {
            return Err("the pty is not in raw mode".into());
        }
        Ok(())
    }

    /// Every runner seen (and process watched) has disappeared from /proc (reaped, not a
    /// zombie), and nothing of the dashboard's session is left. With `allow_orphans`, zombies
    /// reparented to this process (the dashboard died without reaping them) are reaped here
    /// and accepted.
    pub fn assert_no_leftovers(&mut self, allow_orphans: bool) {
        assert!(self.status.is_some(), "assert_no_leftovers before the exit");
        assert!(
            !self.runners.is_empty(),
            "no runner was ever seen, the test proves nothing\n{}",
            self.dump()
        );
        let deadline = Instant::now() + EXIT;
        loop {
            if allow_orphans {
                let reaped = reap_orphans(self.pid);
                self.orphans_reaped.extend(reaped);
            }
            let alive: Vec<i32> = self
                .runners
                .iter()
                .filter(|(pid, start)| match (stat(**pid), start) {
                    (Some(s), Some(start)) => s.start == *start,
                    (Some(s), None) => s.session == self.pid,
                    (None, _) => false,
                })
                .map(|(pid, _)| *pid)
                .collect();
            let session = session_members(self.pid);
            let marked = marked(&self.mark);
            if alive.is_empty() && session.is_empty() && marked.is_empty() {
                return;
            }
            if Instant::now() > deadline {
                let alive: Vec<String> = alive.iter().map(|p| describe(*p)).collect();
                let session: Vec<String> = session.iter().map(|(p, _)| describe(*p)).collect();
                let marked: Vec<String> = marked.iter().map(|p| describe(*p)).collect();
                panic!(
                    "processes outlived the dashboard (pid {}) by {EXIT:?}:\nrunners: {alive:#?}\nsession: {session:#?}\nmarked as started by it: {marked:#?}\nrunners seen: {:?}",
                    self.pid,
                    self.runners.keys().collect::<Vec<_>>()
                );
            }
            std::thread::sleep(POLL);
        }
    }

    /// The end of every test: exit status, restored terminal, no leftovers.
    pub fn finish(&mut self, expect_success: bool, allow_orphans: bool) -> ExitStatus {
        let status = self.wait_exit();
        assert_eq!(
            status.success(),
            expect_success,
            "exit status {status:?}\n{}",
            self.dump()
        );
        self.assert_restored();
        self.assert_no_leftovers(allow_orphans);
        eprintln!(
            "dashboard {} exited with {status:?}; runners seen {:?}; orphans reaped here {:?}",
            self.pid,
            self.runners.keys().collect::<Vec<_>>(),
            self.orphans_reaped
        );
        status
    }
}

impl Drop for Tui {
    /// Whatever happened, leave nothing behind: kill the dashboard and its session, reap
    /// everything that became ours, close the pty and let the reader thread end.
    fn drop(&mut self) {
        if !self.exited() {
            let _ = kill(Pid::from_raw(self.pid), Signal::SIGKILL);
            let _ = self.child.wait();
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let members = session_members(self.pid);
            if members.is_empty() || Instant::now() > deadline {
                break;
            }
            for (pid, s) in members {
                if s.state != 'Z' {
                    let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
                }
            }
            for pid in marked(&self.mark) {
                let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
            }
            reap_orphans(self.pid);
            std::thread::sleep(Duration::from_millis(20));
        }
        self.slave.take();
        if let Some(reader) = self.reader.take() {
            let deadline = Instant::now() + Duration::from_secs(2);
            while !reader.is_finished() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(10));
            }
            if reader.is_finished() {
                let _ = reader.join();
            }
        }
    }
}
