//! The Chart pane: candlesticks of the selected instrument, aggregated
//! across its venues or one venue's own, with volume bars, price and time
//! axes, the session VWAP, liquidation and large-trade markers and a
//! crosshair that reads out the candle under it.
//!
//! This module holds the pane's view state and keys; `draw` paints.

mod draw;

use ratatui::Frame;
use ratatui::layout::Rect;

use super::{framed, note, selected_view, wrapped_note};
use crate::engine::Snapshot;
use crate::engine::candles::{CandleSource, SeriesView};
use crate::model::{Instrument, Micros, Timeframe};
use crate::ui::app::App;
use crate::ui::keymap::Action;
use crate::ui::theme::Theme;

/// Columns per candle at each zoom step (the last column of a candle wider
/// than one is a gap).
pub const ZOOMS: [u16; 5] = [1, 2, 3, 4, 6];
const DEFAULT_ZOOM: usize = 1;
/// Candles one page of scrolling moves.
const PAGE: usize = 20;

/// What the Chart pane shows.
#[derive(Clone, Debug, PartialEq)]
pub struct ChartState {
    pub timeframe: Timeframe,
    pub source: CandleSource,
    /// Index into [`ZOOMS`].
    pub zoom: usize,
    /// Candles hidden to the right of the view (0 follows the newest).
    pub offset: usize,
    /// The start of the candle under the crosshair, when it is on.
    pub crosshair: Option<Micros>,
}

impl Default for ChartState {
    fn default() -> Self {
        ChartState {
            timeframe: Timeframe::M1,
            source: CandleSource::Aggregate,
            zoom: DEFAULT_ZOOM,
            offset: 0,
            crosshair: None,
        }
    }
}

impl ChartState {
    /// The source to show for `key`: the chosen one while the snapshot
    /// still has it, else the aggregate.
    pub fn source_for(&self, snap: &Snapshot, key: Instrument) -> CandleSource {
        match self.source {
            CandleSource::Venue(..) if snap.candles.sources(key).contains(&self.source) => {
                self.source
            }
            _ => CandleSource::Aggregate,
        }
    }

    /// The instrument changed: start again from the aggregate, live.
    pub fn reset_view(&mut self) {
        self.source = CandleSource::Aggregate;
        self.offset = 0;
        self.crosshair = None;
    }

    /// A pane key; false when it is not one of the chart's.
    pub fn action(
        &mut self,
        action: Action,
        snap: Option<&Snapshot>,
        key: Option<Instrument>,
    ) -> bool {
        let series = match (snap, key) {
            (Some(s), Some(k)) => s.candles.get(k, self.source_for(s, k), self.timeframe),
            _ => None,
        };
        let len = series.map_or(0, SeriesView::len);
        match action {
            Action::ChartTimeframeNext | Action::ChartTimeframePrev => {
                let i = self.timeframe.index();
                let n = Timeframe::ALL.len();
                let next = if action == Action::ChartTimeframeNext {
                    (i + 1) % n
                } else {
                    (i + n - 1) % n
                };
                self.timeframe = Timeframe::ALL[next];
                self.offset = 0;
                self.crosshair = None;
            }
            Action::CycleBookVenue => {
                let (Some(snap), Some(key)) = (snap, key) else {
                    return true;
                };
                let sources = snap.candles.sources(key);
                let current = self.source_for(snap, key);
                self.source = match current {
                    CandleSource::Aggregate => sources.first().copied().unwrap_or(current),
                    _ => {
                        let at = sources.iter().position(|s| *s == current);
                        at.and_then(|i| sources.get(i + 1))
                            .copied()
                            .unwrap_or(CandleSource::Aggregate)
                    }
                };
            }
            Action::ChartZoomIn => self.zoom = (self.zoom + 1).min(ZOOMS.len() - 1),
            Action::ChartZoomOut => self.zoom = self.zoom.saturating_sub(1),
            Action::ChartBack
            | Action::ChartForward
            | Action::ChartPageBack
            | Action::ChartPageForward => {
                let step = match action {
                    Action::ChartBack | Action::ChartForward => 1,
                    _ => PAGE,
                };
                let back = matches!(action, Action::ChartBack | Action::ChartPageBack);
                match (self.crosshair, series) {
                    (Some(at), Some(s)) => self.move_crosshair(s, at, step, back),
                    _ => {
                        let max = len.saturating_sub(1);
                        self.offset = if back {
                            (self.offset + step).min(max)
                        } else {
                            self.offset.saturating_sub(step)
                        };
                    }
                }
            }
            Action::ChartCrosshair => {
                self.crosshair = match self.crosshair {
                    Some(_) => None,
                    None => series.and_then(|s| {
                        let newest = s
                            .len()
                            .checked_sub(1 + self.offset.min(s.len().saturating_sub(1)))?;
                        s.get(newest).map(|c| c.start)
                    }),
                };
            }
            Action::ChartLive => {
                self.offset = 0;
                self.crosshair = None;
            }
            _ => return false,
        }
        true
    }

    /// Moves the crosshair `step` candles; the view scrolls to keep it in
    /// sight (the drawing clamps it to the visible window).
    fn move_crosshair(&mut self, s: &SeriesView, at: Micros, step: usize, back: bool) {
        let len = s.len();
        let Some(i) = s.iter().position(|c| c.start >= at).or(len.checked_sub(1)) else {
            return;
        };
        let j = if back {
            i.saturating_sub(step)
        } else {
            (i + step).min(len - 1)
        };
        self.crosshair = s.get(j).map(|c| c.start);
        // Keep the crosshair's candle at or left of the right edge.
        let from_right = len - 1 - j;
        if from_right < self.offset {
            self.offset = from_right;
        }
    }
}

pub fn render(frame: &mut Frame, area: Rect, snap: &Snapshot, app: &App, theme: &Theme) {
    let Some(view) = selected_view(snap, app) else {
        let inner = framed(frame, area, "Chart", theme);
        note(frame, inner, "no instruments", theme);
        return;
    };
    let st = &app.chart;
    let key = view.instrument;
    let source = st.source_for(snap, key);
    let venues = snap.candles.sources(key).len();
    let who = match source {
        CandleSource::Aggregate if venues > 1 => format!("{venues} venues, volume-weighted"),
        CandleSource::Aggregate => "all venues".to_string(),
        CandleSource::Venue(v, i) if i == key => format!("{v} only"),
        CandleSource::Venue(v, i) => format!("{v} {i} only"),
    };
    let title = format!("Chart · {} · {who} · {}", view.label, st.timeframe.label());
    let inner = framed(frame, area, title, theme);
    match snap
        .candles
        .get(key, source, st.timeframe)
        .filter(|s| !s.is_empty())
    {
        Some(series) => draw::chart(
            frame,
            inner,
            &draw::Input {
                snap,
                app,
                theme,
                key,
                source,
                series,
            },
        ),
        None => wrapped_note(
            frame,
            inner,
            format!(
                "no {} candles for {} yet: they are built from its trades (and backfilled at start \
                 from the venues that publish klines)",
                st.timeframe.label(),
                view.label
            ),
            theme,
        ),
    }
}
