//! Identity-provider sync end to end: Svix-signed Clerk events over HTTP, verified, recorded
//! and queued by the webhook; applied to users when the queue runs.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use kanri::clock::now_ms;
use kanri::config::WebhookKey;
use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::helpers::{PASSWORD, TestApp, expect_error, read};

pub(crate) const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const OTHER_SECRET: &str = "whsec_c2VjcmV0LW9mLWFub3RoZXItYXBw";
pub(crate) const V1: &str = "/v1/webhooks/identity";
const SEED: &str = "/api/webhooks/clerk";

async fn spawn() -> TestApp {
    TestApp::spawn_with(|c| c.identity.webhook_key = Some(WebhookKey::parse(SECRET).unwrap())).await
}

/// Svix's scheme: HMAC-SHA256 over `{id}.{timestamp}.{body}` with the base64 key after `whsec_`.
fn sign(secret: &str, id: &str, timestamp: &str, body: &str) -> String {
    let key = STANDARD
        .decode(secret.strip_prefix("whsec_").unwrap())
        .unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
    mac.update(format!("{id}.{timestamp}.{body}").as_bytes());
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

fn now_secs() -> i64 {
    now_ms() / 1000
}

/// A delivery as the provider would make it; each part can be spoiled by a test.
pub(crate) struct Delivery<'a> {
    path: &'a str,
    id: String,
    timestamp: String,
    signature: Option<String>,
    body: String,
    key: Option<&'a str>,
}

impl<'a> Delivery<'a> {
    pub(crate) fn new(path: &'a str, id: &str, event: &Value) -> Self {
        let body = event.to_string();
        let timestamp = now_secs().to_string();
        Self {
            path,
            id: id.into(),
            signature: Some(sign(SECRET, id, &timestamp, &body)),
            timestamp,
            body,
            key: None,
        }
    }

    fn signed_with(mut self, secret: &str) -> Self {
        self.signature = Some(sign(secret, &self.id, &self.timestamp, &self.body));
        self
    }

    fn at(mut self, timestamp: i64) -> Self {
        self.timestamp = timestamp.to_string();
        self.signed_with(SECRET)
    }

    fn with_key(mut self, key: &'a str) -> Self {
        self.key = Some(key);
        self
    }

    async fn send(&self, app: &TestApp) -> Response {
        self.send_without(app, "").await
    }

    /// Sends without the named header.
    async fn send_without(&self, app: &TestApp, missing: &str) -> Response {
        let mut req = app
            .request(Method::POST, self.path)
            .header("content-type", "application/json")
            .body(self.body.clone());
        for (name, value) in [
            ("svix-id", Some(&self.id)),
            ("svix-timestamp", Some(&self.timestamp)),
            ("svix-signature", self.signature.as_ref()),
        ] {
            if let Some(value) = value.filter(|_| name != missing) {
                req = req.header(name, value);
            }
        }
        if let Some(key) = self.key {
            req = req.header("X-Api-Key", key);
        }
        req.send().await.unwrap()
    }
}

pub(crate) fn user_event(
    kind: &str,
    external_id: &str,
    email: &str,
    first: &str,
    image: &str,
) -> Value {
    json!({
        "type": kind,
        "object": "event",
        "data": {
            "id": external_id,
            "object": "user",
            "email_addresses": [
                {"id": "idn_other", "email_address": "secondary@example.com"},
                {"id": "idn_primary", "email_address": email}
            ],
            "primary_email_address_id": "idn_primary",
            "first_name": first,
            "last_name": "Lovelace",
            "image_url": image,
        }
    })
}

fn deleted_event(external_id: &str) -> Value {
    json!({"type": "user.deleted", "object": "event", "data": {"id": external_id, "object": "user", "deleted": true}})
}

/// Sends and expects the webhook to accept the delivery with `status`.
pub(crate) async fn deliver(app: &TestApp, d: &Delivery<'_>, status: StatusCode, word: &str) {
    let (got, body) = read(d.send(app).await).await;
    assert_eq!(got, status, "{body}");
    assert_eq!(body["data"]["status"], word, "{body}");
    assert_eq!(body["data"]["event_id"], d.id.as_str(), "{body}");
}

async fn sync_jobs(app: &TestApp) -> Vec<(String, Option<String>)> {
    sqlx::query_as("SELECT state, last_error FROM jobs WHERE kind = $1 ORDER BY created_at, id")
        .bind("identity:sync")
        .fetch_all(app.db.read())
        .await
        .unwrap()
}

