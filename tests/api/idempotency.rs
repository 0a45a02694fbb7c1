use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestApp, read};

async fn post_with_key(
    app: &TestApp,
    path: &str,
    token: &str,
    key: &str,
    body: Value,
) -> (StatusCode, Value, bool) {
    let res = app
        .as_user(Method::POST, path, token)
        .header("Idempotency-Key", key)
        .json(&body)
        .send()
        .await
        .unwrap();
    let replayed = res.headers().get("idempotent-replayed").is_some();
    let (status, body) = read(res).await;
    (status, body, replayed)
}

#[tokio::test]
async fn a_retry_returns_the_first_response_and_creates_nothing() {
    let app = TestApp::spawn().await;
    let user = app.register("retry@example.com").await;
    let (s1, first, r1) = post_with_key(
        &app,
        "/v1/workspaces",
        &user.token,
        "ws-1",
        json!({"name": "Once"}),
    )
    .await;
    let (s2, second, r2) = post_with_key(
        &app,
        "/v1/workspaces",
        &user.token,
        "ws-1",
        json!({"name": "Once"}),
    )
    .await;
    assert_eq!((s1, s2), (StatusCode::CREATED, StatusCode::CREATED));
    assert!(!r1 && r2, "only the retry is marked as replayed");
    assert_eq!(first["data"], second["data"]);
    let (_, list) = app
        .call(Method::GET, "/v1/workspaces", &user.token, None)
        .await;
    assert_eq!(list["data"]["items"].as_array().unwrap().len(), 1);

    // The same key with another body is refused and creates nothing.
    let (status, body, _) = post_with_key(
        &app,
        "/v1/workspaces",
        &user.token,
        "ws-1",
        json!({"name": "Other"}),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("idempotency_key_reused")
        )
    );
    // Another caller's identical key is theirs alone.
    let other = app.register("other@example.com").await;
    let (status, body, replayed) = post_with_key(
        &app,
        "/v1/workspaces",
        &other.token,
        "ws-1",
        json!({"name": "Once"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    assert!(!replayed);
    assert_ne!(body["data"]["id"], first["data"]["id"]);
}

#[tokio::test]
async fn failures_are_not_remembered() {
    let app = TestApp::spawn().await;
    let user = app.register("fail@example.com").await;
    let (status, _, _) = post_with_key(
        &app,
        "/v1/workspaces",
        &user.token,
        "k",
        json!({"name": ""}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, body, replayed) = post_with_key(
        &app,
        "/v1/workspaces",
        &user.token,
        "k",
        json!({"name": "Fixed"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert!(!replayed);
    let (status, body, _) = post_with_key(
        &app,
        "/v1/workspaces",
        &user.token,
        "bad key",
        json!({"name": "x"}),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("validation_failed"))
    );
}

#[tokio::test]
async fn concurrent_retries_create_one_task() {
    let app = TestApp::spawn().await;
    let user = app.register("race@example.com").await;
    let ws = app.create_workspace(&user.token, "Team").await;
    let project = app
        .create_project(&user.token, &ws, json!({"name": "P"}))
        .await;
    let path = format!("/v1/projects/{project}/tasks");
    let mut attempts = tokio::task::JoinSet::new();
    for _ in 0..6 {
        let req = app
            .as_user(Method::POST, &path, &user.token)
            .header("Idempotency-Key", "task-42")
            .json(&json!({"title": "Exactly once"}));
        attempts.spawn(async move { req.send().await.unwrap().status() });
    }
    let statuses = attempts.join_all().await;
    assert!(
        statuses
            .iter()
            .all(|s| *s == StatusCode::CREATED || *s == StatusCode::CONFLICT),
        "{statuses:?}"
    );
    let (_, tasks) = app.call(Method::GET, &path, &user.token, None).await;
    assert_eq!(tasks["data"]["items"].as_array().unwrap().len(), 1);
    // Once the first has finished, a retry replays it.
    let (status, body, replayed) = post_with_key(
        &app,
        &path,
        &user.token,
        "task-42",
        json!({"title": "Exactly once"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    assert!(replayed);
    assert_eq!(body["data"]["id"], tasks["data"]["items"][0]["id"]);
}

#[tokio::test]
async fn sign_up_responses_are_never_stored() {
    let app = TestApp::spawn().await;
    let body = json!({"email": "once@example.com", "password": PASSWORD, "name": "Once"});
    let send = || {
        app.request(Method::POST, "/v1/auth/register")
            .header("Idempotency-Key", "signup")
            .json(&body)
            .send()
    };
    let (first, _) = read(send().await.unwrap()).await;
    let (second, resp) = read(send().await.unwrap()).await;
    assert_eq!(first, StatusCode::CREATED);
    assert_eq!(
        (second, resp["code"].as_str()),
        (StatusCode::CONFLICT, Some("email_taken"))
    );
    let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM idempotency_keys")
        .fetch_one(app.db.read())
        .await
        .unwrap();
    assert_eq!(stored, 0);
}
