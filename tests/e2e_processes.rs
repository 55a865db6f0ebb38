//! End to end for the process scenarios: the real dashboard in a pseudo-terminal, read back
//! through a vt100 screen model. `fork`: Enter runs it, the screen shows the parent's and the
//! child's lines — two PIDs that point at each other — and the child's exit in the processes
//! panel; `q` quits, the terminal is restored, and nothing of the session is left.
//!
//! The harness is a small copy of the one in `tests/e2e.rs` (that file is being extended
//! elsewhere; a shared `tests/common` can come when both settle). Waits are polled conditions
//! with generous bounds, never fixed sleeps.

use nix::sys::signal::{Signal, kill};
use nix::sys::wait::{WaitPidFlag, waitpid};
use nix::unistd::Pid;
use portable_pty::{Child, CommandBuilder, ExitStatus, MasterPty, PtySize, SlavePty};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The binary under test, hard-linked under a name of this test process's own, so a relink
/// by another cargo command in the same target directory cannot pull it away mid-test.
fn conlab() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let built = Path::new(env!("CARGO_BIN_EXE_conlab"));
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("e2e-processes");
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
const LONG: Duration = Duration::from_secs(30);
/// Bound for the dashboard to exit once asked, and for processes to disappear.
const EXIT: Duration = Duration::from_secs(20);
const POLL: Duration = Duration::from_millis(50);
const ENTER: &str = "\r";

static SERIAL: Mutex<()> = Mutex::new(());

/// One test at a time, and this process as the subreaper of everything it starts: an orphan
/// comes here, where it is seen and reaped, instead of to PID 1.
fn serial() -> MutexGuard<'static, ()> {
    let guard = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    nix::sys::prctl::set_child_subreaper(true).expect("PR_SET_CHILD_SUBREAPER");
    guard
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

// ---------------------------------------------------------------------------------------
// /proc

#[derive(Debug, Clone, Copy)]
struct Stat {
    state: char,
    ppid: i32,
    session: i32,
}

fn stat(pid: i32) -> Option<Stat> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let f: Vec<&str> = text[text.rfind(')')? + 2..].split_whitespace().collect();
    Some(Stat {
        state: f.first()?.chars().next()?,
        ppid: f.get(1)?.parse().ok()?,
        session: f.get(3)?.parse().ok()?,
    })
}

fn cmdline(pid: i32) -> String {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .map(|b| String::from_utf8_lossy(&b).replace('\0', " "))
        .unwrap_or_default()
}

/// Every process (zombies included) of the session `sid` — the dashboard leads its own
/// session in the pty, and all it starts stays in it — or whose parent is `sid`.
fn session_members(sid: i32) -> Vec<(i32, Stat)> {
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| *pid != sid)
        .filter_map(|pid| Some((pid, stat(pid)?)))
        .filter(|(_, s)| s.session == sid || s.ppid == sid)
        .collect()
}

fn describe(pid: i32) -> String {
    match stat(pid) {
        Some(s) => format!(
            "pid {pid} state {} ppid {} `{}`",
            s.state,
            s.ppid,
            cmdline(pid).trim()
        ),
        None => format!("pid {pid} (gone)"),
    }
}

// ---------------------------------------------------------------------------------------
// The dashboard in a pty

struct Tui {
    child: Box<dyn Child + Send + Sync>,
    /// The dashboard's PID, also its session ID.
    pid: i32,
    master: Box<dyn MasterPty + Send>,
    slave: Option<Box<dyn SlavePty + Send>>,
    writer: Box<dyn Write + Send>,
    parser: Arc<Mutex<vt100::Parser>>,
    reader: Option<JoinHandle<()>>,
    status: Option<ExitStatus>,
}

