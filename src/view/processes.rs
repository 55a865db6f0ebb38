//! The processes panel: every runner and its descendants; exited ones dimmed, with their exit.

use super::DIM;
use crate::app::processes::ProcessTable;
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::Span;
use ratatui::widgets::{Block, Cell, Paragraph, Row, Table};

pub fn draw(frame: &mut Frame, area: Rect, table: &ProcessTable) {
    let live = table.rows.iter().filter(|r| r.exit.is_none()).count();
    let block = Block::bordered().title(format!(" Processes · {live} live "));
    if table.rows.is_empty() {
        let hint = Span::styled("runners and their children appear here", DIM);
        frame.render_widget(Paragraph::new(hint).block(block), area);
        return;
    }
    let header = Row::new(["PID", "PPID", "RUN", "ROLE", "ST", "CPU%", "THR", "EXIT"])
        .style(Style::new().add_modifier(Modifier::BOLD));
    let rows = table.rows.iter().map(|r| {
        let row = Row::new(vec![
            Cell::from(r.pid.to_string()),
            Cell::from(r.ppid.to_string()),
            Cell::from(format!("#{}", r.run)),
            Cell::from(r.role.clone()),
            Cell::from(r.state.to_string()),
            Cell::from(format!("{:.0}", r.cpu_pct)),
            Cell::from(r.threads.to_string()),
            Cell::from(r.exit.clone().unwrap_or_default()),
        ]);
        if r.exit.is_some() {
            row.style(DIM)
        } else {
            row
        }
    });
    let widths = [
        Constraint::Length(7),
        Constraint::Length(7),
        Constraint::Length(4),
        Constraint::Length(7),
        Constraint::Length(2),
        Constraint::Length(5),
        Constraint::Length(4),
        Constraint::Min(6),
    ];
    frame.render_widget(Table::new(rows, widths).header(header).block(block), area);
}
