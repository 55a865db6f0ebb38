//! The TABLE kind: measured costs, one row each — what was measured, the median of its runs
//! on this machine, the range half of the runs fell in (the quartiles), and what published
//! measurements found elsewhere. Rows fill in as the run measures them. The figures are named
//! by [`crate::lab::calibrate`]; the rows and their words come from the scenario
//! ([`TableSpec`]).

use super::Figures;
use crate::i18n::Lang;
use crate::lab::calibrate::{Figure, metric_name};
use crate::report::Num;
use crate::scenarios::{TableRow, TableSpec};
use crate::style::{DIM, LABEL, cut_to, duration_ns};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};

/// The narrowest the published column is drawn; with less room it is left out.
const TYPICAL_MIN: usize = 12;
/// The median's column and the quartiles' column.
const MEDIAN_W: usize = 10;
const RANGE_W: usize = 20;

/// The panel's own words, in both languages.
struct Words {
    not_run: &'static str,
    cost: &'static str,
    median: &'static str,
    runs: &'static str,
    typical: &'static str,
    measuring: &'static str,
    skipped: &'static str,
}

const EN: Words = Words {
    not_run: "Not run yet. Enter measures each cost; a row fills in as each is measured.",
    cost: "cost",
    median: "here",
    runs: "half the runs",
    typical: "published",
    measuring: "…",
    skipped: "—",
};

const ZH: Words = Words {
    not_run: "还没运行。按 Enter 逐项测量；每测完一项，就填上一行。",
    cost: "操作",
    median: "本机",
    runs: "一半的运行在",
    typical: "公开测量",
    measuring: "…",
    skipped: "—",
};

fn words(lang: Lang) -> &'static Words {
    match lang {
        Lang::En => &EN,
        Lang::Zh => &ZH,
    }
}

/// `text` padded with spaces to `width` terminal cells (Chinese takes two a character).
fn padded(text: &str, width: usize) -> String {
    let used = Span::raw(text).width();
    format!("{text}{}", " ".repeat(width.saturating_sub(used)))
}

pub fn lines(
    run: Option<&Figures>,
    spec: &TableSpec,
    lang: Lang,
    width: u16,
) -> Vec<Line<'static>> {
    let w = words(lang);
    let Some(run) = run else {
        return vec![Line::from(Span::styled(w.not_run, DIM))];
    };
    let what = |row: &TableRow| match lang {
        Lang::En => row.en,
        Lang::Zh => row.zh,
    };
    // A long label is cut rather than pushing the figures off the line.
    let label_w = spec
        .rows
        .iter()
        .map(|r| Span::raw(what(r)).width())
        .chain([Span::raw(w.cost).width()])
        .max()
        .unwrap_or(0)
        .min(40)
        + 2;
    let typical_w = (width as usize).saturating_sub(label_w + MEDIAN_W + RANGE_W);
    let wide = typical_w >= TYPICAL_MIN;
    let bold = LABEL.add_modifier(Modifier::BOLD);
    let mut header = vec![
        Span::styled(padded(w.cost, label_w), bold),
        Span::styled(padded(w.median, MEDIAN_W), bold),
        Span::styled(padded(w.runs, RANGE_W), bold),
    ];
    if wide {
        header.push(Span::styled(cut_to(w.typical, typical_w), bold));
    }
    let mut out = vec![Line::from(header)];
    let figure =
        |row: &TableRow, f: Figure| run.metrics.get(&metric_name(row.key, f)).map(Num::as_f64);
    for row in spec.rows {
        let mut spans = vec![Span::styled(
            padded(&cut_to(what(row), label_w - 2), label_w),
            LABEL,
        )];
        match figure(row, Figure::Median) {
            Some(median) => {
                spans.push(Span::styled(
                    padded(&duration_ns(median), MEDIAN_W),
                    Style::new().add_modifier(Modifier::BOLD),
                ));
                let range = match (figure(row, Figure::Q1), figure(row, Figure::Q3)) {
                    (Some(q1), Some(q3)) => format!("{}–{}", duration_ns(q1), duration_ns(q3)),
                    _ => String::new(),
                };
                spans.push(Span::raw(padded(&range, RANGE_W)));
            }
            None => {
                let missing = if run.active { w.measuring } else { w.skipped };
                spans.push(Span::styled(
                    padded(missing, MEDIAN_W + RANGE_W),
                    Style::new().fg(Color::Yellow),
                ));
            }
        }
        if wide {
            spans.push(Span::styled(cut_to(row.typical, typical_w), DIM));
        }
        out.push(Line::from(spans));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padding_counts_cells() {
        assert_eq!(padded("揉面", 6), "揉面  ");
    }
}
