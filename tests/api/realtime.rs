//! Realtime over a real WebSocket client (tokio-tungstenite) and a streaming HTTP client for
//! SSE. Frames are awaited with a timeout; nothing sleeps to synchronise.

use std::collections::HashSet;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::helpers::{SignedIn, TestApp, read};

/// Long enough for a loaded CI machine; a frame that never comes fails the test.
const WAIT: Duration = Duration::from_secs(15);

pub(crate) struct Ws {
    stream: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

fn ws_url(app: &TestApp, path: &str) -> String {
    format!("{}{path}", app.base.replacen("http", "ws", 1))
}

impl Ws {
    async fn connect(app: &TestApp, token: Option<&str>) -> Result<Self, tungstenite::Error> {
        Self::connect_at(app, "/v1/realtime", token).await
    }

    pub(crate) async fn connect_at(
        app: &TestApp,
        path: &str,
        token: Option<&str>,
    ) -> Result<Self, tungstenite::Error> {
        let mut request = ws_url(app, path).into_client_request().unwrap();
        if let Some(token) = token {
            request.headers_mut().insert(
                "authorization",
                HeaderValue::from_str(&format!("Bearer {token}")).unwrap(),
            );
        }
        let (stream, _) = tokio_tungstenite::connect_async(request).await?;
        Ok(Self { stream })
    }

    /// Connected with a header and past the `authenticated` frame.
    pub(crate) async fn open(app: &TestApp, user: &SignedIn) -> Self {
        Self::open_at(app, "/v1/realtime", user).await
    }

    /// `open` on another socket path (a seed's).
    pub(crate) async fn open_at(app: &TestApp, path: &str, user: &SignedIn) -> Self {
        let mut ws = Self::connect_at(app, path, Some(&user.token))
            .await
            .unwrap();
        let hello = ws.next().await;
        assert_eq!(hello["type"], "authenticated", "{hello}");
        assert_eq!(hello["user_id"], user.user_id.as_str());
        ws
    }

    pub(crate) async fn send(&mut self, v: Value) {
        self.stream
            .send(Message::Text(v.to_string().into()))
            .await
            .unwrap();
    }

    /// The next JSON frame (pings are answered by tungstenite and skipped).
    pub(crate) async fn next(&mut self) -> Value {
        loop {
            let msg = tokio::time::timeout(WAIT, self.stream.next())
                .await
                .expect("a frame within the wait")
                .expect("the socket is open")
                .expect("a valid frame");
            match msg {
                Message::Text(t) => return serde_json::from_str(&t).unwrap(),
                Message::Ping(_) | Message::Pong(_) => continue,
                other => panic!("expected a text frame, got {other:?}"),
            }
        }
    }

    /// Reads up to the close frame and returns its code and reason, and the text frames seen
    /// before it.
    async fn until_close(&mut self) -> (u16, String, Vec<Value>) {
        let mut seen = Vec::new();
        loop {
            let msg = tokio::time::timeout(WAIT, self.stream.next())
                .await
                .expect("the server closes within the wait");
            match msg {
                Some(Ok(Message::Text(t))) => seen.push(serde_json::from_str(&t).unwrap()),
                Some(Ok(Message::Close(Some(frame)))) => {
                    return (u16::from(frame.code), frame.reason.to_string(), seen);
                }
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                other => panic!("expected a close frame, got {other:?}"),
            }
        }
    }

    pub(crate) async fn subscribe(&mut self, channel: &str, last_event_id: Option<i64>) -> Value {
        let mut msg = json!({"type": "subscribe", "channel": channel});
        if let Some(id) = last_event_id {
            msg["last_event_id"] = json!(id);
        }
        self.send(msg).await;
        self.next().await
    }

