use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::helpers::{TestApp, expect_error, read};

#[tokio::test]
async fn healthz_and_readyz_answer_in_the_envelope() {
    let app = TestApp::spawn().await;
    for path in ["/healthz", "/readyz", "/health"] {
        let (status, body) = read(app.get(path).await).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert!(body["data"]["status"].is_string(), "{path}: {body}");
    }
    let (status, body) = read(app.get("/").await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["message"], "Server is running successfully!");
}

#[tokio::test]
async fn readyz_reports_an_unreachable_database() {
    let app = TestApp::spawn().await;
    app.db.close().await;
    expect_error(
        app.get("/readyz").await,
        StatusCode::SERVICE_UNAVAILABLE,
        "unavailable",
    )
    .await;
    // The process itself is still alive.
    let (status, _) = read(app.get("/healthz").await).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn request_id_is_echoed_when_sane_and_generated_otherwise() {
    let app = TestApp::spawn().await;
    let res = app
        .request(Method::GET, "/healthz")
        .header("X-Request-Id", "client-id-123")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["x-request-id"], "client-id-123");

    let res = app
        .request(Method::GET, "/nope")
        .header("X-Request-Id", "bad id with spaces")
        .send()
        .await
        .unwrap();
    let generated = res.headers()["x-request-id"].to_str().unwrap().to_string();
    assert_ne!(generated, "bad id with spaces");
    assert!(!generated.is_empty());
    let body = expect_error(res, StatusCode::NOT_FOUND, "not_found").await;
    assert_eq!(body["request_id"], generated.as_str());
}

