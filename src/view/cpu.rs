//! The CPU panel: the cores drawn as the room allows, from the most detailed shape that fits
//! to the most compact: on big screens a braille graph of each core's history several rows
//! tall; else a line per core (bar, percent, history) in 1, 2 or 4 columns; with many cores
//! a small cell per core, or a character per core. Plus the total and the dashboard's own
//! CPU%, and, on big screens or with many cores, a summary: the average, the busiest core and
//! how many are above 90%.
//!
//! Lines are laid out to the panel's width, so they are drawn as `Text`, never through a
//! `Paragraph`'s wrapping or truncating, which walks every grapheme once more each frame.

use super::braille;
use crate::app::cpu::CpuHistory;
use crate::i18n::Lang;
use crate::style::{DIM, bar, load_color, sparkline};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::Block;

crate::i18n::phrases! {
    pub WORDS {
        measuring: " CPU · measuring… " => " CPU · 测量中… ",
        cores: " CPU · {n} cores · total " => " CPU · {n} 核 · 总计 ",
        own: " · conlab {pct}% " => " · conlab 自身 {pct}% ",
        footer: " runners at nice {nice} · every {ms} ms " => " runner 的 nice 值为 {nice} · 每 {ms} ms 采样 ",
        hidden: " +{n} cores: enlarge the window ·" => " 另有 {n} 核：请放大窗口 ·",
        average: "avg {pct}%" => "平均 {pct}%",
        busiest: "busiest {core} {pct}%" => "最忙 {core} {pct}%",
        above: "{n} above {limit}%" => "{n} 核高于 {limit}%",
    }
}

/// Narrowest column: name, a short bar, the percent, a few samples of history.
const MIN_COLUMN: u16 = 18;
/// Rows a column may grow to before another column is worth it.
const COMFORTABLE_ROWS: usize = 8;
/// Blank cells between two columns.
const GAP: u16 = 2;
/// Rows a graph needs at least to be more than a sparkline.
const MIN_GRAPH_ROWS: usize = 2;
/// Cells a graph needs at least beside its label (two samples a cell).
const MIN_GRAPH_WIDTH: usize = 12;
/// Graphs go beside each other in at most this many columns; more would be slivers.
const MAX_GRAPH_COLUMNS: usize = 4;
/// A core above this is counted in the summary as busy.
const BUSY_PCT: f32 = 90.0;
/// A compact strip puts the cores in groups of this many, a blank between groups.
const STRIP_GROUP: usize = 8;
/// From this many cores on, the summary row is worth a line on a big screen.
const SUMMARY_FROM: usize = 5;

/// How the cores are drawn.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Shape {
    /// A label and a braille graph `graph_rows` tall per core, in `cols` columns.
    Graphs { cols: usize, graph_rows: usize },
    /// A line per core: name, bar, percent and a sparkline of its history.
    Lines { cols: usize },
    /// A small cell per core: its number, a level and the percent.
    Cells { cols: usize },
    /// A character per core showing its level, `per_row` to a line.
    Strip { per_row: usize },
}

/// A shape for the panel, what it costs in lines and how many cores it shows.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Plan {
    pub shape: Shape,
    /// A summary line above the cores.
    pub summary: bool,
    /// Lines it takes inside the border.
    pub lines: usize,
    /// Cores it shows; the rest are named in the footer.
    pub shown: usize,
}

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

/// The most detailed shape that shows every core in a panel of `width` (borders included)
/// with `max_rows` lines inside; graphs only when `big`. When none does, the strip, with as
/// many cores as fit.
pub fn plan(cores: usize, width: u16, max_rows: u16, big: bool) -> Plan {
    let inner = usize::from(width.saturating_sub(2));
    let max_rows = usize::from(max_rows);
    let cores = cores.max(1);
    let summary = big && cores >= SUMMARY_FROM && max_rows >= 2;
    let room = max_rows - usize::from(summary);
    if big && let Some(shape) = graphs(cores, inner, room) {
        return Plan::of(shape, summary, cores, room);
    }
    let cols = columns(cores, width, room as u16);
    if cores.div_ceil(cols) <= room {
        return Plan::of(Shape::Lines { cols }, summary, cores, room);
    }
    // Squeezed: the summary says what the small shapes cannot.
    let summary = max_rows >= 2;
    let room = max_rows - usize::from(summary);
    let cell = cell_width(cores);
    let cols = ((inner + usize::from(GAP)) / (cell + usize::from(GAP))).max(1);
    if cores.div_ceil(cols) <= room {
        return Plan::of(Shape::Cells { cols }, summary, cores, room);
    }
    let strip = inner.saturating_sub(number_width(cores) + 1);
    let groups = (strip + 1) / (STRIP_GROUP + 1);
    let per_row = if groups == 0 {
        strip.max(1)
    } else {
        groups * STRIP_GROUP
    };
    Plan::of(Shape::Strip { per_row }, summary, cores, room)
}

