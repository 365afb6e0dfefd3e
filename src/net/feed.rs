//! A venue's live feed: owns the adapter, runs its connections, carries out
//! its actions (sends, REST fetches, reconnects) and forwards normalized
//! events to the engine. Optionally records everything as a capture.

use std::collections::HashMap;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::JoinSet;

use super::backoff::Backoff;
use super::error::NetError;
use super::http::HttpClient;
use super::poll::Fallback;
use super::ws::{ConnCommand, ConnOptions, ConnReport, run_connection};
use crate::capture::CaptureWriter;
use crate::engine::EngineInput;
use crate::engine::snapshot::ConnState;
use crate::model::{Instrument, Micros, Venue, now_micros};
use crate::venues::{Action, Adapter, Output, guard};

/// Where a venue's traffic is recorded, in capture format 2.
pub struct Recording {
    pub writer: CaptureWriter,
    /// Exchange name used for connection names (`BYBIT.ws.1`).
    pub exchange: String,
}

enum Inbound {
    Conn(usize, ConnReport),
    /// A REST-fallback poll's answer.
    Poll {
        instrument: Instrument,
        every: Duration,
        result: Result<String, NetError>,
        at: Micros,
    },
    Http {
        url: String,
        /// The JSON body of a POST (kept for a retry).
        post: Option<String>,
        result: Result<String, NetError>,
        at: Micros,
    },
}

pub use crate::engine::{POLL_CONN, REST_CONN};

/// Retry and timeout settings of one venue's feed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FeedOptions {
    /// Every WebSocket connection's backoff and idle bound.
    pub conn: ConnOptions,
    /// Backoff of failed REST requests.
    pub rest_backoff_base: Duration,
    pub rest_backoff_cap: Duration,
}

impl Default for FeedOptions {
    fn default() -> Self {
        FeedOptions {
            conn: ConnOptions::default(),
            rest_backoff_base: Duration::from_secs(1),
            rest_backoff_cap: Duration::from_secs(120),
        }
    }
}

/// Run one venue until `engine` closes or `stop` turns true. Never returns
/// early on feed errors: connections retry on their own. A recording is
/// finished (flushed) on the way out.
pub async fn run_venue(
    adapter: Box<dyn Adapter>,
    engine: mpsc::Sender<EngineInput>,
    http: HttpClient,
    recording: Option<Recording>,
    stop: tokio::sync::watch::Receiver<bool>,
) {
    run_venue_with(
        adapter,
        engine,
        http,
        recording,
        stop,
        FeedOptions::default(),
    )
    .await
}

