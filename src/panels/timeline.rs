//! The TIMELINE kind: one row (a lane) per process of one role, or per named thread, a bar per
//! item from its start to its end with the item's number on it, a mark where a lane's process
//! crashed, and a row where items wait between their first step (a submit) and their bar. Live
//! while the run goes (running bars grow up to now), final once it is done. What the lanes,
//! bars and waits are called comes from the scenario's [`TimelineSpec`]: nothing here knows one
//! scenario's words.
//!
//! An item's bar can be cut short: a mark carrying the item's flow on the lane that runs it (a
//! worker saying it crashes), or the item begun again while its bar was open (its process was
//! killed without a word). The cut bar stays where it was drawn; the item waits again from its
//! next step (handed out again) or, if none comes, is lost.
//!
//! A mark is drawn on its lane; a mark of a process that is no lane (the master refusing a
//! connection) gets a row of its own, under the lanes. A scenario may name a mark that makes
//! its process a lane (a worker on another machine, which the master speaks for) and ask for
//! a table of the lanes under the chart.

use super::Figures;
use crate::event::{Body, Event};
use crate::exit::Exit;
use crate::i18n::{Lang, Phrase};
use crate::scenarios::{LanesTable, TimelineSpec};
use crate::style::{DIM, LABEL, WRONG, duration_ms, pad, pad_left};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// One item's trip, on the run's clock: its first step (a submit), its bar (on which lane).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Item {
    pub first_ms: Option<f64>,
    pub start_ms: Option<f64>,
    pub end_ms: Option<f64>,
    pub lane: Option<u32>,
    /// Bars it had before, cut short, oldest first.
    pub cut: Vec<Attempt>,
}

impl Item {
    /// Cut short and not handed out again (so far).
    pub fn is_lost(&self) -> bool {
        !self.cut.is_empty() && self.start_ms.is_none() && self.first_ms.is_none()
    }

    /// Cut short once or more, and begun again.
    pub fn is_retried(&self) -> bool {
        !self.cut.is_empty() && self.start_ms.is_some()
    }
}

/// A bar that was cut short: where it ran, from when to when.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Attempt {
    pub lane: u32,
    pub start_ms: f64,
    pub end_ms: f64,
}

/// The lanes and items of a run, built from its events.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Timeline {
    /// Lane processes (or threads) in the order they were seen.
    pub lanes: Vec<u32>,
    /// How and when each lane's process ended, once it has.
    pub exits: BTreeMap<u32, (f64, Exit)>,
    /// Items by their flow.
    pub items: BTreeMap<u64, Item>,
    /// Marks, on lanes or on other processes' rows: (lane or process, when, what).
    pub marks: Vec<(u32, f64, String)>,
    /// Where each lane joined from, for lanes the spec's lane mark made (or named).
    pub origins: BTreeMap<u32, String>,
    /// The role each process of the run announced, to name the rows of those that are no lane.
    roles: BTreeMap<u32, String>,
    /// Lanes that are threads: their spans and marks go on their own row, not their process's.
    threads: BTreeSet<u32>,
    /// Bars begun and not ended: (pid, span) → flow.
    open: HashMap<(u32, u64), u64>,
}

impl Timeline {
    pub fn observe(&mut self, spec: &TimelineSpec, event: &Event) {
        let (pid, t) = (event.pid, event.t_ms);
        match &event.body {
            Body::Process { role, .. } => {
                self.roles.insert(pid, role.clone());
                if role == spec.lane_role {
                    self.add_lane(pid);
                }
            }
            Body::Thread { tid, name } if spec.lane_thread.is_some_and(|p| name.starts_with(p)) => {
                self.threads.insert(*tid);
                self.add_lane(*tid);
            }
            Body::ProcessExit { exit } if self.lanes.contains(&pid) => {
                self.exits.insert(pid, (t, *exit));
            }
            Body::Begin {
                cat,
                span,
                tid,
                flow: Some(flow),
                ..
            } => {
                if cat == spec.bar {
                    let lane = self.lane_of(pid, *tid);
                    self.begin_bar(*flow, lane, t);
                    self.open.insert((pid, *span), *flow);
                    self.add_lane(lane);
                } else {
                    // Any other step of the item's trip: the first one is where it began.
                    let item = self.items.entry(*flow).or_default();
                    item.first_ms = Some(item.first_ms.map_or(t, |f| f.min(t)));
                }
            }
            Body::End { span } => {
                if let Some(flow) = self.open.remove(&(pid, *span)) {
                    self.items.entry(flow).or_default().end_ms = Some(t);
                }
            }
            Body::Mark {
                cat,
                name,
                tid,
                flow,
            } => {
                let lane = self.lane_of(pid, *tid);
                if spec.lane_mark == Some(cat.as_str()) {
                    self.add_lane(lane);
                    self.origins.insert(lane, name.clone());
                }
                self.marks.push((lane, t, name.clone()));
                if let Some(flow) = flow
                    && self.lanes.contains(&lane)
                {
                    self.cut_short(*flow, lane, t);
                }
            }
            _ => {}
        }
    }

    fn add_lane(&mut self, lane: u32) {
        if !self.lanes.contains(&lane) {
            self.lanes.push(lane);
        }
    }

    /// The row an event of process `pid` on thread `tid` goes on.
    fn lane_of(&self, pid: u32, tid: Option<u32>) -> u32 {
        match tid {
            Some(tid) if self.threads.contains(&tid) => tid,
            _ => pid,
        }
    }

