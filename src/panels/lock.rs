//! The lock scenario's figures: the balance (marked when wrong), lost updates and in how many
//! rounds, progress, the counted mutex's contention, and throughput; for a deadlock, what each
//! thread holds, waits for and does; for CPython, the balances its three runs printed.

use super::Figures;
use crate::i18n::Lang;
use crate::report::{Metrics, Num, group_thousands};
use crate::scenarios::lock::ACCOUNTS;
use crate::style::{DIM, RIGHT, WRONG, bar, duration_ms, duration_ns, label, metric, si};
use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};

const YELLOW: Style = Style::new().fg(Color::Yellow);

/// Threads drawn one a line in a deadlock; more are summed up.
const THREAD_LINES: usize = 4;

crate::i18n::phrases! {
    pub WORDS {
        not_run: "Not run yet. Enter runs it with these parameters; c runs nolock, lock and atomic side by side."
            => "还没运行。按 Enter 用这些参数运行；按 c 把 nolock、lock 和 atomic 并排运行。",
        balance: "balance" => "余额",
        account: "account {name}" => "账户 {name}",
        should_be_0: " ✗ should be 0" => " ✗ 应该是 0",
        now: " (now)" => "（当前）",
        inside_the_lock: "inside the lock; read at the end" => "在锁里；结束时读出",
        lost_updates: "lost updates" => "丢失的更新",
        in_rounds: " · in {with} of {rounds} rounds" => " · {rounds} 轮中有 {with} 轮",
        progress: "progress" => "进度",
        round: " · round {n} ·" => " · 第 {n} 轮 ·",
        n_threads: " {n} threads {done}" => " {n} 个线程 {done}",
        lock: "lock" => "锁",
        locks: "locks" => "锁",
        taken: "{n} taken, " => "加锁 {n} 次，",
        had_to_wait: "{n} had to wait ({pct}%)" => "{n} 次要等待（{pct}%）",
        hand_offs: "hand-offs" => "易手",
        waited: "{n} ({pct}%) · waited {total}, max {longest}" => "{n} 次（{pct}%）· 共等待 {total}，最长 {longest}",
        backed_off: " · backed off {n}" => " · 退让 {n} 次",
        failed: "failed" => "失败",
        failed_inside: "{n} changes failed inside the lock" => "{n} 次修改在锁内失败",
        released: " · released each time, free at the end ✓" => " · 每次都释放了，结束时锁是空闲的 ✓",
        still_held: " · a lock still held at the end ✗" => " · 结束时仍有锁被占着 ✗",
        throughput: "throughput" => "吞吐量",
        changes_per_sec: "{n} changes/s" => "{n} 次修改/秒",
        time: "time" => "时间",
        wall_cpu: "wall {wall} · cpu {cpu}" => "墙钟 {wall} · CPU {cpu}",
        nothing: "nothing" => "无",
        holds: "holds {what} · " => "持有 {what} · ",
        waits_for: "waits for {what}" => "等待 {what}",
        changes: " · {n} changes" => " · 修改 {n} 次",
        asleep: " · asleep in the kernel" => " · 在内核里睡眠",
        deadlock: "deadlock" => "死锁",
        each_holds: "✗ each holds the lock the other waits for" => "✗ 每个线程都持有另一个在等的锁",
        no_change_for: " · no change for {t}" => " · {t} 没有任何进展",
        none_before_stop: "none before the run was stopped" => "停止之前没有发生",
        not_yet: "not yet: the threads still change the accounts" => "还没有：线程仍在修改账户",
        more_threads: "… and {n} more threads" => "……还有 {n} 个线程",
        taken_waited: "{n} taken, {w} had to wait" => "加锁 {n} 次，{w} 次要等待",
        never_ends: "It never ends on its own: s stops it, and the threads end with the process."
            => "它自己永远不会结束：按 s 停止，线程随进程一起结束。",
        as_written: "as written" => "照原样",
        with_a_call: "with a call" => "加一次调用",
        call_and_lock: "call + lock" => "调用 + 锁",
        python_runs: "{pct}% of 3 CPython runs" => "{pct}%，共 3 次 CPython 运行",
    }
}

fn get(m: &Metrics, name: &str) -> Option<f64> {
    m.get(name).map(Num::as_f64)
}

