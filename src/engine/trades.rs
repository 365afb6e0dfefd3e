//! Trade statistics: a tape of large trades and buy/sell flow per key.
//!
//! Like liquidations, every window and row uses the local receive time.

use std::collections::{HashMap, VecDeque};

use super::snapshot::{FlowStats, InstrumentFlow, TradeRow, TradeView};
use super::window::{Bucket, TimeWindows};
use crate::model::{Instrument, Micros, TakerSide, Trade};

impl Bucket for FlowStats {
    fn merge(&mut self, other: &Self) {
        self.buy_usd += other.buy_usd;
        self.sell_usd += other.sell_usd;
        self.trades = self.trades.saturating_add(other.trades);
    }
}

#[derive(Clone, Debug)]
pub struct TradeStats {
    tape_len: usize,
    /// Trades at or above the record-time threshold, newest at the front.
    large: VecDeque<TradeRow>,
    /// Flow per quote-group key.
    flow: HashMap<Instrument, TimeWindows<FlowStats>>,
}

impl TradeStats {
    pub fn new(tape_len: usize) -> Self {
        TradeStats {
            tape_len,
            large: VecDeque::with_capacity(tape_len.min(4096)),
            flow: HashMap::new(),
        }
    }

    /// Records one trade under `key` (its quote-group key). A trade with an
    /// unknown USD notional counts as a trade but adds no volume and never
    /// makes the large tape.
    pub fn record(
        &mut self,
        t: &Trade,
        key: Instrument,
        notional_usd: Option<f64>,
        large_threshold_usd: f64,
    ) -> Option<TradeRow> {
        let at = t.received;
        let usd = notional_usd.filter(|n| n.is_finite());
        let volume = usd.unwrap_or(0.0);
        let mut amount = FlowStats {
            trades: 1,
            ..FlowStats::default()
        };
        match t.side {
            TakerSide::Buy => amount.buy_usd = volume,
            TakerSide::Sell => amount.sell_usd = volume,
        }
        self.flow.entry(key).or_default().add(at, &amount);

        let usd = usd.filter(|u| *u >= large_threshold_usd)?;
        let row = TradeRow {
            venue: t.venue,
            instrument: t.instrument,
            side: t.side,
            price: t.price,
            size: t.size,
            notional_usd: usd,
            time: at,
        };
        if self.tape_len > 0 {
            self.large.push_front(row.clone());
            self.large.truncate(self.tape_len);
        }
        Some(row)
    }

    /// Drops the flow of a key no book is kept for any more. The large-trade
    /// tape keeps its rows: they are history.
    pub fn forget_key(&mut self, key: &Instrument) {
        self.flow.remove(key);
    }

