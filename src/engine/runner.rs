//! The async task around the synchronous engine: drains inputs, ticks the
//! clock, applies control commands and publishes snapshots at most `fps`
//! times per second, only when something changed.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, watch};
use tokio::time::MissedTickBehavior;

use crate::model::Micros;

use super::{Engine, EngineConfig, EngineInput, Snapshot};

/// Recommended capacity of the bounded input channel: about a second of a
/// busy multi-venue feed, so a slow frame never blocks the adapters while a
/// stuck engine still shows up as back-pressure (and as queue depth in the
/// health pane) instead of unbounded memory.
pub const INPUT_CAPACITY: usize = 65_536;

/// Inputs handled in one go before the loop looks at control and frame ticks
/// again, so publishing keeps its pace under a flood.
const MAX_DRAIN: usize = 4_096;

#[derive(Clone, Debug)]
pub enum EngineControl {
    SetConfig(Box<EngineConfig>),
    /// Publish a last snapshot and return.
    Shutdown,
}

/// Run the engine until `Shutdown`, or until every input sender is gone.
/// A last snapshot is published on the way out if anything changed.
pub async fn run(
    engine: Engine,
    rx: mpsc::Receiver<EngineInput>,
    tx: watch::Sender<Arc<Snapshot>>,
    fps: u32,
    control: mpsc::Receiver<EngineControl>,
) {
    run_clocked(engine, rx, tx, fps, control, true).await
}

/// Like [`run`]; with `self_tick` false the engine's clock moves only with
/// its inputs (a replay sends its own `Tick`s, so pausing it pauses time).
pub async fn run_clocked(
    mut engine: Engine,
    mut rx: mpsc::Receiver<EngineInput>,
    tx: watch::Sender<Arc<Snapshot>>,
    fps: u32,
    mut control: mpsc::Receiver<EngineControl>,
    self_tick: bool,
) {
    let period = Duration::from_secs_f64(1.0 / f64::from(fps.max(1)));
    let mut frame = tokio::time::interval(period);
    frame.set_missed_tick_behavior(MissedTickBehavior::Skip);
    let mut clock = TickClock::default();
    let mut control_open = true;
    loop {
        tokio::select! {
            biased;
            cmd = control.recv(), if control_open => match cmd {
                Some(EngineControl::SetConfig(cfg)) => engine.set_config(*cfg),
                Some(EngineControl::Shutdown) => break,
                // Nobody can send commands any more; keep serving inputs.
                None => control_open = false,
            },
            _ = frame.tick() => {
                engine.set_queue_depth(rx.len());
                if let Some(now) = clock.now(engine.now()).filter(|_| self_tick) {
                    engine.handle(EngineInput::Tick { now });
                }
                if engine.has_changes() {
                    tx.send_replace(Arc::new(engine.snapshot()));
                }
            }
            input = rx.recv() => match input {
                Some(input) => {
                    engine.handle(input);
                    for _ in 1..MAX_DRAIN {
                        match rx.try_recv() {
                            Ok(input) => engine.handle(input),
                            Err(_) => break,
                        }
                    }
                }
                None => break,
            },
        }
    }
    if engine.has_changes() {
        tx.send_replace(Arc::new(engine.snapshot()));
    }
}

/// Tick times: the engine's own clock moved on by the wall time elapsed since
/// it last advanced. Live, receive times are wall clock, so this is the wall
/// clock; in a replay it extends capture time, so a replayed book only goes
/// stale when the replay itself goes quiet. Before any input: the wall clock.
#[derive(Debug)]
struct TickClock {
    seen: Micros,
    at: Instant,
}

impl Default for TickClock {
    fn default() -> Self {
        TickClock {
            seen: 0,
            at: Instant::now(),
        }
    }
}

impl TickClock {
    /// The time to tick the engine to; `None` until the engine has seen its
    /// first input, whose time (wall clock live, capture time in a replay)
    /// anchors the clock. Ticking before that would put a replay's engine at
    /// today's date and make every captured book look hours stale.
    fn now(&mut self, engine_now: Micros) -> Option<Micros> {
        if engine_now == 0 {
            return None;
        }
        if engine_now != self.seen {
            self.seen = engine_now;
            self.at = Instant::now();
        }
        let elapsed = Micros::try_from(self.at.elapsed().as_micros()).unwrap_or(Micros::MAX);
        Some(engine_now.saturating_add(elapsed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{BookUpdate, BookUpdateKind, Level, MarketEvent, SeqInfo};
    use rust_decimal_macros::dec;

    fn feed(received: Micros) -> EngineInput {
        EngineInput::Feed {
            venue: crate::venue!("okx"),
            conn: "wss://test".into(),
            received,
            bytes: 10,
            events: vec![MarketEvent::Book(BookUpdate {
                venue: crate::venue!("okx"),
                instrument: "BTC-USDT".parse().unwrap(),
                kind: BookUpdateKind::Snapshot,
                bids: vec![Level::new(dec!(100), dec!(1))],
                asks: vec![Level::new(dec!(101), dec!(1))],
                seq: SeqInfo::default(),
                exchange_ts: None,
                received,
            })],
        }
    }

    #[tokio::test]
    async fn publishes_changes_and_stops_on_shutdown() {
        let (in_tx, in_rx) = mpsc::channel(INPUT_CAPACITY);
        let (snap_tx, mut snap_rx) = watch::channel(Arc::new(Snapshot::default()));
        let (ctl_tx, ctl_rx) = mpsc::channel(4);
        let task = tokio::spawn(run(
            Engine::new(EngineConfig::default()),
            in_rx,
            snap_tx,
            100,
            ctl_rx,
        ));
        in_tx.send(feed(1_000_000)).await.unwrap();
        let snap = tokio::time::timeout(Duration::from_secs(5), async {
            loop {
                snap_rx.changed().await.unwrap();
                let s = snap_rx.borrow_and_update().clone();
                if !s.instruments.is_empty() {
                    return s;
                }
            }
        })
        .await
        .unwrap();
        assert!(snap.version >= 1);
        assert_eq!(
            snap.instruments[0].cbbo.bid.as_ref().unwrap().price,
            dec!(100)
        );
        // Ticks extend engine time, not the wall clock.
        assert!(snap.now >= 1_000_000 && snap.now < 60_000_000);
        ctl_tx.send(EngineControl::Shutdown).await.unwrap();
        tokio::time::timeout(Duration::from_secs(5), task)
            .await
            .unwrap()
            .unwrap();
    }

    #[tokio::test]
    async fn ends_when_inputs_close() {
        let (in_tx, in_rx) = mpsc::channel(8);
        let (snap_tx, snap_rx) = watch::channel(Arc::new(Snapshot::default()));
        let (_ctl_tx, ctl_rx) = mpsc::channel(1);
        let task = tokio::spawn(run(
            Engine::new(EngineConfig::default()),
            in_rx,
            snap_tx,
            1,
            ctl_rx,
        ));
        in_tx.send(feed(5)).await.unwrap();
        drop(in_tx);
        tokio::time::timeout(Duration::from_secs(5), task)
            .await
            .unwrap()
            .unwrap();
        // The last state was published on the way out.
        assert_eq!(snap_rx.borrow().instruments.len(), 1);
    }
}
