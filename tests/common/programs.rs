//! Programs the watch tests run under `conlab watch`.

use std::process::{Command, Stdio};

/// The real python3 (not a shim that runs programs of its own), or `None` without one.
pub fn python3() -> Option<String> {
    let out = Command::new("python3")
        .args(["-c", "import sys; print(sys.executable)"])
        .stderr(Stdio::null())
        .output()
        .ok()?;
    let path = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (out.status.success() && !path.is_empty()).then_some(path)
}

/// The name the kernel gives a program started from `path` (at most 15 bytes).
pub fn comm_of(path: &str) -> String {
    path.rsplit('/')
        .next()
        .unwrap_or(path)
        .chars()
        .take(15)
        .collect()
}

/// Three threads in the first process; two children with a thread each, exiting 5 and 6; a
/// grandchild ended by SIGTERM (its parent, not conlab, waits for it); then exit 3. Each thread
/// sleeps `sys.argv[1]` seconds (0.05 without it).
pub const FORKS_AND_THREADS: &str = r#"
import os, signal, sys, threading, time
PAUSE = float(sys.argv[1]) if len(sys.argv) > 1 else 0.05
def pause():
    time.sleep(PAUSE)
def threads(n):
    ts = [threading.Thread(target=pause) for _ in range(n)]
    for t in ts: t.start()
    for t in ts: t.join()
threads(3)
children = []
for code in (5, 6):
    pid = os.fork()
    if pid == 0:
        threads(1)
        if code == 6:
            g = os.fork()
            if g == 0:
                os.kill(os.getpid(), signal.SIGTERM)
            os.waitpid(g, 0)
        os._exit(code)
    children.append(pid)
for pid in children:
    os.waitpid(pid, 0)
print("forked and joined", flush=True)
sys.exit(3)
"#;

/// [`FORKS_AND_THREADS`] written to a file of its own, for a command line that shows well.
pub fn forks_and_threads_file(tag: &str) -> String {
    let path = std::env::temp_dir().join(format!("conlab-watch-{tag}-{}.py", std::process::id()));
    std::fs::write(&path, FORKS_AND_THREADS).expect("write the test program");
    path.to_string_lossy().into_owned()
}
