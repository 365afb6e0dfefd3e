//! Headless output: the JSON lines scripts rely on (DESIGN.md, "Interfaces").
//! Field names are an interface: add fields, never rename.

use rust_decimal::{Decimal, RoundingStrategy};
use serde_json::{Value, json};

use crate::engine::candles::{CandleSource, ClosedCandle};
use crate::engine::derivs::{PerpRow, SpikeMetric, SpikeRow};
use crate::engine::snapshot::{
    ArbOpportunity, Cbbo, ConnHealth, ConnState, LiquidationRow, TradeRow,
};
use crate::model::{BookState, Instrument, Level, LiquidatedSide, TakerSide, Venue};

/// A decimal as the interface prints it: exact, no trailing zeros.
pub fn dec(d: Decimal) -> String {
    d.normalize().to_string()
}

/// A decimal rounded for display fields (bps, profit): `dp` places at most.
pub fn dec_dp(d: Decimal, dp: u32) -> String {
    dec(d.round_dp_with_strategy(dp, RoundingStrategy::MidpointAwayFromZero))
}

fn levels(levels: impl Iterator<Item = Level>) -> Value {
    Value::Array(levels.map(|l| json!([dec(l.price), dec(l.size)])).collect())
}

/// `{"type":"book",...}`: the best `depth` levels a side of `bids`/`asks`
/// (best first), the state shown, and how many levels each side holds.
pub fn book_line(
    venue: Venue,
    instrument: &Instrument,
    state: &BookState,
    bids: &[Level],
    asks: &[Level],
    (levels_bid, levels_ask): (usize, usize),
    depth: usize,
) -> Value {
    json!({
        "type": "book",
        "venue": venue,
        "instrument": instrument,
        "state": state.label(),
        "bids": levels(bids.iter().take(depth).copied()),
        "asks": levels(asks.iter().take(depth).copied()),
        "levels_bid": levels_bid,
        "levels_ask": levels_ask,
    })
}

/// A `book` line from a snapshot's venue book (live headless streaming).
pub fn venue_book_line(b: &crate::engine::snapshot::VenueBook, depth: usize) -> Value {
    book_line(
        b.venue,
        &b.instrument,
        &b.state,
        &b.bids,
        &b.asks,
        (b.bid_levels, b.ask_levels),
        depth,
    )
}

/// `{"type":"cbbo",...}` for one instrument or quote group.
pub fn cbbo_line(label: &str, mixed_quotes: bool, cbbo: &Cbbo) -> Value {
    let side = |s: &Option<crate::engine::snapshot::CbboSide>| match s {
        Some(s) => (json!(dec(s.price)), json!(dec(s.size)), json!(s.venue)),
        None => (Value::Null, Value::Null, Value::Null),
    };
    let (bid, bid_size, bid_venue) = side(&cbbo.bid);
    let (ask, ask_size, ask_venue) = side(&cbbo.ask);
    let excluded: Vec<Value> = cbbo
        .excluded
        .iter()
        .map(|(v, why)| json!({"venue": v, "reason": why}))
        .collect();
    json!({
        "type": "cbbo",
        "instrument": label,
        "bid": bid, "bid_size": bid_size, "bid_venue": bid_venue,
        "ask": ask, "ask_size": ask_size, "ask_venue": ask_venue,
        "spread_bps": cbbo.spread_bps().map(|b| dec_dp(b, 2)),
        "mixed_quotes": mixed_quotes,
        "excluded": excluded,
    })
}

/// `{"type":"arb",...}` for one opportunity (or venue-pair spread).
pub fn arb_line(a: &ArbOpportunity) -> Value {
    json!({
        "type": "arb",
        "instrument": a.key,
        "buy_venue": a.buy_venue,
        "buy_instrument": a.buy_instrument,
        "sell_venue": a.sell_venue,
        "sell_instrument": a.sell_instrument,
        "buy_fee_bps": dec(a.buy_fee_bps),
        "sell_fee_bps": dec(a.sell_fee_bps),
        "size": dec(a.size),
        "buy_vwap": dec_dp(a.buy_vwap, 8),
        "sell_vwap": dec_dp(a.sell_vwap, 8),
        "gross_bps": dec_dp(a.gross_bps, 2),
        "net_bps": dec_dp(a.net_bps, 2),
        "profit": dec_dp(a.profit, 2),
        "polled": a.polled,
    })
}

