//! `depthwatch history`: the stored history as a table, CSV or JSON lines,
//! or per venue pair summaries of the opportunities (`--stats`).
//!
//! Times: the table shows UTC to the millisecond; CSV gives RFC 3339 UTC to
//! the microsecond and durations in seconds (`lifetime_s`); JSON lines give
//! integer microseconds (`opened_us`, `lifetime_us`), like the headless
//! lines. Prices, sizes, rates and bps are exact decimal strings everywhere,
//! without trailing zeros (as the headless lines print them).

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use rust_decimal::Decimal;
use serde_json::{Map, Value, json};

use crate::cli::{Cli, HistoryArgs};
use crate::config::paths;
use crate::model::{Micros, now_micros};
use crate::store::stats::{PairSummary, summarize};
use crate::store::{Kind, Query, Record, SqliteStore, Store, codec};

/// Run the command; returns the exit code.
pub fn run(cli: &Cli, args: &HistoryArgs) -> Result<i32> {
    let path = store_path(cli, args)?;
    let store = SqliteStore::open_read(&path).map_err(|e| anyhow::anyhow!("{e}"))?;
    let now = now_micros();
    let mut q = Query::new(if args.stats {
        Kind::Arbitrage
    } else {
        args.kind
    });
    q.instrument = args
        .instrument
        .as_deref()
        .map(|s| {
            s.parse()
                .map_err(|e| anyhow::anyhow!("--instrument {s}: {e}"))
        })
        .transpose()?;
    q.venue = args
        .venue
        .as_deref()
        .map(|s| s.parse().map_err(|e| anyhow::anyhow!("--venue: {e}")))
        .transpose()?;
    q.since = args
        .since
        .as_deref()
        .map(|s| parse_when(s, now).with_context(|| format!("--since {s}")))
        .transpose()?;
    q.until = args
        .until
        .as_deref()
        .map(|s| parse_when(s, now).with_context(|| format!("--until {s}")))
        .transpose()?;
    if !args.stats {
        q.limit = args.limit;
    }
    let records = store.query(&q).map_err(|e| anyhow::anyhow!("{e}"))?;
    let table = if args.stats {
        let arbs: Vec<_> = records
            .into_iter()
            .filter_map(|r| match r {
                Record::Arb(a) => Some(a),
                _ => None,
            })
            .collect();
        stats_table(&summarize(&arbs))
    } else {
        records_table(args.kind, &records)
    };
    let stdout = std::io::stdout();
    let mut w = std::io::BufWriter::new(stdout.lock());
    let format = if args.json {
        Format::Json
    } else if args.csv {
        Format::Csv
    } else {
        Format::Table
    };
    table.write(&mut w, format)?;
    w.flush()?;
    if format == Format::Table && table.rows.is_empty() {
        eprintln!("no rows in {} for this selection", path.display());
    }
    Ok(0)
}

/// `--store PATH`, else the demo's store with `--demo`, else the
/// configured one.
fn store_path(cli: &Cli, args: &HistoryArgs) -> Result<PathBuf> {
    if let Some(p) = &args.store {
        return Ok(p.clone());
    }
    let (config, _) = paths::load_for_run(cli.config.as_deref())?;
    config
        .store
        .file(args.demo, paths::data_dir().as_deref())
        .context("no data directory on this platform: pass --store PATH")
}

/// A time given on the command line: a duration back from `now` (`90s`,
/// `15m`, `1h30m`, `2d`, `1w`), an RFC 3339 time
/// (`2026-12-03T10:00:00Z`) or a UTC date (`2026-12-03`).
pub fn parse_when(s: &str, now: Micros) -> Result<Micros> {
    let s = s.trim();
    if let Some(ago) = parse_duration(s) {
        return Ok(now.saturating_sub(ago));
    }
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return Ok(t.timestamp_micros());
    }
    if let Ok(d) = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
        && let Some(t) = d.and_hms_opt(0, 0, 0)
    {
        return Ok(t.and_utc().timestamp_micros());
    }
    bail!("expected a duration back from now (90s, 15m, 1h30m, 2d, 1w), an RFC 3339 time or a date")
}

