//! Subtasks (a parent in the same project, no cycles, progress on the parent) and relations
//! between tasks (blocks / blocked by, relates to, duplicates; no blocking loops).

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{SignedIn, TestApp};

struct Team {
    owner: SignedIn,
    member: SignedIn,
    viewer: SignedIn,
    workspace: String,
    project: String,
}

async fn team(app: &TestApp) -> Team {
    let owner = app.register("owner@example.com").await;
    let member = app.register("member@example.com").await;
    let viewer = app.register("viewer@example.com").await;
    let workspace = app.create_workspace(&owner.token, "Team").await;
    app.add_member(&owner.token, &workspace, &member, "MEMBER")
        .await;
    app.add_member(&owner.token, &workspace, &viewer, "VIEWER")
        .await;
    let project = app
        .create_project(
            &owner.token,
            &workspace,
            json!({"name": "Board", "members": [member.user_id, viewer.user_id]}),
        )
        .await;
    Team {
        owner,
        member,
        viewer,
        workspace,
        project,
    }
}

async fn task(app: &TestApp, t: &Team, body: Value) -> String {
    app.create_task(&t.member.token, &t.project, body).await["id"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn get(app: &TestApp, token: &str, id: &str) -> Value {
    let (status, body) = app
        .call(Method::GET, &format!("/v1/tasks/{id}"), token, None)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["data"].clone()
}

async fn patch(app: &TestApp, token: &str, id: &str, body: Value) -> (StatusCode, Value) {
    app.call(Method::PATCH, &format!("/v1/tasks/{id}"), token, Some(body))
        .await
}

#[tokio::test]
async fn subtasks_show_progress_on_their_parent_and_never_loop() {
    let app = TestApp::spawn().await;
    let t = team(&app).await;
    let epic = task(&app, &t, json!({"title": "Launch"})).await;
    let a = task(&app, &t, json!({"title": "Write post", "parent_id": epic})).await;
    let b = task(
        &app,
        &t,
        json!({"title": "Record demo", "parent_id": epic, "status": "DONE"}),
    )
    .await;
    let leaf = task(&app, &t, json!({"title": "Script", "parent_id": b})).await;

    let parent = get(&app, &t.viewer.token, &epic).await;
    assert_eq!(parent["subtasks"], json!({"total": 2, "done": 1}));
    assert_eq!(
        get(&app, &t.viewer.token, &a).await["parent_id"],
        epic.as_str()
    );
    let (_, subtasks) = app
        .call(
            Method::GET,
            &format!("/v1/projects/{}/tasks?parent_id={epic}", t.project),
            &t.viewer.token,
            None,
        )
        .await;
    let mut ids: Vec<&str> = subtasks["data"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["id"].as_str().unwrap())
        .collect();
    ids.sort();
    let mut expected = vec![a.as_str(), b.as_str()];
    expected.sort();
    assert_eq!(ids, expected);

    // Completing a subtask moves the parent's progress (through the list cache too).
    let (status, _) = patch(&app, &t.member.token, &a, json!({"status": "DONE"})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        get(&app, &t.viewer.token, &epic).await["subtasks"],
        json!({"total": 2, "done": 2})
    );

    // No cycles: itself, its own subtask, or a deeper descendant.
    for (child, parent) in [(&epic, &epic), (&epic, &a), (&epic, &leaf), (&b, &leaf)] {
        let (status, body) = patch(
            &app,
            &t.member.token,
            child,
            json!({"parent_id": parent, "title": "changed"}),
        )
        .await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{child} under {parent}: {body}"
        );
        assert_eq!(body["details"][0]["field"], "parent_id", "{body}");
    }
    assert_eq!(
        get(&app, &t.member.token, &epic).await["title"],
        "Launch",
        "a refused change writes nothing"
    );

    // A parent in another project, or unknown, is refused.
    let other = app
        .create_project(
            &t.owner.token,
            &t.workspace,
            json!({"name": "Other", "members": [t.member.user_id]}),
        )
        .await;
    let elsewhere = app
        .create_task(&t.member.token, &other, json!({"title": "Elsewhere"}))
        .await;
    for parent in [elsewhere["id"].as_str().unwrap(), "no-such-task"] {
        let (status, _) = patch(&app, &t.member.token, &a, json!({"parent_id": parent})).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    }
    // Moving a subtask out (null) and deleting a parent keep the subtasks as top-level tasks.
    let (status, body) = patch(&app, &t.member.token, &a, json!({"parent_id": null})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["data"]["parent_id"].is_null());
    let (status, _) = app
        .call(
            Method::DELETE,
            &format!("/v1/tasks/{b}"),
            &t.owner.token,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(get(&app, &t.member.token, &leaf).await["parent_id"].is_null());
}

async fn relations(app: &TestApp, token: &str, id: &str) -> Vec<(String, String)> {
    let (status, body) = app
        .call(
            Method::GET,
            &format!("/v1/tasks/{id}/relations"),
            token,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["kind"].as_str().unwrap().to_string(),
                r["task"]["id"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

async fn relate(
    app: &TestApp,
    token: &str,
    from: &str,
    to: &str,
    kind: &str,
) -> (StatusCode, Value) {
    app.call(
        Method::POST,
        &format!("/v1/tasks/{from}/relations"),
        token,
        Some(json!({"task_id": to, "kind": kind})),
    )
    .await
}

#[tokio::test]
async fn relations_read_from_either_end_and_blocking_chains_cannot_loop() {
    let app = TestApp::spawn().await;
    let t = team(&app).await;
    let a = task(&app, &t, json!({"title": "Design"})).await;
    let b = task(&app, &t, json!({"title": "Build"})).await;
    let c = task(&app, &t, json!({"title": "Ship"})).await;
    let d = task(&app, &t, json!({"title": "Ship (dup)"})).await;

    let (status, ab) = relate(&app, &t.member.token, &a, &b, "blocks").await;
    assert_eq!(status, StatusCode::CREATED, "{ab}");
    assert_eq!(ab["data"]["kind"], "BLOCKS");
    assert_eq!(ab["data"]["task"]["title"], "Build");
    // "c is blocked by b" is stored as b blocks c.
    let (status, _) = relate(&app, &t.member.token, &c, &b, "blocked_by").await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = relate(&app, &t.member.token, &d, &c, "DUPLICATES").await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(
        relations(&app, &t.viewer.token, &a).await,
        [("BLOCKS".into(), b.clone())]
    );
    assert_eq!(
        relations(&app, &t.viewer.token, &b).await,
        [
            ("BLOCKED_BY".to_string(), a.clone()),
            ("BLOCKS".to_string(), c.clone())
        ]
    );
    assert_eq!(
        relations(&app, &t.viewer.token, &c).await,
        [
            ("BLOCKED_BY".to_string(), b.clone()),
            ("DUPLICATED_BY".to_string(), d.clone())
        ]
    );

    // The same relation again, from either end, is a conflict; a loop is refused.
    let (status, body) = relate(&app, &t.member.token, &b, &a, "blocked_by").await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["code"], "relation_exists");
    for (from, to) in [(&b, &a), (&c, &a)] {
        let (status, body) = relate(&app, &t.member.token, from, to, "blocks").await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    }
    let (status, _) = relate(&app, &t.member.token, &a, &c, "blocked_by").await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a loop through two relations"
    );
    let (status, _) = relate(&app, &t.member.token, &a, &a, "relates_to").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = relate(&app, &t.member.token, &a, &c, "depends_on").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = relate(&app, &t.member.token, &a, &c, "relates_to").await;
    assert_eq!(status, StatusCode::CREATED, "relating is not blocking");

    // Viewers read but do not relate; outsiders and other workspaces' tasks are not found.
    let (status, _) = relate(&app, &t.viewer.token, &a, &d, "relates_to").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let outsider = app.register("outsider@example.com").await;
    let ws = app.create_workspace(&outsider.token, "Theirs").await;
    let theirs = app
        .create_project(&outsider.token, &ws, json!({"name": "Theirs"}))
        .await;
    let theirs = app
        .create_task(&outsider.token, &theirs, json!({"title": "Secret"}))
        .await;
    let theirs = theirs["id"].as_str().unwrap();
    let (status, _) = relate(&app, &t.member.token, &a, theirs, "relates_to").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = relate(&app, &outsider.token, theirs, &a, "relates_to").await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "cannot reach into another workspace"
    );
    let (status, _) = app
        .call(
            Method::GET,
            &format!("/v1/tasks/{a}/relations"),
            &outsider.token,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Removed from the other end; its event lands on the task it was removed from.
    let ab = ab["data"]["id"].as_str().unwrap();
    let (status, _) = app
        .call(
            Method::DELETE,
            &format!("/v1/tasks/{c}/relations/{ab}"),
            &t.member.token,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "not a relation of that task");
    let (status, _) = app
        .call(
            Method::DELETE,
            &format!("/v1/tasks/{b}/relations/{ab}"),
            &t.member.token,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        relations(&app, &t.viewer.token, &a).await,
        [("RELATES_TO".to_string(), c.clone())]
    );
    let (_, activity) = app
        .call(
            Method::GET,
            &format!("/v1/tasks/{b}/activity"),
            &t.member.token,
            None,
        )
        .await;
    let kinds: Vec<&str> = activity["data"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"task.relation_removed"), "{kinds:?}");
    // Deleting a task takes its relations with it.
    app.call(
        Method::DELETE,
        &format!("/v1/tasks/{c}"),
        &t.owner.token,
        None,
    )
    .await;
    assert!(relations(&app, &t.viewer.token, &a).await.is_empty());
}