    /// Item `flow`'s bar begins on `lane`. A bar of it still open was cut where its lane ended
    /// (a process killed before it could say so), or here if that end is not known.
    fn begin_bar(&mut self, flow: u64, lane: u32, t: f64) {
        let item = self.items.entry(flow).or_default();
        if let (Some(start_ms), None, Some(old)) = (item.start_ms, item.end_ms, item.lane) {
            let end_ms = self.exits.get(&old).map_or(t, |(at, _)| *at);
            item.cut.push(Attempt {
                lane: old,
                start_ms,
                end_ms,
            });
            self.open.retain(|_, f| *f != flow);
        }
        item.start_ms = Some(t);
        item.end_ms = None;
        item.lane = Some(lane);
    }

    /// A mark with item `flow`'s number on the lane running it: its bar ends here, cut short,
    /// and the item waits again from its next step (or is lost if none comes).
    fn cut_short(&mut self, flow: u64, lane: u32, t: f64) {
        let Some(item) = self.items.get_mut(&flow) else {
            return;
        };
        let (Some(start_ms), None, Some(on)) = (item.start_ms, item.end_ms, item.lane) else {
            return;
        };
        if on != lane {
            return;
        }
        item.cut.push(Attempt {
            lane,
            start_ms,
            end_ms: t,
        });
        *item = Item {
            cut: std::mem::take(&mut item.cut),
            ..Item::default()
        };
        self.open.retain(|_, f| *f != flow);
    }

    /// The latest time any item or lane mentions.
    pub fn latest_ms(&self) -> f64 {
        let items = self
            .items
            .values()
            .flat_map(|t| [t.first_ms, t.start_ms, t.end_ms])
            .flatten();
        let cut = self
            .items
            .values()
            .flat_map(|t| t.cut.iter().map(|a| a.end_ms));
        let exits = self.exits.values().map(|(t, _)| *t);
        let marks = self.marks.iter().map(|(_, t, _)| *t);
        items
            .chain(cut)
            .chain(exits)
            .chain(marks)
            .fold(0.0, f64::max)
    }

    /// Processes with marks that are no lane (the master), each drawn as a row of its own.
    fn mark_rows(&self) -> Vec<u32> {
        let rows: BTreeSet<u32> = self
            .marks
            .iter()
            .map(|(p, _, _)| *p)
            .filter(|p| !self.lanes.contains(p))
            .collect();
        rows.into_iter().collect()
    }

    /// The items that had to wait for a free lane: those not started yet, and those that were
    /// not their lane's first item. (A lane's first item only waited for its process to start,
    /// which is not the queue at work.) One pass, so a frame stays cheap with a thousand items.
    pub fn waiters(&self) -> Vec<(u64, &Item)> {
        let mut first: BTreeMap<u32, f64> = BTreeMap::new();
        for t in self.items.values() {
            if let (Some(start), Some(lane)) = (t.start_ms, t.lane) {
                let f = first.entry(lane).or_insert(start);
                *f = f.min(start);
            }
        }
        self.items
            .iter()
            .filter(|(_, t)| match (t.start_ms, t.lane) {
                (Some(start), Some(lane)) => first.get(&lane).is_some_and(|f| start > *f),
                _ => !t.is_lost(),
            })
            .map(|(id, t)| (*id, t))
            .collect()
    }
}

/// How many of `waiters` wait at `t_ms`: begun by then, not started yet.
pub fn waiting_at(waiters: &[(u64, &Item)], t_ms: f64) -> usize {
    waiters
        .iter()
        .filter(|(_, t)| t.first_ms.is_some_and(|q| q <= t_ms))
        .filter(|(_, t)| t.start_ms.is_none_or(|s| s > t_ms))
        .count()
}

crate::i18n::phrases! {
    pub WORDS {
        not_run: "Not run yet. Enter runs it; the timeline shows each {lane}'s {items}, and every {item} that waits for {waits_for}."
            => "还没运行。按 Enter 运行；时间线会显示每个{lane}运行的{items}，以及每个等待{waits_for}的{item}。",
        starting: "starting the {lanes}…" => "正在启动{lanes}…",
        more_lanes: "+{n} more {lanes}" => "另有 {n} 个{lanes}",
        key: "{ran} ran  {running} running  {queued} queued: waiting for {waits_for}"
            => "{ran} 已运行  {running} 运行中  {queued} 排队：等待{waits_for}",
        crash_key: "  {crash} killed by a signal" => "  {crash} 被信号杀死",
        error_key: "  {crash} exited with an error code" => "  {crash} 以错误码退出",
        more_marks: " (+{n} more)" => "（另有 {n} 个）",
        title: "TIMELINE " => "时间线 ",
        crashed_one: " · 1 {lane} crashed" => " · 1 个{lane}崩溃",
        crashed_many: " · {n} {lanes} crashed" => " · {n} 个{lanes}崩溃",
        ran_again_one: " · {item} {id} ran again" => " · {item} {id} 重新运行了",
        ran_again_many: " · {n} {items} ran again" => " · {n} 个{items}重新运行了",
        lost_one: " · {item} {id} lost" => " · {item} {id} 丢失了",
        lost_many: " · {n} {items} lost" => " · {n} 个{items}丢失了",
        live: "· {running} running · {queued} queued · {done} done{crashes}"
            => "· {running} 个运行中 · {queued} 个排队 · {done} 个已完成{crashes}",
        waited: "{item} {id} waited {wait} for {waits_for}{more}"
            => "{item} {id} 等了 {wait} 才等到{waits_for}{more}",
        waited_more: " ({n} waited)" => "（共 {n} 个等待过）",
        none_waited: "no {item} waited: {lanes_n} {lanes}, {total} {items}"
            => "没有{item}需要等待：{lanes_n} 个{lanes}，{total} 个{items}",
        done_of: "{done} of {total} {items} done" => "{total} 个{items}已完成 {done} 个",
        queued: "queued" => "排队",
        queue_most: "queue≤{n}" => "排队≤{n}",
        nothing_waited: "nothing waited long enough to show" => "等待都太短，显示不出来",
        done: "done" => "完成",
    }
}

