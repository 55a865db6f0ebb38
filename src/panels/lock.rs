//! The lock scenario's figures: the balance (marked when wrong), lost updates, per-thread
//! progress, the counted mutex's contention, and throughput.

use super::Figures;
use crate::i18n::Lang;
use crate::report::{Metrics, Num};
use crate::style::{DIM, RIGHT, WRONG, bar, duration_ms, duration_ns, label, metric, si};
use ratatui::text::{Line, Span};

fn get(m: &Metrics, name: &str) -> Option<f64> {
    m.get(name).map(Num::as_f64)
}

fn show(m: &Metrics, name: &str) -> String {
    m.get(name)
        .map(|v| metric(name, v))
        .unwrap_or_else(|| "—".to_string())
}

crate::phrases! {
    pub WORDS {
        not_run: "Not run yet. Enter runs it with these parameters; c runs nolock, lock and atomic side by side."
            => "还没运行。按 Enter 用这些参数运行；按 c 把 nolock、lock 和 atomic 并排运行。",
        balance: "balance" => "余额",
        should_be_0: " ✗ should be 0" => " ✗ 应该是 0",
        now: " (now)" => "（当前）",
        inside_the_lock: "inside the lock; read at the end" => "在锁里；结束时读出",
        lost_updates: "lost updates" => "丢失的更新",
        progress: "progress" => "进度",
        lock: "lock" => "锁",
        taken: "{n} taken, " => "加锁 {n} 次，",
        had_to_wait: "{n} had to wait ({pct}%)" => "{n} 次要等待（{pct}%）",
        hand_offs: "hand-offs" => "易手",
        waited: "{n} · waited {total}, longest {longest}" => "{n} 次 · 共等待 {total}，最长 {longest}",
        throughput: "throughput" => "吞吐量",
        changes_per_sec: "{n} changes/s" => "{n} 次修改/秒",
        time: "time" => "时间",
        wall_cpu: "wall {wall} · cpu {cpu}" => "墙钟 {wall} · CPU {cpu}",
        of_threads: "{pct}% of {n} threads" => "{pct}%，共 {n} 个线程",
    }
}

pub fn lines(run: Option<&Figures>, width: u16, lang: Lang) -> Vec<Line<'static>> {
    let Some(run) = run else {
        return vec![Line::from(Span::styled(WORDS.not_run.get(lang), DIM))];
    };
    let m = run.metrics;
    let done = run.done;
    let mode = run.params.word("mode");
    let mut out = Vec::new();

    let balance = match (m.get("balance"), mode) {
        (Some(b), _) => {
            let wrong = done && b != Num::Int(0);
            let (style, mark) = match (done, wrong) {
                (true, true) => (WRONG, WORDS.should_be_0.get(lang)),
                (true, false) => (RIGHT, " ✓"),
                _ => (ratatui::style::Style::new(), WORDS.now.get(lang)),
            };
            vec![
                label(WORDS.balance.get(lang)),
                Span::styled(b.human(), style),
                Span::styled(mark, style),
            ]
        }
        (None, "lock") => vec![
            label(WORDS.balance.get(lang)),
            Span::styled(WORDS.inside_the_lock.get(lang), DIM),
        ],
        (None, _) => vec![label(WORDS.balance.get(lang)), Span::raw("—")],
    };
    out.push(Line::from(balance));

    let lost = get(m, "lost_updates").unwrap_or(0.0);
    let lost_style = if lost > 0.0 {
        WRONG
    } else {
        ratatui::style::Style::new()
    };
    out.push(Line::from(vec![
        label(WORDS.lost_updates.get(lang)),
        Span::styled(show(m, "lost_updates"), lost_style),
    ]));

    out.push(progress_line(run, width, lang));

    if mode == "lock" {
        let acq = get(m, "acquisitions").unwrap_or(0.0);
        let contended = get(m, "contended").unwrap_or(0.0);
        let pct = if acq > 0.0 {
            contended * 100.0 / acq
        } else {
            0.0
        };
        let yellow = ratatui::style::Style::new().fg(ratatui::style::Color::Yellow);
        let had_to_wait = WORDS.had_to_wait.with(
            lang,
            &[("n", &si(contended)), ("pct", &format!("{pct:.1}"))],
        );
        out.push(Line::from(vec![
            label(WORDS.lock.get(lang)),
            Span::raw(WORDS.taken.with(lang, &[("n", &si(acq))])),
            Span::styled(had_to_wait, yellow),
        ]));
        let waited = WORDS.waited.with(
            lang,
            &[
                ("n", &si(get(m, "owner_changes").unwrap_or(0.0))),
                (
                    "total",
                    &duration_ns(get(m, "wait_ns_total").unwrap_or(0.0)),
                ),
                (
                    "longest",
                    &duration_ns(get(m, "wait_ns_max").unwrap_or(0.0)),
                ),
            ],
        );
        out.push(Line::from(vec![
            label(WORDS.hand_offs.get(lang)),
            Span::raw(waited),
        ]));
    }

    let rate = si(get(m, "ops_per_sec").unwrap_or(0.0));
    out.push(Line::from(vec![
        label(WORDS.throughput.get(lang)),
        Span::raw(WORDS.changes_per_sec.with(lang, &[("n", &rate)])),
    ]));
    if done {
        let times = WORDS.wall_cpu.with(
            lang,
            &[
                ("wall", &duration_ms(get(m, "wall_ms").unwrap_or(0.0))),
                ("cpu", &duration_ms(get(m, "cpu_ms").unwrap_or(0.0))),
            ],
        );
        out.push(Line::from(vec![
            label(WORDS.time.get(lang)),
            Span::raw(times),
        ]));
    }
    out
}

/// One bar per thread (up to 4; more are summed into one bar).
fn progress_line(run: &Figures, width: u16, lang: Lang) -> Line<'static> {
    let m = run.live;
    let threads = run.params.int("threads") as usize;
    let total = get(m, "iterations_total").unwrap_or(0.0);
    let mut spans = vec![label(WORDS.progress.get(lang))];
    if total <= 0.0 {
        spans.push(Span::styled("—", DIM));
        return Line::from(spans);
    }
    if threads <= 4 {
        let per = total / threads as f64;
        let bar_w = ((width as usize).saturating_sub(14) / threads)
            .saturating_sub(8)
            .clamp(3, 20);
        for i in 0..threads {
            let f = get(m, &format!("thread_{i}_done")).unwrap_or(0.0) / per;
            spans.push(Span::raw(format!("t{i} ")));
            spans.push(Span::styled(bar(f, bar_w), RIGHT));
            spans.push(Span::raw(format!("{:>4.0}% ", f * 100.0)));
        }
    } else {
        let f = get(m, "iterations_done").unwrap_or(0.0) / total;
        spans.push(Span::styled(bar(f, 20), RIGHT));
        let pct = format!("{:>4.0}", f * 100.0);
        spans.push(Span::raw(
            WORDS
                .of_threads
                .with(lang, &[("pct", &pct), ("n", &threads)]),
        ));
    }
    Line::from(spans)
}
