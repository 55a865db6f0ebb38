//! What the view keeps between frames: where each scrolling thing stands and where the last
//! frame drew what the mouse can act on. The event loop owns it, hands it the model's scroll
//! requests and asks it what a click landed on; [`super::draw`] updates it.

use super::hits::Hits;
use super::scroll::ScrollState;
use crate::app::Target;
use crate::app::scroll::{Scroll, ScrollRequest, Scrollable};
use ratatui::layout::Position;

#[derive(Debug, Default, Clone)]
pub struct ViewState {
    pub processes: ScrollState,
    pub lesson: ScrollState,
    pub report: ScrollState,
    /// Counted back from the newest event.
    pub event_log: ScrollState,
    pub compare_summary: ScrollState,
    /// `App::logged` at the last whole frame: lines logged since are new to the view.
    pub logged_seen: u64,
    pub hits: Hits,
}

impl ViewState {
    /// Takes the model's scroll requests; each applies at the next frame that shows its part.
    pub fn request(&mut self, requests: impl IntoIterator<Item = ScrollRequest>) {
        for ScrollRequest { what, how } in requests {
            let how = match (what, how) {
                // The event log counts from its newest line: down is fewer lines back.
                (Scrollable::EventLog, Scroll::Lines(n)) => Scroll::Lines(-n),
                (Scrollable::EventLog, Scroll::Pages(n)) => Scroll::Pages(-n),
                (_, how) => how,
            };
            self.scroll_of(what).request(how);
        }
    }

    pub fn scroll_of(&mut self, what: Scrollable) -> &mut ScrollState {
        match what {
            Scrollable::Processes => &mut self.processes,
            Scrollable::Lesson => &mut self.lesson,
            Scrollable::Report => &mut self.report,
            Scrollable::EventLog => &mut self.event_log,
            Scrollable::CompareSummary => &mut self.compare_summary,
        }
    }

    /// What the last frame drew at this cell that a mouse can act on.
    pub fn target_at(&self, column: u16, row: u16) -> Option<Target> {
        self.hits.at(Position::new(column, row))
    }
}
