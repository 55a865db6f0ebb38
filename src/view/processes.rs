//! The processes panel: every runner and its descendants; exited ones dimmed, with their exit.

use super::DIM;
use crate::app::processes::{ProcRow, ProcessTable};
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::Span;
use ratatui::widgets::{Block, Paragraph, Row, Table};

/// Below this width the RUN column is left out so EXIT keeps its room.
const WIDE: u16 = 60;

pub fn draw(frame: &mut Frame, area: Rect, table: &ProcessTable) {
    let live = table.rows.iter().filter(|r| r.exit.is_none()).count();
    let block = Block::bordered().title(format!(" Processes · {live} live "));
    if table.rows.is_empty() {
        let hint = Span::styled("runners and their children appear here", DIM);
        frame.render_widget(Paragraph::new(hint).block(block), area);
        return;
    }
    let wide = area.width >= WIDE;
    // (header, width, cell) for each column shown.
    type Column = (&'static str, u16, fn(&ProcRow) -> String);
    let columns: Vec<Column> = [
        (
            "PID",
            7,
            (|r: &ProcRow| r.pid.to_string()) as fn(&ProcRow) -> String,
        ),
        ("PPID", 7, |r| r.ppid.to_string()),
        ("RUN", 4, |r| format!("#{}", r.run)),
        ("ROLE", 6, |r| r.role.clone()),
        ("ST", 2, |r| r.state.to_string()),
        ("CPU%", 4, |r| format!("{:.0}", r.cpu_pct)),
        ("THR", 3, |r| r.threads.to_string()),
        ("EXIT", 0, |r| r.exit.clone().unwrap_or_default()),
    ]
    .into_iter()
    .filter(|(name, _, _)| wide || *name != "RUN")
    .collect();

    let header =
        Row::new(columns.iter().map(|c| c.0)).style(Style::new().add_modifier(Modifier::BOLD));
    let rows = table.rows.iter().map(|r| {
        let row = Row::new(columns.iter().map(|c| (c.2)(r)));
        if r.exit.is_some() {
            row.style(DIM)
        } else {
            row
        }
    });
    let widths = columns.iter().map(|c| {
        if c.1 == 0 {
            Constraint::Min(6)
        } else {
            Constraint::Length(c.1)
        }
    });
    frame.render_widget(Table::new(rows, widths).header(header).block(block), area);
}