/// `word` for many: `workers`; Chinese has no plural.
fn plural(word: Phrase, lang: Lang) -> String {
    match lang {
        Lang::En => format!("{}s", word.en),
        Lang::Zh => word.zh.to_string(),
    }
}

/// Lanes drawn at most; the rest are counted.
const MAX_ROWS: usize = 16;
/// Width of the PID column.
const LABEL_W: usize = 8;
/// Item colours, in turn (yellow is the waiting row's).
const COLORS: [Color; 8] = [
    Color::Cyan,
    Color::Green,
    Color::Magenta,
    Color::Blue,
    Color::LightRed,
    Color::LightGreen,
    Color::LightMagenta,
    Color::LightBlue,
];
const QUEUED: Color = Color::Yellow;
const RAN: char = '█';
const RUNNING: char = '▒';
const WAITING: char = '░';
/// Where a lane's process was ended by a signal.
const CRASH: char = '✗';
/// A mark on a lane.
const MARK: char = '◆';

fn item_color(id: u64) -> Color {
    COLORS[id as usize % COLORS.len()]
}

/// One row of cells, merged into spans of one style each.
struct Row {
    cells: Vec<(char, Style)>,
}

impl Row {
    fn new(width: usize) -> Row {
        Row {
            cells: vec![(' ', Style::new()); width],
        }
    }

    /// A cell holding part of an item's number.
    fn is_label(&self, c: usize) -> bool {
        self.cells[c].1.bg.is_some()
    }

    /// Fills `from..=to` with `fill` and writes `label` at its start. A bar drawn over the
    /// label of an item that ended in the same column moves its own label right, so both
    /// numbers stay readable; a label longer than its bar runs on over empty cells.
    fn bar(&mut self, from: usize, to: usize, fill: char, color: Color, label: &str) {
        let last = self.cells.len() - 1;
        let (from, to) = (from.min(last), to.min(last));
        let mut start = from;
        while start < last && self.is_label(start) {
            start += 1;
        }
        let bar = Style::new().fg(color);
        for c in start..=to.max(start) {
            self.cells[c] = (fill, bar);
        }
        let on_bar = Style::new()
            .fg(Color::Black)
            .bg(color)
            .add_modifier(Modifier::BOLD);
        for (k, ch) in label.chars().enumerate() {
            let c = start + k;
            if c > last || self.is_label(c) || (c > to.max(start) && self.cells[c].0 != ' ') {
                break;
            }
            self.cells[c] = (ch, on_bar);
        }
    }

    /// Writes ` text` after column `c`, over empty cells only, as far as they go.
    fn note_after(&mut self, c: usize, text: &str) {
        let free = self.cells[c + 1..]
            .iter()
            .take_while(|(ch, _)| *ch == ' ')
            .count();
        for (k, ch) in format!(" {text}").chars().take(free).enumerate() {
            self.cells[c + 1 + k] = (ch, WRONG);
        }
    }

    fn spans(self) -> Vec<Span<'static>> {
        let mut spans: Vec<Span<'static>> = Vec::new();
        let mut text = String::new();
        let mut style = None;
        for (ch, s) in self.cells {
            if style.is_some_and(|st| st != s) {
                spans.push(Span::styled(
                    std::mem::take(&mut text),
                    style.unwrap_or_default(),
                ));
            }
            style = Some(s);
            text.push(ch);
        }
        if !text.is_empty() {
            spans.push(Span::styled(text, style.unwrap_or_default()));
        }
        spans
    }
}

/// The time axis: columns of `ms_per_col` milliseconds each.
struct Scale {
    ms_per_col: f64,
    cols: usize,
}

impl Scale {
    fn col(&self, ms: f64) -> usize {
        ((ms / self.ms_per_col).floor().max(0.0) as usize).min(self.cols - 1)
    }

    /// The middle of column `c`, in milliseconds.
    fn at(&self, c: usize) -> f64 {
        (c as f64 + 0.5) * self.ms_per_col
    }
}

