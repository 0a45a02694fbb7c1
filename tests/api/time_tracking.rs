//! Time tracking: logged entries and timers (one running per person), estimates, and totals per
//! task, project and member.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{SignedIn, TestApp};

struct Team {
    owner: SignedIn,
    member: SignedIn,
    viewer: SignedIn,
    project: String,
}

async fn team(app: &TestApp) -> Team {
    let owner = app.register("owner@example.com").await;
    let member = app.register("member@example.com").await;
    let viewer = app.register("viewer@example.com").await;
    let ws = app.create_workspace(&owner.token, "Team").await;
    app.add_member(&owner.token, &ws, &member, "MEMBER").await;
    app.add_member(&owner.token, &ws, &viewer, "VIEWER").await;
    let project = app
        .create_project(
            &owner.token,
            &ws,
            json!({"name": "Client work", "members": [member.user_id, viewer.user_id]}),
        )
        .await;
    Team {
        owner,
        member,
        viewer,
        project,
    }
}

async fn log(app: &TestApp, token: &str, task: &str, body: Value) -> (StatusCode, Value) {
    app.call(
        Method::POST,
        &format!("/v1/tasks/{task}/time-entries"),
        token,
        Some(body),
    )
    .await
}

#[tokio::test]
async fn logged_time_and_timers_add_up_per_task_project_and_member() {
    let app = TestApp::spawn().await;
    let t = team(&app).await;
    let design = app
        .create_task(
            &t.member.token,
            &t.project,
            json!({"title": "Design", "estimate_minutes": 120}),
        )
        .await;
    let build = app
        .create_task(
            &t.member.token,
            &t.project,
            json!({"title": "Build", "estimate_minutes": 60}),
        )
        .await;
    let (design, build) = (
        design["id"].as_str().unwrap(),
        build["id"].as_str().unwrap(),
    );

    let (status, entry) = log(
        &app,
        &t.member.token,
        design,
        json!({"duration_seconds": 3600, "note": "wireframes"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{entry}");
    assert_eq!(entry["data"]["duration_seconds"], 3600);
    assert_eq!(entry["data"]["running"], false);
    let (status, _) = log(
        &app,
        &t.owner.token,
        design,
        json!({"duration_seconds": 1800, "started_at": "2026-01-05T10:00:00Z"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = log(
        &app,
        &t.member.token,
        build,
        json!({"duration_seconds": 600}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);

    // A timer: one running per person, anywhere; stopping records its length.
    let (status, running) = app
        .call(
            Method::POST,
            &format!("/v1/tasks/{build}/timer/start"),
            &t.member.token,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{running}");
    assert_eq!(running["data"]["running"], true);
    assert!(running["data"]["duration_seconds"].is_null());
    let (status, body) = app
        .call(
            Method::POST,
            &format!("/v1/tasks/{design}/timer/start"),
            &t.member.token,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["code"], "timer_running");
    let (status, _) = app
        .call(
            Method::POST,
            &format!("/v1/tasks/{design}/timer/stop"),
            &t.member.token,
            None,
        )
        .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "the timer runs on another task"
    );
    let (status, stopped) = app
        .call(
            Method::POST,
            &format!("/v1/tasks/{build}/timer/stop"),
            &t.member.token,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{stopped}");
    assert_eq!(stopped["data"]["running"], false);
    assert!(stopped["data"]["duration_seconds"].as_i64().unwrap() >= 0);
    let (status, _) = app
        .call(
            Method::POST,
            &format!("/v1/tasks/{build}/timer/stop"),
            &t.member.token,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "stopped once");

    let (status, time) = app
        .call(
            Method::GET,
            &format!("/v1/tasks/{design}/time-entries"),
            &t.viewer.token,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{time}");
    assert_eq!(time["data"]["total_seconds"], 5400);
    assert_eq!(time["data"]["estimate_minutes"], 120);
    assert_eq!(time["data"]["entries"].as_array().unwrap().len(), 2);
    let (_, task) = app
        .call(
            Method::GET,
            &format!("/v1/tasks/{design}"),
            &t.viewer.token,
            None,
        )
        .await;
    assert_eq!(task["data"]["time_spent_seconds"], 5400);

    let (status, project) = app
        .call(
            Method::GET,
            &format!("/v1/projects/{}/time", t.project),
            &t.viewer.token,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{project}");
    let p = &project["data"];
    let total = p["total_seconds"].as_i64().unwrap();
    assert!((6000..6100).contains(&total), "{p}");
    assert_eq!(p["estimate_minutes"], 180);
    let member_total = p["by_member"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == t.member.user_id.as_str())
        .unwrap();
    assert!(member_total["seconds"].as_i64().unwrap() >= 4200, "{p}");
    let owner_total = p["by_member"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == t.owner.user_id.as_str())
        .unwrap();
    assert_eq!(owner_total["seconds"], 1800);
    assert_eq!(
        p["by_task"][0]["id"], design,
        "the task with most time first"
    );
    assert_eq!(p["by_task"][0]["seconds"], 5400);
}

#[tokio::test]
async fn entries_are_checked_and_only_their_author_or_an_admin_deletes_them() {
    let app = TestApp::spawn().await;
    let t = team(&app).await;
    let task = app
        .create_task(&t.member.token, &t.project, json!({"title": "Support"}))
        .await;
    let task = task["id"].as_str().unwrap();
    for bad in [
        json!({"duration_seconds": 0}),
        json!({"duration_seconds": 604_801}),
        json!({"duration_seconds": 60, "started_at": "2999-01-01T00:00:00Z"}),
        json!({"duration_seconds": 60, "started_at": "yesterday"}),
        json!({"duration_seconds": "60"}),
        json!({"duration_seconds": 60, "billable": true}),
    ] {
        let (status, body) = log(&app, &t.member.token, task, bad.clone()).await;
        assert!(
            status == StatusCode::UNPROCESSABLE_ENTITY || status == StatusCode::BAD_REQUEST,
            "{bad}: {status} {body}"
        );
    }
    let (status, _) = log(&app, &t.viewer.token, task, json!({"duration_seconds": 60})).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "viewers do not log time");
    let (status, _) = app
        .call(
            Method::POST,
            &format!("/v1/tasks/{task}/timer/start"),
            &t.viewer.token,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let (_, entry) = log(
        &app,
        &t.member.token,
        task,
        json!({"duration_seconds": 900}),
    )
    .await;
    let entry = entry["data"]["id"].as_str().unwrap().to_string();
    let (_, mine) = log(&app, &t.owner.token, task, json!({"duration_seconds": 300})).await;
    let mine = mine["data"]["id"].as_str().unwrap().to_string();
    let (status, _) = app
        .call(
            Method::DELETE,
            &format!("/v1/time-entries/{mine}"),
            &t.member.token,
            None,
        )
        .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "a member cannot delete another's entry"
    );
    let outsider = app.register("outsider@example.com").await;
    let (status, _) = app
        .call(
            Method::DELETE,
            &format!("/v1/time-entries/{entry}"),
            &outsider.token,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = app
        .call(
            Method::GET,
            &format!("/v1/tasks/{task}/time-entries"),
            &outsider.token,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = app
        .call(
            Method::DELETE,
            &format!("/v1/time-entries/{entry}"),
            &t.owner.token,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "an owner may");
    let (status, _) = app
        .call(
            Method::DELETE,
            &format!("/v1/time-entries/{mine}"),
            &t.owner.token,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, time) = app
        .call(
            Method::GET,
            &format!("/v1/tasks/{task}/time-entries"),
            &t.member.token,
            None,
        )
        .await;
    assert_eq!(time["data"]["total_seconds"], 0);

    // Two timer starts at once: one wins, the other is told a timer runs.
    let mut starts = Vec::new();
    for _ in 0..2 {
        let (client, base, token, task) = (
            app.client.clone(),
            app.base.clone(),
            t.member.token.clone(),
            task.to_string(),
        );
        starts.push(tokio::spawn(async move {
            client
                .post(format!("{base}/v1/tasks/{task}/timer/start"))
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .status()
        }));
    }
    let mut codes = Vec::new();
    for s in starts {
        codes.push(s.await.unwrap());
    }
    codes.sort();
    assert_eq!(codes, [StatusCode::CREATED, StatusCode::CONFLICT]);
}
