//! Repeating tasks: completing an occurrence creates the next one, due on the rule's next date,
//! with the same assignee, labels and a reminder — once, however many completions race.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{SignedIn, TestApp};

struct Team {
    owner: SignedIn,
    member: SignedIn,
    workspace: String,
    project: String,
}

async fn team(app: &TestApp) -> Team {
    let owner = app.register("owner@example.com").await;
    let member = app.register("member@example.com").await;
    let workspace = app.create_workspace(&owner.token, "Team").await;
    app.add_member(&owner.token, &workspace, &member, "MEMBER")
        .await;
    let project = app
        .create_project(
            &owner.token,
            &workspace,
            json!({"name": "Chores", "members": [member.user_id]}),
        )
        .await;
    Team {
        owner,
        member,
        workspace,
        project,
    }
}

async fn all_tasks(app: &TestApp, token: &str, project: &str) -> Vec<Value> {
    let (status, body) = app
        .call(
            Method::GET,
            &format!("/v1/projects/{project}/tasks?limit=100"),
            token,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["data"]["items"].as_array().unwrap().clone()
}

/// A due date a few days ahead (a Monday-based weekly rule needs a known weekday: 2030-01-07 is
/// a Monday).
const DUE: &str = "2030-01-07T09:00:00Z";

#[tokio::test]
async fn completing_a_repeating_task_creates_the_next_occurrence_with_its_assignee_labels_and_reminder()
 {
    let app = TestApp::spawn().await;
    let t = team(&app).await;
    let (_, label) = app
        .call(
            Method::POST,
            &format!("/v1/workspaces/{}/labels", t.workspace),
            &t.owner.token,
            Some(json!({"name": "ops"})),
        )
        .await;
    let label = label["data"]["id"].as_str().unwrap().to_string();
    let task = app
        .create_task(&t.owner.token, &t.project, json!({
            "title": "Rotate keys", "assignee_id": t.member.user_id, "due_date": DUE,
            "recurrence": "rrule:freq=weekly;byday=th,mo", "label_ids": [label], "estimate_minutes": 30,
        }))
        .await;
    assert_eq!(
        task["recurrence"], "FREQ=WEEKLY;BYDAY=MO,TH",
        "stored canonically"
    );
    let id = task["id"].as_str().unwrap();

    let (status, done) = app
        .call(
            Method::PATCH,
            &format!("/v1/tasks/{id}"),
            &t.member.token,
            Some(json!({"status": "DONE"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{done}");
    let next_id = done["data"]["next_occurrence_id"]
        .as_str()
        .expect("the next occurrence")
        .to_string();
    let (_, next) = app
        .call(
            Method::GET,
            &format!("/v1/tasks/{next_id}"),
            &t.member.token,
            None,
        )
        .await;
    let next = &next["data"];
    assert_eq!(next["title"], "Rotate keys");
    assert_eq!(next["status"], "TODO");
    assert_eq!(
        next["due_date"], "2030-01-10T09:00:00.000Z",
        "the Thursday after"
    );
    assert_eq!(next["assignee_id"], t.member.user_id.as_str());
    assert_eq!(next["labels"][0]["name"], "ops");
    assert_eq!(next["estimate_minutes"], 30);
    assert_eq!(next["recurrence"], "FREQ=WEEKLY;BYDAY=MO,TH");
    assert!(next["next_occurrence_id"].is_null());

    // Its reminder is scheduled, and its creation is an event like any other.
    let reminders: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT COUNT(*) FROM jobs WHERE dedupe_key LIKE '%:{next_id}:%' AND state = 'queued'"
    )))
    .fetch_one(app.db.read())
    .await
    .unwrap();
    assert_eq!(reminders, 1, "one reminder for the next occurrence");
    let (_, activity) = app
        .call(
            Method::GET,
            &format!("/v1/tasks/{next_id}/activity"),
            &t.member.token,
            None,
        )
        .await;
    assert_eq!(activity["data"]["items"][0]["kind"], "task.created");

    // Reopening and completing again does not create a second one.
    for status in ["TODO", "DONE"] {
        let (code, _) = app
            .call(
                Method::PATCH,
                &format!("/v1/tasks/{id}"),
                &t.member.token,
                Some(json!({"status": status})),
            )
            .await;
        assert_eq!(code, StatusCode::OK);
    }
    assert_eq!(all_tasks(&app, &t.member.token, &t.project).await.len(), 2);

    // Stopping the repeat on the next one, then completing it, creates nothing.
    app.call(
        Method::PATCH,
        &format!("/v1/tasks/{next_id}"),
        &t.member.token,
        Some(json!({"recurrence": null})),
    )
    .await;
    let (_, done) = app
        .call(
            Method::PATCH,
            &format!("/v1/tasks/{next_id}"),
            &t.member.token,
            Some(json!({"status": "DONE"})),
        )
        .await;
    assert!(done["data"]["next_occurrence_id"].is_null());
    assert_eq!(all_tasks(&app, &t.member.token, &t.project).await.len(), 2);
}

#[tokio::test]
async fn racing_completions_create_exactly_one_next_occurrence() {
    let app = TestApp::spawn().await;
    let t = team(&app).await;
    let task = app
        .create_task(&t.member.token, &t.project, json!({"title": "Water plants", "due_date": DUE, "recurrence": "FREQ=DAILY;INTERVAL=2"}))
        .await;
    let id = task["id"].as_str().unwrap().to_string();
    // Eight single completions and two bulk ones at once, from two members.
    let mut racers = Vec::new();
    for i in 0..10 {
        let (client, base) = (app.client.clone(), app.base.clone());
        let token = if i % 2 == 0 {
            t.member.token.clone()
        } else {
            t.owner.token.clone()
        };
        let (id, project) = (id.clone(), t.project.clone());
        racers.push(tokio::spawn(async move {
            let req = if i < 8 {
                client
                    .patch(format!("{base}/v1/tasks/{id}"))
                    .json(&json!({"status": "DONE"}))
            } else {
                client
                    .post(format!("{base}/v1/projects/{project}/tasks/bulk-status"))
                    .json(&json!({"task_ids": [id], "status": "DONE"}))
            };
            req.bearer_auth(token).send().await.unwrap().status()
        }));
    }
    for racer in racers {
        assert_eq!(racer.await.unwrap(), StatusCode::OK);
    }
    let tasks = all_tasks(&app, &t.member.token, &t.project).await;
    assert_eq!(tasks.len(), 2, "{tasks:?}");
    let next = tasks.iter().find(|x| x["id"] != id.as_str()).unwrap();
    assert_eq!(next["due_date"], "2030-01-09T09:00:00.000Z");
    assert_eq!(next["status"], "TODO");
}

#[tokio::test]
async fn bad_rules_are_refused_and_a_finished_series_stops() {
    let app = TestApp::spawn().await;
    let t = team(&app).await;
    for rule in [
        "FREQ=HOURLY",
        "FREQ=DAILY;COUNT=3",
        "FREQ=WEEKLY;BYDAY=XX",
        "weekly",
        "",
    ] {
        let (status, body) = app
            .call(
                Method::POST,
                &format!("/v1/projects/{}/tasks", t.project),
                &t.member.token,
                Some(json!({"title": "x", "recurrence": rule})),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{rule}: {body}");
        assert_eq!(body["details"][0]["field"], "recurrence");
    }
    assert!(
        all_tasks(&app, &t.member.token, &t.project)
            .await
            .is_empty()
    );
    // The last occurrence of a series (UNTIL) repeats no more.
    let last = app
        .create_task(&t.member.token, &t.project, json!({"title": "Sprint review", "due_date": DUE, "recurrence": "FREQ=WEEKLY;UNTIL=20300108"}))
        .await;
    let (_, done) = app
        .call(
            Method::PATCH,
            &format!("/v1/tasks/{}", last["id"].as_str().unwrap()),
            &t.member.token,
            Some(json!({"status": "DONE"})),
        )
        .await;
    assert!(done["data"]["next_occurrence_id"].is_null(), "{done}");
    assert_eq!(all_tasks(&app, &t.member.token, &t.project).await.len(), 1);
}