    pub(crate) async fn subscribed(&mut self, channel: &str) {
        let ack = self.subscribe(channel, None).await;
        assert_eq!(ack, json!({"type": "subscribed", "channel": channel}));
    }
}

/// An owner with a workspace and a project, and a member of both.
pub(crate) struct World {
    pub owner: SignedIn,
    pub member: SignedIn,
    pub workspace: String,
    pub project: String,
}

pub(crate) async fn world(app: &TestApp) -> World {
    let owner = app.register("owner@example.com").await;
    let member = app.register("member@example.com").await;
    let workspace = app.create_workspace(&owner.token, "Acme").await;
    app.add_member(&owner.token, &workspace, &member, "MEMBER")
        .await;
    let project = app
        .create_project(
            &owner.token,
            &workspace,
            json!({"name": "Launch", "members": [member.user_id]}),
        )
        .await;
    World {
        owner,
        member,
        workspace,
        project,
    }
}

async fn task(app: &TestApp, token: &str, project: &str, title: &str) -> String {
    let t = app
        .create_task(token, project, json!({"title": title}))
        .await;
    t["id"].as_str().unwrap().to_string()
}

/// Every activity id of a project, oldest first, through the activity API.
pub(crate) async fn activity_ids(app: &TestApp, token: &str, project: &str) -> Vec<i64> {
    let mut ids = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut path = format!("/v1/projects/{project}/activity?limit=100");
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let (status, body) = app.call(Method::GET, &path, token, None).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        for item in body["data"]["items"].as_array().unwrap() {
            ids.push(item["id"].as_i64().unwrap());
        }
        match body["data"]["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => return ids,
        }
    }
}

#[tokio::test]
async fn websocket_authenticates_by_header_or_first_message_and_refuses_bad_tokens() {
    let app = TestApp::spawn_with(|c| c.realtime.auth_timeout = Duration::from_secs(1)).await;
    let user = app.register("ws@example.com").await;

    Ws::open(&app, &user).await;

    let mut browser = Ws::connect(&app, None).await.unwrap();
    browser
        .send(json!({"type": "auth", "token": user.token}))
        .await;
    assert_eq!(
        browser.next().await,
        json!({"type": "authenticated", "user_id": user.user_id})
    );

    match Ws::connect(&app, Some("not-a-session-token")).await {
        Err(tungstenite::Error::Http(res)) => assert_eq!(res.status(), 401),
        other => panic!(
            "a bad header token is refused before the upgrade: {:?}",
            other.is_ok()
        ),
    }

    let mut bad = Ws::connect(&app, None).await.unwrap();
    bad.send(json!({"type": "auth", "token": "A".repeat(43)}))
        .await;
    let (code, reason, _) = bad.until_close().await;
    assert_eq!((code, reason.as_str()), (4001, "invalid token"));

    let mut silent = Ws::connect(&app, None).await.unwrap();
    let (code, reason, _) = silent.until_close().await;
    assert_eq!((code, reason.as_str()), (4001, "authentication timeout"));

    let mut early = Ws::connect(&app, None).await.unwrap();
    early
        .send(json!({"type": "subscribe", "channel": "user/x"}))
        .await;
    let (code, _, _) = early.until_close().await;
    assert_eq!(code, 4001, "subscribing before auth closes the socket");
}

#[tokio::test]
async fn bad_messages_get_error_frames_and_limits_hold() {
    let app = TestApp::spawn_with(|c| {
        c.realtime.max_subscriptions = 1;
        c.realtime.max_connections_per_user = 1;
    })
    .await;
    let w = world(&app).await;
    let mut ws = Ws::open(&app, &w.owner).await;
    ws.send(json!({"type": "shout"})).await;
    assert_eq!(ws.next().await["code"], "bad_message");
    let bad = ws.subscribe("board/1", None).await;
    assert_eq!(bad["code"], "invalid_channel");
    ws.subscribed(&format!("project/{}", w.project)).await;
    let over = ws
        .subscribe(&format!("user/{}", w.owner.user_id), None)
        .await;
    assert_eq!(over["code"], "too_many_subscriptions");
    let second = Ws::connect(&app, Some(&w.owner.token)).await;
    match second {
        Err(tungstenite::Error::Http(res)) => assert_eq!(res.status(), 429),
        other => panic!("a second connection is refused: {:?}", other.is_ok()),
    }
    ws.send(json!({"type": "unsubscribe", "channel": format!("project/{}", w.project)}))
        .await;
    assert_eq!(ws.next().await["type"], "unsubscribed");
    ws.send(json!({"type": "ping"})).await;
    assert_eq!(ws.next().await, json!({"type": "pong"}));
}