impl Plan {
    fn of(shape: Shape, summary: bool, cores: usize, room: usize) -> Plan {
        let (rows, per_row) = match shape {
            Shape::Graphs { cols, graph_rows } => (cores.div_ceil(cols) * graph_rows, cols),
            Shape::Lines { cols } | Shape::Cells { cols } => (cores.div_ceil(cols), cols),
            Shape::Strip { per_row } => (cores.div_ceil(per_row), per_row),
        };
        let shown = match shape {
            // A graph is never cut: it is only chosen when all fit.
            Shape::Graphs { .. } => cores,
            // Cores fill a line, one after another.
            Shape::Strip { .. } => cores.min(room * per_row),
            // Cores fill columns top to bottom, `rows` to a column.
            _ => cores.min(room.min(rows) * per_row),
        };
        Plan {
            shape,
            summary,
            lines: usize::from(summary) + rows.min(room),
            shown,
        }
    }
}

/// The widest graphs, several rows tall, that fit every core in `inner` columns and `room`
/// lines: the largest graph (rows × width), the fewest columns when two are as large.
fn graphs(cores: usize, inner: usize, room: usize) -> Option<Shape> {
    (1..=MAX_GRAPH_COLUMNS)
        .filter_map(|cols| {
            let cell = inner.saturating_sub((cols - 1) * usize::from(GAP)) / cols;
            let graph_w = cell.saturating_sub(label_width(cores, cell) + 1);
            let graph_rows = room / cores.div_ceil(cols);
            (graph_w >= MIN_GRAPH_WIDTH && graph_rows >= MIN_GRAPH_ROWS).then_some((
                graph_rows * graph_w,
                cols,
                graph_rows,
            ))
        })
        .fold(
            None,
            |best: Option<(usize, usize, usize)>, this| match best {
                Some(b) if b.0 >= this.0 => Some(b),
                _ => Some(this),
            },
        )
        .map(|(_, cols, graph_rows)| Shape::Graphs { cols, graph_rows })
}

/// Height of the panel (borders included), at most `max_height`.
pub fn height(cores: usize, width: u16, max_height: u16, big: bool) -> u16 {
    let max_rows = max_height.saturating_sub(2).max(1);
    let lines = plan(cores, width, max_rows, big).lines as u16;
    lines.min(max_rows) + 2
}

pub fn draw(
    frame: &mut Frame,
    area: Rect,
    cpu: &CpuHistory,
    // The niceness the runs on screen got, for the footer.
    nice: i32,
    interval_ms: u64,
    lang: Lang,
    big: bool,
) {
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
    let plan = plan(cores, area.width, area.height.saturating_sub(2), big);
    let hidden = cores.saturating_sub(plan.shown);
    let mut footer = WORDS
        .footer
        .with(lang, &[("nice", &nice), ("ms", &interval_ms)]);
    if hidden > 0 {
        footer = format!("{}{footer}", WORDS.hidden.with(lang, &[("n", &hidden)]));
    }
    let block = Block::bordered()
        .title(title)
        .title_bottom(Line::from(Span::styled(footer, DIM)).right_aligned());
    let mut inner = block.inner(area);
    frame.render_widget(block, area);
    if inner.height == 0 || inner.width == 0 || cores == 0 {
        return;
    }
    if plan.summary {
        frame.render_widget(summary(cpu, lang), Rect { height: 1, ..inner });
        inner.y += 1;
        inner.height -= 1;
    }
    match plan.shape {
        Shape::Graphs { cols, graph_rows } => draw_graphs(frame, inner, cpu, cols, graph_rows),
        Shape::Lines { cols } => draw_columns(frame, inner, cores, cols, |i, width| {
            core_line(cpu, i, cores, width)
        }),
        Shape::Cells { cols } => {
            draw_columns(frame, inner, cores, cols, |i, _| core_cell(cpu, i, cores))
        }
        Shape::Strip { per_row } => draw_strip(frame, inner, cpu, per_row),
    }
}

