use std::collections::HashSet;

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{PASSWORD, TestApp, expect_error, read};

#[tokio::test]
async fn secret_key_manages_users() {
    let app = TestApp::spawn().await;
    let tenant = app.create_tenant("Acme").await;
    let admin = |method: Method, path: &str| {
        app.request(method, path)
            .header("X-Api-Key", &tenant.secret_key)
    };

    let res = admin(Method::POST, "/v1/admin/users")
        .json(&json!({"email": "new@example.com", "name": "New", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    let (status, body) = read(res).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let id = body["data"]["id"].as_str().unwrap().to_string();

    let res = admin(Method::POST, "/v1/admin/users")
        .json(&json!({"email": "NEW@example.com", "name": "Dup"}))
        .send()
        .await
        .unwrap();
    expect_error(res, StatusCode::CONFLICT, "email_taken").await;
    let res = admin(Method::POST, "/v1/admin/users")
        .json(&json!({"email": "bad", "name": ""}))
        .send()
        .await
        .unwrap();
    expect_error(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;

    let (status, body) = read(
        admin(Method::GET, &format!("/v1/admin/users/{id}"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["data"]["email"], "new@example.com");

    // The created user can sign in with the tenant's key; deleting them ends that session.
    let res = app
        .request(Method::POST, "/v1/auth/login")
        .header("X-Api-Key", &tenant.publishable_key)
        .json(&json!({"email": "new@example.com", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    let (status, body) = read(res).await;
    assert_eq!(status, StatusCode::OK);
    let token = body["data"]["token"].as_str().unwrap().to_string();

    let (status, body) = read(
        admin(Method::DELETE, &format!("/v1/admin/users/{id}"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["data"]["deleted"], true);
    assert_eq!(app.me(&token).await.0, StatusCode::UNAUTHORIZED);
    expect_error(
        admin(Method::GET, &format!("/v1/admin/users/{id}"))
            .send()
            .await
            .unwrap(),
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    expect_error(
        admin(Method::DELETE, &format!("/v1/admin/users/{id}"))
            .send()
            .await
            .unwrap(),
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn admin_routes_need_a_secret_key() {
    let app = TestApp::spawn().await;
    let tenant = app.create_tenant("Acme").await;
    let user = app.register("plain@example.com").await;
    expect_error(
        app.get("/v1/admin/users").await,
        StatusCode::UNAUTHORIZED,
        "missing_auth",
    )
    .await;
    let res = app
        .request(Method::GET, "/v1/admin/users")
        .header("X-Api-Key", &tenant.publishable_key)
        .send()
        .await
        .unwrap();
    expect_error(res, StatusCode::FORBIDDEN, "secret_key_required").await;
    let res = app
        .request(Method::GET, "/v1/admin/users")
        .bearer_auth(&user.token)
        .send()
        .await
        .unwrap();
    expect_error(res, StatusCode::FORBIDDEN, "secret_key_required").await;
}

#[tokio::test]
async fn user_lists_page_by_cursor_without_gaps_or_repeats() {
    let app = TestApp::spawn().await;
    let tenant = app.create_tenant("Acme").await;
    let mut created = HashSet::new();
    for i in 0..5 {
        let res = app
            .request(Method::POST, "/v1/admin/users")
            .header("X-Api-Key", &tenant.secret_key)
            .json(&json!({"email": format!("u{i}@example.com"), "name": format!("U{i}")}))
            .send()
            .await
            .unwrap();
        created.insert(
            read(res).await.1["data"]["id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    // Another tenant's users never appear.
    app.register("default-tenant@example.com").await;

    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut path = "/v1/admin/users?limit=2".to_string();
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let res = app
            .request(Method::GET, &path)
            .header("X-Api-Key", &tenant.secret_key)
            .send()
            .await
            .unwrap();
        let (status, body) = read(res).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        pages += 1;
        let items = body["data"]["items"].as_array().unwrap();
        assert!(items.len() <= 2);
        seen.extend(items.iter().map(|u| u["id"].as_str().unwrap().to_string()));
        match body["data"]["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen.len(), 5);
    assert_eq!(seen.iter().cloned().collect::<HashSet<_>>(), created);

    for bad in ["limit=0", "limit=1000", "cursor=%%%", "limit=abc"] {
        let res = app
            .request(Method::GET, &format!("/v1/admin/users?{bad}"))
            .header("X-Api-Key", &tenant.secret_key)
            .send()
            .await
            .unwrap();
        let (status, body) = read(res).await;
        assert!(
            status == StatusCode::UNPROCESSABLE_ENTITY || status == StatusCode::BAD_REQUEST,
            "{bad}: {body}"
        );
    }
}