#[tokio::test]
async fn task_created_event_carries_the_activity_row_and_the_seed_fields() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let mut ws = Ws::open(&app, &w.member).await;
    let channel = format!("project/{}", w.project);
    ws.subscribed(&channel).await;

    let task_id = task(&app, &w.owner.token, &w.project, "Write the launch post").await;
    let event = ws.next().await;
    let last = *activity_ids(&app, &w.owner.token, &w.project)
        .await
        .last()
        .unwrap();
    assert_eq!(event["type"], "event");
    assert_eq!(event["channel"], channel.as_str());
    assert_eq!(event["event"], "task.created");
    assert_eq!(event["id"], last, "the event id is the activity id");
    assert_eq!(event["actor_id"], w.owner.user_id.as_str());
    assert!(event["created_at"].as_str().unwrap().ends_with('Z'));
    // The seed's `task:created` payload: {id, projectId, title}.
    assert_eq!(event["data"]["id"], task_id.as_str());
    assert_eq!(event["data"]["projectId"], w.project.as_str());
    assert_eq!(event["data"]["title"], "Write the launch post");
    assert_eq!(event["data"]["status"], "TODO");

    // The seed route reaches the same channel, with the same shape.
    let (status, body) = app
        .call(
            Method::POST,
            "/api/create-task",
            &w.owner.token,
            Some(json!({"projectId": w.project, "title": "From the seed"})),
        )
        .await;
    assert!(status.is_success(), "{body}");
    let seeded = ws.next().await;
    assert_eq!(seeded["event"], "task.created");
    assert_eq!(seeded["data"]["title"], "From the seed");
    assert_eq!(seeded["data"]["projectId"], w.project.as_str());
}

