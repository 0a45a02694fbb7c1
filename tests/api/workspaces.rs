use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{TestApp, read};

#[tokio::test]
async fn create_list_get_update_delete() {
    let app = TestApp::spawn().await;
    let owner = app.register("owner@example.com").await;
    let (status, body) = app
        .call(
            Method::POST,
            "/v1/workspaces",
            &owner.token,
            Some(json!({"name": "Acme Design Team"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let ws = &body["data"];
    assert_eq!(ws["slug"], "acme-design-team");
    assert_eq!(ws["role"], "OWNER");
    assert_eq!(ws["owner_id"], owner.user_id.as_str());
    let id = ws["id"].as_str().unwrap();

    // The same name again gets a fresh slug; an explicit taken slug is a conflict.
    let (_, again) = app
        .call(
            Method::POST,
            "/v1/workspaces",
            &owner.token,
            Some(json!({"name": "Acme Design Team"})),
        )
        .await;
    assert_ne!(again["data"]["slug"], "acme-design-team");
    assert!(
        again["data"]["slug"]
            .as_str()
            .unwrap()
            .starts_with("acme-design-team-")
    );
    let (status, body) = app
        .call(
            Method::POST,
            "/v1/workspaces",
            &owner.token,
            Some(json!({"name": "X", "slug": "acme-design-team"})),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["code"], "slug_taken");

    let (status, list) = app
        .call(Method::GET, "/v1/workspaces", &owner.token, None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["data"]["items"].as_array().unwrap().len(), 2);
    assert!(list["data"]["next_cursor"].is_null());

    let (status, body) = app
        .call(
            Method::PATCH,
            &format!("/v1/workspaces/{id}"),
            &owner.token,
            Some(json!({"name": "Renamed", "image_url": "https://img.example.com/a.png"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["name"], "Renamed");
    assert_eq!(
        body["data"]["slug"], "acme-design-team",
        "fields not sent stay"
    );
    let (_, body) = app
        .call(
            Method::PATCH,
            &format!("/v1/workspaces/{id}"),
            &owner.token,
            Some(json!({"image_url": null})),
        )
        .await;
    assert!(body["data"]["image_url"].is_null());
    assert_eq!(body["data"]["name"], "Renamed");

    let (status, _) = app
        .call(
            Method::DELETE,
            &format!("/v1/workspaces/{id}"),
            &owner.token,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = app
        .call(
            Method::GET,
            &format!("/v1/workspaces/{id}"),
            &owner.token,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn member_rules_protect_owners() {
    let app = TestApp::spawn().await;
    let owner = app.register("o@example.com").await;
    let admin = app.register("a@example.com").await;
    let member = app.register("m@example.com").await;
    let outsider = app.register("x@example.com").await;
    let ws = app.create_workspace(&owner.token, "Team").await;
    app.add_member(&owner.token, &ws, &admin, "admin").await;
    let members = format!("/v1/workspaces/{ws}/members");

    // Add by email, case-insensitively; twice is a conflict.
    let (status, body) = app
        .call(
            Method::POST,
            &members,
            &admin.token,
            Some(json!({"email": "M@EXAMPLE.COM", "role": "member"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["data"]["role"], "MEMBER");
    let (status, body) = app
        .call(
            Method::POST,
            &members,
            &admin.token,
            Some(json!({"user_id": member.user_id})),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("already_member"))
    );
    // Unknown users are not found; admins cannot make owners; members cannot manage.
    let (status, _) = app
        .call(
            Method::POST,
            &members,
            &admin.token,
            Some(json!({"email": "ghost@example.com"})),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = app
        .call(
            Method::POST,
            &members,
            &admin.token,
            Some(json!({"user_id": outsider.user_id, "role": "OWNER"})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = app
        .call(
            Method::POST,
            &members,
            &member.token,
            Some(json!({"user_id": outsider.user_id})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // An outsider does not learn the workspace exists.
    let (status, _) = app.call(Method::GET, &members, &outsider.token, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let owner_path = format!("{members}/{}", owner.user_id);
    let (status, _) = app
        .call(
            Method::PATCH,
            &owner_path,
            &admin.token,
            Some(json!({"role": "VIEWER"})),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "an admin cannot demote an owner"
    );
    let (status, _) = app
        .call(Method::DELETE, &owner_path, &admin.token, None)
        .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "an admin cannot remove an owner"
    );
    let (status, body) = app
        .call(
            Method::PATCH,
            &owner_path,
            &owner.token,
            Some(json!({"role": "ADMIN"})),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("last_owner"))
    );
    let (status, body) = app
        .call(Method::DELETE, &owner_path, &owner.token, None)
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("last_owner")),
        "the last owner cannot leave"
    );

    // With a second owner, the first may leave.
    let (status, _) = app
        .call(
            Method::PATCH,
            &format!("{members}/{}", admin.user_id),
            &owner.token,
            Some(json!({"role": "owner"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = app
        .call(Method::DELETE, &owner_path, &owner.token, None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = app
        .call(
            Method::GET,
            &format!("/v1/workspaces/{ws}"),
            &owner.token,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "gone after leaving");

    // Members can leave on their own.
    let (status, _) = app
        .call(
            Method::DELETE,
            &format!("{members}/{}", member.user_id),
            &member.token,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, list) = app.call(Method::GET, &members, &admin.token, None).await;
    assert_eq!(list["data"]["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn concurrent_adds_of_one_user_make_one_membership() {
    let app = TestApp::spawn().await;
    let owner = app.register("o@example.com").await;
    let joiner = app.register("j@example.com").await;
    let ws = app.create_workspace(&owner.token, "Team").await;
    let mut attempts = tokio::task::JoinSet::new();
    for _ in 0..6 {
        let req = app
            .as_user(
                Method::POST,
                &format!("/v1/workspaces/{ws}/members"),
                &owner.token,
            )
            .json(&json!({"user_id": joiner.user_id}));
        attempts.spawn(async move { read(req.send().await.unwrap()).await.0 });
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

#[tokio::test]
async fn other_tenants_workspaces_are_invisible() {
    let app = TestApp::spawn_with(|c| c.auth.multi_tenant = true).await;
    let acme = app.create_tenant("Acme").await;
    let globex = app.create_tenant("Globex").await;
    let a = app
        .register_with("a@example.com", Some(&acme.publishable_key))
        .await;
    let g = app
        .register_with("g@example.com", Some(&globex.publishable_key))
        .await;
    let ws = app.create_workspace(&a.token, "Acme WS").await;
    for (method, path, body) in [
        (Method::GET, format!("/v1/workspaces/{ws}"), None),
        (
            Method::PATCH,
            format!("/v1/workspaces/{ws}"),
            Some(json!({"name": "pwned"})),
        ),
        (Method::DELETE, format!("/v1/workspaces/{ws}"), None),
        (Method::GET, format!("/v1/workspaces/{ws}/members"), None),
        (
            Method::POST,
            format!("/v1/workspaces/{ws}/members"),
            Some(json!({"user_id": g.user_id})),
        ),
    ] {
        let (status, body) = app.call(method.clone(), &path, &g.token, body).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method} {path}: {body}");
    }
    // Acme's owner cannot add Globex's user either: that user does not exist in Acme.
    let (status, _) = app
        .call(
            Method::POST,
            &format!("/v1/workspaces/{ws}/members"),
            &a.token,
            Some(json!({"user_id": g.user_id})),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, body) = app
        .call(Method::GET, &format!("/v1/workspaces/{ws}"), &a.token, None)
        .await;
    assert_eq!(body["data"]["name"], "Acme WS");
}

#[tokio::test]
async fn a_squatted_personal_slug_does_not_lock_anyone_out() {
    let app = TestApp::spawn().await;
    let squatter = app.register("squatter@example.com").await;
    let victim = app.register("victim@example.com").await;
    let tail = &victim.user_id[victim.user_id.len() - 12..];
    let (status, _) = app
        .call(
            Method::POST,
            "/v1/workspaces",
            &squatter.token,
            Some(json!({"name": "Mine", "slug": format!("personal-{tail}")})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    // The seed's single-user routes still find or make the victim's personal workspace.
    let (status, body) = read(
        app.as_user(Method::GET, "/api/list-projects", &victim.token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = read(
        app.as_user(Method::GET, "/api/list-projects", &victim.token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, list) = app
        .call(Method::GET, "/v1/workspaces", &victim.token, None)
        .await;
    assert_eq!(
        list["data"]["items"].as_array().unwrap().len(),
        1,
        "one personal workspace"
    );
}
