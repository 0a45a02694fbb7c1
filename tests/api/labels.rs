//! Workspace labels: who may define them, tasks carrying them, and filtering lists and search
//! by them.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{SignedIn, TestApp, expect_error};

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

async fn create_label(
    app: &TestApp,
    token: &str,
    workspace: &str,
    body: Value,
) -> (StatusCode, Value) {
    let path = format!("/v1/workspaces/{workspace}/labels");
    app.call(Method::POST, &path, token, Some(body)).await
}

fn label_names(task: &Value) -> Vec<String> {
    task["labels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["name"].as_str().unwrap().to_string())
        .collect()
}

async fn list_ids(app: &TestApp, token: &str, path: &str) -> Vec<String> {
    let (status, body) = app.call(Method::GET, path, token, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["data"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn members_define_labels_viewers_read_them_and_names_are_unique_per_workspace() {
    let app = TestApp::spawn().await;
    let t = team(&app).await;
    let (status, bug) = create_label(
        &app,
        &t.member.token,
        &t.workspace,
        json!({"name": "Bug", "color": "#D73A4A"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{bug}");
    assert_eq!(bug["data"]["color"], "#d73a4a");
    let (status, grey) =
        create_label(&app, &t.owner.token, &t.workspace, json!({"name": "later"})).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(grey["data"]["color"], "#6b7280", "a default colour");

    let res = app
        .as_user(
            Method::POST,
            &format!("/v1/workspaces/{}/labels", t.workspace),
            &t.owner.token,
        )
        .json(&json!({"name": " bug "}))
        .send()
        .await
        .unwrap();
    expect_error(res, StatusCode::CONFLICT, "label_exists").await;
    for bad in [
        json!({"name": ""}),
        json!({"name": "x", "color": "red"}),
        json!({"name": "a\u{0}b"}),
        json!({"name": 5}),
    ] {
        let (status, body) = create_label(&app, &t.owner.token, &t.workspace, bad.clone()).await;
        assert!(
            status == StatusCode::UNPROCESSABLE_ENTITY || status == StatusCode::BAD_REQUEST,
            "{bad}: {status} {body}"
        );
    }
    let (status, _) =
        create_label(&app, &t.viewer.token, &t.workspace, json!({"name": "nope"})).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let (status, list) = app
        .call(
            Method::GET,
            &format!("/v1/workspaces/{}/labels", t.workspace),
            &t.viewer.token,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let names: Vec<&str> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Bug", "later"], "by name, case-insensitively");

    // Someone outside the workspace sees none of it.
    let outsider = app.register("outsider@example.com").await;
    let label = bug["data"]["id"].as_str().unwrap();
    for (method, path, body) in [
        (
            Method::GET,
            format!("/v1/workspaces/{}/labels", t.workspace),
            None,
        ),
        (
            Method::PATCH,
            format!("/v1/labels/{label}"),
            Some(json!({"name": "mine"})),
        ),
        (Method::DELETE, format!("/v1/labels/{label}"), None),
    ] {
        let (status, body) = app.call(method, &path, &outsider.token, body).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {body}");
    }
    // Renaming onto another label's name is refused; recolouring works.
    let (status, body) = app
        .call(
            Method::PATCH,
            &format!("/v1/labels/{label}"),
            &t.member.token,
            Some(json!({"name": "LATER"})),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let (status, body) = app
        .call(
            Method::PATCH,
            &format!("/v1/labels/{label}"),
            &t.member.token,
            Some(json!({"color": "#000000"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["name"], "Bug");
    assert_eq!(body["data"]["color"], "#000000");
}

#[tokio::test]
async fn tasks_carry_labels_and_lists_and_search_filter_by_them() {
    let app = TestApp::spawn().await;
    let t = team(&app).await;
    let (_, bug) = create_label(
        &app,
        &t.owner.token,
        &t.workspace,
        json!({"name": "bug", "color": "#d73a4a"}),
    )
    .await;
    let (_, ux) = create_label(&app, &t.owner.token, &t.workspace, json!({"name": "ux"})).await;
    let (bug, ux) = (
        bug["data"]["id"].as_str().unwrap().to_string(),
        ux["data"]["id"].as_str().unwrap().to_string(),
    );

    let crash = app
        .create_task(
            &t.member.token,
            &t.project,
            json!({"title": "Checkout crash", "label_ids": [bug, ux, bug]}),
        )
        .await;
    assert_eq!(label_names(&crash), ["bug", "ux"], "each once, by name");
    let plain = app
        .create_task(
            &t.member.token,
            &t.project,
            json!({"title": "Checkout copy"}),
        )
        .await;
    assert_eq!(label_names(&plain), Vec::<String>::new());
    let crash_id = crash["id"].as_str().unwrap().to_string();
    let plain_id = plain["id"].as_str().unwrap().to_string();

    let tasks = format!("/v1/projects/{}/tasks", t.project);
    assert_eq!(
        list_ids(&app, &t.viewer.token, &format!("{tasks}?label_id={bug}")).await,
        [crash_id.as_str()]
    );
    assert_eq!(list_ids(&app, &t.viewer.token, &tasks).await.len(), 2);

    // Search filters by label too.
    app.run_due_jobs(kanri::clock::now_ms()).await;
    let (status, found) = app
        .call(
            Method::POST,
            &format!("/v1/projects/{}/search", t.project),
            &t.viewer.token,
            Some(json!({"query": "checkout", "mode": "text", "filters": {"label": bug}})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{found}");
    let hits: Vec<&str> = found["data"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["task"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(hits, [crash_id.as_str()]);
    assert_eq!(
        label_names(&found["data"]["items"][0]["task"]),
        ["bug", "ux"]
    );

    // Replacing the set; the change is an event like any other.
    let (status, body) = app
        .call(
            Method::PATCH,
            &format!("/v1/tasks/{plain_id}"),
            &t.member.token,
            Some(json!({"label_ids": [ux]})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(label_names(&body["data"]), ["ux"]);
    let (_, activity) = app
        .call(
            Method::GET,
            &format!("/v1/tasks/{plain_id}/activity"),
            &t.member.token,
            None,
        )
        .await;
    let last = activity["data"]["items"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["kind"], "task.updated", "{last}");
    assert_eq!(last["payload"]["changes"], json!(["labels"]), "{last}");

    // Another workspace's label, an unknown one, or too many are refused and change nothing.
    let other_ws = app.create_workspace(&t.owner.token, "Other").await;
    let (_, foreign) = create_label(&app, &t.owner.token, &other_ws, json!({"name": "bug"})).await;
    let foreign = foreign["data"]["id"].as_str().unwrap().to_string();
    let many: Vec<String> = (0..21).map(|i| format!("l{i}")).collect();
    for ids in [json!([foreign]), json!(["no-such-label"]), json!(many)] {
        let (status, body) = app
            .call(
                Method::PATCH,
                &format!("/v1/tasks/{plain_id}"),
                &t.member.token,
                Some(json!({"label_ids": ids, "title": "Renamed"})),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(body["details"][0]["field"], "label_ids", "{body}");
    }
    let (_, plain) = app
        .call(
            Method::GET,
            &format!("/v1/tasks/{plain_id}"),
            &t.member.token,
            None,
        )
        .await;
    assert_eq!(
        plain["data"]["title"], "Checkout copy",
        "nothing half-written"
    );
    assert_eq!(label_names(&plain["data"]), ["ux"]);

    // A rename shows on the (cached) list at once; a deleted label leaves its tasks.
    let _ = list_ids(&app, &t.viewer.token, &tasks).await;
    app.call(
        Method::PATCH,
        &format!("/v1/labels/{ux}"),
        &t.owner.token,
        Some(json!({"name": "design"})),
    )
    .await;
    let (_, listed) = app.call(Method::GET, &tasks, &t.viewer.token, None).await;
    let crash_now = listed["data"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["id"] == crash_id.as_str())
        .unwrap()
        .clone();
    assert_eq!(label_names(&crash_now), ["bug", "design"]);
    let (status, _) = app
        .call(
            Method::DELETE,
            &format!("/v1/labels/{bug}"),
            &t.member.token,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, crash_now) = app
        .call(
            Method::GET,
            &format!("/v1/tasks/{crash_id}"),
            &t.member.token,
            None,
        )
        .await;
    assert_eq!(label_names(&crash_now["data"]), ["design"]);
    assert!(
        list_ids(&app, &t.viewer.token, &format!("{tasks}?label_id={bug}"))
            .await
            .is_empty()
    );
}
