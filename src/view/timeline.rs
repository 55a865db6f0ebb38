//! The pool's TIMELINE: one row per worker process, a bar per task from its start to its end
//! with the task's number on it, and a `queued` row where tasks wait for a free worker. Live
//! while the run goes (running bars grow up to now), final once it is done.

use crate::app::ipc::{TaskBoard, waiting_at};
use crate::app::run::Run;
use crate::style::{DIM, LABEL, duration_ms};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};

/// Worker rows drawn at most; the rest are counted.
const MAX_ROWS: usize = 16;
/// Width of the PID column.
const LABEL_W: usize = 8;
/// Task colours, in turn (yellow is the queue's).
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

fn task_color(id: u32) -> Color {
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

    /// A cell holding part of a task's number.
    fn is_label(&self, c: usize) -> bool {
        self.cells[c].1.bg.is_some()
    }

    /// Fills `from..=to` with `fill` and writes `label` at its start. A bar drawn over the
    /// label of a task that ended in the same column moves its own label right, so both
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

pub fn lines(run: Option<&Run>, width: u16) -> Vec<Line<'static>> {
    let Some(run) = run else {
        return vec![Line::from(Span::styled(
            "Not run yet. Enter starts the pool; the timeline shows each worker's tasks, and the task that waits for a free worker.",
            DIM,
        ))];
    };
    let Some(board) = run.tasks() else {
        return Vec::new();
    };
    let live = run.is_active();
    // While running, bars grow up to the runner's latest word; once done, the chart ends with
    // the last task.
    let now = if live {
        run.t_ms.max(board.latest_ms())
    } else {
        board.latest_ms()
    };
    let cols = (width as usize).saturating_sub(LABEL_W).max(8);
    let scale = Scale {
        ms_per_col: now.max(1.0) / cols as f64,
        cols,
    };
    let mut out = vec![summary(board, live)];
    if board.workers.is_empty() {
        out.push(Line::from(Span::styled("starting the workers…", DIM)));
        return out;
    }
    // By PID, which is the order they were started in (their announcements race).
    let mut workers = board.workers.clone();
    workers.sort_unstable();
    for pid in workers.iter().take(MAX_ROWS) {
        out.push(worker_row(board, *pid, &scale, now, live));
    }
    if board.workers.len() > MAX_ROWS {
        out.push(Line::from(Span::styled(
            format!(
                "{:>w$}+{} more workers",
                "",
                board.workers.len() - MAX_ROWS,
                w = LABEL_W
            ),
            DIM,
        )));
    }
    out.push(queued_row(board, &scale));
    out.push(axis(&scale, now));
    out.push(Line::from(Span::styled(
        format!("{RAN} ran  {RUNNING} running  {WAITING} queued: waiting for a free worker"),
        DIM,
    )));
    out
}

/// What the chart shows, in a sentence: progress while running, who waited once done.
fn summary(board: &TaskBoard, live: bool) -> Line<'static> {
    let total = board.tasks.len();
    let started = board
        .tasks
        .values()
        .filter(|t| t.start_ms.is_some())
        .count();
    let done = board.tasks.values().filter(|t| t.end_ms.is_some()).count();
    if live {
        let waiting = total - started;
        return Line::from(vec![
            Span::styled("TIMELINE ", LABEL.add_modifier(Modifier::BOLD)),
            Span::raw(format!(
                "· {} running · {waiting} queued · {done} done",
                started - done
            )),
        ]);
    }
    let workers = board.workers.len();
    let waited: Vec<(u32, f64)> = board
        .waiters()
        .into_iter()
        .filter_map(|(id, t)| Some((id, t.start_ms? - t.queued_ms.unwrap_or(0.0))))
        .collect();
    let story = match waited.iter().max_by(|a, b| a.1.total_cmp(&b.1)) {
        Some((id, wait)) => {
            let more = if waited.len() > 1 {
                format!(" ({} waited)", waited.len())
            } else {
                String::new()
            };
            format!(
                "task {id} waited {} for a free worker{more}",
                duration_ms(*wait)
            )
        }
        None if done == total => format!("no task waited: {workers} workers, {total} tasks"),
        None => format!("{done} of {total} tasks done"),
    };
    Line::from(vec![
        Span::styled("TIMELINE ", LABEL.add_modifier(Modifier::BOLD)),
        Span::raw(format!("· {story}")),
    ])
}

fn worker_row(board: &TaskBoard, pid: u32, scale: &Scale, now: f64, live: bool) -> Line<'static> {
    let mut row = Row::new(scale.cols);
    for (id, t) in board.tasks.iter().filter(|(_, t)| t.worker == Some(pid)) {
        let Some(start) = t.start_ms else { continue };
        // A task still running (or stopped mid-way) reaches up to now.
        let (end, fill) = match t.end_ms {
            Some(end) => (end, RAN),
            None => (now, RUNNING),
        };
        let from = scale.col(start);
        row.bar(
            from,
            scale.col(end).max(from),
            fill,
            task_color(*id),
            &id.to_string(),
        );
    }
    let style = if board.exits.contains_key(&pid) && live {
        DIM
    } else {
        LABEL
    };
    let mut spans = vec![Span::styled(format!("{pid:>7} "), style)];
    spans.extend(row.spans());
    Line::from(spans)
}

/// Where tasks wait: labelled bars when one waits at a time, else the queue's length as
/// bars of height.
fn queued_row(board: &TaskBoard, scale: &Scale) -> Line<'static> {
    let waiters = board.waiters();
    let waiting: Vec<usize> = (0..scale.cols)
        .map(|c| waiting_at(&waiters, scale.at(c)))
        .collect();
    let most = waiting.iter().copied().max().unwrap_or(0);
    let mut spans = vec![Span::styled(
        format!("{:<w$}", "queued", w = LABEL_W),
        LABEL,
    )];
    if most == 0 {
        spans.push(Span::styled("nothing waited long enough to show", DIM));
        return Line::from(spans);
    }
    let mut row = Row::new(scale.cols);
    if most == 1 {
        for (id, t) in &waiters {
            let Some(queued) = t.queued_ms else { continue };
            let during = |c: usize| {
                let at = scale.at(c);
                at >= queued && t.start_ms.is_none_or(|s| s > at)
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
            format!("{:<w$}", format!("queue≤{most}"), w = LABEL_W),
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
    use crate::app::ipc::TaskSpan;

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
    fn a_thousand_tasks_on_sixty_four_workers() {
        let mut board = TaskBoard::default();
        for id in 0..1000u32 {
            let worker = 100 + id % 64;
            board.workers.push(worker);
            let start = f64::from(id / 64) * 10.0 + 1.0;
            board.tasks.insert(
                id,
                TaskSpan {
                    queued_ms: Some(0.5),
                    start_ms: Some(start),
                    end_ms: Some(start + 9.0),
                    worker: Some(worker),
                },
            );
        }
        board.workers.dedup();
        board.workers.sort_unstable();
        board.workers.dedup();
        let started = std::time::Instant::now();
        let scale = Scale {
            ms_per_col: 160.0 / 170.0,
            cols: 170,
        };
        let queued = queued_row(&board, &scale);
        let text: String = queued.spans.iter().map(|s| s.content.as_ref()).collect();
        assert!(text.starts_with("queue≤936"), "{text}");
        assert!(
            started.elapsed() < std::time::Duration::from_secs(1),
            "one frame's queued row took {:?}",
            started.elapsed()
        );
    }
}
