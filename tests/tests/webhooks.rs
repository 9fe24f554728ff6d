//! Integrators are told, not made to poll (issue 12): subscriptions, signed webhooks retried with
//! back-off and dead-lettered, deliveries that survive a crash, NATS JetStream, service accounts.
//!
//! The receiver is an HTTP server started by each test on a random port, answering as the test
//! scripts it. Retries are driven by the pinned clock: the test moves it past the back-off, never
//! sleeps it out.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use api::auth::Role;
use api::config::Settings;
use api::outbox::signature;
use e2e::{form_for, monday_morning, Backend, TestApp};
use serde_json::{json, Value};

const APPLICANT: &str = "900101300116";
const SERVICE: &str = "free_school_meals";

/// One message as the receiver got it.
#[derive(Debug, Clone)]
struct Received {
    id: String,
    timestamp: i64,
    signature: String,
    content_type: String,
    body: Vec<u8>,
}

impl Received {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

#[derive(Debug, Clone, Copy)]
enum Answer {
    Status(u16),
    /// Never answers (within any time-out a test configures).
    Hang,
}

#[derive(Default)]
struct Script {
    got: Mutex<Vec<Received>>,
    next: Mutex<VecDeque<Answer>>,
    /// When the script is used up.
    then: Mutex<Option<Answer>>,
}

struct Receiver {
    url: String,
    script: Arc<Script>,
}

impl Receiver {
    async fn start(answers: &[Answer], then: Answer) -> Receiver {
        let script = Arc::new(Script {
            got: Mutex::new(Vec::new()),
            next: Mutex::new(answers.iter().copied().collect()),
            then: Mutex::new(Some(then)),
        });
        let data = web::Data::from(script.clone());
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = HttpServer::new(move || App::new().app_data(data.clone()).route("/hook", web::post().to(hook)))
            .workers(1)
            .listen(listener)
            .unwrap()
            .run();
        tokio::spawn(server);
        Receiver { url: format!("http://127.0.0.1:{port}/hook"), script }
    }

    fn got(&self) -> Vec<Received> {
        self.script.got.lock().unwrap().clone()
    }

    fn answer_from_now(&self, a: Answer) {
        *self.script.then.lock().unwrap() = Some(a);
    }

