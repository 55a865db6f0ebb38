//! Where one scrolling thing stands, kept by the view (as ratatui's `ListState` and gitui's
//! `VerticalScroll` keep theirs). The model's requests wait here until the next frame, which
//! knows how far the content reaches and how much of it shows, and applies them in order.

use crate::app::scroll::Scroll;

#[derive(Debug, Default, Clone)]
pub struct ScrollState {
    /// Lines scrolled past where it starts. Moves clamp it; a frame only clamps what it
    /// shows, so content that shrinks for a moment does not lose the place.
    offset: usize,
    pending: Vec<Scroll>,
}

impl ScrollState {
    /// Remembers a move for the next frame that shows this.
    pub fn request(&mut self, how: Scroll) {
        if how == Scroll::Reset {
            self.pending.clear();
        }
        self.pending.push(how);
    }

    /// Applies the waiting moves within `0..=last`, a page being `page` lines, and returns
    /// the offset to draw at.
    pub fn settle(&mut self, last: usize, page: usize) -> usize {
        for how in self.pending.drain(..) {
            self.offset = match how {
                Scroll::Reset => 0,
                Scroll::Lines(n) => moved(self.offset, n, last),
                Scroll::Pages(n) => {
                    moved(self.offset, n.saturating_mul(page.max(1) as isize), last)
                }
            };
        }
        self.offset.min(last)
    }

    /// Lines scrolled past, as last moved (possibly beyond what the content now has).
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// Keeps the same lines in view when `lines` arrive on the side it counts from.
    pub fn keep_in_view(&mut self, lines: usize) {
        self.offset = self.offset.saturating_add(lines);
    }

    /// Scrolled to `offset` as if moved there (for tests of what a frame does with it).
    #[cfg(test)]
    pub fn at(offset: usize) -> ScrollState {
        ScrollState {
            offset,
            pending: Vec::new(),
        }
    }
}

/// `position` moved by `step` within `0..=last`. Clamped before moving too: what scrolls may
/// have shrunk (or the screen grown) since the last move, and a move must show.
fn moved(position: usize, step: isize, last: usize) -> usize {
    position.min(last).saturating_add_signed(step).min(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moves_wait_for_a_frame_and_stop_at_its_ends() {
        let mut s = ScrollState::default();
        for _ in 0..20 {
            s.request(Scroll::Lines(1));
        }
        assert_eq!(s.settle(5, 3), 5, "no further than the last line");
        s.request(Scroll::Lines(-1));
        assert_eq!(s.settle(5, 3), 4, "the first move back shows");
        s.request(Scroll::Pages(-1));
        assert_eq!(s.settle(5, 3), 1);
        s.request(Scroll::Pages(-1));
        assert_eq!(s.settle(5, 3), 0);
    }

    #[test]
    fn each_move_is_clamped_in_turn_and_a_reset_forgets_the_rest() {
        let mut s = ScrollState::default();
        s.request(Scroll::Pages(10));
        s.request(Scroll::Lines(-1));
        assert_eq!(s.settle(8, 2), 7, "down to 8, then one back");
        s.request(Scroll::Lines(1));
        s.request(Scroll::Reset);
        s.request(Scroll::Lines(2));
        assert_eq!(s.settle(8, 2), 2);
    }

    #[test]
    fn content_that_shrank_shows_its_end_and_the_next_move_shows() {
        let mut s = ScrollState::at(8);
        assert_eq!(s.settle(2, 2), 2, "what shows is clamped");
        assert_eq!(s.offset(), 8, "the place is kept");
        assert_eq!(s.settle(8, 2), 8);
        s.request(Scroll::Pages(-1));
        assert_eq!(s.settle(2, 2), 0, "a move starts from what shows");
    }

    #[test]
    fn arrivals_keep_the_lines_in_view() {
        let mut s = ScrollState::at(3);
        s.keep_in_view(2);
        assert_eq!(s.settle(10, 5), 5);
    }
}
