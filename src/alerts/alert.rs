//! One alert as evaluation produced it, and its `alert` headless line.

use rust_decimal::Decimal;
use serde_json::{Value, json};

use super::rule::Severity;
use crate::model::{Instrument, Micros, Venue};

#[derive(Clone, Debug, PartialEq)]
pub struct Alert {
    /// Increasing within one run.
    pub id: u64,
    /// Engine time it fired at (receive-time based).
    pub at: Micros,
    pub rule: String,
    /// The rule's kind (`arbitrage`, `price`, …), or `test`.
    pub kind: &'static str,
    pub severity: Severity,
    /// What it is about: an instrument, a venue pair, a connection.
    pub subject: String,
    pub instrument: Option<Instrument>,
    pub venue: Option<Venue>,
    /// One line for people: what happened, with the figures.
    pub text: String,
    pub dedup_key: String,
    /// The rule is muted: kept in the history, not delivered.
    pub muted: bool,
}

impl Alert {
    /// The short title deliveries lead with: `[WARNING] rule: subject`.
    pub fn title(&self) -> String {
        format!(
            "[{}] {}: {}",
            self.severity.as_str().to_ascii_uppercase(),
            self.rule,
            self.subject
        )
    }

    /// One line for a narrow place (the status-line toast): the title and
    /// the text, without saying the subject twice when the text already
    /// starts with it (arbitrage texts lead with the pair and route).
    pub fn one_line(&self) -> String {
        match self.text.strip_prefix(self.subject.as_str()) {
            Some(rest) if !self.subject.is_empty() => format!(
                "[{}] {}: {}{}",
                self.severity.as_str().to_ascii_uppercase(),
                self.rule,
                self.subject,
                rest
            ),
            _ => format!("{} — {}", self.title(), self.text),
        }
    }

    /// A test alert for `depthwatch alerts test`.
    pub fn test(at: Micros) -> Alert {
        Alert {
            id: 0,
            at,
            rule: "test".to_string(),
            kind: "test",
            severity: Severity::Info,
            subject: "depthwatch".to_string(),
            instrument: None,
            venue: None,
            text: "test alert from depthwatch alerts test: this destination works".to_string(),
            dedup_key: "test".to_string(),
            muted: false,
        }
    }

    /// The fields every JSON rendering shares (the webhook body, the
    /// headless line).
    pub fn fields(&self) -> serde_json::Map<String, Value> {
        let mut m = serde_json::Map::new();
        m.insert("id".into(), json!(self.id));
        m.insert("time_us".into(), json!(self.at));
        m.insert("rule".into(), json!(self.rule));
        m.insert("kind".into(), json!(self.kind));
        m.insert("severity".into(), json!(self.severity.as_str()));
        m.insert("subject".into(), json!(self.subject));
        m.insert("instrument".into(), json!(self.instrument));
        m.insert("venue".into(), json!(self.venue));
        m.insert("text".into(), json!(self.text));
        m.insert("dedup_key".into(), json!(self.dedup_key));
        m
    }
}

/// `{"type":"alert",…}` for headless output: the alert, whether it was
/// muted, and what each destination did with it so far.
pub fn headless_line(a: &Alert, deliveries: &[(String, String)]) -> Value {
    let mut m = serde_json::Map::new();
    m.insert("type".into(), json!("alert"));
    m.extend(a.fields());
    m.insert("muted".into(), json!(a.muted));
    let d: serde_json::Map<String, Value> = deliveries
        .iter()
        .map(|(k, v)| (k.clone(), json!(v)))
        .collect();
    m.insert("deliveries".into(), Value::Object(d));
    Value::Object(m)
}

/// Base sizes in alert texts: at most eight places (a satoshi), so a size
/// converted from inverse contracts (`0.6928226447392553646756740234`)
/// reads `0.69282264` (the stored liquidation or trade keeps it exact).
pub fn size(d: Decimal) -> String {
    crate::headless::dec(
        d.round_dp_with_strategy(8, rust_decimal::RoundingStrategy::MidpointAwayFromZero),
    )
}

/// USD amounts in alert texts: `$1,234,567`.
pub fn usd(x: f64) -> String {
    if !x.is_finite() {
        return "$?".to_string();
    }
    let n = x.round().abs() as u64;
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    format!("{}${out}", if x < 0.0 { "-" } else { "" })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usd_groups_thousands() {
        assert_eq!(usd(1_234_567.4), "$1,234,567");
        assert_eq!(usd(999.0), "$999");
        assert_eq!(usd(-1000.0), "-$1,000");
        assert_eq!(usd(f64::NAN), "$?");
    }

    #[test]
    fn sizes_read_to_eight_places_at_most() {
        let inverse: Decimal = "0.6928226447392553646756740234".parse().unwrap();
        assert_eq!(size(inverse), "0.69282264");
        assert_eq!(size("2.50000000".parse().unwrap()), "2.5");
        assert_eq!(size("0.000000005".parse().unwrap()), "0.00000001");
    }

    #[test]
    fn headless_line_names_its_fields() {
        let a = Alert::test(5);
        let v = headless_line(&a, &[("app".into(), "sent".into())]);
        assert_eq!(v["type"], "alert");
        assert_eq!(v["rule"], "test");
        assert_eq!(v["severity"], "info");
        assert_eq!(v["deliveries"]["app"], "sent");
        assert_eq!(a.title(), "[INFO] test: depthwatch");
    }

    #[test]
    fn one_line_says_the_subject_once() {
        let mut a = Alert::test(5);
        a.rule = "arb".into();
        a.subject = "BTC-USD coinbase→gemini".into();
        a.text = "BTC-USD coinbase→gemini 6.03 bps net, 812 USD".into();
        assert_eq!(
            a.one_line(),
            "[INFO] arb: BTC-USD coinbase→gemini 6.03 bps net, 812 USD"
        );
        a.text = "book out of sync for 30 s".into();
        assert_eq!(
            a.one_line(),
            "[INFO] arb: BTC-USD coinbase→gemini — book out of sync for 30 s"
        );
    }
}
