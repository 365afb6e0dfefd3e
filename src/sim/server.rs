//! Loopback listeners: one TCP port per venue serving both its WebSocket
//! paths and a minimal HTTP/1.1 GET responder (Content-Length, Connection:
//! close). The request head is read here to route by path; for a WebSocket
//! upgrade it is replayed to tungstenite's handshake.

use std::io::Cursor;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

use crate::model::Venue;

use super::Shared;
use super::session::{self, Protocol};

const MAX_HEAD: usize = 16 * 1024;

/// A parsed request line and the headers we care about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub path: String,
    pub query: String,
    pub websocket: bool,
}

impl Request {
    /// A query parameter's value (no percent-decoding: venues' symbols are
    /// plain ASCII).
    pub fn param(&self, name: &str) -> Option<&str> {
        self.query
            .split('&')
            .filter_map(|kv| kv.split_once('='))
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v)
    }

    /// Path and query as the client sent them.
    pub fn target(&self) -> String {
        if self.query.is_empty() {
            self.path.clone()
        } else {
            format!("{}?{}", self.path, self.query)
        }
    }
}

/// An HTTP answer.
pub struct Response {
    pub status: u16,
    pub body: String,
    /// Seconds for a `Retry-After` header.
    pub retry_after: Option<u32>,
}

impl Response {
    pub fn json(body: String) -> Self {
        Response {
            status: 200,
            body,
            retry_after: None,
        }
    }

    pub fn error(status: u16, body: impl Into<String>) -> Self {
        Response {
            status,
            body: body.into(),
            retry_after: None,
        }
    }

    /// `429 Too Many Requests` asking the client to wait `secs`.
    pub fn rate_limited(secs: u32) -> Self {
        Response {
            retry_after: Some(secs),
            ..Response::error(429, "{\"msg\":\"Too many requests (simulated)\"}")
        }
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        429 => "Too Many Requests",
        503 => "Service Unavailable",
        _ => "Error",
    }
}

/// Parse a request head (`GET /path?query HTTP/1.1` + headers).
pub fn parse_head(head: &str) -> Option<Request> {
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let method = first.next()?;
    let target = first.next()?;
    if method != "GET" {
        return None;
    }
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let websocket = lines.any(|l| {
        l.split_once(':').is_some_and(|(k, v)| {
            k.trim().eq_ignore_ascii_case("upgrade") && v.trim().eq_ignore_ascii_case("websocket")
        })
    });
    Some(Request {
        path: path.to_string(),
        query: query.to_string(),
        websocket,
    })
}

/// Bind a free loopback port.
pub async fn bind() -> anyhow::Result<TcpListener> {
    Ok(TcpListener::bind("127.0.0.1:0").await?)
}

/// Accept connections for one venue until the task is aborted (which also
/// aborts every connection it spawned).
pub async fn serve(listener: TcpListener, venue: Venue, shared: Arc<Shared>) {
    let mut conns = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                if let Ok((stream, _)) = accepted {
                    let _ = stream.set_nodelay(true);
                    conns.spawn(handle(stream, venue, shared.clone()));
                }
            }
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
        }
    }
}

async fn read_head(stream: &mut TcpStream) -> Option<Vec<u8>> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 2048];
    loop {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(chunk.get(..n)?);
        if buf.windows(4).any(|w| w == b"\r\n\r\n") {
            return Some(buf);
        }
        if buf.len() > MAX_HEAD {
            return None;
        }
    }
}

async fn handle(mut stream: TcpStream, venue: Venue, shared: Arc<Shared>) {
    let head = match tokio::time::timeout(Duration::from_secs(5), read_head(&mut stream)).await {
        Ok(Some(h)) => h,
        _ => return,
    };
    let Some(req) = std::str::from_utf8(&head).ok().and_then(parse_head) else {
        let _ = write_response(&mut stream, &Response::error(400, "bad request")).await;
        return;
    };
    let refused = shared.faults.refuse(venue, req.websocket);
    if req.websocket {
        if refused {
            return; // closed at once, before any handshake
        }
        let Some(proto) = protocol(venue, &req, &shared) else {
            let _ = write_response(&mut stream, &Response::error(404, "no such stream path")).await;
            return;
        };
        // Subscribe to market steps before the handshake completes, so every
        // step after the client's connect returns reaches it.
        // Registered before the handshake too, so a fault injected as soon
        // as the client is connected reaches it.
        let steps = shared.tx.subscribe();
        let faults = shared.faults.open_session(venue, &req.target());
        let (r, w) = stream.into_split();
        let replayed = tokio::io::join(Cursor::new(head).chain(r), w);
        let Ok(ws) = tokio_tungstenite::accept_async(replayed).await else {
            shared.faults.close_session(faults.id);
            return;
        };
        session::run(ws, proto, steps, shared, faults).await;
    } else {
        let resp = if refused {
            Response::error(503, "{\"msg\":\"Service Unavailable (simulated)\"}")
        } else if shared.faults.take_rate_limit(venue) {
            Response::rate_limited(1)
        } else {
            if req.path.ends_with("/depth") || req.path.ends_with("/orderbook") {
                shared.after_next_step().await;
            }
            http_get(venue, &req, &shared)
        };
        let _ = write_response(&mut stream, &resp).await;
    }
}

fn protocol(venue: Venue, req: &Request, shared: &Shared) -> Option<Box<dyn Protocol>> {
    (venue.spec().sim?.protocol)(req, shared)
}

fn http_get(venue: Venue, req: &Request, shared: &Shared) -> Response {
    match venue.spec().sim {
        Some(sim) => (sim.http_get)(req, shared),
        None => Response::error(404, "not found"),
    }
}

async fn write_response(stream: &mut TcpStream, resp: &Response) -> std::io::Result<()> {
    let retry = resp
        .retry_after
        .map(|s| format!("Retry-After: {s}\r\n"))
        .unwrap_or_default();
    let head = format!(
        "HTTP/1.1 {} {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n{retry}Connection: close\r\n\r\n",
        resp.status,
        reason(resp.status),
        resp.body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(resp.body.as_bytes()).await?;
    stream.flush().await?;
    stream.shutdown().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_request_heads() {
        let r = parse_head(
            "GET /public/stream?streams=btcusdt@depth@100ms HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
        )
        .unwrap();
        assert_eq!(r.path, "/public/stream");
        assert_eq!(r.param("streams"), Some("btcusdt@depth@100ms"));
        assert!(r.websocket);
        let r = parse_head("GET /api/v3/depth?symbol=BTCUSDT&limit=5 HTTP/1.1\r\n\r\n").unwrap();
        assert!(!r.websocket);
        assert_eq!(r.param("limit"), Some("5"));
        assert_eq!(r.param("nope"), None);
        assert!(parse_head("POST / HTTP/1.1\r\n\r\n").is_none());
    }
}
