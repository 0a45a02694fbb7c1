//! Usage and quotas: usage numbers, `quota_exceeded` for every limited resource, racing
//! creates, downgrades, and API calls counted in memory that survive a restart. `World` (a
//! tenant, an owner and a workspace) is shared with `subscriptions.rs`.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{SignedIn, Tenant, TestApp, read};
use crate::plans::{create_plan, with_key};

pub struct World {
    pub app: TestApp,
    pub tenant: Tenant,
    pub owner: SignedIn,
    pub ws: String,
}

pub async fn world_with(adjust: impl FnOnce(&mut kanri::config::Config)) -> World {
    let app = TestApp::spawn_with(adjust).await;
    let tenant = app.create_tenant("Acme").await;
    let owner = app
        .register_with("owner@acme.example", Some(&tenant.publishable_key))
        .await;
    let ws = app.create_workspace(&owner.token, "Acme").await;
    World {
        app,
        tenant,
        owner,
        ws,
    }
}

pub async fn world() -> World {
    world_with(|_| {}).await
}

impl World {
    /// Creates a plan with `limits` and moves the workspace onto it.
    pub async fn subscribe(&self, key: &str, limits: Value) -> Value {
        create_plan(
            &self.app,
            &self.tenant.secret_key,
            json!({"key": key, "name": key, "limits": limits}),
        )
        .await;
        self.put_subscription(json!({"plan_key": key})).await
    }

    pub async fn put_subscription(&self, body: Value) -> Value {
        let res = with_key(
            &self.app,
            Method::PUT,
            &format!("/v1/workspaces/{}/subscription", self.ws),
            &self.tenant.secret_key,
        )
        .json(&body)
        .send()
        .await
        .unwrap();
        let (status, body) = read(res).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["data"].clone()
    }

