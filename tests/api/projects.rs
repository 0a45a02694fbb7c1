use std::collections::HashSet;

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{SignedIn, TestApp};

/// An action, its request, and the status each caller (owner, admin, member, viewer,
/// non-member, other tenant) must get.
type Case = (
    &'static str,
    Method,
    String,
    Option<serde_json::Value>,
    [StatusCode; 6],
);

struct Team {
    owner: SignedIn,
    admin: SignedIn,
    member: SignedIn,
    viewer: SignedIn,
    outsider: SignedIn,
    ws: String,
}

async fn team(app: &TestApp) -> Team {
    let owner = app.register("owner@example.com").await;
    let admin = app.register("admin@example.com").await;
    let member = app.register("member@example.com").await;
    let viewer = app.register("viewer@example.com").await;
    let outsider = app.register("outsider@example.com").await;
    let ws = app.create_workspace(&owner.token, "Team").await;
    app.add_member(&owner.token, &ws, &admin, "ADMIN").await;
    app.add_member(&owner.token, &ws, &member, "MEMBER").await;
    app.add_member(&owner.token, &ws, &viewer, "VIEWER").await;
    Team {
        owner,
        admin,
        member,
        viewer,
        outsider,
        ws,
    }
}

#[tokio::test]
async fn create_read_update_archive_delete() {
    let app = TestApp::spawn().await;
    let t = team(&app).await;
    let (status, body) = app
        .call(
            Method::POST,
            &format!("/v1/workspaces/{}/projects", t.ws),
            &t.admin.token,
            Some(json!({
                "name": "Website relaunch", "description": "New site", "status": "active", "priority": "high",
                "start_date": "2026-01-01", "end_date": "2026-02-01T12:00:00Z",
                "team_lead": t.member.user_id, "members": [t.viewer.user_id]
            })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let p = &body["data"];
    assert_eq!(p["status"], "ACTIVE");
    assert_eq!(p["priority"], "HIGH");
    assert_eq!(p["start_date"], "2026-01-01T00:00:00.000Z");
    assert_eq!(p["team_lead_id"], t.member.user_id.as_str());
    assert_eq!(p["created_by"], t.admin.user_id.as_str());
    let id = p["id"].as_str().unwrap().to_string();
    let path = format!("/v1/projects/{id}");

    // The lead (a plain member) may update; fields not sent stay as they are.
    let (status, body) = app
        .call(
            Method::PATCH,
            &path,
            &t.member.token,
            Some(json!({"status": "on_hold"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["status"], "ON_HOLD");
    assert_eq!(body["data"]["name"], "Website relaunch");
    assert_eq!(body["data"]["description"], "New site");
    // End before start is refused, also when only one side changes.
    let (status, body) = app
        .call(
            Method::PATCH,
            &path,
            &t.admin.token,
            Some(json!({"end_date": "2025-12-31"})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["details"][0]["field"], "end_date");
    // A viewer who is a project member can read but not change.
    let (status, _) = app.call(Method::GET, &path, &t.viewer.token, None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = app
        .call(
            Method::PATCH,
            &path,
            &t.viewer.token,
            Some(json!({"name": "x"})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let (status, body) = app
        .call(
            Method::PATCH,
            &path,
            &t.admin.token,
            Some(json!({"archived": true, "description": null})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["data"]["archived"], true);
    assert!(body["data"]["description"].is_null());

    // The lead cannot delete; an admin can, and the activity goes with it.
    let (status, _) = app.call(Method::DELETE, &path, &t.member.token, None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = app.call(Method::DELETE, &path, &t.admin.token, None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = app.call(Method::GET, &path, &t.admin.token, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM activity WHERE project_id = $1")
        .bind(&id)
        .fetch_one(app.db.read())
        .await
        .unwrap();
    assert_eq!(left, 0);
}

#[tokio::test]
async fn input_rules() {
    let app = TestApp::spawn().await;
    let t = team(&app).await;
    let create = format!("/v1/workspaces/{}/projects", t.ws);
    for (body, field) in [
        (json!({"name": ""}), "name"),
        (json!({"name": "P", "status": "DONE"}), "status"),
        (json!({"name": "P", "priority": "urgent"}), "priority"),
        (
            json!({"name": "P", "start_date": "2026-13-01"}),
            "start_date",
        ),
        (
            json!({"name": "P", "start_date": "2026-02-01", "end_date": "2026-01-01"}),
            "end_date",
        ),
        (
            json!({"name": "P", "team_lead": t.outsider.user_id}),
            "team_lead",
        ),
        (
            json!({"name": "P", "members": [t.outsider.user_id]}),
            "members",
        ),
        (
            json!({"name": "P", "members": [t.viewer.user_id, t.viewer.user_id]}),
            "members",
        ),
    ] {
        let (status, resp) = app
            .call(Method::POST, &create, &t.owner.token, Some(body.clone()))
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {resp}");
        assert_eq!(resp["details"][0]["field"], field, "{body}: {resp}");
    }
}

#[tokio::test]
async fn role_matrix_for_projects() {
    let app = TestApp::spawn_with(|c| c.auth.multi_tenant = true).await;
    let acme = app.create_tenant("Acme").await;
    let other = app.create_tenant("Other").await;
    let reg = |email: &'static str, key: String| {
        let app = &app;
        async move { app.register_with(email, Some(&key)).await }
    };
    let owner = reg("owner@example.com", acme.publishable_key.clone()).await;
    let admin = reg("admin@example.com", acme.publishable_key.clone()).await;
    let member = reg("member@example.com", acme.publishable_key.clone()).await;
    let viewer = reg("viewer@example.com", acme.publishable_key.clone()).await;
    let outsider = reg("outsider@example.com", acme.publishable_key.clone()).await;
    let foreign = reg("foreign@example.com", other.publishable_key.clone()).await;
    let ws = app.create_workspace(&owner.token, "Team").await;
    app.add_member(&owner.token, &ws, &admin, "ADMIN").await;
    app.add_member(&owner.token, &ws, &member, "MEMBER").await;
    app.add_member(&owner.token, &ws, &viewer, "VIEWER").await;
    let project = app
        .create_project(
            &owner.token,
            &ws,
            json!({"name": "P", "members": [member.user_id, viewer.user_id]}),
        )
        .await;

    let callers = [
        ("owner", &owner),
        ("admin", &admin),
        ("member", &member),
        ("viewer", &viewer),
        ("non-member", &outsider),
        ("other tenant", &foreign),
    ];
    // Expected statuses per caller, in the order above.
    let ok = StatusCode::OK;
    let created = StatusCode::CREATED;
    let forbidden = StatusCode::FORBIDDEN;
    let missing = StatusCode::NOT_FOUND;
    let cases: Vec<Case> = vec![
        (
            "create project",
            Method::POST,
            format!("/v1/workspaces/{ws}/projects"),
            Some(json!({"name": "New"})),
            [created, created, forbidden, forbidden, missing, missing],
        ),
        (
            "list projects",
            Method::GET,
            format!("/v1/workspaces/{ws}/projects"),
            None,
            [ok, ok, ok, ok, missing, missing],
        ),
        (
            "read project",
            Method::GET,
            format!("/v1/projects/{project}"),
            None,
            [ok, ok, ok, ok, missing, missing],
        ),
        (
            "update project",
            Method::PATCH,
            format!("/v1/projects/{project}"),
            Some(json!({"priority": "LOW"})),
            [ok, ok, forbidden, forbidden, missing, missing],
        ),
        (
            "list project members",
            Method::GET,
            format!("/v1/projects/{project}/members"),
            None,
            [ok, ok, ok, ok, missing, missing],
        ),
        (
            "read activity",
            Method::GET,
            format!("/v1/projects/{project}/activity"),
            None,
            [ok, ok, ok, ok, missing, missing],
        ),
        (
            "remove project member",
            Method::DELETE,
            format!("/v1/projects/{project}/members/{}", viewer.user_id),
            None,
            [ok, ok, forbidden, forbidden, missing, missing],
        ),
    ];
    for (what, method, path, body, expected) in cases {
        for ((who, caller), want) in callers.iter().zip(expected) {
            // Put the viewer back so every caller faces the same state.
            if what == "remove project member" {
                let _ = app
                    .call(
                        Method::POST,
                        &format!("/v1/projects/{project}/members"),
                        &owner.token,
                        Some(json!({"user_id": viewer.user_id})),
                    )
                    .await;
            }
            let (status, resp) = app
                .call(method.clone(), &path, &caller.token, body.clone())
                .await;
            assert_eq!(status, want, "{what} as {who}: {resp}");
        }
    }
    // Delete last: member and viewer cannot, admin can.
    let (status, _) = app
        .call(
            Method::DELETE,
            &format!("/v1/projects/{project}"),
            &member.token,
            None,
        )
        .await;
    assert_eq!(status, forbidden);
    let (status, _) = app
        .call(
            Method::DELETE,
            &format!("/v1/projects/{project}"),
            &foreign.token,
            None,
        )
        .await;
    assert_eq!(status, missing);
    let (status, _) = app
        .call(
            Method::DELETE,
            &format!("/v1/projects/{project}"),
            &admin.token,
            None,
        )
        .await;
    assert_eq!(status, ok);
}

#[tokio::test]
async fn members_see_only_their_projects_and_pages_survive_inserts() {
    let app = TestApp::spawn().await;
    let t = team(&app).await;
    let mine = app
        .create_project(
            &t.owner.token,
            &t.ws,
            json!({"name": "Mine", "members": [t.member.user_id]}),
        )
        .await;
    let mut all = vec![mine.clone()];
    for i in 0..4 {
        all.push(
            app.create_project(&t.owner.token, &t.ws, json!({"name": format!("P{i}")}))
                .await,
        );
    }
    let list = format!("/v1/workspaces/{}/projects", t.ws);
    assert_eq!(
        app.collect_ids(&list, &t.member.token, 2).await,
        vec![mine.clone()]
    );
    let (status, _) = app
        .call(
            Method::GET,
            &format!("/v1/projects/{}", all[1]),
            &t.member.token,
            None,
        )
        .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "a project one is not in is invisible"
    );

    // Page through as the admin while inserting between pages: nothing skipped or repeated.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let url = match &cursor {
            Some(c) => format!("{list}?limit=2&cursor={c}"),
            None => format!("{list}?limit=2"),
        };
        let (_, body) = app.call(Method::GET, &url, &t.admin.token, None).await;
        seen.extend(
            body["data"]["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p["id"].as_str().unwrap().to_string()),
        );
        if seen.len() < 4 {
            all.push(
                app.create_project(&t.owner.token, &t.ws, json!({"name": "Inserted"}))
                    .await,
            );
        }
        match body["data"]["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert_eq!(
        seen.len(),
        seen.iter().collect::<HashSet<_>>().len(),
        "no repeats"
    );
    assert_eq!(
        seen.iter().collect::<HashSet<_>>(),
        all.iter().collect::<HashSet<_>>(),
        "no gaps"
    );
}

#[tokio::test]
async fn project_members_and_activity() {
    let app = TestApp::spawn().await;
    let t = team(&app).await;
    let project = app
        .create_project(&t.owner.token, &t.ws, json!({"name": "P"}))
        .await;
    let members = format!("/v1/projects/{project}/members");
    let (status, body) = app
        .call(
            Method::POST,
            &members,
            &t.owner.token,
            Some(json!({"email": "member@example.com"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["data"]["user_id"], t.member.user_id.as_str());
    let (status, body) = app
        .call(
            Method::POST,
            &members,
            &t.owner.token,
            Some(json!({"user_id": t.member.user_id})),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("already_member"))
    );
    let (status, _) = app
        .call(
            Method::POST,
            &members,
            &t.owner.token,
            Some(json!({"user_id": t.outsider.user_id})),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "must belong to the workspace"
    );
    let (status, _) = app
        .call(
            Method::DELETE,
            &format!("{members}/{}", t.member.user_id),
            &t.owner.token,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = app
        .call(
            Method::DELETE,
            &format!("{members}/{}", t.member.user_id),
            &t.owner.token,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (_, body) = app
        .call(
            Method::GET,
            &format!("/v1/projects/{project}/activity?limit=2"),
            &t.owner.token,
            None,
        )
        .await;
    let kinds: Vec<&str> = body["data"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["project.created", "project.member_added"]);
    let cursor = body["data"]["next_cursor"].as_str().unwrap();
    let (_, body) = app
        .call(
            Method::GET,
            &format!("/v1/projects/{project}/activity?cursor={cursor}"),
            &t.owner.token,
            None,
        )
        .await;
    let events = body["data"]["items"].as_array().unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["kind"], "project.member_removed");
    assert_eq!(events[0]["actor_id"], t.owner.user_id.as_str());
    assert!(events[0]["id"].as_i64().unwrap() > 0);
}