/// `1h30m` → microseconds; `None` unless the whole text is number+unit
/// pairs.
fn parse_duration(s: &str) -> Option<Micros> {
    if s.is_empty() {
        return None;
    }
    let mut total: Micros = 0;
    let mut rest = s;
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit())?;
        if digits == 0 {
            return None;
        }
        let n: Micros = rest[..digits].parse().ok()?;
        let unit_len = rest[digits..]
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len() - digits);
        let unit = &rest[digits..digits + unit_len];
        let scale: Micros = match unit {
            "s" => 1_000_000,
            "m" => 60_000_000,
            "h" => 3_600_000_000,
            "d" => 86_400_000_000,
            "w" => 7 * 86_400_000_000,
            _ => return None,
        };
        total = total.checked_add(n.checked_mul(scale)?)?;
        rest = &rest[digits + unit_len..];
    }
    Some(total)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    Table,
    Csv,
    Json,
}

/// One value of a row, printed per format.
#[derive(Clone, Debug, PartialEq)]
enum Cell {
    /// `None` (an open opportunity's close) prints empty / null.
    Time(Option<Micros>),
    /// A duration; `None` (an open opportunity) prints empty / null.
    Dur(Option<Micros>),
    Text(Option<String>),
    Dec(Option<Decimal>),
    /// A USD statistic (rounded to cents).
    Usd(Option<f64>),
    Int(u64),
    /// A count a source may not give (prints empty / null).
    Count(Option<u64>),
    Bool(bool),
}

impl Cell {
    fn text(s: impl Into<String>) -> Cell {
        Cell::Text(Some(s.into()))
    }

    fn table(&self) -> String {
        match self {
            Cell::Time(t) => t.map(|t| utc(t, false)).unwrap_or_default(),
            Cell::Dur(d) => d.map(human_duration).unwrap_or_default(),
            Cell::Text(t) => t.clone().unwrap_or_default(),
            Cell::Dec(d) => d.map(|d| d.normalize().to_string()).unwrap_or_default(),
            Cell::Usd(u) => u.map(|u| format!("{u:.2}")).unwrap_or_default(),
            Cell::Int(n) => n.to_string(),
            Cell::Count(n) => n.map(|n| n.to_string()).unwrap_or_default(),
            Cell::Bool(b) => if *b { "yes" } else { "" }.to_string(),
        }
    }

    fn csv(&self) -> String {
        match self {
            Cell::Time(t) => t.map(|t| utc(t, true)).unwrap_or_default(),
            Cell::Dur(d) => d.map(seconds).unwrap_or_default(),
            Cell::Bool(b) => b.to_string(),
            other => other.table(),
        }
    }

    fn json(&self) -> Value {
        match self {
            Cell::Time(t) => json!(t),
            Cell::Dur(d) => json!(d),
            Cell::Text(t) => json!(t),
            Cell::Dec(d) => json!(d.map(|d| d.normalize().to_string())),
            Cell::Usd(u) => json!(
                u.filter(|u| u.is_finite())
                    .map(|u| (u * 100.0).round() / 100.0)
            ),
            Cell::Int(n) => json!(n),
            Cell::Count(n) => json!(n),
            Cell::Bool(b) => json!(b),
        }
    }

    fn right_aligned(&self) -> bool {
        matches!(
            self,
            Cell::Dur(_) | Cell::Dec(_) | Cell::Usd(_) | Cell::Int(_) | Cell::Count(_)
        )
    }
}

/// Column names; time and duration columns get `_us` in JSON and
/// durations `_s` in CSV.
struct Table {
    kind: &'static str,
    names: Vec<&'static str>,
    rows: Vec<Vec<Cell>>,
}

impl Table {
    fn header_for(&self, col: usize, format: Format) -> String {
        let name = self.names[col];
        let sample = self.rows.first().map(|r| &r[col]);
        match (format, sample) {
            (Format::Json, Some(Cell::Time(_) | Cell::Dur(_))) => format!("{name}_us"),
            (Format::Csv, Some(Cell::Dur(_))) => format!("{name}_s"),
            (Format::Table, Some(Cell::Time(_))) => format!("{name} (UTC)"),
            _ => name.to_string(),
        }
    }

