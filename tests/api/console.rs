//! The web console's server side: the shell and its assets, cookie sessions with CSRF, and the
//! operator's admin session. (What the pages do is driven in a real browser by tests/browser.)

use reqwest::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, COOKIE, SET_COOKIE};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestApp, read};

/// The `name=value` part of a `Set-Cookie`, and the whole header.
fn cookie(res: &reqwest::Response, name: &str) -> (String, String) {
    let header = res
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|v| v.starts_with(&format!("{name}=")))
        .unwrap_or_else(|| panic!("no {name} cookie in {:?}", res.headers()));
    (header.split(';').next().unwrap().to_string(), header)
}

async fn console_sign_up(app: &TestApp, email: &str) -> (String, String) {
    let res = app
        .post_json(
            "/app/api/register",
            &json!({"email": email, "password": PASSWORD, "name": "Console User"}),
        )
        .await;
    let (pair, header) = cookie(&res, "kanri_session");
    assert!(header.contains("HttpOnly"), "{header}");
    assert!(header.contains("SameSite=Strict"), "{header}");
    assert!(header.contains("Path=/"), "{header}");
    assert!(!header.contains("Secure"), "plain http here: {header}");
    let (status, body) = read(res).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert!(
        body["data"].get("token").is_none(),
        "the page never sees the token: {body}"
    );
    let csrf = body["data"]["csrf_token"].as_str().unwrap().to_string();
    (pair, csrf)
}

