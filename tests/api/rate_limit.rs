//! Rate limits over real HTTP: per tenant, per client IP on the auth surface, the per-account
//! lockout, trusted proxies, two instances sharing limits through Redis, and Redis going away.
//!
//! The Redis tests run when `KANRI_TEST_REDIS_URL` is set (each with a key prefix of its own);
//! without it they return at once.

use reqwest::{Method, Response, StatusCode};
use serde_json::json;

use crate::helpers::{PASSWORD, TestApp, expect_error, read, use_redis};

fn header(res: &Response, name: &str) -> Option<u64> {
    res.headers()
        .get(name)
        .map(|v| v.to_str().unwrap().parse().unwrap())
}

fn limits(res: &Response) -> (Option<u64>, Option<u64>, Option<u64>) {
    (
        header(res, "ratelimit-limit"),
        header(res, "ratelimit-remaining"),
        header(res, "ratelimit-reset"),
    )
}

async fn expect_limited(res: Response) -> u64 {
    let retry = header(&res, "retry-after").expect("a 429 carries Retry-After");
    assert!(retry >= 1, "Retry-After {retry}");
    expect_error(res, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
    retry
}

async fn me(app: &TestApp, token: &str) -> Response {
    app.as_user(Method::GET, "/v1/auth/me", token)
        .send()
        .await
        .unwrap()
}

async fn login(app: &TestApp, path: &str, email: &str, password: &str) -> Response {
    app.post_json(path, &json!({"email": email, "password": password}))
        .await
}

#[tokio::test]
async fn a_tenant_over_its_limit_gets_429_and_other_tenants_are_unaffected() {
    let app = TestApp::spawn_with(|c| {
        c.auth.multi_tenant = true;
        c.rate_limit.per_minute = 3;
    })
    .await;
    let acme = app.create_tenant("Acme").await;
    let globex = app.create_tenant("Globex").await;
    // Registering counts once against the tenant (the key resolves it).
    let alice = app
        .register_with("alice@example.com", Some(&acme.publishable_key))
        .await;
    let res = me(&app, &alice.token).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(limits(&res), (Some(3), Some(1), Some(40)));
    let res = me(&app, &alice.token).await;
    assert_eq!(res.status(), StatusCode::OK);
    let (limit, remaining, reset) = limits(&res);
    assert_eq!((limit, remaining), (Some(3), Some(0)));
    assert!(reset.unwrap() >= 59, "{reset:?}");

    let res = me(&app, &alice.token).await;
    assert_eq!(limits(&res).1, Some(0), "headers on the 429 too");
    let retry = expect_limited(res).await;
    // 3 per minute: one more fits every 20 s.
    assert!((19..=20).contains(&retry), "Retry-After {retry}");
    // The secret key resolves the same tenant and is refused too.
    let res = app
        .request(Method::GET, "/v1/admin/users")
        .header("X-Api-Key", &acme.secret_key)
        .send()
        .await
        .unwrap();
    expect_limited(res).await;

    let bob = app
        .register_with("bob@example.com", Some(&globex.publishable_key))
        .await;
    let res = me(&app, &bob.token).await;
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "another tenant has its own limit"
    );
    assert_eq!(limits(&res), (Some(3), Some(1), Some(40)));
}

#[tokio::test]
async fn health_routes_are_never_limited() {
    let app = TestApp::spawn_with(|c| {
        c.rate_limit.per_minute = 1;
        c.rate_limit.auth_per_minute = 1;
    })
    .await;
    for _ in 0..5 {
        for path in ["/healthz", "/readyz", "/health"] {
            let res = app.get(path).await;
            assert_eq!(limits(&res), (None, None, None), "{path}");
            let (status, _) = read(res).await;
            assert_eq!(status, StatusCode::OK, "{path}");
        }
    }
}

