//! Every mutating route of the route table, called once, with the events it must produce: its
//! activity rows (read back through the tenant's audit log) and, for the ones in the watched
//! project, the same events on that project's realtime stream. A route added without an entry
//! here fails the first assertion; a change that commits without its event fails its step.

use std::collections::BTreeSet;

use kanri::domain::KeyKind;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, read};
use crate::realtime::Sse;

/// Routes that change nothing a client reads as data, and why.
const NO_EVENT: &[(&str, &str, &str)] = &[
    (
        "POST",
        "/v1/auth/login",
        "a session is a credential, not data",
    ),
    ("POST", "/auth/login", "a session is a credential, not data"),
    ("POST", "/v1/auth/logout", "ends a session"),
    ("POST", "/auth/logout", "ends a session"),
    (
        "POST",
        "/v1/auth/password-reset/request",
        "only enqueues the email",
    ),
    (
        "POST",
        "/auth/password-reset/request",
        "only enqueues the email",
    ),
    ("POST", "/v1/projects/{id}/search", "a read"),
    ("POST", "/v1/workspaces/{id}/search", "a read"),
    ("POST", "/api/search-tasks", "a read"),
    ("POST", "/v1/attachments/{id}/url", "signs a link"),
    ("POST", "/v1/admin/jobs/retry-dead", "operates the queue"),
    ("POST", "/v1/admin/jobs/{id}/retry", "operates the queue"),
    ("POST", "/v1/admin/jobs/{id}/cancel", "operates the queue"),
    // Deliveries are verified and queued; the sync job's commit records `user.*` (covered in
    // identity.rs and cache.rs, which sign real Svix deliveries).
    ("POST", "/v1/webhooks/identity", "queues the identity sync"),
    ("POST", "/api/webhooks/clerk", "queues the identity sync"),
    // Verified and queued; the billing job's commit records `subscription.updated` (stripe.rs).
    ("POST", "/v1/webhooks/stripe", "queues the Stripe event"),
];

struct Walk<'a> {
    app: &'a TestApp,
    key: String,
    /// The last audit-log id seen.
    after: i64,
    /// Routes called so far, as `METHOD template`.
    called: BTreeSet<String>,
}