#[tokio::test]
async fn a_cookie_session_reads_freely_and_writes_only_with_its_csrf_token() {
    let app = TestApp::spawn().await;
    let (session, csrf) = console_sign_up(&app, "cookie@example.com").await;
    let with_cookie =
        |method: Method, path: &str| app.request(method, path).header(COOKIE, session.clone());

    let (status, me) = read(
        with_cookie(Method::GET, "/v1/auth/me")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(me["data"]["user"]["email"], "cookie@example.com");
    let (_, current) = read(
        with_cookie(Method::GET, "/app/api/session")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(current["data"]["csrf_token"], csrf.as_str());

    let create = json!({"name": "Made in the console"});
    // A write without the token uses no cookie at all: nobody is signed in.
    let (status, body) = read(
        with_cookie(Method::POST, "/v1/workspaces")
            .json(&create)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    // A wrong token is refused outright.
    let (status, body) = read(
        with_cookie(Method::POST, "/v1/workspaces")
            .header("X-CSRF-Token", "0".repeat(64))
            .json(&create)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("forbidden")),
        "{body}"
    );
    // Another site's page cannot use the cookie, even for a read or with the token.
    let (status, _) = read(
        with_cookie(Method::GET, "/v1/workspaces")
            .header("Origin", "https://evil.example")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, list) = read(
        with_cookie(Method::GET, "/v1/workspaces")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        list["data"]["items"].as_array().unwrap().len(),
        0,
        "nothing was written: {list}"
    );

    let (status, body) = read(
        with_cookie(Method::POST, "/v1/workspaces")
            .header("X-CSRF-Token", &csrf)
            .json(&create)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    // Sign-out ends the session and clears the cookie.
    let res = with_cookie(Method::DELETE, "/app/api/session")
        .header("X-CSRF-Token", &csrf)
        .send()
        .await
        .unwrap();
    let (cleared, header) = cookie(&res, "kanri_session");
    assert_eq!(cleared, "kanri_session=");
    assert!(header.contains("Max-Age=0"), "{header}");
    assert_eq!(res.status(), StatusCode::OK);
    let (status, _) = read(
        with_cookie(Method::GET, "/v1/auth/me")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "the old cookie no longer signs anyone in"
    );

    // Signing in again over the stale cookie works, and gives a new session.
    let res = with_cookie(Method::POST, "/app/api/session")
        .json(&json!({"email": "cookie@example.com", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    let (fresh, _) = cookie(&res, "kanri_session");
    assert_ne!(fresh, session);
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn admin_pages_are_a_404_until_an_operator_signs_in_with_the_secret_key() {
    let app = TestApp::spawn().await;
    let tenant = app.create_tenant("Ops").await;
    let unknown = app.get("/app/no-such-page").await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    let unknown = unknown.text().await.unwrap();
    let admin = app.get("/app/admin/jobs").await;
    assert_eq!(admin.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        admin.text().await.unwrap(),
        unknown,
        "the same 404 an unknown page gets"
    );

    // The publishable key is not enough.
    let (status, _) = read(
        app.post_json(
            "/app/api/admin-session",
            &json!({"secret_key": tenant.publishable_key}),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let res = app
        .post_json(
            "/app/api/admin-session",
            &json!({"secret_key": tenant.secret_key}),
        )
        .await;
    let (admin_cookie, header) = cookie(&res, "kanri_admin");
    assert!(
        header.contains("HttpOnly") && header.contains("Max-Age=1800"),
        "{header}"
    );
    let (status, body) = read(res).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["tenant_id"], tenant.id.as_str());
    let csrf = body["data"]["csrf_token"].as_str().unwrap().to_string();

    let as_operator = |method: Method, path: &str| {
        app.request(method, path)
            .header(COOKIE, admin_cookie.clone())
    };
    assert_eq!(
        as_operator(Method::GET, "/app/admin/jobs")
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    let (status, stats) = read(
        as_operator(Method::GET, "/v1/admin/jobs/stats")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the admin session stands for the secret key: {stats}"
    );
    // Writes need the admin session's CSRF token.
    let new_user = json!({"email": "made-by-ops@example.com", "name": "Made"});
    let (status, _) = read(
        as_operator(Method::POST, "/v1/admin/users")
            .json(&new_user)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, body) = read(
        as_operator(Method::POST, "/v1/admin/users")
            .header("X-CSRF-Token", &csrf)
            .json(&new_user)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    // Revoking the key ends every session made from it.
    let keys = kanri::services::tenants::list_keys(&app.cx, &tenant.id)
        .await
        .unwrap();
    let secret = keys
        .iter()
        .find(|k| k.kind == kanri::domain::KeyKind::Secret)
        .unwrap();
    kanri::services::tenants::revoke_key(&app.cx, &secret.id)
        .await
        .unwrap();
    assert_eq!(
        as_operator(Method::GET, "/app/admin/jobs")
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::NOT_FOUND
    );
    let (status, _) = read(
        as_operator(Method::GET, "/v1/admin/jobs/stats")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_shell_loads_only_versioned_same_origin_assets_under_a_strict_policy() {
    let app = TestApp::spawn().await;
    for path in ["/app", "/app/", "/app/sign-in", "/app/p/some-project"] {
        assert_eq!(app.get(path).await.status(), StatusCode::OK, "{path}");
    }
    let res = app.get("/app/").await;
    let policy = res.headers()[CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap()
        .to_string();
    assert!(policy.contains("script-src 'self';"), "{policy}");
    assert!(
        !policy.contains("unsafe"),
        "no inline script or style: {policy}"
    );
    let page = res.text().await.unwrap();
    assert!(!page.contains("<script>"), "no inline script");
    let assets: Vec<&str> = page
        .split('"')
        .filter(|s| s.starts_with("/app/assets/"))
        .collect();
    assert!(assets.len() >= 3, "{page}");
    for asset in &assets {
        let res = app.get(asset).await;
        assert_eq!(res.status(), StatusCode::OK, "{asset}");
        assert!(
            res.headers()[CACHE_CONTROL]
                .to_str()
                .unwrap()
                .contains("immutable")
        );
    }
    let stale = assets[0].replacen("/app/assets/", "/app/assets/000000000000", 1);
    assert_eq!(app.get(&stale).await.status(), StatusCode::NOT_FOUND);
    let (status, body): (StatusCode, Value) = read(app.get("/app/api/nothing-here").await).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
}

#[tokio::test]
async fn two_cookie_sessions_never_share_an_idempotency_scope() {
    let app = TestApp::spawn().await;
    let mut made = Vec::new();
    for email in ["one@example.com", "two@example.com"] {
        let (session, csrf) = console_sign_up(&app, email).await;
        let (status, body) = read(
            app.request(Method::POST, "/v1/workspaces")
                .header(COOKIE, session)
                .header("X-CSRF-Token", csrf)
                .header("Idempotency-Key", "same-key")
                .json(&json!({"name": "Same body"}))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        made.push(body["data"]["id"].as_str().unwrap().to_string());
    }
    assert_ne!(
        made[0], made[1],
        "the second user got the first one's workspace"
    );
}

/// The admin cookie a named operator gets by exchanging their own console sign-in, or the
/// refusal's status and body.
async fn account_admin_session(
    app: &TestApp,
    session: &str,
    csrf: &str,
) -> Result<String, (StatusCode, Value)> {
    let res = app
        .request(Method::POST, "/app/api/admin-session")
        .header(COOKIE, session)
        .header("X-CSRF-Token", csrf)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    if res.status() == StatusCode::OK {
        Ok(cookie(&res, "kanri_admin").0)
    } else {
        Err(read(res).await)
    }
}

#[tokio::test]
async fn in_single_tenant_mode_a_named_operator_opens_the_admin_with_their_own_sign_in() {
    let app = TestApp::spawn_with(|c| {
        c.auth.operator_emails = vec!["ops@example.com".into()];
    })
    .await;
    let (ops, ops_csrf) = console_sign_up(&app, "Ops@Example.com").await;
    let (member, member_csrf) = console_sign_up(&app, "member@example.com").await;

    // A member who is not named gets what a member without the key always gets.
    let (status, body) = account_admin_session(&app, &member, &member_csrf)
        .await
        .unwrap_err();
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    // Without the member's CSRF token, no session is used at all.
    let (status, _) = account_admin_session(&app, &ops, "wrong")
        .await
        .unwrap_err();
    assert!(status == StatusCode::FORBIDDEN || status == StatusCode::UNAUTHORIZED);

    let admin = account_admin_session(&app, &ops, &ops_csrf).await.unwrap();
    let as_operator =
        |method: Method, path: &str| app.request(method, path).header(COOKIE, admin.clone());
    let res = as_operator(Method::GET, "/app/admin/keys")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let (status, body) = read(
        as_operator(Method::GET, "/v1/admin/keys")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    for key in body["data"]["items"].as_array().unwrap() {
        assert_eq!(key["tenant_id"], "default", "{key}");
    }

    // Deleting the account ends its admin session.
    let ops_id = sqlx::query_scalar::<_, String>(
        "SELECT id FROM users WHERE email_normalized = 'ops@example.com'",
    )
    .fetch_one(app.db.read())
    .await
    .unwrap();
    kanri::services::accounts::delete_user(&app.cx, "default", &ops_id)
        .await
        .unwrap();
    let res = as_operator(Method::GET, "/app/admin/keys")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let (status, _) = read(
        as_operator(Method::GET, "/v1/admin/keys")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_session_made_from_an_account_ends_when_the_address_is_no_longer_an_operator() {
    let (mut config, dir) = crate::helpers::test_config().await;
    config.auth.operator_emails = vec!["ops@example.com".into()];
    let app = TestApp::start(config, dir).await;
    let (ops, csrf) = console_sign_up(&app, "ops@example.com").await;
    let admin = account_admin_session(&app, &ops, &csrf).await.unwrap();
    let (mut config, dir) = app.stop().await;
    config.auth.operator_emails = Vec::new();
    let app = TestApp::start(config, dir).await;
    let res = app
        .request(Method::GET, "/v1/admin/jobs/stats")
        .header(COOKIE, admin)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}
