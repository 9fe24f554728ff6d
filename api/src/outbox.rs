//! The delivery worker (issue 12): tells subscribers about events, reliably.
//!
//! Every instance runs one, on a thread and runtime of its own ([`Worker::start`]). It claims due
//! deliveries through the database ([`persistence::outbox::claim`]: `FOR UPDATE SKIP LOCKED` and a
//! lease), sends each as a CloudEvents 1.0 message, to a webhook signed per the Standard Webhooks
//! specification ([`signature`]) or to NATS JetStream with the event id as `Nats-Msg-Id`, and records
//! the attempt with its outcome: delivered, retried with back-off and jitter (the schedule is
//! [`domain::delivery::RetryPolicy`], on the server's injectable clock), or dead-lettered once the
//! bounded time is spent, to be replayed through the API.
//!
//! Delivery is at least once: an instance that dies between sending and recording leaves its lease
//! to lapse and the message is sent again, with the same id (`webhook-id`, the CloudEvent `id`,
//! `Nats-Msg-Id`), so the receiver, or JetStream's duplicate window, recognises it.

use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use domain::delivery::{AddressPolicy, AfterFailure, Notice};
use persistence::outbox::{Claimed, NewAttempt, Outcome};
use tokio::sync::watch;

use crate::config::DeliverySettings;
use crate::state::AppState;

/// What the routes need to know about delivery here.
#[derive(Debug, Clone)]
pub struct Config {
    /// Whether NATS subscriptions can be served (`NATS_URL` set).
    pub nats: bool,
    /// Where webhooks may go (`DELIVERY_ALLOWED_NETWORKS`).
    pub addresses: AddressPolicy,
}

