use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{PASSWORD, TestApp, expect_error, read};

fn multi_tenant() -> impl FnOnce(&mut kanri::Config) {
    |c| c.auth.multi_tenant = true
}

#[tokio::test]
async fn multi_tenant_mode_requires_a_key_to_register_or_sign_in() {
    let app = TestApp::spawn_with(multi_tenant()).await;
    let body = json!({"email": "a@example.com", "password": PASSWORD, "name": "A"});
    expect_error(
        app.post_json("/v1/auth/register", &body).await,
        StatusCode::UNAUTHORIZED,
        "missing_auth",
    )
    .await;
    let login = json!({"email": "a@example.com", "password": PASSWORD});
    expect_error(
        app.post_json("/v1/auth/login", &login).await,
        StatusCode::UNAUTHORIZED,
        "missing_auth",
    )
    .await;

    let tenant = app.create_tenant("Acme").await;
    let user = app
        .register_with("a@example.com", Some(&tenant.publishable_key))
        .await;
    let (status, me) = app.me(&user.token).await;
    assert_eq!(status, StatusCode::OK, "a session carries its tenant");
    assert_eq!(me["data"]["tenant_id"], tenant.id.as_str());

    // The secret key works too, in either header.
    let res = app
        .request(Method::POST, "/v1/auth/login")
        .bearer_auth(&tenant.secret_key)
        .json(&login)
        .send()
        .await
        .unwrap();
    assert_eq!(read(res).await.0, StatusCode::OK);
}