    /// Waits (bounded) until at least `n` messages arrived.
    async fn wait_for(&self, n: usize) -> Vec<Received> {
        let started = Instant::now();
        loop {
            let got = self.got();
            if got.len() >= n {
                return got;
            }
            assert!(started.elapsed() < Duration::from_secs(15), "only {} of {n} messages arrived", got.len());
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

async fn hook(req: HttpRequest, body: web::Bytes, script: web::Data<Script>) -> HttpResponse {
    let h = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    script.got.lock().unwrap().push(Received {
        id: h("webhook-id"),
        timestamp: h("webhook-timestamp").parse().unwrap_or(0),
        signature: h("webhook-signature"),
        content_type: h("content-type"),
        body: body.to_vec(),
    });
    let answer =
        script.next.lock().unwrap().pop_front().or(*script.then.lock().unwrap()).unwrap_or(Answer::Status(200));
    match answer {
        Answer::Status(s) => HttpResponse::build(actix_web::http::StatusCode::from_u16(s).unwrap()).finish(),
        Answer::Hang => {
            tokio::time::sleep(Duration::from_secs(60)).await;
            HttpResponse::Ok().finish()
        }
    }
}

/// Fast delivery for tests: polled every 50 ms, 300 ms to answer, 5 s then 30 s back-off, dead after
/// 20 s of retrying (on the pinned clock).
fn fast(s: &mut Settings) {
    s.delivery.poll_interval_ms = 50;
    s.delivery.timeout_ms = 300;
    s.delivery.retry = domain::delivery::RetryPolicy {
        first_delay: chrono::Duration::seconds(5),
        factor: 6,
        max_delay: chrono::Duration::hours(6),
        give_up_after: chrono::Duration::seconds(20),
    };
}

async fn spawn(backend: Backend, tweak: impl Fn(&mut Settings)) -> Option<TestApp> {
    TestApp::spawn_with(backend, monday_morning(), tweak).await
}

/// Runs a scenario on SQLite and, where it answers, PostgreSQL.
macro_rules! both {
    ($name:ident, $body:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$body(e2e::Backend::Sqlite).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$body(e2e::Backend::Postgres).await;
            }
        }
    };
}

async fn subscribe(app: &TestApp, token: &str, body: Value) -> Value {
    let (s, sub) = app.post("/api/v1/subscriptions", Some(token), &body, None).await;
    assert_eq!(s, 201, "{sub}");
    sub
}

async fn file_application(app: &TestApp) -> Value {
    let t = app.applicant(APPLICANT);
    let body = json!({"service_key": SERVICE, "channel": "portal", "provider_id": "astana-education",
        "form": form_for(SERVICE, chrono::NaiveDate::from_ymd_opt(2026, 11, 23).unwrap(), APPLICANT)});
    let (s, a) = app.post("/api/v1/applications", Some(&t), &body, None).await;
    assert_eq!(s, 201, "{a}");
    a
}

async fn deliveries(app: &TestApp, token: &str, sub: &Value, query: &str) -> Vec<Value> {
    let (s, page) =
        app.get(&format!("/api/v1/subscriptions/{}/deliveries{query}", sub["id"].as_str().unwrap()), Some(token)).await;
    assert_eq!(s, 200, "{page}");
    page["items"].as_array().unwrap().clone()
}

/// Asks for the subscription's deliveries until `done` holds of them (bounded).
async fn until(app: &TestApp, token: &str, sub: &Value, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    let started = Instant::now();
    loop {
        let items = deliveries(app, token, sub, "").await;
        if done(&items) {
            return items;
        }
        assert!(started.elapsed() < Duration::from_secs(15), "deliveries still {items:#?}");
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
}

fn assert_signed(r: &Received, secret: &str) {
    assert!(signature::verify(secret, &r.id, r.timestamp, &r.body, &r.signature), "a valid signature: {r:?}");
    let wrong = signature::new_secret();
    assert!(!signature::verify(&wrong, &r.id, r.timestamp, &r.body, &r.signature), "another secret fails");
    let mut tampered = r.body.clone();
    tampered.extend_from_slice(b" ");
    assert!(!signature::verify(secret, &r.id, r.timestamp, &tampered, &r.signature), "another body fails");
}

fn assert_no_personal_data(r: &Received) {
    let text = String::from_utf8(r.body.clone()).unwrap();
    assert!(!text.contains(APPLICANT), "no IIN in {text}");
    let form = form_for(SERVICE, chrono::NaiveDate::from_ymd_opt(2026, 11, 23).unwrap(), APPLICANT);
    for name in ["last_name", "first_name", "middle_name"] {
        if let Some(v) = form.pointer(&format!("/applicant/{name}")).and_then(Value::as_str) {
            assert!(!text.contains(v), "no name ({v}) in {text}");
        }
    }
    assert!(!text.contains("\"form\""), "no form data in {text}");
    let data = r.json()["data"].clone();
    let mut keys: Vec<String> = data.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "application_id",
            "event_id",
            "kind",
            "provider_id",
            "registration_number",
            "service_key",
            "status",
            "url",
            "version"
        ]
    );
}

async fn refused_then_delivered_once(backend: Backend) {
    let Some(app) = spawn(backend, fast).await else { return };
    let rx = Receiver::start(&[Answer::Status(500)], Answer::Status(200)).await;
    let admin = app.token(Role::Admin, "admin-1", None);
    let sub =
        subscribe(&app, &admin, json!({"callback_url": rx.url, "filter": {"kinds": ["application.submit"]}})).await;
    let secret = sub["secret"].as_str().unwrap().to_string();
    assert!(secret.starts_with("whsec_"));
    let (_, read) = app.get(&format!("/api/v1/subscriptions/{}", sub["id"].as_str().unwrap()), Some(&admin)).await;
    assert_eq!(read["secret"], Value::Null, "the secret is shown once, on creation");

    let a = file_application(&app).await;
    let first = rx.wait_for(1).await;
    let items = until(&app, &admin, &sub, |d| d.first().is_some_and(|d| d["attempts"] == 1)).await;
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["state"], "pending");
    assert_eq!(items[0]["last_status"], 500);
    assert_eq!(items[0]["attempt_log"][0]["outcome"], "failed");
    // Retried after 4 to 6 seconds (5 s with 20 % jitter), not before.
    let next: chrono::DateTime<chrono::Utc> = items[0]["next_attempt_at"].as_str().unwrap().parse().unwrap();
    let wait = next - monday_morning();
    assert!(wait >= chrono::Duration::seconds(4) && wait <= chrono::Duration::seconds(6), "{wait}");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(rx.got().len(), 1, "no retry before the back-off is over");

