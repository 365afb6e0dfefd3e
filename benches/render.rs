//! Render cost per pane: one whole frame at 200×60 into a TestBackend from
//! the sample snapshot (target < 1 ms per pane in release); the `empty frame` case is
//! the fixed cost of a draw, to subtract.

use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use depthwatch::ui::app::TimeZone;
use depthwatch::ui::fixtures::sample_snapshot;
use depthwatch::ui::panes::PANES;
use depthwatch::ui::{App, draw};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

fn render_panes(c: &mut Criterion) {
    let snap = Arc::new(sample_snapshot());
    let mut group = c.benchmark_group("render_200x60");
    // Baseline: what Terminal::draw costs with nothing rendered (buffer
    // reset and diff of 12,000 cells); a pane's own cost is the difference.
    let mut empty = match Terminal::new(TestBackend::new(200, 60)) {
        Ok(t) => t,
        Err(e) => panic!("test backend: {e}"),
    };
    group.bench_function("empty frame", |b| {
        b.iter(|| black_box(empty.draw(|_| {}).is_ok()))
    });
    for pane in PANES {
        let mut app = App::default();
        app.time_zone = TimeZone::Utc;
        app.observe(&snap);
        app.go_to(pane.id);
        let mut terminal = match Terminal::new(TestBackend::new(200, 60)) {
            Ok(t) => t,
            Err(e) => panic!("test backend: {e}"),
        };
        group.bench_function(pane.title, |b| {
            b.iter(|| {
                let frame = terminal.draw(|f| draw(f, black_box(&snap), &app));
                black_box(frame.is_ok())
            })
        });
    }
    group.finish();
}

criterion_group!(benches, render_panes);
criterion_main!(benches);
