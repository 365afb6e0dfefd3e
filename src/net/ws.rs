//! One WebSocket connection kept alive: connect, read with an idle timeout,
//! app-level pings, paced sends, reconnect with capped backoff and jitter.
//! It knows nothing of venues: it reports what happens to its venue task.

use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::{Connector, connect_async_tls_with_config};

use super::backoff::Backoff;
use super::error::NetError;
use super::http::error_chain;
use crate::engine::snapshot::ConnState;
use crate::model::{Micros, now_micros};
use crate::venues::ConnSpec;

/// What a connection reports to its venue task.
#[derive(Debug)]
pub enum ConnReport {
    State(ConnState),
    Opened,
    Text { text: String, received: Micros },
    Binary { data: Vec<u8>, received: Micros },
    Sent { text: String, at: Micros },
    Closed { reason: String },
}

/// What the venue task tells a connection.
#[derive(Debug)]
pub enum ConnCommand {
    Send(String),
    Reconnect(String),
    /// Dial this address from now on ([`ConnSpec::await_dial`]).
    Dial(String),
}

/// Minimum spacing between client frames: venues cap incoming messages per
/// second (Binance spot: 5/s), and pings count.
const SEND_SPACING: Duration = Duration::from_millis(220);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// A connection that stayed up this long resets the backoff.
const HEALTHY_AFTER: Duration = Duration::from_secs(20);

/// How connections retry and time out; the defaults suit real venues, tests
/// on loopback shorten them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnOptions {
    pub backoff_base: Duration,
    pub backoff_cap: Duration,
    /// Upper bound on the adapter's idle timeouts: a connection whose
    /// [`ConnSpec::idle_timeout`] is longer uses this one (connections with
    /// no idle timeout keep none).
    pub max_idle: Option<Duration>,
}

impl Default for ConnOptions {
    fn default() -> Self {
        ConnOptions {
            backoff_base: Duration::from_millis(500),
            backoff_cap: Duration::from_secs(60),
            max_idle: None,
        }
    }
}

/// Run one connection until the report channel closes. Nothing is sent
/// on a new connection before `send_after_open` has passed (venues whose
/// rate limits count from the connection's first calendar second ask for a
/// pause, see [`crate::venues::Adapter::send_after_open`]).
pub async fn run_connection(
    spec: ConnSpec,
    opts: ConnOptions,
    send_after_open: Duration,
    reports: mpsc::Sender<ConnReport>,
    mut commands: mpsc::Receiver<ConnCommand>,
) {
    let mut backoff = Backoff::new(opts.backoff_base, opts.backoff_cap);
    let mut target = (!spec.await_dial).then(|| spec.url.clone());
    loop {
        if reports
            .send(ConnReport::State(ConnState::Connecting))
            .await
            .is_err()
        {
            return;
        }
        // A venue that hands out the address (a token) says where to dial.
        while target.is_none() {
            match commands.recv().await {
                None => return,
                Some(ConnCommand::Dial(t)) => target = Some(t),
                Some(_) => {}
            }
        }
        let dial = target.clone().unwrap_or_default();
        let failure = match connect(&dial).await {
            Ok(ws) => {
                let started = Instant::now();
                let idle = match (spec.idle_timeout, opts.max_idle) {
                    (Some(t), Some(max)) => Some(t.min(max)),
                    (t, _) => t,
                };
                let reason = session(
                    &spec,
                    idle,
                    send_after_open,
                    ws,
                    &reports,
                    &mut commands,
                    &mut target,
                )
                .await;
                if started.elapsed() >= HEALTHY_AFTER {
                    backoff.reset();
                }
                match reason {
                    SessionEnd::ChannelClosed => return,
                    SessionEnd::Closed(reason) => {
                        if reports
                            .send(ConnReport::Closed {
                                reason: reason.clone(),
                            })
                            .await
                            .is_err()
                        {
                            return;
                        }
                        NetError::Closed(reason)
                    }
                }
            }
            Err(e) => e,
        };
        let mut delay = backoff.next_delay();
        if let Some(min) = failure.retry_after() {
            delay = delay.max(min);
        }
        let state = ConnState::Backoff {
            retry_in_ms: delay.as_millis() as u64,
            reason: failure.to_string(),
        };
        tracing::warn!(url = %spec.url, "{failure}; retrying in {:.1} s", delay.as_secs_f64());
        if spec.await_dial {
            // Tokens are per connection: the adapter hands out a new one.
            target = None;
        }
        if reports.send(ConnReport::State(state)).await.is_err() {
            return;
        }
        // Wait, but drop sends meant for the dead connection (the adapter
        // resubscribes on the next open).
        let sleep = tokio::time::sleep(delay);
        tokio::pin!(sleep);
        loop {
            tokio::select! {
                _ = &mut sleep => break,
                cmd = commands.recv() => match cmd {
                    None => return,
                    Some(ConnCommand::Dial(t)) => target = Some(t),
                    Some(_) => {}
                },
            }
        }
    }
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(url: &str) -> Result<Ws, NetError> {
    let request = url
        .into_client_request()
        .map_err(|e| NetError::Other(format!("bad URL {url}: {e}")))?;
    let connector = if url.starts_with("wss:") {
        Some(Connector::Rustls(super::tls::client_config()))
    } else {
        Some(Connector::Plain)
    };
    let attempt = connect_async_tls_with_config(request, None, true, connector);
    match tokio::time::timeout(CONNECT_TIMEOUT, attempt).await {
        Err(_) => Err(NetError::Timeout),
        Ok(Ok((ws, _response))) => Ok(ws),
        Ok(Err(tokio_tungstenite::tungstenite::Error::Http(resp))) => {
            let retry_after = resp
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|s| s.trim().parse::<u64>().ok())
                .map(Duration::from_secs);
            Err(NetError::Http {
                status: resp.status().as_u16(),
                retry_after,
            })
        }
        Ok(Err(e)) => Err(NetError::classify(&error_chain(&e))),
    }
}

