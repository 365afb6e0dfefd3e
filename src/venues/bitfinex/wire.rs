//! Bitfinex WebSocket v2 and REST shapes.
//!
//! Data frames are JSON arrays routed by their first element, the channel
//! id: `[CHAN_ID, PAYLOAD]`, `[CHAN_ID, "hb"]`, `[CHAN_ID, "te", TRADE]`,
//! `[CHAN_ID, "cs", CHECKSUM]`; with the `SEQ_ALL` flag (65536) each carries
//! the connection's sequence number after its payload ("ws-general",
//! "Configuration"). Numbers are JSON numbers; they stay raw here, because
//! the book checksum is computed over their text as sent. Events are JSON
//! objects with an `event` field.

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::venues::checksum::raw_text;

/// One data frame.
#[derive(Debug)]
pub struct Frame<'a> {
    pub chan: u64,
    pub body: Body<'a>,
    /// The connection-wide sequence number (`SEQ_ALL`), when present.
    pub seq: Option<u64>,
}

#[derive(Debug)]
pub enum Body<'a> {
    /// `[CHAN_ID, "hb"]`: the channel is quiet (sent after 15 s idle).
    Heartbeat,
    /// `[CHAN_ID, [...]]`: a snapshot, an update, a status row.
    Data(&'a RawValue),
    /// `[CHAN_ID, "te", [...]]` and the other tagged messages.
    Tagged { tag: &'a str, data: &'a RawValue },
    /// `[CHAN_ID, "cs", CHECKSUM]` (`OB_CHECKSUM`, 131072).
    Checksum(i64),
}

impl Body<'_> {
    pub fn kind(&self) -> String {
        match self {
            Body::Heartbeat => "hb".to_string(),
            Body::Data(_) => "data".to_string(),
            Body::Tagged { tag, .. } => format!("{tag} message"),
            Body::Checksum(_) => "checksum".to_string(),
        }
    }
}

fn is_string(raw: &RawValue) -> bool {
    raw.get().trim_start().starts_with('"')
}

fn is_array(raw: &RawValue) -> bool {
    raw.get().trim_start().starts_with('[')
}

/// A JSON integer (`12`, not `12.5` or `"12"`).
pub fn integer(raw: &RawValue) -> Option<i64> {
    raw.get().trim().parse().ok()
}

/// Parse a data frame.
pub fn frame(text: &str) -> Result<Frame<'_>, String> {
    let elems: Vec<&RawValue> = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let chan = elems
        .first()
        .and_then(|c| integer(c))
        .and_then(|c| u64::try_from(c).ok())
        .ok_or("no channel id")?;
    let second = elems.get(1).ok_or("no payload")?;
    let (body, seq_at) = if is_string(second) {
        match raw_text(second) {
            "hb" => (Body::Heartbeat, 2),
            "cs" => {
                let cs = elems
                    .get(2)
                    .and_then(|c| integer(c))
                    .ok_or("checksum is not an integer")?;
                (Body::Checksum(cs), 3)
            }
            tag => {
                let data = elems.get(2).ok_or_else(|| format!("{tag} without data"))?;
                (Body::Tagged { tag, data }, 3)
            }
        }
    } else if is_array(second) {
        (Body::Data(second), 2)
    } else {
        return Err(format!("payload {}", second.get()));
    };
    let seq = elems
        .get(seq_at)
        .and_then(|s| integer(s))
        .and_then(|s| u64::try_from(s).ok());
    Ok(Frame { chan, body, seq })
}

/// An event object.
#[derive(Deserialize, Debug)]
pub struct Event<'a> {
    #[serde(borrow)]
    pub event: Cow<'a, str>,
    #[serde(default)]
    pub channel: Option<String>,
    /// A number in v2 (a string in the v1 docs): read leniently.
    #[serde(rename = "chanId", default)]
    pub chan_id: Option<serde_json::Value>,
    #[serde(default)]
    pub symbol: Option<String>,
    #[serde(default)]
    pub key: Option<String>,
    #[serde(default)]
    pub prec: Option<String>,
    #[serde(default)]
    pub code: Option<i64>,
    #[serde(default)]
    pub msg: Option<String>,
    #[serde(default)]
    pub flags: Option<u64>,
    #[serde(default)]
    pub status: Option<serde_json::Value>,
    #[serde(default)]
    pub platform: Option<Platform>,
}

impl Event<'_> {
    pub fn chan_id(&self) -> Option<u64> {
        match self.chan_id.as_ref()? {
            serde_json::Value::Number(n) => n.as_u64(),
            serde_json::Value::String(s) => s.parse().ok(),
            _ => None,
        }
    }

    pub fn status_ok(&self) -> bool {
        self.status
            .as_ref()
            .and_then(|s| s.as_str())
            .is_none_or(|s| s == "OK")
    }
}

