use kanri::clock::now_ms;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestApp, read};

async fn post(app: &TestApp, path: &str, body: Value) -> (StatusCode, Value) {
    read(
        app.request(Method::POST, path)
            .json(&body)
            .send()
            .await
            .unwrap(),
    )
    .await
}

/// Runs the queue and returns the token from the newest reset email.
async fn emailed_token(app: &TestApp) -> String {
    app.run_due_jobs(now_ms()).await;
    let mail = app.sent_mail();
    let last = mail.last().expect("a reset email");
    last.text
        .split("token=")
        .nth(1)
        .expect("a link with a token")
        .split_whitespace()
        .next()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn the_answer_never_tells_whether_an_account_exists() {
    let app = TestApp::spawn().await;
    app.register("known@example.com").await;
    let known = post(
        &app,
        "/v1/auth/password-reset/request",
        json!({"email": "KNOWN@example.com"}),
    )
    .await;
    let unknown = post(
        &app,
        "/v1/auth/password-reset/request",
        json!({"email": "nobody@example.com"}),
    )
    .await;
    let malformed = post(
        &app,
        "/v1/auth/password-reset/request",
        json!({"email": "not an email"}),
    )
    .await;
    assert_eq!(known.0, StatusCode::ACCEPTED);
    assert_eq!(known, unknown);
    assert_eq!(known, malformed);
    app.run_due_jobs(now_ms()).await;
    let mail = app.sent_mail();
    assert_eq!(mail.len(), 1);
    assert_eq!(mail[0].to, "known@example.com");
    // Asking again straight away sends nothing more.
    post(
        &app,
        "/v1/auth/password-reset/request",
        json!({"email": "known@example.com"}),
    )
    .await;
    app.run_due_jobs(now_ms()).await;
    assert_eq!(app.sent_mail().len(), 1, "rate-limited per address");
}

#[tokio::test]
async fn completing_sets_the_password_once_and_ends_every_session() {
    let app = TestApp::spawn().await;
    let user = app.register("reset@example.com").await;
    let (_, second) = post(
        &app,
        "/v1/auth/login",
        json!({"email": "reset@example.com", "password": PASSWORD}),
    )
    .await;
    let second = second["data"]["token"].as_str().unwrap().to_string();
    post(
        &app,
        "/v1/auth/password-reset/request",
        json!({"email": "reset@example.com"}),
    )
    .await;
    let token = emailed_token(&app).await;
    let stored: Vec<String> = sqlx::query_scalar("SELECT token_hash FROM password_resets")
        .fetch_all(app.db.read())
        .await
        .unwrap();
    assert_eq!(
        stored,
        vec![kanri::domain::secret_token::sha256_hex(&token)],
        "only the hash is stored"
    );

    // A weak password is refused and does not use the token up.
    let (status, body) = post(
        &app,
        "/v1/auth/password-reset/complete",
        json!({"token": token, "password": "short"}),
    )
    .await;
    assert_eq!(
        (status, body["details"][0]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("password"))
    );
    let (status, body) = post(
        &app,
        "/v1/auth/password-reset/complete",
        json!({"token": token, "password": "brand-new-pass-9"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        app.me(&user.token).await.0,
        StatusCode::UNAUTHORIZED,
        "every session ends"
    );
    assert_eq!(app.me(&second).await.0, StatusCode::UNAUTHORIZED);
    let (status, _) = post(
        &app,
        "/v1/auth/login",
        json!({"email": "reset@example.com", "password": PASSWORD}),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = post(
        &app,
        "/v1/auth/login",
        json!({"email": "reset@example.com", "password": "brand-new-pass-9"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    // Single use.
    let (status, body) = post(
        &app,
        "/v1/auth/password-reset/complete",
        json!({"token": token, "password": "another-pass-9"}),
    )
    .await;
    assert_eq!(
        (status, body["details"][0]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("token"))
    );
}

#[tokio::test]
async fn expired_forged_and_foreign_tokens_are_refused() {
    let app = TestApp::spawn_with(|c| c.auth.multi_tenant = true).await;
    let acme = app.create_tenant("Acme").await;
    let other = app.create_tenant("Other").await;
    app.register_with("a@example.com", Some(&acme.publishable_key))
        .await;
    let request = |key: &str| {
        app.request(Method::POST, "/v1/auth/password-reset/request")
            .header("X-Api-Key", key.to_string())
            .json(&json!({"email": "a@example.com"}))
            .send()
    };
    assert_eq!(
        read(request(&acme.publishable_key).await.unwrap()).await.0,
        StatusCode::ACCEPTED
    );
    let token = emailed_token(&app).await;
    let complete = |key: &str, token: &str| {
        app.request(Method::POST, "/v1/auth/password-reset/complete")
            .header("X-Api-Key", key.to_string())
            .json(&json!({"token": token, "password": "brand-new-pass-9"}))
            .send()
    };
    for (key, token) in [
        (&other.publishable_key, token.as_str()),
        (&acme.publishable_key, "forged"),
        (&acme.publishable_key, &"A".repeat(43)),
    ] {
        let (status, body) = read(complete(key, token).await.unwrap()).await;
        assert_eq!(
            (status, body["details"][0]["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("token")),
            "{body}"
        );
    }
    sqlx::query("UPDATE password_resets SET expires_at = $1")
        .bind(now_ms() - 1)
        .execute(app.db.write())
        .await
        .unwrap();
    let (status, _) = read(complete(&acme.publishable_key, &token).await.unwrap()).await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "expired after an hour"
    );
}

#[tokio::test]
async fn seed_routes_behave_the_same() {
    let app = TestApp::spawn().await;
    app.register("seed@example.com").await;
    let (status, _) = post(
        &app,
        "/auth/password-reset/request",
        json!({"email": "seed@example.com"}),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let token = emailed_token(&app).await;
    let (status, body) = post(
        &app,
        "/auth/password-reset/complete",
        json!({"token": token, "password": "seed-new-pass-1"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["password_reset"], true);
}
