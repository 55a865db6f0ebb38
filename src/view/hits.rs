//! Where the last frame drew what a mouse can act on, so a click is mapped to what the user
//! saw, not to a layout computed again elsewhere.

use crate::app::Target;
use ratatui::layout::{Position, Rect};

#[derive(Debug, Default, Clone)]
pub struct Hits {
    /// In drawing order; `None` covers whatever was drawn under it.
    areas: Vec<(Rect, Option<Target>)>,
}

impl Hits {
    /// A new frame: nothing is drawn yet.
    pub fn clear(&mut self) {
        self.areas.clear();
    }

    pub fn add(&mut self, area: Rect, target: Target) {
        self.areas.push((area, Some(target)));
    }

    /// Something drawn over `area` that the mouse does not act on.
    pub fn cover(&mut self, area: Rect) {
        self.areas.push((area, None));
    }

    /// What is on top at `at`.
    pub fn at(&self, at: Position) -> Option<Target> {
        self.areas
            .iter()
            .rev()
            .find(|(area, _)| area.contains(at))
            .and_then(|(_, target)| *target)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_topmost_drawing_takes_the_pointer() {
        let mut hits = Hits::default();
        hits.add(Rect::new(0, 0, 10, 10), Target::Processes);
        hits.add(Rect::new(0, 2, 10, 1), Target::Scenario(4));
        assert_eq!(hits.at(Position::new(3, 2)), Some(Target::Scenario(4)));
        assert_eq!(hits.at(Position::new(3, 3)), Some(Target::Processes));
        assert_eq!(hits.at(Position::new(10, 3)), None, "outside");
        hits.cover(Rect::new(2, 0, 4, 10));
        assert_eq!(hits.at(Position::new(3, 2)), None, "covered");
        assert_eq!(hits.at(Position::new(1, 2)), Some(Target::Scenario(4)));
        hits.clear();
        assert_eq!(hits.at(Position::new(1, 2)), None);
    }
}
