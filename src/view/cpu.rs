//! The CPU panel: one row per core (bar, percent, history), in 1, 2 or 4 columns depending on
//! the core count and the width, plus the total and the dashboard's own CPU%.

use crate::app::cpu::CpuHistory;
use crate::i18n::Lang;
use crate::style::{DIM, bar, load_color, sparkline};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

crate::phrases! {
    pub WORDS {
        measuring: " CPU · measuring… " => " CPU · 测量中… ",
        cores: " CPU · {n} cores · total " => " CPU · {n} 核 · 总计 ",
        own: " · conlab {pct}% " => " · conlab 自身 {pct}% ",
        footer: " runners at nice {nice} · every {ms} ms " => " runner 的 nice 值为 {nice} · 每 {ms} ms 采样 ",
        hidden: " +{n} cores: enlarge the window ·" => " 另有 {n} 核：请放大窗口 ·",
    }
}

/// Narrowest column: name, a short bar, the percent, a few samples of history.
const MIN_COLUMN: u16 = 18;
/// Rows a column may grow to before another column is worth it.
const COMFORTABLE_ROWS: usize = 8;
/// Blank cells between two columns.
const GAP: u16 = 2;

/// How many columns (1, 2 or 4) the cores are laid out in, for a panel of `width` and
/// `max_rows` lines: the fewest that keep columns short, else as many as the width allows.
pub fn columns(cores: usize, width: u16, max_rows: u16) -> usize {
    let fits = |c: usize| c as u16 * MIN_COLUMN + (c as u16 - 1) * GAP <= width.saturating_sub(2);
    let allowed: Vec<usize> = [1, 2, 4]
        .into_iter()
        .filter(|c| *c == 1 || fits(*c))
        .collect();
    let target = (max_rows as usize).min(COMFORTABLE_ROWS);
    allowed
        .iter()
        .copied()
        .find(|c| cores.div_ceil(*c) <= target)
        .unwrap_or(*allowed.last().unwrap_or(&1))
}

/// Height of the panel (borders included), at most `max_height`.
pub fn height(cores: usize, width: u16, max_height: u16) -> u16 {
    let max_rows = max_height.saturating_sub(2).max(1);
    let rows = cores.max(1).div_ceil(columns(cores, width, max_rows)) as u16;
    rows.min(max_rows) + 2
}

pub fn draw(frame: &mut Frame, area: Rect, cpu: &CpuHistory, interval_ms: u64, lang: Lang) {
    let cores = cpu.cores.len();
    let title = if cores == 0 {
        Line::from(WORDS.measuring.get(lang))
    } else {
        let own = format!("{:.1}", cpu.self_pct);
        Line::from(vec![
            Span::raw(WORDS.cores.with(lang, &[("n", &cores)])),
            Span::styled(
                format!("{:.0}%", cpu.total_now()),
                Style::new().fg(load_color(cpu.total_now())),
            ),
            Span::raw(WORDS.own.with(lang, &[("pct", &own)])),
        ])
    };
    let inner_rows = area.height.saturating_sub(2) as usize;
    let cols = columns(cores, area.width, inner_rows as u16);
    let rows = cores.div_ceil(cols);
    let shown_rows = rows.min(inner_rows);
    let hidden = cores.saturating_sub(shown_rows * cols);
    let mut footer = WORDS.footer.with(
        lang,
        &[("nice", &crate::runner::RUNNER_NICE), ("ms", &interval_ms)],
    );
    if hidden > 0 {
        footer = format!("{}{footer}", WORDS.hidden.with(lang, &[("n", &hidden)]));
    }
    let block = Block::bordered()
        .title(title)
        .title_bottom(Line::from(Span::styled(footer, DIM)).right_aligned());
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if inner.height == 0 || inner.width == 0 || cores == 0 {
        return;
    }
    let column_areas = Layout::horizontal(vec![Constraint::Ratio(1, cols as u32); cols])
        .spacing(GAP)
        .split(inner);
    for (c, column) in column_areas.iter().enumerate() {
        let lines: Vec<Line> = (0..shown_rows)
            .map(|r| c * rows + r)
            .filter(|i| *i < cores)
            .map(|i| core_line(cpu, i, cores, column.width as usize))
            .collect();
        frame.render_widget(Paragraph::new(lines), *column);
    }
}

fn core_line(cpu: &CpuHistory, i: usize, cores: usize, width: usize) -> Line<'static> {
    let name_w = format!("cpu{}", cores - 1).len();
    let now = cpu.now(i);
    let color = Style::new().fg(load_color(now));
    let bar_w = if width >= 30 { 8 } else { 4 };
    // name, space, bar, percent (6), space, history
    let history_w = width.saturating_sub(name_w + 1 + bar_w + 6 + 1);
    Line::from(vec![
        Span::raw(format!("{:<name_w$} ", format!("cpu{i}"))),
        Span::styled(bar(now as f64 / 100.0, bar_w), color),
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
        assert_eq!(columns(16, 80, 4), 4, "four narrow columns fit in 80");
        assert_eq!(columns(16, 200, 40), 2, "short columns when there is room");
        assert_eq!(columns(64, 200, 40), 4);
        assert_eq!(columns(16, 62, 4), 2, "too narrow for 4 columns");
        assert_eq!(height(2, 80, 10), 4);
    }
}
