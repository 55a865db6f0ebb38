//! The COUNTS kind: values a run's processes count over time (`count` events) — connections
//! open, requests a second, a server's threads — each drawn as a sparkline with its latest
//! value and its peak. The scenario names which counts to draw and what to call them
//! ([`CountsSpec`]); nothing here knows what they mean.

use super::Figures;
use crate::event::{Body, Event};
use crate::i18n::Lang;
use crate::scenarios::CountsSpec;
use crate::style::{DIM, LABEL, si, sparkline};
use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};
use std::collections::{BTreeMap, VecDeque};

/// Samples kept per count for its sparkline (the newest; older ones scroll off the left).
pub const SAMPLES: usize = 240;

/// Every count the run sent so far, by name.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Counts {
    series: BTreeMap<String, Series>,
}

#[derive(Debug, Clone, Default, PartialEq)]
struct Series {
    recent: VecDeque<f64>,
    peak: f64,
}

impl Counts {
    pub fn observe(&mut self, event: &Event) {
        if let Body::Count { name, value } = &event.body {
            let series = self.series.entry(name.clone()).or_default();
            if series.recent.len() == SAMPLES {
                series.recent.pop_front();
            }
            series.recent.push_back(*value);
            series.peak = series.peak.max(*value);
        }
    }

    /// The latest value of `name` and its peak, once it has been counted.
    pub fn latest(&self, name: &str) -> Option<(f64, f64)> {
        let s = self.series.get(name)?;
        Some((*s.recent.back()?, s.peak))
    }
}

/// The panel's own words, in both languages.
struct Words {
    not_run: &'static str,
    waiting: &'static str,
    peak: &'static str,
}

const EN: Words = Words {
    not_run: "Not run yet. Enter runs it; what it counts shows here as it changes.",
    waiting: "not counted yet",
    peak: "peak",
};

const ZH: Words = Words {
    not_run: "还没运行。按 Enter 运行；它计数的数值会随时间显示在这里。",
    waiting: "尚未计数",
    peak: "峰值",
};

fn words(lang: Lang) -> &'static Words {
    match lang {
        Lang::En => &EN,
        Lang::Zh => &ZH,
    }
}

/// A count as people read it: `950`, `12.3 k`, `1.50` for small fractions.
fn value(x: f64) -> String {
    if x.fract() != 0.0 && x.abs() < 10.0 {
        format!("{x:.2}")
    } else {
        si(x)
    }
}

pub fn lines(
    run: Option<(&Figures, &Counts)>,
    spec: &CountsSpec,
    lang: Lang,
    width: u16,
) -> Vec<Line<'static>> {
    let w = words(lang);
    let Some((_, counts)) = run else {
        return vec![Line::from(Span::styled(w.not_run, DIM))];
    };
    let name_of = |s: &crate::scenarios::CountSeries| match lang {
        Lang::En => s.en,
        Lang::Zh => s.zh,
    };
    let label_w = spec
        .series
        .iter()
        .map(|s| Span::raw(name_of(s)).width())
        .max()
        .unwrap_or(0)
        + 2;
    // The label, the sparkline, and room for `12.3 k · peak 12.3 k` after it.
    let spark_w = (width as usize).saturating_sub(label_w + 22).clamp(4, 60);
    let yellow = Style::new().fg(Color::Yellow);
    spec.series
        .iter()
        .map(|s| {
            let name = name_of(s);
            let pad = " ".repeat(label_w - Span::raw(name).width());
            let mut spans = vec![Span::styled(format!("{name}{pad}"), LABEL)];
            match counts.series.get(s.name).filter(|x| !x.recent.is_empty()) {
                Some(series) => {
                    let top = series.peak.max(f64::MIN_POSITIVE);
                    let scaled: Vec<f32> = series
                        .recent
                        .iter()
                        .map(|v| (v / top * 100.0) as f32)
                        .collect();
                    let latest = series.recent.back().copied().unwrap_or(0.0);
                    spans.push(Span::styled(sparkline(scaled.iter(), spark_w), yellow));
                    spans.push(Span::raw(format!(" {}", value(latest))));
                    spans.push(Span::styled(
                        format!(" · {} {}", w.peak, value(series.peak)),
                        DIM,
                    ));
                }
                None => spans.push(Span::styled(w.waiting, DIM)),
            }
            Line::from(spans)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(name: &str, value: f64) -> Event {
        Event::new(
            1.0,
            7,
            Body::Count {
                name: name.into(),
                value,
            },
        )
    }

    #[test]
    fn keeps_the_newest_samples_and_the_peak_of_all() {
        let mut c = Counts::default();
        c.observe(&count("open", 1e9));
        for i in 0..SAMPLES + 5 {
            c.observe(&count("open", i as f64));
        }
        c.observe(&Event::new(2.0, 7, Body::Log { text: "x".into() }));
        assert_eq!(c.series["open"].recent.len(), SAMPLES);
        assert_eq!(c.latest("open"), Some(((SAMPLES + 4) as f64, 1e9)));
        assert_eq!(c.latest("closed"), None);
    }

    #[test]
    fn values_read_at_a_glance() {
        assert_eq!(value(1000.0), "1000");
        assert_eq!(value(52_300.0), "52.3 k");
        assert_eq!(value(1.5), "1.50");
    }
}
