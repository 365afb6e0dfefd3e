//! Alert deliveries against loopback HTTP servers standing in for the
//! webhook, Telegram, Discord and Slack: payload shapes, rate limits under a
//! burst, retries on 500 and 429 (with `Retry-After`), and the circuit
//! breaker. Time is a manual clock: nothing here waits for real time or
//! depends on the machine's speed.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

use depthwatch::alerts::Alert;
use depthwatch::alerts::deliver::clock::ManualClock;
use depthwatch::alerts::deliver::payload::{SIGNATURE_HEADER, sign};
use depthwatch::alerts::deliver::{
    DeliveryConfig, Dispatcher, HttpSettings, Outcome, Report, TelegramSettings,
};
use depthwatch::alerts::secrets::{self, Secret, Secrets};

/// One request as the server saw it.
#[derive(Clone, Debug)]
struct Seen {
    path: String,
    headers: Vec<(String, String)>,
    body: String,
}

impl Seen {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A response: status, extra headers, body.
type Reply = (u16, Vec<(&'static str, String)>, String);

/// A loopback HTTP/1.1 server answering from a script (then 200 `{"ok":true}`).
#[derive(Clone)]
struct Server {
    url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
    script: Arc<Mutex<VecDeque<Reply>>>,
    /// Answer every request with this when the script is empty.
    default: Arc<Mutex<Reply>>,
}

impl Server {
    async fn start() -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let s = Server {
            url,
            seen: Arc::default(),
            script: Arc::default(),
            default: Arc::new(Mutex::new((200, Vec::new(), "{\"ok\":true}".into()))),
        };
        let srv = s.clone();
        tokio::spawn(async move {
            loop {
                let Ok((mut sock, _)) = listener.accept().await else {
                    return;
                };
                let srv = srv.clone();
                tokio::spawn(async move {
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 4096];
                    let (head_end, len) = loop {
                        let Ok(n) = sock.read(&mut chunk).await else {
                            return;
                        };
                        if n == 0 {
                            return;
                        }
                        buf.extend_from_slice(&chunk[..n]);
                        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                            let head = String::from_utf8_lossy(&buf[..p]).to_string();
                            let len = head
                                .lines()
                                .find_map(|l| {
                                    let (k, v) = l.split_once(':')?;
                                    k.eq_ignore_ascii_case("content-length")
                                        .then(|| v.trim().parse::<usize>().ok())?
                                })
                                .unwrap_or(0);
                            break (p + 4, len);
                        }
                    };
                    while buf.len() < head_end + len {
                        let Ok(n) = sock.read(&mut chunk).await else {
                            return;
                        };
                        if n == 0 {
                            break;
                        }
                        buf.extend_from_slice(&chunk[..n]);
                    }
                    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
                    let mut lines = head.lines();
                    let path = lines
                        .next()
                        .and_then(|l| l.split_whitespace().nth(1))
                        .unwrap_or("")
                        .to_string();
                    let headers = lines
                        .filter_map(|l| l.split_once(':'))
                        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
                        .collect();
                    let body = String::from_utf8_lossy(&buf[head_end..]).to_string();
                    srv.seen.lock().unwrap().push(Seen {
                        path,
                        headers,
                        body,
                    });
                    let reply = srv
                        .script
                        .lock()
                        .unwrap()
                        .pop_front()
                        .unwrap_or_else(|| srv.default.lock().unwrap().clone());
                    let (status, extra, body) = reply;
                    let mut resp = format!(
                        "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n",
                        body.len()
                    );
                    for (k, v) in extra {
                        resp.push_str(&format!("{k}: {v}\r\n"));
                    }
                    resp.push_str("\r\n");
                    resp.push_str(&body);
                    let _ = sock.write_all(resp.as_bytes()).await;
                    let _ = sock.shutdown().await;
                });
            }
        });
        s
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    fn then(&self, status: u16, headers: Vec<(&'static str, String)>, body: &str) {
        self.script
            .lock()
            .unwrap()
            .push_back((status, headers, body.to_string()));
    }

    fn always(&self, status: u16, body: &str) {
        *self.default.lock().unwrap() = (status, Vec::new(), body.to_string());
    }
}

fn http(name: &str) -> HttpSettings {
    HttpSettings::defaults_for(name)
}

fn only(f: impl FnOnce(&mut DeliveryConfig)) -> DeliveryConfig {
    let mut c = DeliveryConfig {
        app: false,
        ..DeliveryConfig::default()
    };
    f(&mut c);
    c
}

fn secrets(pairs: &[(&'static str, String)]) -> Secrets {
    let pairs = pairs.to_vec();
    Secrets::load(None, move |k| {
        pairs.iter().find(|(e, _)| *e == k).map(|(_, v)| v.clone())
    })
    .unwrap()
}

fn alert(id: u64) -> Alert {
    let mut a = Alert::test(1_700_000_000_000_000);
    a.id = id;
    a.rule = "btc-arb".into();
    a.text = format!("alert number {id}");
    a
}

/// Reports until `n` final outcomes arrived (a hang guard of 20 s, not an
/// assertion on speed).
async fn finals(rx: &mut mpsc::UnboundedReceiver<Report>, n: usize) -> Vec<Report> {
    let mut all = Vec::new();
    let mut done = 0;
    while done < n {
        let r = tokio::time::timeout(Duration::from_secs(20), rx.recv())
            .await
            .expect("deliveries finish")
            .expect("reports open");
        if r.outcome.is_final() {
            done += 1;
        }
        all.push(r);
    }
    all
}

/// The client the app delivers with (its TLS setup installs the crypto
/// provider reqwest needs).
fn client() -> reqwest::Client {
    depthwatch::app::alerts::http_client().unwrap()
}

#[tokio::test]
async fn payload_shapes_of_every_destination() {
    let server = Server::start().await;
    let cfg = only(|c| {
        c.webhook = Some(http("webhook"));
        c.discord = Some(http("discord"));
        c.slack = Some(http("slack"));
        c.telegram = Some(TelegramSettings {
            chat_id: "-1001234".into(),
            api_url: server.url.clone(),
            group: true,
            http: http("telegram"),
        });
    });
    let s = secrets(&[
        (secrets::WEBHOOK_URL.env, format!("{}/hook", server.url)),
        (secrets::WEBHOOK_HMAC_KEY.env, "signing-key-xyz".into()),
        (secrets::TELEGRAM_TOKEN.env, "123456:SECRET-TOKEN".into()),
        (
            secrets::DISCORD_WEBHOOK_URL.env,
            format!("{}/discord/1/abc", server.url),
        ),
        (
            secrets::SLACK_WEBHOOK_URL.env,
            format!("{}/slack/T/B/xyz", server.url),
        ),
    ]);
    let clock = ManualClock::default();
    let (mut d, mut rx) = Dispatcher::new(&cfg, &s, Arc::new(clock), client());
    let now = d.dispatch(&alert(1), None);
    assert_eq!(now.len(), 4);
    assert!(now.iter().all(|(_, o)| *o == Outcome::Queued), "{now:?}");
    let reports = finals(&mut rx, 4).await;
    assert!(
        reports
            .iter()
            .all(|r| r.outcome == Outcome::Sent { attempts: 1 }),
        "{reports:?}"
    );
    let seen = server.seen();
    let by = |prefix: &str| {
        seen.iter()
            .find(|s| s.path.starts_with(prefix))
            .unwrap_or_else(|| panic!("no request to {prefix}: {seen:?}"))
            .clone()
    };
    // Webhook: the documented schema, signed.
    let hook = by("/hook");
    let v: Value = serde_json::from_str(&hook.body).unwrap();
    assert_eq!(v["version"], 1);
    assert_eq!(v["type"], "alert");
    assert_eq!(v["id"], 1);
    assert_eq!(v["rule"], "btc-arb");
    assert_eq!(v["severity"], "info");
    assert_eq!(v["text"], "alert number 1");
    for key in [
        "time_us",
        "kind",
        "subject",
        "instrument",
        "venue",
        "dedup_key",
        "title",
    ] {
        assert!(v.get(key).is_some(), "webhook body lacks {key}");
    }
    assert_eq!(
        hook.header(SIGNATURE_HEADER),
        Some(
            format!(
                "sha256={}",
                sign(&Secret::new("signing-key-xyz"), &hook.body)
            )
            .as_str()
        )
    );
    assert_eq!(hook.header("content-type"), Some("application/json"));
    // Telegram: sendMessage to the chat.
    let tg = by("/bot123456:SECRET-TOKEN/sendMessage");
    let v: Value = serde_json::from_str(&tg.body).unwrap();
    assert_eq!(v["chat_id"], "-1001234");
    assert_eq!(v["text"], "[INFO] btc-arb: depthwatch\nalert number 1");
    // Discord and Slack.
    let v: Value = serde_json::from_str(&by("/discord/1/abc").body).unwrap();
    assert_eq!(v["content"], "[INFO] btc-arb: depthwatch\nalert number 1");
    assert_eq!(v["username"], "depthwatch");
    let v: Value = serde_json::from_str(&by("/slack/T/B/xyz").body).unwrap();
    assert_eq!(v["text"], "[INFO] btc-arb: depthwatch\nalert number 1");
    // The status never shows a secret.
    let status = format!("{:?}", d.status());
    assert!(!status.contains("SECRET-TOKEN") && !status.contains("signing-key"));
}

#[tokio::test]
async fn a_burst_of_1000_respects_telegrams_limits_and_counts_the_rest() {
    let server = Server::start().await;
    let cfg = only(|c| {
        c.telegram = Some(TelegramSettings {
            chat_id: "-100".into(),
            api_url: server.url.clone(),
            group: true,
            http: http("telegram"),
        });
    });
    let s = secrets(&[(secrets::TELEGRAM_TOKEN.env, "1:T".into())]);
    let clock = ManualClock::default();
    let (mut d, mut rx) = Dispatcher::new(&cfg, &s, Arc::new(clock.clone()), client());
    // 1,000 qualifying alerts, one every 10 ms: 10 s of a storm.
    let (mut queued, mut suppressed) = (0, 0);
    for k in 0..1000u64 {
        clock.set(Duration::from_millis(10 * k));
        for (_, o) in d.dispatch(&alert(k + 1), None) {
            match o {
                Outcome::Queued => queued += 1,
                Outcome::Suppressed(why) => {
                    assert!(why.starts_with("rate limited (Telegram"), "{why}");
                    suppressed += 1;
                }
                other => panic!("{other:?}"),
            }
        }
    }
    // One a second per chat: 10 in 10 s (20 a minute per group allows it).
    assert_eq!((queued, suppressed), (10, 990));
    let reports = finals(&mut rx, queued).await;
    assert!(
        reports
            .iter()
            .all(|r| matches!(r.outcome, Outcome::Sent { .. }))
    );
    assert_eq!(server.seen().len(), 10);
    // The task counts the workers' reports (as the Alerts pane shows them).
    for r in &reports {
        d.count_report(r);
    }
    let st = d.status();
    assert_eq!((st[0].counts.sent, st[0].counts.suppressed), (10, 990));
    // A whole minute in a group: capped at 20 by the per-group limit.
    let (mut d, mut rx) = Dispatcher::new(&cfg, &s, Arc::new(clock.clone()), client());
    let mut queued = 0;
    for k in 0..6000u64 {
        clock.set(Duration::from_secs(100) + Duration::from_millis(10 * k));
        queued += d
            .dispatch(&alert(k + 1), None)
            .iter()
            .filter(|(_, o)| *o == Outcome::Queued)
            .count();
    }
    // 1/s while the group's 20 last (29 s: it refills one per 3 s
    // meanwhile), then one per 3 s: 29 + 10.
    assert_eq!(queued, 39);
    finals(&mut rx, queued).await;
}

#[tokio::test]
async fn a_500_is_retried_with_backoff_then_sent() {
    let server = Server::start().await;
    server.then(500, vec![], "boom");
    server.then(502, vec![], "");
    let cfg = only(|c| c.webhook = Some(http("webhook")));
    let s = secrets(&[(secrets::WEBHOOK_URL.env, format!("{}/w", server.url))]);
    let clock = ManualClock::default();
    let (mut d, mut rx) = Dispatcher::new(&cfg, &s, Arc::new(clock.clone()), client());
    d.dispatch(&alert(1), None);
    let reports = finals(&mut rx, 1).await;
    let outcomes: Vec<&Outcome> = reports.iter().map(|r| &r.outcome).collect();
    assert!(
        matches!(outcomes[0], Outcome::Retrying { attempt: 1, reason, .. } if reason == "HTTP 500: boom")
    );
    assert!(
        matches!(outcomes[1], Outcome::Retrying { attempt: 2, reason, .. } if reason == "HTTP 502")
    );
    assert_eq!(*outcomes[2], Outcome::Sent { attempts: 3 });
    // Exponential: 1 s, then 2 s.
    assert_eq!(
        clock.slept(),
        [Duration::from_secs(1), Duration::from_secs(2)]
    );
    assert_eq!(server.seen().len(), 3);
    for (o, d) in [(outcomes[0], "retrying"), (outcomes[2], "sent")] {
        assert_eq!(o.word(), d);
    }
}

#[tokio::test]
async fn a_429_waits_as_long_as_retry_after_says() {
    let server = Server::start().await;
    // HTTP header on the webhook.
    server.then(429, vec![("Retry-After", "7".into())], "");
    let cfg = only(|c| c.webhook = Some(http("webhook")));
    let s = secrets(&[(secrets::WEBHOOK_URL.env, format!("{}/w", server.url))]);
    let clock = ManualClock::default();
    let (mut d, mut rx) = Dispatcher::new(&cfg, &s, Arc::new(clock.clone()), client());
    d.dispatch(&alert(1), None);
    let reports = finals(&mut rx, 1).await;
    assert_eq!(clock.slept(), [Duration::from_secs(7)]);
    assert_eq!(
        reports.last().unwrap().outcome,
        Outcome::Sent { attempts: 2 }
    );
    // Telegram's parameters.retry_after in the body.
    let server = Server::start().await;
    server.then(
        429,
        vec![],
        r#"{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 3","parameters":{"retry_after":3}}"#,
    );
    let cfg = only(|c| {
        c.telegram = Some(TelegramSettings {
            chat_id: "42".into(),
            api_url: server.url.clone(),
            group: false,
            http: http("telegram"),
        })
    });
    let s = secrets(&[(secrets::TELEGRAM_TOKEN.env, "1:T".into())]);
    let clock = ManualClock::default();
    let (mut d, mut rx) = Dispatcher::new(&cfg, &s, Arc::new(clock.clone()), client());
    d.dispatch(&alert(1), None);
    let reports = finals(&mut rx, 1).await;
    assert!(matches!(
        &reports[0].outcome,
        Outcome::Retrying { reason, delay, .. }
            if reason == "HTTP 429: Too Many Requests: retry after 3" && *delay == Duration::from_secs(3)
    ));
    assert_eq!(clock.slept(), [Duration::from_secs(3)]);
    assert_eq!(
        reports.last().unwrap().outcome,
        Outcome::Sent { attempts: 2 }
    );
    // A request the service refuses is not retried.
    server.then(401, vec![], r#"{"ok":false,"description":"Unauthorized"}"#);
    d.dispatch(&alert(2), None);
    let reports = finals(&mut rx, 1).await;
    assert_eq!(
        reports.last().unwrap().outcome,
        Outcome::Failed("HTTP 401: Unauthorized".into())
    );
}

#[tokio::test]
async fn the_breaker_opens_after_failures_and_closes_after_a_good_probe() {
    let server = Server::start().await;
    server.always(500, "down");
    let mut settings = http("slack");
    settings.breaker_failures = 3;
    settings.breaker_cool_off = Duration::from_secs(30);
    settings.retry.max_retries = 0;
    settings.max_per_s = 100;
    let cfg = only(|c| c.slack = Some(settings));
    let s = secrets(&[(secrets::SLACK_WEBHOOK_URL.env, format!("{}/s", server.url))]);
    let clock = ManualClock::default();
    let (mut d, mut rx) = Dispatcher::new(&cfg, &s, Arc::new(clock.clone()), client());
    for id in 1..=3 {
        assert_eq!(d.dispatch(&alert(id), None)[0].1, Outcome::Queued);
        let r = finals(&mut rx, 1).await;
        assert!(matches!(r[0].outcome, Outcome::Failed(_)), "{r:?}");
    }
    assert_eq!(d.status()[0].breaker, Some("open"));
    // Open: suppressed without a request.
    clock.advance(Duration::from_secs(10));
    let o = &d.dispatch(&alert(4), None)[0].1;
    assert!(
        matches!(o, Outcome::Suppressed(why) if why.contains("circuit open after 3 failures")),
        "{o:?}"
    );
    assert_eq!(server.seen().len(), 3);
    // After the cool-off one probe goes; it succeeds and closes the breaker.
    clock.advance(Duration::from_secs(21));
    server.always(200, "ok");
    assert_eq!(d.dispatch(&alert(5), None)[0].1, Outcome::Queued);
    assert_eq!(d.status()[0].breaker, Some("half-open"));
    let r = finals(&mut rx, 1).await;
    assert_eq!(r[0].outcome, Outcome::Sent { attempts: 1 });
    assert_eq!(d.status()[0].breaker, Some("closed"));
    assert_eq!(d.dispatch(&alert(6), None)[0].1, Outcome::Queued);
    finals(&mut rx, 1).await;
    assert_eq!(server.seen().len(), 5);
}

#[tokio::test]
async fn a_destination_without_its_secret_says_how_to_set_it() {
    let cfg = only(|c| c.discord = Some(http("discord")));
    let (mut d, _rx) = Dispatcher::new(
        &cfg,
        &Secrets::default(),
        Arc::new(ManualClock::default()),
        client(),
    );
    let o = &d.dispatch(&alert(1), None)[0].1;
    assert!(
        matches!(o, Outcome::Suppressed(why) if why.contains("DEPTHWATCH_DISCORD_WEBHOOK_URL")),
        "{o:?}"
    );
    let tested = d.test_all(&alert(0)).await;
    assert!(matches!(&tested[0].1, Outcome::Failed(why) if why.contains("not configured")));
}