/// A count as people read it: exact up to a million (`1,234`), then `12.3 M`.
fn count(x: f64) -> String {
    if x.abs() < 1e6 {
        group_thousands(x as i64)
    } else {
        si(x)
    }
}

fn show(m: &Metrics, name: &str) -> String {
    m.get(name)
        .map(|v| metric(name, v))
        .unwrap_or_else(|| "—".to_string())
}

pub fn lines(run: Option<&Figures>, width: u16, lang: Lang) -> Vec<Line<'static>> {
    let Some(run) = run else {
        return vec![Line::from(Span::styled(WORDS.not_run.get(lang), DIM))];
    };
    match run.params.word("mode") {
        "deadlock" => deadlock_lines(run, lang),
        "python" => python_lines(run, width, lang),
        _ => rounds_lines(run, width, lang),
    }
}

/// A balance that should be 0: marked right or wrong once the run is done.
fn balance_value(value: Num, done: bool, lang: Lang) -> [Span<'static>; 2] {
    let wrong = done && value != Num::Int(0);
    let (style, mark) = match (done, wrong) {
        (true, true) => (WRONG, WORDS.should_be_0.get(lang)),
        (true, false) => (RIGHT, " ✓"),
        _ => (Style::new(), WORDS.now.get(lang)),
    };
    [
        Span::styled(value.human(), style),
        Span::styled(mark, style),
    ]
}

