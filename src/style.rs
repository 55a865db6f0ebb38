//! Colours and number formats every drawing shares. A leaf: it knows no model and no view,
//! so panels, overlays and footers can all use it without importing each other.

use crate::report::Num;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::Span;

/// Secondary text.
pub const DIM: Style = Style::new().fg(Color::DarkGray);
/// A value that is wrong (a balance that should be 0 and is not).
pub const WRONG: Style = Style::new().fg(Color::Red).add_modifier(Modifier::BOLD);
/// A value that is as it should be.
pub const RIGHT: Style = Style::new().fg(Color::Green);
/// Labels in front of figures.
pub const LABEL: Style = Style::new().fg(Color::Cyan);

/// A figure's label, padded so the figures line up.
pub fn label(text: &str) -> Span<'static> {
    Span::styled(format!("{text:<13}"), LABEL)
}

/// `450 ns`, `12.3 µs`, `4.56 ms`, `1.20 s`.
pub fn duration_ns(ns: f64) -> String {
    match ns {
        n if n < 1e3 => format!("{n:.0} ns"),
        n if n < 1e6 => format!("{} µs", three_digits(n / 1e3)),
        n if n < 1e9 => format!("{} ms", three_digits(n / 1e6)),
        n => format!("{} s", three_digits(n / 1e9)),
    }
}

/// Three significant digits: `4.56`, `45.6`, `456`.
fn three_digits(x: f64) -> String {
    match x.abs() {
        a if a < 10.0 => format!("{x:.2}"),
        a if a < 100.0 => format!("{x:.1}"),
        _ => format!("{x:.0}"),
    }
}

pub fn duration_ms(ms: f64) -> String {
    duration_ns(ms * 1e6)
}

/// A metric formatted by its unit suffix (`_ns`, `_ms`, `_pct`, `_per_sec`).
pub fn metric(name: &str, value: Num) -> String {
    let x = value.as_f64();
    if name.ends_with("_ns") || name.ends_with("_ns_total") || name.ends_with("_ns_max") {
        duration_ns(x)
    } else if name.ends_with("_us") {
        duration_ns(x * 1e3)
    } else if name.ends_with("_ms") {
        duration_ms(x)
    } else if name.ends_with("_pct") {
        format!("{x:.1}%")
    } else if name.ends_with("_per_sec") {
        format!("{}/s", si(x))
    } else {
        value.human_for(name)
    }
}

/// `950`, `12.3 k`, `39.2 M`, `1.23 G`: large counts at a glance.
pub fn si(x: f64) -> String {
    match x.abs() {
        a if a >= 1e9 => format!("{:.2} G", x / 1e9),
        a if a >= 1e6 => format!("{:.1} M", x / 1e6),
        a if a >= 1e4 => format!("{:.1} k", x / 1e3),
        _ => format!("{x:.0}"),
    }
}

/// A metric's name for people: `wall_ms` → `wall time`, `owner_changes` → `hand-offs`.
pub fn metric_label(name: &str) -> String {
    match name {
        "wall_ms" => "wall time".into(),
        "cpu_ms" => "cpu time".into(),
        "ops_per_sec" => "throughput".into(),
        "wait_ns_total" => "waiting, total".into(),
        "wait_ns_max" => "waiting, longest".into(),
        "owner_changes" => "hand-offs".into(),
        "cpu_cores_used" => "cores used".into(),
        "ops_per_cpu_sec" => "ops per CPU-s".into(),
        "gil_handoffs_per_sec" => "GIL hand-offs/s".into(),
        "lookups_per_sec" => "lookups/s".into(),
        "fork_us" => "fork() call".into(),
        "start_ms" => "spawn to start".into(),
        "duration_ms" => "duration".into(),
        "round_trips_per_sec" => "round trips".into(),
        "requests_per_sec" => "requests".into(),
        "server_threads_max" => "server threads".into(),
        "server_peak_rss_mib" => "server peak MiB".into(),
        "server_cpu_ms" => "server CPU time".into(),
        // The value says µs; the label need not.
        other if other.ends_with("_us") => other.trim_end_matches("_us").replace('_', " "),
        other => other.trim_end_matches("_pct").replace('_', " "),
    }
}

/// A horizontal bar of `width` cells filled to `fraction` (0–1), with eighth-cell precision.
pub fn bar(fraction: f64, width: usize) -> String {
    const PARTS: [char; 8] = [' ', '▏', '▎', '▍', '▌', '▋', '▊', '▉'];
    let eighths = (fraction.clamp(0.0, 1.0) * width as f64 * 8.0).round() as usize;
    let mut out: String = "█".repeat(eighths / 8);
    if eighths / 8 < width {
        out.push(PARTS[eighths % 8]);
        out.push_str(&" ".repeat(width - eighths / 8 - 1));
    }
    out
}

/// The last `width` values (0–100) as block characters, newest on the right.
pub fn sparkline<'a>(
    values: impl DoubleEndedIterator<Item = &'a f32> + ExactSizeIterator,
    width: usize,
) -> String {
    const LEVELS: [char; 9] = [' ', '▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let skip = values.len().saturating_sub(width);
    let line: String = values
        .skip(skip)
        .map(|v| {
            let level = ((v.clamp(0.0, 100.0) / 100.0) * 8.0).round() as usize;
            // A busy-but-tiny value still shows as the lowest bar rather than nothing.
            LEVELS[if *v > 0.5 { level.max(1) } else { level }]
        })
        .collect();
    format!("{line:>width$}")
}

/// Green under 50%, yellow under 85%, red above: how loaded a core is.
pub fn load_color(pct: f32) -> Color {
    match pct {
        p if p < 50.0 => Color::Green,
        p if p < 85.0 => Color::Yellow,
        _ => Color::Red,
    }
}

/// Where a scrolled view stands: `+3 above · +5 below`, leaving out a side with nothing;
/// `None` when everything shows.
pub fn scroll_position(above: usize, below: usize) -> Option<String> {
    match (above, below) {
        (0, 0) => None,
        (0, below) => Some(format!("+{below} below")),
        (above, 0) => Some(format!("+{above} above")),
        (above, below) => Some(format!("+{above} above · +{below} below")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_fill_by_eighths() {
        assert_eq!(bar(0.0, 4), "    ");
        assert_eq!(bar(1.0, 4), "████");
        assert_eq!(bar(0.5, 4), "██  ");
        assert_eq!(bar(0.53, 4).chars().count(), 4);
    }

    #[test]
    fn rates_are_compact() {
        assert_eq!(si(950.0), "950");
        assert_eq!(si(39_192_806.0), "39.2 M");
        assert_eq!(si(12_345.0), "12.3 k");
    }

    #[test]
    fn durations_pick_a_unit() {
        assert_eq!(duration_ns(450.0), "450 ns");
        assert_eq!(duration_ns(12_300.0), "12.3 µs");
        assert_eq!(duration_ms(3.1), "3.10 ms");
        assert_eq!(duration_ms(283.2), "283 ms");
        assert_eq!(duration_ms(1200.0), "1.20 s");
        assert_eq!(metric("fork_us", Num::Float(118.4)), "118 µs");
        assert_eq!(metric("rtt_p50_us", Num::Float(11.3)), "11.3 µs");
    }

    #[test]
    fn sparkline_keeps_the_newest_and_pads_left() {
        let v = [0.0f32, 100.0, 50.0];
        assert_eq!(sparkline(v.iter(), 2), "█▄");
        assert_eq!(sparkline(v.iter(), 5), "   █▄");
    }
}