enum SessionEnd {
    /// The venue task is gone: stop for good.
    ChannelClosed,
    Closed(String),
}

async fn session(
    spec: &ConnSpec,
    idle: Option<Duration>,
    send_after_open: Duration,
    ws: Ws,
    reports: &mpsc::Sender<ConnReport>,
    commands: &mut mpsc::Receiver<ConnCommand>,
    target: &mut Option<String>,
) -> SessionEnd {
    let (mut sink, mut stream) = ws.split();
    if reports
        .send(ConnReport::State(ConnState::Connected))
        .await
        .is_err()
        || reports.send(ConnReport::Opened).await.is_err()
    {
        return SessionEnd::ChannelClosed;
    }
    let idle = idle.unwrap_or(Duration::from_secs(24 * 3600));
    let mut ping = spec.ping.as_ref().map(|p| {
        let mut i = tokio::time::interval_at(tokio::time::Instant::now() + p.every, p.every);
        i.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        (i, p.text.clone())
    });
    let mut last_send = Instant::now() - SEND_SPACING;
    let quiet_until = Instant::now() + send_after_open;
    let idle_sleep = tokio::time::sleep(idle);
    tokio::pin!(idle_sleep);
    loop {
        // Polled in this order: commands and pings are rare and never starve
        // the stream; the idle timer comes last, so after a scheduling hiccup
        // a frame already waiting wins over a timer that expired meanwhile.
        tokio::select! {
            biased;
            cmd = commands.recv() => match cmd {
                None => { let _ = sink.close().await; return SessionEnd::ChannelClosed }
                Some(ConnCommand::Reconnect(reason)) => {
                    let _ = sink.close().await;
                    return SessionEnd::Closed(reason);
                }
                Some(ConnCommand::Dial(t)) => *target = Some(t),
                Some(ConnCommand::Send(text)) => {
                    let wait = SEND_SPACING
                        .saturating_sub(last_send.elapsed())
                        .max(quiet_until.saturating_duration_since(Instant::now()));
                    if !wait.is_zero() {
                        tokio::time::sleep(wait).await;
                    }
                    last_send = Instant::now();
                    if let Err(e) = sink.send(Message::text(text.clone())).await {
                        return SessionEnd::Closed(error_chain(&e));
                    }
                    if reports.send(ConnReport::Sent { text, at: now_micros() }).await.is_err() {
                        return SessionEnd::ChannelClosed;
                    }
                }
            },
            _ = async { match ping.as_mut() { Some((i, _)) => { i.tick().await; } None => std::future::pending::<()>().await } } => {
                if let Some((_, text)) = ping.as_ref() {
                    last_send = Instant::now();
                    if let Err(e) = sink.send(Message::text(text.clone())).await {
                        return SessionEnd::Closed(error_chain(&e));
                    }
                }
            }
            msg = stream.next() => {
                let received = now_micros();
                idle_sleep.as_mut().reset(tokio::time::Instant::now() + idle);
                let report = match msg {
                    Some(Ok(Message::Text(t))) => ConnReport::Text { text: t.as_str().to_string(), received },
                    Some(Ok(Message::Binary(b))) => ConnReport::Binary { data: b.to_vec(), received },
                    // Pongs to server pings are queued by tungstenite and
                    // flushed with the next read or write.
                    Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => continue,
                    Some(Ok(Message::Close(frame))) => {
                        let why = frame.map(|f| format!("server closed ({}: {})", u16::from(f.code), f.reason)).unwrap_or_else(|| "server closed".into());
                        return SessionEnd::Closed(why);
                    }
                    Some(Err(e)) => return SessionEnd::Closed(error_chain(&e)),
                    None => return SessionEnd::Closed("connection ended".into()),
                };
                if reports.send(report).await.is_err() {
                    return SessionEnd::ChannelClosed;
                }
            }
            _ = &mut idle_sleep => {
                let _ = sink.close().await;
                return SessionEnd::Closed(format!("no data for {:.1} s (stale feed)", idle.as_secs_f64()));
            }
        }
    }
}
