//! Outgoing webhooks against a real receiver: an axum server on 127.0.0.1:0 that records every
//! request and answers from a script. Signatures are checked with the Standard Webhooks
//! reference library (`standardwebhooks`).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode as AxumStatus};
use kanri::clock::now_ms;
use kanri::domain::KeyKind;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{SignedIn, TestApp, expect_error, read};

const DAY_MS: i64 = 24 * 3_600_000;

#[derive(Clone, Default)]
struct Receiver {
    seen: Arc<Mutex<Vec<(HeaderMap, Bytes)>>>,
    /// Statuses to answer, in order; 200 once it runs out.
    script: Arc<Mutex<VecDeque<u16>>>,
    reply: Arc<String>,
    /// A `Location` header to answer with.
    location: Arc<Mutex<Option<String>>>,
}

impl Receiver {
    /// Starts a receiver; returns it and its URL.
    async fn start(script: &[u16], reply: &str) -> (Self, String) {
        let receiver = Self {
            script: Arc::new(Mutex::new(script.iter().copied().collect())),
            reply: Arc::new(reply.to_string()),
            ..Self::default()
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let app = axum::Router::new()
            .fallback(record)
            .with_state(receiver.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (receiver, format!("http://127.0.0.1:{port}/hooks"))
    }

    fn requests(&self) -> Vec<(HeaderMap, Bytes)> {
        self.seen.lock().unwrap().clone()
    }
}

async fn record(
    State(r): State<Receiver>,
    headers: HeaderMap,
    body: Bytes,
) -> (AxumStatus, HeaderMap, String) {
    r.seen.lock().unwrap().push((headers, body));
    let status = r.script.lock().unwrap().pop_front().unwrap_or(200);
    let mut answer = HeaderMap::new();
    if let Some(location) = r.location.lock().unwrap().as_deref() {
        answer.insert("location", HeaderValue::from_str(location).unwrap());
    }
    (
        AxumStatus::from_u16(status).unwrap(),
        answer,
        r.reply.to_string(),
    )
}

/// Loopback allowed (the receiver), a one-second retry schedule, and a signing key so
/// Postgres runs can encrypt secrets too.
fn configured(schedule: &[u64]) -> impl FnOnce(&mut kanri::Config) {
    let schedule: Vec<Duration> = schedule.iter().map(|s| Duration::from_secs(*s)).collect();
    move |c| {
        c.webhooks.allowed_cidrs = vec!["127.0.0.0/8".parse().unwrap()];
        c.webhooks.retry_schedule = schedule;
        c.storage.signing_key = Some(kanri::config::Secret::new("k".repeat(48)));
    }
}

struct Setup {
    owner: SignedIn,
    ws: String,
    project: String,
}

async fn setup(app: &TestApp) -> Setup {
    let owner = app.register("owner@example.com").await;
    let ws = app.create_workspace(&owner.token, "Acme").await;
    let project = app
        .create_project(&owner.token, &ws, json!({"name": "Launch"}))
        .await;
    Setup { owner, ws, project }
}

/// Creates an endpoint; returns its id and secret.
async fn create_endpoint(app: &TestApp, s: &Setup, url: &str, events: &[&str]) -> (String, String) {
    let (status, body) = app
        .call(
            Method::POST,
            &format!("/v1/workspaces/{}/webhooks", s.ws),
            &s.owner.token,
            Some(json!({"url": url, "events": events, "description": "CI"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let secret = body["data"]["secret"].as_str().unwrap().to_string();
    assert!(secret.starts_with("whsec_"), "{secret}");
    (body["data"]["id"].as_str().unwrap().to_string(), secret)
}

async fn deliveries(app: &TestApp, s: &Setup, endpoint: &str) -> Vec<Value> {
    let (status, body) = app
        .call(
            Method::GET,
            &format!("/v1/webhooks/{endpoint}/deliveries"),
            &s.owner.token,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["data"]["items"].as_array().unwrap().clone()
}

/// Verifies one request with the reference library, once per signature in its header.
fn verify_each_signature(secret: &str, headers: &HeaderMap, body: &[u8]) -> usize {
    let wh = standardwebhooks::Webhook::new(secret).unwrap();
    let header = headers["webhook-signature"].to_str().unwrap().to_string();
    let mut verified = 0;
    for signature in header.split(' ') {
        let mut one = headers.clone();
        one.insert(
            "webhook-signature",
            HeaderValue::from_str(signature).unwrap(),
        );
        if wh.verify(body, &one).is_ok() {
            verified += 1;
        }
    }
    verified
}

#[tokio::test]
async fn endpoints_are_managed_by_owners_and_admins_and_validated() {
    let app = TestApp::spawn_with(configured(&[1])).await;
    let s = setup(&app).await;
    let path = format!("/v1/workspaces/{}/webhooks", s.ws);
    let post = |body: Value| {
        app.as_user(Method::POST, &path, &s.owner.token)
            .json(&body)
            .send()
    };

    // Validation: every bad field at once, with 422.
    let body = expect_error(
        post(json!({"url": "ftp://example.com", "events": ["task.exploded"]}))
            .await
            .unwrap(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    let text = body.to_string();
    assert!(text.contains("url") && text.contains("events"), "{body}");
    for url in [
        "https://user:pw@example.com/",
        "http://10.0.0.1/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::ffff:10.0.0.1]/",
        "http://[fd00::1]/",
        "http://100.64.0.1/",
    ] {
        let body = expect_error(
            post(json!({"url": url, "events": ["*"]})).await.unwrap(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
        assert!(body.to_string().contains("url"), "{url}: {body}");
    }
    for events in [
        json!([]),
        json!(["tasks.*"]),
        json!(["task.created", "nope"]),
    ] {
        expect_error(
            post(json!({"url": "https://example.com/h", "events": events}))
                .await
                .unwrap(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
    }

    // Create, read (no secret), list, update, delete.
    let (id, _) = create_endpoint(
        &app,
        &s,
        "https://example.com/hook",
        &["task.*", "task.created"],
    )
    .await;
    let (status, got) = app
        .call(
            Method::GET,
            &format!("/v1/webhooks/{id}"),
            &s.owner.token,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{got}");
    assert!(got["data"].get("secret").is_none(), "{got}");
    assert_eq!(got["data"]["events"], json!(["task.*", "task.created"]));
    assert_eq!(got["data"]["enabled"], true);
    let (_, list) = app.call(Method::GET, &path, &s.owner.token, None).await;
    assert_eq!(list["data"]["items"].as_array().unwrap().len(), 1);
    let (status, patched) = app
        .call(
            Method::PATCH,
            &format!("/v1/webhooks/{id}"),
            &s.owner.token,
            Some(json!({"events": ["*"], "enabled": false, "description": "all"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{patched}");
    assert_eq!(patched["data"]["events"], json!(["*"]));
    assert_eq!(patched["data"]["enabled"], false);
    let (status, _) = app
        .call(
            Method::PATCH,
            &format!("/v1/webhooks/{id}"),
            &s.owner.token,
            Some(json!({"url": "http://192.168.1.1/"})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

    // An admin may manage; a plain member may not (403); an outsider sees nothing (404).
    let admin = app.register("admin@example.com").await;
    app.add_member(&s.owner.token, &s.ws, &admin, "ADMIN").await;
    let (status, body) = app
        .call(
            Method::GET,
            &format!("/v1/webhooks/{id}"),
            &admin.token,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let member = app.register("member@example.com").await;
    app.add_member(&s.owner.token, &s.ws, &member, "MEMBER")
        .await;
    for (method, p) in [
        (Method::GET, format!("/v1/webhooks/{id}")),
        (Method::DELETE, format!("/v1/webhooks/{id}")),
        (Method::GET, path.clone()),
        (Method::POST, format!("/v1/webhooks/{id}/rotate-secret")),
    ] {
        let res = app.as_user(method, &p, &member.token).send().await.unwrap();
        expect_error(res, StatusCode::FORBIDDEN, "forbidden").await;
    }
    let outsider = app.register("outsider@example.com").await;
    let other_ws = app.create_workspace(&outsider.token, "Elsewhere").await;
    for (method, p) in [
        (Method::GET, format!("/v1/webhooks/{id}")),
        (Method::PATCH, format!("/v1/webhooks/{id}")),
        (Method::GET, format!("/v1/webhooks/{id}/deliveries")),
        (Method::POST, format!("/v1/webhooks/{id}/test")),
        (Method::GET, path.clone()),
    ] {
        let res = app
            .as_user(method, &p, &outsider.token)
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        expect_error(res, StatusCode::NOT_FOUND, "not_found").await;
    }
    // The outsider's own workspace does not list it.
    let (_, theirs) = app
        .call(
            Method::GET,
            &format!("/v1/workspaces/{other_ws}/webhooks"),
            &outsider.token,
            None,
        )
        .await;
    assert_eq!(theirs["data"]["items"], json!([]));

    let (status, _) = app
        .call(
            Method::DELETE,
            &format!("/v1/webhooks/{id}"),
            &s.owner.token,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = app
        .call(
            Method::GET,
            &format!("/v1/webhooks/{id}"),
            &s.owner.token,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn another_tenants_endpoint_is_not_found() {
    let app = TestApp::spawn_with(|c| {
        configured(&[1])(c);
        c.auth.multi_tenant = true;
    })
    .await;
    let acme = app.create_tenant("Acme").await;
    let globex = app.create_tenant("Globex").await;
    let a = app
        .register_with("a@example.com", Some(&acme.publishable_key))
        .await;
    let b = app
        .register_with("b@example.com", Some(&globex.publishable_key))
        .await;
    let ws = app.create_workspace(&a.token, "A").await;
    let (status, body) = app
        .call(
            Method::POST,
            &format!("/v1/workspaces/{ws}/webhooks"),
            &a.token,
            Some(json!({"url": "https://example.com/h", "events": ["*"]})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let id = body["data"]["id"].as_str().unwrap();
    for (method, p) in [
        (Method::GET, format!("/v1/webhooks/{id}")),
        (Method::DELETE, format!("/v1/webhooks/{id}")),
        (Method::GET, format!("/v1/workspaces/{ws}/webhooks")),
    ] {
        let res = app.as_user(method, &p, &b.token).send().await.unwrap();
        expect_error(res, StatusCode::NOT_FOUND, "not_found").await;
    }
}

#[tokio::test]
async fn a_task_create_sends_one_signed_delivery_and_patterns_filter_kinds() {
    let app = TestApp::spawn_with(configured(&[1])).await;
    let s = setup(&app).await;
    let (receiver, url) = Receiver::start(&[], "ok").await;
    let (endpoint, secret) = create_endpoint(&app, &s, &url, &["task.*"]).await;

    let task = app
        .create_task(&s.owner.token, &s.project, json!({"title": "Ship it"}))
        .await;
    let task_id = task["id"].as_str().unwrap();
    let (status, body) = app
        .call(
            Method::POST,
            &format!("/v1/tasks/{task_id}/comments"),
            &s.owner.token,
            Some(json!({"content": "looks good"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    app.run_due_jobs(now_ms()).await;

    // One task event delivered; the comment (and the project) are not subscribed.
    let requests = receiver.requests();
    assert_eq!(
        requests.len(),
        1,
        "{:?}",
        requests.iter().map(|r| r.1.clone()).collect::<Vec<_>>()
    );
    let (headers, body) = &requests[0];
    assert_eq!(verify_each_signature(&secret, headers, body), 1);
    let id = headers["webhook-id"].to_str().unwrap();
    assert!(id.starts_with("msg_"), "{id}");
    let ts: i64 = headers["webhook-timestamp"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((ts - now_ms() / 1000).abs() < 60);
    assert!(
        headers["webhook-signature"]
            .to_str()
            .unwrap()
            .starts_with("v1,")
    );
    assert_eq!(headers["content-type"], "application/json");
    let message: Value = serde_json::from_slice(body).unwrap();
    assert_eq!(message["type"], "task.created");
    assert!(
        message["timestamp"].as_str().unwrap().ends_with('Z'),
        "{message}"
    );
    assert_eq!(message["data"]["id"], task_id);
    assert_eq!(message["data"]["title"], "Ship it");

    let log = deliveries(&app, &s, &endpoint).await;
    assert_eq!(log.len(), 1, "{log:?}");
    assert_eq!(log[0]["status"], "delivered");
    assert_eq!(log[0]["message_id"], id);
    assert_eq!(log[0]["event_type"], "task.created");
    assert_eq!(log[0]["attempts"][0]["status_code"], 200);
    assert_eq!(log[0]["attempts"][0]["response_body"], "ok");
}

#[tokio::test]
async fn a_receiver_failing_twice_gets_the_message_on_the_third_attempt() {
    let app = TestApp::spawn_with(configured(&[1, 1, 1])).await;
    let s = setup(&app).await;
    let (receiver, url) = Receiver::start(&[500, 503], "nope").await;
    let (endpoint, secret) = create_endpoint(&app, &s, &url, &["task.created"]).await;
    app.create_task(&s.owner.token, &s.project, json!({"title": "Retry me"}))
        .await;

    let t0 = now_ms();
    app.run_due_jobs(t0).await;
    assert_eq!(receiver.requests().len(), 1);
    let log = deliveries(&app, &s, &endpoint).await;
    assert_eq!(log[0]["status"], "retrying");
    // Not due yet: the retry waits for its schedule, not for a sleeping worker.
    app.run_due_jobs(t0 + 500).await;
    assert_eq!(receiver.requests().len(), 1);
    app.run_due_jobs(t0 + 1_000).await;
    assert_eq!(receiver.requests().len(), 2);
    app.run_due_jobs(t0 + 2_000).await;
    let requests = receiver.requests();
    assert_eq!(requests.len(), 3);

    let ids: Vec<&str> = requests
        .iter()
        .map(|(h, _)| h["webhook-id"].to_str().unwrap())
        .collect();
    assert!(ids.iter().all(|id| *id == ids[0]), "{ids:?}");
    for (headers, body) in &requests {
        assert_eq!(verify_each_signature(&secret, headers, body), 1);
    }
    let log = deliveries(&app, &s, &endpoint).await;
    assert_eq!(log.len(), 1);
    assert_eq!(log[0]["status"], "delivered");
    let codes: Vec<&Value> = log[0]["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| &a["status_code"])
        .collect();
    assert_eq!(codes, [&json!(500), &json!(503), &json!(200)]);
    let first = &log[0]["attempts"][0];
    assert!(first["error"].as_str().unwrap().contains("500"), "{first}");
    assert!(first["duration_ms"].as_i64().unwrap() >= 0);
    assert_eq!(first["response_body"], "nope");
}

#[tokio::test]
async fn rotation_signs_with_both_secrets_and_test_messages_go_to_one_endpoint() {
    let app = TestApp::spawn_with(configured(&[1])).await;
    let s = setup(&app).await;
    let (receiver, url) = Receiver::start(&[], "").await;
    let (other_receiver, other_url) = Receiver::start(&[], "").await;
    let (endpoint, old_secret) = create_endpoint(&app, &s, &url, &["*"]).await;
    create_endpoint(&app, &s, &other_url, &["*"]).await;

    let (status, rotated) = app
        .call(
            Method::POST,
            &format!("/v1/webhooks/{endpoint}/rotate-secret"),
            &s.owner.token,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{rotated}");
    let new_secret = rotated["data"]["secret"].as_str().unwrap().to_string();
    assert_ne!(new_secret, old_secret);
    app.run_due_jobs(now_ms()).await;
    let before = (receiver.requests().len(), other_receiver.requests().len());

    let (status, test) = app
        .call(
            Method::POST,
            &format!("/v1/webhooks/{endpoint}/test"),
            &s.owner.token,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{test}");
    assert_eq!(test["data"]["event_type"], "webhook.test");
    app.run_due_jobs(now_ms()).await;
    let requests = receiver.requests();
    assert_eq!(requests.len(), before.0 + 1);
    assert_eq!(
        other_receiver.requests().len(),
        before.1,
        "the test went to one endpoint only"
    );
    let (headers, body) = requests.last().unwrap();
    let message: Value = serde_json::from_slice(body).unwrap();
    assert_eq!(message["type"], "webhook.test");
    let signatures = headers["webhook-signature"].to_str().unwrap();
    assert_eq!(signatures.split(' ').count(), 2, "{signatures}");
    // Each secret verifies exactly one of the two signatures.
    assert_eq!(verify_each_signature(&new_secret, headers, body), 1);
    assert_eq!(verify_each_signature(&old_secret, headers, body), 1);

    // A day later the old secret has retired: one signature, the new secret's.
    let (status, _) = app
        .call(
            Method::POST,
            &format!("/v1/webhooks/{endpoint}/test"),
            &s.owner.token,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    app.run_due_jobs(now_ms() + DAY_MS + 60_000).await;
    let (headers, body) = receiver.requests().last().unwrap().clone();
    assert_eq!(
        headers["webhook-signature"]
            .to_str()
            .unwrap()
            .split(' ')
            .count(),
        1
    );
    assert_eq!(verify_each_signature(&new_secret, &headers, &body), 1);
    assert_eq!(verify_each_signature(&old_secret, &headers, &body), 0);
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let app = TestApp::spawn_with(configured(&[])).await;
    let s = setup(&app).await;
    let (target, target_url) = Receiver::start(&[], "").await;
    let (redirector, url) = Receiver::start(&[307], "").await;
    *redirector.location.lock().unwrap() = Some(target_url);
    let (endpoint, _) = create_endpoint(&app, &s, &url, &["task.created"]).await;
    app.create_task(&s.owner.token, &s.project, json!({"title": "Elsewhere"}))
        .await;
    app.run_due_jobs(now_ms()).await;
    assert_eq!(redirector.requests().len(), 1);
    assert!(target.requests().is_empty(), "the redirect was followed");
    let log = deliveries(&app, &s, &endpoint).await;
    assert_eq!(log[0]["status"], "failed");
    assert_eq!(log[0]["attempts"][0]["status_code"], 307);
}

#[tokio::test]
async fn deliveries_never_reach_blocked_addresses() {
    // No allow list: loopback is blocked as in production.
    let app = TestApp::spawn_with(|c| {
        configured(&[])(c);
        c.webhooks.allowed_cidrs = Vec::new();
    })
    .await;
    let s = setup(&app).await;
    let (receiver, url) = Receiver::start(&[], "").await;
    // An IP literal in a blocked range is refused at once.
    let res = app
        .as_user(
            Method::POST,
            &format!("/v1/workspaces/{}/webhooks", s.ws),
            &s.owner.token,
        )
        .json(&json!({"url": url, "events": ["*"]}))
        .send()
        .await
        .unwrap();
    let body = expect_error(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert!(
        body.to_string().contains("blocked address 127.0.0.1"),
        "{body}"
    );
    // A name is accepted, but what it resolves to is checked when connecting.
    let by_name = url.replace("127.0.0.1", "localhost");
    let (endpoint, _) = create_endpoint(&app, &s, &by_name, &["task.created"]).await;
    app.create_task(&s.owner.token, &s.project, json!({"title": "Exfiltrate"}))
        .await;
    app.run_due_jobs(now_ms()).await;
    assert!(
        receiver.requests().is_empty(),
        "the guard let a request through"
    );
    let log = deliveries(&app, &s, &endpoint).await;
    assert_eq!(log[0]["status"], "failed", "{log:?}");
    let attempt = &log[0]["attempts"][0];
    assert!(
        attempt["error"]
            .as_str()
            .unwrap()
            .contains("blocked address"),
        "{attempt}"
    );
    assert_eq!(attempt["status_code"], Value::Null);
}

#[tokio::test]
async fn the_log_keeps_1_kib_of_the_answer_and_a_retry_resends_the_same_message() {
    let app = TestApp::spawn_with(configured(&[])).await;
    let s = setup(&app).await;
    let (receiver, url) = Receiver::start(&[200], &"x".repeat(5000)).await;
    let (endpoint, secret) = create_endpoint(&app, &s, &url, &["task.created"]).await;
    app.create_task(&s.owner.token, &s.project, json!({"title": "Once"}))
        .await;
    app.run_due_jobs(now_ms()).await;
    let log = deliveries(&app, &s, &endpoint).await;
    let delivery = log[0]["id"].as_str().unwrap().to_string();
    assert_eq!(
        log[0]["attempts"][0]["response_body"]
            .as_str()
            .unwrap()
            .len(),
        1024
    );

    let retry = format!("/v1/webhooks/{endpoint}/deliveries/{delivery}/retry");
    let (status, body) = app.call(Method::POST, &retry, &s.owner.token, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["status"], "pending");
    app.run_due_jobs(now_ms()).await;
    let requests = receiver.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0].0["webhook-id"], requests[1].0["webhook-id"]);
    assert_eq!(requests[0].1, requests[1].1, "the same body");
    assert_eq!(
        verify_each_signature(&secret, &requests[1].0, &requests[1].1),
        1
    );
    let log = deliveries(&app, &s, &endpoint).await;
    assert_eq!(log[0]["attempts"].as_array().unwrap().len(), 2);
    assert_eq!(log[0]["status"], "delivered");

    // A delivery of another endpoint is not found under this one.
    let (other, _) = create_endpoint(&app, &s, &url, &["task.created"]).await;
    let (status, _) = app
        .call(
            Method::POST,
            &format!("/v1/webhooks/{other}/deliveries/{delivery}/retry"),
            &s.owner.token,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn an_endpoint_failing_for_five_days_is_disabled_with_an_event() {
    let app = TestApp::spawn_with(configured(&[1, 1, 1])).await;
    let s = setup(&app).await;
    let (receiver, url) = Receiver::start(&[500; 10], "down").await;
    let (endpoint, _) = create_endpoint(&app, &s, &url, &["task.created"]).await;
    app.create_task(&s.owner.token, &s.project, json!({"title": "A"}))
        .await;
    let t0 = now_ms();
    app.run_due_jobs(t0).await;
    let (_, got) = app
        .call(
            Method::GET,
            &format!("/v1/webhooks/{endpoint}"),
            &s.owner.token,
            None,
        )
        .await;
    assert!(got["data"]["failing_since"].is_string(), "{got}");
    assert_eq!(got["data"]["enabled"], true);

    // The next attempt, five days on, still fails: the endpoint is disabled.
    app.run_due_jobs(t0 + 5 * DAY_MS + 1_000).await;
    assert_eq!(receiver.requests().len(), 2);
    let (_, got) = app
        .call(
            Method::GET,
            &format!("/v1/webhooks/{endpoint}"),
            &s.owner.token,
            None,
        )
        .await;
    assert_eq!(got["data"]["enabled"], false, "{got}");
    let log = deliveries(&app, &s, &endpoint).await;
    assert_eq!(log[0]["status"], "failed");

    let (_, key) =
        kanri::services::tenants::create_key(&app.cx, "default", KeyKind::Secret, "audit")
            .await
            .unwrap();
    let res = app
        .request(Method::GET, "/v1/admin/activity?limit=100")
        .header("X-Api-Key", key.expose())
        .send()
        .await
        .unwrap();
    let (_, audit) = read(res).await;
    let disabled: Vec<&Value> = audit["data"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "webhook.disabled")
        .collect();
    assert_eq!(disabled.len(), 1, "{audit}");
    assert_eq!(disabled[0]["subject_id"], endpoint.as_str());

    // A disabled endpoint gets nothing new, and refuses tests until re-enabled.
    app.create_task(&s.owner.token, &s.project, json!({"title": "B"}))
        .await;
    app.run_due_jobs(now_ms() + 6 * DAY_MS).await;
    assert_eq!(receiver.requests().len(), 2);
    let res = app
        .as_user(
            Method::POST,
            &format!("/v1/webhooks/{endpoint}/test"),
            &s.owner.token,
        )
        .send()
        .await
        .unwrap();
    expect_error(res, StatusCode::CONFLICT, "webhook_disabled").await;
}

/// Answers carrying a signing secret are never kept for an `Idempotency-Key` replay: the key is
/// released, so a retry with the same key runs afresh (a new endpoint, a new secret) and the
/// idempotency table never holds a `whsec_` value.
#[tokio::test]
async fn secrets_are_never_stored_for_idempotent_replay() {
    let app = TestApp::spawn_with(configured(&[1])).await;
    let s = setup(&app).await;
    let path = format!("/v1/workspaces/{}/webhooks", s.ws);
    let body = json!({"url": "http://127.0.0.1:9/hooks", "events": ["*"]});
    let send = |path: String, key: &'static str, body: Option<Value>| {
        let mut req = app
            .as_user(Method::POST, &path, &s.owner.token)
            .header("Idempotency-Key", key);
        if let Some(body) = body {
            req = req.json(&body);
        }
        req.send()
    };
    let mut secrets = Vec::new();
    for _ in 0..2 {
        let res = send(path.clone(), "hook-1", Some(body.clone()))
            .await
            .unwrap();
        assert!(res.headers().get("idempotent-replayed").is_none());
        let (status, created) = read(res).await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        secrets.push(created["data"]["secret"].as_str().unwrap().to_string());
    }
    assert_ne!(
        secrets[0], secrets[1],
        "the second answer replayed the secret"
    );

    let (endpoint, _) = create_endpoint(&app, &s, "http://127.0.0.1:9/other", &["*"]).await;
    let rotate = format!("/v1/webhooks/{endpoint}/rotate-secret");
    let mut rotated = Vec::new();
    for _ in 0..2 {
        let res = send(rotate.clone(), "rotate-1", None).await.unwrap();
        assert!(res.headers().get("idempotent-replayed").is_none());
        let (status, answer) = read(res).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        rotated.push(answer["data"]["secret"].as_str().unwrap().to_string());
    }
    assert_ne!(rotated[0], rotated[1]);

    let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM idempotency_keys")
        .fetch_one(app.db.read())
        .await
        .unwrap();
    assert_eq!(stored, 0);
}

/// A receiver's answer with a NUL byte is kept with U+FFFD in its place: Postgres TEXT refuses
/// 0x00, and an attempt that cannot be recorded would send the message again.
#[tokio::test]
async fn an_answer_with_a_nul_byte_is_recorded_once_and_not_resent() {
    let app = TestApp::spawn_with(configured(&[1])).await;
    let s = setup(&app).await;
    let (receiver, url) = Receiver::start(&[], "ok\0done").await;
    let (endpoint, _) = create_endpoint(&app, &s, &url, &["task.created"]).await;
    app.create_task(&s.owner.token, &s.project, json!({"title": "Nul"}))
        .await;
    app.run_due_jobs(now_ms()).await;
    // A failed recording would leave the job to run again later.
    app.run_due_jobs(now_ms() + DAY_MS).await;

    assert_eq!(receiver.requests().len(), 1);
    let log = deliveries(&app, &s, &endpoint).await;
    assert_eq!(log.len(), 1, "{log:?}");
    assert_eq!(log[0]["status"], "delivered", "{log:?}");
    let attempts = log[0]["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 1, "{attempts:?}");
    assert_eq!(attempts[0]["response_body"], "ok\u{FFFD}done");
}

/// Rotations racing each other each retire the secret current at the time: the created one
/// never survives as the previous secret (it did when each read the old secret up front).
#[tokio::test]
async fn concurrent_rotations_never_keep_a_stale_previous_secret() {
    let app = TestApp::spawn_with(configured(&[1])).await;
    let s = setup(&app).await;
    let (receiver, url) = Receiver::start(&[], "").await;
    let (endpoint, original) = create_endpoint(&app, &s, &url, &["*"]).await;
    let path = format!("/v1/webhooks/{endpoint}/rotate-secret");
    let rotate = || app.call(Method::POST, &path, &s.owner.token, None);
    let answers = futures_util::future::join_all((0..4).map(|_| rotate())).await;
    let mut secrets = Vec::new();
    for (status, body) in answers {
        assert_eq!(status, StatusCode::OK, "{body}");
        secrets.push(body["data"]["secret"].as_str().unwrap().to_string());
    }

    let (status, test) = app
        .call(
            Method::POST,
            &format!("/v1/webhooks/{endpoint}/test"),
            &s.owner.token,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{test}");
    app.run_due_jobs(now_ms()).await;
    let requests = receiver.requests();
    let (headers, body) = requests.last().unwrap();
    assert_eq!(verify_each_signature(&original, headers, body), 0);
    let verified: usize = secrets
        .iter()
        .map(|secret| verify_each_signature(secret, headers, body))
        .sum();
    assert_eq!(
        verified, 2,
        "the current and previous secrets are two rotated ones"
    );
}

/// `webhook.created` names the endpoint by id and host only: the URL's path and query often
/// hold the receiver's token, and the event reaches the activity log and other subscribers.
#[tokio::test]
async fn webhook_created_carries_the_host_not_the_url() {
    let app = TestApp::spawn_with(configured(&[1])).await;
    let s = setup(&app).await;
    let (endpoint, _) = create_endpoint(
        &app,
        &s,
        "http://127.0.0.1:9/hooks/tok-sekrit?token=sekrit",
        &["*"],
    )
    .await;
    let (_, key) =
        kanri::services::tenants::create_key(&app.cx, "default", KeyKind::Secret, "audit")
            .await
            .unwrap();
    let res = app
        .request(Method::GET, "/v1/admin/activity?limit=100")
        .header("X-Api-Key", key.expose())
        .send()
        .await
        .unwrap();
    let (_, audit) = read(res).await;
    let created: Vec<&Value> = audit["data"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "webhook.created")
        .collect();
    assert_eq!(created.len(), 1, "{audit}");
    assert_eq!(created[0]["subject_id"], endpoint.as_str());
    let text = created[0].to_string();
    assert!(!text.contains("sekrit"), "{text}");
    assert!(text.contains("127.0.0.1"), "{text}");
}

#[tokio::test]
async fn the_operator_reads_every_workspaces_log_and_retries_with_the_secret_key() {
    let app = TestApp::spawn_with(configured(&[])).await;
    let acme = app.create_tenant("Acme").await;
    let other = app.create_tenant("Other").await;
    let owner = app
        .register_with("owner@example.com", Some(&acme.publishable_key))
        .await;
    let ws = app.create_workspace(&owner.token, "Acme").await;
    let project = app
        .create_project(&owner.token, &ws, json!({"name": "Launch"}))
        .await;
    let s = Setup { owner, ws, project };
    let (receiver, url) = Receiver::start(&[500], "down").await;
    let (endpoint, _) = create_endpoint(&app, &s, &url, &["task.created"]).await;
    app.create_task(&s.owner.token, &s.project, json!({"title": "Once"}))
        .await;
    app.run_due_jobs(now_ms()).await;

    let operator = |key: &str, method: Method, path: &str| {
        app.request(method, path)
            .header("X-Api-Key", key.to_string())
    };
    let (status, body) = read(
        operator(&acme.secret_key, Method::GET, "/v1/admin/webhooks")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["items"][0]["id"], endpoint.as_str());
    assert_eq!(body["data"]["items"][0]["workspace_id"], s.ws.as_str());
    assert!(body["data"]["items"][0].get("secret").is_none());

    let log_path = format!("/v1/admin/webhooks/{endpoint}/deliveries");
    let (status, body) = read(
        operator(&acme.secret_key, Method::GET, &log_path)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let delivery = body["data"]["items"][0]["id"].as_str().unwrap().to_string();
    assert_eq!(body["data"]["items"][0]["attempts"][0]["status_code"], 500);

    // Another tenant's operator sees none of it.
    let (_, body) = read(
        operator(&other.secret_key, Method::GET, "/v1/admin/webhooks")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(body["data"]["items"], json!([]));
    let retry_path = format!("/v1/admin/webhooks/{endpoint}/deliveries/{delivery}/retry");
    let res = operator(&other.secret_key, Method::POST, &retry_path)
        .send()
        .await
        .unwrap();
    expect_error(res, StatusCode::NOT_FOUND, "not_found").await;
    let res = operator(&other.secret_key, Method::GET, &log_path)
        .send()
        .await
        .unwrap();
    expect_error(res, StatusCode::NOT_FOUND, "not_found").await;

    // The operator's retry sends the same message again, and it is delivered.
    let (status, body) = read(
        operator(&acme.secret_key, Method::POST, &retry_path)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    app.run_due_jobs(now_ms()).await;
    let requests = receiver.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0].0["webhook-id"], requests[1].0["webhook-id"]);
    let log = deliveries(&app, &s, &endpoint).await;
    assert_eq!(log[0]["status"], "delivered", "{log:?}");
}
