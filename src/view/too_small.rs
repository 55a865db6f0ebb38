//! What is drawn instead of the panels below the size they need: how large the terminal must
//! be, how large it is, and how to leave. Panels squeezed smaller would clip, and numbers
//! would break mid-token.

use crate::app::MIN_SIZE;
use crate::keymap::{self, Action, Context};
use ratatui::Frame;
use ratatui::layout::{Alignment, Rect};
use ratatui::widgets::{Paragraph, Wrap};

pub fn draw(frame: &mut Frame, area: Rect) {
    let text = format!(
        "conlab needs {}x{}; this terminal is {}x{} — enlarge it, or {}",
        MIN_SIZE.0,
        MIN_SIZE.1,
        area.width,
        area.height,
        keymap::hints(Context::TooSmall, &[Action::Quit])
    );
    let message = Paragraph::new(text)
        .wrap(Wrap { trim: true })
        .alignment(Alignment::Center);
    let height = (message.line_count(area.width) as u16).min(area.height);
    let y = area.y + (area.height - height) / 2;
    frame.render_widget(message, Rect::new(area.x, y, area.width, height));
}