/// The cores in `cols` columns, top to bottom then left to right, one line each.
fn draw_columns(
    frame: &mut Frame,
    inner: Rect,
    cores: usize,
    cols: usize,
    line: impl Fn(usize, usize) -> Line<'static>,
) {
    let rows = cores.div_ceil(cols);
    let shown_rows = rows.min(usize::from(inner.height));
    let column_areas = Layout::horizontal(vec![Constraint::Ratio(1, cols as u32); cols])
        .spacing(GAP)
        .split(inner);
    for (c, column) in column_areas.iter().enumerate() {
        let lines: Vec<Line> = (0..shown_rows)
            .map(|r| c * rows + r)
            .filter(|i| *i < cores)
            .map(|i| line(i, usize::from(column.width)))
            .collect();
        frame.render_widget(Text::from(lines), *column);
    }
}

/// `avg 46% · busiest cpu8 96% · 3 above 90%`, each figure in its load's colour.
fn summary(cpu: &CpuHistory, lang: Lang) -> Line<'static> {
    let cores = cpu.cores.len();
    let now: Vec<f32> = (0..cores).map(|i| cpu.now(i)).collect();
    let average = now.iter().sum::<f32>() / cores.max(1) as f32;
    let (busiest, top) = now
        .iter()
        .copied()
        .enumerate()
        .fold((0, f32::MIN), |b, c| if c.1 > b.1 { c } else { b });
    let busy = now.iter().filter(|p| **p > BUSY_PCT).count();
    let styled = |text: String, pct: f32| Span::styled(text, Style::new().fg(load_color(pct)));
    let separator = || Span::styled(" · ", DIM);
    Line::from(vec![
        styled(
            WORDS
                .average
                .with(lang, &[("pct", &format!("{average:.0}"))]),
            average,
        ),
        separator(),
        styled(
            WORDS.busiest.with(
                lang,
                &[
                    ("core", &format!("cpu{busiest}")),
                    ("pct", &format!("{top:.0}")),
                ],
            ),
            top,
        ),
        separator(),
        Span::raw(
            WORDS
                .above
                .with(lang, &[("n", &busy), ("limit", &BUSY_PCT)]),
        ),
    ])
}

/// Columns the number of the last core takes: 3 for `127`.
fn number_width(cores: usize) -> usize {
    cores.saturating_sub(1).to_string().len()
}

/// Columns a core's name takes: `cpu127` among 128 cores.
fn name_width(cores: usize) -> usize {
    "cpu".len() + number_width(cores)
}

/// Columns of the label in front of a graph: name, bar, percent.
fn label_width(cores: usize, cell: usize) -> usize {
    name_width(cores) + 1 + bar_width(cell) + 6
}

/// A long bar where a line or a cell has room for it.
fn bar_width(width: usize) -> usize {
    if width >= 30 { 8 } else { 4 }
}

/// `cpu3 ███▌      45%`: name, bar and percent, in the core's load colour.
fn label(cpu: &CpuHistory, i: usize, cores: usize, width: usize) -> Vec<Span<'static>> {
    let name_w = name_width(cores);
    let now = cpu.now(i);
    let color = Style::new().fg(load_color(now));
    vec![
        Span::raw(format!("{:<name_w$} ", format!("cpu{i}"))),
        Span::styled(bar(now as f64 / 100.0, bar_width(width)), color),
        Span::styled(format!("{now:>5.0}%"), color),
    ]
}

fn core_line(cpu: &CpuHistory, i: usize, cores: usize, width: usize) -> Line<'static> {
    let mut spans = label(cpu, i, cores, width);
    let history_w = width.saturating_sub(spans.iter().map(Span::width).sum::<usize>() + 1);
    let color = Style::new().fg(load_color(cpu.now(i)));
    spans.push(Span::raw(" "));
    spans.push(Span::styled(
        sparkline(cpu.cores[i].iter(), history_w),
        color,
    ));
    Line::from(spans)
}

