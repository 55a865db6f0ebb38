//! The SWEEP kind: figures against a swept parameter (a task count, a worker count) on a
//! logarithmic axis, one braille line per series, drawn point by point as the run measures
//! them; under the charts, while the sweep runs, the latest point's figures. What the axis, the
//! figures and the series are called comes from the scenario's [`SweepSpec`], in both
//! languages: nothing here knows one scenario's words.

use super::Figures;
use crate::event::Event;
use crate::i18n::{Lang, Phrase};
use crate::lab::sweep::{self, Point, Points};
use crate::report::Num;
use crate::scenarios::{Plot, SweepSpec};
use crate::style::{DIM, LABEL, metric};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};

/// The points of a run, built from its events.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sweep {
    pub points: Points,
}

impl Sweep {
    pub fn observe(&mut self, event: &Event) {
        self.points.observe(event);
    }
}

/// The words the panel draws itself.
const TITLE: Phrase = Phrase::new("SWEEP", "扫描");
const BY: Phrase = Phrase::new("by", "随");
const POINTS: Phrase = Phrase::new("points", "个点");
const OF: Phrase = Phrase::new("of", "/");
const LATEST: Phrase = Phrase::new("latest", "最新");
const WAITING: Phrase = Phrase::new("waiting for the first point…", "等待第一个点……");
const NOT_RUN: Phrase = Phrase::new(
    "Not run yet. Enter runs the sweep; each point is drawn here as soon as it is measured.",
    "尚未运行。按 Enter 开始扫描；每测完一个点，就立刻画在这里。",
);

/// Series colours, in the order the series first appear.
const COLORS: [Color; 6] = [
    Color::Cyan,
    Color::Yellow,
    Color::Magenta,
    Color::Green,
    Color::LightRed,
    Color::LightBlue,
];
/// Rows of a chart: fewer cannot show a slope, more only stretch it. A chart alone may
/// shrink to [`TIGHT_ROWS`] to leave room for the verdict under it.
const MIN_ROWS: usize = 3;
const TIGHT_ROWS: usize = 2;
const MAX_ROWS: usize = 8;
/// Width of the y labels, and the axis after them.
const Y_LABEL_W: usize = 6;
const Y_AXIS_W: usize = Y_LABEL_W + 1;

/// The panel's lines for a run (`None`: not run yet), in at most about `height` rows.
pub fn lines(
    run: Option<(&Figures, &Sweep)>,
    spec: &SweepSpec,
    lang: Lang,
    width: u16,
    height: u16,
) -> Vec<Line<'static>> {
    let Some((figures, state)) = run else {
        return vec![Line::from(Span::styled(NOT_RUN.get(lang), DIM))];
    };
    let width = usize::from(width);
    let points = &state.points;
    let m = figures.metrics;
    let get = |name: &str| m.get(name).map(Num::as_f64);

    // The first chart's title goes in the head line: rows are few at 80x24.
    let first = spec.plots.first().map_or("", |p| p.figure.label.get(lang));
    let mut head = vec![vec![
        Span::styled(
            format!("{} ", TITLE.get(lang)),
            LABEL.add_modifier(Modifier::BOLD),
        ),
        Span::raw(format!(
            "{first} {} {} · {}",
            BY.get(lang),
            spec.x.get(lang),
            count_text(points.len(), get(sweep::PLANNED), lang)
        )),
    ]];
    head.extend(legend(points, spec, lang));
    let mut out = pack(head, "  ", width);
    let Some((x_first, x_last)) = x_range(points, get(sweep::X_FIRST), get(sweep::X_LAST)) else {
        out.push(Line::from(Span::styled(WAITING.get(lang), DIM)));
        return out;
    };
    let axis = XAxis {
        first: x_first,
        last: x_last,
        cells: width.saturating_sub(Y_AXIS_W).max(8),
    };

    let latest = (!figures.done)
        .then(|| points.points.last())
        .flatten()
        .map(|p| latest_line(p, points, spec, lang, width));
    let fixed = out.len() + 1 + usize::from(latest.is_some());
    let (plots, rows) = fit(usize::from(height).saturating_sub(fixed), spec.plots.len());
    for (i, plot) in spec.plots.iter().take(plots).enumerate() {
        if i > 0 {
            let title = Span::styled(plot.figure.label.get(lang).to_string(), DIM);
            out.push(clip(Line::from(title), width));
        }
        out.extend(chart(points, plot, &axis, rows));
    }
    out.push(x_labels(&axis));
    out.extend(latest);
    out
}

