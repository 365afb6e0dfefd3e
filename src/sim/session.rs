//! One WebSocket connection served by the simulator: a venue protocol turns
//! client frames and market steps into frames; this loop carries them and
//! applies the connection's faults (stall, drop, malformed, unknown).

use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::broadcast;
use tokio::sync::broadcast::error::RecvError;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;

use super::Shared;
use super::faults::SessionFaults;
use super::market::Step;
use super::wire;

/// What a protocol handler can see while it answers.
pub struct Ctx<'a> {
    pub shared: &'a Shared,
    pub faults: &'a SessionFaults,
}

/// A venue's WebSocket protocol for one connection.
pub trait Protocol: Send {
    /// A text frame from the client.
    fn on_text(&mut self, text: &str, ctx: &Ctx<'_>, out: &mut Vec<String>);

    /// The market moved: frames for this connection's subscriptions.
    fn on_step(&mut self, step: &Step, ctx: &Ctx<'_>, out: &mut Vec<String>);

    /// A well-formed message of a type this venue never sends (fault).
    fn unknown_message(&self, time_ms: i64) -> String;

    /// Server-initiated WebSocket ping frames (Binance), if any.
    fn ping_every(&self) -> Option<Duration> {
        None
    }
}

/// Removes the session from the fault registry however the loop ends.
struct Registered<'a> {
    shared: &'a Shared,
    id: u64,
}

impl Drop for Registered<'_> {
    fn drop(&mut self) {
        self.shared.faults.close_session(self.id);
    }
}

async fn send_all<S>(ws: &mut WebSocketStream<S>, frames: &mut Vec<String>) -> bool
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    for f in frames.drain(..) {
        if ws.feed(Message::text(f)).await.is_err() {
            return false;
        }
    }
    ws.flush().await.is_ok()
}

/// Serve one connection until the client leaves, a fault drops it, or the
/// simulator shuts down.
pub async fn run<S>(
    mut ws: WebSocketStream<S>,
    mut proto: Box<dyn Protocol>,
    mut steps: broadcast::Receiver<Arc<Step>>,
    shared: Arc<Shared>,
    faults: Arc<SessionFaults>,
) where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let _registered = Registered {
        shared: &shared,
        id: faults.id,
    };
    let mut shutdown = shared.shutdown.clone();
    let mut ping = proto.ping_every().map(|every| {
        let mut i = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        i.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        i
    });
    let mut out: Vec<String> = Vec::new();
    loop {
        if let Some(until) = faults.stalled_until() {
            // Silent but open: neither read nor write until the stall ends.
            tokio::select! {
                _ = tokio::time::sleep_until(until.into()) => {}
                _ = faults.drop_now.notified() => {
                    faults.count_dropped();
                    return;
                }
                _ = shutdown.changed() => return,
            }
            continue;
        }
        let ctx = Ctx {
            shared: &shared,
            faults: &faults,
        };
        tokio::select! {
            _ = faults.drop_now.notified() => {
                // Abrupt: no close frame, the TCP stream just ends.
                faults.count_dropped();
                return;
            }
            _ = shutdown.changed() => {
                let _ = ws.close(None).await;
                return;
            }
            msg = ws.next() => match msg {
                Some(Ok(Message::Text(text))) => proto.on_text(text.as_str(), &ctx, &mut out),
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => return,
                Some(Ok(_)) => {}
            },
            step = steps.recv() => match step {
                Ok(step) => {
                    proto.on_step(&step, &ctx, &mut out);
                    if !out.is_empty() && faults.take_malformed() {
                        let bad = wire::truncated(&out[0]);
                        out.insert(0, bad);
                    }
                    if faults.take_unknown() {
                        out.push(proto.unknown_message(step.time_ms));
                    }
                }
                // A consumer too slow for the feed is cut off, as venues do.
                Err(RecvError::Lagged(_)) => {
                    let _ = ws.close(None).await;
                    return;
                }
                Err(RecvError::Closed) => return,
            },
            _ = async {
                match ping.as_mut() {
                    Some(i) => {
                        i.tick().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            } => {
                if ws.send(Message::Ping(Vec::new().into())).await.is_err() {
                    return;
                }
            }
        }
        if !out.is_empty() && !send_all(&mut ws, &mut out).await {
            return;
        }
    }
}
