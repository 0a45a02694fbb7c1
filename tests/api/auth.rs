use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{PASSWORD, TestApp, expect_error, read};

#[tokio::test]
async fn register_returns_user_and_a_working_session() {
    let app = TestApp::spawn().await;
    let res = app
        .post_json(
            "/v1/auth/register",
            &json!({"email": "Ada@Example.com", "password": PASSWORD, "name": "Ada Lovelace"}),
        )
        .await;
    let (status, body) = read(res).await;
    assert_eq!(status, StatusCode::CREATED);
    let data = &body["data"];
    assert_eq!(data["user"]["email"], "Ada@Example.com");
    assert_eq!(data["user"]["name"], "Ada Lovelace");
    assert!(data["user"]["id"].is_string());
    assert!(data["user"].get("password_hash").is_none());
    let token = data["token"].as_str().unwrap();
    assert!(token.len() >= 22, "at least 128 bits of base62");
    let expires =
        chrono::DateTime::parse_from_rfc3339(data["expires_at"].as_str().unwrap()).unwrap();
    let ttl = expires.timestamp() - chrono::Utc::now().timestamp();
    assert!((604_700..=604_800).contains(&ttl), "ttl {ttl}");

    let (status, me) = app.me(token).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["data"]["user"]["id"], data["user"]["id"]);
    assert_eq!(me["data"]["tenant_id"], "default");
}

#[tokio::test]
async fn login_is_case_insensitive_and_resolves_to_the_same_user() {
    let app = TestApp::spawn().await;
    let user = app.register("grace@example.com").await;
    let res = app
        .post_json(
            "/v1/auth/login",
            &json!({"email": "GRACE@Example.COM", "password": PASSWORD}),
        )
        .await;
    let (status, body) = read(res).await;
    assert_eq!(status, StatusCode::OK);
    let token = body["data"]["token"].as_str().unwrap();
    assert_ne!(token, user.token, "each sign-in gets its own session");
    let (_, me) = app.me(token).await;
    assert_eq!(me["data"]["user"]["id"], user.user_id.as_str());
}

#[tokio::test]
async fn duplicate_email_in_any_case_is_a_conflict() {
    let app = TestApp::spawn().await;
    app.register("linus@example.com").await;
    let res = app
        .post_json(
            "/v1/auth/register",
            &json!({"email": "LINUS@example.com", "password": PASSWORD, "name": "Other"}),
        )
        .await;
    expect_error(res, StatusCode::CONFLICT, "email_taken").await;
}

#[tokio::test]
async fn wrong_password_and_unknown_email_look_the_same() {
    let app = TestApp::spawn().await;
    app.register("known@example.com").await;
    let wrong = app
        .post_json(
            "/v1/auth/login",
            &json!({"email": "known@example.com", "password": "not-it-123"}),
        )
        .await;
    let wrong = expect_error(wrong, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    let unknown = app
        .post_json(
            "/v1/auth/login",
            &json!({"email": "nobody@example.com", "password": "not-it-123"}),
        )
        .await;
    let unknown = expect_error(unknown, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    assert_eq!(wrong["message"], unknown["message"]);
    for (email, password) in [
        ("not-an-email", "whatever1"),
        ("known@example.com", ""),
        ("known@example.com", &"x".repeat(300)),
    ] {
        let res = app
            .post_json(
                "/v1/auth/login",
                &json!({"email": email, "password": password}),
            )
            .await;
        expect_error(res, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    }
}

#[tokio::test]
async fn logout_revokes_only_the_presented_token() {
    let app = TestApp::spawn().await;
    let first = app.register("kay@example.com").await;
    let res = app
        .post_json(
            "/v1/auth/login",
            &json!({"email": "kay@example.com", "password": PASSWORD}),
        )
        .await;
    let second = read(res).await.1["data"]["token"]
        .as_str()
        .unwrap()
        .to_string();

    let res = app
        .request(Method::POST, "/v1/auth/logout")
        .bearer_auth(&first.token)
        .send()
        .await
        .unwrap();
    let (status, body) = read(res).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["data"]["logged_out"], true);

    let (status, body) = app.me(&first.token).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["code"], "invalid_token");
    assert_eq!(app.me(&second).await.0, StatusCode::OK);
    // Logging out again with the revoked token is refused.
    let res = app
        .request(Method::POST, "/v1/auth/logout")
        .bearer_auth(&first.token)
        .send()
        .await
        .unwrap();
    expect_error(res, StatusCode::UNAUTHORIZED, "invalid_token").await;
}

#[tokio::test]
async fn sessions_expire_after_the_ttl() {
    let app = TestApp::spawn_with(|c| c.auth.session_ttl = Duration::from_secs(90)).await;
    let user = app.register("brief@example.com").await;
    assert_eq!(app.me(&user.token).await.0, StatusCode::OK);
    let (created, expires): (i64, i64) =
        sqlx::query_as("SELECT created_at, expires_at FROM sessions")
            .fetch_one(app.db.read())
            .await
            .unwrap();
    assert_eq!(expires - created, 90_000, "the configured TTL");
    // Time passes (moved on in the database rather than waited for).
    sqlx::query("UPDATE sessions SET expires_at = $1")
        .bind(kanri::clock::now_ms())
        .execute(app.db.write())
        .await
        .unwrap();
    let (status, body) = app.me(&user.token).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["code"], "invalid_token");
}