#[derive(Deserialize, Debug)]
pub struct Platform {
    #[serde(default)]
    pub status: Option<i64>,
}

/// A JSON array's elements, raw.
pub fn elements(raw: &RawValue) -> Result<Vec<&RawValue>, String> {
    serde_json::from_str(raw.get()).map_err(|e| e.to_string())
}

/// Element `i` as text, `None` when absent or `null`.
pub fn text_at<'a>(row: &[&'a RawValue], i: usize) -> Option<&'a str> {
    let raw = row.get(i)?;
    let t = raw_text(raw);
    (t != "null").then_some(t)
}

/// Element `i` as a decimal.
pub fn decimal_at(row: &[&RawValue], i: usize) -> Option<rust_decimal::Decimal> {
    text_at(row, i).and_then(crate::venues::parse::decimal)
}

/// Element `i` as an integer.
pub fn integer_at(row: &[&RawValue], i: usize) -> Option<i64> {
    row.get(i).and_then(|r| integer(r))
}

/// The pairs of a `/v2/conf/` body: `pub:list:pair:*` is
/// `[["BTCUSD","ETHUSD",…]]`, `pub:info:pair[:futures]` is
/// `[[["BTCUSD",[_,_,_,MIN_ORDER_SIZE,MAX_ORDER_SIZE,_,_,_,INITIAL_MARGIN,
/// MIN_MARGIN,…]],…]]` (only the names are used: order size limits are
/// not tick or lot sizes).
pub fn pair_list(body: &str) -> Result<Vec<String>, String> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Entry {
        Name(String),
        Info(String, serde::de::IgnoredAny),
    }
    let outer: Vec<Vec<Entry>> = serde_json::from_str(body).map_err(|e| e.to_string())?;
    let entries = outer.into_iter().next().unwrap_or_default();
    Ok(entries
        .into_iter()
        .map(|e| match e {
            Entry::Name(n) | Entry::Info(n, _) => n,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_with_and_without_sequence_numbers() {
        let f = frame(r#"[17082,[7254.7,3,3.3],41]"#).unwrap();
        assert_eq!((f.chan, f.seq), (17082, Some(41)));
        assert!(matches!(f.body, Body::Data(_)));
        let f = frame(r#"[17082,"hb"]"#).unwrap();
        assert!(matches!(f.body, Body::Heartbeat) && f.seq.is_none());
        let f = frame(r#"[17082,"hb",7]"#).unwrap();
        assert_eq!(f.seq, Some(7));
        let f = frame(r#"[17082,"cs",-1432405345,8]"#).unwrap();
        assert!(matches!(f.body, Body::Checksum(-1432405345)));
        assert_eq!(f.seq, Some(8));
        let f = frame(r#"[5,"te",[401597393,1574694475039,0.005,7244.9],9]"#).unwrap();
        assert!(matches!(f.body, Body::Tagged { tag: "te", .. }));
        assert_eq!(f.seq, Some(9));
        assert!(frame(r#"["x",[1]]"#).is_err());
        assert!(frame(r#"[1]"#).is_err());
        assert!(frame(r#"[1,"cs","abc"]"#).is_err());
        assert!(frame(r#"[1,{"a":1}]"#).is_err());
    }

    #[test]
    fn events_and_lists() {
        let e: Event = serde_json::from_str(
            r#"{"event":"subscribed","channel":"book","chanId":10092,"symbol":"tETHUSD","prec":"P0","freq":"F0","len":"25","pair":"ETHUSD"}"#,
        )
        .unwrap();
        assert_eq!(e.chan_id(), Some(10092));
        let e: Event = serde_json::from_str(r#"{"event":"conf","status":"FAILED"}"#).unwrap();
        assert!(!e.status_ok());
        assert_eq!(
            pair_list(r#"[["BTCUSD","AAVE:UST"]]"#).unwrap(),
            ["BTCUSD", "AAVE:UST"]
        );
        assert_eq!(
            pair_list(r#"[[["BTCUSD",[null,null,null,"0.00004","2000.0",null,null,null,0.2,0.1]],["ETHUSD",[null,null,null,"0.0008","5000.0"]]]]"#).unwrap(),
            ["BTCUSD", "ETHUSD"]
        );
        assert!(pair_list(r#"[[1,2]]"#).is_err());
        assert!(pair_list(r#"{"error":"x"}"#).is_err());
    }
}
