//! The alert rules over a replay: which alerts the config's rules would have
//! fired on the recorded market, evaluated on the replay's own clock (the
//! engine's time, so `--speed max` fires the same alerts as real time). A
//! replay of old data delivers to no one: the alerts are its output, and
//! with `--store PATH` they are kept in that file with the notices.

use std::sync::Arc;

use anyhow::Result;
use serde_json::Value;
use tokio::sync::mpsc;

use crate::alerts::alert::headless_line;
use crate::alerts::rule::Rule;
use crate::alerts::task::{SINK_CAPACITY, State, TICK};
use crate::engine::Engine;
use crate::engine::notices::Notice;
use crate::model::Micros;
use crate::store::AlertSink;

pub struct ReplayAlerts {
    state: State,
    notices: mpsc::Receiver<Arc<Notice>>,
    /// Engine time of the next look at the snapshot.
    next_look: Micros,
    /// The newest alert already handed out.
    seen: u64,
}

impl ReplayAlerts {
    /// Registers the alerts sink on `engine`; `None` when there are no rules
    /// (a plain replay pays nothing). With `store`, what fires is written
    /// to the replay's history store.
    pub fn attach(
        engine: &mut Engine,
        rules: &[Rule],
        store: Option<AlertSink>,
    ) -> Result<Option<ReplayAlerts>> {
        if rules.is_empty() {
            return Ok(None);
        }
        let (notices, _status) = engine.add_sink("alerts", SINK_CAPACITY);
        // Nothing outside this run reads deliveries' reports: there are none.
        let (dispatcher, _reports) = super::alerts::replay_dispatcher(false)?;
        let mut state = State::new(rules.to_vec(), dispatcher, None);
        if let Some(sink) = store {
            state.keep_in(sink);
        }
        Ok(Some(ReplayAlerts {
            state,
            notices,
            next_look: Micros::MIN,
            seen: 0,
        }))
    }

    /// Evaluates what the engine did up to `now` (its notices, and its
    /// snapshot every [`TICK`] of engine time; `force` looks regardless) and
    /// returns the headless `alert` lines of what fired, oldest first.
    pub fn step(&mut self, engine: &mut Engine, now: Micros, force: bool) -> Vec<Value> {
        while let Ok(n) = self.notices.try_recv() {
            self.state.on_notice(&n);
        }
        if force || now >= self.next_look {
            self.next_look = now.saturating_add(TICK.as_micros() as Micros);
            self.state.on_snapshot(&engine.snapshot());
        }
        let mut lines = Vec::new();
        for r in self.state.view.records.iter().rev() {
            if r.alert.id > self.seen {
                lines.push(headless_line(&r.alert, &r.delivery_words()));
                self.seen = r.alert.id;
            }
        }
        lines
    }

    /// Everything the rules fired so far (newest first), as the Alerts pane
    /// shows it.
    pub fn view(&self) -> &crate::alerts::AlertsView {
        &self.state.view
    }
}