/// `7 of 44 points` while it runs, `44 points` once none is planned beyond them.
fn count_text(done: usize, planned: Option<f64>, lang: Lang) -> String {
    match planned {
        Some(p) if (p as usize) > done => match lang {
            Lang::Zh => format!("{done}{}{} {}", OF.get(lang), p as usize, POINTS.get(lang)),
            Lang::En => format!(
                "{done} {} {} {}",
                OF.get(lang),
                p as usize,
                POINTS.get(lang)
            ),
        },
        _ => match lang {
            Lang::Zh => format!("{done} {}", POINTS.get(lang)),
            Lang::En => format!("{done} {}", POINTS.get(lang)),
        },
    }
}

/// `━ 10 µs`, `━ no hand-off`: each series in its colour, one chunk each.
fn legend(points: &Points, spec: &SweepSpec, lang: Lang) -> Vec<Vec<Span<'static>>> {
    points
        .series
        .iter()
        .enumerate()
        .map(|(i, series)| {
            vec![
                Span::styled("━ ", Style::new().fg(color(i))),
                Span::raw(series_name(spec, series, lang)),
            ]
        })
        .collect()
}

/// Chunks of spans laid out in lines no wider than `width`, `gap` between two on a line; a
/// chunk is never split between lines, and one wider than a line is cut.
fn pack(chunks: Vec<Vec<Span<'static>>>, gap: &str, width: usize) -> Vec<Line<'static>> {
    let mut lines: Vec<Vec<Span<'static>>> = Vec::new();
    let mut used = 0;
    for chunk in chunks {
        let w: usize = chunk.iter().map(Span::width).sum();
        match lines.last_mut() {
            Some(line) if used + gap.len() + w <= width => {
                line.push(Span::raw(gap.to_string()));
                line.extend(chunk);
                used += gap.len() + w;
            }
            _ => {
                lines.push(chunk);
                used = w;
            }
        }
    }
    lines
        .into_iter()
        .map(|l| clip(Line::from(l), width))
        .collect()
}

/// `line` cut to `width` columns.
fn clip(line: Line<'static>, width: usize) -> Line<'static> {
    if line.width() <= width {
        return line;
    }
    let mut left = width;
    let mut spans = Vec::new();
    for span in line.spans {
        let mut text = String::new();
        for ch in span.content.chars() {
            let w = Span::raw(ch.to_string()).width();
            if w > left {
                left = 0;
                break;
            }
            left -= w;
            text.push(ch);
        }
        spans.push(Span::styled(text, span.style));
        if left == 0 {
            break;
        }
    }
    Line::from(spans)
}

fn color(series: usize) -> Color {
    COLORS[series % COLORS.len()]
}

/// The spec's name for a series word, or the word itself.
fn series_name(spec: &SweepSpec, word: &str, lang: Lang) -> String {
    spec.series
        .iter()
        .find(|(w, _)| *w == word)
        .map_or_else(|| word.to_string(), |(_, term)| term.get(lang).to_string())
}

/// How many charts fit in `rows`, and how tall each is (a chart after the first needs a row
/// for its title; the first's is the head line).
fn fit(rows: usize, wanted: usize) -> (usize, usize) {
    let mut plots = wanted.max(1);
    while plots > 1 && plots * MIN_ROWS + plots - 1 > rows {
        plots -= 1;
    }
    let each = (rows.saturating_sub(plots - 1) / plots).clamp(TIGHT_ROWS, MAX_ROWS);
    (plots, each)
}

/// The range of x the axis spans: the planned one, else the points' own.
fn x_range(points: &Points, first: Option<f64>, last: Option<f64>) -> Option<(f64, f64)> {
    let seen = || {
        let xs = points.points.iter().map(|p| p.x).filter(|x| *x > 0.0);
        let lo = xs.clone().reduce(f64::min)?;
        let hi = xs.reduce(f64::max)?;
        Some((lo, hi))
    };
    match (first, last) {
        (Some(a), Some(b)) if a > 0.0 && b >= a => Some((a, b)),
        _ => seen(),
    }
}

/// A logarithmic x axis `cells` wide.
struct XAxis {
    first: f64,
    last: f64,
    cells: usize,
}

impl XAxis {
    /// The dot column (two per cell) of `x`.
    fn dot(&self, x: f64) -> usize {
        let dots = self.cells * 2 - 1;
        if self.last <= self.first || x <= 0.0 {
            return dots / 2;
        }
        let f = (x.ln() - self.first.ln()) / (self.last.ln() - self.first.ln());
        (f.clamp(0.0, 1.0) * dots as f64).round() as usize
    }

    /// Where labels go: powers of two over a short range, of ten over a long one.
    fn ticks(&self) -> Vec<f64> {
        let base: f64 = if self.last / self.first <= 65536.0 {
            2.0
        } else {
            10.0
        };
        let mut tick = base.powf(self.first.log(base).ceil());
        let mut ticks = Vec::new();
        while tick <= self.last * (1.0 + 1e-9) {
            ticks.push(tick);
            tick *= base;
        }
        ticks
    }
}

/// A y scale from `lo` at the bottom to `hi` at the top.
struct YScale {
    lo: f64,
    hi: f64,
    log: bool,
}

impl YScale {
    /// From 0 (or the lowest power of ten, on a log scale) to a round number above the top;
    /// a share (`_pct`) up to 100 %, so the axis holds still as its points arrive.
    fn of(name: &str, values: &[f64], log: bool) -> YScale {
        let max = values.iter().copied().fold(0.0, f64::max);
        let max = if name.ends_with("_pct") && !log {
            max.max(100.0)
        } else {
            max
        };
        if log {
            let min = values
                .iter()
                .copied()
                .filter(|v| *v > 0.0)
                .fold(f64::INFINITY, f64::min);
            if !min.is_finite() {
                return YScale {
                    lo: 1.0,
                    hi: 10.0,
                    log,
                };
            }
            let lo = 10f64.powf(min.log10().floor());
            let hi = 10f64.powf(max.log10().ceil()).max(lo * 10.0);
            YScale { lo, hi, log }
        } else {
            YScale {
                lo: 0.0,
                hi: round_up(max),
                log,
            }
        }
    }

    /// 0 at the bottom, 1 at the top.
    fn fraction(&self, v: f64) -> f64 {
        let f = if self.log {
            if v <= 0.0 {
                return 0.0;
            }
            (v.log10() - self.lo.log10()) / (self.hi.log10() - self.lo.log10())
        } else {
            (v - self.lo) / (self.hi - self.lo)
        };
        f.clamp(0.0, 1.0)
    }
}

/// The next of 1, 2, 5 × 10ⁿ at or above `x` (1 for nothing to show).
fn round_up(x: f64) -> f64 {
    if x <= 0.0 || !x.is_finite() {
        return 1.0;
    }
    let step = 10f64.powf(x.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|k| k * step)
        .find(|v| *v >= x * (1.0 - 1e-9))
        .unwrap_or(10.0 * step)
}

/// Braille cells: each holds 2 × 4 dots and the colour of the last series that set one.
struct Canvas {
    cells: usize,
    rows: usize,
    dots: Vec<u8>,
    colors: Vec<Option<Color>>,
}

impl Canvas {
    fn new(cells: usize, rows: usize) -> Canvas {
        Canvas {
            cells,
            rows,
            dots: vec![0; cells * rows],
            colors: vec![None; cells * rows],
        }
    }

    /// Sets dot (`x`, `y`), `y` counted from the top.
    fn set(&mut self, x: usize, y: usize, color: Color) {
        const BITS: [[u8; 4]; 2] = [[0x01, 0x02, 0x04, 0x40], [0x08, 0x10, 0x20, 0x80]];
        let (cx, cy) = (x / 2, y / 4);
        if cx >= self.cells || cy >= self.rows {
            return;
        }
        let i = cy * self.cells + cx;
        self.dots[i] |= BITS[x % 2][y % 4];
        self.colors[i] = Some(color);
    }

    /// A straight line of dots from `a` to `b` (Bresenham).
    fn line(&mut self, a: (usize, usize), b: (usize, usize), color: Color) {
        let (mut x, mut y) = (a.0 as i64, a.1 as i64);
        let (x1, y1) = (b.0 as i64, b.1 as i64);
        let (dx, dy) = ((x1 - x).abs(), -(y1 - y).abs());
        let (sx, sy) = (if x < x1 { 1 } else { -1 }, if y < y1 { 1 } else { -1 });
        let mut err = dx + dy;
        loop {
            self.set(x as usize, y as usize, color);
            if x == x1 && y == y1 {
                break;
            }
            let e2 = 2 * err;
            if e2 >= dy {
                err += dy;
                x += sx;
            }
            if e2 <= dx {
                err += dx;
                y += sy;
            }
        }
    }

    /// Row `r` as spans, runs of one colour merged.
    fn row(&self, r: usize) -> Vec<Span<'static>> {
        let mut spans: Vec<Span<'static>> = Vec::new();
        let mut text = String::new();
        let mut style = Style::new();
        for c in 0..self.cells {
            let i = r * self.cells + c;
            let (ch, s) = match self.colors[i] {
                Some(color) => (
                    char::from_u32(0x2800 + u32::from(self.dots[i])).unwrap_or(' '),
                    Style::new().fg(color),
                ),
                None => (' ', Style::new()),
            };
            if s != style && !text.is_empty() {
                spans.push(Span::styled(std::mem::take(&mut text), style));
            }
            style = s;
            text.push(ch);
        }
        if !text.is_empty() {
            spans.push(Span::styled(text, style));
        }
        spans
    }
}

/// One chart: `rows` rows of braille, y labels at the top and the bottom.
fn chart(points: &Points, plot: &Plot, axis: &XAxis, rows: usize) -> Vec<Line<'static>> {
    let name = plot.figure.name;
    let values: Vec<f64> = points
        .points
        .iter()
        .filter_map(|p| p.figure(name))
        .collect();
    let scale = YScale::of(name, &values, plot.log);
    let mut canvas = Canvas::new(axis.cells, rows);
    let dots_high = rows * 4 - 1;
    let at = |p: &Point| {
        let v = p.figure(name)?;
        let y = dots_high - (scale.fraction(v) * dots_high as f64).round() as usize;
        Some((axis.dot(p.x), y))
    };
    for (i, series) in points.series.iter().enumerate() {
        let dots: Vec<(usize, usize)> = points
            .of_series(series)
            .into_iter()
            .filter_map(at)
            .collect();
        for pair in dots.windows(2) {
            canvas.line(pair[0], pair[1], color(i));
        }
        if let [only] = dots[..] {
            canvas.set(only.0, only.1, color(i));
        }
    }
    (0..rows)
        .map(|r| {
            let label = match r {
                0 => y_label(name, scale.hi),
                r if r == rows - 1 => y_label(name, scale.lo),
                _ => String::new(),
            };
            let tick = if r == 0 || r == rows - 1 {
                '┤'
            } else {
                '│'
            };
            let mut spans = vec![Span::styled(format!("{label:>Y_LABEL_W$}{tick}"), DIM)];
            spans.extend(canvas.row(r));
            Line::from(spans)
        })
        .collect()
}

