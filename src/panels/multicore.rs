//! The multicore scenario's figures: how many cores the busy loops really used, their
//! throughput, and with the GIL each thread's share of time holding it, waiting, and running.

use super::Figures;
use crate::i18n::Lang;
use crate::report::Num;
use crate::style::{DIM, RIGHT, WRONG, bar, columns, duration_ms, label, si};
use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};

crate::i18n::phrases! {
    pub WORDS {
        not_run: "Not run yet. Enter starts the busy loops; watch the CPU panel. c runs threads, gil and processes in turn."
            => "还没运行。按 Enter 启动死循环，看 CPU 面板；按 c 依次运行 threads、gil 和 processes。",
        cores_used: "cores used" => "用到的核",
        of_workers: " {used} of {n} workers" => " {used} 核，共 {n} 个 worker",
        ops_per_sec: "{n} ops/s" => "{n} 次操作/秒",
        per_cpu_second: " · {n} per CPU-second" => " · 每 CPU 秒 {n} 次",
        wall: " · wall {wall}" => " · 墙钟 {wall}",
        throughput: "throughput" => "吞吐量",
        gil: "GIL" => "GIL",
        hand_offs: "{n} hand-offs{rate}" => "交接 {n} 次{rate}",
        rate: " ({n}/s)" => "（{n}/秒）",
        thread: "thread {i}" => "线程 {i}",
        hold: "hold" => "持有",
        wait: "wait" => "等待",
        run: "run" => "运行",
    }
}

pub fn lines(run: Option<&Figures>, width: u16, lang: Lang) -> Vec<Line<'static>> {
    let Some(run) = run else {
        return vec![Line::from(Span::styled(WORDS.not_run.get(lang), DIM))];
    };
    let m = run.metrics;
    let get = |name: &str| m.get(name).map(Num::as_f64);
    let cores = get("workers").unwrap_or(run.params.int("workers") as f64);
    let mut out = Vec::new();
    if let Some(used) = get("cpu_cores_used") {
        let style = if used >= cores * 0.8 {
            RIGHT
        } else {
            Style::new().fg(Color::Yellow)
        };
        let of = WORDS.of_workers.with(
            lang,
            &[
                ("used", &format!("{used:.2}")),
                ("n", &format!("{cores:.0}")),
            ],
        );
        out.push(Line::from(vec![
            label(WORDS.cores_used.get(lang)),
            Span::styled(bar(used / cores.max(1.0), 16), style),
            Span::styled(of, style),
        ]));
    }
    if let Some(ops) = get("ops_per_sec") {
        let mut text = WORDS.ops_per_sec.with(lang, &[("n", &si(ops))]);
        if let Some(per_cpu) = get("ops_per_cpu_sec") {
            text.push_str(&WORDS.per_cpu_second.with(lang, &[("n", &si(per_cpu))]));
        }
        if run.done {
            let wall = duration_ms(get("wall_ms").unwrap_or(0.0));
            text.push_str(&WORDS.wall.with(lang, &[("wall", &wall)]));
        }
        out.push(Line::from(vec![
            label(WORDS.throughput.get(lang)),
            Span::raw(text),
        ]));
    }
    if let Some(handoffs) = get("gil_handoffs") {
        let rate = get("gil_handoffs_per_sec")
            .map(|r| WORDS.rate.with(lang, &[("n", &si(r))]))
            .unwrap_or_default();
        let text = WORDS
            .hand_offs
            .with(lang, &[("n", &si(handoffs)), ("rate", &rate)]);
        out.push(Line::from(vec![
            label(WORDS.gil.get(lang)),
            Span::raw(text),
        ]));
    }
    // A thread's line: its label, then per share its name, a space, the bar, ` 100%` and
    // two spaces; the bars share what is left of the width, so the line does not wrap.
    let names: usize = [WORDS.hold, WORDS.wait, WORDS.run]
        .iter()
        .map(|w| columns(w.get(lang)) + 1 + 5 + 2)
        .sum();
    let bar_w = ((width as usize).saturating_sub(13 + names) / 3).clamp(2, 16);
    let shown = (cores as usize).min(8);
    for i in 0..shown {
        let Some(run_pct) = get(&format!("thread_{i}_run_pct")) else {
            break;
        };
        let mut spans = vec![label(&WORDS.thread.with(lang, &[("i", &i)]))];
        for (name, pct, style) in [
            (WORDS.hold, get(&format!("thread_{i}_hold_pct")), RIGHT),
            (WORDS.wait, get(&format!("thread_{i}_wait_pct")), WRONG),
            (WORDS.run, Some(run_pct), Style::new().fg(Color::Cyan)),
        ] {
            let name = name.get(lang);
            let Some(pct) = pct else { continue };
            spans.push(Span::raw(format!("{name} ")));
            spans.push(Span::styled(bar(pct / 100.0, bar_w), style));
            spans.push(Span::raw(format!("{pct:>4.0}%  ")));
        }
        out.push(Line::from(spans));
    }
    out
}