    fn write(&self, w: &mut impl Write, format: Format) -> std::io::Result<()> {
        match format {
            Format::Json => {
                for row in &self.rows {
                    let mut obj = Map::new();
                    obj.insert("type".into(), json!(self.kind));
                    for (c, cell) in row.iter().enumerate() {
                        obj.insert(self.header_for(c, format), cell.json());
                    }
                    writeln!(w, "{}", Value::Object(obj))?;
                }
            }
            Format::Csv => {
                let header: Vec<String> = (0..self.names.len())
                    .map(|c| csv_field(&self.header_for(c, format)))
                    .collect();
                writeln!(w, "{}", header.join(","))?;
                for row in &self.rows {
                    let fields: Vec<String> = row.iter().map(|c| csv_field(&c.csv())).collect();
                    writeln!(w, "{}", fields.join(","))?;
                }
            }
            Format::Table => {
                let header: Vec<String> = (0..self.names.len())
                    .map(|c| self.header_for(c, format))
                    .collect();
                let cells: Vec<Vec<String>> = self
                    .rows
                    .iter()
                    .map(|r| r.iter().map(Cell::table).collect())
                    .collect();
                let widths: Vec<usize> = (0..header.len())
                    .map(|c| {
                        cells
                            .iter()
                            .map(|r| r[c].chars().count())
                            .chain([header[c].chars().count()])
                            .max()
                            .unwrap_or(0)
                    })
                    .collect();
                let right: Vec<bool> = (0..header.len())
                    .map(|c| self.rows.first().is_some_and(|r| r[c].right_aligned()))
                    .collect();
                let line = |w: &mut dyn Write, values: &[String]| -> std::io::Result<()> {
                    let parts: Vec<String> = values
                        .iter()
                        .enumerate()
                        .map(|(c, v)| {
                            if right[c] {
                                format!("{v:>width$}", width = widths[c])
                            } else {
                                format!("{v:<width$}", width = widths[c])
                            }
                        })
                        .collect();
                    writeln!(w, "{}", parts.join("  ").trim_end())
                };
                line(w, &header)?;
                for r in &cells {
                    line(w, r)?;
                }
            }
        }
        Ok(())
    }
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn utc(t: Micros, precise: bool) -> String {
    match chrono::DateTime::from_timestamp_micros(t) {
        Some(d) if precise => d.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string(),
        Some(d) => d.format("%Y-%m-%d %H:%M:%S%.3f").to_string(),
        None => t.to_string(),
    }
}

/// Exact seconds with six decimals.
fn seconds(d: Micros) -> String {
    Decimal::new(d, 6).to_string()
}

fn human_duration(d: Micros) -> String {
    let ms = d / 1_000;
    if ms < 1_000 {
        format!("{ms}ms")
    } else if ms < 60_000 {
        format!("{:.1}s", ms as f64 / 1e3)
    } else if ms < 3_600_000 {
        format!("{}m{:02}s", ms / 60_000, ms / 1_000 % 60)
    } else {
        format!("{}h{:02}m", ms / 3_600_000, ms / 60_000 % 60)
    }
}

fn records_table(kind: Kind, records: &[Record]) -> Table {
    let (name, names): (&'static str, Vec<&'static str>) = match kind {
        Kind::Arbitrage => (
            "arbitrage",
            vec![
                "opened",
                "closed",
                "lifetime",
                "instrument",
                "buy_venue",
                "sell_venue",
                "buy_instrument",
                "sell_instrument",
                "peak_net_bps",
                "peak_profit",
                "size",
                "buy_vwap",
                "sell_vwap",
                "buy_fee_bps",
                "sell_fee_bps",
                "polled",
                "reason",
            ],
        ),
        Kind::Liquidations => (
            "liquidation",
            vec![
                "time",
                "venue",
                "instrument",
                "side",
                "price",
                "size",
                "notional_usd",
            ],
        ),
        Kind::Trades => (
            "trade",
            vec![
                "time",
                "venue",
                "instrument",
                "side",
                "price",
                "size",
                "notional_usd",
            ],
        ),
        Kind::Funding => (
            "funding",
            vec![
                "minute",
                "venue",
                "instrument",
                "funding_rate",
                "predicted_rate",
                "mark",
                "index",
                "oi_base",
                "oi_usd",
                "volume_usd",
            ],
        ),
        Kind::Incidents => (
            "incident",
            vec!["time", "venue", "instrument", "kind", "detail"],
        ),
        Kind::States => (
            "state",
            vec!["time", "venue", "instrument", "conn", "state", "reason"],
        ),
        Kind::Candles => (
            "candle",
            vec![
                "minute",
                "venue",
                "instrument",
                "open",
                "high",
                "low",
                "close",
                "volume",
                "buy_volume",
                "sell_volume",
                "turnover",
                "vwap",
                "trades",
                "partial",
            ],
        ),
        Kind::Alerts => (
            "alert",
            vec![
                "time",
                "id",
                "rule",
                "kind",
                "severity",
                "subject",
                "instrument",
                "venue",
                "muted",
                "text",
                "deliveries",
            ],
        ),
    };
    let rows = records
        .iter()
        .map(|r| match r {
            Record::Arb(a) => vec![
                Cell::Time(Some(a.opened)),
                Cell::Time(a.closed),
                Cell::Dur(a.lifetime()),
                Cell::text(a.key.to_string()),
                Cell::text(a.buy_venue.as_str()),
                Cell::text(a.sell_venue.as_str()),
                Cell::text(a.buy_instrument.to_string()),
                Cell::text(a.sell_instrument.to_string()),
                Cell::Dec(Some(a.peak_net_bps)),
                Cell::Dec(Some(a.peak_profit)),
                Cell::Dec(Some(a.size)),
                Cell::Dec(Some(a.buy_vwap)),
                Cell::Dec(Some(a.sell_vwap)),
                Cell::Dec(Some(a.buy_fee_bps)),
                Cell::Dec(Some(a.sell_fee_bps)),
                Cell::Bool(a.polled),
                Cell::Text(a.reason.clone()),
            ],
            Record::Liquidation(l) => vec![
                Cell::Time(Some(l.time)),
                Cell::text(l.venue.as_str()),
                Cell::text(l.instrument.to_string()),
                Cell::text(codec::liq_side(l.side)),
                Cell::Dec(Some(l.price)),
                Cell::Dec(Some(l.size)),
                Cell::Usd(l.notional_known.then_some(l.notional_usd)),
            ],
            Record::Trade(t) => vec![
                Cell::Time(Some(t.time)),
                Cell::text(t.venue.as_str()),
                Cell::text(t.instrument.to_string()),
                Cell::text(codec::taker_side(t.side)),
                Cell::Dec(Some(t.price)),
                Cell::Dec(Some(t.size)),
                Cell::Usd(Some(t.notional_usd)),
            ],
            Record::Funding(d) => vec![
                Cell::Time(Some(d.minute)),
                Cell::text(d.venue.as_str()),
                Cell::text(d.instrument.to_string()),
                Cell::Dec(d.funding_rate),
                Cell::Dec(d.predicted_rate),
                Cell::Dec(d.mark),
                Cell::Dec(d.index),
                Cell::Dec(d.oi_base),
                Cell::Usd(d.oi_usd),
                Cell::Usd(Some(d.volume_usd)),
            ],
            Record::Incident(i) => vec![
                Cell::Time(Some(i.time)),
                Cell::text(i.venue.as_str()),
                Cell::Text(i.instrument.map(|i| i.to_string())),
                Cell::text(i.kind.clone()),
                Cell::Text(i.detail.clone()),
            ],
            Record::State(s) => vec![
                Cell::Time(Some(s.time)),
                Cell::text(s.venue.as_str()),
                Cell::Text(s.instrument.map(|i| i.to_string())),
                Cell::Text(s.conn.clone()),
                Cell::text(s.state.clone()),
                Cell::Text(s.reason.clone()),
            ],
            Record::Candle(m) => {
                let c = &m.candle;
                vec![
                    Cell::Time(Some(c.start)),
                    Cell::text(m.venue.as_str()),
                    Cell::text(m.instrument.to_string()),
                    Cell::Dec(Some(c.open)),
                    Cell::Dec(Some(c.high)),
                    Cell::Dec(Some(c.low)),
                    Cell::Dec(Some(c.close)),
                    Cell::Dec(Some(c.volume)),
                    Cell::Dec(c.buy_volume),
                    Cell::Dec(c.sell_volume),
                    Cell::Dec(c.turnover),
                    Cell::Dec(c.vwap().map(|v| {
                        v.round_dp_with_strategy(
                            8,
                            rust_decimal::RoundingStrategy::MidpointAwayFromZero,
                        )
                        .normalize()
                    })),
                    Cell::Count(c.trades),
                    Cell::Bool(c.partial),
                ]
            }
            // Each destination's latest outcome, one field.
            Record::Alert(a) => vec![
                Cell::Time(Some(a.time)),
                Cell::text(a.id.to_string()),
                Cell::text(a.rule.clone()),
                Cell::text(a.kind.clone()),
                Cell::text(a.severity.clone()),
                Cell::text(a.subject.clone()),
                Cell::Text(a.instrument.map(|i| i.to_string())),
                Cell::Text(a.venue.map(|v| v.as_str().to_string())),
                Cell::Bool(a.muted),
                Cell::text(a.text.clone()),
                Cell::text(a.delivery_summary()),
            ],
        })
        .collect();
    Table {
        kind: name,
        names,
        rows,
    }
}

fn stats_table(summaries: &[PairSummary]) -> Table {
    Table {
        kind: "arbitrage_stats",
        names: vec![
            "instrument",
            "buy_venue",
            "sell_venue",
            "opportunities",
            "median_lifetime",
            "p90_lifetime",
            "longest",
            "best_net_bps",
            "theoretical_profit",
        ],
        rows: summaries
            .iter()
            .map(|s| {
                vec![
                    Cell::text(s.instrument.to_string()),
                    Cell::text(s.buy_venue.as_str()),
                    Cell::text(s.sell_venue.as_str()),
                    Cell::Int(s.opportunities),
                    Cell::Dur(s.median_lifetime),
                    Cell::Dur(s.p90_lifetime),
                    Cell::Dur(s.longest),
                    Cell::Dec(Some(s.best_net_bps)),
                    Cell::Dec(s.theoretical_profit),
                ]
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: Micros = 1_764_700_000_000_000;

    #[test]
    fn times_from_durations_dates_and_rfc3339() {
        assert_eq!(parse_when("1h", NOW).unwrap(), NOW - 3_600_000_000);
        assert_eq!(parse_when("1h30m", NOW).unwrap(), NOW - 5_400_000_000);
        assert_eq!(parse_when("90s", NOW).unwrap(), NOW - 90_000_000);
        assert_eq!(parse_when("2d", NOW).unwrap(), NOW - 2 * 86_400_000_000);
        assert_eq!(parse_when("1w", NOW).unwrap(), NOW - 7 * 86_400_000_000);
        assert_eq!(
            parse_when("2025-12-02T08:00:00Z", NOW).unwrap(),
            1_764_662_400_000_000
        );
        assert_eq!(
            parse_when("2025-12-02T10:00:00.5+02:00", NOW).unwrap(),
            1_764_662_400_500_000
        );
        assert_eq!(
            parse_when("2025-12-02", NOW).unwrap(),
            1_764_633_600_000_000
        );
        for bad in [
            "",
            "h",
            "1x",
            "1h30",
            "yesterday",
            "-1h",
            "99999999999999999999d",
        ] {
            assert!(parse_when(bad, NOW).is_err(), "{bad:?}");
        }
    }

    fn sample_table() -> Table {
        Table {
            kind: "arbitrage",
            names: vec!["opened", "lifetime", "reason", "profit", "polled"],
            rows: vec![
                vec![
                    Cell::Time(Some(1_764_662_400_123_456)),
                    Cell::Dur(Some(7_600_000)),
                    Cell::text("bybit out of sync: \"gap\", resync"),
                    Cell::Dec(Some(Decimal::new(52_000_001, 6))),
                    Cell::Bool(true),
                ],
                vec![
                    Cell::Time(Some(1_764_662_460_000_000)),
                    Cell::Dur(None),
                    Cell::Text(None),
                    Cell::Dec(Some(Decimal::new(5, 1))),
                    Cell::Bool(false),
                ],
            ],
        }
    }

    fn render(t: &Table, f: Format) -> String {
        let mut out = Vec::new();
        t.write(&mut out, f).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn csv_quotes_and_gives_exact_times_and_seconds() {
        let csv = render(&sample_table(), Format::Csv);
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines[0], "opened,lifetime_s,reason,profit,polled");
        assert_eq!(
            lines[1],
            "2025-12-02T08:00:00.123456Z,7.600000,\"bybit out of sync: \"\"gap\"\", resync\",52.000001,true"
        );
        assert_eq!(lines[2], "2025-12-02T08:01:00.000000Z,,,0.5,false");
    }

    #[test]
    fn json_lines_use_microseconds_and_decimal_strings() {
        let json = render(&sample_table(), Format::Json);
        let first: Value = serde_json::from_str(json.lines().next().unwrap()).unwrap();
        assert_eq!(first["type"], "arbitrage");
        assert_eq!(first["opened_us"], 1_764_662_400_123_456i64);
        assert_eq!(first["lifetime_us"], 7_600_000);
        assert_eq!(first["profit"], "52.000001");
        assert_eq!(first["polled"], true);
        let second: Value = serde_json::from_str(json.lines().nth(1).unwrap()).unwrap();
        assert!(second["lifetime_us"].is_null() && second["reason"].is_null());
    }

    #[test]
    fn the_table_aligns_columns() {
        let table = render(&sample_table(), Format::Table);
        let lines: Vec<&str> = table.lines().collect();
        assert!(lines[0].starts_with("opened (UTC)"), "{table}");
        assert!(
            lines[1].starts_with("2025-12-02 08:00:00.123      7.6s"),
            "{table}"
        );
        assert_eq!(lines[1].find("52.000001"), lines[2].find("      0.5"));
    }

    #[test]
    fn candles_list_with_exact_figures_and_unknowns_empty() {
        use crate::engine::candles::{Candle, MinuteCandle};
        let mut c = Candle::flat(1_764_662_400_000_000, Decimal::new(650_005, 1));
        c.add(
            Decimal::new(650_1025, 2),
            Decimal::new(25, 2),
            crate::model::TakerSide::Buy,
        );
        let mut from_klines = c.clone();
        from_klines.buy_volume = None;
        from_klines.sell_volume = None;
        from_klines.trades = None;
        from_klines.partial = true;
        let rows: Vec<Record> = [c, from_klines]
            .into_iter()
            .map(|candle| {
                Record::Candle(MinuteCandle {
                    venue: crate::venue!("okx"),
                    instrument: "BTC-USDT".parse().unwrap(),
                    candle,
                })
            })
            .collect();
        let table = records_table(Kind::Candles, &rows);
        let csv = render(&table, Format::Csv);
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(
            lines[0],
            "minute,venue,instrument,open,high,low,close,volume,buy_volume,sell_volume,turnover,vwap,trades,partial"
        );
        assert_eq!(
            lines[1],
            "2025-12-02T08:00:00.000000Z,okx,BTC-USDT,65000.5,65010.25,65000.5,65010.25,0.25,0.25,0,16252.5625,65010.25,1,false"
        );
        assert_eq!(
            lines[2],
            "2025-12-02T08:00:00.000000Z,okx,BTC-USDT,65000.5,65010.25,65000.5,65010.25,0.25,,,16252.5625,65010.25,,true"
        );
        let json = render(&table, Format::Json);
        let second: Value = serde_json::from_str(json.lines().nth(1).unwrap()).unwrap();
        assert_eq!(second["type"], "candle");
        assert_eq!(second["minute_us"], 1_764_662_400_000_000i64);
        assert_eq!(second["close"], "65010.25");
        assert!(second["trades"].is_null() && second["buy_volume"].is_null());
        assert_eq!(second["partial"], true);
        // A venue's fixed scale (Binance's eight places) loses its zeros.
        let binance = Cell::Dec(Some(Decimal::new(6_498_864_000_000, 8)));
        assert_eq!(
            (binance.table(), binance.json()),
            ("64988.64".into(), json!("64988.64"))
        );
    }

    #[test]
    fn human_durations() {
        assert_eq!(human_duration(704_000), "704ms");
        assert_eq!(human_duration(7_600_000), "7.6s");
        assert_eq!(human_duration(725_000_000), "12m05s");
        assert_eq!(human_duration(11_520_000_000), "3h12m");
    }
}