async fn receipts(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM webhook_receipts")
        .fetch_one(app.db.read())
        .await
        .unwrap()
}

/// (id, tenant, email, name, image_url) of the user with this external id.
type UserFacts = (String, String, String, String, Option<String>);

async fn user_by_external_id(app: &TestApp, external_id: &str) -> Option<UserFacts> {
    sqlx::query_as("SELECT id, tenant_id, email, name, image_url FROM users WHERE external_id = $1")
        .bind(external_id)
        .fetch_optional(app.db.read())
        .await
        .unwrap()
}

async fn member_ids(app: &TestApp, path: &str, token: &str) -> Vec<String> {
    let (status, body) = app.call(Method::GET, path, token, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["data"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["user_id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn created_updated_and_deleted_users_follow_the_provider() {
    let app = spawn().await;
    let img = "https://img.clerk.com/grace.png";

    // A new person: created without a password once the job runs, not before.
    deliver(
        &app,
        &Delivery::new(
            V1,
            "msg_1",
            &user_event(
                "user.created",
                "user_grace",
                "grace@example.com",
                "Grace",
                img,
            ),
        ),
        StatusCode::ACCEPTED,
        "queued",
    )
    .await;
    assert!(user_by_external_id(&app, "user_grace").await.is_none());
    assert_eq!(app.run_due_jobs(now_ms()).await, 1);
    let (grace_id, tenant, email, name, image) = user_by_external_id(&app, "user_grace")
        .await
        .expect("the job created the user");
    assert_eq!(tenant, "default");
    assert_eq!(
        (email.as_str(), name.as_str()),
        ("grace@example.com", "Grace Lovelace")
    );
    assert_eq!(image.as_deref(), Some(img));
    let res = app
        .post_json(
            "/v1/auth/login",
            &json!({"email": "grace@example.com", "password": PASSWORD}),
        )
        .await;
    expect_error(res, StatusCode::UNAUTHORIZED, "invalid_credentials").await;

    // An update changes every field it carries.
    let new_img = "https://img.clerk.com/grace-2.png";
    let updated = user_event(
        "user.updated",
        "user_grace",
        "grace.hopper@example.com",
        "Amazing Grace",
        new_img,
    );
    deliver(
        &app,
        &Delivery::new(V1, "msg_2", &updated),
        StatusCode::ACCEPTED,
        "queued",
    )
    .await;
    app.run_due_jobs(now_ms()).await;
    let (id, _, email, name, image) = user_by_external_id(&app, "user_grace").await.unwrap();
    assert_eq!(id, grace_id, "updated in place");
    assert_eq!(
        (email.as_str(), name.as_str(), image.as_deref()),
        (
            "grace.hopper@example.com",
            "Amazing Grace Lovelace",
            Some(new_img)
        )
    );

    // Deleted: gone. A second deletion finds nothing to do and succeeds.
    for id in ["msg_3", "msg_4"] {
        deliver(
            &app,
            &Delivery::new(V1, id, &deleted_event("user_grace")),
            StatusCode::ACCEPTED,
            "queued",
        )
        .await;
        app.run_due_jobs(now_ms()).await;
    }
    assert!(user_by_external_id(&app, "user_grace").await.is_none());
    let states: Vec<String> = sync_jobs(&app).await.into_iter().map(|j| j.0).collect();
    assert_eq!(states, ["succeeded"; 4]);
}

#[tokio::test]
async fn an_existing_account_is_linked_and_its_deletion_revokes_sessions_and_memberships() {
    let app = spawn().await;
    let owner = app.register("owner@example.com").await;
    let ada = app.register("ada@example.com").await;
    let ws = app.create_workspace(&owner.token, "Team").await;
    app.add_member(&owner.token, &ws, &ada, "MEMBER").await;
    let project = app
        .create_project(
            &owner.token,
            &ws,
            json!({"name": "Engine", "members": [ada.user_id]}),
        )
        .await;
    let ws_members = format!("/v1/workspaces/{ws}/members");
    let project_members = format!("/v1/projects/{project}/members");
    assert!(
        member_ids(&app, &project_members, &owner.token)
            .await
            .contains(&ada.user_id)
    );

    // The same address (in other case) without an external id: linked, not duplicated.
    let created = user_event(
        "user.created",
        "user_ada",
        "ADA@example.com",
        "Ada",
        "https://img.clerk.com/ada.png",
    );
    deliver(
        &app,
        &Delivery::new(V1, "msg_link", &created),
        StatusCode::ACCEPTED,
        "queued",
    )
    .await;
    app.run_due_jobs(now_ms()).await;
    let (id, _, _, name, _) = user_by_external_id(&app, "user_ada").await.unwrap();
    assert_eq!(id, ada.user_id, "linked to the registered account");
    assert_eq!(name, "Ada Lovelace");
    // Whoever registered the address first (unverified) loses their password and sessions:
    // otherwise registering a victim's address early would take over their future account.
    assert_eq!(app.me(&ada.token).await.0, StatusCode::UNAUTHORIZED);
    let res = app
        .post_json(
            "/v1/auth/login",
            &json!({"email": "ada@example.com", "password": crate::helpers::PASSWORD}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    // A session the provider-backed user gets later (made directly here).
    let token = kanri::domain::SecretToken::generate();
    sqlx::query("INSERT INTO sessions (id, tenant_id, user_id, token_hash, created_at, expires_at) VALUES ($1, 'default', $2, $3, 0, $4)")
        .bind(kanri::ids::new_id())
        .bind(&ada.user_id)
        .bind(token.hash())
        .bind(now_ms() + 3_600_000)
        .execute(app.db.write())
        .await
        .unwrap();
    let ada = crate::helpers::SignedIn {
        token: token.expose().to_string(),
        user_id: ada.user_id.clone(),
    };
    let (status, me) = app.me(&ada.token).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["data"]["user"]["external_id"], "user_ada");

    deliver(
        &app,
        &Delivery::new(V1, "msg_delete", &deleted_event("user_ada")),
        StatusCode::ACCEPTED,
        "queued",
    )
    .await;
    // Nothing changes until the job runs.
    assert_eq!(app.me(&ada.token).await.0, StatusCode::OK);
    app.run_due_jobs(now_ms()).await;

    let (status, body) = app.me(&ada.token).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body["code"], "invalid_token");
    let members = member_ids(&app, &ws_members, &owner.token).await;
    assert_eq!(members, vec![owner.user_id.clone()]);
    assert!(
        !member_ids(&app, &project_members, &owner.token)
            .await
            .contains(&ada.user_id)
    );
    assert!(user_by_external_id(&app, "user_ada").await.is_none());
    // Other people are untouched.
    assert_eq!(app.me(&owner.token).await.0, StatusCode::OK);
}

#[tokio::test]
async fn unverified_deliveries_are_refused_and_leave_nothing() {
    let app = spawn().await;
    let event = user_event(
        "user.created",
        "user_eve",
        "eve@example.com",
        "Eve",
        "https://img.clerk.com/eve.png",
    );
    let refused = |res: Response| expect_error(res, StatusCode::UNAUTHORIZED, "invalid_signature");

    for path in [V1, SEED] {
        let fresh = || Delivery::new(path, "msg_eve", &event);
        // A changed body no longer matches its signature.
        let mut tampered = fresh();
        tampered.body = tampered.body.replace("eve@", "mallory@");
        refused(tampered.send(&app).await).await;
        // Signed with another secret; garbage; a signature of another version.
        refused(fresh().signed_with(OTHER_SECRET).send(&app).await).await;
        let mut garbage = fresh();
        garbage.signature = Some("v1,bm90IGEgc2lnbmF0dXJl".into());
        refused(garbage.send(&app).await).await;
        let mut v2 = fresh();
        v2.signature = fresh().signature.map(|s| s.replacen("v1,", "v2,", 1));
        refused(v2.send(&app).await).await;
        // Each header is required.
        for header in ["svix-id", "svix-timestamp", "svix-signature"] {
            refused(fresh().send_without(&app, header).await).await;
        }
        // Correctly signed, but six minutes old or six minutes ahead.
        refused(fresh().at(now_secs() - 360).send(&app).await).await;
        refused(fresh().at(now_secs() + 360).send(&app).await).await;
    }

    assert!(sync_jobs(&app).await.is_empty());
    assert_eq!(receipts(&app).await, 0);
    assert_eq!(app.run_due_jobs(now_ms()).await, 0);
    assert!(user_by_external_id(&app, "user_eve").await.is_none());

    // A signature among several (as during key rotation) and a four-minute-old timestamp pass.
    let mut rotated = Delivery::new(V1, "msg_rotated", &event).at(now_secs() - 240);
    let current = rotated.signature.take().unwrap();
    rotated.signature = Some(format!(
        "v1,{} {current}",
        sign(OTHER_SECRET, "x", "1", "y").trim_start_matches("v1,")
    ));
    deliver(&app, &rotated, StatusCode::ACCEPTED, "queued").await;
}

#[tokio::test]
async fn a_replayed_message_is_acknowledged_once() {
    let app = spawn().await;
    let event = user_event(
        "user.created",
        "user_rep",
        "rep@example.com",
        "Rep",
        "https://img.clerk.com/r.png",
    );
    deliver(
        &app,
        &Delivery::new(V1, "msg_rep", &event),
        StatusCode::ACCEPTED,
        "queued",
    )
    .await;
    // A retry carries the same id with a new timestamp and signature; the seed address is the
    // same provider, so a delivery there is a replay too.
    let retry = Delivery::new(V1, "msg_rep", &event).at(now_secs() - 30);
    deliver(&app, &retry, StatusCode::OK, "replayed").await;
    deliver(
        &app,
        &Delivery::new(SEED, "msg_rep", &event),
        StatusCode::OK,
        "replayed",
    )
    .await;
    assert_eq!(sync_jobs(&app).await.len(), 1);
    assert_eq!(receipts(&app).await, 1);
    assert_eq!(app.run_due_jobs(now_ms()).await, 1);
    // Even after the job ran.
    deliver(
        &app,
        &Delivery::new(V1, "msg_rep", &event),
        StatusCode::OK,
        "replayed",
    )
    .await;
    assert_eq!(sync_jobs(&app).await.len(), 1);
}

#[tokio::test]
async fn the_seed_path_works_the_same() {
    let app = spawn().await;
    let img = "https://img.clerk.com/seed.png";
    deliver(
        &app,
        &Delivery::new(
            SEED,
            "msg_s1",
            &user_event("user.created", "user_seed", "seed@example.com", "Seed", img),
        ),
        StatusCode::ACCEPTED,
        "queued",
    )
    .await;
    app.run_due_jobs(now_ms()).await;
    let (_, _, email, name, image) = user_by_external_id(&app, "user_seed").await.unwrap();
    assert_eq!(
        (email.as_str(), name.as_str(), image.as_deref()),
        ("seed@example.com", "Seed Lovelace", Some(img))
    );
    deliver(
        &app,
        &Delivery::new(
            SEED,
            "msg_s2",
            &user_event("user.updated", "user_seed", "seed@example.com", "Sid", img),
        ),
        StatusCode::ACCEPTED,
        "queued",
    )
    .await;
    app.run_due_jobs(now_ms()).await;
    assert_eq!(
        user_by_external_id(&app, "user_seed").await.unwrap().3,
        "Sid Lovelace"
    );
    deliver(
        &app,
        &Delivery::new(SEED, "msg_s3", &deleted_event("user_seed")),
        StatusCode::ACCEPTED,
        "queued",
    )
    .await;
    app.run_due_jobs(now_ms()).await;
    assert!(user_by_external_id(&app, "user_seed").await.is_none());
    let res = Delivery::new(SEED, "msg_s4", &deleted_event("user_seed"))
        .signed_with(OTHER_SECRET)
        .send(&app)
        .await;
    expect_error(res, StatusCode::UNAUTHORIZED, "invalid_signature").await;
}

#[tokio::test]
async fn other_event_types_are_ignored_and_bad_payloads_end_dead() {
    let app = spawn().await;
    let session = json!({"type": "session.created", "data": {"id": "sess_1", "user_id": "user_x"}});
    deliver(
        &app,
        &Delivery::new(V1, "msg_session", &session),
        StatusCode::OK,
        "ignored",
    )
    .await;
    assert!(sync_jobs(&app).await.is_empty());

    // Signed but not JSON, or a user event of the wrong shape: refused after verification.
    let mut not_json = Delivery::new(V1, "msg_nj", &json!({}));
    not_json.body = "{not json".into();
    let not_json = not_json.signed_with(SECRET);
    expect_error(
        not_json.send(&app).await,
        StatusCode::BAD_REQUEST,
        "invalid_json",
    )
    .await;
    let wrong_shape = json!({"type": "user.created", "data": {"id": 42}});
    expect_error(
        Delivery::new(V1, "msg_ws", &wrong_shape).send(&app).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_body",
    )
    .await;
    assert_eq!(receipts(&app).await, 0);

    // Well-shaped but unusable: accepted, and the job is buried with the reason.
    let no_email = json!({"type": "user.created", "data": {"id": "user_noemail", "email_addresses": [], "first_name": "No"}});
    let bad_email = user_event(
        "user.created",
        "user_bad",
        "not-an-address",
        "Bad",
        "https://img.clerk.com/b.png",
    );
    let bad_image = user_event(
        "user.created",
        "user_img",
        "img@example.com",
        "Img",
        "javascript:alert(1)",
    );
    for (id, event) in [("m1", no_email), ("m2", bad_email), ("m3", bad_image)] {
        deliver(
            &app,
            &Delivery::new(V1, id, &event),
            StatusCode::ACCEPTED,
            "queued",
        )
        .await;
    }
    app.run_due_jobs(now_ms()).await;
    let jobs = sync_jobs(&app).await;
    assert_eq!(jobs.len(), 3);
    for (state, error) in &jobs {
        assert_eq!(state, "dead", "{error:?}");
    }
    assert!(jobs[0].1.as_deref().unwrap().contains("email"), "{jobs:?}");
    assert!(jobs[1].1.as_deref().unwrap().contains("email"), "{jobs:?}");
    assert!(
        jobs[2].1.as_deref().unwrap().contains("image_url"),
        "{jobs:?}"
    );
    for external_id in ["user_noemail", "user_bad", "user_img"] {
        assert!(user_by_external_id(&app, external_id).await.is_none());
    }
}

#[tokio::test]
async fn a_body_over_the_limit_is_refused_with_413() {
    let app = TestApp::spawn_with(|c| {
        c.identity.webhook_key = Some(WebhookKey::parse(SECRET).unwrap());
        c.server.max_body_bytes = 1024;
    })
    .await;
    let big = user_event(
        "user.created",
        "user_big",
        "big@example.com",
        &"B".repeat(2000),
        "https://img.clerk.com/b.png",
    );
    for path in [V1, SEED] {
        let res = Delivery::new(path, "msg_big", &big).send(&app).await;
        expect_error(res, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").await;
    }
    assert!(sync_jobs(&app).await.is_empty());
}

#[tokio::test]
async fn without_a_secret_the_webhooks_are_not_configured() {
    let app = TestApp::spawn().await;
    let event = deleted_event("user_x");
    for path in [V1, SEED] {
        let res = Delivery::new(path, "msg_x", &event).send(&app).await;
        expect_error(res, StatusCode::SERVICE_UNAVAILABLE, "not_configured").await;
    }
    assert!(sync_jobs(&app).await.is_empty());
}

#[tokio::test]
async fn in_multi_tenant_mode_the_tenant_key_chooses_the_tenant() {
    let app = TestApp::spawn_with(|c| {
        c.identity.webhook_key = Some(WebhookKey::parse(SECRET).unwrap());
        c.auth.multi_tenant = true;
    })
    .await;
    let acme = app.create_tenant("Acme").await;
    let event = user_event(
        "user.created",
        "user_mt",
        "mt@example.com",
        "Multi",
        "https://img.clerk.com/m.png",
    );
    let res = Delivery::new(V1, "msg_mt", &event).send(&app).await;
    expect_error(res, StatusCode::UNAUTHORIZED, "missing_auth").await;
    deliver(
        &app,
        &Delivery::new(V1, "msg_mt", &event).with_key(&acme.publishable_key),
        StatusCode::ACCEPTED,
        "queued",
    )
    .await;
    app.run_due_jobs(now_ms()).await;
    let (_, tenant, ..) = user_by_external_id(&app, "user_mt").await.unwrap();
    assert_eq!(tenant, acme.id);
}

/// The signature does not cover the tenant, so a captured delivery re-sent with another
/// tenant's (public) key must be recognised as the same message and ignored.
#[tokio::test]
async fn a_delivery_replayed_to_another_tenant_is_ignored() {
    let app = TestApp::spawn_with(|c| {
        c.identity.webhook_key = Some(WebhookKey::parse(SECRET).unwrap());
        c.auth.multi_tenant = true;
    })
    .await;
    let acme = app.create_tenant("Acme").await;
    let evil = app.create_tenant("Evil").await;
    let event = user_event(
        "user.created",
        "user_x",
        "x@example.com",
        "X",
        "https://img.clerk.com/x.png",
    );
    deliver(
        &app,
        &Delivery::new(V1, "msg_once", &event).with_key(&acme.publishable_key),
        StatusCode::ACCEPTED,
        "queued",
    )
    .await;
    deliver(
        &app,
        &Delivery::new(V1, "msg_once", &event).with_key(&evil.publishable_key),
        StatusCode::OK,
        "replayed",
    )
    .await;
    let jobs: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM jobs WHERE kind = 'identity:sync'")
        .fetch_one(app.db.read())
        .await
        .unwrap();
    assert_eq!(jobs, 1);
}