#[tokio::test]
async fn unknown_routes_and_methods_get_the_envelope() {
    let app = TestApp::spawn().await;
    expect_error(
        app.get("/v1/does-not-exist").await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    let res = app
        .request(Method::DELETE, "/healthz")
        .send()
        .await
        .unwrap();
    assert!(res.headers().contains_key("allow"));
    expect_error(res, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed").await;
    let res = app
        .request(Method::GET, "/v1/auth/login")
        .send()
        .await
        .unwrap();
    expect_error(res, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed").await;
}

#[tokio::test]
async fn openapi_document_lists_every_route() {
    let app = TestApp::spawn().await;
    let res = app.get("/openapi.json").await;
    assert_eq!(res.status(), StatusCode::OK);
    let doc: Value = res.json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    let expected = [
        ("/", "get"),
        ("/health", "get"),
        ("/healthz", "get"),
        ("/readyz", "get"),
        ("/openapi.json", "get"),
        ("/metrics", "get"),
        ("/v1/auth/register", "post"),
        ("/v1/auth/login", "post"),
        ("/v1/auth/logout", "post"),
        ("/v1/auth/me", "get"),
        ("/v1/auth/two-factor", "get"),
        ("/v1/auth/two-factor/enrollment", "post"),
        ("/v1/auth/two-factor/enrollment/confirm", "post"),
        ("/v1/auth/two-factor/disable", "post"),
        ("/v1/auth/two-factor/recovery-codes", "post"),
        ("/v1/auth/login/two-factor", "post"),
        ("/v1/admin/users/{id}/two-factor", "delete"),
        ("/auth/register", "post"),
        ("/auth/login", "post"),
        ("/auth/logout", "post"),
        ("/v1/auth/password-reset/request", "post"),
        ("/v1/auth/password-reset/complete", "post"),
        ("/auth/password-reset/request", "post"),
        ("/auth/password-reset/complete", "post"),
        ("/v1/admin/activity", "get"),
        ("/v1/admin/users", "get"),
        ("/v1/admin/users", "post"),
        ("/v1/admin/users/{id}", "get"),
        ("/v1/admin/users/{id}", "delete"),
        ("/v1/admin/jobs", "get"),
        ("/v1/admin/jobs/stats", "get"),
        ("/v1/admin/jobs/{id}/retry", "post"),
        ("/v1/admin/jobs/{id}/cancel", "post"),
        ("/v1/admin/jobs/retry-dead", "post"),
        ("/v1/workspaces/{id}/projects", "get"),
        ("/v1/workspaces/{id}/projects", "post"),
        ("/v1/projects/{id}", "get"),
        ("/v1/projects/{id}", "patch"),
        ("/v1/projects/{id}", "delete"),
        ("/v1/projects/{id}/members", "get"),
        ("/v1/projects/{id}/members", "post"),
        ("/v1/projects/{id}/members/{user_id}", "delete"),
        ("/v1/projects/{id}/activity", "get"),
        ("/v1/projects/{id}/tasks", "get"),
        ("/v1/projects/{id}/tasks", "post"),
        ("/v1/projects/{id}/tasks/bulk-status", "post"),
        ("/v1/tasks/{id}", "get"),
        ("/v1/tasks/{id}", "patch"),
        ("/v1/tasks/{id}", "delete"),
        ("/v1/tasks/{id}/comments", "get"),
        ("/v1/tasks/{id}/comments", "post"),
        ("/v1/comments/{id}", "patch"),
        ("/v1/comments/{id}", "delete"),
        ("/v1/tasks/{id}/attachments", "get"),
        ("/v1/tasks/{id}/attachments", "post"),
        ("/v1/attachments/{id}", "get"),
        ("/v1/attachments/{id}", "delete"),
        ("/v1/attachments/{id}/download", "get"),
        ("/v1/attachments/{id}/url", "post"),
        ("/v1/files/{id}", "get"),
        ("/v1/workspaces", "get"),
        ("/v1/workspaces", "post"),
        ("/v1/workspaces/{id}", "get"),
        ("/v1/workspaces/{id}", "patch"),
        ("/v1/workspaces/{id}", "delete"),
        ("/v1/workspaces/{id}/members", "get"),
        ("/v1/workspaces/{id}/members", "post"),
        ("/v1/workspaces/{id}/members/{user_id}", "patch"),
        ("/v1/workspaces/{id}/members/{user_id}", "delete"),
        ("/v1/roles", "get"),
        ("/v1/roles", "post"),
        ("/v1/roles/{id}", "get"),
        ("/v1/roles/{id}", "patch"),
        ("/v1/roles/{id}", "delete"),
        ("/v1/workspaces/{id}/invitations", "get"),
        ("/v1/workspaces/{id}/invitations", "post"),
        ("/v1/invitations", "get"),
        ("/v1/invitations/{id}", "delete"),
        ("/v1/invitations/{id}/accept", "post"),
        ("/v1/invitations/{id}/reject", "post"),
        ("/organizations", "post"),
        ("/organizations/{id}", "get"),
        ("/users/{userId}/organizations", "get"),
        ("/organizations/{id}/invitations", "post"),
        ("/invitations/{id}/accept", "post"),
        ("/organizations/{id}/members/{userId}", "delete"),
        ("/api/workspace", "get"),
        ("/api/workspace/add-member", "post"),
        ("/api/create-project", "post"),
        ("/api/list-projects", "get"),
        ("/api/create-task", "post"),
        ("/api/projects/workspace/{workspaceId}/projects", "get"),
        ("/api/projects", "post"),
        ("/api/projects/{projectId}", "patch"),
        ("/api/projects/{projectId}/add-member", "post"),
        ("/api/tasks/project/{projectId}/tasks", "get"),
        ("/api/comments/task/{taskId}/comments", "get"),
        ("/v1/webhooks/identity", "post"),
        ("/api/webhooks/clerk", "post"),
        ("/v1/realtime", "get"),
        ("/api/realtime", "get"),
        ("/v1/projects/{id}/events", "get"),
        ("/v1/projects/{id}/search", "post"),
        ("/v1/workspaces/{id}/search", "post"),
        ("/api/search-tasks", "post"),
        ("/v1/workspaces/{id}/webhooks", "get"),
        ("/v1/workspaces/{id}/webhooks", "post"),
        ("/v1/webhooks/{id}", "get"),
        ("/v1/webhooks/{id}", "patch"),
        ("/v1/webhooks/{id}", "delete"),
        ("/v1/webhooks/{id}/rotate-secret", "post"),
        ("/v1/webhooks/{id}/deliveries", "get"),
        ("/v1/webhooks/{id}/deliveries/{delivery_id}/retry", "post"),
        ("/v1/webhooks/{id}/test", "post"),
        ("/v1/plans", "get"),
        ("/v1/plans", "post"),
        ("/v1/plans/{id}", "get"),
        ("/v1/plans/{id}", "patch"),
        ("/v1/plans/{id}", "delete"),
        ("/v1/workspaces/{id}/subscription", "get"),
        ("/v1/workspaces/{id}/subscription", "put"),
        ("/v1/workspaces/{id}/usage", "get"),
        ("/v1/workspaces/{id}/usage/records", "get"),
        ("/v1/webhooks/stripe", "post"),
        ("/v1/admin/keys", "get"),
        ("/v1/admin/keys", "post"),
        ("/v1/admin/keys/{id}", "delete"),
        ("/v1/admin/webhooks", "get"),
        ("/v1/admin/webhooks/{id}/deliveries", "get"),
        (
            "/v1/admin/webhooks/{id}/deliveries/{delivery_id}/retry",
            "post",
        ),
        ("/v1/admin/workspaces", "get"),
        ("/v1/admin/health", "get"),
        ("/v1/tasks/{id}/activity", "get"),
        ("/v1/workspaces/{id}/labels", "get"),
        ("/v1/workspaces/{id}/labels", "post"),
        ("/v1/labels/{id}", "patch"),
        ("/v1/labels/{id}", "delete"),
        ("/v1/tasks/{id}/relations", "get"),
        ("/v1/tasks/{id}/relations", "post"),
        ("/v1/tasks/{id}/relations/{relation_id}", "delete"),
        ("/v1/tasks/{id}/time-entries", "get"),
        ("/v1/tasks/{id}/time-entries", "post"),
        ("/v1/tasks/{id}/timer/start", "post"),
        ("/v1/tasks/{id}/timer/stop", "post"),
        ("/v1/time-entries/{id}", "delete"),
        ("/v1/projects/{id}/time", "get"),
        ("/v1/auth/oidc", "get"),
        ("/v1/auth/oidc/{provider}/start", "get"),
        ("/v1/auth/oidc/{provider}/callback", "get"),
        ("/v1/workspaces/{id}/exports", "post"),
        ("/v1/workspaces/{id}/exports/{export_id}", "get"),
        ("/v1/workspaces/{id}/exports/{export_id}/download", "get"),
        ("/v1/imports", "post"),
        ("/v1/imports/{id}", "get"),
        ("/v1/projects/{id}/imports/csv", "post"),
        ("/v1/workspaces/{id}/imports/trello", "post"),
    ];
    let paths = doc["paths"].as_object().unwrap();
    for (path, method) in expected {
        assert!(
            paths.get(path).and_then(|p| p.get(method)).is_some(),
            "{method} {path} missing"
        );
    }
    let documented: usize = paths.values().map(|p| p.as_object().unwrap().len()).sum();
    assert_eq!(
        documented,
        expected.len(),
        "a route is documented but not listed here"
    );
    // Each documented route is actually served (never answered by the 404 fallback).
    for (path, method) in expected {
        let path = path
            .replace("{id}", "00000000-0000-0000-0000-000000000000")
            .replace("{user_id}", "u")
            .replace("{userId}", "u")
            .replace("{workspaceId}", "w")
            .replace("{projectId}", "p")
            .replace("{taskId}", "t")
            .replace("{delivery_id}", "d")
            .replace("{relation_id}", "r")
            .replace("{provider}", "sso");
        let res = app
            .request(
                Method::from_bytes(method.to_uppercase().as_bytes()).unwrap(),
                &path,
            )
            .send()
            .await
            .unwrap();
        if res.status() == StatusCode::NOT_FOUND {
            let body: Value = res.json().await.unwrap();
            assert_ne!(body["message"], "route not found", "{method} {path}");
        }
    }
}

#[tokio::test]
async fn cors_allows_only_configured_origins() {
    let app =
        TestApp::spawn_with(|c| c.server.cors_origins = vec!["https://app.example.com".into()])
            .await;
    let res = app
        .request(Method::OPTIONS, "/v1/auth/login")
        .header("Origin", "https://app.example.com")
        .header("Access-Control-Request-Method", "POST")
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.headers()["access-control-allow-origin"],
        "https://app.example.com"
    );
    let res = app
        .request(Method::GET, "/healthz")
        .header("Origin", "https://evil.example.com")
        .send()
        .await
        .unwrap();
    assert!(!res.headers().contains_key("access-control-allow-origin"));
}
