//! Retrying a failed delivery: which failures are worth another attempt,
//! and how long to wait — the server's `Retry-After` (the HTTP header, or
//! Telegram's `parameters.retry_after`, or Discord's `retry_after` in the
//! body) when it gave one, else exponential backoff.

use std::time::Duration;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts after the first.
    pub max_retries: u32,
    pub base: Duration,
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 3,
            base: Duration::from_secs(1),
            max_delay: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// The wait before retry number `n` (1-based): `base × 2^(n−1)`, capped;
    /// a server's `Retry-After` wins (capped at ten times the cap: a server
    /// asking for an hour gets a failure instead).
    pub fn delay(&self, n: u32, retry_after: Option<Duration>) -> Option<Duration> {
        if let Some(d) = retry_after {
            return (d <= self.max_delay * 10).then_some(d);
        }
        let factor = 2u32.saturating_pow(n.saturating_sub(1));
        Some(self.base.saturating_mul(factor).min(self.max_delay))
    }
}

/// What one attempt came to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Attempt {
    Ok,
    /// Worth trying again (network error, 5xx, 429, 408).
    Retryable {
        reason: String,
        retry_after: Option<Duration>,
    },
    /// Not (400, 401, 403, 404, …): the request itself is wrong.
    Fatal(String),
}

/// Classifies an HTTP response.
pub fn classify(status: u16, retry_after_header: Option<&str>, body: &str) -> Attempt {
    if (200..300).contains(&status) {
        return Attempt::Ok;
    }
    let retry_after = retry_after_header
        .and_then(parse_retry_after)
        .or_else(|| body_retry_after(body));
    let what = describe(status, body);
    if status == 429 || status == 408 || status >= 500 {
        Attempt::Retryable {
            reason: what,
            retry_after,
        }
    } else {
        Attempt::Fatal(what)
    }
}

/// `Retry-After` as delay-seconds (fractions allowed). The HTTP-date form is
/// not used by the services we talk to; it falls back to backoff.
pub fn parse_retry_after(v: &str) -> Option<Duration> {
    let secs: f64 = v.trim().parse().ok()?;
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs.min(86_400.0)))
}

/// Telegram: `{"ok":false,"error_code":429,"parameters":{"retry_after":5}}`;
/// Discord: `{"retry_after": 1.5, …}` (seconds).
fn body_retry_after(body: &str) -> Option<Duration> {
    let v: serde_json::Value = serde_json::from_str(body).ok()?;
    let secs = v
        .pointer("/parameters/retry_after")
        .or_else(|| v.get("retry_after"))?
        .as_f64()?;
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs.min(86_400.0)))
}

/// `HTTP 429: Too Many Requests: retry after 5`, with the service's own
/// description when it gave one (Telegram's `description`, Discord's and
/// Slack's `message`/plain text), cut short.
fn describe(status: u16, body: &str) -> String {
    let from_json = serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| {
            v.get("description")
                .or_else(|| v.get("message"))
                .and_then(|d| d.as_str())
                .map(str::to_string)
        });
    let text = from_json.unwrap_or_else(|| body.trim().to_string());
    let text: String = text.chars().filter(|c| !c.is_control()).take(120).collect();
    if text.is_empty() {
        format!("HTTP {status}")
    } else {
        format!("HTTP {status}: {text}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap_and_retry_after_wins() {
        let p = RetryPolicy {
            max_retries: 5,
            base: Duration::from_secs(1),
            max_delay: Duration::from_secs(5),
        };
        let d: Vec<u64> = (1..=5)
            .map(|n| p.delay(n, None).unwrap().as_secs())
            .collect();
        assert_eq!(d, [1, 2, 4, 5, 5]);
        assert_eq!(
            p.delay(1, Some(Duration::from_secs(7))),
            Some(Duration::from_secs(7))
        );
        assert_eq!(p.delay(1, Some(Duration::from_secs(3600))), None);
    }

    #[test]
    fn classifies_statuses_and_finds_retry_after() {
        assert_eq!(classify(200, None, ""), Attempt::Ok);
        assert_eq!(classify(204, None, ""), Attempt::Ok);
        assert_eq!(
            classify(429, Some("7"), ""),
            Attempt::Retryable {
                reason: "HTTP 429".into(),
                retry_after: Some(Duration::from_secs(7))
            }
        );
        let telegram = r#"{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 5","parameters":{"retry_after":5}}"#;
        assert_eq!(
            classify(429, None, telegram),
            Attempt::Retryable {
                reason: "HTTP 429: Too Many Requests: retry after 5".into(),
                retry_after: Some(Duration::from_secs(5))
            }
        );
        let discord =
            r#"{"message":"You are being rate limited.","retry_after":0.5,"global":false}"#;
        assert!(matches!(
            classify(429, None, discord),
            Attempt::Retryable { retry_after: Some(d), .. } if d == Duration::from_millis(500)
        ));
        assert!(matches!(
            classify(503, None, "busy"),
            Attempt::Retryable {
                retry_after: None,
                ..
            }
        ));
        assert_eq!(
            classify(404, None, "no_service"),
            Attempt::Fatal("HTTP 404: no_service".into())
        );
        assert_eq!(parse_retry_after("-1"), None);
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
    }
}
