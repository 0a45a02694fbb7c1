//! The `user/{id}` channel over a real WebSocket: a task created already assigned to the
//! user, an assignment, and an unassignment (reassigned away or cleared), which reaches the
//! former assignee as `task.unassigned`.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{SignedIn, TestApp};
use crate::realtime::{World, Ws, world};

/// Sets a task's assignee (`null` clears it).
async fn assign(app: &TestApp, token: &str, task: &str, assignee: Value) {
    let (status, body) = app
        .call(
            Method::PATCH,
            &format!("/v1/tasks/{task}"),
            token,
            Some(json!({"assignee_id": assignee})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

/// A third member of the workspace and of the project.
async fn third(app: &TestApp, w: &World) -> SignedIn {
    let third = app.register("third@example.com").await;
    app.add_member(&w.owner.token, &w.workspace, &third, "MEMBER")
        .await;
    app.add_project_member(&w.owner.token, &w.project, &third)
        .await;
    third
}

/// Subscribed to the user's own channel.
async fn listening(app: &TestApp, user: &SignedIn) -> (Ws, String) {
    let mut ws = Ws::open(app, user).await;
    let channel = format!("user/{}", user.user_id);
    ws.subscribed(&channel).await;
    (ws, channel)
}

/// The user's next frame is a pong: nothing else was queued for them before it.
async fn nothing_more(ws: &mut Ws) {
    ws.send(json!({"type": "ping"})).await;
    assert_eq!(ws.next().await, json!({"type": "pong"}));
}

#[tokio::test]
async fn a_task_created_already_assigned_reaches_the_assignees_channel() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let (mut ws, channel) = listening(&app, &w.member).await;
    let (mut owners, _) = listening(&app, &w.owner).await;

    // v1: created with an assignee.
    let task = app
        .create_task(
            &w.owner.token,
            &w.project,
            json!({"title": "Yours", "assignee_id": w.member.user_id}),
        )
        .await;
    let e = ws.next().await;
    let first_id = e["id"].as_i64().unwrap();
    assert_eq!(e["type"], "event");
    assert_eq!(e["channel"], channel.as_str());
    assert_eq!(e["event"], "task.created");
    assert_eq!(e["subject"]["id"], task["id"]);
    assert_eq!(e["data"]["id"], task["id"]);
    assert_eq!(e["data"]["assignee_id"], w.member.user_id.as_str());
    assert_eq!(e["data"]["title"], "Yours");

    // Unassigned, or assigned to someone else, it is not on the user's channel; the creator's
    // own channel hears only of tasks assigned to them.
    app.create_task(&w.owner.token, &w.project, json!({"title": "Nobody's"}))
        .await;
    nothing_more(&mut ws).await;
    nothing_more(&mut owners).await;

    // Seed 000's route with `assignedTo` reaches it too.
    let (status, body) = app
        .call(
            Method::POST,
            "/api/create-task",
            &w.owner.token,
            Some(
                json!({"projectId": w.project, "title": "Seeded", "assignedTo": w.member.user_id}),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let e = ws.next().await;
    assert_eq!(e["event"], "task.created");
    assert_eq!(e["data"]["id"], body["task"]["id"]);
    assert_eq!(e["data"]["assignee_id"], w.member.user_id.as_str());
    nothing_more(&mut owners).await;

    // Resuming the channel from before the first replays the same two events.
    let mut later = Ws::open(&app, &w.member).await;
    let ack = later.subscribe(&channel, Some(first_id - 1)).await;
    assert_eq!(ack["type"], "subscribed", "{ack}");
    let titles = [later.next().await, later.next().await]
        .map(|e| (e["event"].clone(), e["data"]["title"].clone()));
    assert_eq!(
        titles,
        [
            (json!("task.created"), json!("Yours")),
            (json!("task.created"), json!("Seeded"))
        ]
    );
    nothing_more(&mut later).await;
}

#[tokio::test]
async fn the_former_assignee_hears_of_a_reassignment_and_of_a_cleared_assignee() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let third = third(&app, &w).await;
    let task = app
        .create_task(
            &w.owner.token,
            &w.project,
            json!({"title": "Hot potato", "assignee_id": w.member.user_id}),
        )
        .await;
    let task = task["id"].as_str().unwrap().to_string();
    let (mut members, member_channel) = listening(&app, &w.member).await;
    let (mut thirds, third_channel) = listening(&app, &third).await;

    // Reassigned from the member to the third: the member hears it is no longer theirs, the
    // third that it now is.
    assign(&app, &w.owner.token, &task, json!(third.user_id)).await;
    let gone = members.next().await;
    assert_eq!(gone["channel"], member_channel.as_str());
    assert_eq!(gone["event"], "task.unassigned");
    assert_eq!(gone["subject"]["id"], task.as_str());
    assert_eq!(gone["data"]["id"], task.as_str());
    assert_eq!(
        gone["data"]["previous_assignee_id"],
        w.member.user_id.as_str()
    );
    assert_eq!(gone["data"]["assignee_id"], third.user_id.as_str());
    let got = thirds.next().await;
    assert_eq!(got["channel"], third_channel.as_str());
    assert_eq!(got["event"], "task.assigned");
    assert_eq!(got["data"]["assignee_id"], third.user_id.as_str());
    assert_eq!(
        got["id"].as_i64().unwrap() + 1,
        gone["id"].as_i64().unwrap(),
        "the two events of one change, assignment first"
    );
    nothing_more(&mut members).await;
    nothing_more(&mut thirds).await;

    // Cleared: the third, the former assignee now, hears of it; the member does not.
    assign(&app, &w.owner.token, &task, Value::Null).await;
    let cleared = thirds.next().await;
    assert_eq!(cleared["event"], "task.unassigned");
    assert_eq!(
        cleared["data"]["previous_assignee_id"],
        third.user_id.as_str()
    );
    assert!(cleared["data"]["assignee_id"].is_null(), "{cleared}");
    nothing_more(&mut thirds).await;
    nothing_more(&mut members).await;

    // Assigning a task that had nobody unassigns nobody; one that is edited otherwise neither.
    assign(&app, &w.owner.token, &task, json!(w.member.user_id)).await;
    assert_eq!(members.next().await["event"], "task.assigned");
    let (status, _) = app
        .call(
            Method::PATCH,
            &format!("/v1/tasks/{task}"),
            &w.owner.token,
            Some(json!({"title": "Still the member's", "assignee_id": w.member.user_id})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    nothing_more(&mut members).await;
    nothing_more(&mut thirds).await;

    // The project's channel carries the unassignments too, after the update's own event, and
    // a resumed user channel replays them.
    let mut project = Ws::open(&app, &w.owner).await;
    let ack = project
        .subscribe(&format!("project/{}", w.project), Some(0))
        .await;
    assert_eq!(ack["type"], "subscribed", "{ack}");
    let mut kinds = Vec::new();
    loop {
        let e = project.next().await;
        kinds.push(e["event"].as_str().unwrap().to_string());
        if e["data"]["title"] == "Still the member's" {
            break;
        }
    }
    let from_task: Vec<&str> = kinds
        .iter()
        .map(String::as_str)
        .skip_while(|k| *k != "task.created")
        .collect();
    assert_eq!(
        from_task,
        [
            "task.created",
            "task.assigned",
            "task.unassigned",
            "task.assigned",
            "task.unassigned",
            "task.assigned",
            "task.updated"
        ]
    );
    let mut later = Ws::open(&app, &third).await;
    let ack = later
        .subscribe(&third_channel, Some(got["id"].as_i64().unwrap() - 1))
        .await;
    assert_eq!(ack["type"], "subscribed", "{ack}");
    let replayed = [later.next().await, later.next().await].map(|e| e["event"].clone());
    assert_eq!(replayed, [json!("task.assigned"), json!("task.unassigned")]);
}
