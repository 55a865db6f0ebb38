//! The runner's own side: run one scenario in this process, writing events to stdout.

use crate::event::Body;
use crate::i18n::Text;
use crate::params::Params;
use crate::probe::{Probe, install_cancel_handler};
use crate::report::Report;
use crate::scenarios::{Findings, Scenario};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Duration;

/// Runs `scenario` and writes its events, the report last. `role` is `runner`, or what a
/// parent runner calls its child (`worker`, ...). Returns the process exit code:
/// 0 when a report was produced (even one that shows a failure), 1 when the scenario errored.
pub fn run_in_runner(scenario: &Scenario, params: Params, role: &str) -> u8 {
    install_cancel_handler();
    // A cancel that came while this process started waited, blocked, until now.
    crate::lifeline::accept_cancel_signals();
    // Whatever the scenario starts stays in this process's tree, however it detaches.
    crate::lifeline::adopt_orphans();
    // Started through /proc/self/exe, the kernel named us `exe`; ps and top should say conlab.
    let _ = nix::sys::prctl::set_name(c"conlab");
    let parent = nix::unistd::getppid().as_raw();
    // Only a runner needs it: a scenario's children (conlab again) die with the runner by
    // SIGKILL, and a single-threaded worker should show as one thread.
    if role == crate::runner::RUNNER {
        crate::probe::watch_for_parent_death(parent, LEFTOVER_GRACE);
    }
    // The runner's clock starts now; its children (conlab again) share it.
    let epoch = std::env::var(crate::probe::RUN_EPOCH_VAR)
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|_| role != crate::runner::RUNNER);
    let probe = Probe::on_clock(params.clone(), true, epoch);
    probe.emit(Body::Process {
        ppid: parent as u32,
        role: role.into(),
    });

    let outcome = catch_unwind(AssertUnwindSafe(|| (scenario.run)(&probe)));
    let (mut findings, error) = match outcome {
        Ok(Ok(findings)) => (findings, None),
        Err(panic) => {
            let message = crate::lab::crash::panic_message(&*panic);
            (
                Findings {
                    wall_ms: probe.elapsed_ms(),
                    ..Findings::default()
                },
                Some(format!("the scenario panicked: {message}")),
            )
        }
        // Whatever broke because the cancel's signal ended the run's children first (a
        // closed control channel, EPIPE) is the cancel, not the scenario's failure.
        Ok(Err(e)) if probe.cancelled_within(crate::probe::CANCEL_GRACE) => (
            Findings {
                wall_ms: probe.elapsed_ms(),
                notes: vec![Text::new(
                    format!("cancelled while it was running: {e}"),
                    format!("运行中被取消：{e}"),
                )],
                ..Findings::default()
            },
            None,
        ),
        Ok(Err(e)) => (
            Findings {
                wall_ms: probe.elapsed_ms(),
                ..Findings::default()
            },
            Some(e),
        ),
    };
    let left = crate::lifeline::end_descendants(LEFTOVER_GRACE);
    if left > 0 {
        findings.notes.push(Text::new(
            format!(
                "ended {left} process{} the run left running, so nothing outlives it",
                if left == 1 { "" } else { "es" }
            ),
            format!("运行结束时还有 {left} 个进程在跑，已全部结束，什么也没留下"),
        ));
    }
    let code = if error.is_some() { 1 } else { 0 };
    let report = Report {
        scenario: scenario.id.to_string(),
        params: params.to_json(),
        // A cancelled run did not do what it set out to, whatever it found until then.
        ok: findings.ok && error.is_none() && !probe.cancelled(),
        wall_ms: findings.wall_ms,
        metrics: findings.metrics,
        notes: findings.notes.iter().map(|n| n.en.clone()).collect(),
        notes_zh: findings.notes.iter().map(|n| n.zh.clone()).collect(),
        cancelled: probe.cancelled(),
        error,
        processes: vec![],
        warnings: vec![],
    };
    probe.emit(Body::Report {
        report: Box::new(report),
    });
    code
}

/// How long ending what a run left behind may take.
const LEFTOVER_GRACE: Duration = Duration::from_secs(2);
