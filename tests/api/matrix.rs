//! The role × action matrix: every canonical `/v1` route of the collaboration core, called by
//! an owner, an admin, a member, a viewer, a user of the tenant outside the workspace and a user
//! of another tenant. Each state-changing call acts on a fresh target the owner makes for that
//! caller, so every caller faces the same state and the expected status is about permission
//! only; and the target's state changes if and only if the call succeeded.

use std::cell::Cell;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{SignedIn, TestApp, read};

const CALLERS: [&str; 6] = [
    "owner",
    "admin",
    "member",
    "viewer",
    "non-member",
    "other tenant",
];
const OWNER: usize = 0;
const ADMIN: usize = 1;
const MEMBER: usize = 2;
const VIEWER: usize = 3;

/// One row per action: the status each caller gets, in `CALLERS` order, then the request and
/// its JSON body. `{ws}`, `{project}`, `{task}` and `{role}` are the shared setup (member and
/// viewer belong to the project); any other placeholder is a fresh target made by `fresh`.
const MATRIX: &str = r#"
# action                 | own adm mem vwr non oth | request
list my workspaces       | 200 200 200 200 200 200 | GET /v1/workspaces
create workspace         | 201 201 201 201 201 201 | POST /v1/workspaces {"name":"Mine"}
get workspace            | 200 200 200 200 404 404 | GET /v1/workspaces/{ws}
update workspace         | 200 200 403 403 404 404 | PATCH /v1/workspaces/{new_ws} {"name":"Renamed"}
delete workspace         | 200 403 403 403 404 404 | DELETE /v1/workspaces/{new_ws}
list members             | 200 200 200 200 404 404 | GET /v1/workspaces/{ws}/members
add member               | 201 201 403 403 404 404 | POST /v1/workspaces/{ws}/members {"user_id":"{outsider}","role":"MEMBER"}
change member role       | 200 200 403 403 404 404 | PATCH /v1/workspaces/{ws}/members/{ws_member} {"role":"VIEWER"}
remove member            | 200 200 403 403 404 404 | DELETE /v1/workspaces/{ws}/members/{ws_member}
create invitation        | 201 201 403 403 404 404 | POST /v1/workspaces/{ws}/invitations {"email":"{new_email}"}
list invitations         | 200 200 403 403 404 404 | GET /v1/workspaces/{ws}/invitations
revoke invitation        | 200 200 403 403 404 404 | DELETE /v1/invitations/{new_invitation}
accept someone's invite  | 404 404 404 404 404 404 | POST /v1/invitations/{new_invitation}/accept {"token":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}
reject someone's invite  | 404 404 404 404 404 404 | POST /v1/invitations/{new_invitation}/reject {"token":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}
list my invitations      | 200 200 200 200 200 200 | GET /v1/invitations
list roles               | 200 200 200 200 200 200 | GET /v1/roles
get role                 | 200 200 200 200 200 404 | GET /v1/roles/{role}
create role (session)    | 403 403 403 403 403 403 | POST /v1/roles {"name":"Sneaky","permissions":["*"]}
delete role (session)    | 403 403 403 403 403 403 | DELETE /v1/roles/{new_role}
list projects            | 200 200 200 200 404 404 | GET /v1/workspaces/{ws}/projects
create project           | 201 201 403 403 404 404 | POST /v1/workspaces/{ws}/projects {"name":"New"}
get project              | 200 200 200 200 404 404 | GET /v1/projects/{project}
get unjoined project     | 200 200 404 404 404 404 | GET /v1/projects/{private_project}
update project           | 200 200 403 403 404 404 | PATCH /v1/projects/{new_project} {"priority":"LOW"}
delete project           | 200 200 403 403 404 404 | DELETE /v1/projects/{new_project}
delete unjoined project  | 200 200 404 404 404 404 | DELETE /v1/projects/{private_project}
list project members     | 200 200 200 200 404 404 | GET /v1/projects/{project}/members
add project member       | 201 201 403 403 404 404 | POST /v1/projects/{project}/members {"user_id":"{ws_member}"}
remove project member    | 200 200 403 403 404 404 | DELETE /v1/projects/{project}/members/{project_member}
list activity            | 200 200 200 200 404 404 | GET /v1/projects/{project}/activity
list tasks               | 200 200 200 200 404 404 | GET /v1/projects/{project}/tasks
create task              | 201 201 201 403 404 404 | POST /v1/projects/{project}/tasks {"title":"New"}
get task                 | 200 200 200 200 404 404 | GET /v1/tasks/{task}
update task              | 200 200 200 403 404 404 | PATCH /v1/tasks/{new_task} {"title":"Renamed"}
delete task              | 200 200 200 403 404 404 | DELETE /v1/tasks/{new_task}
bulk status              | 200 200 200 403 404 404 | POST /v1/projects/{project}/tasks/bulk-status {"task_ids":["{new_task}"],"status":"DONE"}
list comments            | 200 200 200 200 404 404 | GET /v1/tasks/{task}/comments
create comment           | 201 201 201 403 404 404 | POST /v1/tasks/{task}/comments {"content":"Hi"}
edit member's comment    | 403 403 200 403 404 404 | PATCH /v1/comments/{member_comment} {"content":"Edited"}
delete member's comment  | 200 200 200 403 404 404 | DELETE /v1/comments/{member_comment}
delete admin's comment   | 200 200 403 403 404 404 | DELETE /v1/comments/{admin_comment}
"#;