fn rounds_lines(run: &Figures, width: u16, lang: Lang) -> Vec<Line<'static>> {
    let m = run.metrics;
    let mode = run.params.word("mode");
    let two_locks = matches!(mode, "ordered" | "trylock");
    // The modes whose balance sits behind one lock (the counted mutex, or the fair one).
    let one_lock = matches!(mode, "lock" | "fair");
    let mut out = Vec::new();

    let first = if two_locks {
        WORDS.account.with(lang, &[("name", &ACCOUNTS[0])])
    } else {
        WORDS.balance.get(lang).to_string()
    };
    let mut balance = vec![label(&first)];
    match (m.get("balance"), m.get("balance_b")) {
        (Some(a), Some(b)) if two_locks => {
            balance.extend(balance_value(a, run.done, lang));
            balance.push(Span::raw(format!("  {} ", ACCOUNTS[1])));
            balance.extend(balance_value(b, run.done, lang));
        }
        (Some(b), _) => balance.extend(balance_value(b, run.done, lang)),
        (None, _) if one_lock || two_locks => {
            balance.push(Span::styled(WORDS.inside_the_lock.get(lang), DIM))
        }
        (None, _) => balance.push(Span::raw("—")),
    }
    out.push(Line::from(balance));

    let lost = get(m, "lost_updates").unwrap_or(0.0);
    let mut lost_spans = vec![
        label(WORDS.lost_updates.get(lang)),
        Span::styled(
            show(m, "lost_updates"),
            if lost > 0.0 { WRONG } else { Style::new() },
        ),
    ];
    if let (Some(repeats), Some(with_lost)) =
        (get(m, "repeats"), get(m, "repeats_with_lost_updates"))
        && mode == "nolock"
        && repeats > 1.0
    {
        lost_spans.push(Span::raw(WORDS.in_rounds.with(
            lang,
            &[("with", &(with_lost as u64)), ("rounds", &(repeats as u64))],
        )));
    }
    out.push(Line::from(lost_spans));

    out.push(progress_line(run, width, lang));

    if one_lock || two_locks {
        let acq = get(m, "acquisitions").unwrap_or(0.0);
        let contended = get(m, "contended").unwrap_or(0.0);
        let owner_changes = get(m, "owner_changes").unwrap_or(0.0);
        let share = |n: f64| if acq > 0.0 { n * 100.0 / acq } else { 0.0 };
        let pct = share(contended);
        let had_to_wait = WORDS.had_to_wait.with(
            lang,
            &[("n", &si(contended)), ("pct", &format!("{pct:.1}"))],
        );
        let which = if two_locks { WORDS.locks } else { WORDS.lock };
        out.push(Line::from(vec![
            label(which.get(lang)),
            Span::raw(WORDS.taken.with(lang, &[("n", &si(acq))])),
            Span::styled(had_to_wait, YELLOW),
        ]));
        let mut handoffs = WORDS.waited.with(
            lang,
            &[
                ("n", &si(owner_changes)),
                ("pct", &format!("{:.1}", share(owner_changes))),
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
        if let Some(backoffs) = get(m, "backoffs") {
            handoffs.push_str(&WORDS.backed_off.with(lang, &[("n", &si(backoffs))]));
        }
        out.push(Line::from(vec![
            label(WORDS.hand_offs.get(lang)),
            Span::raw(handoffs),
        ]));
    }
    if let Some(line) = failed_bodies_line(run, lang) {
        out.push(line);
    }

    out.push(Line::from(vec![
        label(WORDS.throughput.get(lang)),
        Span::raw(
            WORDS
                .changes_per_sec
                .with(lang, &[("n", &si(get(m, "ops_per_sec").unwrap_or(0.0)))]),
        ),
    ]));
    if run.done {
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

/// Bodies that failed inside the lock, and whether the lock was free after them.
fn failed_bodies_line(run: &Figures, lang: Lang) -> Option<Line<'static>> {
    let m = run.metrics;
    let failed = get(m, "failed_bodies").filter(|f| *f > 0.0)?;
    let mut spans = vec![
        label(WORDS.failed.get(lang)),
        Span::raw(WORDS.failed_inside.with(lang, &[("n", &si(failed))])),
    ];
    match get(m, "lock_free_at_end") {
        Some(free) if free > 0.0 => spans.push(Span::styled(WORDS.released.get(lang), RIGHT)),
        Some(_) => spans.push(Span::styled(WORDS.still_held.get(lang), WRONG)),
        None => {}
    }
    Some(Line::from(spans))
}

/// Columns of the percentage after the bar (` 42%`, `100%`).
const PCT_WIDTH: usize = 5;

/// The run's progress and round, then each thread's changes (up to 4; more are summed).
fn progress_line(run: &Figures, width: u16, lang: Lang) -> Line<'static> {
    let m = run.live;
    let threads = run.params.int("threads") as usize;
    let mut spans = vec![label(WORDS.progress.get(lang))];
    let fraction = match get(m, "progress_pct") {
        Some(pct) => Some(pct / 100.0),
        None => get(m, "iterations_total")
            .filter(|t| *t > 0.0)
            .map(|total| get(m, "iterations_done").unwrap_or(0.0) / total),
    };
    let Some(fraction) = fraction else {
        spans.push(Span::styled("—", DIM));
        return Line::from(spans);
    };
    let fraction = if run.done { 1.0 } else { fraction };
    let round = get(m, "repeats").map(|round| {
        let current = if run.done { round } else { round + 1.0 };
        Span::styled(
            WORDS.round.with(lang, &[("n", &format!("{current:.0}"))]),
            DIM,
        )
    });
    let counts: Vec<Span<'static>> = if threads <= THREAD_LINES {
        (0..threads)
            .map(|i| {
                let done = get(m, &format!("thread_{i}_done")).unwrap_or(0.0);
                Span::raw(format!(" t{i} {}", count(done)))
            })
            .collect()
    } else {
        let done = get(m, "iterations_done").unwrap_or(0.0);
        vec![Span::raw(
            WORDS
                .n_threads
                .with(lang, &[("n", &threads), ("done", &count(done))]),
        )]
    };
    // The bar takes what the label, the percentage, the round and the counts leave, so the
    // line stays one row as the counts grow.
    let beside: usize = spans
        .iter()
        .chain(&round)
        .chain(&counts)
        .map(Span::width)
        .sum();
    let bar_w = (width as usize).saturating_sub(beside + PCT_WIDTH + 1);
    spans.push(Span::styled(bar(fraction, bar_w.clamp(4, 20)), RIGHT));
    spans.push(Span::raw(format!("{:>4.0}%", fraction * 100.0)));
    spans.extend(round);
    spans.extend(counts);
    Line::from(spans)
}