pub fn trade_line(t: &TradeRow) -> Value {
    json!({
        "type": "trade",
        "venue": t.venue,
        "instrument": t.instrument,
        "side": match t.side { TakerSide::Buy => "buy", TakerSide::Sell => "sell" },
        "price": dec(t.price),
        "size": dec(t.size),
        "notional_usd": (t.notional_usd * 100.0).round() / 100.0,
        "time_us": t.time,
    })
}

pub fn liquidation_line(l: &LiquidationRow) -> Value {
    json!({
        "type": "liquidation",
        "venue": l.venue,
        "instrument": l.instrument,
        "side": match l.side { LiquidatedSide::Long => "long", LiquidatedSide::Short => "short" },
        "price": dec(l.price),
        "size": dec(l.size),
        "notional_usd": (l.notional_usd * 100.0).round() / 100.0,
        "time_us": l.time,
    })
}

/// Rounds a statistic for a line (rates, bps, z-scores are `f64`; prices
/// and sizes never are).
fn round(x: f64, dp: i32) -> f64 {
    let k = 10f64.powi(dp);
    (x * k).round() / k
}

/// `{"type":"funding",...}`: one perpetual on one venue. `rate` and
/// `predicted` are the venue's own per-period figures (exact decimals);
/// `rate_8h`/`annual` are normalised by the funding interval.
pub fn funding_line(r: &PerpRow) -> Value {
    json!({
        "type": "funding",
        "venue": r.venue,
        "instrument": r.instrument,
        "rate": r.funding_rate.map(dec),
        "predicted": r.predicted_rate.map(dec),
        "interval_s": r.interval.map(|i| i / 1_000_000),
        "rate_8h": r.rate_8h.map(|x| round(x, 10)),
        "annual": r.annual.map(|x| round(x, 6)),
        "next_funding_us": r.next_funding,
        "mark": r.mark.map(dec),
        "index": r.index.map(dec),
        "basis_bps": r.basis_bps.map(|x| round(x, 2)),
    })
}

/// `{"type":"open_interest",...}`: open interest in base (exact), contracts
/// where the venue counts in them, USD, and its relative change over 5 min,
/// 1 h, 4 h and 24 h (fractions; null until the window is covered).
pub fn open_interest_line(r: &PerpRow) -> Value {
    let [m5, h1, h4, h24] = r.oi_change.map(|c| c.map(|x| round(x, 6)));
    json!({
        "type": "open_interest",
        "venue": r.venue,
        "instrument": r.instrument,
        "base": r.oi_base.map(dec),
        "contracts": r.oi_contracts.map(dec),
        "usd": r.oi_usd.map(|x| round(x, 0)),
        "change_5m": m5,
        "change_1h": h1,
        "change_4h": h4,
        "change_24h": h24,
        "volume_1h_usd": round(r.volume_1h_usd, 0),
        "volume_24h_usd": round(r.volume_24h_usd, 0),
    })
}

/// `{"type":"spike",...}`: an open-interest or volume spike; `venue` is
/// null when measured on the sum across venues.
pub fn spike_line(s: &SpikeRow) -> Value {
    json!({
        "type": "spike",
        "venue": s.venue,
        "instrument": s.key,
        "metric": match s.metric {
            SpikeMetric::OpenInterest => "open_interest",
            SpikeMetric::Volume => "volume",
        },
        "value": round(s.value, 4),
        "z": round(s.z, 2),
        "time_us": s.at,
    })
}

/// `{"type":"candle",...}`: a candle that closed. `venue` is null for the
/// volume-weighted aggregate of the venues under a key (`instrument` is then
/// the key, `venues` those in it); `partial` when it was built from part of
/// its interval only (volume figures then a lower bound). Figures a source
/// did not give (Bybit's backfilled klines have no buy/sell split) are null.
pub fn candle_line(c: &ClosedCandle) -> Value {
    let (venue, instrument) = match c.source {
        CandleSource::Aggregate => (Value::Null, json!(c.key)),
        CandleSource::Venue(v, i) => (json!(v), json!(i)),
    };
    let k = &c.candle;
    json!({
        "type": "candle",
        "venue": venue,
        "instrument": instrument,
        "interval": c.timeframe.label(),
        "start_us": k.start,
        "open": dec(k.open),
        "high": dec(k.high),
        "low": dec(k.low),
        "close": dec(k.close),
        "volume": dec(k.volume),
        "buy_volume": k.buy_volume.map(dec),
        "sell_volume": k.sell_volume.map(dec),
        "trades": k.trades,
        "vwap": k.vwap().map(|v| dec_dp(v, 8)),
        "partial": k.partial,
        "venues": c.venues,
    })
}