#[tokio::test]
async fn me_needs_a_valid_bearer_token() {
    let app = TestApp::spawn().await;
    expect_error(
        app.get("/v1/auth/me").await,
        StatusCode::UNAUTHORIZED,
        "missing_auth",
    )
    .await;
    for header in [
        "Bearer nonsense",
        "Bearer ",
        "Basic dXNlcjpwYXNz",
        "Bearer AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "Bearer ' OR 1=1 --",
    ] {
        let res = app
            .request(Method::GET, "/v1/auth/me")
            .header("Authorization", header)
            .send()
            .await
            .unwrap();
        expect_error(res, StatusCode::UNAUTHORIZED, "invalid_token").await;
    }
}

#[tokio::test]
async fn invalid_registrations_name_every_bad_field() {
    let app = TestApp::spawn().await;
    let res = app
        .post_json(
            "/v1/auth/register",
            &json!({"email": "nope", "password": "short", "name": " "}),
        )
        .await;
    let body = expect_error(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    let fields: Vec<&str> = body["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["email", "password", "name"]);

    for (password, why) in [("abc123", "too short"), ("1234567", "seven characters")] {
        let res = app
            .post_json(
                "/v1/auth/register",
                &json!({"email": "p@example.com", "password": password, "name": "P"}),
            )
            .await;
        let body = expect_error(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
        assert_eq!(body["details"][0]["field"], "password", "{why}");
    }
    // 257 characters: one over the limit (counted in characters, as the schema's maxLength).
    let long = "é".repeat(257);
    let res = app
        .post_json(
            "/v1/auth/register",
            &json!({"email": "p@example.com", "password": long, "name": "P"}),
        )
        .await;
    expect_error(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
}

#[tokio::test]
async fn malformed_bodies_are_rejected_cleanly() {
    let app = TestApp::spawn().await;
    // Missing field, wrong type.
    let res = app
        .post_json(
            "/v1/auth/register",
            &json!({"email": "a@example.com", "password": PASSWORD}),
        )
        .await;
    let body = expect_error(res, StatusCode::UNPROCESSABLE_ENTITY, "invalid_body").await;
    assert!(body["message"].as_str().unwrap().contains("name"), "{body}");
    let res = app
        .post_json(
            "/v1/auth/register",
            &json!({"email": 42, "password": PASSWORD, "name": "x"}),
        )
        .await;
    expect_error(res, StatusCode::UNPROCESSABLE_ENTITY, "invalid_body").await;
    let res = app.post_json("/v1/auth/register", &json!([1, 2, 3])).await;
    expect_error(res, StatusCode::UNPROCESSABLE_ENTITY, "invalid_body").await;
    // Not JSON at all, or not declared as JSON.
    let res = app
        .request(Method::POST, "/v1/auth/register")
        .header("Content-Type", "application/json")
        .body("{\"email\": ")
        .send()
        .await
        .unwrap();
    expect_error(res, StatusCode::BAD_REQUEST, "invalid_json").await;
    let res = app
        .request(Method::POST, "/v1/auth/register")
        .body("email=a")
        .send()
        .await
        .unwrap();
    expect_error(
        res,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    )
    .await;
    // 10 MB body.
    let huge = json!({"email": "a@example.com", "password": PASSWORD, "name": "x".repeat(10 * 1024 * 1024)});
    let res = app.post_json("/v1/auth/register", &huge).await;
    expect_error(res, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").await;
    // Nothing was half-written by any of the above.
    let res = app
        .post_json(
            "/v1/auth/login",
            &json!({"email": "a@example.com", "password": PASSWORD}),
        )
        .await;
    expect_error(res, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
}

#[tokio::test]
async fn unicode_and_sql_metacharacters_are_just_data() {
    let app = TestApp::spawn().await;
    let cases = [
        (
            "o'brien@example.com",
            "Robert'); DROP TABLE users;--",
            "p'; DELETE FROM sessions;--1",
        ),
        ("Émile@Exemple.fr", "Émile Zola 🚀", "mötley-crüe-1"),
        ("用户@例子.广告", "山田 太郎", "密码密码密码密码1"),
    ];
    for (email, name, password) in cases {
        let res = app
            .post_json(
                "/v1/auth/register",
                &json!({"email": email, "password": password, "name": name}),
            )
            .await;
        let (status, body) = read(res).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        assert_eq!(body["data"]["user"]["name"], name);
        let res = app
            .post_json(
                "/v1/auth/login",
                &json!({"email": email.to_uppercase(), "password": password}),
            )
            .await;
        let (status, body) = read(res).await;
        assert_eq!(status, StatusCode::OK, "{email}: {body}");
    }
    // The tables survived.
    let (status, _) = read(
        app.post_json(
            "/v1/auth/login",
            &json!({"email": "o'brien@example.com", "password": "p'; DELETE FROM sessions;--1"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn seed_auth_routes_behave_like_v1() {
    let app = TestApp::spawn().await;
    let res = app
        .post_json(
            "/auth/register",
            &json!({"email": "seed@example.com", "password": PASSWORD, "name": "Seed"}),
        )
        .await;
    let (status, body) = read(res).await;
    assert_eq!(status, StatusCode::CREATED);
    let first = body["data"]["token"].as_str().unwrap().to_string();
    let res = app
        .post_json(
            "/auth/login",
            &json!({"email": "seed@example.com", "password": PASSWORD}),
        )
        .await;
    let (status, body) = read(res).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["data"]["user"]["email"], "seed@example.com");
    let res = app
        .request(Method::POST, "/auth/logout")
        .bearer_auth(&first)
        .send()
        .await
        .unwrap();
    assert_eq!(read(res).await.0, StatusCode::OK);
    assert_eq!(app.me(&first).await.0, StatusCode::UNAUTHORIZED);
    let res = app
        .post_json(
            "/auth/login",
            &json!({"email": "seed@example.com", "password": "wrong-pass-1"}),
        )
        .await;
    expect_error(res, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
}

#[tokio::test]
async fn imported_bcrypt_hashes_sign_in_and_are_upgraded() {
    let app = TestApp::spawn().await;
    let user = app.register("legacy@example.com").await;
    let bcrypt_hash = bcrypt::hash("legacy-pass-1", 4).unwrap();
    sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
        .bind(&bcrypt_hash)
        .bind(&user.user_id)
        .execute(app.db.write())
        .await
        .unwrap();
    let res = app
        .post_json(
            "/v1/auth/login",
            &json!({"email": "legacy@example.com", "password": "legacy-pass-1"}),
        )
        .await;
    assert_eq!(read(res).await.0, StatusCode::OK);
    let stored: String = sqlx::query_scalar("SELECT password_hash FROM users WHERE id = $1")
        .bind(&user.user_id)
        .fetch_one(app.db.read())
        .await
        .unwrap();
    assert!(stored.starts_with("$argon2id$"), "{stored}");
    // The upgraded hash still accepts the same password, and only it.
    let res = app
        .post_json(
            "/v1/auth/login",
            &json!({"email": "legacy@example.com", "password": "legacy-pass-1"}),
        )
        .await;
    assert_eq!(read(res).await.0, StatusCode::OK);
    let res = app
        .post_json(
            "/v1/auth/login",
            &json!({"email": "legacy@example.com", "password": PASSWORD}),
        )
        .await;
    expect_error(res, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
}

#[tokio::test]
async fn no_plaintext_secret_is_stored() {
    let app = TestApp::spawn().await;
    let tenant = app.create_tenant("Acme").await;
    let user = app
        .register_with("secret@example.com", Some(&tenant.publishable_key))
        .await;
    let secrets = [
        PASSWORD,
        user.token.as_str(),
        tenant.secret_key.as_str(),
        tenant.publishable_key.as_str(),
    ];

    // Every text value in the account tables, on either engine.
    let mut stored: Vec<String> = Vec::new();
    for sql in [
        "SELECT COALESCE(password_hash, '') FROM users",
        "SELECT token_hash FROM sessions",
        "SELECT key_hash || ' ' || key_hint FROM api_keys",
    ] {
        let rows: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .fetch_all(app.db.read())
            .await
            .unwrap();
        stored.extend(rows);
    }
    assert!(stored.len() >= 4);
    for value in &stored {
        for secret in secrets {
            assert!(!value.contains(secret), "a stored value contains a secret");
        }
    }
    // On SQLite, the database files themselves, including the WAL.
    for file in app.sqlite_files() {
        let text = String::from_utf8_lossy(&std::fs::read(&file).unwrap()).into_owned();
        for secret in secrets {
            assert!(
                !text.contains(secret),
                "{} contains a secret",
                file.display()
            );
        }
    }
}

#[tokio::test]
async fn concurrent_registrations_of_one_email_create_one_user() {
    let app = TestApp::spawn().await;
    let mut attempts = tokio::task::JoinSet::new();
    for i in 0..8 {
        let email = if i % 2 == 0 {
            "race@example.com"
        } else {
            "RACE@example.com"
        };
        let req = app
            .request(Method::POST, "/v1/auth/register")
            .json(&json!({"email": email, "password": PASSWORD, "name": "R"}));
        attempts.spawn(async move { req.send().await.unwrap().status() });
    }
    let statuses = attempts.join_all().await;
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == StatusCode::CREATED)
            .count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses
            .iter()
            .all(|s| *s == StatusCode::CREATED || *s == StatusCode::CONFLICT),
        "{statuses:?}"
    );
}

/// Every credential in a request is checked, and a refusal says what was missing.
#[tokio::test]
async fn every_credential_counts_and_refusals_say_what_is_missing() {
    let app = TestApp::spawn().await;
    let acme = app.create_tenant("Acme").await;
    let user = app
        .register_with("cred@example.com", Some(&acme.publishable_key))
        .await;
    let send = |method: Method, path: &str, headers: &[(&str, &str)]| {
        let mut req = app.request(method, path);
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        req.send()
    };
    let bearer_garbage = ("Authorization", "Bearer garbage-session");
    let bearer_user = format!("Bearer {}", user.token);

    // A valid secret key beside an invalid session: refused, not ignored.
    let res = send(
        Method::GET,
        "/v1/admin/users",
        &[("X-Api-Key", &acme.secret_key), bearer_garbage],
    );
    expect_error(
        res.await.unwrap(),
        StatusCode::UNAUTHORIZED,
        "invalid_token",
    )
    .await;
    // The same key alone works, and with the tenant's own valid session too.
    let res = send(
        Method::GET,
        "/v1/admin/users",
        &[("X-Api-Key", &acme.secret_key)],
    );
    assert_eq!(res.await.unwrap().status(), StatusCode::OK);
    let res = send(
        Method::GET,
        "/v1/admin/users",
        &[
            ("X-Api-Key", &acme.secret_key),
            ("Authorization", &bearer_user),
        ],
    );
    assert_eq!(res.await.unwrap().status(), StatusCode::OK);
    // A valid publishable key beside an invalid session, on a route that needs no user.
    let res = app
        .request(Method::POST, "/v1/auth/login")
        .header("X-Api-Key", &acme.publishable_key)
        .header("Authorization", "Bearer garbage-session")
        .json(&json!({"email": "cred@example.com", "password": PASSWORD}))
        .send();
    expect_error(
        res.await.unwrap(),
        StatusCode::UNAUTHORIZED,
        "invalid_token",
    )
    .await;

    // A session on a secret-key route: the caller is known, the credential is the wrong kind.
    let res = send(
        Method::GET,
        "/v1/admin/users",
        &[("Authorization", &bearer_user)],
    );
    expect_error(
        res.await.unwrap(),
        StatusCode::FORBIDDEN,
        "secret_key_required",
    )
    .await;
    let res = send(
        Method::GET,
        "/v1/admin/users",
        &[("X-Api-Key", &acme.publishable_key)],
    );
    expect_error(
        res.await.unwrap(),
        StatusCode::FORBIDDEN,
        "secret_key_required",
    )
    .await;
    // A key alone on a user route: a session is what is missing.
    let res = send(
        Method::GET,
        "/v1/auth/me",
        &[("X-Api-Key", &acme.secret_key)],
    );
    expect_error(
        res.await.unwrap(),
        StatusCode::UNAUTHORIZED,
        "session_required",
    )
    .await;
    // Nothing at all is still `missing_auth`.
    let res = send(Method::GET, "/v1/admin/users", &[]);
    expect_error(res.await.unwrap(), StatusCode::UNAUTHORIZED, "missing_auth").await;
}