/// A y label in six characters: `100%`, `10k`, `1.5M`.
fn y_label(name: &str, v: f64) -> String {
    let unit = if name.ends_with("_pct") { "%" } else { "" };
    let (x, suffix) = match v.abs() {
        a if a >= 1e9 => (v / 1e9, "G"),
        a if a >= 1e6 => (v / 1e6, "M"),
        a if a >= 1e3 => (v / 1e3, "k"),
        _ => (v, ""),
    };
    let digits = if x.abs() >= 10.0 || x.fract() == 0.0 {
        format!("{x:.0}")
    } else if x.abs() >= 1.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.2}")
    };
    format!("{digits}{suffix}{unit}")
}

/// The x axis's labels, each under its place on the axis, none overlapping; the last one
/// always shows, so the axis says where it ends.
fn x_labels(axis: &XAxis) -> Line<'static> {
    let width = Y_AXIS_W + axis.cells;
    let mut row = vec![' '; width];
    let place = |tick: f64| {
        let text = if tick >= 1e4 {
            y_label("", tick)
        } else {
            format!("{tick:.0}")
        };
        let len = text.chars().count();
        let centre = Y_AXIS_W + axis.dot(tick) / 2;
        let start = centre
            .saturating_sub(len / 2)
            .clamp(Y_AXIS_W, width.saturating_sub(len));
        (start, text)
    };
    let ticks = axis.ticks();
    let last = ticks.last().map(|t| place(*t));
    let stop = last.as_ref().map_or(width, |(start, _)| *start);
    let mut free_from = Y_AXIS_W;
    let mut labels: Vec<(usize, String)> = Vec::new();
    for tick in &ticks[..ticks.len().saturating_sub(1)] {
        let (start, text) = place(*tick);
        // A space on each side, before the last label too.
        if start >= free_from && start + text.chars().count() < stop {
            free_from = start + text.chars().count() + 1;
            labels.push((start, text));
        }
    }
    labels.extend(last);
    for (start, text) in labels {
        for (k, ch) in text.chars().enumerate() {
            row[start + k] = ch;
        }
    }
    Line::from(Span::styled(
        row.into_iter().collect::<String>().trim_end().to_string(),
        DIM,
    ))
}