impl Walk<'_> {
    /// Calls `route` (filling its template with `path`) and checks it produced `kinds`, in order.
    async fn step(
        &mut self,
        route: (&str, &str),
        path: &str,
        token: &str,
        body: Option<Value>,
        kinds: &[&str],
    ) -> Value {
        let method = Method::from_bytes(route.0.as_bytes()).unwrap();
        let (status, response) = send(self.app, method, path, token, body).await;
        assert!(
            status.is_success(),
            "{} {path}: {status} {response}",
            route.0
        );
        self.called.insert(format!("{} {}", route.0, route.1));
        assert_eq!(self.new_kinds().await, kinds, "{} {}", route.0, route.1);
        response
    }

    /// The kinds of the audit-log events after the last seen one.
    async fn new_kinds(&mut self) -> Vec<String> {
        let events = audit_log(self.app, &self.key, self.after).await;
        if let Some(last) = events.last() {
            self.after = last["id"].as_i64().unwrap();
        }
        events
            .iter()
            .map(|e| e["kind"].as_str().unwrap().to_string())
            .collect()
    }

    /// Requests a reset for `email` under `prefix` (which records nothing), then completes it
    /// with the emailed token (which records the password change).
    async fn reset_password(&mut self, prefix: &str, email: &str) {
        let request = format!("{prefix}/password-reset/request");
        let (status, _) = send(
            self.app,
            Method::POST,
            &request,
            "",
            Some(json!({"email": email})),
        )
        .await;
        assert!(status.is_success(), "{request}: {status}");
        self.app.run_due_jobs(kanri::clock::now_ms()).await;
        let mail = self.app.sent_mail();
        let text = &mail.last().expect("a reset email").text;
        let token = text
            .split("token=")
            .nth(1)
            .unwrap()
            .split_whitespace()
            .next()
            .unwrap();
        let complete = format!("{prefix}/password-reset/complete");
        let body = json!({"token": token, "password": "another horse battery 9"});
        let route = ("POST", complete.as_str());
        self.step(route, &complete, "", Some(body), &["user.password_changed"])
            .await;
    }

    /// Two-factor sign-in for a new account: enrolment (nothing active yet, no event),
    /// confirmation, the sign-in's second step (a session: no event), new recovery codes,
    /// disabling, and the operator's reset after enrolling again.
    async fn two_factor(&mut self) {
        let user = self.app.register("second-factor@example.com").await;
        self.new_kinds().await;
        let token = user.token.as_str();
        let enrol = ("POST", "/v1/auth/two-factor/enrollment");
        let data = self.step(enrol, enrol.1, token, None, &[]).await;
        let totp = totp_rs::Totp::from_url(data["data"]["otpauth_uri"].as_str().unwrap()).unwrap();
        let step = kanri::clock::now_ms() as u64 / 1000 / 30;
        let code = |step: u64| totp.generate(step * 30).to_string();
        let confirm = ("POST", "/v1/auth/two-factor/enrollment/confirm");
        let body = json!({"totp_code": code(step)});
        let enabled = self
            .step(
                confirm,
                confirm.1,
                token,
                Some(body),
                &["user.two_factor_enabled"],
            )
            .await;
        let recovery = enabled["data"]["recovery_codes"]
            .as_array()
            .unwrap()
            .clone();
        let res = self
            .app
            .post_json(
                "/v1/auth/login",
                &json!({"email": "second-factor@example.com", "password": crate::helpers::PASSWORD}),
            )
            .await;
        let (_, refused) = read(res).await;
        let challenge = refused["details"]["challenge"].clone();
        let second = ("POST", "/v1/auth/login/two-factor");
        let body = json!({"challenge": challenge, "totp_code": code(step + 1)});
        self.step(second, second.1, "", Some(body), &[]).await;
        let regenerate = ("POST", "/v1/auth/two-factor/recovery-codes");
        let body = json!({"recovery_code": recovery[0]});
        let fresh = self
            .step(
                regenerate,
                regenerate.1,
                token,
                Some(body),
                &["user.recovery_codes_regenerated"],
            )
            .await;
        let disable = ("POST", "/v1/auth/two-factor/disable");
        let body = json!({
            "password": crate::helpers::PASSWORD,
            "recovery_code": fresh["data"]["recovery_codes"][0],
        });
        self.step(
            disable,
            disable.1,
            token,
            Some(body),
            &["user.two_factor_disabled"],
        )
        .await;
        // Enrolled again (a new secret, so its steps start afresh), then reset by the operator.
        let data = self.step(enrol, enrol.1, token, None, &[]).await;
        let totp = totp_rs::Totp::from_url(data["data"]["otpauth_uri"].as_str().unwrap()).unwrap();
        let now = kanri::clock::now_ms() as u64 / 1000;
        let body = json!({"totp_code": totp.generate(now).to_string()});
        self.step(
            confirm,
            confirm.1,
            token,
            Some(body),
            &["user.two_factor_enabled"],
        )
        .await;
        let path = format!("/v1/admin/users/{}/two-factor", user.user_id);
        let res = self
            .app
            .request(Method::DELETE, &path)
            .header("X-Api-Key", &self.key)
            .send()
            .await
            .unwrap();
        let (status, body) = read(res).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        self.mark("DELETE", "/v1/admin/users/{id}/two-factor");
        assert_eq!(self.new_kinds().await, ["user.two_factor_disabled"]);
    }

    fn mark(&mut self, method: &str, template: &str) {
        self.called.insert(format!("{method} {template}"));
    }
}

/// Sends with a session token, or with none when `token` is empty.
async fn send(
    app: &TestApp,
    method: Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut req = app.request(method, path);
    if !token.is_empty() {
        req = req.bearer_auth(token);
    }
    if let Some(body) = body {
        req = req.json(&body);
    }
    read(req.send().await.unwrap()).await
}

