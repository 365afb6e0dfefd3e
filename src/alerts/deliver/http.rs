//! One HTTP attempt. Error texts never carry the URL (it may hold a token):
//! reqwest's errors are stripped of it before they are described.

use std::time::Duration;

use super::payload::Request;
use super::retry::{self, Attempt};

/// A response body is read up to this much (error descriptions only).
const MAX_BODY: usize = 16 * 1024;

pub async fn attempt(client: &reqwest::Client, req: &Request, timeout: Duration) -> Attempt {
    let mut rb = client
        .post(req.url.expose())
        .timeout(timeout)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(req.body.clone());
    for (k, v) in &req.headers {
        rb = rb.header(*k, v);
    }
    let resp = match rb.send().await {
        Ok(r) => r,
        Err(e) => {
            return Attempt::Retryable {
                reason: describe(e),
                retry_after: None,
            };
        }
    };
    let status = resp.status().as_u16();
    let retry_after = resp
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let body = match resp.bytes().await {
        Ok(b) => String::from_utf8_lossy(&b[..b.len().min(MAX_BODY)]).into_owned(),
        Err(_) => String::new(),
    };
    retry::classify(status, retry_after.as_deref(), &body)
}

fn describe(e: reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "connection failed"
    } else {
        "request failed"
    };
    let e = e.without_url();
    let mut detail = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        detail = s.to_string();
        source = s.source();
    }
    format!("{kind}: {detail}")
}
