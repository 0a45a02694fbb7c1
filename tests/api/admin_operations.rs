//! The operator's API beyond users and jobs: keys (list with last use, create shown once,
//! revoke, never the last secret key), every workspace with its billing, and the health read.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, expect_error, read};

async fn as_operator(
    app: &TestApp,
    key: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut req = app.request(method, path).header("X-Api-Key", key);
    if let Some(body) = body {
        req = req.json(&body);
    }
    read(req.send().await.unwrap()).await
}

/// Creates a secret key with `operator_key`; returns the key and its id.
async fn new_secret_key(app: &TestApp, operator_key: &str, name: &str) -> (String, String) {
    let (status, body) = as_operator(
        app,
        operator_key,
        Method::POST,
        "/v1/admin/keys",
        Some(json!({"kind": "secret", "name": name})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    (
        body["data"]["api_key"].as_str().unwrap().to_string(),
        body["data"]["key"]["id"].as_str().unwrap().to_string(),
    )
}

/// The id of a secret key of `operator_key`'s tenant other than `except`.
async fn secret_key_other_than(app: &TestApp, operator_key: &str, except: &str) -> String {
    let (_, body) = as_operator(app, operator_key, Method::GET, "/v1/admin/keys", None).await;
    body["data"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kind"] == "secret" && k["id"] != except)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn operator_creates_lists_and_revokes_keys_of_its_own_tenant_only() {
    let app = TestApp::spawn().await;
    let acme = app.create_tenant("Acme").await;
    let other = app.create_tenant("Other").await;

    let (status, body) = as_operator(
        &app,
        &acme.secret_key,
        Method::POST,
        "/v1/admin/keys",
        Some(json!({"kind": "secret", "name": "deploy bot"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let new_key = body["data"]["api_key"].as_str().unwrap().to_string();
    let new_id = body["data"]["key"]["id"].as_str().unwrap().to_string();
    assert!(new_key.starts_with("sk_live_"), "{body}");
    assert_eq!(body["data"]["key"]["kind"], "secret");
    assert_eq!(body["data"]["key"]["last_used_at"], Value::Null);

    // The new key works, and listings show hints, never a key.
    let (status, _) = as_operator(&app, &new_key, Method::GET, "/v1/admin/users", None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) =
        as_operator(&app, &acme.secret_key, Method::GET, "/v1/admin/keys", None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let items = body["data"]["items"].as_array().unwrap();
    assert_eq!(items.len(), 3, "{body}");
    assert!(!body.to_string().contains(&new_key));
    assert!(!body.to_string().contains(&acme.secret_key));
    assert!(items.iter().all(|k| k["tenant_id"] == acme.id.as_str()));

    // Bad input: an unknown kind, an empty name, an unknown field.
    for bad in [
        json!({"kind": "root", "name": "x"}),
        json!({"kind": "secret", "name": "  "}),
        json!({"kind": "secret", "name": "x", "scopes": ["*"]}),
    ] {
        let (status, body) = as_operator(
            &app,
            &acme.secret_key,
            Method::POST,
            "/v1/admin/keys",
            Some(bad),
        )
        .await;
        assert!(
            status == StatusCode::UNPROCESSABLE_ENTITY || status == StatusCode::BAD_REQUEST,
            "{status} {body}"
        );
    }

    // Another tenant's key id is not found, and nothing of it is revoked.
    let others_secret = secret_key_other_than(&app, &other.secret_key, "").await;
    let path = format!("/v1/admin/keys/{others_secret}");
    let (status, _) = as_operator(&app, &acme.secret_key, Method::DELETE, &path, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = as_operator(
        &app,
        &other.secret_key,
        Method::GET,
        "/v1/admin/users",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "the other tenant's key still works");

    // A publishable key cannot manage keys.
    let (status, _) = as_operator(
        &app,
        &acme.publishable_key,
        Method::GET,
        "/v1/admin/keys",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Revoking the first secret key with the new one: it stops working at once.
    let first_secret = secret_key_other_than(&app, &new_key, &new_id).await;
    let (status, body) = as_operator(
        &app,
        &new_key,
        Method::DELETE,
        &format!("/v1/admin/keys/{first_secret}"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let res = app
        .request(Method::GET, "/v1/admin/users")
        .header("X-Api-Key", &acme.secret_key)
        .send()
        .await
        .unwrap();
    expect_error(res, StatusCode::UNAUTHORIZED, "invalid_api_key").await;
    let (status, _) = as_operator(
        &app,
        &new_key,
        Method::DELETE,
        &format!("/v1/admin/keys/{first_secret}"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "revoking twice");

    // The last secret key is kept: revoking it would lock the operator out.
    let res = app
        .request(Method::DELETE, &format!("/v1/admin/keys/{new_id}"))
        .header("X-Api-Key", &new_key)
        .send()
        .await
        .unwrap();
    expect_error(res, StatusCode::CONFLICT, "last_secret_key").await;
    let (_, body) = as_operator(&app, &new_key, Method::GET, "/v1/admin/keys", None).await;
    let revoked: Vec<&Value> = body["data"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|k| !k["revoked_at"].is_null())
        .collect();
    assert_eq!(revoked.len(), 1, "{body}");
    assert_eq!(revoked[0]["id"], first_secret.as_str());
}

#[tokio::test]
async fn concurrent_revocations_never_revoke_the_last_secret_key() {
    let app = TestApp::spawn().await;
    let acme = app.create_tenant("Acme").await;
    let (second_key, second_id) = new_secret_key(&app, &acme.secret_key, "second").await;
    let first_id = secret_key_other_than(&app, &acme.secret_key, &second_id).await;
    // Each key revokes the other at the same moment: one may win, never both.
    let (revoke_second, revoke_first) = (
        format!("/v1/admin/keys/{second_id}"),
        format!("/v1/admin/keys/{first_id}"),
    );
    let (a, b) = tokio::join!(
        as_operator(&app, &acme.secret_key, Method::DELETE, &revoke_second, None),
        as_operator(&app, &second_key, Method::DELETE, &revoke_first, None),
    );
    let succeeded = [a.0, b.0].iter().filter(|s| **s == StatusCode::OK).count();
    assert!(succeeded <= 1, "{a:?} {b:?}");
    let active: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM api_keys WHERE tenant_id = $1 AND kind = 'secret' AND revoked_at IS NULL",
    )
    .bind(&acme.id)
    .fetch_one(app.db.read())
    .await
    .unwrap();
    assert!(active >= 1, "{a:?} {b:?}");
}

#[tokio::test]
async fn operator_sees_every_workspace_with_its_plan_and_usage() {
    let app = TestApp::spawn().await;
    let acme = app.create_tenant("Acme").await;
    let other = app.create_tenant("Other").await;
    let alice = app
        .register_with("alice@example.com", Some(&acme.publishable_key))
        .await;
    let bob = app
        .register_with("bob@example.com", Some(&acme.publishable_key))
        .await;
    let stranger = app
        .register_with("carol@example.com", Some(&other.publishable_key))
        .await;
    let a = app.create_workspace(&alice.token, "Alpha").await;
    let b = app.create_workspace(&bob.token, "Beta").await;
    let hidden = app.create_workspace(&stranger.token, "Gamma").await;
    app.create_project(&alice.token, &a, json!({"name": "One"}))
        .await;

    let (status, body) = as_operator(
        &app,
        &acme.secret_key,
        Method::GET,
        "/v1/admin/workspaces?limit=100",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let items = body["data"]["items"].as_array().unwrap();
    let ids: Vec<&str> = items
        .iter()
        .map(|w| w["workspace"]["id"].as_str().unwrap())
        .collect();
    assert!(
        ids.contains(&a.as_str()) && ids.contains(&b.as_str()),
        "{body}"
    );
    assert!(
        !ids.contains(&hidden.as_str()),
        "another tenant's workspace: {body}"
    );
    let alpha = items
        .iter()
        .find(|w| w["workspace"]["id"] == a.as_str())
        .unwrap();
    assert_eq!(alpha["usage"]["projects"]["used"], 1, "{alpha}");
    assert!(alpha["subscription"]["plan"]["key"].is_string(), "{alpha}");

    // Pages follow each other without repeats.
    let (_, first) = as_operator(
        &app,
        &acme.secret_key,
        Method::GET,
        "/v1/admin/workspaces?limit=1",
        None,
    )
    .await;
    let cursor = first["data"]["next_cursor"]
        .as_str()
        .expect("a next page")
        .to_string();
    let (_, second) = as_operator(
        &app,
        &acme.secret_key,
        Method::GET,
        &format!("/v1/admin/workspaces?limit=1&cursor={cursor}"),
        None,
    )
    .await;
    assert_ne!(
        first["data"]["items"][0]["workspace"]["id"],
        second["data"]["items"][0]["workspace"]["id"]
    );

    // A member's session is not the operator.
    let (status, _) = app
        .call(Method::GET, "/v1/admin/workspaces", &alice.token, None)
        .await;
    assert!(
        status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN,
        "{status}"
    );
}

#[tokio::test]
async fn health_reports_every_part_and_the_key_figures() {
    let app = TestApp::spawn().await;
    let acme = app.create_tenant("Acme").await;
    // Some traffic, so the request counter has something to sum.
    for _ in 0..3 {
        app.get("/healthz").await;
    }
    let (status, body) = as_operator(
        &app,
        &acme.secret_key,
        Method::GET,
        "/v1/admin/health",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let h = &body["data"];
    assert_eq!(h["database"]["reachable"], true, "{h}");
    let engine = if std::env::var("KANRI_TEST_DATABASE_URL").is_ok() {
        "postgres"
    } else {
        "sqlite"
    };
    assert_eq!(h["database"]["engine"], engine);
    assert_eq!(h["storage"]["reachable"], true, "{h}");
    assert!(["local", "s3"].contains(&h["storage"]["backend"].as_str().unwrap()));
    assert_eq!(h["mail"]["transport"], "file");
    assert!(h["realtime"]["connections"].is_u64());
    assert!(
        h["metrics"]["http_requests_total"].as_f64().unwrap() >= 3.0,
        "{h}"
    );
    assert!(
        h["metrics"]["process_resident_memory_bytes"]
            .as_f64()
            .unwrap()
            > 0.0,
        "{h}"
    );
    assert!(h["metrics"]["http_server_errors"].is_number());
    assert!(!body.to_string().contains(&acme.secret_key));

    let res = app
        .request(Method::GET, "/v1/admin/health")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}
