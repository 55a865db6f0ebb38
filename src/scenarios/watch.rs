//! The `watch` runner scenario: [`crate::watch`] follows a program and sums it up; here that
//! summary becomes a run's findings, so a watch runs, cancels and reports like any lesson.

use crate::probe::Probe;
use crate::scenarios::{Findings, Scenario};
use crate::watch;

pub static WATCH: Scenario = Scenario::child(watch::ID, "Watch a program", watch::PARAMS, run);

fn run(probe: &Probe) -> Result<Findings, String> {
    let summary = watch::summary(probe)?;
    Ok(Findings {
        ok: true,
        wall_ms: summary.wall_ms,
        metrics: summary.metrics(),
        notes: summary.notes(),
    })
}