    app.clock.advance(chrono::Duration::seconds(7));
    let got = rx.wait_for(2).await;
    let items = until(&app, &admin, &sub, |d| d.first().is_some_and(|d| d["state"] == "delivered")).await;
    assert_eq!(items[0]["attempts"], 2);
    let log = items[0]["attempt_log"].as_array().unwrap();
    assert_eq!((log[0]["status_code"].clone(), log[1]["status_code"].clone()), (json!(500), json!(200)));
    assert_eq!(log[1]["outcome"], "delivered");

    // The same message both times: one id (the event's), each attempt signed afresh.
    assert_eq!(first[0].id, got[1].id);
    let event_id = items[0]["event_id"].as_i64().unwrap();
    assert_eq!(got[1].id, event_id.to_string());
    for r in &got {
        assert_signed(r, &secret);
        assert_no_personal_data(r);
        assert!(r.content_type.starts_with("application/cloudevents+json"), "{}", r.content_type);
    }
    let ce = got[1].json();
    assert_eq!(ce["specversion"], "1.0");
    assert_eq!(ce["id"], event_id.to_string());
    assert_eq!(ce["type"], "kz.gov.family.application.submit");
    assert_eq!(ce["data"]["application_id"], a["id"]);
    assert_eq!(ce["data"]["registration_number"], a["registration_number"]);
    assert_eq!(ce["data"]["service_key"], SERVICE);
    assert_eq!(ce["data"]["provider_id"], "astana-education");
    assert_eq!(ce["data"]["status"], "submitted");
    assert_eq!(ce["data"]["url"], format!("{}/api/v1/applications/{}", app.base, a["id"].as_str().unwrap()));
    assert_eq!(got[1].timestamp, (monday_morning() + chrono::Duration::seconds(7)).timestamp());

    // Delivered once: nothing more comes, however long the worker runs.
    app.clock.advance(chrono::Duration::hours(2));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(rx.got().len(), 2);

    // Kept for the retention period (DELIVERY_RETENTION_DAYS, 30 by default), then pruned with its
    // attempt log (what the instance's pruning thread does once a minute, called here at moments
    // of the test's choosing).
    let delivered_at = monday_morning() + chrono::Duration::seconds(7);
    let prune = |days: i64| {
        let before = (delivered_at + chrono::Duration::days(days)).naive_utc();
        app.database().write(|c| persistence::outbox::prune(c, before, 100)).unwrap()
    };
    assert_eq!(prune(-1), 0, "delivered after that moment");
    assert_eq!(deliveries(&app, &admin, &sub, "").await.len(), 1);
    assert_eq!(prune(1), 1);
    assert!(deliveries(&app, &admin, &sub, "").await.is_empty(), "pruned");
}
both!(a_message_refused_with_500_is_retried_and_delivered_once, refused_then_delivered_once);