#[tokio::test]
async fn the_auth_surface_is_limited_per_client_ip_on_v1_and_seed_routes() {
    let app = TestApp::spawn_with(|c| c.rate_limit.auth_per_minute = 3).await;
    let user = app.register("ip@example.com").await;
    let res = login(&app, "/v1/auth/login", "ip@example.com", "wrong-password-1").await;
    assert_eq!(limits(&res).1, Some(1), "the IP's budget is shown");
    expect_error(res, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    let res = login(&app, "/auth/login", "ip@example.com", "wrong-password-1").await;
    expect_error(res, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    // The budget is spent across /v1 and the seed's paths alike.
    let res = login(&app, "/auth/login", "ip@example.com", PASSWORD).await;
    assert_eq!(limits(&res).0, Some(3), "a 429 shows the limit it hit");
    let retry = expect_limited(res).await;
    assert!((19..=20).contains(&retry), "Retry-After {retry}");
    // Counted before authentication or the body are looked at: every route of the surface.
    for path in [
        "/v1/auth/password-reset/complete",
        "/auth/password-reset/request",
        "/auth/password-reset/complete",
        "/v1/invitations/00000000-0000-0000-0000-000000000000/accept",
        "/invitations/00000000-0000-0000-0000-000000000000/accept",
    ] {
        let res = app
            .as_user(Method::POST, path, &user.token)
            .json(&json!({"token": "x", "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS, "{path}");
    }
    expect_limited(login(&app, "/v1/auth/login", "ip@example.com", PASSWORD).await).await;
    let res = app
        .post_json(
            "/v1/auth/password-reset/request",
            &json!({"email": "ip@example.com"}),
        )
        .await;
    expect_limited(res).await;
    let res = app
        .post_json(
            "/auth/register",
            &json!({"email": "new@example.com", "password": PASSWORD, "name": "N"}),
        )
        .await;
    expect_limited(res).await;
    // Routes off the auth surface are not counted per IP.
    let res = me(&app, &user.token).await;
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn ten_failed_sign_ins_lock_the_account_even_for_unknown_emails() {
    let app = TestApp::spawn().await;
    app.register("locked@example.com").await;
    app.register("other@example.com").await;
    for email in ["locked@example.com", "nobody@example.com"] {
        for i in 0..10 {
            let path = if i % 2 == 0 {
                "/v1/auth/login"
            } else {
                "/auth/login"
            };
            let res = login(&app, path, email, "wrong-password-1").await;
            expect_error(res, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
        }
        // The 11th is refused before the password is looked at: no enumeration, and even
        // the right password does not get through.
        let retry = expect_limited(login(&app, "/v1/auth/login", email, PASSWORD).await).await;
        assert!((890..=900).contains(&retry), "{email}: Retry-After {retry}");
        let upper = email.to_uppercase();
        expect_limited(login(&app, "/auth/login", &upper, "wrong-password-1").await).await;
    }
    let res = login(&app, "/v1/auth/login", "other@example.com", PASSWORD).await;
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "another account is not locked"
    );
}

#[tokio::test]
async fn sign_ins_that_are_not_failures_do_not_count_towards_the_lockout() {
    let app = TestApp::spawn().await;
    app.register("fine@example.com").await;
    for _ in 0..12 {
        let res = login(&app, "/v1/auth/login", "fine@example.com", PASSWORD).await;
        assert_eq!(res.status(), StatusCode::OK);
    }
    for _ in 0..10 {
        let res = login(
            &app,
            "/v1/auth/login",
            "fine@example.com",
            "wrong-password-1",
        )
        .await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    expect_limited(login(&app, "/v1/auth/login", "fine@example.com", PASSWORD).await).await;
}

async fn login_from(app: &TestApp, forwarded_for: &str) -> Response {
    app.request(Method::POST, "/v1/auth/login")
        .header("X-Forwarded-For", forwarded_for)
        .json(&json!({"email": "xff@example.com", "password": "wrong-password-1"}))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn x_forwarded_for_is_believed_only_from_trusted_proxies() {
    let behind_proxy = TestApp::spawn_with(|c| {
        c.rate_limit.auth_per_minute = 2;
        c.rate_limit.trusted_proxies = vec!["127.0.0.0/8".parse().unwrap()];
    })
    .await;
    for _ in 0..2 {
        let res = login_from(&behind_proxy, "6.6.6.6, 198.51.100.1").await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    expect_limited(login_from(&behind_proxy, "7.7.7.7, 198.51.100.1").await).await;
    // Another client behind the same proxy has its own budget; the forged left-most entry
    // changes nothing.
    let res = login_from(&behind_proxy, "6.6.6.6, 198.51.100.2").await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);

    let direct = TestApp::spawn_with(|c| c.rate_limit.auth_per_minute = 2).await;
    for client in ["198.51.100.1", "198.51.100.2"] {
        let res = login_from(&direct, client).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    // Not from a trusted proxy: the header is ignored and the peer is the client.
    expect_limited(login_from(&direct, "198.51.100.3").await).await;
}

#[tokio::test]
async fn two_instances_sharing_one_redis_share_the_tenant_limit() {
    let Ok(url) = std::env::var("KANRI_TEST_REDIS_URL") else {
        return;
    };
    let a = TestApp::spawn_with(|c| {
        use_redis(c, &url);
        c.rate_limit.per_minute = 4;
    })
    .await;
    // Same database, same Redis and prefix.
    let b = TestApp::start(a.config.clone(), tempfile::tempdir().unwrap()).await;
    let user = a.register("shared@example.com").await;
    assert_eq!(me(&b, &user.token).await.status(), StatusCode::OK);
    assert_eq!(me(&a, &user.token).await.status(), StatusCode::OK);
    let res = me(&b, &user.token).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(limits(&res).1, Some(0), "B saw A's requests");
    expect_limited(me(&a, &user.token).await).await;
    expect_limited(me(&b, &user.token).await).await;
    let ready = read(b.get("/readyz").await).await.1;
    assert_eq!(ready["data"]["rate_limiter"]["backend"], "redis");
    assert_eq!(ready["data"]["rate_limiter"]["degraded"], false);
    assert_eq!(ready["data"]["rate_limiter"]["fallbacks"], 0);
    b.stop().await;
}

#[tokio::test]
async fn the_lockout_is_shared_through_redis() {
    let Ok(url) = std::env::var("KANRI_TEST_REDIS_URL") else {
        return;
    };
    let a = TestApp::spawn_with(|c| use_redis(c, &url)).await;
    let b = TestApp::start(a.config.clone(), tempfile::tempdir().unwrap()).await;
    for i in 0..10 {
        let app = if i % 2 == 0 { &a } else { &b };
        let res = login(
            app,
            "/v1/auth/login",
            "spread@example.com",
            "wrong-password-1",
        )
        .await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    expect_limited(login(&a, "/v1/auth/login", "spread@example.com", PASSWORD).await).await;
    expect_limited(login(&b, "/v1/auth/login", "spread@example.com", PASSWORD).await).await;
    b.stop().await;
}

#[tokio::test]
async fn an_unreachable_redis_degrades_to_in_process_limits_without_failing_requests() {
    let app = TestApp::spawn_with(|c| {
        // Nothing listens on port 1: every Redis call fails at once.
        use_redis(c, "redis://127.0.0.1:1");
        c.rate_limit.per_minute = 4;
    })
    .await;
    let user = app.register("degraded@example.com").await;
    for _ in 0..3 {
        let res = me(&app, &user.token).await;
        assert_eq!(
            res.status(),
            StatusCode::OK,
            "never a 5xx because of the limiter"
        );
        assert!(limits(&res).0.is_some(), "still limited, in process");
    }
    expect_limited(me(&app, &user.token).await).await;
    let res = login(&app, "/v1/auth/login", "degraded@example.com", PASSWORD).await;
    assert_eq!(
        res.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "the tenant limit still holds"
    );
    let (status, ready) = read(app.get("/readyz").await).await;
    assert_eq!(status, StatusCode::OK, "degraded, not unready: {ready}");
    let limiter = &ready["data"]["rate_limiter"];
    assert_eq!(limiter["backend"], "redis", "{ready}");
    assert_eq!(limiter["degraded"], true, "{ready}");
    assert!(limiter["fallbacks"].as_u64().unwrap() >= 5, "{ready}");
}

async fn websocket(
    app: &TestApp,
    token: &str,
) -> Result<
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
    StatusCode,
> {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let url = format!("{}/v1/realtime", app.base.replacen("http", "ws", 1));
    let mut request = url.into_client_request().unwrap();
    request
        .headers_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    match tokio_tungstenite::connect_async(request).await {
        Ok((stream, _)) => Ok(stream),
        Err(tokio_tungstenite::tungstenite::Error::Http(res)) => {
            Err(StatusCode::from_u16(res.status().as_u16()).unwrap())
        }
        Err(other) => panic!("websocket: {other}"),
    }
}

#[tokio::test]
async fn the_realtime_connection_limit_counts_across_instances() {
    let Ok(url) = std::env::var("KANRI_TEST_REDIS_URL") else {
        return;
    };
    let a = TestApp::spawn_with(|c| {
        use_redis(c, &url);
        c.realtime.max_connections_per_user = 2;
    })
    .await;
    let b = TestApp::start(a.config.clone(), tempfile::tempdir().unwrap()).await;
    let user = a.register("sockets@example.com").await;
    let on_a = websocket(&a, &user.token).await.expect("first on A");
    let _on_b = websocket(&b, &user.token).await.expect("second on B");
    // Each instance has only one, but the user has two.
    assert_eq!(
        websocket(&a, &user.token).await.err(),
        Some(StatusCode::TOO_MANY_REQUESTS)
    );
    assert_eq!(
        websocket(&b, &user.token).await.err(),
        Some(StatusCode::TOO_MANY_REQUESTS)
    );
    // Closing one gives its place back, on every instance.
    drop(on_a);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        match websocket(&b, &user.token).await {
            Ok(_) => break,
            Err(status) => {
                assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
                assert!(
                    std::time::Instant::now() < deadline,
                    "the lease was never released"
                );
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
        }
    }
    b.stop().await;
}

/// The Lua scripts against a real Redis, checked against the GCRA rule's numbers.
#[tokio::test]
async fn the_redis_scripts_follow_the_gcra_rule() {
    let Ok(url) = std::env::var("KANRI_TEST_REDIS_URL") else {
        return;
    };
    let (mut config, _dir) = crate::helpers::test_config().await;
    use_redis(&mut config, &url);
    let limiter = kanri::rate_limit::Limiter::from_config(&config.cache).unwrap();
    let tenant = kanri::rate_limit::Scope::Tenant;
    for expected in (0..10).rev() {
        let d = limiter.check(tenant, "lua", 10).await;
        assert!(d.allowed);
        assert_eq!((d.limit, d.remaining), (10, expected));
    }
    let refused = limiter.check(tenant, "lua", 10).await;
    assert!(!refused.allowed);
    // 10 per minute: the next one fits 6 s after the burst.
    assert!((5..=6).contains(&refused.retry_after_secs()), "{refused:?}");
    assert_eq!(refused.reset_secs(), 60);
    // Another limit for the same key (a plan upgrade) reads the same TAT: the minute's
    // budget is spent, but at 1000 per minute the next request fits within 60 ms.
    let upgraded = limiter.check(tenant, "lua", 1000).await;
    assert!(
        upgraded.allowed || upgraded.retry_after.as_millis() <= 60,
        "{upgraded:?}"
    );
    assert!(limiter.check(tenant, "other", 10).await.allowed);

    let first = limiter.connection_lease("t", "u", 1).await.unwrap();
    assert!(first.is_some(), "a lease is taken in Redis");
    assert!(limiter.connection_lease("t", "u", 1).await.is_err());
    assert!(
        limiter
            .connection_lease("t", "v", 1)
            .await
            .unwrap()
            .is_some()
    );
    drop(first);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while limiter.connection_lease("t", "u", 1).await.is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "the lease was never released"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let stats = limiter.stats();
    assert_eq!(
        (stats.backend, stats.degraded, stats.fallbacks),
        ("redis", false, 0)
    );
}

#[tokio::test]
async fn the_default_plans_rate_limit_replaces_the_servers() {
    let app = TestApp::spawn_with(|c| {
        c.auth.multi_tenant = true;
        c.rate_limit.per_minute = 1000;
    })
    .await;
    let acme = app.create_tenant("Acme").await;
    let globex = app.create_tenant("Globex").await;
    let plans = |sk: &str| {
        app.request(Method::GET, "/v1/plans")
            .header("X-Api-Key", sk)
            .send()
    };
    let free = crate::plans::list_plans(&app, &acme.secret_key).await[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let res = app
        .request(Method::PATCH, &format!("/v1/plans/{free}"))
        .header("X-Api-Key", &acme.secret_key)
        .json(&json!({"limits": {"rate_limit_per_minute": 5}}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK, "{:?}", read(res).await);

    // The limit read before the change is remembered for up to 2 s on each instance.
    tokio::time::sleep(std::time::Duration::from_millis(2_100)).await;
    let res = plans(&acme.secret_key).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(limits(&res).0, Some(5), "the plan's limit is the one shown");
    for _ in 0..4 {
        plans(&acme.secret_key).await.unwrap();
    }
    expect_limited(plans(&acme.secret_key).await.unwrap()).await;
    // Another tenant's default plan sets nothing: the server's limit.
    let res = plans(&globex.secret_key).await.unwrap();
    assert_eq!(limits(&res).0, Some(1000));
}