/// What one thread of a deadlock run holds and waits for, and whether the kernel has it asleep.
fn thread_state(m: &Metrics, i: usize, lang: Lang) -> Line<'static> {
    let nothing = WORDS.nothing.get(lang);
    let bits = get(m, &format!("thread_{i}_holds")).unwrap_or(0.0) as u64;
    let held: Vec<&str> = (0..2)
        .filter(|b| bits & (1 << b) != 0)
        .map(|b| ACCOUNTS[b])
        .collect();
    let holds = if held.is_empty() {
        nothing.to_string()
    } else {
        held.join("+")
    };
    let waits = match get(m, &format!("thread_{i}_waits_for")).unwrap_or(0.0) as usize {
        0 => None,
        w => Some(ACCOUNTS[(w - 1).min(1)]),
    };
    let asleep = get(m, &format!("thread_{i}_asleep")).unwrap_or(0.0) > 0.0;
    let mut spans = vec![
        label(&format!("changer-{i}")),
        Span::raw(WORDS.holds.with(lang, &[("what", &holds)])),
        Span::styled(
            WORDS
                .waits_for
                .with(lang, &[("what", &waits.unwrap_or(nothing))]),
            if waits.is_some() {
                YELLOW
            } else {
                Style::new()
            },
        ),
        Span::raw(WORDS.changes.with(
            lang,
            &[(
                "n",
                &count(get(m, &format!("thread_{i}_done")).unwrap_or(0.0)),
            )],
        )),
    ];
    if asleep {
        spans.push(Span::styled(WORDS.asleep.get(lang), DIM));
    }
    Line::from(spans)
}

fn deadlock_lines(run: &Figures, lang: Lang) -> Vec<Line<'static>> {
    let m = run.metrics;
    let threads = run.params.int("threads") as usize;
    let deadlocked = get(m, "deadlocked").unwrap_or(0.0) > 0.0;
    let stalled = duration_ms(get(m, "stalled_ms").unwrap_or(0.0));
    let head = label(WORDS.deadlock.get(lang));
    let mut out = vec![Line::from(if deadlocked {
        vec![
            head,
            Span::styled(WORDS.each_holds.get(lang), WRONG),
            Span::raw(WORDS.no_change_for.with(lang, &[("t", &stalled)])),
        ]
    } else if run.done {
        vec![head, Span::raw(WORDS.none_before_stop.get(lang))]
    } else {
        vec![head, Span::styled(WORDS.not_yet.get(lang), DIM)]
    })];
    for i in 0..threads.min(THREAD_LINES) {
        out.push(thread_state(m, i, lang));
    }
    if threads > THREAD_LINES {
        out.push(Line::from(Span::styled(
            WORDS
                .more_threads
                .with(lang, &[("n", &(threads - THREAD_LINES))]),
            DIM,
        )));
    }
    out.push(Line::from(vec![
        label(WORDS.locks.get(lang)),
        Span::raw(WORDS.taken_waited.with(
            lang,
            &[
                ("n", &count(get(m, "acquisitions").unwrap_or(0.0))),
                ("w", &count(get(m, "contended").unwrap_or(0.0))),
            ],
        )),
    ]));
    if let Some(line) = failed_bodies_line(run, lang) {
        out.push(line);
    }
    if run.active {
        out.push(Line::from(Span::styled(WORDS.never_ends.get(lang), DIM)));
    }
    out
}

fn python_lines(run: &Figures, width: u16, lang: Lang) -> Vec<Line<'static>> {
    let m = run.metrics;
    let mut out = Vec::new();
    for (name, what) in [
        ("python_tutorial_balance", WORDS.as_written),
        ("python_call_balance", WORDS.with_a_call),
        ("python_locked_balance", WORDS.call_and_lock),
    ] {
        let mut spans = vec![label(what.get(lang))];
        match m.get(name) {
            Some(b) => spans.extend(balance_value(b, true, lang)),
            None => spans.push(Span::styled("—", DIM)),
        }
        out.push(Line::from(spans));
    }
    if !run.done {
        let pct = get(run.live, "progress_pct").unwrap_or(0.0);
        let bar_w = (width as usize).saturating_sub(13 + 6).clamp(4, 20);
        out.push(Line::from(vec![
            label(WORDS.progress.get(lang)),
            Span::styled(bar(pct / 100.0, bar_w), RIGHT),
            Span::raw(
                WORDS
                    .python_runs
                    .with(lang, &[("pct", &format!("{pct:>4.0}"))]),
            ),
        ]));
    }
    out
}