async fn dead_lettered_then_replayed(backend: Backend) {
    let Some(app) = spawn(backend, fast).await else { return };
    let rx = Receiver::start(&[], Answer::Hang).await;
    let admin = app.token(Role::Admin, "admin-1", None);
    let sub =
        subscribe(&app, &admin, json!({"callback_url": rx.url, "filter": {"kinds": ["application.submit"]}})).await;
    file_application(&app).await;
    until(&app, &admin, &sub, |d| d.first().is_some_and(|d| d["attempts"] == 1)).await;
    app.clock.advance(chrono::Duration::seconds(10));
    // The second failure would wait 30 s more: past the 20 s the policy retries for.
    let items = until(&app, &admin, &sub, |d| d.first().is_some_and(|d| d["state"] == "dead")).await;
    assert_eq!(items[0]["attempts"], 2);
    let log = items[0]["attempt_log"].as_array().unwrap();
    assert_eq!(log[1]["outcome"], "dead");
    assert_eq!(log[1]["status_code"], Value::Null);
    assert!(log[1]["error"].as_str().unwrap().contains("no answer within 300 ms"), "{log:?}");
    assert!(log[1]["latency_ms"].as_i64().unwrap() >= 250);
    let dead = deliveries(&app, &admin, &sub, "?state=dead").await;
    assert_eq!(dead.len(), 1, "listed among the dead letters");
    // Dead letters are never pruned: they wait for the operator.
    let far = (monday_morning() + chrono::Duration::days(3650)).naive_utc();
    assert_eq!(app.database().write(|c| persistence::outbox::prune(c, far, 100)).unwrap(), 0);
    assert!(deliveries(&app, &admin, &sub, "?state=pending").await.is_empty());

    // Nothing more is tried, however long one waits...
    app.clock.advance(chrono::Duration::days(2));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(rx.got().len(), 2);

    // ... until it is replayed: the same message, in a new retry window.
    rx.answer_from_now(Answer::Status(204));
    let path = format!(
        "/api/v1/subscriptions/{}/deliveries/{}/replay",
        sub["id"].as_str().unwrap(),
        dead[0]["id"].as_str().unwrap()
    );
    let (s, d) = app.post(&path, Some(&admin), &json!({}), None).await;
    assert_eq!(s, 202, "{d}");
    assert_eq!(d["state"], "pending");
    let got = rx.wait_for(3).await;
    let items = until(&app, &admin, &sub, |d| d.first().is_some_and(|d| d["state"] == "delivered")).await;
    assert_eq!(items[0]["attempts"], 3);
    assert_eq!(got[2].id, got[0].id, "a replay keeps the message's id");
    assert_eq!(got[2].id, items[0]["event_id"].as_i64().unwrap().to_string());
    // A pending delivery is not replayed twice at once.
    let (s, _) = app.post(&path, Some(&admin), &json!({}), None).await;
    assert_eq!(s, 202, "a delivered message may be sent again");
    let (s, p) = app.post(&path, Some(&admin), &json!({}), None).await;
    assert_eq!(s, 409, "{p}");
}
both!(a_receiver_that_never_answers_is_dead_lettered_and_replayed, dead_lettered_then_replayed);

async fn killed_mid_delivery(backend: Backend) {
    // A time-out long enough that the first instance is killed while it waits for the answer.
    let slow = |s: &mut Settings| {
        fast(s);
        s.delivery.timeout_ms = 5_000;
    };
    let Some(first) = spawn(backend, slow).await else { return };
    let rx = Receiver::start(&[Answer::Hang], Answer::Status(200)).await;
    let admin = first.token(Role::Admin, "admin-1", None);
    let sub = subscribe(&first, &admin, json!({"callback_url": rx.url})).await;
    let a = file_application(&first).await;
    let during = rx.wait_for(1).await;
    first.kill().await;

    let second = first.restarted_with(slow);
    // The killed instance's lease (2 x 5 s + 30 s) still runs: nobody else sends it yet.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(rx.got().len(), 1);
    second.clock.advance(chrono::Duration::seconds(41));
    let got = rx.wait_for(2).await;
    let items = until(&second, &admin, &sub, |d| d.first().is_some_and(|d| d["state"] == "delivered")).await;
    assert_eq!(items.len(), 1, "one delivery for the one event: {items:?}");
    // The killed attempt was never recorded; the one after the restart is.
    assert_eq!(items[0]["attempts"], 1);
    assert_eq!(got[1].id, during[0].id, "at least once, with the same event id");
    assert_eq!(got[1].json()["data"]["application_id"], a["id"]);
    assert_signed(&got[1], sub["secret"].as_str().unwrap());
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(rx.got().len(), 2, "and not again");
}
both!(a_delivery_interrupted_by_a_crash_is_made_after_the_restart, killed_mid_delivery);

