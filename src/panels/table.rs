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
use crate::style::{DIM, LABEL, duration_ns};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};

/// Below this width the published column is left out.
const WIDE: u16 = 72;

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
    let label_w = spec
        .rows
        .iter()
        .map(|r| Span::raw(what(r)).width())
        .chain([Span::raw(w.cost).width()])
        .max()
        .unwrap_or(0)
        .min(44)
        + 2;
    let wide = width >= WIDE;
    let bold = LABEL.add_modifier(Modifier::BOLD);
    let mut header = vec![
        Span::styled(padded(w.cost, label_w), bold),
        Span::styled(padded(w.median, 10), bold),
        Span::styled(padded(w.runs, 20), bold),
    ];
    if wide {
        header.push(Span::styled(w.typical, bold));
    }
    let mut out = vec![Line::from(header)];
    let figure =
        |row: &TableRow, f: Figure| run.metrics.get(&metric_name(row.key, f)).map(Num::as_f64);
    for row in spec.rows {
        let mut spans = vec![Span::styled(padded(what(row), label_w), LABEL)];
        match figure(row, Figure::Median) {
            Some(median) => {
                spans.push(Span::styled(
                    padded(&duration_ns(median), 10),
                    Style::new().add_modifier(Modifier::BOLD),
                ));
                let range = match (figure(row, Figure::Q1), figure(row, Figure::Q3)) {
                    (Some(q1), Some(q3)) => format!("{}–{}", duration_ns(q1), duration_ns(q3)),
                    _ => String::new(),
                };
                spans.push(Span::raw(padded(&range, 20)));
            }
            None => {
                let missing = if run.active { w.measuring } else { w.skipped };
                spans.push(Span::styled(
                    padded(missing, 30),
                    Style::new().fg(Color::Yellow),
                ));
            }
        }
        if wide {
            spans.push(Span::styled(row.typical, DIM));
        }
        out.push(Line::from(spans));
    }
    out
}