/// `64`, `2.5`: an x value as it reads on the axis.
fn x_text(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{x:.0}")
    } else {
        Num::Float(x).human()
    }
}

/// `latest ━ 10 µs · 64 tasks: useful work 43.0% · switches 85.0 k/s`, on one line: the
/// figures that do not fit are left out.
fn latest_line(
    point: &Point,
    points: &Points,
    spec: &SweepSpec,
    lang: Lang,
    width: usize,
) -> Line<'static> {
    let series = points
        .series
        .iter()
        .position(|s| *s == point.series)
        .unwrap_or(0);
    let mut chunks = vec![vec![
        Span::styled(format!("{} ", LATEST.get(lang)), LABEL),
        Span::styled("━ ", Style::new().fg(color(series))),
        Span::raw(format!(
            "{} · {} {}:",
            series_name(spec, &point.series, lang),
            x_text(point.x),
            spec.x.get(lang)
        )),
    ]];
    for figure in spec.latest {
        if let Some(value) = point.figures.get(figure.name) {
            let dot = if chunks.len() > 1 { "· " } else { "" };
            chunks.push(vec![Span::raw(format!(
                "{dot}{} {}",
                figure.label.get(lang),
                metric(figure.name, value)
            ))]);
        }
    }
    pack(chunks, " ", width).swap_remove(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_numbers_above() {
        assert_eq!(round_up(0.0), 1.0);
        assert_eq!(round_up(97.0), 100.0);
        assert_eq!(round_up(100.0), 100.0);
        assert_eq!(round_up(130.0), 200.0);
        assert_eq!(round_up(3.2), 5.0);
    }

    #[test]
    fn labels_fit_in_six() {
        assert_eq!(y_label("throughput_pct", 100.0), "100%");
        assert_eq!(y_label("switches_per_sec", 100_000.0), "100k");
        assert_eq!(y_label("switches_per_sec", 1_500_000.0), "1.5M");
        assert_eq!(y_label("speedup", 0.5), "0.50");
        assert!(y_label("x", 999_999.0).chars().count() <= Y_LABEL_W);
    }

    #[test]
    fn a_log_axis_puts_each_doubling_the_same_distance_apart() {
        let axis = XAxis {
            first: 1.0,
            last: 1024.0,
            cells: 51,
        };
        assert_eq!(axis.dot(1.0), 0);
        assert_eq!(axis.dot(1024.0), 101);
        let steps: Vec<usize> = [1.0, 2.0, 4.0, 8.0]
            .windows(2)
            .map(|w| axis.dot(w[1]) - axis.dot(w[0]))
            .collect();
        assert!(steps.iter().all(|s| (9..=11).contains(s)), "{steps:?}");
        assert_eq!(axis.ticks().len(), 11);
        let labels = x_labels(&axis).to_string();
        assert!(labels.trim_end().ends_with("1024"), "{labels}");
        assert!(
            labels.contains(" 1 ") || labels.trim_start().starts_with("1 "),
            "{labels}"
        );
    }

    #[test]
    fn x_values_read_as_they_are() {
        assert_eq!(x_text(256.0), "256");
        assert_eq!(x_text(2.5), "2.50");
    }

    #[test]
    fn charts_fit_the_rows_there_are() {
        assert_eq!(fit(5, 2), (1, 5));
        assert_eq!(fit(1, 1), (1, TIGHT_ROWS));
        assert_eq!(fit(3, 1), (1, 3));
        assert_eq!(fit(20, 2), (2, MAX_ROWS));
        assert_eq!(fit(7, 2), (2, 3));
        assert_eq!(fit(6, 2), (1, 6));
    }
}
