//! The seeds' organization and workspace routes, with their request and response shapes:
//! seed 001's `/organizations…`, `/users/:userId/organizations`, `/invitations/:id/accept`,
//! and seed 002's `/api/workspace` and `/api/workspace/add-member`.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, expect_error};

fn as_object_keys(v: &Value) -> Vec<&str> {
    let mut keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    keys
}

#[tokio::test]
async fn seed_001_organizations_invitations_and_members() {
    let app = TestApp::spawn().await;
    let owner = app.register("owner@example.com").await;
    let joiner = app.register("joiner@example.com").await;
    let outsider = app.register("outsider@example.com").await;

    let (status, body) = app
        .call(
            Method::POST,
            "/organizations",
            &owner.token,
            Some(json!({"name": "Acme Org"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(as_object_keys(&body), ["data", "success"]);
    assert_eq!(body["success"], true);
    let org = &body["data"];
    assert_eq!(org["name"], "Acme Org");
    assert_eq!(org["slug"], "acme-org");
    assert_eq!(org["owner_id"], owner.user_id.as_str());
    assert_eq!(org["role"], "OWNER");
    let org_id = org["id"].as_str().unwrap().to_string();
    let (status, body) = app
        .call(
            Method::POST,
            "/organizations",
            &owner.token,
            Some(json!({"name": "Second", "slug": "acme-org"})),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("slug_taken"))
    );

    let (status, body) = app
        .call(
            Method::GET,
            &format!("/organizations/{org_id}"),
            &owner.token,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["data"]["id"], org_id.as_str());
    let (status, _) = app
        .call(
            Method::GET,
            &format!("/organizations/{org_id}"),
            &outsider.token,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "a non-member learns nothing");

    // Only one's own list; another user's id is forbidden.
    let (status, body) = app
        .call(
            Method::GET,
            &format!("/users/{}/organizations", owner.user_id),
            &owner.token,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let list = body["data"].as_array().expect("a plain array");
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["id"], org_id.as_str());
    let res = app
        .as_user(
            Method::GET,
            &format!("/users/{}/organizations", joiner.user_id),
            &owner.token,
        )
        .send()
        .await
        .unwrap();
    expect_error(res, StatusCode::FORBIDDEN, "forbidden").await;

    // Invite by email with a role; the invitee accepts through the seed's route.
    let (status, body) = app
        .call(
            Method::POST,
            &format!("/organizations/{org_id}/invitations"),
            &owner.token,
            Some(json!({"email": "joiner@example.com", "role": "member"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["data"]["status"], "PENDING");
    assert_eq!(body["data"]["role"], "MEMBER");
    assert_eq!(body["data"]["workspace_id"], org_id.as_str());
    assert!(
        body["data"].get("token").is_none(),
        "the token goes only to the invited address"
    );
    let inv = body["data"]["id"].as_str().unwrap().to_string();
    let (status, _) = app
        .call(
            Method::POST,
            &format!("/organizations/{org_id}/invitations"),
            &outsider.token,
            Some(json!({"email": "x@example.com"})),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = app
        .answer_invitation("", &inv, "accept", &outsider.token)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "not addressed to them");
    let (status, body) = app
        .answer_invitation("", &inv, "accept", &joiner.token)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["invitation"]["status"], "ACCEPTED");
    assert_eq!(body["data"]["member"]["role"], "MEMBER");
    let res = app
        .as_user(
            Method::POST,
            &format!("/invitations/{inv}/accept"),
            &joiner.token,
        )
        .json(&json!({"token": app.invitation_token(&inv).await}))
        .send()
        .await
        .unwrap();
    expect_error(res, StatusCode::CONFLICT, "invitation_not_pending").await;
    let (_, body) = app
        .call(
            Method::GET,
            &format!("/users/{}/organizations", joiner.user_id),
            &joiner.token,
            None,
        )
        .await;
    assert_eq!(body["data"][0]["id"], org_id.as_str());
    assert_eq!(body["data"][0]["role"], "MEMBER");

    // A member cannot remove others; the owner can; then the organization is gone for them.
    let (status, _) = app
        .call(
            Method::DELETE,
            &format!("/organizations/{org_id}/members/{}", owner.user_id),
            &joiner.token,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, body) = app
        .call(
            Method::DELETE,
            &format!("/organizations/{org_id}/members/{}", joiner.user_id),
            &owner.token,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body,
        json!({"success": true, "data": {"id": joiner.user_id, "deleted": true}})
    );
    let (status, _) = app
        .call(
            Method::GET,
            &format!("/organizations/{org_id}"),
            &joiner.token,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let res = app
        .as_user(
            Method::DELETE,
            &format!("/organizations/{org_id}/members/{}", owner.user_id),
            &owner.token,
        )
        .send()
        .await
        .unwrap();
    expect_error(res, StatusCode::CONFLICT, "last_owner").await;
}

#[tokio::test]
async fn seed_002_lists_every_workspace_as_a_plain_array() {
    let app = TestApp::spawn().await;
    let user = app.register("many@example.com").await;
    let other = app.register("other@example.com").await;
    app.create_workspace(&other.token, "Not mine").await;
    // More than one page of the canonical list (100), to show the seed route returns them all.
    for n in 0..101 {
        app.create_workspace(&user.token, &format!("Workspace {n}"))
            .await;
    }
    let (status, body) = app
        .call(Method::GET, "/api/workspace", &user.token, None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(as_object_keys(&body), ["data", "success"]);
    let list = body["data"].as_array().expect("data is a plain array");
    assert_eq!(list.len(), 101);
    for w in list {
        for field in ["id", "name", "slug", "image_url"] {
            assert!(w.get(field).is_some(), "{field} missing in {w}");
        }
        assert_ne!(w["name"], "Not mine");
    }
    let (_, body) = app
        .call(Method::GET, "/api/workspace", &other.token, None)
        .await;
    assert_eq!(body["data"].as_array().unwrap().len(), 1);
    let res = app.get("/api/workspace").await;
    expect_error(res, StatusCode::UNAUTHORIZED, "missing_auth").await;
}

#[tokio::test]
async fn seed_002_add_member_answers_with_a_message() {
    let app = TestApp::spawn().await;
    let admin = app.register("admin@example.com").await;
    let newcomer = app.register("newcomer@example.com").await;
    let plain = app.register("plain@example.com").await;
    let outsider = app.register("outsider@example.com").await;
    let ws = app.create_workspace(&admin.token, "Team").await;
    app.add_member(&admin.token, &ws, &plain, "MEMBER").await;

    let (status, body) = app
        .call(
            Method::POST,
            "/api/workspace/add-member",
            &admin.token,
            Some(json!({
                "email": "NewComer@example.com",
                "role": "ADMIN",
                "workspaceId": ws,
                "message": "Welcome aboard"
            })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(as_object_keys(&body), ["data", "message", "success"]);
    assert_eq!(body["success"], true);
    assert_eq!(body["message"], "Member added successfully");
    assert_eq!(body["data"]["user_id"], newcomer.user_id.as_str());
    assert_eq!(body["data"]["email"], "newcomer@example.com");
    assert_eq!(body["data"]["role"], "ADMIN");
    let (_, list) = app
        .call(Method::GET, "/api/workspace", &newcomer.token, None)
        .await;
    assert_eq!(list["data"][0]["id"], ws.as_str());

    let add = |email: &str, role: &str| json!({"email": email, "role": role, "workspaceId": ws});
    for (token, body, status, code) in [
        (
            &admin.token,
            add("newcomer@example.com", "MEMBER"),
            StatusCode::CONFLICT,
            "already_member",
        ),
        (
            &admin.token,
            add("ghost@example.com", "MEMBER"),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            &plain.token,
            add("outsider@example.com", "MEMBER"),
            StatusCode::FORBIDDEN,
            "forbidden",
        ),
        (
            &outsider.token,
            add("outsider@example.com", "MEMBER"),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            &admin.token,
            add("outsider@example.com", "CHIEF"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
        (
            &admin.token,
            json!({"email": "outsider@example.com", "role": "MEMBER"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
    ] {
        let res = app
            .as_user(Method::POST, "/api/workspace/add-member", token)
            .json(&body)
            .send()
            .await
            .unwrap();
        expect_error(res, status, code).await;
    }
    // Nothing above added the outsider.
    let (_, list) = app
        .call(Method::GET, "/api/workspace", &outsider.token, None)
        .await;
    assert_eq!(list["data"], json!([]));
}