    pub async fn usage(&self) -> Value {
        let (status, body) = self
            .app
            .call(
                Method::GET,
                &format!("/v1/workspaces/{}/usage", self.ws),
                &self.owner.token,
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["data"].clone()
    }

    pub async fn create_project(&self, name: &str) -> (StatusCode, Value) {
        self.app
            .call(
                Method::POST,
                &format!("/v1/workspaces/{}/projects", self.ws),
                &self.owner.token,
                Some(json!({"name": name})),
            )
            .await
    }

    pub async fn register(&self, email: &str) -> SignedIn {
        self.app
            .register_with(email, Some(&self.tenant.publishable_key))
            .await
    }
}

fn assert_quota(body: &Value, resource: &str, limit: i64, used: i64) {
    assert_eq!(body["code"], "quota_exceeded", "{body}");
    assert_eq!(
        body["details"],
        json!({"resource": resource, "limit": limit, "used": used}),
        "{body}"
    );
}

fn multipart(bytes: &[u8]) -> (String, Vec<u8>) {
    let boundary = "kanri-billing-boundary-x9";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.bin\"\r\n\
         Content-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

async fn upload(w: &World, task: &str, size: usize) -> (StatusCode, Value) {
    let (content_type, body) = multipart(&vec![7u8; size]);
    let res = w
        .app
        .as_user(
            Method::POST,
            &format!("/v1/tasks/{task}/attachments"),
            &w.owner.token,
        )
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    read(res).await
}

#[tokio::test]
async fn usage_counts_each_resource_and_quotas_refuse_growth() {
    let w = world().await;
    let project = w
        .app
        .create_project(&w.owner.token, &w.ws, json!({"name": "P1"}))
        .await;
    let task = w
        .app
        .create_task(&w.owner.token, &project, json!({"title": "T"}))
        .await;
    let task = task["id"].as_str().unwrap().to_string();
    assert_eq!(upload(&w, &task, 1000).await.0, StatusCode::CREATED);
    let member = w.register("m@acme.example").await;
    w.app
        .add_member(&w.owner.token, &w.ws, &member, "MEMBER")
        .await;

    let usage = w.usage().await;
    assert_eq!(usage["projects"], json!({"used": 1, "limit": null}));
    assert_eq!(usage["members"], json!({"used": 2, "limit": null}));
    assert_eq!(usage["storage_bytes"], json!({"used": 1000, "limit": null}));
    // Project create, task create, upload, member add: four calls that resolved the workspace
    // (creating the workspace resolves none, and the usage read itself does not count).
    assert_eq!(usage["api_calls"]["used"], 4, "{usage}");

    w.subscribe(
        "tight",
        json!({"projects": 1, "members": 2, "storage_bytes": 1500}),
    )
    .await;
    let usage = w.usage().await;
    assert_eq!(usage["projects"], json!({"used": 1, "limit": 1}));

    let (status, body) = w.create_project("P2").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_quota(&body, "projects", 1, 1);

    let extra = w.register("x@acme.example").await;
    let (status, body) = w
        .app
        .call(
            Method::POST,
            &format!("/v1/workspaces/{}/members", w.ws),
            &w.owner.token,
            Some(json!({"user_id": extra.user_id, "role": "MEMBER"})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_quota(&body, "members", 2, 2);

    // An invitation can be sent, but accepting it would go over.
    let invitee = w.register("inv@acme.example").await;
    let (status, inv) = w
        .app
        .call(
            Method::POST,
            &format!("/v1/workspaces/{}/invitations", w.ws),
            &w.owner.token,
            Some(json!({"email": "inv@acme.example", "role": "MEMBER"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{inv}");
    let inv_id = inv["data"]["id"].as_str().unwrap();
    let (status, body) = w
        .app
        .answer_invitation("/v1", inv_id, "accept", &invitee.token)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_quota(&body, "members", 2, 2);

    // 1000 of 1500 bytes used: 500 more fit, 501 do not; a full workspace refuses at once.
    let (status, body) = upload(&w, &task, 501).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_quota(&body, "storage_bytes", 1500, 1000);
    assert_eq!(upload(&w, &task, 500).await.0, StatusCode::CREATED);
    let (status, body) = upload(&w, &task, 1).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_quota(&body, "storage_bytes", 1500, 1500);
    assert_eq!(
        w.usage().await["storage_bytes"],
        json!({"used": 1500, "limit": 1500})
    );
}

#[tokio::test]
async fn racing_creates_for_the_last_slot_let_exactly_one_through() {
    let w = world().await;
    w.app
        .create_project(&w.owner.token, &w.ws, json!({"name": "P0"}))
        .await;
    w.subscribe("two", json!({"projects": 2})).await;
    let mut racers = Vec::new();
    for i in 0..8 {
        let app_base = w.app.base.clone();
        let client = w.app.client.clone();
        let token = w.owner.token.clone();
        let ws = w.ws.clone();
        racers.push(tokio::spawn(async move {
            client
                .post(format!("{app_base}/v1/workspaces/{ws}/projects"))
                .bearer_auth(token)
                .json(&json!({"name": format!("Racer {i}")}))
                .send()
                .await
                .unwrap()
                .status()
        }));
    }
    let mut statuses = Vec::new();
    for r in racers {
        statuses.push(r.await.unwrap());
    }
    let created = statuses
        .iter()
        .filter(|s| **s == StatusCode::CREATED)
        .count();
    let refused = statuses
        .iter()
        .filter(|s| **s == StatusCode::FORBIDDEN)
        .count();
    assert_eq!((created, refused), (1, 7), "{statuses:?}");
    assert_eq!(w.usage().await["projects"], json!({"used": 2, "limit": 2}));
}

#[tokio::test]
async fn a_downgrade_below_usage_keeps_the_data_and_blocks_only_new_creates() {
    let w = world().await;
    for name in ["A", "B", "C"] {
        w.app
            .create_project(&w.owner.token, &w.ws, json!({"name": name}))
            .await;
    }
    w.subscribe("small", json!({"projects": 1})).await;
    let (status, list) = w
        .app
        .call(
            Method::GET,
            &format!("/v1/workspaces/{}/projects", w.ws),
            &w.owner.token,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["data"]["items"].as_array().unwrap().len(), 3, "{list}");
    let (status, body) = w.create_project("D").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_quota(&body, "projects", 1, 3);
    // Existing projects still change; after an upgrade, creates work again.
    let id = list["data"]["items"][0]["id"].as_str().unwrap();
    let (status, _) = w
        .app
        .call(
            Method::PATCH,
            &format!("/v1/projects/{id}"),
            &w.owner.token,
            Some(json!({"name": "A2"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    w.put_subscription(json!({"plan_key": "free"})).await;
    assert_eq!(w.create_project("D").await.0, StatusCode::CREATED);
}

#[tokio::test]
async fn api_calls_over_the_allowance_are_refused_and_survive_a_restart() {
    let w = world().await;
    // The allowance is 5 a month (creating the workspace counted none).
    w.subscribe("metered", json!({"api_calls_per_month": 5}))
        .await;
    let path = format!("/v1/workspaces/{}", w.ws);
    for _ in 0..5 {
        let (status, body) = w.app.call(Method::GET, &path, &w.owner.token, None).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let (status, body) = w.app.call(Method::GET, &path, &w.owner.token, None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_quota(&body, "api_calls", 5, 5);
    // Project routes resolve the workspace too; billing reads stay open.
    let usage = w.usage().await;
    assert_eq!(usage["api_calls"], json!({"used": 5, "limit": 5}));

    // Stop (which flushes) and start on the same data: the count is still there.
    let World {
        app,
        tenant,
        owner,
        ws,
    } = w;
    let (config, dir) = app.stop().await;
    let app = TestApp::start(config, dir).await;
    let w = World {
        app,
        tenant,
        owner,
        ws,
    };
    let (status, body) = w.app.call(Method::GET, &path, &w.owner.token, None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_quota(&body, "api_calls", 5, 5);
    let today = kanri::domain::billing::day_of(kanri::clock::now_ms());
    let (status, records) = w
        .app
        .call(
            Method::GET,
            &format!(
                "/v1/workspaces/{}/usage/records?from={today}&to={today}",
                w.ws
            ),
            &w.owner.token,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{records}");
    assert_eq!(records["data"], json!([{"date": today, "api_calls": 5}]));
    // Raising the allowance lets calls through again.
    w.subscribe("bigger", json!({"api_calls_per_month": 100}))
        .await;
    let (status, _) = w.app.call(Method::GET, &path, &w.owner.token, None).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn counts_are_flushed_periodically_without_a_restart() {
    let w = world_with(|c| c.billing.usage_flush = std::time::Duration::from_secs(1)).await;
    let path = format!("/v1/workspaces/{}", w.ws);
    for _ in 0..3 {
        w.app.call(Method::GET, &path, &w.owner.token, None).await;
    }
    let today = kanri::domain::billing::day_of(kanri::clock::now_ms());
    let stored = || async {
        kanri::db::usage::api_calls_between(w.app.db.read(), &w.tenant.id, &w.ws, &today, &today)
            .await
            .unwrap()
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while stored().await < 3 {
        assert!(std::time::Instant::now() < deadline, "never flushed");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(stored().await, 3, "three reads");
}

#[tokio::test]
async fn racing_member_adds_for_the_last_seat_let_exactly_one_through() {
    let w = world().await;
    w.subscribe("duo", json!({"members": 2})).await;
    let mut users = Vec::new();
    for i in 0..6 {
        users.push(w.register(&format!("racer{i}@acme.example")).await);
    }
    let mut racers = Vec::new();
    for user in users {
        let (base, client) = (w.app.base.clone(), w.app.client.clone());
        let (token, ws) = (w.owner.token.clone(), w.ws.clone());
        racers.push(tokio::spawn(async move {
            client
                .post(format!("{base}/v1/workspaces/{ws}/members"))
                .bearer_auth(token)
                .json(&json!({"user_id": user.user_id, "role": "MEMBER"}))
                .send()
                .await
                .unwrap()
                .status()
        }));
    }
    let mut statuses = Vec::new();
    for r in racers {
        statuses.push(r.await.unwrap());
    }
    let created = statuses
        .iter()
        .filter(|s| **s == StatusCode::CREATED)
        .count();
    let refused = statuses
        .iter()
        .filter(|s| **s == StatusCode::FORBIDDEN)
        .count();
    assert_eq!((created, refused), (1, 5), "{statuses:?}");
    assert_eq!(w.usage().await["members"], json!({"used": 2, "limit": 2}));
}