struct World {
    app: TestApp,
    publishable_key: String,
    secret_key: String,
    /// One per caller, in `CALLERS` order.
    users: Vec<SignedIn>,
    ws: String,
    project: String,
    task: String,
    role: String,
    counter: Cell<usize>,
}

/// Posts as `token`, expecting 201; returns the created resource.
async fn post(app: &TestApp, token: &str, path: &str, body: Value) -> Value {
    let (status, body) = app.call(Method::POST, path, token, Some(body)).await;
    assert_eq!(status, StatusCode::CREATED, "POST {path}: {body}");
    body["data"].clone()
}

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_string()
}

/// Creates a custom role with the tenant's secret key.
async fn create_role(app: &TestApp, secret_key: &str, name: &str) -> String {
    let req = app.request(Method::POST, "/v1/roles");
    let req = req.header("X-Api-Key", secret_key);
    let res = req.json(&json!({"name": name, "permissions": ["tasks:read"]}));
    let (status, body) = read(res.send().await.unwrap()).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    id(&body["data"])
}

/// The `{name}` placeholders in a row's text (JSON objects' braces are not names).
fn placeholders(s: &str) -> Vec<&str> {
    s.split('{')
        .skip(1)
        .filter_map(|rest| rest.split_once('}').map(|(name, _)| name))
        .filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'))
        .collect()
}

async fn world() -> World {
    let app = TestApp::spawn_with(|c| c.auth.multi_tenant = true).await;
    let acme = app.create_tenant("Acme").await;
    let other = app.create_tenant("Other").await;
    let mut users = Vec::new();
    for who in CALLERS {
        let key = match who {
            "other tenant" => &other.publishable_key,
            _ => &acme.publishable_key,
        };
        let email = format!("{}@example.com", who.replace(' ', "-"));
        users.push(app.register_with(&email, Some(key)).await);
    }
    let owner = &users[OWNER].token;
    let ws = app.create_workspace(owner, "Team").await;
    for (i, role) in [(ADMIN, "ADMIN"), (MEMBER, "MEMBER"), (VIEWER, "VIEWER")] {
        app.add_member(owner, &ws, &users[i], role).await;
    }
    let members = [&users[MEMBER].user_id, &users[VIEWER].user_id];
    let project = app
        .create_project(owner, &ws, json!({"name": "Shared", "members": members}))
        .await;
    let tasks = format!("/v1/projects/{project}/tasks");
    let task = id(&post(&app, owner, &tasks, json!({"title": "Shared"})).await);
    let comments = format!("/v1/tasks/{task}/comments");
    post(
        &app,
        &users[MEMBER].token,
        &comments,
        json!({"content": "By the member"}),
    )
    .await;
    let role = create_role(&app, &acme.secret_key, "Reader").await;
    World {
        app,
        publishable_key: acme.publishable_key,
        secret_key: acme.secret_key,
        users,
        ws,
        project,
        task,
        role,
        counter: Cell::new(0),
    }
}

/// Makes a fresh target of `kind`, as the owner (a comment as its author). Returns its id and
/// the reads, as the owner, that show its state.
async fn fresh(w: &World, kind: &str) -> (String, Vec<String>) {
    let (app, ws, project, task) = (&w.app, &w.ws, &w.project, &w.task);
    let n = w.counter.replace(w.counter.get() + 1);
    let owner = &w.users[OWNER].token;
    let invitations = format!("/v1/workspaces/{ws}/invitations?limit=100");
    match kind {
        "new_ws" => {
            let id = app.create_workspace(owner, &format!("Fresh {n}")).await;
            for (i, role) in [(ADMIN, "ADMIN"), (MEMBER, "MEMBER"), (VIEWER, "VIEWER")] {
                app.add_member(owner, &id, &w.users[i], role).await;
            }
            let read = format!("/v1/workspaces/{id}");
            (id, vec![read])
        }
        "new_project" | "private_project" => {
            let members = match kind {
                "new_project" => vec![&w.users[MEMBER].user_id, &w.users[VIEWER].user_id],
                _ => vec![],
            };
            let body = json!({"name": format!("Fresh {n}"), "members": members});
            let id = app.create_project(owner, ws, body).await;
            let read = format!("/v1/projects/{id}");
            (id, vec![read])
        }
        "new_task" => {
            let path = format!("/v1/projects/{project}/tasks");
            let id = id(&post(app, owner, &path, json!({"title": format!("Fresh {n}")})).await);
            let read = format!("/v1/tasks/{id}");
            (id, vec![read])
        }
        "member_comment" | "admin_comment" => {
            let author = if kind == "member_comment" {
                MEMBER
            } else {
                ADMIN
            };
            let path = format!("/v1/tasks/{task}/comments");
            let body = json!({"content": format!("Fresh {n}")});
            let id = id(&post(app, &w.users[author].token, &path, body).await);
            (id, vec![format!("{path}?limit=100")])
        }
        // A user of the tenant: outside the workspace, in it, or also in the project.
        "outsider" | "ws_member" | "project_member" => {
            let email = format!("fresh{n}@example.com");
            let user = app.register_with(&email, Some(&w.publishable_key)).await;
            if kind != "outsider" {
                app.add_member(owner, ws, &user, "MEMBER").await;
            }
            let project_members = format!("/v1/projects/{project}/members?limit=100");
            if kind == "project_member" {
                post(
                    app,
                    owner,
                    &project_members,
                    json!({"user_id": user.user_id}),
                )
                .await;
            }
            let members = format!("/v1/workspaces/{ws}/members?limit=100");
            (user.user_id, vec![members, project_members])
        }
        "new_email" => (format!("invitee{n}@example.com"), vec![invitations]),
        "new_invitation" => {
            let body = json!({"email": format!("invitee{n}@example.com")});
            let path = format!("/v1/workspaces/{ws}/invitations");
            (id(&post(app, owner, &path, body).await), vec![invitations])
        }
        "new_role" => {
            let id = create_role(app, &w.secret_key, &format!("Fresh {n}")).await;
            let read = format!("/v1/roles/{id}");
            (id, vec![read])
        }
        other => panic!("no fresh target {{{other}}}"),
    }
}

