//! What the model asks of whatever scrolls. The model knows what a key means ("a page down
//! in the processes panel"), not how far that is nor where the end lies: those depend on
//! the screen, so the view keeps each position and applies these requests where it draws.

/// Something on screen that scrolls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scrollable {
    /// The processes panel, from its newest run down.
    Processes,
    /// The lesson overlay (`l`).
    Lesson,
    /// The report overlay (`r`).
    Report,
    /// The event log overlay (`v`), which starts at the newest event.
    EventLog,
    /// The summary and verdicts under the compare table.
    CompareSummary,
}

/// How to move it. Down is positive, whichever end a view starts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scroll {
    Lines(isize),
    /// Pages of whatever the view shows at once.
    Pages(isize),
    /// Back to where it starts: the top, or for the event log the newest event.
    Reset,
}

/// A request from the model to the view, in the order the model made them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScrollRequest {
    pub what: Scrollable,
    pub how: Scroll,
}