/// The panel's lines: a summary, a row per lane, a row per other process with marks, the
/// waiting row, the time axis, a key, and the lanes' table when the spec has one and `room`
/// (rows) holds it.
pub fn lines(
    run: Option<(&Figures, &Timeline)>,
    spec: &TimelineSpec,
    width: u16,
    room: u16,
    lang: Lang,
) -> Vec<Line<'static>> {
    let Some((figures, timeline)) = run else {
        let text = WORDS.not_run.with(
            lang,
            &[
                ("lane", &spec.lane.get(lang)),
                ("items", &plural(spec.item, lang)),
                ("item", &spec.item.get(lang)),
                ("waits_for", &spec.waits_for.get(lang)),
            ],
        );
        return vec![Line::from(Span::styled(text, DIM))];
    };
    let live = figures.active;
    // While running, bars grow up to the run's latest word; once done, the chart ends with
    // the last thing that happened on it.
    let now = if live {
        figures.t_ms.max(timeline.latest_ms())
    } else {
        timeline.latest_ms()
    };
    let cols = (width as usize).saturating_sub(LABEL_W).max(8);
    let scale = Scale {
        ms_per_col: now.max(1.0) / cols as f64,
        cols,
    };
    let lanes_word = plural(spec.lane, lang);
    let mut out = vec![summary(timeline, spec, live, lang)];
    if timeline.lanes.is_empty() {
        let text = WORDS.starting.with(lang, &[("lanes", &lanes_word)]);
        out.push(Line::from(Span::styled(text, DIM)));
        return out;
    }
    // By PID, which is the order they were started in (their announcements race).
    let mut lanes = timeline.lanes.clone();
    lanes.sort_unstable();
    for pid in lanes.iter().take(MAX_ROWS) {
        out.push(lane_row(timeline, *pid, &scale, now, live));
    }
    if timeline.lanes.len() > MAX_ROWS {
        let more = WORDS.more_lanes.with(
            lang,
            &[
                ("n", &(timeline.lanes.len() - MAX_ROWS)),
                ("lanes", &lanes_word),
            ],
        );
        out.push(Line::from(Span::styled(
            format!("{}{more}", pad("", LABEL_W)),
            DIM,
        )));
    }
    for pid in timeline.mark_rows() {
        let mut row = lane_row(timeline, pid, &scale, now, live);
        let name = timeline.roles.get(&pid).map_or_else(
            || pid.to_string(),
            |r| r.chars().take(LABEL_W - 1).collect(),
        );
        row.spans[0] = Span::styled(pad_left(&format!("{name} "), LABEL_W), DIM);
        out.push(row);
    }
    out.push(waiting_row(timeline, &scale, lang));
    out.push(axis(&scale, now));
    let mut crash_key = if timeline.exits.values().any(|(_, e)| e.signal().is_some()) {
        WORDS.crash_key.with(lang, &[("crash", &CRASH)])
    } else if timeline.exits.values().any(|(_, e)| died(*e)) {
        WORDS.error_key.with(lang, &[("crash", &CRASH)])
    } else {
        String::new()
    };
    // The latest mark says what its ◆ means, in the words of whoever made it.
    if let Some((_, _, name)) = timeline.marks.last() {
        let more = match timeline.marks.len() {
            1 => String::new(),
            n => WORDS.more_marks.with(lang, &[("n", &(n - 1))]),
        };
        crash_key += &format!("  {MARK} {}{more}", crate::text_safe::printable(name));
    }
    let key = WORDS.key.with(
        lang,
        &[
            ("ran", &RAN),
            ("running", &RUNNING),
            ("queued", &WAITING),
            ("waits_for", &spec.waits_for.get(lang)),
        ],
    );
    out.push(Line::from(Span::styled(format!("{key}{crash_key}"), DIM)));
    if let Some(table) = &spec.table {
        let rows = lanes.len().min(MAX_ROWS) + 2;
        if out.len() + rows <= usize::from(room) {
            out.push(Line::default());
            out.extend(lanes_table(
                timeline, &lanes, spec, table, figures, now, width, lang,
            ));
        }
    }
    out
}

/// Widths of the lanes table's columns but the one of where a lane joined from.
const DONE_W: usize = 6;
const ITEM_W: usize = 7;
const LEFT_W: usize = 11;
/// Where a lane joined from takes at most this: an address and a port, with room to spare.
const FROM_W: usize = 32;

/// A row per lane: its PID, where it joined from, the items it finished, the one it runs and
/// what is left of the time it may run it (as of `now`).
#[allow(clippy::too_many_arguments)]
fn lanes_table(
    timeline: &Timeline,
    lanes: &[u32],
    spec: &TimelineSpec,
    table: &LanesTable,
    figures: &Figures,
    now: f64,
    width: u16,
    lang: Lang,
) -> Vec<Line<'static>> {
    let from_w = usize::from(width)
        .saturating_sub(LABEL_W + DONE_W + ITEM_W + LEFT_W + 3)
        .clamp(8, FROM_W);
    let limit_ms = match figures.params.get(table.limit) {
        Some(crate::params::Value::Int(ms)) => Some(*ms as f64),
        _ => None,
    };
    let cut = |text: &str, w: usize| -> String {
        let text = crate::text_safe::printable(text);
        if crate::style::columns(&text) <= w {
            return pad(&text, w);
        }
        let short: String = text.chars().take(w.saturating_sub(1)).collect();
        pad(&format!("{short}…"), w)
    };
    let heading = format!(
        "{} {} {} {} {}",
        pad_left("PID", LABEL_W - 1),
        cut(table.from.get(lang), from_w),
        pad_left(WORDS.done.get(lang), DONE_W),
        pad_left(spec.item.get(lang), ITEM_W),
        pad_left(table.left.get(lang), LEFT_W),
    );
    let mut out = vec![Line::from(Span::styled(heading, LABEL))];
    for &pid in lanes.iter().take(MAX_ROWS) {
        let on_lane = |t: &&Item| t.lane == Some(pid);
        let done = timeline
            .items
            .values()
            .filter(on_lane)
            .filter(|t| t.end_ms.is_some())
            .count();
        let running = timeline
            .items
            .iter()
            .filter(|(_, t)| on_lane(t) && t.end_ms.is_none() && t.start_ms.is_some())
            .filter(|_| !timeline.exits.contains_key(&pid))
            .max_by(|a, b| {
                let start = |t: &Item| t.start_ms.unwrap_or(0.0);
                start(a.1).total_cmp(&start(b.1))
            });
        let (item, left) = match running {
            Some((id, t)) => {
                let left = limit_ms.map(|limit| {
                    let ran = now - t.start_ms.unwrap_or(now);
                    duration_ms((limit - ran).max(0.0))
                });
                (id.to_string(), left.unwrap_or_default())
            }
            None => ("-".to_string(), "-".to_string()),
        };
        let from = timeline.origins.get(&pid).map_or("", String::as_str);
        let text = format!(
            "{} {} {} {} {}",
            pad_left(&pid.to_string(), LABEL_W - 1),
            cut(from, from_w),
            pad_left(&done.to_string(), DONE_W),
            pad_left(&item, ITEM_W),
            pad_left(&left, LEFT_W),
        );
        out.push(Line::raw(text));
    }
    out
}