impl Tui {
    fn start(cols: u16, rows: u16, args: &[&str]) -> Tui {
        let pair = portable_pty::native_pty_system()
            .openpty(PtySize {
                rows,
                cols,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("openpty");
        let mut cmd = CommandBuilder::new(conlab());
        cmd.args(args);
        cmd.cwd(env!("CARGO_MANIFEST_DIR"));
        cmd.env("TERM", "xterm-256color");
        cmd.env_remove("CONLAB_TEST_PANIC_KEY");
        let child = pair.slave.spawn_command(cmd).expect("spawn conlab");
        let pid = child.process_id().expect("child pid") as i32;
        let nonzero = |n: u16| std::num::NonZeroU16::new(n).expect("a non-empty terminal");
        let parser = Arc::new(Mutex::new(vt100::Parser::new(
            nonzero(rows),
            nonzero(cols),
            0,
        )));
        let mut reader = pair.master.try_clone_reader().expect("pty reader");
        let reader = {
            let parser = parser.clone();
            std::thread::spawn(move || {
                let mut buf = [0u8; 16384];
                loop {
                    match reader.read(&mut buf) {
                        Ok(0) => return,
                        Ok(n) => lock(&parser).process(&buf[..n]),
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                        Err(_) => return,
                    }
                }
            })
        };
        let writer = pair.master.take_writer().expect("pty writer");
        let mut tui = Tui {
            child,
            pid,
            master: pair.master,
            slave: Some(pair.slave),
            writer,
            parser,
            reader: Some(reader),
            status: None,
        };
        tui.wait_for("the first frame", |t| {
            t.contains("Scenarios") && t.contains("cpu0")
        });
        tui
    }

    fn text(&self) -> String {
        lock(&self.parser).screen().contents()
    }

    fn send(&mut self, keys: &str) {
        self.writer.write_all(keys.as_bytes()).expect("write keys");
        self.writer.flush().expect("flush keys");
    }

    fn exited(&mut self) -> bool {
        if self.status.is_none()
            && let Ok(Some(status)) = self.child.try_wait()
        {
            self.status = Some(status);
        }
        self.status.is_some()
    }

    fn dump(&self) -> String {
        format!(
            "--- screen ---\n{}\n--- exit: {:?}",
            self.text(),
            self.status
        )
    }

    fn wait_for(&mut self, what: &str, done: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + LONG;
        loop {
            let text = self.text();
            if done(&text) {
                return text;
            }
            if ["✗ failed", "could not start", "without a report"]
                .iter()
                .any(|bad| text.contains(bad))
            {
                panic!("a run went wrong while waiting for {what}\n{}", self.dump());
            }
            if self.exited() {
                panic!(
                    "the dashboard exited while waiting for {what}\n{}",
                    self.dump()
                );
            }
            assert!(
                Instant::now() < deadline,
                "timed out after {LONG:?} waiting for {what}\n{}",
                self.dump()
            );
            std::thread::sleep(POLL);
        }
    }

    fn wait_exit(&mut self) -> ExitStatus {
        let deadline = Instant::now() + EXIT;
        while !self.exited() {
            assert!(
                Instant::now() < deadline,
                "the dashboard did not exit within {EXIT:?}\n{}",
                self.dump()
            );
            std::thread::sleep(POLL);
        }
        self.status.clone().expect("exited")
    }

    /// After the exit: off the alternate screen, cursor shown, the pty in cooked mode.
    fn assert_restored(&self) {
        let deadline = Instant::now() + EXIT;
        while lock(&self.parser).screen().alternate_screen() {
            assert!(
                Instant::now() < deadline,
                "the terminal is still on the alternate screen"
            );
            std::thread::sleep(POLL);
        }
        assert!(
            !lock(&self.parser).screen().hide_cursor(),
            "cursor left hidden"
        );
        let termios = self.master.get_termios().expect("termios of the pty");
        let bits = termios.local_flags.bits();
        assert!(
            bits & nix::libc::ICANON != 0 && bits & nix::libc::ECHO != 0,
            "the pty was left in raw mode"
        );
    }

    /// After the exit: none of `pids` is in /proc (not even a zombie), and nothing of the
    /// dashboard's session is left.
    fn assert_no_leftovers(&self, pids: &[i32]) {
        let deadline = Instant::now() + EXIT;
        loop {
            let alive: Vec<String> = pids
                .iter()
                .filter(|p| stat(**p).is_some_and(|s| s.session == self.pid))
                .map(|p| describe(*p))
                .collect();
            let session: Vec<String> = session_members(self.pid)
                .iter()
                .map(|(p, _)| describe(*p))
                .collect();
            if alive.is_empty() && session.is_empty() {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "left behind by the dashboard {}: {alive:#?} {session:#?}",
                self.pid
            );
            std::thread::sleep(POLL);
        }
    }
}

impl Drop for Tui {
    /// Whatever happened, leave nothing: kill the dashboard and its session, reap what
    /// became ours, close the pty.
    fn drop(&mut self) {
        if !self.exited() {
            let _ = kill(Pid::from_raw(self.pid), Signal::SIGKILL);
            let _ = self.child.wait();
        }
        let me = std::process::id() as i32;
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let members = session_members(self.pid);
            if members.is_empty() || Instant::now() > deadline {
                break;
            }
            for (pid, s) in members {
                if s.state != 'Z' {
                    let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
                } else if s.ppid == me {
                    let _ = waitpid(Pid::from_raw(pid), Some(WaitPidFlag::WNOHANG));
                }
            }
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

// ---------------------------------------------------------------------------------------
// Screen text

/// The two numbers in `I am <a>, my <who> is <b>`, on any line of the screen.
fn i_am(text: &str, who: &str) -> Option<(i32, i32)> {
    text.lines().find_map(|line| {
        let rest = &line[line.find("I am ")? + "I am ".len()..];
        let (a, rest) = rest.split_once(", my ")?;
        let b = rest.strip_prefix(who)?.strip_prefix(" is ")?;
        let b: String = b.chars().take_while(char::is_ascii_digit).collect();
        Some((a.parse().ok()?, b.parse().ok()?))
    })
}

/// The processes panel's row for `pid`: `PID PPID #RUN ROLE ST ...`, as words.
fn process_row(text: &str, pid: i32) -> Option<Vec<String>> {
    text.lines().find_map(|line| {
        line.split('│').find_map(|cell| {
            let words: Vec<String> = cell.split_whitespace().map(str::to_string).collect();
            (words.len() >= 4 && words[0] == pid.to_string()).then_some(words)
        })
    })
}

// ---------------------------------------------------------------------------------------
// The test

#[test]
fn fork_shows_parent_and_child_and_leaves_nothing() {
    let _serial = serial();
    let mut tui = Tui::start(100, 30, &["--scenario", "fork"]);
    tui.wait_for("the fork scenario selected", |t| {
        t.contains("fork — one call, two returns") && t.contains("Enter runs it")
    });
    tui.send(ENTER);
    let text = tui.wait_for("both processes' lines and the child's exit", |t| {
        t.contains("✓ done in")
            && i_am(t, "child").is_some()
            && i_am(t, "parent").is_some_and(|(child, _)| {
                process_row(t, child).is_some_and(|r| r.iter().any(|w| w == "code"))
            })
    });
    let (parent, child) = i_am(&text, "child").expect("the parent's line");
    let (child_says_me, child_says_parent) = i_am(&text, "parent").expect("the child's line");
    assert_ne!(parent, child, "two processes\n{text}");
    assert_eq!(child_says_me, child, "the child names itself\n{text}");
    assert_eq!(
        child_says_parent, parent,
        "the child names its parent\n{text}"
    );
    assert!(
        text.contains(&format!("runner pid {parent}")),
        "the parent is the run's runner\n{text}"
    );
    assert!(
        text.contains(&format!("[{child}] I am {child}")),
        "the child's line is marked as its own\n{text}"
    );
    let row = process_row(&text, child).expect("the child in the processes panel");
    assert_eq!(row[1], parent.to_string(), "its PPID: {row:?}\n{text}");
    assert!(row.contains(&"child".to_string()), "its role: {row:?}");
    assert!(
        row.ends_with(&["code".to_string(), "0".to_string()]),
        "the child's exit: {row:?}\n{text}"
    );

    tui.send("q");
    let status = tui.wait_exit();
    assert!(status.success(), "exit status {status:?}\n{}", tui.dump());
    tui.assert_restored();
    tui.assert_no_leftovers(&[parent, child]);
}