/// Every change of an application reaches the subscriber, each once, in two instances sharing the
/// work, with none of its personal data.
async fn every_event_of_a_procedure(backend: Backend) {
    let Some(app) = spawn(backend, fast).await else { return };
    let rx = Receiver::start(&[], Answer::Status(200)).await;
    let admin = app.token(Role::Admin, "admin-1", None);
    let sub = subscribe(&app, &admin, json!({"callback_url": rx.url, "filter": {"service_keys": [SERVICE]}})).await;
    let mut ids = Vec::new();
    for _ in 0..3 {
        let a = file_application(&app).await;
        let id = a["id"].as_str().unwrap().to_string();
        let emp = app.token(Role::Employee, "emp-1", Some("astana-education"));
        let (s, b) = app.post(&format!("/api/v1/applications/{id}/accept"), Some(&emp), &json!({}), None).await;
        assert_eq!(s, 200, "{b}");
        ids.push(id);
    }
    // A second instance shares the work from now on (started after the filings: SQLite serialises the
    // writes of one process only, and two processes' interleaved transactions may be refused as busy).
    let other = app.restarted_with(fast);
    let (_, feed) = app.get("/api/v1/events?limit=500", Some(&admin)).await;
    let events: Vec<String> = feed["items"].as_array().unwrap().iter().map(|e| e["id"].to_string()).collect();
    assert_eq!(events.len(), 6);
    let got = rx.wait_for(6).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let got_now = rx.got();
    assert_eq!(got_now.len(), 6, "each event once: {:?}", got_now.iter().map(|r| &r.id).collect::<Vec<_>>());
    let mut seen: Vec<String> = got.iter().map(|r| r.id.clone()).collect();
    seen.sort();
    let mut want = events.clone();
    want.sort();
    assert_eq!(seen, want);
    for r in &got {
        assert_signed(r, sub["secret"].as_str().unwrap());
        assert_no_personal_data(r);
    }
    drop(other);
}
both!(every_event_reaches_the_subscriber_once_from_two_instances, every_event_of_a_procedure);

async fn service_accounts(backend: Backend) {
    let Some(app) = spawn(backend, fast).await else { return };
    let rx = Receiver::start(&[], Answer::Status(200)).await;
    let a = file_application(&app).await;
    let id = a["id"].as_str().unwrap();
    let hook = json!({"callback_url": rx.url, "filter": {"service_keys": [SERVICE]}});

    let reader = app.service_account("monitoring-system", &["events:read:*"]);
    let (s, p) = app.post("/api/v1/subscriptions", Some(&reader), &hook, None).await;
    assert_eq!(s, 403, "{p}");
    assert!(p["detail"].as_str().unwrap().contains("subscriptions:manage"), "{p}");

    let narrow = app.service_account("registry-x", &["subscriptions:manage", "events:read:preschool_queue"]);
    let (s, p) = app.post("/api/v1/subscriptions", Some(&narrow), &hook, None).await;
    assert_eq!(s, 403, "{p}");
    assert!(p["detail"].as_str().unwrap().contains(&format!("events:read:{SERVICE}")), "{p}");

    let gov = app.service_account("monitoring-system", &["subscriptions:manage", &format!("events:read:{SERVICE}")]);
    let sub = subscribe(&app, &gov, hook.clone()).await;
    assert_eq!(sub["owner"], "monitoring-system");
    let (s, list) = app.get("/api/v1/subscriptions", Some(&gov)).await;
    assert_eq!((s, list.as_array().unwrap().len()), (200, 1));
    let (_, list) = app.get("/api/v1/subscriptions", Some(&narrow)).await;
    assert_eq!(list.as_array().unwrap().len(), 0, "a service account sees its own subscriptions only");
    let (s, _) = app.get(&format!("/api/v1/subscriptions/{}", sub["id"].as_str().unwrap()), Some(&narrow)).await;
    assert_eq!(s, 404);

    // Reading the application needs its service's scope.
    let (s, p) = app.get(&format!("/api/v1/applications/{id}"), Some(&gov)).await;
    assert_eq!(s, 403, "{p}");
    assert!(p["detail"].as_str().unwrap().contains(&format!("applications:read:{SERVICE}")), "{p}");
    let with_read = app.service_account("monitoring-system", &[&format!("applications:read:{SERVICE}")]);
    let (s, read) = app.get(&format!("/api/v1/applications/{id}"), Some(&with_read)).await;
    assert_eq!(s, 200, "{read}");
    let (s, _) = app.get("/api/v1/events", Some(&with_read)).await;
    assert_eq!(s, 403, "the feed needs events:read");
    let (s, feed) = app.get("/api/v1/events", Some(&gov)).await;
    assert_eq!(s, 200);
    assert_eq!(feed["items"].as_array().unwrap().len(), 1);
    // A service account takes no step in the procedure, whatever its scopes.
    let all = app.service_account("rogue", &["applications:read:*", "applications:accept:*", "subscriptions:manage"]);
    let (s, p) = app.post(&format!("/api/v1/applications/{id}/accept"), Some(&all), &json!({}), None).await;
    assert_eq!(s, 403, "{p}");

    // Deleting ends it: later events are not delivered to it.
    let res = app
        .client
        .delete(app.url(&format!("/api/v1/subscriptions/{}", sub["id"].as_str().unwrap())))
        .bearer_auth(&gov)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 204);
    file_application(&app).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(rx.got().is_empty(), "subscribed after the first event, deleted before the second");
}
both!(service_accounts_are_held_to_their_scopes, service_accounts);

