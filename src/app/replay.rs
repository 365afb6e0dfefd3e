//! `depthwatch replay`: headless (JSON lines) or in the TUI.

use std::io::Write;
use std::time::Instant;

use anyhow::Result;
use serde_json::json;

use super::replay_alerts::ReplayAlerts;
use crate::cli::{OutputArgs, ReplayArgs};
use crate::config::Config;
use crate::engine::{Engine, EngineInput};
use crate::headless;
use crate::model::Micros;
use crate::replay::{Replayer, Speed};

/// Play the files with no TUI and print the final state as JSON lines,
/// after the `alert` lines of what the config's rules fired on the way.
pub fn run_headless(args: &ReplayArgs, config: &Config) -> Result<()> {
    let mut replayer = Replayer::open(&args.files, args.align_start)?;
    let mut engine = Engine::new(config.engine_config());
    engine.set_heatmap(false);
    let history = store_for(&mut engine, args);
    let mut alerts = ReplayAlerts::attach(
        &mut engine,
        &config.alerts,
        history.as_ref().map(|w| w.alert_sink()),
    )?;
    let started = Instant::now();
    let mut first_ts: Option<Micros> = None;
    while let Some((ts, inputs)) = replayer.next_inputs()? {
        if let Speed::Factor(f) = args.speed {
            let t0 = *first_ts.get_or_insert(ts);
            let due = std::time::Duration::from_secs_f64(((ts - t0).max(0) as f64 / 1e6) / f);
            if let Some(wait) = due.checked_sub(started.elapsed()) {
                std::thread::sleep(wait);
            }
        }
        for input in inputs {
            engine.handle(input);
        }
        if let Some(a) = alerts.as_mut() {
            emit_alerts(a.step(&mut engine, ts, false), &args.output)?;
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    let end = engine.now();
    engine.handle(EngineInput::Tick { now: end });
    if let Some(a) = alerts.as_mut() {
        emit_alerts(a.step(&mut engine, end, true), &args.output)?;
    }
    print_final(&mut engine, &args.output, replayer.counts.frames, elapsed)?;
    let sinks = engine.snapshot().sinks;
    drop(engine);
    if let Some(w) = history {
        w.finish(super::store::FINISH_WAIT);
        report_store(args, &sinks);
    }
    Ok(())
}

fn emit_alerts(lines: Vec<serde_json::Value>, out: &OutputArgs) -> Result<()> {
    if lines.is_empty() {
        return Ok(());
    }
    let stdout = std::io::stdout();
    let mut w = stdout.lock();
    for line in &lines {
        headless::emit(&mut w, line, out.json)?;
    }
    w.flush()?;
    Ok(())
}

/// `--store PATH`: the replay's notices go to that file (never pruned,
/// nothing read back).
pub fn store_for(engine: &mut Engine, args: &ReplayArgs) -> Option<crate::store::writer::Writer> {
    let path = args.store.clone()?;
    let plan = super::store::HistoryPlan {
        file: Some(path),
        retention: None,
        restore: false,
    };
    super::store::attach(engine, plan, crate::model::now_micros())
}

/// What the store took, on stderr (stdout is the JSON lines).
fn report_store(args: &ReplayArgs, sinks: &[crate::engine::notices::SinkHealth]) {
    let (Some(path), Some(s)) = (
        &args.store,
        sinks.iter().find(|s| s.name == super::store::SINK_NAME),
    ) else {
        return;
    };
    eprintln!(
        "history: {} notices to {}, {} dropped{}",
        s.sent,
        path.display(),
        s.dropped,
        s.problem
            .as_deref()
            .map(|p| format!(" ({p})"))
            .unwrap_or_default()
    );
}

/// The closing lines of a headless run: books, CBBO per key, arbitrage,
/// funding and open interest per perpetual, the spikes seen, summary.
pub fn print_final(
    engine: &mut Engine,
    out: &OutputArgs,
    frames: u64,
    elapsed_s: f64,
) -> Result<()> {
    let stdout = std::io::stdout();
    let mut w = std::io::BufWriter::new(stdout.lock());
    // `Engine::books` is ordered by venue, then instrument.
    let books: Vec<_> = engine.books().collect();
    for b in &books {
        let line = headless::book_line(
            b.venue,
            &b.instrument,
            &b.state,
            &b.book.bids.top(out.depth),
            &b.book.asks.top(out.depth),
            (b.book.bids.len(), b.book.asks.len()),
            out.depth,
        );
        headless::emit(&mut w, &line, out.json)?;
    }
    drop(books);
    let snap = engine.snapshot();
    for view in &snap.instruments {
        writeln!(
            w,
            "{}",
            headless::cbbo_line(&view.label, view.mixed_quotes, &view.cbbo)
        )?;
    }
    let arbs = if out.all_spreads {
        engine.all_spreads()
    } else {
        snap.arbs.clone()
    };
    for a in &arbs {
        headless::emit(&mut w, &headless::arb_line(a), out.json)?;
    }
    for r in &snap.derivatives.rows {
        headless::emit(&mut w, &headless::funding_line(r), out.json)?;
        if r.oi_base.is_some() {
            headless::emit(&mut w, &headless::open_interest_line(r), out.json)?;
        }
    }
    for s in snap.derivatives.spikes.iter().rev() {
        headless::emit(&mut w, &headless::spike_line(s), out.json)?;
    }
    let t = engine.totals();
    let summary = json!({
        "type": "summary",
        "frames": frames,
        "parse_errors": t.parse_errors,
        "unknown_messages": t.unknown_messages,
        "book_updates": t.book_updates,
        "gaps": t.gaps,
        "resyncs": t.resyncs,
        "checksum_ok": t.checksum_ok,
        "checksum_failed": t.checksum_failed,
        "crossed_books": t.crossed_books,
        "elapsed_s": (elapsed_s * 1e4).round() / 1e4,
        "frames_per_s": if elapsed_s > 0.0 { (frames as f64 / elapsed_s).round() } else { 0.0 },
    });
    headless::emit(&mut w, &summary, out.json)?;
    w.flush()?;
    Ok(())
}