#[tokio::test]
async fn comment_and_member_events_carry_their_subject() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let other = app.register("third@example.com").await;
    app.add_member(&w.owner.token, &w.workspace, &other, "MEMBER")
        .await;
    let task_id = task(&app, &w.owner.token, &w.project, "Discuss").await;

    let mut ws = Ws::open(&app, &w.member).await;
    ws.subscribed(&format!("project/{}", w.project)).await;
    ws.subscribed(&format!("task/{task_id}")).await;
    let mut theirs = Ws::open(&app, &other).await;
    theirs.subscribed(&format!("user/{}", other.user_id)).await;

    let (status, body) = app
        .call(
            Method::POST,
            &format!("/v1/tasks/{task_id}/comments"),
            &w.owner.token,
            Some(json!({"content": "Ship it on Monday"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    for expected_channel in [format!("project/{}", w.project), format!("task/{task_id}")] {
        let e = ws.next().await;
        assert_eq!(e["event"], "comment.created");
        assert_eq!(e["channel"], expected_channel.as_str());
        assert_eq!(e["data"]["task_id"], task_id.as_str());
        assert_eq!(e["data"]["comment"]["content"], "Ship it on Monday");
        assert_eq!(e["data"]["comment"]["author_id"], w.owner.user_id.as_str());
    }

    let (status, body) = app
        .call(
            Method::POST,
            &format!("/v1/projects/{}/members", w.project),
            &w.owner.token,
            Some(json!({"user_id": other.user_id})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let added = ws.next().await;
    assert_eq!(added["event"], "project.member_added");
    assert_eq!(added["data"]["user"]["id"], other.user_id.as_str());
    assert_eq!(added["data"]["user"]["name"], "Test User");
    let mine = theirs.next().await;
    assert_eq!(mine["event"], "project.member_added");
    assert_eq!(mine["channel"], format!("user/{}", other.user_id).as_str());
}

#[tokio::test]
async fn channels_of_other_workspaces_and_tenants_are_not_found_and_silent() {
    let app = TestApp::spawn_with(|c| c.auth.multi_tenant = false).await;
    let w = world(&app).await;
    let task_id = task(&app, &w.owner.token, &w.project, "Secret").await;
    let outsider = app.register("outsider@example.com").await;
    let own_ws = app.create_workspace(&outsider.token, "Elsewhere").await;
    let own_project = app
        .create_project(&outsider.token, &own_ws, json!({"name": "Mine"}))
        .await;

    let mut ws = Ws::open(&app, &outsider).await;
    for channel in [
        format!("project/{}", w.project),
        format!("task/{task_id}"),
        format!("user/{}", w.owner.user_id),
    ] {
        let refused = ws.subscribe(&channel, None).await;
        assert_eq!(refused["type"], "error", "{refused}");
        assert_eq!(refused["channel"], channel.as_str());
        assert_eq!(refused["code"], "not_found");
    }
    // Another tenant's user, even with the right id, sees nothing either.
    let tenant = app.create_tenant("Other Co").await;
    let foreign = app
        .register_with("foreign@example.com", Some(&tenant.publishable_key))
        .await;
    let mut foreign_ws = Ws::open(&app, &foreign).await;
    let refused = foreign_ws
        .subscribe(&format!("project/{}", w.project), None)
        .await;
    assert_eq!(refused["code"], "not_found");

    // Events in the refused project reach neither: the next frame each sees is their own.
    task(&app, &w.owner.token, &w.project, "Still secret").await;
    ws.subscribed(&format!("project/{own_project}")).await;
    task(&app, &outsider.token, &own_project, "Visible").await;
    let next = ws.next().await;
    assert_eq!(next["data"]["title"], "Visible", "{next}");
    foreign_ws
        .subscribed(&format!("user/{}", foreign.user_id))
        .await;
    foreign_ws.send(json!({"type": "ping"})).await;
    assert_eq!(foreign_ws.next().await, json!({"type": "pong"}));
}

#[tokio::test]
async fn resume_replays_what_was_missed_without_gap_or_duplicate() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let channel = format!("project/{}", w.project);
    let mut ws = Ws::open(&app, &w.member).await;
    ws.subscribed(&channel).await;
    task(&app, &w.owner.token, &w.project, "seen").await;
    // The last event this client saw is the "seen" task's; an event written just before the
    // subscription (the world's own set-up) may arrive first and is skipped.
    let last_seen = loop {
        let e = ws.next().await;
        if e["data"]["title"] == "seen" {
            break e["id"].as_i64().unwrap();
        }
    };
    drop(ws);

    for i in 0..5 {
        task(&app, &w.owner.token, &w.project, &format!("missed {i}")).await;
    }
    // More events are written while the client subscribes and replays.
    let writer = {
        let base = app.base.clone();
        let token = w.owner.token.clone();
        let project = w.project.clone();
        tokio::spawn(async move {
            let client = reqwest::Client::new();
            for i in 0..20 {
                let res = client
                    .post(format!("{base}/v1/projects/{project}/tasks"))
                    .bearer_auth(&token)
                    .json(&json!({"title": format!("during {i}")}))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(res.status(), StatusCode::CREATED);
            }
        })
    };
    let mut ws = Ws::open(&app, &w.member).await;
    let ack = ws.subscribe(&channel, Some(last_seen)).await;
    assert_eq!(ack["type"], "subscribed", "{ack}");
    writer.await.unwrap();

    let expected: Vec<i64> = activity_ids(&app, &w.owner.token, &w.project)
        .await
        .into_iter()
        .filter(|id| *id > last_seen)
        .collect();
    assert_eq!(expected.len(), 25);
    let mut got = Vec::new();
    while got.len() < expected.len() {
        let e = ws.next().await;
        assert_eq!(e["type"], "event", "{e}");
        got.push(e["id"].as_i64().unwrap());
    }
    assert_eq!(got, expected, "every missed event once, in order");
    // Nothing more is queued: a ping is answered next, not a duplicate event.
    ws.send(json!({"type": "ping"})).await;
    assert_eq!(ws.next().await, json!({"type": "pong"}));
}

#[tokio::test]
async fn a_resume_from_too_far_back_is_refused() {
    let app = TestApp::spawn_with(|c| c.realtime.resume_max = 3).await;
    let w = world(&app).await;
    for i in 0..4 {
        task(&app, &w.owner.token, &w.project, &format!("t{i}")).await;
    }
    let mut ws = Ws::open(&app, &w.member).await;
    let refused = ws
        .subscribe(&format!("project/{}", w.project), Some(0))
        .await;
    assert_eq!(refused["type"], "error");
    assert_eq!(refused["code"], "resume_unavailable");
}

/// A minimal SSE reader over a streaming response.
pub(crate) struct Sse {
    res: reqwest::Response,
    buf: String,
}

#[derive(Debug)]
pub(crate) struct SseEvent {
    pub id: Option<i64>,
    pub event: String,
    pub data: Value,
}

impl Sse {
    pub async fn open(app: &TestApp, token: &str, project: &str, last: Option<i64>) -> Self {
        let mut req = app.as_user(
            Method::GET,
            &format!("/v1/projects/{project}/events"),
            token,
        );
        if let Some(id) = last {
            req = req.header("Last-Event-ID", id.to_string());
        }
        let res = req.send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert!(
            res.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/event-stream")
        );
        Self {
            res,
            buf: String::new(),
        }
    }

    /// The next event (comments skipped); `None` when the stream ends.
    async fn next(&mut self) -> Option<SseEvent> {
        loop {
            if let Some(end) = self.buf.find("\n\n") {
                let block: String = self.buf.drain(..end + 2).collect();
                let (mut id, mut event, mut data) = (None, String::new(), String::new());
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("id:") {
                        id = v.trim().parse().ok();
                    } else if let Some(v) = line.strip_prefix("event:") {
                        event = v.trim().to_string();
                    } else if let Some(v) = line.strip_prefix("data:") {
                        data.push_str(v.trim_start());
                    }
                }
                if data.is_empty() {
                    continue;
                }
                return Some(SseEvent {
                    id,
                    event,
                    data: serde_json::from_str(&data).unwrap(),
                });
            }
            let chunk = tokio::time::timeout(WAIT, self.res.chunk())
                .await
                .expect("a chunk within the wait")
                .expect("the stream reads");
            match chunk {
                Some(bytes) => self.buf.push_str(&String::from_utf8_lossy(&bytes)),
                None => return None,
            }
        }
    }

    pub async fn next_event(&mut self) -> SseEvent {
        loop {
            let e = self.next().await.expect("the stream is open");
            if e.event != "subscribed" {
                return e;
            }
        }
    }
}

#[tokio::test]
async fn sse_streams_events_and_resumes_from_last_event_id() {
    // The request timeout covers a response's headers only, so a stream outlives it.
    let app = TestApp::spawn_with(|c| c.server.request_timeout = Duration::from_secs(1)).await;
    let w = world(&app).await;
    let res = app
        .as_user(
            Method::GET,
            &format!("/v1/projects/{}/events", w.project),
            &app.register("x@example.com").await.token,
        )
        .send()
        .await
        .unwrap();
    let (status, body) = read(res).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");

    let mut sse = Sse::open(&app, &w.member.token, &w.project, None).await;
    let first = task(&app, &w.owner.token, &w.project, "over SSE").await;
    let e = sse.next_event().await;
    assert_eq!(e.event, "task.created");
    assert_eq!(e.data["data"]["id"], first.as_str());
    let first_id = e.id.expect("an id line");
    assert_eq!(e.data["id"], first_id);
    drop(sse);

    let a = task(&app, &w.owner.token, &w.project, "missed a").await;
    let b = task(&app, &w.owner.token, &w.project, "missed b").await;
    let mut sse = Sse::open(&app, &w.member.token, &w.project, Some(first_id)).await;
    let ea = sse.next_event().await;
    let eb = sse.next_event().await;
    assert_eq!(ea.data["data"]["id"], a.as_str());
    assert_eq!(eb.data["data"]["id"], b.as_str());
    assert!(first_id < ea.id.unwrap() && ea.id.unwrap() < eb.id.unwrap());

    // The query parameter resumes too.
    let res = app
        .as_user(
            Method::GET,
            &format!(
                "/v1/projects/{}/events?last_event_id={}",
                w.project,
                ea.id.unwrap()
            ),
            &w.member.token,
        )
        .send()
        .await
        .unwrap();
    let mut by_query = Sse {
        res,
        buf: String::new(),
    };
    assert_eq!(by_query.next_event().await.id, eb.id);
}

#[tokio::test]
async fn losing_access_ends_websocket_and_sse_subscriptions() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let mut ws = Ws::open(&app, &w.member).await;
    let project_channel = format!("project/{}", w.project);
    ws.subscribed(&project_channel).await;
    // Events are published after their commit, so wait for this one before going on: otherwise
    // it could arrive after the removal below and be taken for a leak.
    let task_id = task(&app, &w.owner.token, &w.project, "Watched").await;
    let created = ws.next().await;
    assert_eq!(created["event"], "task.created", "{created}");
    assert_eq!(created["data"]["id"], task_id.as_str(), "{created}");
    let task_channel = format!("task/{task_id}");
    let user_channel = format!("user/{}", w.member.user_id);
    ws.subscribed(&task_channel).await;
    ws.subscribed(&user_channel).await;

    let path = format!("/v1/projects/{}/members/{}", w.project, w.member.user_id);
    let (status, body) = app.call(Method::DELETE, &path, &w.owner.token, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let mut ended = HashSet::new();
    while ended.len() < 2 {
        let f = ws.next().await;
        if f["type"] == "error" {
            assert_eq!(f["code"], "not_found", "{f}");
            ended.insert(f["channel"].as_str().unwrap().to_string());
        } else {
            assert_eq!(f["event"], "project.member_removed", "{f}");
        }
    }
    assert_eq!(
        ended,
        HashSet::from([project_channel.clone(), task_channel])
    );

    // Later events of the project no longer arrive; the user channel still does.
    task(&app, &w.owner.token, &w.project, "After removal").await;
    let (status, body) = app
        .call(
            Method::POST,
            &format!("/v1/projects/{}/members", w.project),
            &w.owner.token,
            Some(json!({"user_id": w.member.user_id})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let next = ws.next().await;
    assert_eq!(next["channel"], user_channel.as_str(), "{next}");
    assert_eq!(next["event"], "project.member_added");

    // Removal from the workspace ends an SSE stream with an error event.
    let mut sse = Sse::open(&app, &w.member.token, &w.project, None).await;
    let path = format!(
        "/v1/workspaces/{}/members/{}",
        w.workspace, w.member.user_id
    );
    let (status, body) = app.call(Method::DELETE, &path, &w.owner.token, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let err = sse.next_event().await;
    assert_eq!(err.event, "error");
    assert_eq!(err.data["code"], "not_found");
    assert!(sse.next().await.is_none(), "the stream ends");

    // Deleting the project sends its last event, then ends the owner's subscription.
    let mut owner_ws = Ws::open(&app, &w.owner).await;
    owner_ws.subscribed(&project_channel).await;
    let (status, body) = app
        .call(
            Method::DELETE,
            &format!("/v1/projects/{}", w.project),
            &w.owner.token,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(owner_ws.next().await["event"], "project.deleted");
    let gone = owner_ws.next().await;
    assert_eq!(gone["type"], "error");
    assert_eq!(gone["code"], "not_found");
}

#[tokio::test]
async fn a_slow_consumer_is_dropped_while_a_reader_gets_everything() {
    // A queue long enough that a reading client never overflows it on a loaded machine; the
    // stalled one does once the socket buffers between it and the server are full.
    // The pong timeout is also how long a dropped client's close frame may wait behind its
    // unread data: long enough for this test to finish writing before it reads.
    let app = TestApp::spawn_with(|c| {
        c.realtime.queue = 32;
        c.realtime.pong_timeout = Duration::from_secs(300);
    })
    .await;
    let w = world(&app).await;
    let channel = format!("project/{}", w.project);
    let task_id = task(&app, &w.owner.token, &w.project, "Chatty").await;

    // The slow client: a tiny receive buffer, and it stops reading after subscribing.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let addr = app.base.trim_start_matches("http://").parse().unwrap();
    let tcp = socket.connect(addr).await.unwrap();
    let mut request = ws_url(&app, "/v1/realtime").into_client_request().unwrap();
    request.headers_mut().insert(
        "authorization",
        HeaderValue::from_str(&format!("Bearer {}", w.member.token)).unwrap(),
    );
    let (stream, _) = tokio_tungstenite::client_async(request, MaybeTlsStream::Plain(tcp))
        .await
        .unwrap();
    let mut slow = Ws { stream };
    assert_eq!(slow.next().await["type"], "authenticated");
    slow.subscribed(&channel).await;

    let mut reader = Ws::open(&app, &w.owner).await;
    reader.subscribed(&channel).await;

    // Comments of 10,000 characters: enough bytes to fill every buffer between the server
    // and the stalled client, so its queue overflows.
    let content = "x".repeat(10_000);
    let total = 600;
    let reading = tokio::spawn(async move {
        let mut n = 0;
        while n < total {
            let e = reader.next().await;
            assert_eq!(e["event"], "comment.created", "{e}");
            n += 1;
        }
        n
    });
    for _ in 0..total {
        let (status, body) = app
            .call(
                Method::POST,
                &format!("/v1/tasks/{task_id}/comments"),
                &w.owner.token,
                Some(json!({"content": content})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    assert_eq!(reading.await.unwrap(), total, "the reader got every event");

    let (code, reason, seen) = slow.until_close().await;
    assert_eq!((code, reason.as_str()), (1008, "slow consumer"));
    assert!(seen.len() < total, "the slow client was cut off early");
}

#[tokio::test]
async fn two_instances_on_one_postgres_act_as_one() {
    let Some(_) = std::env::var_os("KANRI_TEST_DATABASE_URL") else {
        return;
    };
    let a = TestApp::spawn().await;
    let b = TestApp::start(a.config.clone(), tempfile::tempdir().unwrap()).await;
    let w = world(&a).await;
    let mut ws = Ws::open(&a, &w.member).await;
    ws.subscribed(&format!("project/{}", w.project)).await;

    let on_b = task(&b, &w.owner.token, &w.project, "Created on B").await;
    let e = ws.next().await;
    assert_eq!(e["event"], "task.created");
    assert_eq!(e["data"]["id"], on_b.as_str());

    // And the other way round, on a task channel.
    let mut ws_b = Ws::open(&b, &w.owner).await;
    ws_b.subscribed(&format!("task/{on_b}")).await;
    let (status, body) = a
        .call(
            Method::POST,
            &format!("/v1/tasks/{on_b}/comments"),
            &w.member.token,
            Some(json!({"content": "seen from A"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let c = ws_b.next().await;
    assert_eq!(c["event"], "comment.created");
    assert_eq!(c["data"]["comment"]["content"], "seen from A");
    b.stop().await;
}