async fn invalid_subscriptions(backend: Backend) {
    let Some(app) = spawn(backend, fast).await else { return };
    let admin = app.token(Role::Admin, "admin-1", None);
    let cases = [
        (json!({"callback_url": "https://user:pw@example.kz/hook"}), "callback_url", "no_credentials"),
        (json!({"callback_url": "ftp://example.kz/hook"}), "callback_url", "url"),
        (json!({"callback_url": "not a url"}), "callback_url", "url"),
        (json!({}), "callback_url", "one_of"),
        (json!({"nats_subject": "kz.events.*"}), "nats_subject", "subject"),
        (json!({"nats_subject": "kz.events"}), "nats_subject", "nats_not_configured"),
        (json!({"callback_url": "https://example.kz/h", "secret": "hunter2"}), "secret", "format"),
        (
            json!({"callback_url": "https://example.kz/h", "filter": {"service_keys": ["no_such"]}}),
            "filter.service_keys[0]",
            "unknown_service",
        ),
    ];
    for (body, field, rule) in cases {
        let (s, p) = app.post("/api/v1/subscriptions", Some(&admin), &body, None).await;
        assert_eq!(s, 422, "{body}: {p}");
        assert!(
            p["errors"].as_array().unwrap().iter().any(|e| e["field"] == field && e["rule"] == rule),
            "{body}: want {field}/{rule} in {p}"
        );
    }
    let emp = app.token(Role::Employee, "emp-1", Some("astana-education"));
    let (s, _) =
        app.post("/api/v1/subscriptions", Some(&emp), &json!({"callback_url": "https://example.kz/h"}), None).await;
    assert_eq!(s, 403);
}
both!(invalid_subscriptions_are_refused_naming_field_and_rule, invalid_subscriptions);

/// Webhooks go to public addresses and the networks the operator allows: with the default policy a
/// subscription to loopback, a private network or the cloud metadata address is refused, and one
/// stored while loopback was allowed is not called once it no longer is (server-side request forgery).
async fn forbidden_addresses(backend: Backend) {
    let public_only = |s: &mut Settings| {
        fast(s);
        s.delivery.allowed_networks = domain::delivery::AddressPolicy::public_only();
    };
    let Some(app) = spawn(backend, fast).await else { return };
    let admin = app.token(Role::Admin, "admin-1", None);
    let rx = Receiver::start(&[], Answer::Status(200)).await;
    let sub =
        subscribe(&app, &admin, json!({"callback_url": rx.url, "filter": {"kinds": ["application.submit"]}})).await;
    app.kill().await;

    let strict = app.restarted_with(public_only);
    for url in [
        rx.url.as_str(),
        "http://localhost:8080/hook",
        "http://10.0.0.5/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]:8080/hook",
        "http://[::ffff:192.168.1.1]/hook",
        "http://0.0.0.0:5432/",
    ] {
        let (s, p) = strict.post("/api/v1/subscriptions", Some(&admin), &json!({"callback_url": url}), None).await;
        assert_eq!(s, 422, "{url}: {p}");
        assert_eq!(
            (p["errors"][0]["field"].as_str(), p["errors"][0]["rule"].as_str()),
            (Some("callback_url"), Some("address_not_allowed")),
            "{url}: {p}"
        );
    }
    // A public address is taken (nothing is sent to it here: no event matches its filter).
    subscribe(&strict, &admin, json!({"callback_url": "https://91.201.214.1/hook", "filter": {"kinds": ["no.such"]}}))
        .await;

    file_application(&strict).await;
    let items = until(&strict, &admin, &sub, |d| d.first().is_some_and(|d| d["attempts"].as_i64() >= Some(1))).await;
    assert_eq!(items[0]["state"], "pending", "retried, as any failed attempt: {items:?}");
    assert!(items[0]["last_error"].as_str().unwrap().contains("may not reach"), "{items:?}");
    assert!(rx.got().is_empty(), "the loopback receiver was never called");
}
both!(webhooks_never_go_to_addresses_the_server_may_not_call, forbidden_addresses);

