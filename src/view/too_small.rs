//! What is drawn instead of the panels below the size they need: how large the terminal must
//! be, how large it is, and how to leave. Panels squeezed smaller would clip, and numbers
//! would break mid-token.

use crate::app::MIN_SIZE;
use crate::i18n::Lang;
use crate::keymap::{self, Action, Context};
use ratatui::Frame;
use ratatui::layout::{Alignment, Rect};
use ratatui::text::Line;
use ratatui::widgets::Paragraph;

crate::i18n::phrases! {
    pub WORDS {
        message: "conlab needs {need}; this terminal is {size} — enlarge it, or {quit}"
            => "conlab 需要 {need}，终端只有 {size}——请放大窗口，或按 {quit}",
    }
}

pub fn draw(frame: &mut Frame, area: Rect, lang: Lang) {
    let text = WORDS.message.with(
        lang,
        &[
            ("need", &format!("{}x{}", MIN_SIZE.0, MIN_SIZE.1)),
            ("size", &format!("{}x{}", area.width, area.height)),
            (
                "quit",
                &keymap::hints(Context::TooSmall, &[Action::Quit], lang),
            ),
        ],
    );
    let lines = crate::line_break::wrap_lines(&[Line::raw(text)], area.width);
    let height = (lines.len() as u16).min(area.height);
    let message = Paragraph::new(lines).alignment(Alignment::Center);
    let y = area.y + (area.height - height) / 2;
    frame.render_widget(message, Rect::new(area.x, y, area.width, height));
}
