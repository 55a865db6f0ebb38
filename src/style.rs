//! Colours, number formats and text measures every drawing shares. A leaf: it knows no model
//! and no view, so panels, overlays and footers can all use it without importing each other.
//!
//! Text is measured in terminal columns, not characters: a Chinese character takes two.

use crate::i18n::{Lang, Phrase};
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
    Span::styled(pad(text, 13), LABEL)
}

/// The columns `text` takes on a terminal.
pub fn columns(text: &str) -> usize {
    Span::raw(text).width()
}

/// `text` cut to `width` terminal cells, with `…` where it was cut, so it stays one line.
pub fn cut_to(text: &str, width: usize) -> String {
    if columns(text) <= width {
        return text.to_string();
    }
    let mut out = String::new();
    for c in text.chars() {
        if columns(&out) + columns(c.encode_utf8(&mut [0; 4])) + 1 > width {
            break;
        }
        out.push(c);
    }
    out + "…"
}

/// `text` followed by spaces up to `width` columns, as `format!("{text:<width$}")` would pad
/// it if every character took one column; longer text is left whole.
pub fn pad(text: &str, width: usize) -> String {
    let fill = width.saturating_sub(columns(text));
    format!("{text}{}", " ".repeat(fill))
}

/// Spaces up to `width` columns, then `text`: `format!("{text:>width$}")` by columns.
pub fn pad_left(text: &str, width: usize) -> String {
    let fill = width.saturating_sub(columns(text));
    format!("{}{text}", " ".repeat(fill))
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

/// The names people read for metrics, in both languages. A metric not listed is shown by its
/// name, underscores as spaces, in either language.
pub const METRIC_LABELS: &[(&str, Phrase)] = &[
    ("wall_ms", Phrase::new("wall time", "耗时")),
    ("cpu_ms", Phrase::new("cpu time", "CPU 时间")),
    ("ops_per_sec", Phrase::new("throughput", "吞吐量")),
    ("wait_ns_total", Phrase::new("waiting, total", "等待总时长")),
    ("wait_ns_max", Phrase::new("waiting, longest", "最长等待")),
    ("owner_changes", Phrase::new("hand-offs", "锁易手次数")),
    ("cpu_cores_used", Phrase::new("cores used", "用到的核数")),
    (
        "ops_per_cpu_sec",
        Phrase::new("ops per CPU-s", "每 CPU 秒操作"),
    ),
    (
        "gil_handoffs_per_sec",
        Phrase::new("GIL hand-offs/s", "GIL 交接/秒"),
    ),
    ("lookups_per_sec", Phrase::new("lookups/s", "查找/秒")),
    ("fork_us", Phrase::new("fork() call", "fork() 调用")),
    ("start_ms", Phrase::new("spawn to start", "启动到运行")),
    ("duration_ms", Phrase::new("duration", "时长")),
    ("round_trips_per_sec", Phrase::new("round trips", "往返/秒")),
    ("balance", Phrase::new("balance", "余额")),
    ("lost_updates", Phrase::new("lost updates", "丢失的更新")),
    ("contended", Phrase::new("contended", "争用次数")),
    ("acquisitions", Phrase::new("acquisitions", "加锁次数")),
    ("mismatches", Phrase::new("mismatches", "错配")),
    ("parent_pid", Phrase::new("parent pid", "父进程 pid")),
    ("child_pid", Phrase::new("child pid", "子进程 pid")),
    ("child_0_pid", Phrase::new("child 0 pid", "子进程 0 pid")),
    ("children", Phrase::new("children", "子进程数")),
    ("command_pid", Phrase::new("command pid", "命令 pid")),
    ("exitcode", Phrase::new("exitcode", "退出码")),
    ("returncode", Phrase::new("returncode", "返回码")),
    ("signal", Phrase::new("signal", "信号")),
    ("stdout_bytes", Phrase::new("stdout bytes", "stdout 字节")),
    ("stderr_bytes", Phrase::new("stderr bytes", "stderr 字节")),
    ("tasks", Phrase::new("tasks", "任务数")),
    ("workers", Phrase::new("workers", "工作进程数")),
    ("tasks_waited", Phrase::new("tasks waited", "等待过的任务")),
    ("wait_ms_max", Phrase::new("wait ms max", "最长等待 ms")),
    (
        "max_concurrent",
        Phrase::new("max concurrent", "最多同时运行"),
    ),
    ("busy_pct", Phrase::new("busy", "忙碌占比")),
    ("items_got", Phrase::new("items got", "取到的数据")),
    ("items_per_sec", Phrase::new("items per sec", "数据/秒")),
    ("latency_p50_us", Phrase::new("latency p50", "延迟 p50")),
    ("latency_p99_us", Phrase::new("latency p99", "延迟 p99")),
    ("latency_max_us", Phrase::new("latency max", "最大延迟")),
    ("depth_max", Phrase::new("depth max", "最大深度")),
    ("rtt_p50_us", Phrase::new("rtt p50", "往返 p50")),
    ("rtt_p99_us", Phrase::new("rtt p99", "往返 p99")),
    ("rtt_max_us", Phrase::new("rtt max", "最长往返")),
    ("rtt_mean_us", Phrase::new("rtt mean", "平均往返")),
    (
        "context_switch_us",
        Phrase::new("context switch", "上下文切换"),
    ),
    ("threads", Phrase::new("threads", "线程数")),
    ("requests_per_sec", Phrase::new("requests", "请求/秒")),
    (
        "server_threads_max",
        Phrase::new("server threads", "服务端线程"),
    ),
    (
        "server_peak_rss_mib",
        Phrase::new("server peak MiB", "服务端峰值 MiB"),
    ),
    (
        "server_cpu_ms",
        Phrase::new("server CPU time", "服务端 CPU 时间"),
    ),
    (
        "connections_reset",
        Phrase::new("conns reset", "被重置的连接"),
    ),
    ("tasks_done", Phrase::new("tasks done", "完成的任务")),
    ("tasks_retried", Phrase::new("tasks retried", "重试的任务")),
    ("tasks_lost", Phrase::new("tasks lost", "丢失的任务")),
    ("workers_died", Phrase::new("workers died", "死掉的工作者")),
    (
        "dead_worker_pid",
        Phrase::new("dead worker", "死掉的工作者"),
    ),
    ("replacement_pid", Phrase::new("replacement", "替补工作者")),
    (
        "task_rerun_after_ms",
        Phrase::new("rerun after", "多久后重跑"),
    ),
    ("steps", Phrase::new("steps", "步数")),
    (
        "two_tasks_handoff_us",
        Phrase::new("hand-off, 2", "交接耗时(2个)"),
    ),
    (
        "most_tasks_handoff_us",
        Phrase::new("hand-off, most", "交接耗时(最多)"),
    ),
    (
        "most_tasks_useful_pct",
        Phrase::new("useful, most", "有效占比(最多)"),
    ),
    (
        "most_tasks_plain_useful_pct",
        Phrase::new("plain useful", "不交接有效占比"),
    ),
    (
        "most_tasks_switches_per_sec",
        Phrase::new("switches/s", "切换/秒"),
    ),
    (
        "cpu_best_workers",
        Phrase::new("CPU-bound best", "计算密集最佳"),
    ),
    (
        "io_best_workers",
        Phrase::new("IO-bound best", "IO密集最佳"),
    ),
    (
        "cpu_best_speedup",
        Phrase::new("CPU speed-up", "计算密集加速"),
    ),
    ("io_best_speedup", Phrase::new("IO speed-up", "IO密集加速")),
    // The distributed lesson.
    ("results", Phrase::new("results", "结果数")),
    (
        "duplicates_dropped",
        Phrase::new("duplicates", "丢弃的重复"),
    ),
    ("leases_expired", Phrase::new("leases expired", "租约到期")),
    ("leases_lost", Phrase::new("leases lost", "租约丢失")),
    ("tasks_retried", Phrase::new("tasks retried", "重试的任务")),
    ("dead_letters", Phrase::new("dead letters", "死信")),
    (
        "handshakes_accepted",
        Phrase::new("handshakes ok", "握手成功"),
    ),
    ("handshakes_refused", Phrase::new("refused", "被拒绝")),
    ("handshakes_timed_out", Phrase::new("timed out", "握手超时")),
    ("tasks_per_sec", Phrase::new("tasks/s", "任务/秒")),
];

/// A metric's name for people: `wall_ms` → `wall time` (耗时), `owner_changes` → `hand-offs`.
pub fn metric_label(name: &str, lang: Lang) -> String {
    match METRIC_LABELS.iter().find(|(n, _)| *n == name) {
        Some((_, label)) => label.get(lang).to_string(),
        // The value says µs or %; the label need not.
        None => name
            .trim_end_matches("_us")
            .trim_end_matches("_pct")
            .replace('_', " "),
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

crate::i18n::phrases! {
    pub WORDS {
        above: "+{n} above" => "上方还有 {n} 行",
        below: "+{n} below" => "下方还有 {n} 行",
    }
}

/// Where a scrolled view stands: `+3 above · +5 below`, leaving out a side with nothing;
/// `None` when everything shows.
pub fn scroll_position(above: usize, below: usize, lang: Lang) -> Option<String> {
    let above_text = WORDS.above.with(lang, &[("n", &above)]);
    let below_text = WORDS.below.with(lang, &[("n", &below)]);
    match (above, below) {
        (0, 0) => None,
        (0, _) => Some(below_text),
        (_, 0) => Some(above_text),
        _ => Some(format!("{above_text} · {below_text}")),
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
    fn padding_counts_columns_not_characters() {
        assert_eq!(pad("ab", 4), "ab  ");
        assert_eq!(pad("余额", 6), "余额  ", "two characters, four columns");
        assert_eq!(pad_left("余额", 6), "  余额");
        assert_eq!(pad("丢失的更新", 4), "丢失的更新", "never cut");
        assert_eq!(columns(&pad("丢失的更新", 13)), 13);
    }

    #[test]
    fn text_is_cut_to_its_cells_with_an_ellipsis() {
        assert_eq!(cut_to("lmbench lat_pipe", 20), "lmbench lat_pipe");
        assert_eq!(cut_to("lmbench lat_pipe", 8), "lmbench…");
        assert_eq!(cut_to("公开测量的数字", 5), "公开…");
    }

    #[test]
    fn sparkline_keeps_the_newest_and_pads_left() {
        let v = [0.0f32, 100.0, 50.0];
        assert_eq!(sparkline(v.iter(), 2), "█▄");
        assert_eq!(sparkline(v.iter(), 5), "   █▄");
    }
}