/// Each core a label and its history as a braille graph beside it; the graph's rows coloured
/// by the load they stand for, red at the top.
fn draw_graphs(frame: &mut Frame, inner: Rect, cpu: &CpuHistory, cols: usize, graph_rows: usize) {
    let cores = cpu.cores.len();
    let per_column = cores.div_ceil(cols);
    let column_areas = Layout::horizontal(vec![Constraint::Ratio(1, cols as u32); cols])
        .spacing(GAP)
        .split(inner);
    let row_styles: Vec<Style> = (0..graph_rows)
        .map(|r| {
            let middle = (graph_rows - r) as f32 - 0.5;
            Style::new().fg(load_color(middle / graph_rows as f32 * 100.0))
        })
        .collect();
    for (c, column) in column_areas.iter().enumerate() {
        let width = usize::from(column.width);
        let label_w = label_width(cores, width);
        let graph_w = width.saturating_sub(label_w + 1);
        let mut lines = Vec::with_capacity(per_column * graph_rows);
        for i in (c * per_column..(c + 1) * per_column).filter(|i| *i < cores) {
            let graph = braille::area_graph(cpu.cores[i].iter(), graph_w, graph_rows);
            for (r, (row, style)) in graph.into_iter().zip(&row_styles).enumerate() {
                let mut spans = if r == 0 {
                    label(cpu, i, cores, width)
                } else {
                    vec![Span::raw(" ".repeat(label_w))]
                };
                spans.push(Span::raw(" "));
                spans.push(Span::styled(row, *style));
                lines.push(Line::from(spans));
            }
        }
        frame.render_widget(Text::from(lines), *column);
    }
}

/// The level characters of a strip or a cell: never blank, so an idle core still shows.
const LEVELS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

fn level(pct: f32) -> char {
    LEVELS[((pct.clamp(0.0, 100.0) / 100.0 * 7.0).round() as usize).min(7)]
}

/// Columns of a compact cell: number, level, percent.
fn cell_width(cores: usize) -> usize {
    number_width(cores) + 1 + 1 + 4
}

/// `127 ▆  87`: a core's number, its level and its percent, in its load colour.
fn core_cell(cpu: &CpuHistory, i: usize, cores: usize) -> Line<'static> {
    let number_w = number_width(cores);
    let now = cpu.now(i);
    let color = Style::new().fg(load_color(now));
    Line::from(vec![
        Span::styled(format!("{i:>number_w$} "), DIM),
        Span::styled(format!("{}{now:>4.0}", level(now)), color),
    ])
}

/// A character per core, `per_row` to a line in groups of eight, each line named by its
/// first core.
fn draw_strip(frame: &mut Frame, inner: Rect, cpu: &CpuHistory, per_row: usize) {
    let cores = cpu.cores.len();
    let number_w = number_width(cores);
    let lines: Vec<Line> = (0..cores)
        .step_by(per_row)
        .take(usize::from(inner.height))
        .map(|first| {
            let mut spans = vec![Span::styled(format!("{first:>number_w$} "), DIM)];
            for i in first..(first + per_row).min(cores) {
                if i > first && (i - first) % STRIP_GROUP == 0 && per_row > STRIP_GROUP {
                    spans.push(Span::raw(" "));
                }
                let now = cpu.now(i);
                spans.push(Span::styled(
                    level(now).to_string(),
                    Style::new().fg(load_color(now)),
                ));
            }
            Line::from(spans)
        })
        .collect();
    frame.render_widget(Text::from(lines), inner);
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
        assert_eq!(height(2, 80, 10, false), 4);
    }

    #[test]
    fn big_screens_draw_graphs_while_every_core_fits() {
        // 200x60: the CPU panel is 110 wide, 22 lines inside.
        let graphs = |cores| match plan(cores, 110, 22, true).shape {
            Shape::Graphs { cols, graph_rows } => Some((cols, graph_rows)),
            _ => None,
        };
        assert_eq!(graphs(2), Some((1, 11)), "two tall graphs");
        assert_eq!(graphs(16), Some((2, 2)), "two columns under the summary");
        assert_eq!(graphs(64), None);
        assert_eq!(plan(64, 110, 22, true).shape, Shape::Lines { cols: 4 });
        assert!(matches!(
            plan(128, 110, 22, true).shape,
            Shape::Cells { .. }
        ));
        assert_eq!(plan(2, 110, 22, false).shape, Shape::Lines { cols: 1 });
        assert!(!plan(2, 110, 22, true).summary, "two cores need no summary");
        assert!(plan(16, 110, 22, true).summary);
    }

    #[test]
    fn many_cores_on_a_small_screen_squeeze_into_cells_then_a_strip() {
        // 80x24: 78 wide, four lines inside.
        assert_eq!(plan(16, 80, 4, false).shape, Shape::Lines { cols: 4 });
        assert!(!plan(16, 80, 4, false).summary, "as it always was");
        let many = plan(128, 80, 4, false);
        assert_eq!(many.shape, Shape::Strip { per_row: 64 });
        assert_eq!((many.summary, many.lines, many.shown), (true, 3, 128));
        let too_many = plan(512, 80, 4, false);
        assert_eq!(
            too_many.shown,
            3 * 64,
            "three lines of 64 under the summary"
        );
    }
}