pub fn health_line(h: &ConnHealth) -> Value {
    let (state, reason) = match &h.state {
        ConnState::Connecting => ("connecting", None),
        ConnState::Connected => ("connected", None),
        ConnState::Backoff { reason, .. } => ("backoff", Some(reason.clone())),
        ConnState::Disconnected { reason } => ("disconnected", Some(reason.clone())),
        ConnState::Replay => ("replay", None),
    };
    json!({
        "type": "health",
        "venue": h.venue,
        "conn": h.conn,
        "state": state,
        "reason": reason,
        "msgs_per_s": (h.msgs_per_s * 10.0).round() / 10.0,
        "latency_p50_ms": h.latency_p50_ms,
        "latency_p99_ms": h.latency_p99_ms,
        "clock_skew": h.clock_skew,
        "messages": h.messages,
        "reconnects": h.reconnects,
        "gaps": h.gaps,
        "resyncs": h.resyncs,
        "checksum_ok": h.checksum_ok,
        "checksum_failed": h.checksum_failed,
        "parse_errors": h.parse_errors,
    })
}

/// A line as text for `--headless` without `--json`: the type, then
/// `key=value` pairs; level arrays show their best three levels as
/// `price×size`.
pub fn text_line(v: &Value) -> String {
    let Some(obj) = v.as_object() else {
        return v.to_string();
    };
    let mut out = String::new();
    for (k, val) in obj {
        if k == "type" {
            out.push_str(val.as_str().unwrap_or("?"));
            continue;
        }
        let shown = match val {
            Value::Null => continue,
            Value::String(s) => s.clone(),
            Value::Array(items) if items.is_empty() => continue,
            Value::Array(items) if items.iter().all(|i| i.is_array()) => {
                let mut levels: Vec<String> = items
                    .iter()
                    .take(3)
                    .map(|l| {
                        format!(
                            "{}×{}",
                            l[0].as_str().unwrap_or("?"),
                            l[1].as_str().unwrap_or("?")
                        )
                    })
                    .collect();
                if items.len() > 3 {
                    levels.push("…".into());
                }
                levels.join(" ")
            }
            other => other.to_string(),
        };
        out.push_str(&format!("  {k}={shown}"));
    }
    out
}

/// Print one line in the chosen format.
pub fn emit(w: &mut impl std::io::Write, v: &Value, json: bool) -> std::io::Result<()> {
    if json {
        writeln!(w, "{v}")
    } else {
        writeln!(w, "{}", text_line(v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn text_lines_are_readable() {
        let v = json!({"type":"book","venue":"binance","bids":[["1","2"],["0.9","3"],["0.8","1"],["0.7","1"]],"excluded":[],"x":null});
        assert_eq!(text_line(&v), "book  venue=binance  bids=1×2 0.9×3 0.8×1 …");
    }

    /// The README's example `candle` line has exactly the fields the line
    /// has, in the same order.
    #[test]
    fn the_readme_documents_the_candle_line() {
        use crate::engine::candles::Candle;
        let readme = include_str!("../README.md");
        let example = readme
            .lines()
            .find(|l| l.starts_with(r#"{"type":"candle""#))
            .expect("README shows a candle line");
        let documented: Value = serde_json::from_str(example).expect("the example is JSON");
        let line = candle_line(&ClosedCandle {
            seq: 0,
            key: "BTC-USDT".parse().unwrap(),
            source: CandleSource::Aggregate,
            timeframe: crate::model::Timeframe::M1,
            venues: vec![crate::venue!("binance")],
            candle: Candle::flat(0, dec!(1)),
        });
        let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
        assert_eq!(keys(&documented), keys(&line));
        assert!(
            readme.contains("`candle`"),
            "the line type is named in the prose"
        );
    }

    #[test]
    fn decimals_print_without_trailing_zeros() {
        assert_eq!(dec(dec!(0.35210)), "0.3521");
        assert_eq!(dec(dec!(672.000)), "672");
        assert_eq!(dec_dp(dec!(18.8449), 2), "18.84");
        assert_eq!(dec_dp(dec!(2.875), 2), "2.88");
    }
}
