//! Stripe webhooks over HTTP, signed here with Stripe's documented scheme (HMAC-SHA256 of
//! "t.body" with the endpoint secret, hex, in `Stripe-Signature: t=…,v1=…`): good, bad,
//! expired and several signatures, replays, out-of-order events, and the 503 without a
//! secret.

use hmac::{Hmac, KeyInit, Mac};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::helpers::{SignedIn, Tenant, TestApp, expect_error, read};
use crate::plans::{create_plan, with_key};

const SECRET: &str = "whsec_kanri_test_0123456789abcdef";

fn sign(secret: &str, t: i64, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{t}.{body}").as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

fn now_secs() -> i64 {
    kanri::clock::now_ms() / 1000
}

struct Shop {
    app: TestApp,
    tenant: Tenant,
    owner: SignedIn,
    ws: String,
}

async fn shop() -> Shop {
    let app = TestApp::spawn_with(|c| {
        c.billing.stripe_webhook_secret = Some(kanri::config::Secret::new(SECRET.into()));
    })
    .await;
    let tenant = app.create_tenant("Acme").await;
    let owner = app
        .register_with("owner@acme.example", Some(&tenant.publishable_key))
        .await;
    let ws = app.create_workspace(&owner.token, "Acme").await;
    create_plan(
        &app,
        &tenant.secret_key,
        json!({"key": "pro", "name": "Pro", "limits": {"projects": 100},
               "stripe_price_id": "price_pro"}),
    )
    .await;
    Shop {
        app,
        tenant,
        owner,
        ws,
    }
}

impl Shop {
    async fn post(&self, body: &str, signature: Option<String>) -> reqwest::Response {
        let mut req = self
            .app
            .request(Method::POST, "/v1/webhooks/stripe")
            .header("content-type", "application/json")
            .body(body.to_string());
        if let Some(sig) = signature {
            req = req.header("Stripe-Signature", sig);
        }
        req.send().await.unwrap()
    }

    /// Sends `event` signed now and returns the ack's status word.
    async fn deliver(&self, event: &Value) -> (StatusCode, String) {
        let body = event.to_string();
        let t = now_secs();
        let res = self
            .post(&body, Some(format!("t={t},v1={}", sign(SECRET, t, &body))))
            .await;
        let (status, ack) = read(res).await;
        assert!(status.is_success(), "{ack}");
        (status, ack["data"]["status"].as_str().unwrap().to_string())
    }

    async fn subscription(&self) -> Value {
        let (status, body) = self
            .app
            .call(
                Method::GET,
                &format!("/v1/workspaces/{}/subscription", self.ws),
                &self.owner.token,
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["data"].clone()
    }

    async fn run_jobs(&self) -> usize {
        self.app.run_due_jobs(kanri::clock::now_ms()).await
    }

    async fn subscription_events(&self) -> usize {
        let res = with_key(
            &self.app,
            Method::GET,
            "/v1/admin/activity",
            &self.tenant.secret_key,
        )
        .send()
        .await
        .unwrap();
        let (_, log) = read(res).await;
        log["data"]["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["kind"] == "subscription.updated")
            .count()
    }

    fn subscription_event(&self, id: &str, kind: &str, created: i64, status: &str) -> Value {
        json!({
            "id": id, "object": "event", "type": kind, "created": created,
            "data": {"object": {
                "id": "sub_123", "object": "subscription", "customer": "cus_123",
                "status": status, "metadata": {"workspace_id": self.ws},
                "items": {"data": [{"price": {"id": "price_pro"},
                    "current_period_start": created, "current_period_end": created + 2_592_000}]}
            }}
        })
    }
}

#[tokio::test]
async fn without_a_secret_the_endpoint_is_not_configured() {
    let app = TestApp::spawn().await;
    let body = r#"{"id":"evt_1","type":"invoice.paid","created":1,"data":{"object":{}}}"#;
    let t = now_secs();
    let res = app
        .request(Method::POST, "/v1/webhooks/stripe")
        .header(
            "Stripe-Signature",
            format!("t={t},v1={}", sign(SECRET, t, body)),
        )
        .body(body)
        .send()
        .await
        .unwrap();
    expect_error(res, StatusCode::SERVICE_UNAVAILABLE, "not_configured").await;
}

#[tokio::test]
async fn signatures_are_checked_before_anything_is_read() {
    let s = shop().await;
    let event = s.subscription_event(
        "evt_sig",
        "customer.subscription.created",
        now_secs(),
        "active",
    );
    let body = event.to_string();
    let t = now_secs();
    let good = sign(SECRET, t, &body);
    let refused = [
        None,
        Some(format!("t={t},v1={}", sign("whsec_wrong", t, &body))),
        Some(format!("t={t},v1={}", sign(SECRET, t, &format!("{body} ")))),
        Some(format!("v1={good}")),
        // Signed 301 s ago: outside the tolerance.
        Some(format!("t={},v1={}", t - 301, sign(SECRET, t - 301, &body))),
        Some(format!("t={t},v0={good}")),
    ];
    for signature in refused {
        let res = s.post(&body, signature.clone()).await;
        expect_error(res, StatusCode::BAD_REQUEST, "invalid_signature").await;
    }
    // A bad signature over a body that is not even JSON is still a signature failure.
    let res = s.post("not json", Some(format!("t={t},v1=00"))).await;
    expect_error(res, StatusCode::BAD_REQUEST, "invalid_signature").await;
    assert_eq!(s.run_jobs().await, 0, "nothing was queued");
    assert_eq!(s.subscription().await["plan"]["key"], "free");

    // Several v1 signatures (a secret being rolled): one good one is enough.
    let res = s
        .post(
            &body,
            Some(format!(
                "t={t},v1={},v1={good}",
                sign("whsec_old", t, &body)
            )),
        )
        .await;
    let (status, ack) = read(res).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{ack}");
    assert_eq!(
        ack["data"],
        json!({"event_id": "evt_sig", "status": "queued"})
    );
    assert_eq!(s.run_jobs().await, 1);
    let sub = s.subscription().await;
    assert_eq!(sub["plan"]["key"], "pro");
    assert_eq!(sub["status"], "active");
    assert_eq!(sub["stripe_customer_id"], "cus_123");
    assert_eq!(sub["stripe_subscription_id"], "sub_123");
    assert!(sub["current_period_end"].is_string());

    // Signed correctly but not a Stripe event.
    let junk = r#"{"hello": "world"}"#;
    let res = s
        .post(junk, Some(format!("t={t},v1={}", sign(SECRET, t, junk))))
        .await;
    expect_error(res, StatusCode::UNPROCESSABLE_ENTITY, "invalid_body").await;
}

#[tokio::test]
async fn a_replayed_event_is_applied_once() {
    let s = shop().await;
    let event = s.subscription_event(
        "evt_once",
        "customer.subscription.created",
        now_secs(),
        "trialing",
    );
    assert_eq!(
        s.deliver(&event).await,
        (StatusCode::ACCEPTED, "queued".into())
    );
    assert_eq!(s.deliver(&event).await, (StatusCode::OK, "replayed".into()));
    assert_eq!(s.run_jobs().await, 1);
    assert_eq!(s.deliver(&event).await, (StatusCode::OK, "replayed".into()));
    assert_eq!(s.run_jobs().await, 0);
    assert_eq!(s.subscription().await["status"], "trialing");
    assert_eq!(s.subscription_events().await, 1);
}

#[tokio::test]
async fn an_older_event_never_overwrites_newer_state() {
    let s = shop().await;
    let t = now_secs();
    // The newer event arrives first and is applied.
    let newer = s.subscription_event("evt_new", "customer.subscription.updated", t, "active");
    s.deliver(&newer).await;
    s.run_jobs().await;
    // Then an event Stripe created a minute earlier: it changes nothing.
    let older = s.subscription_event(
        "evt_old",
        "customer.subscription.updated",
        t - 60,
        "past_due",
    );
    assert_eq!(s.deliver(&older).await.1, "queued");
    s.run_jobs().await;
    let sub = s.subscription().await;
    assert_eq!(sub["status"], "active");
    assert_eq!(sub["plan"]["key"], "pro");
    assert_eq!(s.subscription_events().await, 1);

    // Invoices find the workspace by the linked customer; a failed payment is past_due.
    let failed = json!({"id": "evt_inv", "type": "invoice.payment_failed", "created": t + 5,
        "data": {"object": {"object": "invoice", "customer": "cus_123"}}});
    s.deliver(&failed).await;
    s.run_jobs().await;
    assert_eq!(s.subscription().await["status"], "past_due");
    let paid = json!({"id": "evt_paid", "type": "invoice.paid", "created": t + 6,
        "data": {"object": {"object": "invoice", "customer": "cus_123",
            "parent": {"subscription_details": {"subscription": "sub_123"}}}}});
    s.deliver(&paid).await;
    s.run_jobs().await;
    assert_eq!(s.subscription().await["status"], "active");

    // Deletion cancels and moves the workspace back to the default plan.
    let deleted = s.subscription_event(
        "evt_del",
        "customer.subscription.deleted",
        t + 10,
        "canceled",
    );
    s.deliver(&deleted).await;
    s.run_jobs().await;
    let sub = s.subscription().await;
    assert_eq!(sub["status"], "canceled");
    assert_eq!(sub["plan"]["key"], "free");
}

#[tokio::test]
async fn checkout_links_the_customer_and_other_types_are_ignored() {
    let s = shop().await;
    let t = now_secs();
    let checkout = json!({"id": "evt_co", "type": "checkout.session.completed", "created": t,
        "data": {"object": {"object": "checkout.session", "client_reference_id": s.ws,
            "customer": "cus_co", "subscription": "sub_co"}}});
    s.deliver(&checkout).await;
    s.run_jobs().await;
    let sub = s.subscription().await;
    assert_eq!(sub["stripe_customer_id"], "cus_co");
    assert_eq!(sub["status"], "active");

    // Another tenant's price is never applied here: the plan is looked up in this tenant.
    let globex = s.app.create_tenant("Globex").await;
    create_plan(
        &s.app,
        &globex.secret_key,
        json!({"key": "theirs", "name": "Theirs", "stripe_price_id": "price_globex"}),
    )
    .await;
    let foreign = json!({"id": "evt_foreign", "type": "customer.subscription.updated",
        "created": t + 1, "data": {"object": {"id": "sub_co", "customer": "cus_co",
            "status": "active", "items": {"data": [{"price": {"id": "price_globex"}}]}}}});
    assert_eq!(s.deliver(&foreign).await.1, "queued");
    s.run_jobs().await;
    assert_eq!(s.subscription().await["plan"]["key"], "free");

    // A type kanri does not apply is acknowledged.
    let other =
        json!({"id": "evt_z", "type": "charge.refunded", "created": t, "data": {"object": {}}});
    assert_eq!(s.deliver(&other).await, (StatusCode::OK, "ignored".into()));
    assert_eq!(s.run_jobs().await, 0);
}

impl Shop {
    /// Sends `event` signed now and returns the raw status and body.
    async fn deliver_raw(&self, event: &Value) -> (StatusCode, Value) {
        let body = event.to_string();
        let t = now_secs();
        let res = self
            .post(&body, Some(format!("t={t},v1={}", sign(SECRET, t, &body))))
            .await;
        read(res).await
    }
}

#[tokio::test]
async fn an_event_for_a_workspace_not_located_yet_is_retried_not_lost() {
    let s = shop().await;
    let t = now_secs();
    // The subscription's events can arrive before the checkout that links it.
    let early = json!({"id": "evt_early", "type": "customer.subscription.created",
        "created": t, "data": {"object": {"id": "sub_late", "customer": "cus_late",
            "status": "active", "items": {"data": [{"price": {"id": "price_pro"}}]}}}});
    let unknown = json!({"id": "evt_nobody", "type": "invoice.paid", "created": t,
        "data": {"object": {"customer": "cus_nobody"}}});
    for event in [&early, &unknown] {
        let (status, body) = s.deliver_raw(event).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
        assert_eq!(body["code"], "unavailable", "{body}");
        assert!(
            body["message"].as_str().unwrap().contains("not known yet"),
            "{body}"
        );
    }
    assert_eq!(s.run_jobs().await, 0);

    let checkout = json!({"id": "evt_link", "type": "checkout.session.completed",
        "created": t + 1, "data": {"object": {"client_reference_id": s.ws,
            "customer": "cus_late", "subscription": "sub_late"}}});
    assert_eq!(s.deliver(&checkout).await.1, "queued");
    s.run_jobs().await;
    // Stripe's redelivery of the same event id is now queued, not "replayed": the 503 did
    // not record it.
    assert_eq!(
        s.deliver(&early).await,
        (StatusCode::ACCEPTED, "queued".into())
    );
    s.run_jobs().await;
    assert_eq!(s.subscription().await["plan"]["key"], "pro");
}

#[tokio::test]
async fn a_subscription_event_older_than_an_invoice_still_sets_the_plan() {
    let s = shop().await;
    let t = now_secs();
    let paid = json!({"id": "evt_paid_first", "type": "invoice.paid", "created": t,
        "data": {"object": {"customer": "cus_123", "metadata": {"workspace_id": s.ws},
            "parent": {"subscription_details": {"subscription": "sub_123"}}}}});
    s.deliver(&paid).await;
    s.run_jobs().await;
    assert_eq!(s.subscription().await["plan"]["key"], "free");
    // Created by Stripe a second before the invoice, delivered after it.
    let created = s.subscription_event(
        "evt_created_late",
        "customer.subscription.created",
        t - 1,
        "incomplete",
    );
    s.deliver(&created).await;
    s.run_jobs().await;
    let sub = s.subscription().await;
    assert_eq!(sub["plan"]["key"], "pro", "{sub}");
    assert!(sub["current_period_end"].is_string(), "{sub}");
    // Its older status does not undo the newer payment.
    assert_eq!(sub["status"], "active", "{sub}");
    // An event of another subscription of the customer changes nothing.
    let other = json!({"id": "evt_other_sub", "type": "customer.subscription.deleted",
        "created": t + 5, "data": {"object": {"id": "sub_other", "customer": "cus_123",
            "status": "canceled", "metadata": {"workspace_id": s.ws}}}});
    s.deliver(&other).await;
    s.run_jobs().await;
    assert_eq!(s.subscription().await["status"], "active");
}