/// What the chart shows, in a sentence: progress while running, who waited once done.
fn summary(timeline: &Timeline, spec: &TimelineSpec, live: bool, lang: Lang) -> Line<'static> {
    let total = timeline.items.len();
    let started = timeline
        .items
        .values()
        .filter(|t| t.start_ms.is_some())
        .count();
    let done = timeline
        .items
        .values()
        .filter(|t| t.end_ms.is_some())
        .count();
    let crashed = timeline
        .exits
        .values()
        .filter(|(_, e)| e.signal().is_some())
        .count();
    let lost = timeline.items.values().filter(|t| t.is_lost()).count();
    let (lane, lanes) = (spec.lane.get(lang), plural(spec.lane, lang));
    let (item, items) = (spec.item.get(lang), plural(spec.item, lang));
    let waits_for = spec.waits_for.get(lang);
    let crashes = match crashed {
        0 => String::new(),
        1 => WORDS.crashed_one.with(lang, &[("lane", &lane)]),
        n => WORDS
            .crashed_many
            .with(lang, &[("n", &n), ("lanes", &lanes)]),
    } + &cut_short(timeline, spec, lang);
    let title = Span::styled(WORDS.title.get(lang), LABEL.add_modifier(Modifier::BOLD));
    if live {
        let text = WORDS.live.with(
            lang,
            &[
                ("running", &(started - done)),
                ("queued", &(total - started - lost)),
                ("done", &done),
                ("crashes", &crashes),
            ],
        );
        return Line::from(vec![title, Span::raw(text)]);
    }
    let lanes_n = timeline.lanes.len();
    let waited: Vec<(u64, f64)> = timeline
        .waiters()
        .into_iter()
        .filter_map(|(id, t)| Some((id, t.start_ms? - t.first_ms.unwrap_or(0.0))))
        .collect();
    let story = match waited.iter().max_by(|a, b| a.1.total_cmp(&b.1)) {
        Some((id, wait)) => {
            let more = if waited.len() > 1 {
                WORDS.waited_more.with(lang, &[("n", &waited.len())])
            } else {
                String::new()
            };
            WORDS.waited.with(
                lang,
                &[
                    ("item", &item),
                    ("id", id),
                    ("wait", &duration_ms(*wait)),
                    ("waits_for", &waits_for),
                    ("more", &more),
                ],
            )
        }
        None if done == total => WORDS.none_waited.with(
            lang,
            &[
                ("item", &item),
                ("lanes_n", &lanes_n),
                ("lanes", &lanes),
                ("total", &total),
                ("items", &items),
            ],
        ),
        None => WORDS.done_of.with(
            lang,
            &[("done", &done), ("total", &total), ("items", &items)],
        ),
    };
    Line::from(vec![title, Span::raw(format!("· {story}{crashes}"))])
}

/// What became of the items cut short: ` · task 5 ran again`, ` · 2 tasks lost`.
fn cut_short(timeline: &Timeline, spec: &TimelineSpec, lang: Lang) -> String {
    let (item, items) = (spec.item.get(lang), plural(spec.item, lang));
    let say = |ids: Vec<&u64>, one: Phrase, many: Phrase| match ids.as_slice() {
        [] => String::new(),
        [id] => one.with(lang, &[("item", &item), ("id", id)]),
        all => many.with(lang, &[("n", &all.len()), ("items", &items)]),
    };
    let of = |keep: fn(&Item) -> bool| -> Vec<&u64> {
        timeline
            .items
            .iter()
            .filter(|(_, t)| keep(t))
            .map(|(id, _)| id)
            .collect()
    };
    say(
        of(Item::is_retried),
        WORDS.ran_again_one,
        WORDS.ran_again_many,
    ) + &say(of(Item::is_lost), WORDS.lost_one, WORDS.lost_many)
}

/// One lane: its items' bars, its marks, and where its process crashed.
fn lane_row(timeline: &Timeline, pid: u32, scale: &Scale, now: f64, live: bool) -> Line<'static> {
    // Bars cut short and current ones, drawn in the order they began, so a bar that begins
    // where another ended moves its label past the other's.
    let mut bars: Vec<(f64, f64, char, u64)> = Vec::new();
    for (id, t) in &timeline.items {
        for cut in t.cut.iter().filter(|a| a.lane == pid) {
            bars.push((cut.start_ms, cut.end_ms, RAN, *id));
        }
        let (Some(start), Some(_)) = (t.start_ms, t.lane.filter(|l| *l == pid)) else {
            continue;
        };
        // An item still running (or stopped mid-way) reaches up to now, or to its lane's end.
        let (end, fill) = match (t.end_ms, timeline.exits.get(&pid)) {
            (Some(end), _) => (end, RAN),
            (None, Some((ended, _))) => (*ended, RAN),
            (None, None) => (now, RUNNING),
        };
        bars.push((start, end, fill, *id));
    }
    bars.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut row = Row::new(scale.cols);
    for (start, end, fill, id) in bars {
        let from = scale.col(start);
        row.bar(
            from,
            scale.col(end).max(from),
            fill,
            item_color(id),
            &id.to_string(),
        );
    }
    // Over a bar, not over an item's number: the number says more.
    for (_, at, _) in timeline.marks.iter().filter(|(p, _, _)| *p == pid) {
        let c = scale.col(*at);
        if !row.is_label(c) {
            row.cells[c] = (MARK, Style::new().fg(Color::Yellow));
        }
    }
    // A lane that died (a signal, or an exit code other than 0) says how, where it ended.
    let crashed = match timeline.exits.get(&pid) {
        Some((at, exit)) if died(*exit) => {
            let c = scale.col(*at);
            row.cells[c] = (CRASH, WRONG);
            row.note_after(c, &how_it_ended(*exit));
            Some(*exit)
        }
        _ => None,
    };
    let style = match (crashed, timeline.exits.contains_key(&pid) && live) {
        (Some(_), _) => WRONG,
        (None, true) => DIM,
        (None, false) => LABEL,
    };
    let mut spans = vec![Span::styled(format!("{pid:>7} "), style)];
    spans.extend(row.spans());
    Line::from(spans)
}

