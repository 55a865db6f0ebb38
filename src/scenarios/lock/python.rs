//! `mode=python`: the tutorial's code as written, in real CPython, next to a variant that does
//! race there (a function call between the read and the write), and that variant again with
//! the tutorial's lock. Each prints its balance, as the tutorial's code does.

use super::notes::{self, PythonRun};
use crate::lab::python;
use crate::probe::Probe;
use crate::report::Metrics;
use crate::scenarios::Findings;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// What runs, in order: the metric it gives, the script, its arguments.
const SCRIPTS: [(&str, &str, &[&str]); 3] = [
    (
        "python_tutorial_balance",
        include_str!("../../../assets/python/lock_tutorial.py"),
        &[],
    ),
    (
        "python_call_balance",
        include_str!("../../../assets/python/lock_call.py"),
        &[],
    ),
    (
        "python_locked_balance",
        include_str!("../../../assets/python/lock_call.py"),
        &["lock"],
    ),
];

/// Asks the interpreter which it is.
const VERSION: &str = "import sys; print(sys.version.split()[0])";

pub(super) fn run(probe: &Probe) -> Result<Findings, String> {
    let finished = AtomicU64::new(0);
    let snapshot = |m: &mut Metrics| {
        let done = finished.load(Relaxed) as f64;
        m.set("progress_pct", done * 100.0 / SCRIPTS.len() as f64);
    };
    let mut metrics = Metrics::default();
    let mut balances = Vec::new();
    let version = probe.with_live(snapshot, || -> Result<String, String> {
        let version = python_run(probe, VERSION, &[])?;
        for (name, script, args) in SCRIPTS {
            if probe.cancelled() {
                break;
            }
            let printed = python_run(probe, script, args)?;
            if probe.cancelled() {
                break;
            }
            let balance: i64 = printed
                .lines()
                .last()
                .and_then(|l| l.trim().parse().ok())
                .ok_or_else(|| format!("python3 printed no balance: {printed:?}"))?;
            metrics.set(name, balance);
            balances.push(balance);
            finished.fetch_add(1, Relaxed);
        }
        Ok(version.trim().to_string())
    })?;
    metrics.set("wall_ms", probe.elapsed_ms());
    let notes = match balances[..] {
        [tutorial, call, locked] => notes::python(&PythonRun {
            version,
            tutorial,
            call,
            locked,
        }),
        _ => Vec::new(),
    };
    Ok(Findings {
        // The lab worked if the lock held; the two races may show or hide, as they do.
        ok: metrics.get("python_locked_balance") == Some(0i64.into()),
        wall_ms: probe.elapsed_ms(),
        metrics,
        notes,
    })
}

/// Runs one script to its end; what it printed, or why it could not.
fn python_run(probe: &Probe, script: &str, args: &[&str]) -> Result<String, String> {
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    let done = python::run(probe, "python", script, &args).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => "mode=python needs python3 on the PATH, and there is \
             none here; the other modes (nolock, lock, atomic, deadlock, ordered, trylock, fair) \
             need no Python"
            .to_string(),
        _ => format!("could not start python3: {e}"),
    })?;
    if !done.exit.success() && !probe.cancelled() {
        return Err(format!(
            "python3 ended ({}): {}",
            done.exit,
            done.stderr.trim()
        ));
    }
    Ok(done.stdout)
}