/// Resolves a webhook's host and keeps only the addresses the policy allows, so that the connection
/// is made to a checked address whatever the name resolves to at that moment (DNS rebinding).
struct GuardedResolver {
    policy: AddressPolicy,
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = self.policy.clone();
        Box::pin(async move {
            let host = name.as_str().to_string();
            let resolved: Vec<std::net::SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let allowed: Vec<std::net::SocketAddr> =
                resolved.iter().copied().filter(|a| policy.refusal(a.ip()).is_none()).collect();
            if allowed.is_empty() {
                let why = resolved.first().and_then(|a| policy.refusal(a.ip())).unwrap_or("no address");
                let e = std::io::Error::new(
                    std::io::ErrorKind::PermissionDenied,
                    format!("{host} resolves to {why}, which webhooks may not reach (DELIVERY_ALLOWED_NETWORKS)"),
                );
                return Err(Box::new(e) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(allowed.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// The resolver's refusal inside a failed request, if that is why it failed.
fn refused_address(e: &reqwest::Error) -> Option<String> {
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            if io.kind() == std::io::ErrorKind::PermissionDenied {
                return Some(io.to_string());
            }
        }
        source = s.source();
    }
    None
}

/// Why `url` may not be called under `policy` by its literal host (an IP address, or `localhost`,
/// which never goes to DNS), if it may not. Names are checked when they resolve ([`GuardedResolver`]).
pub fn literal_host_refusal(url: &reqwest::Url, policy: &AddressPolicy) -> Option<&'static str> {
    let host = url.host_str()?.trim_start_matches('[').trim_end_matches(']').trim_end_matches('.').to_ascii_lowercase();
    let ip = match host.parse::<std::net::IpAddr>() {
        Ok(ip) => ip,
        Err(_) if host == "localhost" || host.ends_with(".localhost") => std::net::Ipv4Addr::LOCALHOST.into(),
        Err(_) => return None,
    };
    policy.refusal(ip)
}

/// Standard Webhooks signatures: `v1,<base64(HMAC-SHA256(key, "{id}.{timestamp}.{body}"))>` with
/// the key the base64 after `whsec_`.
pub mod signature {
    use base64::{engine::general_purpose::STANDARD, Engine};
    use hmac::{Hmac, Mac};

    type HmacSha256 = Hmac<sha2::Sha256>;

    pub const PREFIX: &str = "whsec_";

    /// A fresh secret: 24 random bytes.
    pub fn new_secret() -> String {
        let mut key = [0u8; 24];
        getrandom::fill(&mut key).expect("the operating system's random source answers");
        format!("{PREFIX}{}", STANDARD.encode(key))
    }

    /// The key of a `whsec_` secret (16 to 64 bytes), if it is one.
    pub fn key_of(secret: &str) -> Option<Vec<u8>> {
        let key = STANDARD.decode(secret.strip_prefix(PREFIX)?).ok()?;
        (16..=64).contains(&key.len()).then_some(key)
    }

    fn mac(key: &[u8], id: &str, timestamp: i64, body: &[u8]) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes keys of any length");
        mac.update(id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        mac
    }

    /// The `webhook-signature` header's value.
    pub fn sign(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> Option<String> {
        let key = key_of(secret)?;
        Some(format!("v1,{}", STANDARD.encode(mac(&key, id, timestamp, body).finalize().into_bytes())))
    }

    /// Whether `header` (space-separated `v1,<sig>` entries) holds a valid signature of the message
    /// under `secret`, compared in constant time: what a receiver checks.
    pub fn verify(secret: &str, id: &str, timestamp: i64, body: &[u8], header: &str) -> bool {
        let Some(key) = key_of(secret) else { return false };
        header
            .split(' ')
            .filter_map(|s| s.strip_prefix("v1,"))
            .any(|sig| STANDARD.decode(sig).is_ok_and(|sig| mac(&key, id, timestamp, body).verify_slice(&sig).is_ok()))
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        // The Standard Webhooks specification's own test vector.
        const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        const ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
        const TS: i64 = 1614265330;
        const BODY: &[u8] = br#"{"test": 2432232314}"#;

        #[test]
        fn signs_as_the_specification_s_test_vector() {
            assert_eq!(sign(SECRET, ID, TS, BODY).unwrap(), "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
        }

        #[test]
        fn verification_fails_for_another_secret_body_id_or_timestamp() {
            let sig = sign(SECRET, ID, TS, BODY).unwrap();
            assert!(verify(SECRET, ID, TS, BODY, &sig));
            assert!(verify(SECRET, ID, TS, BODY, &format!("v1,bm90IGl0 {sig}")), "any listed signature may match");
            let other = new_secret();
            assert!(!verify(&other, ID, TS, BODY, &sig));
            assert!(!verify(SECRET, ID, TS, br#"{"test": 2432232315}"#, &sig));
            assert!(!verify(SECRET, "msg_other", TS, BODY, &sig));
            assert!(!verify(SECRET, ID, TS + 1, BODY, &sig));
            assert!(!verify(SECRET, ID, TS, BODY, "v1,"));
            assert!(!verify("not-a-secret", ID, TS, BODY, &sig));
        }

        #[test]
        fn fresh_secrets_are_distinct_and_well_formed() {
            let (a, b) = (new_secret(), new_secret());
            assert_ne!(a, b);
            assert_eq!(key_of(&a).map(|k| k.len()), Some(24));
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Run,
    /// Finish the attempts under way, then stop.
    Stop,
    /// Stop at once, as a crash would: attempts under way are abandoned and their leases lapse.
    Kill,
}

/// The delivery worker of one instance.
pub struct Worker {
    mode: watch::Sender<Mode>,
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl Worker {
    /// A worker that does nothing (`DELIVERY_ENABLED=false`).
    pub fn disabled() -> Worker {
        Worker { mode: watch::channel(Mode::Stop).0, thread: Mutex::new(None) }
    }

    /// Starts delivering for as long as `state` lives and the worker is not stopped. `api_base` is
    /// the API's public base (`https://host/api/v1`), the messages' `source` and links.
    pub fn start(state: Weak<AppState>, settings: DeliverySettings, api_base: String) -> Worker {
        let (tx, rx) = watch::channel(Mode::Run);
        let spawned = std::thread::Builder::new().name("outbox".into()).spawn(move || {
            let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                Ok(r) => r,
                Err(e) => {
                    tracing::error!(error = %e, "cannot start the delivery worker: events wait for another instance");
                    return;
                }
            };
            runtime.block_on(run(state, settings, api_base, rx));
            // Dropping the runtime abandons whatever a kill left under way.
        });
        let thread = match spawned {
            Ok(t) => Some(t),
            Err(e) => {
                tracing::error!(error = %e, "cannot start the delivery worker: events wait for another instance");
                None
            }
        };
        Worker { mode: tx, thread: Mutex::new(thread) }
    }

    fn end(&self, mode: Mode) {
        let _ = self.mode.send(mode);
        let thread = self.thread.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(t) = thread {
            let _ = t.join();
        }
    }

    /// Stops after the attempts under way (bounded by the delivery time-out), and waits for that.
    pub fn stop(&self) {
        self.end(Mode::Stop);
    }

    /// Stops at once, as a crash would (tests of crash recovery): attempts under way are neither
    /// finished nor recorded; their leases lapse and another instance delivers them.
    pub fn kill(&self) {
        self.end(Mode::Kill);
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.mode.send(Mode::Stop);
    }
}

/// A number in [0, 1) for the back-off's jitter.
fn jitter() -> f64 {
    let mut b = [0u8; 4];
    if getrandom::fill(&mut b).is_err() {
        return 0.5;
    }
    f64::from(u32::from_le_bytes(b)) / (f64::from(u32::MAX) + 1.0)
}

async fn killed(mut rx: watch::Receiver<Mode>) {
    let _ = rx.wait_for(|m| *m == Mode::Kill).await;
}

async fn run(state: Weak<AppState>, settings: DeliverySettings, api_base: String, mut rx: watch::Receiver<Mode>) {
    let instance = format!("outbox-{}", uuid::Uuid::now_v7().simple());
    let timeout = Duration::from_millis(settings.timeout_ms);
    let http = match reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout)
        // A redirect is an answer other than 2xx: the subscription names where messages go.
        .redirect(reqwest::redirect::Policy::none())
        .dns_resolver(Arc::new(GuardedResolver { policy: settings.allowed_networks.clone() }))
        // A proxy would resolve and reach the target itself, past the resolver's check.
        .no_proxy()
        .user_agent("kz-state-services-webhooks/1")
        .build()
    {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "cannot build the webhook client: events wait for another instance");
            return;
        }
    };
    // The lease outlives an attempt's time-out with margin, so a live instance never loses one.
    let lease = chrono::Duration::milliseconds(2 * settings.timeout_ms as i64) + chrono::Duration::seconds(30);
    let mut nats: Option<async_nats::jetstream::Context> = None;
    let ctx = Ctx { http, timeout, settings, api_base, instance };
    loop {
        if *rx.borrow() != Mode::Run {
            return;
        }
        let Some(state) = state.upgrade() else { return };
        let now = state.clock.now();
        let batch = ctx.settings.batch;
        let claimed = state.db.read(|c| persistence::outbox::any_due(c, now.naive_utc())).and_then(|due| {
            if !due {
                return Ok(Vec::new());
            }
            state.db.write(|c| {
                persistence::outbox::claim(c, &ctx.instance, now.naive_utc(), (now + lease).naive_utc(), batch)
            })
        });
        let full = match claimed {
            Err(e) => {
                tracing::warn!(error = %e, "cannot claim deliveries");
                false
            }
            Ok(list) => {
                let full = list.len() as i64 >= batch;
                if nats.is_none() && list.iter().any(|c| c.subscription.transport == "nats") {
                    nats = ctx.connect_nats().await;
                }
                let work = futures_util::future::join_all(list.iter().map(|c| ctx.deliver(&state, nats.as_ref(), c)));
                tokio::select! {
                    _ = work => {}
                    _ = killed(rx.clone()) => return,
                }
                full
            }
        };
        drop(state);
        if !full {
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_millis(ctx.settings.poll_interval_ms)) => {}
                _ = rx.changed() => {}
            }
        }
    }
}

struct Ctx {
    http: reqwest::Client,
    timeout: Duration,
    settings: DeliverySettings,
    api_base: String,
    instance: String,
}

/// An attempt's result: the receiver's status (if it answered) and, for a failure, what went wrong.
type Sent = Result<Option<u16>, (Option<u16>, String)>;

impl Ctx {
    async fn connect_nats(&self) -> Option<async_nats::jetstream::Context> {
        let url = self.settings.nats_url.as_deref()?;
        match async_nats::ConnectOptions::new().connection_timeout(self.timeout).connect(url).await {
            Ok(client) => Some(async_nats::jetstream::new(client)),
            Err(e) => {
                tracing::warn!(error = %e, "cannot connect to NATS");
                None
            }
        }
    }

    async fn deliver(&self, state: &Arc<AppState>, nats: Option<&async_nats::jetstream::Context>, c: &Claimed) {
        let e = &c.event;
        let payload: serde_json::Value = serde_json::from_str(&e.payload).unwrap_or_default();
        let notice = Notice {
            event_id: e.id,
            kind: &e.kind,
            occurred_at: e.occurred_at.and_utc(),
            application_id: &e.application_id,
            registration_number: payload["registration_number"].as_str(),
            service_key: c.service_key.as_deref(),
            provider_id: &e.provider_id,
            status: payload["status"].as_str(),
            version: payload["version"].as_i64(),
        };
        let body = serde_json::to_vec(&notice.cloud_event(&self.api_base)).expect("a JSON value serialises");
        let id = e.id.to_string();
        let at = state.clock.now();
        let started = Instant::now();
        let sent = match c.subscription.transport.as_str() {
            "webhook" => self.send_webhook(&c.subscription.target, &c.subscription.secret, &id, at, body).await,
            "nats" => self.publish(nats, &c.subscription.target, &id, body).await,
            other => Err((None, format!("unknown transport `{other}`"))),
        };
        let latency_ms = started.elapsed().as_millis() as i64;
        self.record(state, c, at, latency_ms, sent);
    }

    async fn send_webhook(&self, url: &str, secret: &str, id: &str, at: DateTime<Utc>, body: Vec<u8>) -> Sent {
        let ts = at.timestamp();
        let Some(sig) = signature::sign(secret, id, ts, &body) else {
            return Err((None, "the subscription's secret is not a whsec_ key".into()));
        };
        // An address in the URL itself never reaches the resolver: checked here.
        if let Some(why) =
            reqwest::Url::parse(url).ok().and_then(|u| literal_host_refusal(&u, &self.settings.allowed_networks))
        {
            return Err((None, format!("the callback's address is {why}, which webhooks may not reach")));
        }
        let res = self
            .http
            .post(url)
            .header("content-type", "application/cloudevents+json; charset=utf-8")
            .header("webhook-id", id)
            .header("webhook-timestamp", ts.to_string())
            .header("webhook-signature", sig)
            .body(body)
            .send()
            .await;
        match res {
            Ok(r) if r.status().is_success() => Ok(Some(r.status().as_u16())),
            Ok(r) => Err((Some(r.status().as_u16()), format!("the receiver answered {}", r.status()))),
            Err(e) if e.is_timeout() => Err((None, format!("no answer within {} ms", self.settings.timeout_ms))),
            Err(e) => Err((
                None,
                match refused_address(&e) {
                    Some(refusal) => refusal,
                    None if e.is_connect() => "cannot connect to the receiver".into(),
                    None => format!("the request failed: {e}"),
                },
            )),
        }
    }

    async fn publish(
        &self,
        js: Option<&async_nats::jetstream::Context>,
        subject: &str,
        id: &str,
        body: Vec<u8>,
    ) -> Sent {
        let Some(js) = js else { return Err((None, "NATS is not reachable".into())) };
        let publish = async_nats::jetstream::context::Publish::build()
            .payload(body.into())
            .message_id(id)
            .header("Content-Type", "application/cloudevents+json");
        let sent = tokio::time::timeout(self.timeout, async {
            let ack = js.send_publish(subject.to_string(), publish).await.map_err(|e| e.to_string())?;
            ack.await.map_err(|e| e.to_string())
        })
        .await;
        match sent {
            Ok(Ok(_ack)) => Ok(None),
            Ok(Err(e)) => Err((None, format!("JetStream did not take the message: {e}"))),
            Err(_) => Err((None, format!("no acknowledgement from JetStream within {} ms", self.settings.timeout_ms))),
        }
    }

    fn record(&self, state: &AppState, c: &Claimed, at: DateTime<Utc>, latency_ms: i64, sent: Sent) {
        let d = &c.delivery;
        let window_start = d.window_start.map_or(at, |w| w.and_utc());
        let attempt = d.attempts + 1;
        let (status_code, error, outcome) = match sent {
            Ok(status) => (status, None, Outcome::Delivered),
            Err((status, error)) => {
                let now = state.clock.now();
                let failures = u32::try_from(attempt).unwrap_or(u32::MAX);
                let next = match self.settings.retry.after_failure(failures, window_start, now, jitter()) {
                    AfterFailure::RetryAt(t) => Outcome::RetryAt(t.naive_utc()),
                    AfterFailure::Dead => Outcome::Dead,
                };
                (status, Some(error.chars().take(500).collect::<String>()), next)
            }
        };
        let row = NewAttempt {
            delivery_id: d.id.clone(),
            attempt,
            at: at.naive_utc(),
            status_code: status_code.map(i64::from),
            latency_ms,
            error,
            outcome: match outcome {
                Outcome::Delivered => "delivered",
                Outcome::RetryAt(_) => "failed",
                Outcome::Dead => "dead",
            }
            .into(),
            instance: self.instance.clone(),
        };
        match state.db.write(|conn| persistence::outbox::record_attempt(conn, &row, window_start.naive_utc(), outcome))
        {
            Ok(true) => {}
            Ok(false) => {
                tracing::info!(delivery = %d.id, "the delivery is no longer this instance's (its lease lapsed, or the subscription ended)")
            }
            Err(e) => {
                tracing::warn!(delivery = %d.id, error = %e, "cannot record a delivery attempt; it is retried when the lease lapses")
            }
        }
    }
}

#[cfg(test)]
mod address_tests {
    use std::str::FromStr;

    use reqwest::dns::Resolve;

    use super::*;

    fn refused(url: &str, policy: &AddressPolicy) -> Option<&'static str> {
        literal_host_refusal(&reqwest::Url::parse(url).unwrap(), policy)
    }

    #[test]
    fn literal_hosts_are_checked_without_dns() {
        let public = AddressPolicy::public_only();
        assert!(refused("http://127.0.0.1:9/h", &public).is_some());
        assert!(refused("http://LOCALHOST./h", &public).is_some());
        assert!(refused("http://a.localhost/h", &public).is_some());
        assert!(refused("http://[fe80::1]/h", &public).is_some());
        assert_eq!(refused("https://91.201.214.1/h", &public), None);
        // A name is left to the resolver.
        assert_eq!(refused("https://hooks.example.kz/h", &public), None);
        let local = AddressPolicy::parse("127.0.0.0/8").unwrap();
        assert_eq!(refused("http://localhost:9/h", &local), None);
    }

    #[tokio::test]
    async fn a_name_resolving_to_a_refused_address_is_not_connected_to() {
        // `localhost` resolves through the hosts file, with no DNS server needed.
        let name = reqwest::dns::Name::from_str("localhost").unwrap();
        let strict = GuardedResolver { policy: AddressPolicy::public_only() };
        let err = strict.resolve(name).await.err().expect("loopback is refused");
        assert!(err.to_string().contains("loopback"), "{err}");
        let name = reqwest::dns::Name::from_str("localhost").unwrap();
        let allowing = GuardedResolver { policy: AddressPolicy::parse("127.0.0.0/8,::1").unwrap() };
        let addrs: Vec<_> = allowing.resolve(name).await.expect("allowed").collect();
        assert!(!addrs.is_empty() && addrs.iter().all(|a| a.ip().is_loopback()), "{addrs:?}");
    }
}