/// Ended by a signal, or with an exit code other than 0 (not: gone with its run's group).
fn died(exit: Exit) -> bool {
    exit.signal().is_some() || exit.code().is_some_and(|c| c != 0)
}

/// `SIGABRT`, `code 3`: how a lane's process died, in the fewest words.
fn how_it_ended(exit: Exit) -> String {
    match exit.signal().map(nix::sys::signal::Signal::try_from) {
        Some(Ok(signal)) => signal.as_str().to_string(),
        _ => exit.to_string(),
    }
}

/// Where items wait: labelled bars when one waits at a time, else how many wait, as bars of
/// height.
fn waiting_row(timeline: &Timeline, scale: &Scale, lang: Lang) -> Line<'static> {
    let waiters = timeline.waiters();
    let waiting: Vec<usize> = (0..scale.cols)
        .map(|c| waiting_at(&waiters, scale.at(c)))
        .collect();
    let most = waiting.iter().copied().max().unwrap_or(0);
    let mut spans = vec![Span::styled(pad(WORDS.queued.get(lang), LABEL_W), LABEL)];
    if most == 0 {
        spans.push(Span::styled(WORDS.nothing_waited.get(lang), DIM));
        return Line::from(spans);
    }
    let mut row = Row::new(scale.cols);
    if most == 1 {
        for (id, t) in &waiters {
            let Some(first) = t.first_ms else { continue };
            let during = |c: usize| {
                let at = scale.at(c);
                at >= first && t.start_ms.is_none_or(|s| s > at)
            };
            let cols: Vec<usize> = (0..scale.cols).filter(|c| during(*c)).collect();
            if let (Some(&from), Some(&to)) = (cols.first(), cols.last()) {
                row.bar(from, to, WAITING, QUEUED, &id.to_string());
            }
        }
    } else {
        const LEVELS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
        for (c, n) in waiting.iter().enumerate().filter(|(_, n)| **n > 0) {
            let level = (n * LEVELS.len()).div_ceil(most).clamp(1, LEVELS.len()) - 1;
            row.cells[c] = (LEVELS[level], Style::new().fg(QUEUED));
        }
        spans[0] = Span::styled(
            pad(&WORDS.queue_most.with(lang, &[("n", &most)]), LABEL_W),
            LABEL,
        );
    }
    spans.extend(row.spans());
    Line::from(spans)
}

