//! Panel kinds. A scenario names the kind that shows its run ([`crate::scenarios::Panel`]);
//! each kind is one module holding the state it builds from the run's events (if it needs
//! any) and how it draws it. A panel sees only its own state and the run's [`Figures`], never
//! the dashboard's model nor its frame, so adding a scenario that an existing kind can show
//! touches no panel.
//!
//! - [`timeline`]: lanes (processes of one role), an item's span as a bar on the lane that ran
//!   it, the wait between an item's first step and its bar, crashes and marks;
//! - [`channel`]: puts, gets, depth and latency of a channel between a producer and a consumer;
//! - [`counts`]: values counted over time (`count` events), each a sparkline;
//! - [`table`]: measured costs, one row each, with their spread and a published figure;
//! - [`sweep`]: figures against a swept parameter, one line per series, point by point;
//! - [`lock`], [`multicore`]: the figures of those lessons, drawn their way;
//! - the plain highlights list is drawn by the scenario panel itself.

pub mod channel;
pub mod counts;
pub mod lock;
pub mod multicore;
pub mod sweep;
pub mod table;
pub mod timeline;

use crate::event::Event;
use crate::metrics::Metrics;
use crate::params::Params;
use crate::scenarios::Panel;

/// What a panel may know of its run: its figures and where it stands, not the model.
#[derive(Debug, Clone, Copy)]
pub struct Figures<'a> {
    pub params: &'a Params,
    /// The report's metrics once it came, else the latest live ones.
    pub metrics: &'a Metrics,
    /// The latest live metrics.
    pub live: &'a Metrics,
    /// The final report has come.
    pub done: bool,
    /// The runner still runs.
    pub active: bool,
    /// The latest time the run has spoken of, in ms on its clock.
    pub t_ms: f64,
}

/// The state a run keeps for its scenario's panel: only kinds drawn from events have any.
#[derive(Debug, Clone, PartialEq)]
pub enum PanelState {
    /// The panel draws the run's figures alone.
    Figures,
    Timeline(timeline::Timeline),
    Channel(channel::Channel),
    Counts(counts::Counts),
    Sweep(sweep::Sweep),
}

impl PanelState {
    pub fn new(panel: Panel) -> PanelState {
        match panel {
            Panel::Timeline(_) => PanelState::Timeline(timeline::Timeline::default()),
            Panel::Channel(_) => PanelState::Channel(channel::Channel::default()),
            Panel::Counts(_) => PanelState::Counts(counts::Counts::default()),
            Panel::Sweep(_) => PanelState::Sweep(sweep::Sweep::default()),
            Panel::Highlights | Panel::Lock | Panel::Multicore | Panel::Table(_) => {
                PanelState::Figures
            }
        }
    }

    /// Takes in one event of the run (`panel` is the scenario's, for what it selects by).
    pub fn observe(&mut self, panel: Panel, event: &Event) {
        match (self, panel) {
            (PanelState::Timeline(state), Panel::Timeline(spec)) => state.observe(&spec, event),
            (PanelState::Channel(state), _) => state.observe(event),
            (PanelState::Counts(state), _) => state.observe(event),
            (PanelState::Sweep(state), _) => state.observe(event),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_keeps_only_the_state_its_panel_draws() {
        let state = |id| PanelState::new(crate::scenarios::find(id).unwrap().panel());
        assert!(matches!(state("pool"), PanelState::Timeline(_)));
        assert!(matches!(state("queue"), PanelState::Channel(_)));
        assert_eq!(state("lock"), PanelState::Figures);
    }
}
