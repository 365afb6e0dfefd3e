//! Network failures in plain words, for the health pane.

use std::time::Duration;

/// Why a connection or request failed, classified for users.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NetError {
    Dns(String),
    Refused,
    Timeout,
    Tls(String),
    /// HTTP status during a WebSocket upgrade or REST call.
    Http {
        status: u16,
        retry_after: Option<Duration>,
    },
    Closed(String),
    Other(String),
}

impl NetError {
    /// Minimum wait before retrying, when the server said so.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            NetError::Http { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// Classify from an error chain's text (hyper, rustls and tungstenite
    /// errors are nested; their messages are stable enough for this).
    pub fn classify(text: &str) -> NetError {
        let lower = text.to_ascii_lowercase();
        if lower.contains("dns")
            || lower.contains("failed to lookup address")
            || lower.contains("name or service not known")
            || lower.contains("no such host")
            || lower.contains("temporary failure in name resolution")
        {
            NetError::Dns(text.to_string())
        } else if lower.contains("connection refused") {
            NetError::Refused
        } else if lower.contains("timed out") || lower.contains("timeout") {
            NetError::Timeout
        } else if lower.contains("handshake not finished") {
            // tungstenite: the server hung up before answering the upgrade
            // (plain ws:// too), which is not a TLS problem.
            NetError::Other("closed during the WebSocket handshake".to_string())
        } else if lower.contains("certificate")
            || lower.contains("tls")
            || lower.contains("handshake")
            || lower.contains("invalid peer")
        {
            NetError::Tls(text.to_string())
        } else {
            NetError::Other(text.to_string())
        }
    }
}

impl std::fmt::Display for NetError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NetError::Dns(_) => f.write_str("DNS lookup failed"),
            NetError::Refused => f.write_str("connection refused"),
            NetError::Timeout => f.write_str("connection timed out"),
            NetError::Tls(detail) => write!(f, "TLS handshake failed ({detail})"),
            NetError::Http { status: 451, .. } => f.write_str(
                "HTTP 451: blocked in your region — set another endpoint under [endpoints] in the config",
            ),
            NetError::Http { status: 403, .. } => {
                f.write_str("HTTP 403: forbidden (region block or rate limit)")
            }
            NetError::Http {
                status: 429 | 418,
                retry_after,
            } => match retry_after {
                Some(d) => write!(f, "HTTP 429: rate limited, retrying in {} s", d.as_secs()),
                None => f.write_str("HTTP 429: rate limited"),
            },
            NetError::Http { status, .. } => write!(f, "HTTP {status}"),
            NetError::Closed(why) => write!(f, "connection closed: {why}"),
            NetError::Other(detail) => f.write_str(detail),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn websocket_handshake_hang_up_is_not_tls() {
        let e = NetError::classify(
            "WebSocket protocol error: Handshake not finished: Handshake not finished",
        );
        assert_eq!(e.to_string(), "closed during the WebSocket handshake");
    }

    #[test]
    fn plain_words() {
        assert_eq!(
            NetError::classify(
                "error trying to connect: dns error: failed to lookup address information"
            )
            .to_string(),
            "DNS lookup failed"
        );
        assert!(
            NetError::Http {
                status: 451,
                retry_after: None
            }
            .to_string()
            .starts_with("HTTP 451: blocked in your region")
        );
        assert_eq!(
            NetError::Http {
                status: 429,
                retry_after: Some(Duration::from_secs(30))
            }
            .to_string(),
            "HTTP 429: rate limited, retrying in 30 s"
        );
        assert!(
            NetError::classify("invalid peer certificate: UnknownIssuer")
                .to_string()
                .starts_with("TLS handshake failed")
        );
    }
}
