//! Scrolling and clicking through the model and the view together, as the event loop drives
//! them: the model says what a key or the wheel means, the view knows how far that is and
//! where the end lies, and a click reaches what the last frame drew under it.

mod common;

use common::view::{Screen, dashboard};
use conlab::app::{MIN_SIZE, Overlay, Target};
use crossterm::event::KeyCode;
use ratatui::layout::Rect;

fn on_lock() -> Screen {
    Screen::new(dashboard("lock", 80, 24))
}

#[test]
fn the_event_log_overlay_scrolls_back_and_no_further_than_the_oldest() {
    let mut screen = on_lock();
    for i in 0..50 {
        screen.app.push_log(format!("event {i}"));
    }
    screen.press(KeyCode::Char('v'));
    assert_eq!(screen.app.overlay, Overlay::Log);
    assert_eq!(screen.view.event_log.offset(), 0);
    screen.press(KeyCode::PageUp);
    assert_eq!(screen.view.event_log.offset(), 10);
    for _ in 0..10 {
        screen.press(KeyCode::PageUp);
    }
    // 80x24 shows 22 lines: 28 back is the oldest page.
    assert_eq!(screen.view.event_log.offset(), 28);
    assert!(screen.text().contains("event 0"));
    screen.press(KeyCode::Char('j'));
    assert_eq!(screen.view.event_log.offset(), 27);
    // New events while scrolled back: the lines being read stay where they are.
    screen.app.push_log("event 50".into());
    screen.draw();
    assert_eq!(screen.view.event_log.offset(), 28);
    assert_eq!(screen.press(KeyCode::Char('x')), vec![]);
    assert_eq!(screen.app.overlay, Overlay::None);
    // Opened again, it starts at the newest.
    screen.press(KeyCode::Char('v'));
    assert_eq!(screen.view.event_log.offset(), 0);
    assert!(screen.text().contains("event 50"));
}

#[test]
fn the_lesson_overlay_stops_at_its_end_and_the_next_up_shows() {
    // The smallest screen the overlay is drawn on, and a lesson much longer than it.
    let mut screen = Screen::new(dashboard("subprocess", MIN_SIZE.0, MIN_SIZE.1));
    screen.press(KeyCode::Char('l'));
    for _ in 0..50 {
        screen.press(KeyCode::PageDown);
    }
    let end = screen.view.lesson.offset();
    assert!(end > 0 && end < 500, "{end}");
    screen.press(KeyCode::Up);
    assert_eq!(screen.view.lesson.offset(), end - 1);
    let text = screen.text();
    assert!(text.contains("+1 below"), "{text}");
}

#[test]
fn the_processes_panel_scrolls_a_page_at_a_time_and_no_further() {
    let mut screen = on_lock();
    for pid in 100..110 {
        screen.app.processes.started(1, pid, 1, "worker");
    }
    // 80x24 leaves the processes panel two rows.
    let text = screen.text();
    assert!(text.contains("+8 below · PgUp PgDn"), "{text}");
    screen.press(KeyCode::PageDown);
    assert_eq!(screen.view.processes.offset(), 2);
    for _ in 0..10 {
        screen.press(KeyCode::PageDown);
    }
    assert_eq!(screen.view.processes.offset(), 8, "stops at the last page");
    screen.press(KeyCode::PageUp);
    assert_eq!(screen.view.processes.offset(), 6);
    let panel = conlab::view::layout(Rect::new(0, 0, 80, 24), screen.app.cpu.cores.len()).processes;
    screen.wheel(panel.x + 5, panel.y + 2, -1);
    assert_eq!(screen.view.processes.offset(), 3);
    // The wheel elsewhere leaves the panel alone.
    screen.wheel(5, 4, -1);
    assert_eq!(screen.view.processes.offset(), 3);
    // Rows that went away leave the scroll past the end; PgUp still moves what is shown.
    screen.press(KeyCode::PageDown);
    screen.app.processes.rows.truncate(4);
    screen.press(KeyCode::PageUp);
    assert_eq!(screen.view.processes.offset(), 0);
    // A new run's processes come first: the panel goes back to the top.
    screen.press(KeyCode::PageDown);
    screen.press(KeyCode::Enter);
    assert_eq!(screen.view.processes.offset(), 0);
}

#[test]
fn clicks_reach_the_menu_only_when_nothing_covers_it() {
    let mut screen = on_lock();
    let lock = screen.app.selected;
    // Screen row 3 is the first scenario, under the header line, the border and a heading.
    assert_eq!(screen.target_at(3, 3), Some(Target::Scenario(0)));
    screen.press(KeyCode::Char('e'));
    screen.click(3, 3);
    assert_eq!(
        screen.app.selected, lock,
        "a click must not move the selection under the form"
    );
    screen.press(KeyCode::Esc);
    screen.press(KeyCode::Char('c'));
    assert_eq!(
        screen.target_at(3, 3),
        None,
        "the compare view is drawn there"
    );
    screen.click(3, 3);
    assert_eq!(
        screen.app.selected, lock,
        "the compare view covers the menu"
    );
    screen.app.compare = None;
    screen.draw();
    screen.click(3, 3);
    assert_ne!(
        screen.app.selected, lock,
        "with nothing over it, the menu takes the click"
    );
    // A full-screen overlay covers it all.
    screen.press(KeyCode::Char('l'));
    assert_eq!(screen.target_at(3, 3), None);
}
