//! What each HTTP destination is sent: pure functions from an alert to a
//! request (URL, JSON body, headers), tested for their shapes.
//!
//! - webhook: the alert as JSON (schema in the README, "Alerts"), with
//!   `X-Depthwatch-Signature: sha256=<hex HMAC-SHA256 of the body>` when a
//!   signing key is set;
//! - Telegram Bot API: `POST {api}/bot<token>/sendMessage` with `chat_id`
//!   and `text`;
//! - Discord webhook: `{"content": …, "username": "depthwatch"}`, content at
//!   most 2,000 characters;
//! - Slack incoming webhook: `{"text": …}`.

use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use super::super::alert::Alert;
use super::super::secrets::Secret;

/// The webhook body's schema version (the `version` field).
pub const WEBHOOK_SCHEMA_VERSION: u32 = 1;
pub const SIGNATURE_HEADER: &str = "X-Depthwatch-Signature";

/// One HTTP request to make. `url` may hold a secret (a token in the path, a
/// webhook URL), so it is a [`Secret`] and never shown.
#[derive(Clone, Debug)]
pub struct Request {
    pub url: Secret,
    pub body: String,
    pub headers: Vec<(&'static str, String)>,
}

/// Text for chat destinations: the title, then the text.
pub fn message(a: &Alert) -> String {
    format!("{}\n{}", a.title(), a.text)
}

pub fn webhook(a: &Alert, url: &Secret, key: Option<&Secret>) -> Request {
    let mut m = serde_json::Map::new();
    m.insert("version".into(), json!(WEBHOOK_SCHEMA_VERSION));
    m.insert("type".into(), json!("alert"));
    m.extend(a.fields());
    m.insert("title".into(), json!(a.title()));
    let body = Value::Object(m).to_string();
    let mut headers = Vec::new();
    if let Some(key) = key {
        headers.push((SIGNATURE_HEADER, format!("sha256={}", sign(key, &body))));
    }
    Request {
        url: url.clone(),
        body,
        headers,
    }
}

/// Hex HMAC-SHA256 of `body` under `key`.
pub fn sign(key: &Secret, body: &str) -> String {
    // HMAC takes keys of any length; `new_from_slice` cannot fail for it.
    match Hmac::<Sha256>::new_from_slice(key.expose().as_bytes()) {
        Ok(mut mac) => {
            mac.update(body.as_bytes());
            hex::encode(mac.finalize().into_bytes())
        }
        Err(_) => String::new(),
    }
}

pub fn telegram(a: &Alert, api: &str, token: &Secret, chat_id: &str) -> Request {
    let body = json!({
        "chat_id": chat_id,
        "text": truncate(&message(a), 4096),
        "disable_web_page_preview": true,
    });
    Request {
        url: Secret::new(format!(
            "{}/bot{}/sendMessage",
            api.trim_end_matches('/'),
            token.expose()
        )),
        body: body.to_string(),
        headers: Vec::new(),
    }
}

pub fn discord(a: &Alert, url: &Secret) -> Request {
    let body = json!({
        "content": truncate(&message(a), 2000),
        "username": "depthwatch",
        "allowed_mentions": {"parse": []},
    });
    Request {
        url: url.clone(),
        body: body.to_string(),
        headers: Vec::new(),
    }
}

pub fn slack(a: &Alert, url: &Secret) -> Request {
    let body = json!({ "text": message(a) });
    Request {
        url: url.clone(),
        body: body.to_string(),
        headers: Vec::new(),
    }
}

/// At most `max` characters, cut with an ellipsis.
fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webhook_signature_is_hmac_sha256_of_the_body() {
        // RFC 4231 test case 2.
        let key = Secret::new("Jefe");
        assert_eq!(
            sign(&key, "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        let r = webhook(&Alert::test(1), &Secret::new("http://h/x"), Some(&key));
        assert_eq!(r.headers[0].0, SIGNATURE_HEADER);
        assert_eq!(r.headers[0].1, format!("sha256={}", sign(&key, &r.body)));
        let v: Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(v["version"], 1);
        assert_eq!(v["type"], "alert");
        assert_eq!(v["title"], "[INFO] test: depthwatch");
        assert!(
            webhook(&Alert::test(1), &Secret::new("u"), None)
                .headers
                .is_empty()
        );
    }

    #[test]
    fn chat_payloads() {
        let a = Alert::test(1);
        let t = telegram(&a, "http://127.0.0.1:1/", &Secret::new("123:abc"), "-100");
        assert_eq!(t.url.expose(), "http://127.0.0.1:1/bot123:abc/sendMessage");
        assert!(
            !format!("{t:?}").contains("123:abc"),
            "the URL holds the token"
        );
        let v: Value = serde_json::from_str(&t.body).unwrap();
        assert_eq!(v["chat_id"], "-100");
        assert!(v["text"].as_str().unwrap().starts_with("[INFO] test"));
        let mut long = a.clone();
        long.text = "x".repeat(5000);
        let d: Value = serde_json::from_str(&discord(&long, &Secret::new("u")).body).unwrap();
        assert_eq!(d["content"].as_str().unwrap().chars().count(), 2000);
        let s: Value = serde_json::from_str(&slack(&a, &Secret::new("u")).body).unwrap();
        assert!(
            s["text"]
                .as_str()
                .unwrap()
                .contains("this destination works")
        );
    }
}
