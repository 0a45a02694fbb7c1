//! Subscriptions: the default plan of new workspaces, read by members and the tenant's
//! server, set with the secret key; and the usage-records range checks.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{expect_error, read};
use crate::plans::{create_plan, with_key};
use crate::quotas::world;

#[tokio::test]
async fn new_workspaces_are_on_the_default_plan_and_members_read_it() {
    let w = world().await;
    let path = format!("/v1/workspaces/{}/subscription", w.ws);
    let (status, body) = w.app.call(Method::GET, &path, &w.owner.token, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let sub = &body["data"];
    assert_eq!(sub["plan"]["key"], "free");
    assert_eq!(sub["status"], "active");
    assert_eq!(sub["features"], json!([]));
    assert_eq!(sub["limits"]["projects"], Value::Null);
    assert!(sub["current_period_start"].is_string());
    assert_eq!(sub["current_period_end"], Value::Null);

    // The tenant's server reads it too; strangers and other tenants do not find it.
    let res = with_key(&w.app, Method::GET, &path, &w.tenant.secret_key)
        .send()
        .await
        .unwrap();
    assert_eq!(read(res).await.1["data"], *sub);
    let stranger = w.register("stranger@acme.example").await;
    let res = w
        .app
        .as_user(Method::GET, &path, &stranger.token)
        .send()
        .await
        .unwrap();
    expect_error(res, StatusCode::NOT_FOUND, "not_found").await;
    let globex = w.app.create_tenant("Globex").await;
    for method in [Method::GET, Method::PUT] {
        let res = with_key(&w.app, method, &path, &globex.secret_key)
            .json(&json!({"status": "canceled"}))
            .send()
            .await
            .unwrap();
        expect_error(res, StatusCode::NOT_FOUND, "not_found").await;
    }
    // A member may read but not set it.
    let res = w
        .app
        .as_user(Method::PUT, &path, &w.owner.token)
        .json(&json!({"status": "canceled"}))
        .send()
        .await
        .unwrap();
    let (status, _) = read(res).await;
    assert!(status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_secret_key_sets_plan_status_and_period_end() {
    let w = world().await;
    create_plan(
        &w.app,
        &w.tenant.secret_key,
        json!({"key": "pro", "name": "Pro", "features": ["sso"], "limits": {"projects": 10}}),
    )
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let before = kanri::clock::now_ms();
    let sub = w
        .put_subscription(json!({"plan_key": "pro", "status": "trialing",
                                 "current_period_end": "2031-01-31T00:00:00Z"}))
        .await;
    assert_eq!(sub["plan"]["key"], "pro");
    assert_eq!(sub["status"], "trialing");
    assert_eq!(sub["features"], json!(["sso"]));
    assert_eq!(sub["limits"]["projects"], 10);
    assert_eq!(sub["current_period_end"], "2031-01-31T00:00:00.000Z");
    // A new period end starts the period now (the allowance counts from the start).
    let started =
        chrono::DateTime::parse_from_rfc3339(sub["current_period_start"].as_str().unwrap())
            .unwrap()
            .timestamp_millis();
    assert!(started >= before, "{sub}");
    // Left out, fields stay; null clears the period end.
    let sub = w
        .put_subscription(json!({"status": "PAST_DUE", "current_period_end": null}))
        .await;
    assert_eq!(sub["plan"]["key"], "pro");
    assert_eq!(sub["status"], "past_due");
    assert_eq!(sub["current_period_end"], Value::Null);

    let path = format!("/v1/workspaces/{}/subscription", w.ws);
    for body in [
        json!({"status": "paused"}),
        json!({"plan_key": "nope"}),
        json!({"current_period_end": "soon"}),
        json!({"plan_key": "pro", "plan_id": "x"}),
    ] {
        let res = with_key(&w.app, Method::PUT, &path, &w.tenant.secret_key)
            .json(&body)
            .send()
            .await
            .unwrap();
        expect_error(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    }
    // The change is in the workspace's activity, as `subscription.updated`.
    let res = with_key(
        &w.app,
        Method::GET,
        "/v1/admin/activity",
        &w.tenant.secret_key,
    )
    .send()
    .await
    .unwrap();
    let (_, log) = read(res).await;
    let updates: Vec<&Value> = log["data"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "subscription.updated")
        .collect();
    assert_eq!(updates.len(), 2, "{log}");
    assert_eq!(updates[0]["workspace_id"], w.ws.as_str(), "{log}");
    // A plan in use cannot be deleted until its workspaces move.
    let pro = sub["plan"]["id"].as_str().unwrap();
    let res = with_key(
        &w.app,
        Method::DELETE,
        &format!("/v1/plans/{pro}"),
        &w.tenant.secret_key,
    )
    .send()
    .await
    .unwrap();
    expect_error(res, StatusCode::CONFLICT, "plan_in_use").await;
    w.put_subscription(json!({"plan_key": "free"})).await;
    let res = with_key(
        &w.app,
        Method::DELETE,
        &format!("/v1/plans/{pro}"),
        &w.tenant.secret_key,
    )
    .send()
    .await
    .unwrap();
    assert_eq!(read(res).await.0, StatusCode::OK);
}

#[tokio::test]
async fn usage_records_validate_their_range() {
    let w = world().await;
    let base = format!("/v1/workspaces/{}/usage/records", w.ws);
    let (status, body) = w.app.call(Method::GET, &base, &w.owner.token, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"], json!([]), "nothing flushed yet");
    for query in [
        "?from=2026-02-30",
        "?from=yesterday",
        "?from=2026-03-01&to=2026-02-01",
        "?from=2024-01-01&to=2026-01-01",
    ] {
        let (status, body) = w
            .app
            .call(Method::GET, &format!("{base}{query}"), &w.owner.token, None)
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{query}: {body}");
        assert_eq!(body["code"], "validation_failed");
    }
    // Years chrono parses but no usage day has: once a panic in the 30-day default.
    for (query, field) in [
        ("?to=-262144-01-01", "to"),
        ("?to=+262143-12-31", "to"),
        ("?from=1969-12-31&to=1970-01-01", "from"),
        ("?to=10000-01-01", "to"),
    ] {
        let (status, body) = w
            .app
            .call(Method::GET, &format!("{base}{query}"), &w.owner.token, None)
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{query}: {body}");
        assert_eq!(body["code"], "validation_failed");
        assert_eq!(body["details"][0]["field"], field, "{query}: {body}");
    }
    let stranger = w.register("s@acme.example").await;
    let (status, _) = w.app.call(Method::GET, &base, &stranger.token, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