/// [`run_venue`] with explicit retry and timeout settings (tests use short
/// ones on loopback).
pub async fn run_venue_with(
    mut adapter: Box<dyn Adapter>,
    engine: mpsc::Sender<EngineInput>,
    http: HttpClient,
    mut recording: Option<Recording>,
    mut stop: tokio::sync::watch::Receiver<bool>,
    opts: FeedOptions,
) {
    let venue = adapter.venue();
    let specs = adapter.connections();
    let send_after_open = adapter.send_after_open();
    let (in_tx, mut in_rx) = mpsc::channel::<Inbound>(4096);
    let mut tasks = JoinSet::new();
    let mut commands: Vec<mpsc::Sender<ConnCommand>> = Vec::new();
    let mut url_index: HashMap<String, usize> = HashMap::new();
    for (i, spec) in specs.iter().enumerate() {
        let (cmd_tx, cmd_rx) = mpsc::channel(256);
        let (rep_tx, mut rep_rx) = mpsc::channel(1024);
        commands.push(cmd_tx);
        url_index.insert(spec.url.clone(), i);
        tasks.spawn(run_connection(
            spec.clone(),
            opts.conn.clone(),
            send_after_open,
            rep_tx,
            cmd_rx,
        ));
        let fwd = in_tx.clone();
        tasks.spawn(async move {
            while let Some(r) = rep_rx.recv().await {
                if fwd.send(Inbound::Conn(i, r)).await.is_err() {
                    break;
                }
            }
        });
    }
    let names: Vec<String> = (0..specs.len())
        .map(|i| match &recording {
            Some(r) => format!("{}.ws.{}", r.exchange, i + 1),
            None => specs[i].url.clone(),
        })
        .collect();

    let mut ctx = FeedCtx {
        venue,
        engine,
        http,
        in_tx,
        url_index,
        commands,
        rest_backoff: Backoff::new(opts.rest_backoff_base, opts.rest_backoff_cap),
        rest_connected: false,
        paced_next: tokio::time::Instant::now(),
        tasks: JoinSet::new(),
    };
    let mut fallback = Fallback::new(specs.len());
    let mut out = Output::default();
    // Set when the adapter panicked and was rebuilt (see `guard`).
    let mut restarted = false;
    guarded(&mut adapter, &mut out, &mut restarted, |a, out| {
        a.start(now_micros(), out)
    });
    if !ctx.dispatch(&mut out, REST_CONN, now_micros(), 0).await {
        return;
    }

    loop {
        let poll_due = fallback.next_at();
        let inbound = tokio::select! {
            inbound = in_rx.recv() => match inbound {
                Some(i) => i,
                None => break,
            },
            _ = async { tokio::time::sleep_until(poll_due.unwrap_or_else(tokio::time::Instant::now)).await }, if poll_due.is_some() => {
                if let Some((instrument, poll)) = fallback.next(adapter.as_ref()) {
                    ctx.poll(instrument, poll);
                }
                continue;
            }
            changed = stop.changed() => {
                if changed.is_err() || *stop.borrow() {
                    break;
                }
                continue;
            }
        };
        let now = now_micros();
        let alive = match inbound {
            Inbound::Conn(i, report) => {
                let url = specs[i].url.as_str();
                match report {
                    ConnReport::State(state) => {
                        fallback.on_state(i, &state);
                        ctx.conn_state(url, state, now).await
                    }
                    ConnReport::Opened => {
                        if let Some(r) = recording.as_mut() {
                            record(r.writer.connect(&names[i], now, url));
                        }
                        guarded(&mut adapter, &mut out, &mut restarted, |a, out| {
                            a.on_open(url, now, out)
                        });
                        ctx.dispatch(&mut out, url, now, 0).await
                    }
                    ConnReport::Text { text, received } => {
                        if let Some(r) = recording.as_mut() {
                            record(r.writer.recv_text(&names[i], received, &text));
                        }
                        guarded(&mut adapter, &mut out, &mut restarted, |a, out| {
                            a.on_text(url, &text, received, out)
                        });
                        ctx.dispatch(&mut out, url, received, text.len()).await
                    }
                    ConnReport::Binary { data, received } => {
                        if let Some(r) = recording.as_mut() {
                            record(r.writer.recv_binary(&names[i], received, &data));
                        }
                        guarded(&mut adapter, &mut out, &mut restarted, |a, out| {
                            a.on_binary(url, &data, received, out)
                        });
                        ctx.dispatch(&mut out, url, received, data.len()).await
                    }
                    ConnReport::Sent { text, at } => {
                        if let Some(r) = recording.as_mut() {
                            record(r.writer.send(&names[i], at, url, &text));
                        }
                        true
                    }
                    ConnReport::Closed { reason } => {
                        tracing::warn!(%venue, url, "connection closed: {reason}");
                        guarded(&mut adapter, &mut out, &mut restarted, |a, out| {
                            a.on_close(url, now, out)
                        });
                        let ok = ctx.dispatch(&mut out, url, now, 0).await;
                        ok && ctx
                            .conn_state(url, ConnState::Disconnected { reason }, now)
                            .await
                    }
                }
            }
            Inbound::Poll {
                instrument,
                every,
                result,
                at,
            } => {
                fallback.answered(every);
                match result {
                    Ok(body) => {
                        guarded(&mut adapter, &mut out, &mut restarted, |a, out| {
                            a.on_poll(instrument, &body, at, out)
                        });
                        ctx.dispatch(&mut out, POLL_CONN, at, body.len()).await
                    }
                    Err(e) => {
                        tracing::warn!(%venue, %instrument, "REST depth poll failed: {e}");
                        let state = ConnState::Backoff {
                            retry_in_ms: every.as_millis() as u64,
                            reason: e.to_string(),
                        };
                        ctx.conn_state(POLL_CONN, state, at).await
                    }
                }
            }
            Inbound::Http {
                url,
                post,
                result,
                at,
            } => match result {
                Ok(body) => {
                    ctx.rest_backoff.reset();
                    if let Some(r) = recording.as_mut() {
                        let name = format!("{}.http.1", r.exchange);
                        record(r.writer.http(&name, at, &url, &body));
                    }
                    guarded(&mut adapter, &mut out, &mut restarted, |a, out| {
                        a.on_http(&url, &body, at, out)
                    });
                    let ok = ctx.dispatch(&mut out, REST_CONN, at, body.len()).await;
                    // Only a change of state is news: every later success
                    // would otherwise count as a reconnect.
                    if ok && !ctx.rest_connected {
                        ctx.rest_connected = true;
                        ctx.conn_state(REST_CONN, ConnState::Connected, at).await
                    } else {
                        ok
                    }
                }
                Err(e) => {
                    let mut delay = ctx.rest_backoff.next_delay();
                    if let Some(min) = e.retry_after() {
                        delay = delay.max(min);
                    }
                    tracing::warn!(%venue, url, "REST request failed: {e}; retrying in {} s", delay.as_secs());
                    let error = e.to_string();
                    guarded(&mut adapter, &mut out, &mut restarted, |a, out| {
                        a.on_http_error(&url, &error, at, out)
                    });
                    let ok = ctx.dispatch(&mut out, REST_CONN, at, 0).await;
                    let state = ConnState::Backoff {
                        retry_in_ms: delay.as_millis() as u64,
                        reason: e.to_string(),
                    };
                    ctx.fetch_later(url, post, delay);
                    ctx.rest_connected = false;
                    ok && ctx.conn_state(REST_CONN, state, at).await
                }
            },
        };
        if !alive {
            break;
        }
        if std::mem::take(&mut restarted) {
            // Every book the engine holds for the venue, whatever the old
            // adapter still knew.
            let reset = EngineInput::VenueReset {
                venue,
                reason: "adapter restarted after an internal error".to_string(),
            };
            if ctx.engine.send(reset).await.is_err() {
                break;
            }
            // The new adapter knows no connection: reopen them all, so each
            // subscribes again and its books rebuild from new snapshots.
            for (i, spec) in specs.iter().enumerate() {
                let why = "the venue's adapter was restarted after an internal error";
                let _ = ctx.commands[i]
                    .send(ConnCommand::Reconnect(why.to_string()))
                    .await;
                tracing::info!(%venue, url = %spec.url, "reconnecting: {why}");
            }
            let now = now_micros();
            guarded(&mut adapter, &mut out, &mut restarted, |a, out| {
                a.start(now, out)
            });
            if !ctx.dispatch(&mut out, REST_CONN, now, 0).await {
                break;
            }
        }
    }
    if let Some(r) = recording {
        record(r.writer.finish());
    }
    tasks.abort_all();
}

