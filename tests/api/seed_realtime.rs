//! Seed 000's realtime event over a real WebSocket: on `/api/realtime` a new task arrives on
//! `project/{id}` as the seed emits it, `task:created` with exactly `{id, projectId, title}`,
//! while `/v1/realtime` keeps sending `task.created` with the whole activity row.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::TestApp;
use crate::realtime::{Ws, world};

const SEED_SOCKET: &str = "/api/realtime";

#[tokio::test]
async fn the_seed_socket_gets_task_created_with_the_seeds_payload_and_v1_keeps_its_own() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let channel = format!("project/{}", w.project);
    let mut seed = Ws::open_at(&app, SEED_SOCKET, &w.member).await;
    seed.subscribed(&channel).await;
    let mut v1 = Ws::open(&app, &w.member).await;
    v1.subscribed(&channel).await;

    // Through the seed's own route…
    let (status, body) = app
        .call(
            Method::POST,
            "/api/create-task",
            &w.owner.token,
            Some(json!({"projectId": w.project, "title": "From the seed"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let seeded_id = body["task"]["id"].as_str().unwrap().to_string();
    let got = seed.next().await;
    let event_id = got["id"].as_i64().expect("an event id, to resume from");
    assert_eq!(
        got,
        json!({
            "type": "event", "channel": channel, "id": event_id, "event": "task:created",
            "data": {"id": seeded_id, "projectId": w.project, "title": "From the seed"},
        }),
        "exactly the seed's event and payload"
    );
    let theirs = v1.next().await;
    assert_eq!(theirs["event"], "task.created");
    assert_eq!(theirs["id"], event_id, "the same activity row");
    assert_eq!(theirs["data"]["status"], "TODO", "v1 keeps the whole task");
    assert_eq!(theirs["actor_id"], w.owner.user_id.as_str());

    // …and through v1's: any task created in the project is the seed's event there.
    let v1_task = app
        .create_task(&w.owner.token, &w.project, json!({"title": "From v1"}))
        .await;
    let got = seed.next().await;
    assert_eq!(got["event"], "task:created");
    assert_eq!(
        got["data"],
        json!({"id": v1_task["id"], "projectId": w.project, "title": "From v1"})
    );
    assert_eq!(v1.next().await["event"], "task.created");

    // Events the seed has no name for come as v1 sends them.
    let (status, body) = app
        .call(
            Method::POST,
            &format!("/v1/tasks/{seeded_id}/comments"),
            &w.owner.token,
            Some(json!({"content": "Looks good"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let comment = seed.next().await;
    assert_eq!(comment["event"], "comment.created");
    assert_eq!(comment["data"]["comment"]["content"], "Looks good");
    assert_eq!(v1.next().await["event"], "comment.created");

    // A resumed seed subscription replays in the seed's names, and the v1 task channel of a
    // seed socket has no seed name for the event.
    let mut later = Ws::open_at(&app, SEED_SOCKET, &w.member).await;
    let ack = later.subscribe(&channel, Some(event_id - 1)).await;
    assert_eq!(ack["type"], "subscribed", "{ack}");
    let replayed: Vec<_> = [later.next().await, later.next().await, later.next().await]
        .iter()
        .map(|e| e["event"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        replayed,
        ["task:created", "task:created", "comment.created"]
    );
    later.subscribed(&format!("task/{seeded_id}")).await;
    let (status, _) = app
        .call(
            Method::PATCH,
            &format!("/v1/tasks/{seeded_id}"),
            &w.owner.token,
            Some(json!({"title": "Renamed"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let updated = later.next().await;
    assert_eq!(updated["event"], "task.updated");
}

#[tokio::test]
async fn the_seed_socket_signs_in_like_v1_and_checks_access() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let outsider = app.register("outsider@example.com").await;

    // No header: the first message signs in, as on /v1/realtime.
    let mut ws = Ws::connect_at(&app, SEED_SOCKET, None).await.unwrap();
    ws.send(json!({"type": "auth", "token": w.member.token}))
        .await;
    let hello = ws.next().await;
    assert_eq!(hello["type"], "authenticated", "{hello}");
    ws.subscribed(&format!("project/{}", w.project)).await;

    // Someone outside the project is refused the channel and hears nothing from it.
    let mut theirs = Ws::open_at(&app, SEED_SOCKET, &outsider).await;
    let refused = theirs
        .subscribe(&format!("project/{}", w.project), None)
        .await;
    assert_eq!(refused["type"], "error");
    assert_eq!(refused["code"], "not_found");
    theirs
        .subscribed(&format!("user/{}", outsider.user_id))
        .await;

    app.create_task(&w.owner.token, &w.project, json!({"title": "Private"}))
        .await;
    assert_eq!(ws.next().await["event"], "task:created");
    // The outsider's next frame is its own pong, not the project's event.
    theirs.send(json!({"type": "ping"})).await;
    assert_eq!(theirs.next().await, json!({"type": "pong"}));
}
