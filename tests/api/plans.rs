//! Plans: the tenant's catalogue, written and read with its secret key; the default plan
//! `free`; isolation between tenants.

use reqwest::{Method, RequestBuilder, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, expect_error, read};

pub fn with_key(app: &TestApp, method: Method, path: &str, key: &str) -> RequestBuilder {
    app.request(method, path).header("X-Api-Key", key)
}

pub async fn create_plan(app: &TestApp, key: &str, body: Value) -> Value {
    let res = with_key(app, Method::POST, "/v1/plans", key)
        .json(&body)
        .send()
        .await
        .unwrap();
    let (status, body) = read(res).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["data"].clone()
}

pub async fn list_plans(app: &TestApp, key: &str) -> Vec<Value> {
    let res = with_key(app, Method::GET, "/v1/plans", key)
        .send()
        .await
        .unwrap();
    let (status, body) = read(res).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["data"]["items"].as_array().unwrap().clone()
}

#[tokio::test]
async fn plans_are_created_read_updated_and_deleted_with_the_secret_key() {
    let app = TestApp::spawn().await;
    let acme = app.create_tenant("Acme").await;
    let sk = acme.secret_key.as_str();

    // Every tenant starts with the default plan, unlimited.
    let plans = list_plans(&app, sk).await;
    assert_eq!(plans.len(), 1, "{plans:?}");
    assert_eq!(plans[0]["key"], "free");
    assert_eq!(plans[0]["is_default"], true);
    assert_eq!(
        plans[0]["limits"],
        json!({"projects": null, "members": null, "storage_bytes": null,
               "api_calls_per_month": null, "rate_limit_per_minute": null})
    );

    let pro = create_plan(
        &app,
        sk,
        json!({"key": "pro", "name": "Pro", "features": ["sso", "audit", "sso"],
               "limits": {"projects": 10, "members": 25}, "stripe_price_id": "price_pro"}),
    )
    .await;
    assert_eq!(pro["features"], json!(["sso", "audit"]));
    assert_eq!(pro["limits"]["projects"], 10);
    assert_eq!(
        pro["limits"]["storage_bytes"],
        Value::Null,
        "missing = unlimited"
    );
    assert_eq!(pro["stripe_price_id"], "price_pro");
    assert_eq!(pro["is_default"], false);
    let id = pro["id"].as_str().unwrap();

    let res = with_key(&app, Method::GET, &format!("/v1/plans/{id}"), sk)
        .send()
        .await
        .unwrap();
    let (status, got) = read(res).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(got["data"], pro);

    // PATCH: limits are replaced whole; a null price removes it.
    let res = with_key(&app, Method::PATCH, &format!("/v1/plans/{id}"), sk)
        .json(&json!({"name": "Pro+", "limits": {"projects": 20}, "stripe_price_id": null}))
        .send()
        .await
        .unwrap();
    let (status, updated) = read(res).await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(updated["data"]["name"], "Pro+");
    assert_eq!(updated["data"]["limits"]["projects"], 20);
    assert_eq!(updated["data"]["limits"]["members"], Value::Null);
    assert_eq!(updated["data"]["stripe_price_id"], Value::Null);
    assert_eq!(updated["data"]["features"], json!(["sso", "audit"]));

    // Duplicate key.
    let res = with_key(&app, Method::POST, "/v1/plans", sk)
        .json(&json!({"key": "pro", "name": "Again"}))
        .send()
        .await
        .unwrap();
    expect_error(res, StatusCode::CONFLICT, "plan_exists").await;
    let res = with_key(&app, Method::POST, "/v1/plans", sk)
        .json(&json!({"key": "free", "name": "Free again"}))
        .send()
        .await
        .unwrap();
    expect_error(res, StatusCode::CONFLICT, "plan_exists").await;

    let res = with_key(&app, Method::DELETE, &format!("/v1/plans/{id}"), sk)
        .send()
        .await
        .unwrap();
    let (status, _) = read(res).await;
    assert_eq!(status, StatusCode::OK);
    let res = with_key(&app, Method::GET, &format!("/v1/plans/{id}"), sk)
        .send()
        .await
        .unwrap();
    expect_error(res, StatusCode::NOT_FOUND, "not_found").await;

    // The default plan cannot go.
    let free = list_plans(&app, sk).await[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let res = with_key(&app, Method::DELETE, &format!("/v1/plans/{free}"), sk)
        .send()
        .await
        .unwrap();
    expect_error(res, StatusCode::CONFLICT, "plan_in_use").await;
}

#[tokio::test]
async fn bad_plans_are_refused_with_every_field_named() {
    let app = TestApp::spawn().await;
    let acme = app.create_tenant("Acme").await;
    let sk = acme.secret_key.as_str();
    let res = with_key(&app, Method::POST, "/v1/plans", sk)
        .json(&json!({"key": "Not A Key", "name": "", "limits": {"projects": -1}}))
        .send()
        .await
        .unwrap();
    let body = expect_error(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    let fields: Vec<&str> = body["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["key", "name", "limits"], "{body}");
    for (payload, code) in [
        (json!({"name": "No key"}), "validation_failed"),
        (
            json!({"key": "k", "name": "n", "limits": {"projects": "ten"}}),
            "invalid_body",
        ),
        (
            json!({"key": "k", "name": "n", "limits": {"seats": 3}}),
            "validation_failed",
        ),
        (
            json!({"key": "k", "name": "n", "limits": {"rate_limit_per_minute": 0}}),
            "validation_failed",
        ),
    ] {
        let res = with_key(&app, Method::POST, "/v1/plans", sk)
            .json(&payload)
            .send()
            .await
            .unwrap();
        expect_error(res, StatusCode::UNPROCESSABLE_ENTITY, code).await;
    }
    // The default plan keeps its key.
    let free = list_plans(&app, sk).await[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let res = with_key(&app, Method::PATCH, &format!("/v1/plans/{free}"), sk)
        .json(&json!({"key": "basic"}))
        .send()
        .await
        .unwrap();
    expect_error(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
}

#[tokio::test]
async fn plans_need_the_secret_key_and_stay_in_their_tenant() {
    let app = TestApp::spawn().await;
    let acme = app.create_tenant("Acme").await;
    let globex = app.create_tenant("Globex").await;
    let pro = create_plan(&app, &acme.secret_key, json!({"key": "pro", "name": "Pro"})).await;
    let id = pro["id"].as_str().unwrap();

    // Another tenant's plan is not found, for every verb; its list holds only its own.
    for method in [Method::GET, Method::PATCH, Method::DELETE] {
        let mut req = with_key(
            &app,
            method.clone(),
            &format!("/v1/plans/{id}"),
            &globex.secret_key,
        );
        if method == Method::PATCH {
            req = req.json(&json!({"name": "Stolen"}));
        }
        expect_error(
            req.send().await.unwrap(),
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
    }
    let theirs = list_plans(&app, &globex.secret_key).await;
    assert_eq!(theirs.len(), 1);
    assert_eq!(theirs[0]["key"], "free");
    // The same key is free in another tenant.
    create_plan(
        &app,
        &globex.secret_key,
        json!({"key": "pro", "name": "Pro"}),
    )
    .await;

    // A publishable key or a session is not enough.
    let res = with_key(&app, Method::GET, "/v1/plans", &acme.publishable_key)
        .send()
        .await
        .unwrap();
    expect_error(res, StatusCode::FORBIDDEN, "secret_key_required").await;
    let user = app
        .register_with("u@acme.example", Some(&acme.publishable_key))
        .await;
    let res = app
        .as_user(Method::POST, "/v1/plans", &user.token)
        .json(&json!({"key": "x", "name": "X"}))
        .send()
        .await
        .unwrap();
    expect_error(res, StatusCode::FORBIDDEN, "secret_key_required").await;
}

#[tokio::test]
async fn the_tenant_rate_limit_is_the_default_plans() {
    let app = TestApp::spawn().await;
    let acme = app.create_tenant("Acme").await;
    let rate = |app: &TestApp, tenant: String| {
        let cx = app.cx.clone();
        async move {
            kanri::services::plans::tenant_rate_limit(&cx, &tenant)
                .await
                .unwrap()
        }
    };
    assert_eq!(rate(&app, acme.id.clone()).await, None);
    let free = list_plans(&app, &acme.secret_key).await[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let res = with_key(
        &app,
        Method::PATCH,
        &format!("/v1/plans/{free}"),
        &acme.secret_key,
    )
    .json(&json!({"limits": {"rate_limit_per_minute": 120}}))
    .send()
    .await
    .unwrap();
    assert_eq!(read(res).await.0, StatusCode::OK);
    assert_eq!(rate(&app, acme.id.clone()).await, Some(120));
    // Another plan's limit does not change the tenant's.
    create_plan(
        &app,
        &acme.secret_key,
        json!({"key": "pro", "name": "Pro", "limits": {"rate_limit_per_minute": 9000}}),
    )
    .await;
    assert_eq!(rate(&app, acme.id.clone()).await, Some(120));
    assert_eq!(rate(&app, "default".into()).await, None);
}