/// `0` under the first column, the middle time, the end time under the last.
fn axis(scale: &Scale, now: f64) -> Line<'static> {
    let end = duration_ms(now);
    let mid = duration_ms(now / 2.0);
    let mut text = vec![' '; scale.cols];
    let mut put = |at: usize, s: &str| {
        for (k, ch) in s.chars().enumerate() {
            if let Some(cell) = text.get_mut(at + k) {
                *cell = ch;
            }
        }
    };
    put(0, "0");
    let end_at = scale.cols.saturating_sub(end.chars().count());
    let mid_len = mid.chars().count();
    let mid_at = (scale.cols / 2).saturating_sub(mid_len / 2);
    if mid_at > 2 && mid_at + mid_len + 2 < end_at {
        put(mid_at, &mid);
    }
    put(end_at, &end);
    Line::from(vec![
        Span::styled(format!("{:<w$}", "", w = LABEL_W), DIM),
        Span::styled(text.into_iter().collect::<String>(), DIM),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC: TimelineSpec = TimelineSpec {
        lane_role: "worker",
        lane_thread: Some("worker-"),
        lane: Phrase::new("worker", "工作进程"),
        bar: "task",
        item: Phrase::new("task", "任务"),
        waits_for: Phrase::new("a free worker", "空闲的工作进程"),
        lane_mark: None,
        table: None,
    };

    fn at(t: f64, pid: u32, body: Body) -> Event {
        Event::new(t, pid, body)
    }

    fn begin(span: u64, cat: &str, flow: u64) -> Body {
        Body::Begin {
            span,
            cat: cat.into(),
            name: format!("{cat} {flow}"),
            tid: None,
            flow: Some(flow),
        }
    }

    /// The panel's lines, 60 columns wide, of a run that ended at `t_ms`.
    fn finished_text(t: &Timeline, t_ms: f64, lang: Lang) -> String {
        let params = crate::params::Params::defaults(&[]);
        let metrics = crate::metrics::Metrics::default();
        let figures = Figures {
            params: &params,
            metrics: &metrics,
            live: &metrics,
            done: true,
            active: false,
            t_ms,
        };
        let text: Vec<String> = lines(Some((&figures, t)), &SPEC, 60, 40, lang)
            .iter()
            .map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect())
            .collect();
        text.join("\n")
    }

    #[test]
    fn lanes_items_waits_and_crashes_come_from_typed_events() {
        let mut t = Timeline::default();
        let role = |role: &str| Body::Process {
            ppid: 10,
            role: role.into(),
        };
        for e in [
            at(0.0, 11, role("worker")),
            at(0.0, 13, role("reader")),
            at(1.0, 10, begin(1, "submit", 3)),
            at(1.0, 10, Body::End { span: 1 }),
            at(1.0, 10, begin(2, "submit", 4)),
            at(2.0, 11, begin(7, "task", 3)),
            at(299.0, 11, Body::End { span: 7 }),
            at(300.0, 11, begin(8, "task", 4)),
            at(500.0, 11, Body::End { span: 8 }),
            // A lane first seen running a bar joins too; its crash ends its bar.
            at(2.0, 12, begin(1, "task", 5)),
            at(
                50.0,
                12,
                Body::ProcessExit {
                    exit: Exit::Signal(6),
                },
            ),
            // The result comes after the bar: it does not move the item's start.
            at(501.0, 10, begin(3, "result", 4)),
        ] {
            t.observe(&SPEC, &e);
        }
        assert_eq!(t.lanes, vec![11, 12], "the reader is no lane");
        let item = &t.items[&4];
        assert_eq!(
            (item.first_ms, item.start_ms, item.end_ms, item.lane),
            (Some(1.0), Some(300.0), Some(500.0), Some(11))
        );
        let waiters = t.waiters();
        let ids: Vec<u64> = waiters.iter().map(|(id, _)| *id).collect();
        assert_eq!(ids, vec![4], "3 and 5 were their lanes' first items");
        let w = |ms| waiting_at(&waiters, ms);
        assert_eq!((w(0.5), w(1.5), w(100.0), w(400.0)), (0, 1, 1, 0));
        assert_eq!(t.exits[&12], (50.0, Exit::Signal(6)));
        assert_eq!(
            t.latest_ms(),
            500.0,
            "the chart ends with the last bar, not the result"
        );
        let text = finished_text(&t, 501.0, Lang::En);
        assert!(
            text.contains("task 4 waited 299 ms for a free worker"),
            "{text}"
        );
        assert!(
            text.contains("1 worker crashed") && text.contains(CRASH),
            "{text}"
        );
        let zh = finished_text(&t, 501.0, Lang::Zh);
        assert!(
            zh.contains("任务 4 等了 299 ms 才等到空闲的工作进程"),
            "{zh}"
        );
        assert!(
            zh.contains("1 个工作进程崩溃") && zh.contains("被信号杀死"),
            "{zh}"
        );
    }

    fn mark(lane_tid: u32, flow: u64) -> Body {
        Body::Mark {
            cat: "crash".into(),
            name: format!("abort on task {flow}"),
            tid: Some(lane_tid),
            flow: Some(flow),
        }
    }

    fn thread_begin(span: u64, tid: u32, flow: u64) -> Body {
        Body::Begin {
            span,
            cat: "task".into(),
            name: format!("task {flow}"),
            tid: Some(tid),
            flow: Some(flow),
        }
    }

    fn named(tid: u32, name: &str) -> Body {
        Body::Thread {
            tid,
            name: name.into(),
        }
    }

    #[test]
    fn named_threads_are_lanes_of_their_own() {
        let mut t = Timeline::default();
        for e in [
            // The master's own thread and a thread of another name are no lanes.
            at(0.0, 10, named(10, "main")),
            at(0.0, 10, named(21, "worker-0")),
            at(0.0, 10, named(22, "worker-1")),
            at(0.0, 10, named(23, "reporter")),
            at(1.0, 10, begin(1, "submit", 0)),
            at(1.0, 10, Body::End { span: 1 }),
            at(2.0, 10, thread_begin(2, 21, 0)),
            at(3.0, 10, thread_begin(3, 22, 1)),
            at(9.0, 10, Body::End { span: 2 }),
            at(9.5, 10, Body::End { span: 3 }),
        ] {
            t.observe(&SPEC, &e);
        }
        assert_eq!(t.lanes, vec![21, 22], "one lane per worker thread");
        assert_eq!((t.items[&0].lane, t.items[&1].lane), (Some(21), Some(22)));
        assert_eq!(t.items[&1].end_ms, Some(9.5));
        // Without a thread prefix the same events make one lane: the process.
        let mut by_process = Timeline::default();
        let processes_only = TimelineSpec {
            lane_thread: None,
            ..SPEC
        };
        for e in [
            at(0.0, 10, named(21, "worker-0")),
            at(2.0, 10, thread_begin(2, 21, 0)),
        ] {
            by_process.observe(&processes_only, &e);
        }
        assert_eq!(by_process.lanes, vec![10]);
    }

    #[test]
    fn a_bar_cut_short_by_a_mark_is_kept_and_its_item_runs_again_or_is_lost() {
        let mut t = Timeline::default();
        let role = Body::Process {
            ppid: 10,
            role: "worker".into(),
        };
        for e in [
            at(0.0, 11, role.clone()),
            at(1.0, 10, begin(1, "submit", 5)),
            at(2.0, 11, begin(7, "task", 5)),
            // The worker says it crashes on task 5, then dies by SIGABRT.
            at(40.0, 11, mark(11, 5)),
            at(
                41.0,
                11,
                Body::ProcessExit {
                    exit: Exit::Signal(6),
                },
            ),
            // Handed out again, run on the replacement.
            at(45.0, 10, begin(2, "submit", 5)),
            at(46.0, 12, role.clone()),
            at(60.0, 12, begin(1, "task", 5)),
            at(90.0, 12, Body::End { span: 1 }),
            // Task 6 is cut on thread lane 21 and never handed out again.
            at(0.0, 10, named(21, "worker-0")),
            at(3.0, 10, begin(3, "submit", 6)),
            at(4.0, 10, thread_begin(4, 21, 6)),
            at(20.0, 10, mark(21, 6)),
            // Unwinding ends the span after the mark: it stays cut.
            at(20.5, 10, Body::End { span: 4 }),
        ] {
            t.observe(&SPEC, &e);
        }
        let retried = &t.items[&5];
        assert_eq!(
            retried.cut,
            vec![Attempt {
                lane: 11,
                start_ms: 2.0,
                end_ms: 40.0
            }]
        );
        assert_eq!(
            (
                retried.first_ms,
                retried.start_ms,
                retried.end_ms,
                retried.lane
            ),
            (Some(45.0), Some(60.0), Some(90.0), Some(12)),
            "it waited again from its second submit"
        );
        assert!(retried.is_retried() && !retried.is_lost());
        let lost = &t.items[&6];
        assert!(lost.is_lost(), "{lost:?}");
        assert_eq!(
            lost.end_ms, None,
            "the span's end after the cut is not a finish"
        );
        assert_eq!(
            waiting_at(&t.waiters(), 30.0),
            0,
            "a lost item waits for nothing"
        );
        assert_eq!(t.marks.len(), 2);
        let text = finished_text(&t, 90.0, Lang::En);
        assert!(
            text.contains("task 5 ran again") && text.contains("task 6 lost"),
            "{text}"
        );
        assert!(text.contains("◆ abort on task 6 (+1 more)"), "{text}");
        let lane = |id: u32| {
            text.lines()
                .find(|l| l.trim_start().starts_with(&format!("{id} ")))
                .unwrap_or_else(|| panic!("no lane {id}: {text}"))
                .to_string()
        };
        assert!(
            lane(11).contains('5') && lane(11).contains("✗ SIGABRT"),
            "{text}"
        );
        assert!(lane(12).contains('5'), "{text}");
        assert!(lane(21).contains('6') && lane(21).contains(MARK), "{text}");
    }

    #[test]
    fn an_item_begun_again_while_open_keeps_the_bar_its_killed_lane_ran() {
        let mut t = Timeline::default();
        let role = Body::Process {
            ppid: 10,
            role: "worker".into(),
        };
        for e in [
            at(0.0, 11, role.clone()),
            at(2.0, 11, begin(7, "task", 3)),
            // SIGKILL: no word from the worker, only its exit.
            at(
                30.0,
                11,
                Body::ProcessExit {
                    exit: Exit::Signal(9),
                },
            ),
            at(35.0, 12, role),
            at(40.0, 12, begin(1, "task", 3)),
        ] {
            t.observe(&SPEC, &e);
        }
        let item = &t.items[&3];
        assert_eq!(
            item.cut,
            vec![Attempt {
                lane: 11,
                start_ms: 2.0,
                end_ms: 30.0
            }]
        );
        assert_eq!((item.start_ms, item.lane), (Some(40.0), Some(12)));
    }

    #[test]
    fn a_lane_says_how_its_process_died_and_only_if_it_did() {
        let mut t = Timeline::default();
        let role = Body::Process {
            ppid: 10,
            role: "worker".into(),
        };
        let exit = |exit| Body::ProcessExit { exit };
        for e in [
            at(0.0, 11, role.clone()),
            at(0.0, 12, role.clone()),
            at(0.0, 13, role),
            at(1.0, 11, begin(1, "task", 1)),
            at(1.0, 12, begin(1, "task", 2)),
            at(1.0, 13, begin(1, "task", 3)),
            at(5.0, 11, exit(Exit::Code(3))),
            at(5.0, 12, exit(Exit::Code(0))),
            at(5.0, 13, exit(Exit::KilledWithGroup)),
        ] {
            t.observe(&SPEC, &e);
        }
        let scale = Scale {
            ms_per_col: 0.5,
            cols: 30,
        };
        let row = |pid| -> String {
            lane_row(&t, pid, &scale, 10.0, false)
                .spans
                .iter()
                .map(|s| s.content.as_ref())
                .collect()
        };
        assert!(row(11).contains("✗ code 3"), "{}", row(11));
        assert!(!row(12).contains(CRASH), "{}", row(12));
        assert!(!row(13).contains(CRASH), "{}", row(13));
    }

    fn text(row: Row) -> String {
        row.cells.iter().map(|c| c.0).collect()
    }

    #[test]
    fn labels_of_tasks_in_one_column_both_show() {
        let mut row = Row::new(12);
        row.bar(2, 2, RAN, Color::Cyan, "1");
        row.bar(2, 8, RAN, Color::Green, "4");
        assert_eq!(text(row), "  14█████   ");
    }

    #[test]
    fn long_labels_run_on_over_empty_cells_only() {
        let mut row = Row::new(8);
        row.bar(0, 0, RAN, Color::Cyan, "12");
        row.bar(3, 5, RAN, Color::Green, "13");
        assert_eq!(text(row), "12 13█  ");
        let mut row = Row::new(8);
        row.bar(7, 7, RAN, Color::Cyan, "999");
        assert_eq!(text(row), "       9", "the edge cuts it");
    }

    #[test]
    fn a_thousand_items_on_sixty_four_lanes() {
        let mut board = Timeline::default();
        for id in 0..1000u64 {
            let lane = 100 + (id % 64) as u32;
            board.add_lane(lane);
            let start = (id / 64) as f64 * 10.0 + 1.0;
            board.items.insert(
                id,
                Item {
                    first_ms: Some(0.5),
                    start_ms: Some(start),
                    end_ms: Some(start + 9.0),
                    lane: Some(lane),
                    cut: Vec::new(),
                },
            );
        }
        let started = std::time::Instant::now();
        let scale = Scale {
            ms_per_col: 160.0 / 170.0,
            cols: 170,
        };
        let queued = waiting_row(&board, &scale, Lang::En);
        let text: String = queued.spans.iter().map(|s| s.content.as_ref()).collect();
        assert!(text.starts_with("queue≤936"), "{text}");
        assert!(
            started.elapsed() < std::time::Duration::from_secs(1),
            "one frame's queued row took {:?}",
            started.elapsed()
        );
    }
}