async fn audit_log(app: &TestApp, key: &str, after: i64) -> Vec<Value> {
    let mut out = Vec::new();
    let mut cursor =
        (after > 0).then(|| kanri::http::pagination::encode_cursor(&after.to_string()));
    loop {
        let mut path = "/v1/admin/activity?limit=100".to_string();
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let res = app
            .request(Method::GET, &path)
            .header("X-Api-Key", key)
            .send()
            .await
            .unwrap();
        let (status, body) = read(res).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        out.extend(body["data"]["items"].as_array().unwrap().iter().cloned());
        match body["data"]["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => return out,
        }
    }
}

/// Every non-GET operation of the served OpenAPI document, as `METHOD template`.
async fn mutating_routes(app: &TestApp) -> BTreeSet<String> {
    let doc: Value = app.get("/openapi.json").await.json().await.unwrap();
    let mut out = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in ["post", "put", "patch", "delete"] {
            if item.get(method).is_some() {
                out.insert(format!("{} {path}", method.to_uppercase()));
            }
        }
    }
    out
}

fn id(v: &Value) -> String {
    v["data"]["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn every_mutating_route_records_its_event_and_publishes_it() {
    // A signing key on every engine: webhook secrets are encrypted with it.
    let app = TestApp::spawn_with(|c| {
        c.storage.signing_key = Some(kanri::config::Secret::new("k".repeat(48)));
    })
    .await;
    let (_, key) =
        kanri::services::tenants::create_key(&app.cx, "default", KeyKind::Secret, "audit")
            .await
            .unwrap();
    let mut walk = Walk {
        app: &app,
        key: key.expose().to_string(),
        after: 0,
        called: BTreeSet::new(),
    };
    assert_eq!(walk.new_kinds().await, ["key.created"]);

    // Accounts.
    let owner = walk
        .step(("POST", "/v1/auth/register"), "/v1/auth/register", "",
            Some(json!({"email": "owner@example.com", "password": "correct horse battery 9", "name": "Owner"})),
            &["user.created"])
        .await;
    let owner_token = owner["data"]["token"].as_str().unwrap().to_string();
    let seed_user = walk
        .step(("POST", "/auth/register"), "/auth/register", "",
            Some(json!({"email": "seed@example.com", "password": "correct horse battery 9", "name": "Seed"})),
            &["user.created"])
        .await;
    let seed_token = seed_user["data"]["token"]
        .as_str()
        .or(seed_user["token"].as_str())
        .unwrap()
        .to_string();
    let member = app.register("member@example.com").await;
    let joiner = app.register("joiner@example.com").await;
    assert_eq!(walk.new_kinds().await, ["user.created", "user.created"]);

    // Workspaces, members, roles.
    let ws = id(&walk
        .step(
            ("POST", "/v1/workspaces"),
            "/v1/workspaces",
            &owner_token,
            Some(json!({"name": "Acme"})),
            &["workspace.created"],
        )
        .await);
    walk.step(
        ("PATCH", "/v1/workspaces/{id}"),
        &format!("/v1/workspaces/{ws}"),
        &owner_token,
        Some(json!({"name": "Acme Inc"})),
        &["workspace.updated"],
    )
    .await;
    walk.step(
        ("POST", "/v1/workspaces/{id}/members"),
        &format!("/v1/workspaces/{ws}/members"),
        &owner_token,
        Some(json!({"user_id": member.user_id, "role": "MEMBER"})),
        &["member.added"],
    )
    .await;
    walk.step(
        ("PATCH", "/v1/workspaces/{id}/members/{user_id}"),
        &format!("/v1/workspaces/{ws}/members/{}", member.user_id),
        &owner_token,
        Some(json!({"role": "ADMIN"})),
        &["member.role_changed"],
    )
    .await;
    let admin =
        |method: Method, path: &str| app.request(method, path).header("X-Api-Key", key.expose());
    let (status, role) = read(
        admin(Method::POST, "/v1/roles")
            .json(&json!({"name": "Triager", "permissions": ["tasks:read"]}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{role}");
    walk.mark("POST", "/v1/roles");
    assert_eq!(walk.new_kinds().await, ["role.created"]);
    let role_id = id(&role);
    let (status, _) = read(
        admin(Method::PATCH, &format!("/v1/roles/{role_id}"))
            .json(&json!({"name": "Triage"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    walk.mark("PATCH", "/v1/roles/{id}");
    assert_eq!(walk.new_kinds().await, ["role.updated"]);
    let (status, _) = read(
        admin(Method::DELETE, &format!("/v1/roles/{role_id}"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    walk.mark("DELETE", "/v1/roles/{id}");
    assert_eq!(walk.new_kinds().await, ["role.deleted"]);

    // Plans (tenant level) and the workspace's subscription (filed under the workspace).
    let (status, plan) = read(
        admin(Method::POST, "/v1/plans")
            .json(&json!({"key": "pro", "name": "Pro", "limits": {"projects": 50}}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{plan}");
    walk.mark("POST", "/v1/plans");
    assert_eq!(walk.new_kinds().await, ["plan.created"]);
    let plan_id = id(&plan);
    let (status, _) = read(
        admin(Method::PATCH, &format!("/v1/plans/{plan_id}"))
            .json(&json!({"name": "Pro 2026"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    walk.mark("PATCH", "/v1/plans/{id}");
    assert_eq!(walk.new_kinds().await, ["plan.updated"]);
    for body in [
        json!({"plan_id": plan_id, "status": "trialing"}),
        json!({"plan_key": "free"}),
    ] {
        let (status, sub) = read(
            admin(Method::PUT, &format!("/v1/workspaces/{ws}/subscription"))
                .json(&body)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{sub}");
        assert_eq!(walk.new_kinds().await, ["subscription.updated"]);
    }
    walk.mark("PUT", "/v1/workspaces/{id}/subscription");
    let (status, _) = read(
        admin(Method::DELETE, &format!("/v1/plans/{plan_id}"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    walk.mark("DELETE", "/v1/plans/{id}");
    assert_eq!(walk.new_kinds().await, ["plan.deleted"]);
    let (status, user) = read(
        admin(Method::POST, "/v1/admin/users")
            .json(&json!({"email": "made@example.com", "name": "Made"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{user}");
    walk.mark("POST", "/v1/admin/users");
    assert_eq!(walk.new_kinds().await, ["user.created"]);
    let (status, _) = read(
        admin(Method::DELETE, &format!("/v1/admin/users/{}", id(&user)))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    walk.mark("DELETE", "/v1/admin/users/{id}");
    assert_eq!(walk.new_kinds().await, ["user.deleted"]);
    let (status, made) = read(
        admin(Method::POST, "/v1/admin/keys")
            .json(&json!({"kind": "publishable", "name": "web"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    walk.mark("POST", "/v1/admin/keys");
    assert_eq!(walk.new_kinds().await, ["key.created"]);
    let (status, _) = read(
        admin(
            Method::DELETE,
            &format!(
                "/v1/admin/keys/{}",
                made["data"]["key"]["id"].as_str().unwrap()
            ),
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    walk.mark("DELETE", "/v1/admin/keys/{id}");
    assert_eq!(walk.new_kinds().await, ["key.revoked"]);

    // Invitations.
    let invitation = id(&walk
        .step(
            ("POST", "/v1/workspaces/{id}/invitations"),
            &format!("/v1/workspaces/{ws}/invitations"),
            &owner_token,
            Some(json!({"email": "joiner@example.com", "role": "MEMBER"})),
            &["invitation.created"],
        )
        .await);
    let (status, body) = app
        .answer_invitation("/v1", &invitation, "reject", &joiner.token)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    walk.mark("POST", "/v1/invitations/{id}/reject");
    assert_eq!(walk.new_kinds().await, ["invitation.rejected"]);
    let again = id(&walk
        .step(
            ("POST", "/v1/workspaces/{id}/invitations"),
            &format!("/v1/workspaces/{ws}/invitations"),
            &owner_token,
            Some(json!({"email": "joiner@example.com", "role": "MEMBER"})),
            &["invitation.created"],
        )
        .await);
    walk.step(
        ("DELETE", "/v1/invitations/{id}"),
        &format!("/v1/invitations/{again}"),
        &owner_token,
        None,
        &["invitation.revoked"],
    )
    .await;
    let third = id(&walk
        .step(
            ("POST", "/v1/workspaces/{id}/invitations"),
            &format!("/v1/workspaces/{ws}/invitations"),
            &owner_token,
            Some(json!({"email": "joiner@example.com", "role": "MEMBER"})),
            &["invitation.created"],
        )
        .await);
    let (status, body) = app
        .answer_invitation("/v1", &third, "accept", &joiner.token)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    walk.mark("POST", "/v1/invitations/{id}/accept");
    assert_eq!(
        walk.new_kinds().await,
        ["member.added", "invitation.accepted"]
    );

    // Projects, watched from here on by the owner's realtime stream.
    let project = id(&walk
        .step(
            ("POST", "/v1/workspaces/{id}/projects"),
            &format!("/v1/workspaces/{ws}/projects"),
            &owner_token,
            Some(json!({"name": "Launch"})),
            &["project.created"],
        )
        .await);
    let first_project_event = walk.after;
    let mut stream = Sse::open(&app, &owner_token, &project, Some(first_project_event - 1)).await;
    walk.step(
        ("PATCH", "/v1/projects/{id}"),
        &format!("/v1/projects/{project}"),
        &owner_token,
        Some(json!({"description": "Ship it"})),
        &["project.updated"],
    )
    .await;
    walk.step(
        ("POST", "/v1/projects/{id}/members"),
        &format!("/v1/projects/{project}/members"),
        &owner_token,
        Some(json!({"user_id": member.user_id})),
        &["project.member_added"],
    )
    .await;

    // Tasks, comments, files.
    let task = id(&walk
        .step(
            ("POST", "/v1/projects/{id}/tasks"),
            &format!("/v1/projects/{project}/tasks"),
            &owner_token,
            Some(json!({"title": "Write the launch post"})),
            &["task.created"],
        )
        .await);
    walk.step(
        ("PATCH", "/v1/tasks/{id}"),
        &format!("/v1/tasks/{task}"),
        &owner_token,
        Some(json!({"assignee_id": member.user_id})),
        &["task.assigned"],
    )
    .await;
    walk.step(
        ("POST", "/v1/projects/{id}/tasks/bulk-status"),
        &format!("/v1/projects/{project}/tasks/bulk-status"),
        &owner_token,
        Some(json!({"task_ids": [task], "status": "DONE"})),
        &["task.updated"],
    )
    .await;
    let comment = id(&walk
        .step(
            ("POST", "/v1/tasks/{id}/comments"),
            &format!("/v1/tasks/{task}/comments"),
            &owner_token,
            Some(json!({"content": "Draft is up"})),
            &["comment.created"],
        )
        .await);
    walk.step(
        ("PATCH", "/v1/comments/{id}"),
        &format!("/v1/comments/{comment}"),
        &owner_token,
        Some(json!({"content": "Draft is up (v2)"})),
        &["comment.updated"],
    )
    .await;
    walk.step(
        ("DELETE", "/v1/comments/{id}"),
        &format!("/v1/comments/{comment}"),
        &owner_token,
        None,
        &["comment.deleted"],
    )
    .await;
    // Labels, relations, time.
    let label = id(&walk
        .step(
            ("POST", "/v1/workspaces/{id}/labels"),
            &format!("/v1/workspaces/{ws}/labels"),
            &owner_token,
            Some(json!({"name": "launch", "color": "#1f883d"})),
            &["label.created"],
        )
        .await);
    walk.step(
        ("PATCH", "/v1/labels/{id}"),
        &format!("/v1/labels/{label}"),
        &owner_token,
        Some(json!({"name": "launch-week"})),
        &["label.updated"],
    )
    .await;
    let blocker = id(&walk
        .step(
            ("POST", "/v1/projects/{id}/tasks"),
            &format!("/v1/projects/{project}/tasks"),
            &owner_token,
            Some(json!({"title": "Book the venue", "label_ids": [label]})),
            &["task.created"],
        )
        .await);
    let relation = id(&walk
        .step(
            ("POST", "/v1/tasks/{id}/relations"),
            &format!("/v1/tasks/{blocker}/relations"),
            &owner_token,
            Some(json!({"task_id": task, "kind": "blocks"})),
            &["task.relation_added"],
        )
        .await);
    walk.step(
        ("DELETE", "/v1/tasks/{id}/relations/{relation_id}"),
        &format!("/v1/tasks/{task}/relations/{relation}"),
        &owner_token,
        None,
        &["task.relation_removed"],
    )
    .await;
    let entry = id(&walk
        .step(
            ("POST", "/v1/tasks/{id}/time-entries"),
            &format!("/v1/tasks/{task}/time-entries"),
            &owner_token,
            Some(json!({"duration_seconds": 1800})),
            &["time_entry.created"],
        )
        .await);
    walk.step(
        ("DELETE", "/v1/time-entries/{id}"),
        &format!("/v1/time-entries/{entry}"),
        &owner_token,
        None,
        &["time_entry.deleted"],
    )
    .await;
    walk.step(
        ("POST", "/v1/tasks/{id}/timer/start"),
        &format!("/v1/tasks/{task}/timer/start"),
        &owner_token,
        None,
        &["time_entry.created"],
    )
    .await;
    walk.step(
        ("POST", "/v1/tasks/{id}/timer/stop"),
        &format!("/v1/tasks/{task}/timer/stop"),
        &owner_token,
        None,
        &["time_entry.stopped"],
    )
    .await;
    walk.step(
        ("DELETE", "/v1/labels/{id}"),
        &format!("/v1/labels/{label}"),
        &owner_token,
        None,
        &["label.deleted"],
    )
    .await;
    let boundary = "kanri-coverage";
    let upload = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"notes.txt\"\r\nContent-Type: text/plain\r\n\r\nhello\r\n--{boundary}--\r\n"
    );
    let res = app
        .as_user(
            Method::POST,
            &format!("/v1/tasks/{task}/attachments"),
            &owner_token,
        )
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(upload)
        .send()
        .await
        .unwrap();
    let (status, file) = read(res).await;
    assert_eq!(status, StatusCode::CREATED, "{file}");
    walk.mark("POST", "/v1/tasks/{id}/attachments");
    assert_eq!(walk.new_kinds().await, ["attachment.created"]);
    let file = id(&file);
    walk.step(
        ("DELETE", "/v1/attachments/{id}"),
        &format!("/v1/attachments/{file}"),
        &owner_token,
        None,
        &["attachment.deleted"],
    )
    .await;
    walk.step(
        ("DELETE", "/v1/tasks/{id}"),
        &format!("/v1/tasks/{task}"),
        &owner_token,
        None,
        &["task.deleted"],
    )
    .await;
    walk.step(
        ("DELETE", "/v1/projects/{id}/members/{user_id}"),
        &format!("/v1/projects/{project}/members/{}", member.user_id),
        &owner_token,
        None,
        &["project.member_removed"],
    )
    .await;
    // Export and the three imports.
    let export = id(&walk
        .step(
            ("POST", "/v1/workspaces/{id}/exports"),
            &format!("/v1/workspaces/{ws}/exports"),
            &owner_token,
            None,
            &["workspace.exported"],
        )
        .await);
    let board = json!({"name": "Coverage board", "lists": [{"id": "l1", "name": "To Do"}],
        "cards": [{"id": "c1", "name": "A card", "idList": "l1"}]});
    walk.step(
        ("POST", "/v1/workspaces/{id}/imports/trello"),
        &format!("/v1/workspaces/{ws}/imports/trello"),
        &owner_token,
        Some(board),
        &["workspace.imported"],
    )
    .await;
    let res = app
        .as_user(
            Method::POST,
            &format!("/v1/projects/{project}/imports/csv"),
            &owner_token,
        )
        .header("content-type", "text/csv")
        .body("title\nFrom a CSV\n")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    walk.mark("POST", "/v1/projects/{id}/imports/csv");
    assert_eq!(walk.new_kinds().await, ["workspace.imported"]);
    app.run_due_jobs(kanri::clock::now_ms()).await;
    let archive = app
        .as_user(
            Method::GET,
            &format!("/v1/workspaces/{ws}/exports/{export}/download"),
            &owner_token,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(archive.status(), StatusCode::OK);
    let archive = archive.bytes().await.unwrap();
    let res = app
        .request(Method::POST, "/v1/imports?remap_ids=true")
        .header("X-Api-Key", &walk.key)
        .header("content-type", "application/zip")
        .body(archive)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    walk.mark("POST", "/v1/imports");
    // Queued: its job's commit records the import.
    assert!(walk.new_kinds().await.is_empty());
    app.run_due_jobs(kanri::clock::now_ms()).await;
    assert_eq!(walk.new_kinds().await, ["workspace.imported"]);

    // Every event of the watched project reached its realtime stream, in order.
    let project_events: Vec<i64> = audit_log(&app, walk.key.as_str(), first_project_event - 1)
        .await
        .iter()
        .filter(|e| e["project_id"] == project.as_str())
        .map(|e| e["id"].as_i64().unwrap())
        .collect();
    let mut streamed = Vec::new();
    while streamed.len() < project_events.len() {
        streamed.push(stream.next_event().await.id.unwrap());
    }
    assert_eq!(streamed, project_events);

    // Seed routes (adapters over the same use cases).
    let org = walk
        .step(
            ("POST", "/organizations"),
            "/organizations",
            &owner_token,
            Some(json!({"name": "Seed Org"})),
            &["workspace.created"],
        )
        .await;
    let org = org["data"]["id"]
        .as_str()
        .or(org["organization"]["id"].as_str())
        .unwrap()
        .to_string();
    let invite = walk
        .step(
            ("POST", "/organizations/{id}/invitations"),
            &format!("/organizations/{org}/invitations"),
            &owner_token,
            Some(json!({"email": "seed@example.com", "role": "member"})),
            &["invitation.created"],
        )
        .await;
    let invite = invite["data"]["id"]
        .as_str()
        .or(invite["invitation"]["id"].as_str())
        .unwrap()
        .to_string();
    let (status, body) = app
        .answer_invitation("", &invite, "accept", &seed_token)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    walk.mark("POST", "/invitations/{id}/accept");
    assert_eq!(
        walk.new_kinds().await,
        ["member.added", "invitation.accepted"]
    );
    let seed_user_id = seed_user["data"]["user"]["id"]
        .as_str()
        .or(seed_user["user"]["id"].as_str())
        .unwrap()
        .to_string();
    walk.step(
        ("DELETE", "/organizations/{id}/members/{userId}"),
        &format!("/organizations/{org}/members/{seed_user_id}"),
        &owner_token,
        None,
        &["member.removed"],
    )
    .await;
    let seed_project = walk
        .step(
            ("POST", "/api/create-project"),
            "/api/create-project",
            &seed_token,
            Some(json!({"name": "Garden"})),
            &["workspace.created", "project.created"],
        )
        .await;
    let seed_project = seed_project["project"]["id"].as_str().unwrap().to_string();
    walk.step(
        ("POST", "/api/create-task"),
        "/api/create-task",
        &seed_token,
        Some(json!({"projectId": seed_project, "title": "Plant"})),
        &["task.created"],
    )
    .await;
    let p2 = walk
        .step(
            ("POST", "/api/projects"),
            "/api/projects",
            &owner_token,
            Some(json!({"name": "Seed 002", "workspaceId": ws})),
            &["project.created"],
        )
        .await;
    let p2 = id(&p2);
    walk.step(
        ("PATCH", "/api/projects/{projectId}"),
        &format!("/api/projects/{p2}"),
        &owner_token,
        Some(json!({"status": "on_hold"})),
        &["project.updated"],
    )
    .await;
    walk.step(
        ("POST", "/api/projects/{projectId}/add-member"),
        &format!("/api/projects/{p2}/add-member"),
        &owner_token,
        Some(json!({"email": "joiner@example.com"})),
        &["project.member_added"],
    )
    .await;
    walk.step(
        ("POST", "/api/workspace/add-member"),
        "/api/workspace/add-member",
        &owner_token,
        Some(json!({"email": "seed@example.com", "role": "MEMBER", "workspaceId": ws})),
        &["member.added"],
    )
    .await;
    walk.step(
        ("DELETE", "/v1/projects/{id}"),
        &format!("/v1/projects/{p2}"),
        &owner_token,
        None,
        &["project.deleted"],
    )
    .await;

    // Outgoing webhooks: endpoint changes are events; a test message and a manual retry only
    // queue deliveries. Deleted before any job runs, so nothing is sent.
    let hook = id(&walk
        .step(
            ("POST", "/v1/workspaces/{id}/webhooks"),
            &format!("/v1/workspaces/{ws}/webhooks"),
            &owner_token,
            Some(json!({"url": "https://example.com/hook", "events": ["task.*"]})),
            &["webhook.created"],
        )
        .await);
    walk.step(
        ("PATCH", "/v1/webhooks/{id}"),
        &format!("/v1/webhooks/{hook}"),
        &owner_token,
        Some(json!({"events": ["*"]})),
        &["webhook.updated"],
    )
    .await;
    walk.step(
        ("POST", "/v1/webhooks/{id}/rotate-secret"),
        &format!("/v1/webhooks/{hook}/rotate-secret"),
        &owner_token,
        None,
        &["webhook.updated"],
    )
    .await;
    let test = id(&walk
        .step(
            ("POST", "/v1/webhooks/{id}/test"),
            &format!("/v1/webhooks/{hook}/test"),
            &owner_token,
            None,
            &[],
        )
        .await);
    walk.step(
        ("POST", "/v1/webhooks/{id}/deliveries/{delivery_id}/retry"),
        &format!("/v1/webhooks/{hook}/deliveries/{test}/retry"),
        &owner_token,
        None,
        &[],
    )
    .await;
    // The operator's retry of the same delivery, with the secret key: no event either.
    let (status, body) = read(
        admin(
            Method::POST,
            &format!("/v1/admin/webhooks/{hook}/deliveries/{test}/retry"),
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    walk.mark(
        "POST",
        "/v1/admin/webhooks/{id}/deliveries/{delivery_id}/retry",
    );
    assert!(walk.new_kinds().await.is_empty());
    walk.step(
        ("DELETE", "/v1/webhooks/{id}"),
        &format!("/v1/webhooks/{hook}"),
        &owner_token,
        None,
        &["webhook.deleted"],
    )
    .await;

    // Password reset completes with the emailed token.
    for (prefix, email) in [
        ("/v1/auth", "joiner@example.com"),
        ("/auth", "member@example.com"),
    ] {
        walk.reset_password(prefix, email).await;
    }

    walk.two_factor().await;

    // Last, the workspace goes (its own events with it; its deletion stays at tenant level).
    walk.step(
        ("DELETE", "/v1/workspaces/{id}/members/{user_id}"),
        &format!("/v1/workspaces/{ws}/members/{}", joiner.user_id),
        &owner_token,
        None,
        &["member.removed"],
    )
    .await;
    walk.step(
        ("DELETE", "/v1/workspaces/{id}"),
        &format!("/v1/workspaces/{ws}"),
        &owner_token,
        None,
        &["workspace.deleted"],
    )
    .await;

    let served = mutating_routes(&app).await;
    let quiet: BTreeSet<String> = NO_EVENT
        .iter()
        .map(|(m, p, _)| format!("{m} {p}"))
        .collect();
    let unclassified: Vec<&String> = served
        .iter()
        .filter(|r| !walk.called.contains(*r) && !quiet.contains(*r))
        .collect();
    assert!(
        unclassified.is_empty(),
        "routes with no event check: {unclassified:?}"
    );
    let stale: Vec<&String> = walk
        .called
        .union(&quiet)
        .filter(|r| !served.contains(*r))
        .collect();
    assert!(
        stale.is_empty(),
        "checked routes that are not served: {stale:?}"
    );
}
