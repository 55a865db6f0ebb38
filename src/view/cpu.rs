//! The CPU panel: one row per core (bar, percent, history), in 1, 2 or 4 columns depending on
//! the core count and the width, plus the total and the dashboard's own CPU%.

use super::DIM;
use super::fmt::{bar, load_color, sparkline};
use crate::app::cpu::CpuHistory;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

/// Narrowest column that still has room for a history graph.
const MIN_COLUMN: u16 = 30;
const BAR: usize = 8;

/// How many columns the cores are laid out in, for a panel of `width` and `max_rows` lines.
pub fn columns(cores: usize, width: u16, max_rows: u16) -> usize {
    let fit_width = (width.saturating_sub(2) / MIN_COLUMN).max(1) as usize;
    let allowed: Vec<usize> = [1, 2, 4].into_iter().filter(|c| *c <= fit_width).collect();
    allowed
        .iter()
        .copied()
        .find(|c| cores.div_ceil(*c) <= max_rows as usize)
        .unwrap_or(*allowed.last().unwrap_or(&1))
}

/// Height of the panel (borders included), at most `max_height`.
pub fn height(cores: usize, width: u16, max_height: u16) -> u16 {
    let max_rows = max_height.saturating_sub(2).max(1);
    let rows = cores.max(1).div_ceil(columns(cores, width, max_rows)) as u16;
    rows.min(max_rows) + 2
}

pub fn draw(frame: &mut Frame, area: Rect, cpu: &CpuHistory, interval_ms: u64) {
    let cores = cpu.cores.len();
    let title = Line::from(vec![
        Span::raw(format!(" CPU · {cores} cores · total ")),
        Span::styled(
            format!("{:.0}%", cpu.total_now()),
            Style::new().fg(load_color(cpu.total_now())),
        ),
        Span::raw(format!(" · conlab {:.1}% ", cpu.self_pct)),
    ]);
    let block = Block::bordered().title(title).title_bottom(
        Line::from(Span::styled(
            format!(
                " runners at nice {} · every {interval_ms} ms ",
                crate::tui::RUNNER_NICE
            ),
            DIM,
        ))
        .right_aligned(),
    );
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if inner.height == 0 || inner.width == 0 {
        return;
    }
    if cores == 0 {
        frame.render_widget(Paragraph::new(Span::styled("measuring…", DIM)), inner);
        return;
    }
    let cols = columns(cores, area.width, inner.height);
    let rows = cores.div_ceil(cols);
    let shown_rows = rows.min(inner.height as usize);
    let column_areas =
        Layout::horizontal(vec![Constraint::Ratio(1, cols as u32); cols]).split(inner);
    for (c, column) in column_areas.iter().enumerate() {
        let lines: Vec<Line> = (0..shown_rows)
            .map(|r| c * rows + r)
            .filter(|i| *i < cores)
            .map(|i| core_line(cpu, i, cores, column.width as usize))
            .collect();
        frame.render_widget(Paragraph::new(lines), *column);
    }
    if shown_rows < rows {
        let hidden = cores - shown_rows * cols;
        let note = Line::from(Span::styled(
            format!(" +{hidden} cores (enlarge the window) "),
            DIM,
        ))
        .right_aligned();
        frame.render_widget(
            Paragraph::new(note),
            Rect {
                y: area.bottom() - 1,
                height: 1,
                ..area
            },
        );
    }
}

fn core_line(cpu: &CpuHistory, i: usize, cores: usize, width: usize) -> Line<'static> {
    let name_w = format!("cpu{}", cores - 1).len();
    let now = cpu.now(i);
    let color = Style::new().fg(load_color(now));
    // name, space, bar, percent (5), space, history
    let history_w = width.saturating_sub(name_w + 1 + BAR + 6 + 1);
    Line::from(vec![
        Span::raw(format!("{:<name_w$} ", format!("cpu{i}"))),
        Span::styled(bar(now as f64 / 100.0, BAR), color),
        Span::styled(format!("{now:>5.0}%"), color),
        Span::raw(" "),
        Span::styled(sparkline(cpu.cores[i].iter(), history_w), color),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_follow_cores_and_width() {
        assert_eq!(columns(2, 80, 4), 1);
        assert_eq!(columns(8, 80, 4), 2);
        assert_eq!(columns(16, 200, 4), 4);
        assert_eq!(columns(16, 62, 4), 2, "too narrow for 4 columns");
        assert_eq!(height(2, 80, 10), 4);
    }
}