impl World {
    /// Fills a row's placeholders, making its fresh target if it has one; returns the path, the
    /// body and the reads that show the target's state (none without a fresh target).
    async fn fill(&self, path: &str, body: Option<&str>) -> (String, Option<Value>, Vec<String>) {
        let mut values = vec![
            ("ws", self.ws.clone()),
            ("project", self.project.clone()),
            ("task", self.task.clone()),
            ("role", self.role.clone()),
        ];
        let text = format!("{path} {}", body.unwrap_or_default());
        let mut reads = Vec::new();
        let shared = |p: &&str| values.iter().any(|(k, _)| k == p);
        let kind = placeholders(&text).into_iter().find(|p| !shared(p));
        if let Some(kind) = kind {
            let (id, target_reads) = fresh(self, kind).await;
            values.push((kind, id));
            reads = target_reads;
        }
        let fill = |s: &str| {
            let filled = values
                .iter()
                .fold(s.to_string(), |s, (k, v)| s.replace(&format!("{{{k}}}"), v));
            assert!(placeholders(&filled).is_empty(), "unfilled: {filled}");
            filled
        };
        let body = body.map(|b| serde_json::from_str(&fill(b)).expect("row body is JSON"));
        (fill(path), body, reads)
    }

    async fn snapshot(&self, reads: &[String]) -> Vec<(StatusCode, Value)> {
        let mut out = Vec::new();
        for path in reads {
            let token = &self.users[OWNER].token;
            out.push(self.app.call(Method::GET, path, token, None).await);
        }
        out
    }
}

#[tokio::test]
async fn every_route_for_every_role() {
    let w = world().await;
    let rows = MATRIX.lines().map(str::trim);
    for row in rows.filter(|l| !l.is_empty() && !l.starts_with('#')) {
        let cols: Vec<&str> = row.split('|').map(str::trim).collect();
        let [action, wants, request] = cols[..] else {
            panic!("bad row: {row}");
        };
        let wants: Vec<u16> = wants.split(' ').map(|s| s.parse().unwrap()).collect();
        assert_eq!(wants.len(), CALLERS.len(), "{action}");
        let mut parts = request.splitn(3, ' ');
        let method: Method = parts.next().unwrap().parse().unwrap();
        let (path, body) = (parts.next().unwrap(), parts.next());

        for ((who, user), want) in CALLERS.iter().zip(&w.users).zip(wants) {
            let want = StatusCode::from_u16(want).unwrap();
            let (path, body, reads) = w.fill(path, body).await;
            let before = w.snapshot(&reads).await;
            let (status, resp) = w.app.call(method.clone(), &path, &user.token, body).await;
            assert_eq!(status, want, "{action} as {who}: {method} {path}: {resp}");
            let code = match status {
                // A session on a secret-key route says which credential it needs.
                StatusCode::FORBIDDEN if action.ends_with("(session)") => "secret_key_required",
                StatusCode::FORBIDDEN => "forbidden",
                StatusCode::NOT_FOUND => "not_found",
                _ => "",
            };
            if !code.is_empty() {
                assert_eq!(resp["code"], code, "{action} as {who}: {resp}");
            }
            if method != Method::GET && !reads.is_empty() {
                let changed = w.snapshot(&reads).await != before;
                assert_eq!(
                    changed,
                    status.is_success(),
                    "{action} as {who}: the target changed iff the call succeeded"
                );
            }
        }
    }
}
