//! The processes panel: every runner and its descendants; exited ones dimmed, with their exit.
//! With `t`, each live process's threads follow it: TID, name, state, CPU%, the core it last ran
//! on, and its voluntary/involuntary context switches.

use super::scroll::ScrollState;
use crate::app::processes::{ProcRow, ProcessTable};
use crate::i18n::{Lang, Phrase};
use crate::keymap::{self, Action, Context};
use crate::sampler::ThreadSample;
use crate::style::{DIM, columns};
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::Span;
use ratatui::widgets::{Block, Paragraph, Row, Table};

/// Below this width the RUN column is left out so EXIT keeps its room.
const WIDE: u16 = 60;

crate::i18n::phrases! {
    pub WORDS {
        threads_key: "└TID name · cN=core · sw=vol/invol switches" => "└TID 名称 · cN=CPU 核 · sw=主动/被动切换",
        title: " Processes · {n} live " => " 进程 · {n} 个在运行 ",
        empty: "runners and their children appear here" => "runner 和它们的子进程会显示在这里",
        run: "RUN" => "运行",
        role: "ROLE" => "角色",
        state: "ST" => "状态",
        threads: "THR" => "线程",
        exit: "EXIT" => "退出",
    }
}

/// A column: header, width (0 = the rest; at least the header's), the process cell, the
/// thread cell.
type Column = (
    Phrase,
    u16,
    fn(&ProcRow) -> String,
    fn(&ThreadSample) -> String,
);

/// Headers that are the same in both languages: names of figures the kernel gives.
const PID: Phrase = Phrase::new("PID", "PID");
const PPID: Phrase = Phrase::new("PPID", "PPID");
const CPU: Phrase = Phrase::new("CPU%", "CPU%");

const COLUMNS: [Column; 8] = [
    (PID, 7, |r| r.pid.to_string(), |t| format!("└{}", t.tid)),
    (PPID, 7, |r| r.ppid.to_string(), |_| String::new()),
    (WORDS.run, 4, |r| format!("#{}", r.run), |_| String::new()),
    (WORDS.role, 8, |r| r.role.clone(), |t| t.name.clone()),
    (
        WORDS.state,
        2,
        |r| r.state.to_string(),
        |t| t.state.to_string(),
    ),
    (
        CPU,
        4,
        |r| format!("{:.0}", r.cpu_pct),
        |t| format!("{:.0}", t.cpu_pct),
    ),
    (
        WORDS.threads,
        3,
        |r| r.threads.to_string(),
        |t| format!("c{}", t.core),
    ),
    (
        WORDS.exit,
        0,
        |r| r.exit.map(|e| e.to_string()).unwrap_or_default(),
        |t| format!("sw {}/{}", t.voluntary_switches, t.involuntary_switches),
    ),
];

/// A line of the panel: a process, or one of its threads under it.
enum Entry<'a> {
    Process(&'a ProcRow),
    Thread(&'a ThreadSample),
}

/// Every line of the panel in order, each process followed by its threads with `t`, the
/// busiest threads first: with little room, those are the ones worth seeing.
fn entries(table: &ProcessTable, show_threads: bool) -> impl Iterator<Item = Entry<'_>> {
    table.rows.iter().flat_map(move |r| {
        let mut tasks: Vec<&ThreadSample> = Vec::new();
        if show_threads {
            tasks.extend(&r.tasks);
            tasks.sort_by(|a, b| b.cpu_pct.total_cmp(&a.cpu_pct).then(a.tid.cmp(&b.tid)));
        }
        std::iter::once(Entry::Process(r)).chain(tasks.into_iter().map(Entry::Thread))
    })
}

/// Rows of processes the panel has room for: inside its border, under its header.
fn rows_room(area: Rect) -> usize {
    usize::from(area.height.saturating_sub(3))
}