/// Call into the adapter; if it panics, announce its books out of sync and
/// rebuild it (the caller then reconnects, see `restarted`).
fn guarded(
    adapter: &mut Box<dyn Adapter>,
    out: &mut Output,
    restarted: &mut bool,
    f: impl FnOnce(&mut dyn Adapter, &mut Output),
) {
    if let Err(why) = guard::call(adapter, out, f) {
        guard::restart(adapter, &why, out);
        *restarted = true;
    }
}

fn record(result: std::io::Result<()>) {
    if let Err(e) = result {
        tracing::error!("recording failed: {e}");
    }
}

struct FeedCtx {
    venue: Venue,
    engine: mpsc::Sender<EngineInput>,
    http: HttpClient,
    in_tx: mpsc::Sender<Inbound>,
    url_index: HashMap<String, usize>,
    commands: Vec<mpsc::Sender<ConnCommand>>,
    rest_backoff: Backoff,
    /// When the next paced request ([`Action::HttpGetPaced`]) may go.
    paced_next: tokio::time::Instant,
    /// The last state reported for the REST pseudo-connection was `Connected`.
    rest_connected: bool,
    tasks: JoinSet<()>,
}

impl FeedCtx {
    async fn conn_state(&mut self, conn: &str, state: ConnState, at: Micros) -> bool {
        self.engine
            .send(EngineInput::Conn {
                venue: self.venue,
                conn: conn.to_string(),
                state,
                at,
            })
            .await
            .is_ok()
    }

