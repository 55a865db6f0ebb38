//! Big screens and many cores: the dashboard drawn into ratatui's `TestBackend` with a model
//! of 2, 16, 64 and 128 cores and made-up histories, compared with `insta` snapshots under
//! `tests/snapshots/`. From 160x50 each core's history is a braille graph several rows tall
//! while every core fits that way; more cores take a line, a cell or a character each, under
//! a summary line; and the processes panel grows with the terminal's height.

mod common;

use common::view::{dashboard, draw, feed_cpu, find, rows, sample};
use conlab::app::cpu::HISTORY;
use conlab::app::{App, Msg};

/// Braille cells, the graphs' characters.
fn is_braille(c: char) -> bool {
    ('\u{2801}'..='\u{28ff}').contains(&c)
}

/// The lock lesson on a machine of `cores` cores, sampled long enough to fill any graph.
fn machine(cores: usize, width: u16, height: u16) -> App {
    let mut app = dashboard("lock", width, height);
    feed_cpu(&mut app, cores, HISTORY);
    app
}

/// The CPU panel's lines: from its title to its bottom border, left of the processes panel.
fn cpu_panel(lines: &[String]) -> Vec<String> {
    let top = lines
        .iter()
        .position(|l| l.contains("┌ CPU"))
        .expect("the CPU panel");
    lines[top..]
        .iter()
        .take_while(|l| !l.starts_with('└'))
        .map(|l| l.split("┐┌").next().unwrap_or(l).to_string())
        .collect()
}

#[test]
fn big_screens_draw_every_core_in_the_most_detailed_shape_that_fits() {
    for (w, h) in [(160, 50), (200, 60)] {
        for cores in [2, 16, 64, 128] {
            let app = machine(cores, w, h);
            let terminal = draw(&app, w, h);
            let lines = rows(terminal.backend().buffer());
            let screen = lines.join("\n");
            let panel = cpu_panel(&lines);
            let at = format!("{cores} cores at {w}x{h}");
            assert!(screen.contains(&format!("CPU · {cores} cores")), "{at}");
            assert!(!screen.contains("enlarge the window"), "{at}:\n{screen}");
            let graph_lines = panel.iter().filter(|l| l.chars().any(is_braille)).count();
            let named = (0..cores)
                .filter(|i| panel.iter().any(|l| l.contains(&format!("cpu{i} "))))
                .count();
            match cores {
                2 => {
                    // Two graphs, each at least eight lines tall, under its label.
                    assert_eq!(named, 2, "{at}:\n{screen}");
                    assert!(graph_lines >= 16, "{at}:\n{screen}");
                    let label = |core: usize| {
                        panel
                            .iter()
                            .position(|l| l.contains(&format!("cpu{core} ")))
                    };
                    let (first, second) = (label(0).unwrap(), label(1).unwrap());
                    assert!(
                        second - first >= 8,
                        "{at}: graphs several lines tall:\n{screen}"
                    );
                    assert!(
                        !screen.contains("busiest"),
                        "{at}: no summary for two cores"
                    );
                }
                16 => {
                    assert_eq!(named, 16, "{at}:\n{screen}");
                    assert!(
                        graph_lines >= 16,
                        "{at}: a graph of two lines a core:\n{screen}"
                    );
                }
                64 => {
                    assert_eq!(named, 64, "{at}: a line each:\n{screen}");
                }
                _ => {
                    // A cell each: its number, its level, its percent.
                    let last = panel.iter().any(|l| l.contains("127 "));
                    assert!(last, "{at}:\n{screen}");
                }
            }
            if cores > 2 {
                assert!(
                    panel.iter().any(|l| l.contains("busiest cpu")),
                    "{at}: the summary:\n{screen}"
                );
            }
            insta::assert_snapshot!(format!("cores{cores}_{w}x{h}"), terminal.backend());
        }
    }
}

#[test]
fn many_cores_at_80x24_fit_in_a_strip_under_the_summary() {
    for cores in [64, 128] {
        let app = machine(cores, 80, 24);
        let terminal = draw(&app, 80, 24);
        let lines = rows(terminal.backend().buffer());
        let screen = lines.join("\n");
        let panel = cpu_panel(&lines);
        assert!(!screen.contains("enlarge the window"), "{cores}:\n{screen}");
        assert!(panel[1].contains("busiest cpu"), "{cores}:\n{screen}");
        // 64 to a line: `0 ` then eight groups of eight, and `64 ` begins the second.
        assert!(
            panel[2].starts_with("│  0 ") || panel[2].starts_with("│ 0 "),
            "{screen}"
        );
        if cores == 128 {
            assert!(panel[3].starts_with("│ 64 "), "{screen}");
        }
        insta::assert_snapshot!(format!("cores{cores}_80x24"), terminal.backend());
    }
}

#[test]
fn the_summary_names_the_average_the_busiest_core_and_how_many_are_busy() {
    let mut app = dashboard("lock", 200, 60);
    let mut figures = vec![10.0f32; 16];
    figures[5] = 97.0;
    figures[2] = 95.0;
    figures[3] = 91.0;
    figures[4] = 90.0;
    app.update(sample(&figures, vec![]));
    let terminal = draw(&app, 200, 60);
    let buffer = terminal.backend().buffer();
    let screen = rows(buffer).join("\n");
    // (97 + 95 + 91 + 90 + 12 × 10) / 16 = 30.8; 90% itself is not above 90%.
    assert!(
        screen.contains("avg 31% · busiest cpu5 97% · 3 above 90%"),
        "{screen}"
    );
    let (x, y) = find(buffer, "busiest").expect("the summary");
    assert_eq!(
        buffer[(x, y)].fg,
        ratatui::style::Color::Red,
        "a busy core in red"
    );

    app.lang = conlab::i18n::Lang::Zh;
    let screen = rows(draw(&app, 200, 60).backend().buffer()).join("\n");
    assert!(
        screen.contains("平均 31% · 最忙 cpu5 97% · 3 核高于 90%"),
        "{screen}"
    );
}

/// Processes a panel shows, of a table longer than any screen.
fn processes_shown(width: u16, height: u16) -> usize {
    let mut app = machine(2, width, height);
    for pid in 7000..7100 {
        app.processes.started(1, pid, 4100, "worker");
    }
    app.update(Msg::Resize(width, height));
    let lines = rows(draw(&app, width, height).backend().buffer());
    lines
        .iter()
        .filter(|l| (7000..7100).any(|pid| l.contains(&format!("│{pid} "))))
        .count()
}

#[test]
fn the_processes_panel_grows_with_the_height() {
    // At 80x24 and 120x40 as it always was: two and seven rows.
    assert_eq!(processes_shown(80, 24), 2);
    assert_eq!(processes_shown(120, 40), 7);
    for width in [120, 200] {
        let shown: Vec<usize> = [40, 50, 60, 80]
            .into_iter()
            .map(|h| processes_shown(width, h))
            .collect();
        assert!(
            shown.windows(2).all(|w| w[0] < w[1]),
            "{width} wide at 40, 50, 60 and 80 rows: {shown:?}"
        );
    }
}