#[tokio::test]
async fn malformed_unknown_and_revoked_keys_are_rejected() {
    let app = TestApp::spawn_with(multi_tenant()).await;
    let tenant = app.create_tenant("Acme").await;
    let unknown = format!("pk_live_{}", "A".repeat(43));
    let body = json!({"email": "k@example.com", "password": PASSWORD, "name": "K"});
    for key in [
        "",
        "sk_",
        "no_prefix",
        "Bearer sk_live_abc",
        "sk_live_abc",
        "x'; DROP TABLE api_keys;--",
        &unknown,
    ] {
        let res = app
            .request(Method::POST, "/v1/auth/register")
            .header("X-Api-Key", key)
            .json(&body)
            .send()
            .await
            .unwrap();
        expect_error(res, StatusCode::UNAUTHORIZED, "invalid_api_key").await;
    }
    let res = app
        .request(Method::POST, "/v1/auth/register")
        .header("Authorization", "Bearer sk_live_abc")
        .json(&body)
        .send()
        .await
        .unwrap();
    expect_error(res, StatusCode::UNAUTHORIZED, "invalid_api_key").await;

    // Revocation takes effect at once.
    let keys = kanri::services::tenants::list_keys(&app.cx, &tenant.id)
        .await
        .unwrap();
    let publishable = keys
        .iter()
        .find(|k| k.kind == kanri::domain::KeyKind::Publishable)
        .unwrap();
    kanri::services::tenants::revoke_key(&app.cx, &publishable.id)
        .await
        .unwrap();
    let res = app
        .request(Method::POST, "/v1/auth/register")
        .header("X-Api-Key", &tenant.publishable_key)
        .json(&body)
        .send()
        .await
        .unwrap();
    expect_error(res, StatusCode::UNAUTHORIZED, "invalid_api_key").await;
    // Nothing was created by the refused calls.
    let res = app
        .request(Method::POST, "/v1/auth/login")
        .header("X-Api-Key", &tenant.secret_key)
        .json(&json!({"email": "k@example.com", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    expect_error(res, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
}

#[tokio::test]
async fn tenants_are_isolated() {
    let app = TestApp::spawn_with(multi_tenant()).await;
    let acme = app.create_tenant("Acme").await;
    let globex = app.create_tenant("Globex").await;
    let in_acme = app
        .register_with("same@example.com", Some(&acme.publishable_key))
        .await;
    let in_globex = app
        .register_with("same@example.com", Some(&globex.publishable_key))
        .await;
    assert_ne!(
        in_acme.user_id, in_globex.user_id,
        "same email, two tenants, two users"
    );

    // Acme's user cannot sign in through Globex with Acme's password… (both passwords are the
    // same here, so use a user that exists only in Acme.)
    app.register_with("only-acme@example.com", Some(&acme.publishable_key))
        .await;
    let res = app
        .request(Method::POST, "/v1/auth/login")
        .header("X-Api-Key", &globex.publishable_key)
        .json(&json!({"email": "only-acme@example.com", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    expect_error(res, StatusCode::UNAUTHORIZED, "invalid_credentials").await;

    // …and an Acme session presented with Globex's key is refused.
    let res = app
        .request(Method::GET, "/v1/auth/me")
        .bearer_auth(&in_acme.token)
        .header("X-Api-Key", &globex.publishable_key)
        .send()
        .await
        .unwrap();
    expect_error(res, StatusCode::UNAUTHORIZED, "invalid_token").await;
    let res = app
        .request(Method::GET, "/v1/auth/me")
        .bearer_auth(&in_acme.token)
        .header("X-Api-Key", &acme.publishable_key)
        .send()
        .await
        .unwrap();
    assert_eq!(read(res).await.0, StatusCode::OK);

    // Admin routes see only their own tenant's users.
    let res = app
        .request(Method::GET, &format!("/v1/admin/users/{}", in_acme.user_id))
        .header("X-Api-Key", &globex.secret_key)
        .send()
        .await
        .unwrap();
    expect_error(res, StatusCode::NOT_FOUND, "not_found").await;
    let res = app
        .request(
            Method::DELETE,
            &format!("/v1/admin/users/{}", in_acme.user_id),
        )
        .header("X-Api-Key", &globex.secret_key)
        .send()
        .await
        .unwrap();
    expect_error(res, StatusCode::NOT_FOUND, "not_found").await;
    assert_eq!(
        app.me(&in_acme.token).await.0,
        StatusCode::OK,
        "the other tenant's delete touched nothing"
    );
}

#[tokio::test]
async fn single_tenant_mode_uses_the_default_tenant_without_keys() {
    let app = TestApp::spawn().await;
    let user = app.register("solo@example.com").await;
    let (_, me) = app.me(&user.token).await;
    assert_eq!(me["data"]["tenant_id"], "default");
    // A key, when sent, still has to be valid.
    let res = app
        .request(Method::POST, "/v1/auth/login")
        .header("X-Api-Key", "pk_live_bogus")
        .json(&json!({"email": "solo@example.com", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    expect_error(res, StatusCode::UNAUTHORIZED, "invalid_api_key").await;
}

#[tokio::test]
async fn key_use_is_recorded_without_a_write_per_request() {
    // No timed flush during the test, however slow the machine: only shutdown writes.
    let app = TestApp::spawn_with(|c| {
        c.auth.multi_tenant = true;
        c.auth.key_usage_flush = std::time::Duration::from_secs(24 * 3600);
    })
    .await;
    let tenant = app.create_tenant("Acme").await;
    let last_used = |cx: kanri::services::Ctx, tenant_id: String| async move {
        kanri::services::tenants::list_keys(&cx, &tenant_id)
            .await
            .unwrap()
            .into_iter()
            .find(|k| k.kind == kanri::domain::KeyKind::Secret)
            .unwrap()
            .last_used_at
    };
    for _ in 0..3 {
        let res = app
            .request(Method::GET, "/v1/admin/users")
            .header("X-Api-Key", &tenant.secret_key)
            .send()
            .await
            .unwrap();
        assert_eq!(read(res).await.0, StatusCode::OK);
    }
    assert_eq!(
        last_used(app.cx.clone(), tenant.id.clone()).await,
        None,
        "not written on the request path"
    );
    let (config, dir) = app.stop().await;
    // Shutdown flushed the pending use; a restarted app reads it back.
    let app = TestApp::start(config, dir).await;
    assert!(last_used(app.cx.clone(), tenant.id.clone()).await.is_some());
}

#[tokio::test]
async fn every_issued_key_resolves_to_its_own_tenant() {
    let app = TestApp::spawn_with(multi_tenant()).await;
    let mut tenants = Vec::new();
    for i in 0..10 {
        tenants.push(app.create_tenant(&format!("Tenant {i}")).await);
    }
    for tenant in &tenants {
        // The secret key lists exactly this tenant's users; the publishable key signs users up here.
        let user = app
            .register_with(
                &format!("owner-{}@example.com", tenant.id),
                Some(&tenant.publishable_key),
            )
            .await;
        let (_, me) = app.me(&user.token).await;
        assert_eq!(me["data"]["tenant_id"], tenant.id.as_str());
        let res = app
            .request(Method::GET, "/v1/admin/users")
            .header("X-Api-Key", &tenant.secret_key)
            .send()
            .await
            .unwrap();
        let (_, body) = read(res).await;
        let ids: Vec<&str> = body["data"]["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, [user.user_id.as_str()]);
    }
}
