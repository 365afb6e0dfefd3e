//! Number and time formatting for aligned, readable columns.

use rust_decimal::Decimal;

use super::app::TimeZone;
use crate::model::Micros;

/// Inserts thousands separators into the integer part of a plain number.
pub fn thousands(number: &str) -> String {
    let (sign, rest) = match number.strip_prefix('-') {
        Some(r) => ("-", r),
        None => ("", number),
    };
    let (int, frac) = match rest.find('.') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    let mut out = String::with_capacity(number.len() + int.len() / 3);
    out.push_str(sign);
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out.push_str(frac);
    out
}

/// A decimal with exactly `dp` decimals and thousands separators.
pub fn dec(d: Decimal, dp: u32) -> String {
    thousands(&format!("{:.*}", dp as usize, d.round_dp(dp)))
}

/// Decimals needed to show every value exactly, capped at `max`.
pub fn dp_for(values: impl IntoIterator<Item = Decimal>, max: u32) -> u32 {
    values
        .into_iter()
        .map(|v| v.normalize().scale())
        .max()
        .unwrap_or(0)
        .min(max)
}

/// Decimals per key (e.g. per instrument) so a column of mixed
/// instruments still lines up within each instrument.
#[derive(Clone, Debug, Default)]
pub struct DpTable<K>(Vec<(K, u32)>);

impl<K: PartialEq + Copy> DpTable<K> {
    pub fn new(items: impl IntoIterator<Item = (K, Decimal)>, max: u32) -> Self {
        let mut table: Vec<(K, u32)> = Vec::new();
        for (key, value) in items {
            let scale = value.normalize().scale().min(max);
            match table.iter_mut().find(|(k, _)| *k == key) {
                Some((_, dp)) => *dp = (*dp).max(scale),
                None => table.push((key, scale)),
            }
        }
        DpTable(table)
    }

    pub fn get(&self, key: K) -> u32 {
        self.0
            .iter()
            .find(|(k, _)| *k == key)
            .map_or(0, |(_, dp)| *dp)
    }
}

/// Compact USD: `$950`, `$12.3k`, `$1.25M`, `$3.1B`.
pub fn usd(x: f64) -> String {
    let a = x.abs();
    let sign = if x < 0.0 { "-" } else { "" };
    if !a.is_finite() {
        return "—".to_string();
    }
    if a >= 1e9 {
        format!("{sign}${:.2}B", a / 1e9)
    } else if a >= 1e6 {
        format!("{sign}${:.2}M", a / 1e6)
    } else if a >= 1e4 {
        format!("{sign}${:.1}k", a / 1e3)
    } else {
        format!("{sign}${}", thousands(&format!("{a:.0}")))
    }
}

/// Signed basis points with one decimal: `+12.4`, `-3.0`.
pub fn bps(d: Decimal) -> String {
    let r = d.round_dp(1);
    if r.is_sign_negative() && !r.is_zero() {
        format!("{r:.1}")
    } else {
        format!("+{:.1}", r.abs())
    }
}

/// A duration in microseconds, compact: `850ms`, `12.3s`, `3m05s`, `2h03m`.
pub fn age(us: Micros) -> String {
    if us < 0 {
        return "future".to_string();
    }
    let ms = us / 1_000;
    if ms < 1_000 {
        format!("{ms}ms")
    } else if ms < 60_000 {
        format!("{:.1}s", ms as f64 / 1_000.0)
    } else if ms < 3_600_000 {
        format!("{}m{:02}s", ms / 60_000, (ms / 1_000) % 60)
    } else {
        format!("{}h{:02}m", ms / 3_600_000, (ms / 60_000) % 60)
    }
}

/// Wall-clock time of day, `HH:MM:SS`.
pub fn clock(us: Micros, tz: TimeZone) -> String {
    use chrono::{DateTime, Local, Utc};
    let Some(t) = DateTime::<Utc>::from_timestamp_micros(us) else {
        return "--:--:--".to_string();
    };
    match tz {
        TimeZone::Utc => t.format("%H:%M:%S").to_string(),
        TimeZone::Local => t.with_timezone(&Local).format("%H:%M:%S").to_string(),
    }
}

/// Wall-clock time in a `chrono` pattern (`%H:%M`, `%m-%d`).
pub fn time_as(us: Micros, tz: TimeZone, pattern: &str) -> String {
    use chrono::{DateTime, Local, Utc};
    let Some(t) = DateTime::<Utc>::from_timestamp_micros(us) else {
        return "--".to_string();
    };
    match tz {
        TimeZone::Utc => t.format(pattern).to_string(),
        TimeZone::Local => t.with_timezone(&Local).format(pattern).to_string(),
    }
}

/// A rate, `1,234/s` or `0.5/s`.
pub fn rate(per_s: f64) -> String {
    if per_s >= 10.0 {
        format!("{}/s", thousands(&format!("{per_s:.0}")))
    } else {
        format!("{per_s:.1}/s")
    }
}

/// Milliseconds with sensible precision.
pub fn ms(x: f64) -> String {
    if x >= 100.0 {
        format!("{x:.0}ms")
    } else {
        format!("{x:.1}ms")
    }
}

/// A text sparkline of the last `width` values, scaled to their own range.
pub fn sparkline(values: &[f64], width: usize) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let tail = &values[values.len().saturating_sub(width)..];
    let (lo, hi) = tail
        .iter()
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(*v), hi.max(*v))
        });
    tail.iter()
        .map(|v| {
            if !v.is_finite() || hi <= lo {
                BARS[3]
            } else {
                let i = ((v - lo) / (hi - lo) * 7.0).round() as usize;
                BARS[i.min(7)]
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec as d;

    #[test]
    fn formats_numbers() {
        assert_eq!(thousands("1234567.891"), "1,234,567.891");
        assert_eq!(thousands("-999"), "-999");
        assert_eq!(thousands("-1000"), "-1,000");
        assert_eq!(dec(d!(65140.4), 2), "65,140.40");
        assert_eq!(dec(d!(0.35216), 4), "0.3522");
        assert_eq!(dp_for([d!(1.50), d!(2.125)], 8), 3);
        assert_eq!(usd(950.0), "$950");
        assert_eq!(usd(1_234.0), "$1,234");
        assert_eq!(usd(12_345.0), "$12.3k");
        assert_eq!(usd(1_250_000.0), "$1.25M");
        assert_eq!(bps(d!(12.44)), "+12.4");
        assert_eq!(bps(d!(-3)), "-3.0");
        assert_eq!(bps(d!(-0.01)), "+0.0");
        assert_eq!(age(850_000), "850ms");
        assert_eq!(age(185_000_000), "3m05s");
        assert_eq!(sparkline(&[1.0, 2.0, 3.0], 2), "▁█");
        assert_eq!(sparkline(&[], 5), "");
        assert_eq!(clock(0, TimeZone::Utc), "00:00:00");
    }
}
