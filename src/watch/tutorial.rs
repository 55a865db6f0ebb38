//! The tutorial's own programs, corrected (`assets/python/tutorial/`), one per lesson that has
//! code: which lesson runs which, embedded in the binary so "run the tutorial's code" works
//! from any directory. The dashboard and the tests read this one table.

use crate::params::Params;
use std::path::{Path, PathBuf};

/// A lesson's tutorial program.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Program {
    /// The scenario whose lesson it belongs to.
    pub scenario: &'static str,
    /// Its file name in `assets/python/tutorial/`.
    pub file: &'static str,
    pub source: &'static str,
    /// A program it needs running beside it, started first (the distributed lesson's worker
    /// needs its master): its file name and source.
    pub beside: Option<(&'static str, &'static str)>,
}

macro_rules! program {
    ($scenario:literal, $file:literal) => {
        Program {
            scenario: $scenario,
            file: $file,
            source: include_str!(concat!("../../assets/python/tutorial/", $file)),
            beside: None,
        }
    };
    ($scenario:literal, $file:literal, beside $first:literal) => {
        Program {
            beside: Some((
                $first,
                include_str!(concat!("../../assets/python/tutorial/", $first)),
            )),
            ..program!($scenario, $file)
        }
    };
}

/// Every lesson with a program, in the menu's order.
pub const PROGRAMS: &[Program] = &[
    program!("fork", "fork.py"),
    program!("process", "process.py"),
    program!("pool", "pool.py"),
    program!("subprocess", "subprocess_call.py"),
    program!("queue", "queue_ipc.py"),
    program!("pipe", "pipe_ipc.py"),
    program!("threads", "threads.py"),
    program!("multicore", "multicore.py"),
    program!("thread-local", "thread_local.py"),
    program!("distributed", "task_worker.py", beside "task_master.py"),
];

/// The program of `scenario`'s lesson, if it has one.
pub fn for_scenario(scenario: &str) -> Option<&'static Program> {
    PROGRAMS.iter().find(|p| p.scenario == scenario)
}

/// Why a lesson's program cannot be watched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unavailable {
    /// The lesson argues in prose; there is no program.
    NoProgram,
    /// No `python3` on `PATH`.
    NoPython,
    /// Writing the program out failed.
    Write(String),
}

/// The watch parameters that run `program` with python3, written to `dir` first.
pub fn watch_params(program: &Program, dir: &Path) -> Result<Params, Unavailable> {
    super::find_program("python3").map_err(|_| Unavailable::NoPython)?;
    let path =
        write(program.file, program.source, dir).map_err(|e| Unavailable::Write(e.to_string()))?;
    let path = path.to_string_lossy().into_owned();
    let words = match program.beside {
        None => vec!["python3".to_string(), path],
        Some((file, source)) => {
            let first = write(file, source, dir).map_err(|e| Unavailable::Write(e.to_string()))?;
            // The first program in the background, a second for it to listen, then the other.
            let script = format!(
                "python3 {} & sleep 1; python3 {}; wait",
                crate::shell_words::join(&[first.to_string_lossy().into_owned()]),
                crate::shell_words::join(&[path])
            );
            vec!["sh".to_string(), "-c".to_string(), script]
        }
    };
    super::command_params(&words).map_err(Unavailable::Write)
}

fn write(file: &str, source: &str, dir: &Path) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let path = dir.join(file);
    std::fs::write(&path, source)?;
    Ok(path)
}

/// Where a dashboard writes the programs it runs: one directory of its own, removed when it
/// ends ([`remove_dir`]).
pub fn session_dir() -> PathBuf {
    std::env::temp_dir().join(format!("conlab-tutorial-{}", std::process::id()))
}

pub fn remove_dir(dir: &Path) {
    let _ = std::fs::remove_dir_all(dir);
}