    /// Forward events and carry out actions. `false` when the engine is gone.
    async fn dispatch(
        &mut self,
        out: &mut Output,
        conn: &str,
        received: Micros,
        bytes: usize,
    ) -> bool {
        if bytes > 0 || !out.events.is_empty() {
            let input = EngineInput::Feed {
                venue: self.venue,
                conn: conn.to_string(),
                received,
                bytes,
                events: std::mem::take(&mut out.events),
            };
            if self.engine.send(input).await.is_err() {
                return false;
            }
        }
        for action in out.actions.drain(..) {
            match action {
                Action::Send { url, text } => match self.url_index.get(&url) {
                    Some(&i) => {
                        let _ = self.commands[i].send(ConnCommand::Send(text)).await;
                    }
                    None => {
                        tracing::error!(venue = %self.venue, url, "send to a connection that does not exist")
                    }
                },
                Action::Reconnect { url, reason } => match self.url_index.get(&url) {
                    Some(&i) => {
                        tracing::info!(venue = %self.venue, url, "reconnecting: {reason}");
                        let _ = self.commands[i].send(ConnCommand::Reconnect(reason)).await;
                    }
                    None => {
                        tracing::error!(venue = %self.venue, url, "reconnect of a connection that does not exist")
                    }
                },
                Action::HttpGet { url } => self.fetch_later(url, None, Duration::ZERO),
                Action::HttpGetPaced { url, gap } => {
                    // Each paced request takes the next free slot.
                    let now = tokio::time::Instant::now();
                    let at = self.paced_next.max(now);
                    self.paced_next = at + gap;
                    self.fetch_later(url, None, at - now)
                }
                Action::HttpPost { url, body } => self.fetch_later(url, Some(body), Duration::ZERO),
                Action::Dial { url, target } => match self.url_index.get(&url) {
                    Some(&i) => {
                        let _ = self.commands[i].send(ConnCommand::Dial(target)).await;
                    }
                    None => {
                        tracing::error!(venue = %self.venue, url, "dial of a connection that does not exist")
                    }
                },
            }
        }
        true
    }

    /// Poll one book's REST depth (the fallback); the answer comes back as
    /// [`Inbound::Poll`].
    fn poll(&mut self, instrument: Instrument, poll: crate::venues::DepthPoll) {
        let http = self.http.clone();
        let tx = self.in_tx.clone();
        while self.tasks.try_join_next().is_some() {}
        self.tasks.spawn(async move {
            let result = match &poll.post {
                Some(body) => http.post(&poll.url, body).await,
                None => http.get(&poll.url).await,
            };
            let _ = tx
                .send(Inbound::Poll {
                    instrument,
                    every: poll.every,
                    result,
                    at: now_micros(),
                })
                .await;
        });
    }

    fn fetch_later(&mut self, url: String, post: Option<String>, delay: Duration) {
        let http = self.http.clone();
        let tx = self.in_tx.clone();
        // Reap finished fetches so the set does not grow.
        while self.tasks.try_join_next().is_some() {}
        self.tasks.spawn(async move {
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            let result = match &post {
                Some(body) => http.post(&url, body).await,
                None => http.get(&url).await,
            };
            let _ = tx
                .send(Inbound::Http {
                    url,
                    post,
                    result,
                    at: now_micros(),
                })
                .await;
        });
    }
}