    /// `threshold_usd` filters the tape (it may be above the record-time
    /// threshold) and is echoed in the view. Flow is sorted by 5-minute
    /// volume, largest first, then by key.
    pub fn view(&self, now: Micros, threshold_usd: f64) -> TradeView {
        let mut flow: Vec<(f64, InstrumentFlow)> = self
            .flow
            .iter()
            .map(|(key, windows)| {
                let last_5m = windows.last_5m(now);
                let volume = last_5m.buy_usd + last_5m.sell_usd;
                let row = InstrumentFlow {
                    key: *key,
                    last_1m: windows.last_1m(now),
                    last_5m,
                    last_1h: windows.last_1h(now),
                };
                (volume, row)
            })
            .collect();
        flow.sort_by(|(va, a), (vb, b)| vb.total_cmp(va).then_with(|| a.key.cmp(&b.key)));

        TradeView {
            large: self
                .large
                .iter()
                .filter(|r| r.notional_usd >= threshold_usd)
                .cloned()
                .collect(),
            threshold_usd,
            flow: flow.into_iter().map(|(_, row)| row).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::window::{MINUTE, SECOND};

    use rust_decimal_macros::dec;

    const T0: Micros = 1_700_000_000 * SECOND;

    fn key(s: &str) -> Instrument {
        s.parse().unwrap()
    }

    fn trade(side: TakerSide, at: Micros) -> Trade {
        Trade {
            venue: crate::venue!("coinbase"),
            instrument: key("BTC-USD"),
            price: dec!(60000),
            size: dec!(2),
            side,
            exchange_ts: None,
            received: at,
        }
    }

    #[test]
    fn large_tape_uses_threshold_and_view_filter() {
        let mut s = TradeStats::new(10);
        let k = key("BTC-USD");
        s.record(&trade(TakerSide::Buy, T0), k, Some(50_000.0), 100_000.0);
        s.record(
            &trade(TakerSide::Sell, T0 + 1),
            k,
            Some(100_000.0),
            100_000.0,
        );
        s.record(
            &trade(TakerSide::Buy, T0 + 2),
            k,
            Some(250_000.0),
            100_000.0,
        );
        s.record(&trade(TakerSide::Buy, T0 + 3), k, None, 0.0);
        let v = s.view(T0 + SECOND, 100_000.0);
        assert_eq!(v.threshold_usd, 100_000.0);
        let notionals: Vec<f64> = v.large.iter().map(|r| r.notional_usd).collect();
        assert_eq!(notionals, vec![250_000.0, 100_000.0]);
        assert_eq!(v.large[1].side, TakerSide::Sell);
        // The UI raised the threshold above the record-time one.
        let v = s.view(T0 + SECOND, 200_000.0);
        assert_eq!(v.large.len(), 1);
        assert_eq!(v.threshold_usd, 200_000.0);
        // Every trade counts in the flow, unknown notional included.
        assert_eq!(v.flow[0].last_1m.trades, 4);
    }

    #[test]
    fn large_tape_is_bounded() {
        let mut s = TradeStats::new(2);
        let k = key("BTC-USD");
        for i in 0..5 {
            s.record(&trade(TakerSide::Buy, T0 + i), k, Some(1e6 + i as f64), 1.0);
        }
        let v = s.view(T0, 0.0);
        let notionals: Vec<f64> = v.large.iter().map(|r| r.notional_usd).collect();
        assert_eq!(notionals, vec![1e6 + 4.0, 1e6 + 3.0]);
    }

    #[test]
    fn flow_windows_and_imbalance_sign() {
        let mut s = TradeStats::new(10);
        let k = key("BTC-USD");
        s.record(&trade(TakerSide::Sell, T0), k, Some(9_000.0), 1e9);
        s.record(
            &trade(TakerSide::Buy, T0 + 2 * MINUTE),
            k,
            Some(3_000.0),
            1e9,
        );
        s.record(
            &trade(TakerSide::Sell, T0 + 2 * MINUTE),
            k,
            Some(1_000.0),
            1e9,
        );
        let v = s.view(T0 + 2 * MINUTE, 1e9);
        let f = &v.flow[0];
        assert_eq!(f.key, k);
        assert_eq!(
            f.last_1m,
            FlowStats {
                buy_usd: 3_000.0,
                sell_usd: 1_000.0,
                trades: 2
            }
        );
        assert!(
            f.last_1m.imbalance() > 0.0,
            "buyers dominate the last minute"
        );
        assert!((f.last_1m.imbalance() - 0.5).abs() < 1e-12);
        assert_eq!(f.last_5m.trades, 3);
        assert!(f.last_5m.imbalance() < 0.0, "sellers dominate five minutes");
        assert_eq!(f.last_1h.sell_usd, 10_000.0);
        let later = s.view(T0 + 10 * MINUTE, 1e9);
        assert_eq!(later.flow[0].last_5m, FlowStats::default());
        assert_eq!(later.flow[0].last_1h.trades, 3);
    }

    #[test]
    fn extreme_times_and_counts() {
        let mut s = TradeStats::new(2);
        let k = key("BTC-USD");
        for at in [i64::MIN, 0, i64::MAX] {
            s.record(&trade(TakerSide::Buy, at), k, Some(f64::MAX), 1.0);
            s.record(&trade(TakerSide::Sell, at), k, Some(f64::NAN), 1.0);
            for now in [i64::MIN, 0, i64::MAX] {
                let _ = s.view(now, 0.0);
            }
        }
        let v = s.view(i64::MAX, 0.0);
        assert_eq!(v.flow[0].last_1m.trades, 2);
        assert_eq!(v.flow[0].last_1m.sell_usd, 0.0);
        assert_eq!(v.large.len(), 2);
        let mut f = FlowStats {
            trades: u64::MAX,
            ..FlowStats::default()
        };
        f.merge(&FlowStats {
            trades: 5,
            ..FlowStats::default()
        });
        assert_eq!(f.trades, u64::MAX);
    }

    #[test]
    fn flow_is_sorted_by_five_minute_volume() {
        let mut s = TradeStats::new(10);
        s.record(&trade(TakerSide::Buy, T0), key("ETH-USD"), Some(10.0), 1e9);
        s.record(&trade(TakerSide::Buy, T0), key("BTC-USD"), Some(500.0), 1e9);
        s.record(
            &trade(TakerSide::Sell, T0),
            key("SOL-USD"),
            Some(100.0),
            1e9,
        );
        // Big but half an hour old: outside the five-minute window.
        s.record(
            &trade(TakerSide::Buy, T0 - 30 * MINUTE),
            key("XRP-USD"),
            Some(1e6),
            1e9,
        );
        let keys: Vec<String> = s
            .view(T0, 1e9)
            .flow
            .iter()
            .map(|f| f.key.to_string())
            .collect();
        assert_eq!(keys, vec!["BTC-USD", "SOL-USD", "ETH-USD", "XRP-USD"]);
    }
}
