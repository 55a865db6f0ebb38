//! What one frame of the dashboard costs to draw on a machine of many cores with many
//! processes: 128 cores with a full history each and 500 processes in the table, drawn into
//! ratatui's `TestBackend` (the whole view, then the diff against the previous frame; no
//! terminal output) at 200x60, where each core is a cell under a summary, and at 80x24,
//! where each is a character; and 2 cores at 200x60, where each is a graph.
//!
//! `cargo bench --bench frame` (well under a minute after the build). Goal: under 2 ms a
//! frame with 128 cores and 500 processes; the dashboard draws at most 20 frames a second.

use conlab::app::App;
use conlab::app::cpu::HISTORY;
use conlab::sampler::Sample;
use conlab::view::ViewState;
use criterion::{Criterion, criterion_group, criterion_main};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::time::Duration;

/// A dashboard that has sampled `cores` cores for as long as its history holds, watching
/// `processes` live processes of one run.
fn machine(cores: usize, processes: u32) -> App {
    let mut app = App::new((200, 60), 500);
    for step in 0..HISTORY {
        let figures: Vec<f32> = (0..cores)
            .map(|i| ((i * 37 + step * 13) % 101) as f32)
            .collect();
        let total = figures.iter().sum::<f32>() / cores as f32;
        app.cpu.record(&Sample {
            cores: figures,
            total,
            self_cpu_pct: 1.5,
            ..Sample::default()
        });
    }
    app.processes.started(1, 10_000, 1, "runner");
    for pid in 10_001..10_000 + processes {
        app.processes.started(1, pid, 10_000, "worker");
    }
    app
}

fn frame(c: &mut Criterion) {
    let mut group = c.benchmark_group("frame");
    for (cores, processes, width, height) in
        [(128, 500, 200, 60), (128, 500, 80, 24), (2, 500, 200, 60)]
    {
        let mut app = machine(cores, processes);
        app.size = (width, height);
        let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("test terminal");
        let mut view = ViewState::default();
        let name = format!("{cores} cores, {processes} processes, {width}x{height}");
        group.bench_function(name, |b| {
            b.iter(|| {
                terminal
                    .draw(|f| conlab::view::draw(f, &app, &mut view))
                    .expect("draw")
                    .area
            })
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    targets = frame
}
criterion_main!(benches);