/// Whether the local NATS server answers; says so when it does not.
fn nats_here() -> bool {
    let up =
        std::net::TcpStream::connect_timeout(&"127.0.0.1:4222".parse().unwrap(), Duration::from_millis(300)).is_ok();
    if !up {
        eprintln!("\nNOTE: no NATS at 127.0.0.1:4222: the JetStream delivery test is SKIPPED.\n");
    }
    up
}

async fn nats_delivery(backend: Backend) {
    if !nats_here() {
        return;
    }
    let with_nats = |s: &mut Settings| {
        fast(s);
        s.delivery.nats_url = Some("nats://127.0.0.1:4222".into());
    };
    let Some(app) = spawn(backend, with_nats).await else { return };
    let token = uuid::Uuid::new_v4().simple().to_string();
    let subject = format!("kz.test.{token}");
    let client = async_nats::connect("127.0.0.1:4222").await.unwrap();
    let js = async_nats::jetstream::new(client);
    let mut stream = js
        .get_or_create_stream(async_nats::jetstream::stream::Config {
            name: format!("KZ_TEST_{token}"),
            subjects: vec![subject.clone()],
            duplicate_window: Duration::from_secs(120),
            max_age: Duration::from_secs(600),
            ..Default::default()
        })
        .await
        .unwrap();

    let admin = app.token(Role::Admin, "admin-1", None);
    let sub =
        subscribe(&app, &admin, json!({"nats_subject": subject, "filter": {"kinds": ["application.submit"]}})).await;
    assert_eq!(sub["secret"], Value::Null, "NATS messages are not signed with a webhook secret");
    let a = file_application(&app).await;
    let items = until(&app, &admin, &sub, |d| d.first().is_some_and(|d| d["state"] == "delivered")).await;
    let event_id = items[0]["event_id"].as_i64().unwrap();
    let msg = stream.get_last_raw_message_by_subject(&subject).await.unwrap();
    let headers = msg.headers;
    assert_eq!(
        headers.get(async_nats::header::NATS_MESSAGE_ID).map(|v| v.as_str().to_string()),
        Some(event_id.to_string())
    );
    let ce: Value = serde_json::from_slice(&msg.payload).unwrap();
    assert_eq!(ce["id"], event_id.to_string());
    assert_eq!(ce["data"]["application_id"], a["id"]);
    assert!(!String::from_utf8_lossy(&msg.payload).contains(APPLICANT));

    // A redelivery (here: a replay) carries the same Nats-Msg-Id; JetStream's duplicate window drops it.
    let path = format!(
        "/api/v1/subscriptions/{}/deliveries/{}/replay",
        sub["id"].as_str().unwrap(),
        items[0]["id"].as_str().unwrap()
    );
    let (s, d) = app.post(&path, Some(&admin), &json!({}), None).await;
    assert_eq!(s, 202, "{d}");
    until(&app, &admin, &sub, |d| d.first().is_some_and(|d| d["state"] == "delivered" && d["attempts"] == 2)).await;
    assert_eq!(stream.info().await.unwrap().state.messages, 1, "one message in the stream");
    js.delete_stream(format!("KZ_TEST_{token}")).await.unwrap();
}
both!(events_are_published_to_jetstream_with_the_event_id_as_message_id, nats_delivery);
