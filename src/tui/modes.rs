//! The terminal modes the dashboard works in, taken and given back in one place for every
//! path: start and quit, the ending signals, a panic, and around a stop (Ctrl-Z, SIGTSTP).

use crossterm::cursor::Show;
use crossterm::event::{
    DisableBracketedPaste, DisableMouseCapture, EnableBracketedPaste, EnableMouseCapture,
};
use crossterm::execute;
use crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use std::io;

/// Raw mode (keys one by one, Ctrl-C and Ctrl-Z as keys), the alternate screen, mouse
/// reporting, and bracketed paste (a paste arrives whole, as one event, and never as keys).
pub fn take() -> io::Result<()> {
    enable_raw_mode()?;
    execute!(
        io::stdout(),
        EnterAlternateScreen,
        EnableMouseCapture,
        EnableBracketedPaste
    )
}

/// The terminal as a shell expects it: everything [`take`] changed undone, and the cursor
/// shown. Errors are ignored: this runs on the way out, where nothing better can be done.
pub fn give_back() {
    // Raw mode first: it has the most effect on what comes after (as ratatui's restore).
    let _ = disable_raw_mode();
    let _ = execute!(
        io::stdout(),
        DisableBracketedPaste,
        DisableMouseCapture,
        LeaveAlternateScreen,
        Show
    );
}