/// `scroll`: lines scrolled past at the top, a page being the rows that fit (kept within
/// the rows there are).
pub fn draw(
    frame: &mut Frame,
    area: Rect,
    table: &ProcessTable,
    show_threads: bool,
    scroll: &mut ScrollState,
    lang: Lang,
) {
    let live = table.rows.iter().filter(|r| r.exit.is_none()).count();
    let hint = if show_threads {
        WORDS.threads_key.get(lang).to_string()
    } else {
        keymap::hints(Context::Main, &[Action::ToggleThreads], lang)
    };
    let block = Block::bordered().title(WORDS.title.with(lang, &[("n", &live)]));
    if table.rows.is_empty() {
        // Nothing to scroll: moves asked for now must not wait for rows to come.
        scroll.settle(0, 0);
        let hint = Span::styled(WORDS.empty.get(lang), DIM);
        frame.render_widget(Paragraph::new(hint).block(block), area);
        return;
    }
    let wide = area.width >= WIDE;
    let shown: Vec<&Column> = COLUMNS
        .iter()
        .filter(|c| wide || c.0 != WORDS.run)
        .collect();
    let header = Row::new(shown.iter().map(|c| c.0.get(lang)))
        .style(Style::new().add_modifier(Modifier::BOLD));
    let room = rows_room(area);
    let total = table.line_count(show_threads);
    let scroll = scroll.settle(total.saturating_sub(room), room);
    let below = total.saturating_sub(scroll + room);
    // Only the lines in view become rows: a table of hundreds of processes costs a frame
    // no more than the page it shows.
    let rows: Vec<Row> = entries(table, show_threads)
        .skip(scroll)
        .take(room)
        .map(|line| match line {
            Entry::Process(r) => {
                let row = Row::new(shown.iter().map(|c| (c.2)(r)));
                if r.exit.is_some() {
                    row.style(DIM)
                } else {
                    row
                }
            }
            Entry::Thread(t) => {
                Row::new(shown.iter().map(|c| (c.3)(t))).style(Style::new().fg(Color::Gray))
            }
        })
        .collect();
    let note = match crate::style::scroll_position(scroll, below, lang) {
        Some(position) => {
            let keys = keymap::hints(Context::Main, &[Action::ProcessesPageDown], lang);
            format!(" {position} · {keys} · {hint} ")
        }
        None => format!(" {hint} "),
    };
    let block =
        block.title_bottom(ratatui::text::Line::from(Span::styled(note, DIM)).right_aligned());
    // Thread names like `changer-0` want a ninth cell when there is width to spare; a
    // header wider than its column (状态 over `ST`) widens it.
    let widths = shown.iter().map(|(header, width, _, _)| {
        let header_w = columns(header.get(lang)) as u16;
        match *width {
            0 => Constraint::Min(header_w.max(6)),
            w if wide && *header == WORDS.role => Constraint::Length(w.max(header_w) + 1),
            w => Constraint::Length(w.max(header_w)),
        }
    });
    frame.render_widget(Table::new(rows, widths).header(header).block(block), area);
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;

    fn screen(table: &ProcessTable, height: u16, scroll: usize) -> Vec<String> {
        screen_with(table, false, height, scroll)
    }

    fn screen_with(
        table: &ProcessTable,
        show_threads: bool,
        height: u16,
        scroll: usize,
    ) -> Vec<String> {
        let mut terminal = Terminal::new(TestBackend::new(70, height)).unwrap();
        terminal
            .draw(|f| {
                draw(
                    f,
                    f.area(),
                    table,
                    show_threads,
                    &mut ScrollState::at(scroll),
                    Lang::En,
                )
            })
            .unwrap();
        let buffer = terminal.backend().buffer();
        (0..height)
            .map(|y| (0..70).map(|x| buffer[(x, y)].symbol()).collect())
            .collect()
    }

    #[test]
    fn scrolled_into_a_process_its_threads_show_busiest_first() {
        let mut table = ProcessTable::default();
        table.started(1, 100, 1, "runner");
        table.started(1, 200, 100, "worker");
        let thread = |tid: u32, cpu_pct: f32| ThreadSample {
            tid,
            name: format!("t{tid}"),
            state: 'R',
            cpu_pct,
            core: 0,
            voluntary_switches: 0,
            involuntary_switches: 0,
        };
        table.rows[0].tasks = vec![thread(101, 5.0), thread(102, 90.0), thread(103, 40.0)];
        // Lines: 100, └102, └103, └101, 200. Room for two, scrolled by two: └103 and └101.
        let lines = screen_with(&table, true, 5, 2);
        assert!(lines[2].contains("└103"), "{lines:#?}");
        assert!(lines[3].contains("└101"), "{lines:#?}");
    }

    #[test]
    fn a_scrolled_panel_shows_the_rows_below_and_says_what_is_hidden() {
        let mut table = ProcessTable::default();
        for pid in 100..106 {
            table.started(1, pid, 1, "worker");
        }
        // Room for two rows: scrolled by two, rows 3 and 4 show.
        let lines = screen(&table, 5, 2);
        assert!(
            lines[2].contains("102") && lines[3].contains("103"),
            "{lines:#?}"
        );
        assert!(
            lines[4].contains("+2 above · +2 below · PgUp PgDn"),
            "{lines:#?}"
        );
        // Scrolled past the end, the last page shows.
        let lines = screen(&table, 5, 99);
        assert!(lines[3].contains("105"), "{lines:#?}");
        assert!(lines[4].contains("+4 above · PgUp"), "{lines:#?}");
        assert!(screen(&table, 5, 0)[4].contains(" +4 below · PgUp PgDn"));
    }
}
