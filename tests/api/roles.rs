//! Custom roles: written with the tenant's secret key, read by its users, assigned to members,
//! and evaluated on every permission check.

use reqwest::{Method, RequestBuilder, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, expect_error, read};

fn with_key(app: &TestApp, method: Method, path: &str, key: &str) -> RequestBuilder {
    app.request(method, path).header("X-Api-Key", key)
}

async fn create_role(app: &TestApp, key: &str, name: &str, permissions: Value) -> String {
    let res = with_key(app, Method::POST, "/v1/roles", key)
        .json(&json!({"name": name, "permissions": permissions}))
        .send()
        .await
        .unwrap();
    let (status, body) = read(res).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["data"]["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn secret_key_writes_roles_and_users_read_them() {
    let app = TestApp::spawn().await;
    let acme = app.create_tenant("Acme").await;
    let user = app
        .register_with("u@example.com", Some(&acme.publishable_key))
        .await;

    let res = with_key(&app, Method::POST, "/v1/roles", &acme.secret_key)
        .json(
            &json!({"name": "Reviewer", "permissions": ["Tasks:read", "comments:*", "tasks:read"]}),
        )
        .send()
        .await
        .unwrap();
    let (status, body) = read(res).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["data"]["name"], "Reviewer");
    assert_eq!(
        body["data"]["permissions"],
        json!(["tasks:read", "comments:*"]),
        "normalised and deduplicated"
    );
    let id = body["data"]["id"].as_str().unwrap().to_string();

    // Same name again; unknown permissions; an empty list.
    for (payload, status, code) in [
        (
            json!({"name": "Reviewer", "permissions": ["*"]}),
            StatusCode::CONFLICT,
            "role_exists",
        ),
        (
            json!({"name": "Bad", "permissions": ["tasks:fly"]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
        (
            json!({"name": "", "permissions": []}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
    ] {
        let res = with_key(&app, Method::POST, "/v1/roles", &acme.secret_key)
            .json(&payload)
            .send()
            .await
            .unwrap();
        let body = expect_error(res, status, code).await;
        if code == "validation_failed" && payload["name"] == "" {
            assert_eq!(body["details"].as_array().unwrap().len(), 2, "{body}");
        }
    }

    // A signed-in user, the publishable key and nobody at all cannot write roles.
    let attempt = json!({"name": "Sneaky", "permissions": ["*"]});
    let res = app
        .as_user(Method::POST, "/v1/roles", &user.token)
        .json(&attempt)
        .send()
        .await
        .unwrap();
    expect_error(res, StatusCode::FORBIDDEN, "secret_key_required").await;
    let res = with_key(&app, Method::POST, "/v1/roles", &acme.publishable_key)
        .json(&attempt)
        .send()
        .await
        .unwrap();
    expect_error(res, StatusCode::FORBIDDEN, "secret_key_required").await;
    let res = app
        .as_user(Method::DELETE, &format!("/v1/roles/{id}"), &user.token)
        .send()
        .await
        .unwrap();
    expect_error(res, StatusCode::FORBIDDEN, "secret_key_required").await;

    // Users of the tenant and the secret key read them; anonymous callers do not.
    let (status, body) = app.call(Method::GET, "/v1/roles", &user.token, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["items"].as_array().unwrap().len(), 1);
    assert!(body["data"]["next_cursor"].is_null());
    let (status, body) = read(
        with_key(
            &app,
            Method::GET,
            &format!("/v1/roles/{id}"),
            &acme.secret_key,
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["data"]["name"], "Reviewer");
    expect_error(
        app.get("/v1/roles").await,
        StatusCode::UNAUTHORIZED,
        "missing_auth",
    )
    .await;

    // Partial update: the name alone keeps the permissions; a taken name is a conflict.
    create_role(&app, &acme.secret_key, "Editor", json!(["tasks:*"])).await;
    let res = with_key(
        &app,
        Method::PATCH,
        &format!("/v1/roles/{id}"),
        &acme.secret_key,
    )
    .json(&json!({"name": "Senior reviewer"}))
    .send()
    .await
    .unwrap();
    let (status, body) = read(res).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["name"], "Senior reviewer");
    assert_eq!(
        body["data"]["permissions"],
        json!(["tasks:read", "comments:*"])
    );
    let res = with_key(
        &app,
        Method::PATCH,
        &format!("/v1/roles/{id}"),
        &acme.secret_key,
    )
    .json(&json!({"name": "Editor"}))
    .send()
    .await
    .unwrap();
    expect_error(res, StatusCode::CONFLICT, "role_exists").await;
    let res = with_key(
        &app,
        Method::PATCH,
        &format!("/v1/roles/{id}"),
        &acme.secret_key,
    )
    .json(&json!({"permissions": ["projects:*"]}))
    .send()
    .await
    .unwrap();
    let (status, body) = read(res).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["permissions"], json!(["projects:*"]));

    // Pagination walks every role once.
    for n in 0..3 {
        create_role(&app, &acme.secret_key, &format!("Extra {n}"), json!(["*"])).await;
    }
    let mut seen = Vec::new();
    let mut url = "/v1/roles?limit=2".to_string();
    loop {
        let (_, body) = app.call(Method::GET, &url, &user.token, None).await;
        for r in body["data"]["items"].as_array().unwrap() {
            seen.push(r["id"].as_str().unwrap().to_string());
        }
        match body["data"]["next_cursor"].as_str() {
            Some(c) => url = format!("/v1/roles?limit=2&cursor={c}"),
            None => break,
        }
    }
    let unique: std::collections::HashSet<&String> = seen.iter().collect();
    assert_eq!((seen.len(), unique.len()), (5, 5), "{seen:?}");

    // Another tenant neither sees nor touches them.
    let globex = app.create_tenant("Globex").await;
    let g = app
        .register_with("g@example.com", Some(&globex.publishable_key))
        .await;
    let (_, body) = app.call(Method::GET, "/v1/roles", &g.token, None).await;
    assert_eq!(body["data"]["items"], json!([]));
    let (status, _) = app
        .call(Method::GET, &format!("/v1/roles/{id}"), &g.token, None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    for method in [Method::PATCH, Method::DELETE] {
        let res = with_key(
            &app,
            method.clone(),
            &format!("/v1/roles/{id}"),
            &globex.secret_key,
        )
        .json(&json!({"name": "pwned"}))
        .send()
        .await
        .unwrap();
        expect_error(res, StatusCode::NOT_FOUND, "not_found").await;
    }

    let res = with_key(
        &app,
        Method::DELETE,
        &format!("/v1/roles/{id}"),
        &acme.secret_key,
    )
    .send()
    .await
    .unwrap();
    let (status, body) = read(res).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["data"], json!({"id": id, "deleted": true}));
    let res = with_key(
        &app,
        Method::DELETE,
        &format!("/v1/roles/{id}"),
        &acme.secret_key,
    )
    .send()
    .await
    .unwrap();
    expect_error(res, StatusCode::NOT_FOUND, "not_found").await;
}

#[tokio::test]
async fn a_custom_role_grants_its_permissions_and_deleting_it_falls_back() {
    let app = TestApp::spawn().await;
    let acme = app.create_tenant("Acme").await;
    let register = |email: &'static str| app.register_with(email, Some(&acme.publishable_key));
    let owner = register("owner@example.com").await;
    let custom = register("custom@example.com").await;
    let first = register("first@example.com").await;
    let second = register("second@example.com").await;
    let ws = app.create_workspace(&owner.token, "Team").await;
    let members = format!("/v1/workspaces/{ws}/members");

    let role = create_role(
        &app,
        &acme.secret_key,
        "Recruiter",
        json!(["tasks:read", "members:*"]),
    )
    .await;
    // Another tenant's role id is no role at all here.
    let globex = app.create_tenant("Globex").await;
    let foreign = create_role(&app, &globex.secret_key, "Foreign", json!(["*"])).await;
    let (status, body) = app
        .call(
            Method::POST,
            &members,
            &owner.token,
            Some(json!({"user_id": custom.user_id, "role": "MEMBER", "custom_role_id": foreign})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");

    let (status, body) = app
        .call(
            Method::POST,
            &members,
            &owner.token,
            Some(json!({"user_id": custom.user_id, "role": "MEMBER", "custom_role_id": role})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["data"]["custom_role_id"], role.as_str());

    // members:* lets a MEMBER add members (up to their own built-in rank)…
    let (status, body) = app
        .call(
            Method::POST,
            &members,
            &custom.token,
            Some(json!({"user_id": first.user_id, "role": "VIEWER"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, _) = app
        .call(
            Method::POST,
            &members,
            &custom.token,
            Some(json!({"user_id": second.user_id, "role": "ADMIN"})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "no granting above MEMBER");
    // …but the role has no workspace:update, which a plain MEMBER lacks as well.
    let (status, body) = app
        .call(
            Method::PATCH,
            &format!("/v1/workspaces/{ws}"),
            &custom.token,
            Some(json!({"name": "Taken over"})),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("forbidden"))
    );

    // Deleting the role: the member falls back to MEMBER, which cannot manage members.
    let res = with_key(
        &app,
        Method::DELETE,
        &format!("/v1/roles/{role}"),
        &acme.secret_key,
    )
    .send()
    .await
    .unwrap();
    assert_eq!(read(res).await.0, StatusCode::OK);
    let (_, list) = app.call(Method::GET, &members, &owner.token, None).await;
    let me = list["data"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["user_id"] == custom.user_id.as_str())
        .unwrap()
        .clone();
    assert_eq!(me["role"], "MEMBER");
    assert!(me["custom_role_id"].is_null(), "{me}");
    let (status, _) = app
        .call(
            Method::POST,
            &members,
            &custom.token,
            Some(json!({"user_id": second.user_id, "role": "VIEWER"})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // Reading members is still allowed to a MEMBER.
    let (status, _) = app.call(Method::GET, &members, &custom.token, None).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn changing_a_role_changes_what_its_members_may_do() {
    let app = TestApp::spawn().await;
    let acme = app.create_tenant("Acme").await;
    let owner = app
        .register_with("o@example.com", Some(&acme.publishable_key))
        .await;
    let custom = app
        .register_with("c@example.com", Some(&acme.publishable_key))
        .await;
    let target = app
        .register_with("t@example.com", Some(&acme.publishable_key))
        .await;
    let ws = app.create_workspace(&owner.token, "Team").await;
    let members = format!("/v1/workspaces/{ws}/members");
    // A narrower role than VIEWER: not even members:read.
    let role = create_role(&app, &acme.secret_key, "Narrow", json!(["tasks:read"])).await;
    let (status, _) = app
        .call(
            Method::POST,
            &members,
            &owner.token,
            Some(json!({"user_id": custom.user_id, "role": "ADMIN", "custom_role_id": role})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = app.call(Method::GET, &members, &custom.token, None).await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "the custom role replaces ADMIN's permissions"
    );

    let res = with_key(
        &app,
        Method::PATCH,
        &format!("/v1/roles/{role}"),
        &acme.secret_key,
    )
    .json(&json!({"permissions": ["members:manage", "members:read"]}))
    .send()
    .await
    .unwrap();
    assert_eq!(read(res).await.0, StatusCode::OK);
    let (status, _) = app.call(Method::GET, &members, &custom.token, None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = app
        .call(
            Method::POST,
            &members,
            &custom.token,
            Some(json!({"user_id": target.user_id, "role": "ADMIN"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

/// A custom role can only be handed out by someone holding all it grants, and nobody changes
/// or removes a member who ranks above them.
#[tokio::test]
async fn custom_roles_cannot_be_used_to_escalate() {
    let app = crate::helpers::TestApp::spawn().await;
    let (_, sk) = kanri::services::tenants::create_key(
        &app.cx,
        "default",
        kanri::domain::KeyKind::Secret,
        "t",
    )
    .await
    .unwrap();
    let role = |name: &'static str, perms: serde_json::Value| {
        let req = app
            .request(reqwest::Method::POST, "/v1/roles")
            .header("X-Api-Key", sk.expose().to_string())
            .json(&serde_json::json!({"name": name, "permissions": perms}));
        async move {
            let (status, body) = crate::helpers::read(req.send().await.unwrap()).await;
            assert_eq!(status, reqwest::StatusCode::CREATED, "{body}");
            body["data"]["id"].as_str().unwrap().to_string()
        }
    };
    let gatekeeper = role(
        "Gatekeeper",
        serde_json::json!(["workspace:read", "members:*"]),
    )
    .await;
    let everything = role("Everything", serde_json::json!(["*"])).await;
    let owner = app.register("owner@example.com").await;
    let admin = app.register("admin@example.com").await;
    let keeper = app.register("keeper@example.com").await;
    let other = app.register("other@example.com").await;
    let ws = app.create_workspace(&owner.token, "Team").await;
    app.add_member(&owner.token, &ws, &admin, "ADMIN").await;
    let members = format!("/v1/workspaces/{ws}/members");
    let (status, body) = app
        .call(reqwest::Method::POST, &members, &owner.token, Some(serde_json::json!({"user_id": keeper.user_id, "role": "MEMBER", "custom_role_id": gatekeeper})))
        .await;
    assert_eq!(status, reqwest::StatusCode::CREATED, "{body}");

    // The gatekeeper may manage members, but not grant a role broader than its own…
    let me = format!("{members}/{}", keeper.user_id);
    let (status, _) = app
        .call(
            reqwest::Method::PATCH,
            &me,
            &keeper.token,
            Some(serde_json::json!({"role": "MEMBER", "custom_role_id": everything})),
        )
        .await;
    assert_eq!(status, reqwest::StatusCode::FORBIDDEN, "self-escalation");
    let (status, _) = app
        .call(
            reqwest::Method::POST,
            &members,
            &keeper.token,
            Some(serde_json::json!({"user_id": other.user_id, "custom_role_id": everything})),
        )
        .await;
    assert_eq!(status, reqwest::StatusCode::FORBIDDEN);
    // …nor touch the admin above it.
    let admin_path = format!("{members}/{}", admin.user_id);
    let (status, _) = app
        .call(
            reqwest::Method::PATCH,
            &admin_path,
            &keeper.token,
            Some(serde_json::json!({"role": "VIEWER"})),
        )
        .await;
    assert_eq!(status, reqwest::StatusCode::FORBIDDEN);
    let (status, _) = app
        .call(reqwest::Method::DELETE, &admin_path, &keeper.token, None)
        .await;
    assert_eq!(status, reqwest::StatusCode::FORBIDDEN);
    // It may hand out what it holds.
    let (status, body) = app
        .call(
            reqwest::Method::POST,
            &members,
            &keeper.token,
            Some(serde_json::json!({"user_id": other.user_id, "custom_role_id": gatekeeper})),
        )
        .await;
    assert_eq!(status, reqwest::StatusCode::CREATED, "{body}");
    // The owner holds everything and may grant the broad role.
    let (status, _) = app
        .call(
            reqwest::Method::PATCH,
            &format!("{members}/{}", other.user_id),
            &owner.token,
            Some(serde_json::json!({"role": "MEMBER", "custom_role_id": everything})),
        )
        .await;
    assert_eq!(status, reqwest::StatusCode::OK);
}
