//! The seeds' project, task and comment routes, with their request and response shapes:
//! seed 000's `/api/create-project`, `/api/list-projects` and `/api/create-task` (a personal
//! workspace per user), and seed 002's `/api/projects…`, `/api/tasks/project/…` and
//! `/api/comments/task/…` (workspaces, users by email, `{success, message, data}`).

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{SignedIn, TestApp};

fn keys(v: &Value) -> Vec<&str> {
    let mut keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    keys
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// Creates a project through seed 000 and returns its id.
async fn seed_project(app: &TestApp, token: &str, name: &str) -> String {
    let (status, body) = app
        .call(
            Method::POST,
            "/api/create-project",
            token,
            Some(json!({"name": name, "description": format!("{name} description")})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["project"]["id"].as_str().unwrap().to_string()
}

async fn seed_list(app: &TestApp, token: &str) -> Value {
    let (status, body) = app
        .call(Method::GET, "/api/list-projects", token, None)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(keys(&body), ["from_cache", "projects", "success"]);
    assert_eq!(body["success"], true);
    // Whether it came from the cache is tests/api/cache.rs's concern.
    assert!(body["from_cache"].is_boolean());
    body
}

fn names(list: &Value) -> Vec<&str> {
    list["projects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn seed_000_create_project_and_list_projects() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice@example.com").await;
    let bob = app.register("bob@example.com").await;

    // The name needs three characters.
    let (status, body) = app
        .call(
            Method::POST,
            "/api/create-project",
            &alice.token,
            Some(json!({"name": "ab", "description": "too short"})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["details"][0]["field"], "name");
    let (status, _) = app
        .call(
            Method::POST,
            "/api/create-project",
            &alice.token,
            Some(json!({"description": "no name"})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

    let before = now_ms();
    let (status, body) = app
        .call(
            Method::POST,
            "/api/create-project",
            &alice.token,
            Some(json!({"name": "Website", "description": "New site"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(keys(&body), ["project", "success"]);
    assert_eq!(body["success"], true);
    let p = &body["project"];
    assert_eq!(
        keys(p),
        ["created_at", "description", "id", "name", "userId"]
    );
    assert_eq!(p["userId"], alice.user_id.as_str());
    assert_eq!(p["name"], "Website");
    assert_eq!(p["description"], "New site");
    let created_at = p["created_at"].as_i64().expect("epoch ms number");
    assert!(created_at >= before - 1000 && created_at <= now_ms() + 1000);
    let website = p["id"].as_str().unwrap().to_string();

    // The project lives in alice's personal workspace, which she owns.
    let (status, body) = app
        .call(
            Method::GET,
            &format!("/v1/projects/{website}"),
            &alice.token,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let personal = body["data"]["workspace_id"].as_str().unwrap().to_string();
    let (_, body) = app
        .call(
            Method::GET,
            &format!("/v1/workspaces/{personal}"),
            &alice.token,
            None,
        )
        .await;
    assert_eq!(body["data"]["owner_id"], alice.user_id.as_str());
    assert_eq!(body["data"]["role"], "OWNER");

    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    seed_project(&app, &alice.token, "Mobile app").await;
    // A project in another of alice's workspaces is not part of the single-user world.
    let team = app.create_workspace(&alice.token, "Team").await;
    app.create_project(&alice.token, &team, json!({"name": "Team only"}))
        .await;

    let list = seed_list(&app, &alice.token).await;
    assert_eq!(names(&list), ["Mobile app", "Website"], "newest first");
    for row in list["projects"].as_array().unwrap() {
        assert_eq!(
            keys(row),
            [
                "created_at",
                "description",
                "id",
                "name",
                "updated_at",
                "user_id"
            ]
        );
        assert_eq!(row["user_id"], alice.user_id.as_str());
        assert!(row["created_at"].is_i64() && row["updated_at"].is_i64());
    }
    assert_eq!(list["projects"][1]["created_at"], created_at);
    assert_eq!(list["projects"][1]["description"], "New site");

    // Touching a project moves it to the front: the order is by `updated_at`.
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let (status, _) = app
        .call(
            Method::PATCH,
            &format!("/v1/projects/{website}"),
            &alice.token,
            Some(json!({"description": "Relaunch"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let list = seed_list(&app, &alice.token).await;
    assert_eq!(names(&list), ["Website", "Mobile app"]);
    let first = &list["projects"][0];
    assert!(first["updated_at"].as_i64().unwrap() > first["created_at"].as_i64().unwrap());

    // Bob's world is his own: empty at first, then only his project.
    assert_eq!(
        names(&seed_list(&app, &bob.token).await),
        Vec::<&str>::new()
    );
    seed_project(&app, &bob.token, "Bob's garden").await;
    assert_eq!(names(&seed_list(&app, &bob.token).await), ["Bob's garden"]);
    assert_eq!(
        names(&seed_list(&app, &alice.token).await),
        ["Website", "Mobile app"]
    );

    // Signed-out callers get the error envelope.
    let (status, body) = crate::helpers::read(app.get("/api/list-projects").await).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
}

#[tokio::test]
async fn seed_000_create_task() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice@example.com").await;
    let bob = app.register("bob@example.com").await;
    let project = seed_project(&app, &alice.token, "Website").await;

    let (status, body) = app
        .call(
            Method::POST,
            "/api/create-task",
            &alice.token,
            Some(json!({"projectId": project, "title": "Write copy"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(keys(&body), ["success", "task"]);
    assert_eq!(body["success"], true);
    let task = &body["task"];
    assert_eq!(
        keys(task),
        ["attachmentUrl", "id", "projectId", "status", "title"]
    );
    assert_eq!(task["projectId"], project.as_str());
    assert_eq!(task["title"], "Write copy");
    assert_eq!(task["status"], "todo");
    assert!(task["attachmentUrl"].is_null());

    // dueDate as epoch milliseconds, with an assignee and a description.
    let (status, body) = app
        .call(
            Method::POST,
            "/api/create-task",
            &alice.token,
            Some(json!({
                "projectId": project, "title": "Launch", "description": "Go live",
                "assignedTo": alice.user_id, "dueDate": 1_769_878_800_000_i64
            })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let id = body["task"]["id"].as_str().unwrap();
    let (_, body) = app
        .call(Method::GET, &format!("/v1/tasks/{id}"), &alice.token, None)
        .await;
    assert_eq!(body["data"]["due_date"], "2026-01-31T17:00:00.000Z");
    assert_eq!(body["data"]["assignee_id"], alice.user_id.as_str());
    assert_eq!(body["data"]["description"], "Go live");

    // dueDate as a string: a date or an RFC 3339 time.
    for (due, stored) in [
        ("2026-01-31", "2026-01-31T00:00:00.000Z"),
        ("2026-01-31T18:00:00+01:00", "2026-01-31T17:00:00.000Z"),
    ] {
        let (status, body) = app
            .call(
                Method::POST,
                "/api/create-task",
                &alice.token,
                Some(json!({"projectId": project, "title": "Dated", "dueDate": due})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let id = body["task"]["id"].as_str().unwrap();
        let (_, body) = app
            .call(Method::GET, &format!("/v1/tasks/{id}"), &alice.token, None)
            .await;
        assert_eq!(body["data"]["due_date"], stored);
    }

    // Bad input is a 422 naming the field.
    for (body, field) in [
        (
            json!({"projectId": project, "title": "x", "dueDate": "soon"}),
            "dueDate",
        ),
        (
            json!({"projectId": project, "title": "x", "dueDate": true}),
            "dueDate",
        ),
        (
            json!({"projectId": project, "title": "x", "dueDate": 1.5}),
            "dueDate",
        ),
        (json!({"projectId": project}), "title"),
        (
            json!({"projectId": project, "title": "x", "assignedTo": bob.user_id}),
            "assignee_id",
        ),
    ] {
        let (status, resp) = app
            .call(
                Method::POST,
                "/api/create-task",
                &alice.token,
                Some(body.clone()),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {resp}");
        assert_eq!(resp["details"][0]["field"], field, "{body}: {resp}");
    }

    // Another user's project, or one that does not exist, is not found.
    for project_id in [project.as_str(), "no-such-project"] {
        let (status, body) = app
            .call(
                Method::POST,
                "/api/create-task",
                &bob.token,
                Some(json!({"projectId": project_id, "title": "Sneak in"})),
            )
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    }

    // A project the caller can see but not add tasks to (a viewer) is not found either.
    let team = app.create_workspace(&alice.token, "Team").await;
    app.add_member(&alice.token, &team, &bob, "VIEWER").await;
    let shared = app
        .create_project(
            &alice.token,
            &team,
            json!({"name": "Shared", "members": [bob.user_id]}),
        )
        .await;
    let (status, _) = app
        .call(
            Method::GET,
            &format!("/v1/projects/{shared}"),
            &bob.token,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = app
        .call(
            Method::POST,
            "/api/create-task",
            &bob.token,
            Some(json!({"projectId": shared, "title": "Viewer task"})),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    // …while the owner may add tasks to any project she may create tasks in.
    let (status, body) = app
        .call(
            Method::POST,
            "/api/create-task",
            &alice.token,
            Some(json!({"projectId": shared, "title": "Team task"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

struct Team {
    owner: SignedIn,
    admin: SignedIn,
    lead: SignedIn,
    member: SignedIn,
    other: SignedIn,
    outsider: SignedIn,
    ws: String,
}

async fn team(app: &TestApp) -> Team {
    let owner = app.register("owner@example.com").await;
    let admin = app.register("admin@example.com").await;
    let lead = app.register("lead@example.com").await;
    let member = app.register("member@example.com").await;
    let other = app.register("other@example.com").await;
    let outsider = app.register("outsider@example.com").await;
    let ws = app.create_workspace(&owner.token, "Team").await;
    app.add_member(&owner.token, &ws, &admin, "ADMIN").await;
    app.add_member(&owner.token, &ws, &lead, "MEMBER").await;
    app.add_member(&owner.token, &ws, &member, "MEMBER").await;
    app.add_member(&owner.token, &ws, &other, "MEMBER").await;
    Team {
        owner,
        admin,
        lead,
        member,
        other,
        outsider,
        ws,
    }
}

#[tokio::test]
async fn seed_002_projects_with_users_by_email() {
    let app = TestApp::spawn().await;
    let t = team(&app).await;

    let (status, body) = app
        .call(
            Method::POST,
            "/api/projects",
            &t.admin.token,
            Some(json!({
                "name": "Project Name", "description": "Optional description",
                "workspaceId": t.ws, "team_lead": "lead@example.com",
                "team_members": ["member@example.com"],
                "status": "ACTIVE", "priority": "HIGH",
                "start_date": "2025-01-01", "end_date": "2025-02-01"
            })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(keys(&body), ["data", "message", "success"]);
    assert_eq!(body["success"], true);
    assert_eq!(body["message"], "Project created successfully");
    let p = &body["data"];
    assert_eq!(p["name"], "Project Name");
    assert_eq!(p["workspace_id"], t.ws.as_str());
    assert_eq!(p["team_lead_id"], t.lead.user_id.as_str());
    assert_eq!(p["created_by"], t.admin.user_id.as_str());
    assert_eq!(p["status"], "ACTIVE");
    assert_eq!(p["priority"], "HIGH");
    assert_eq!(p["start_date"], "2025-01-01T00:00:00.000Z");
    assert_eq!(p["end_date"], "2025-02-01T00:00:00.000Z");
    let id = p["id"].as_str().unwrap().to_string();
    let (_, body) = app
        .call(
            Method::GET,
            &format!("/v1/projects/{id}/members"),
            &t.admin.token,
            None,
        )
        .await;
    let mut member_ids: Vec<&str> = body["data"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["user_id"].as_str().unwrap())
        .collect();
    member_ids.sort_unstable();
    let mut want = vec![t.lead.user_id.as_str(), t.member.user_id.as_str()];
    want.sort_unstable();
    assert_eq!(member_ids, want);

    // Status IN_PROGRESS (seed 002's PATCH example) is read as ACTIVE; defaults otherwise.
    let (status, body) = app
        .call(
            Method::POST,
            "/api/projects",
            &t.owner.token,
            Some(json!({"name": "Second", "workspaceId": t.ws, "status": "in_progress"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["data"]["status"], "ACTIVE");
    assert_eq!(
        body["data"]["team_lead_id"],
        t.owner.user_id.as_str(),
        "the creator leads when no team_lead is sent"
    );

    // Users must be in the workspace; unknown emails and bad values are refused.
    for (body, field) in [
        (
            json!({"name": "P", "workspaceId": t.ws, "team_lead": "outsider@example.com"}),
            "team_lead",
        ),
        (
            json!({"name": "P", "workspaceId": t.ws, "team_lead": "nobody@example.com"}),
            "team_lead",
        ),
        (
            json!({"name": "P", "workspaceId": t.ws, "team_members": ["outsider@example.com"]}),
            "members",
        ),
        (
            json!({"name": "P", "workspaceId": t.ws, "status": "DONE"}),
            "status",
        ),
        (json!({"workspaceId": t.ws}), "name"),
    ] {
        let (status, resp) = app
            .call(
                Method::POST,
                "/api/projects",
                &t.admin.token,
                Some(body.clone()),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {resp}");
        assert_eq!(resp["details"][0]["field"], field, "{body}: {resp}");
    }
    // Only admins create.
    let (status, _) = app
        .call(
            Method::POST,
            "/api/projects",
            &t.member.token,
            Some(json!({"name": "Mine", "workspaceId": t.ws})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // The team lead updates; partial, IN_PROGRESS maps to ACTIVE.
    let path = format!("/api/projects/{id}");
    let (status, _) = app
        .call(
            Method::PATCH,
            &path,
            &t.admin.token,
            Some(json!({"status": "on_hold"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = app
        .call(
            Method::PATCH,
            &path,
            &t.lead.token,
            Some(json!({
                "name": "Updated Name", "status": "IN_PROGRESS", "priority": "MEDIUM",
                "end_date": "2025-03-01"
            })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(keys(&body), ["data", "message", "success"]);
    assert_eq!(body["message"], "Project updated successfully");
    assert_eq!(body["data"]["name"], "Updated Name");
    assert_eq!(body["data"]["status"], "ACTIVE");
    assert_eq!(body["data"]["priority"], "MEDIUM");
    assert_eq!(body["data"]["end_date"], "2025-03-01T00:00:00.000Z");
    assert_eq!(body["data"]["description"], "Optional description");
    assert_eq!(body["data"]["start_date"], "2025-01-01T00:00:00.000Z");
    // A plain project member may not; a new lead is named by email.
    let (status, _) = app
        .call(
            Method::PATCH,
            &path,
            &t.member.token,
            Some(json!({"name": "Nope"})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, body) = app
        .call(
            Method::PATCH,
            &path,
            &t.admin.token,
            Some(json!({"team_lead": "member@example.com"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["team_lead_id"], t.member.user_id.as_str());
    let (status, body) = app
        .call(
            Method::PATCH,
            &path,
            &t.admin.token,
            Some(json!({"team_lead": "outsider@example.com"})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");

    // Adding a member by email answers with their id; twice is a conflict.
    let add = format!("/api/projects/{id}/add-member");
    let (status, body) = app
        .call(
            Method::POST,
            &add,
            &t.member.token,
            Some(json!({"email": "other@example.com"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(keys(&body), ["data", "message", "success"]);
    assert_eq!(body["message"], "Member added successfully");
    assert_eq!(keys(&body["data"]), ["userId"]);
    assert_eq!(body["data"]["userId"], t.other.user_id.as_str());
    let (status, _) = app
        .call(
            Method::POST,
            &add,
            &t.member.token,
            Some(json!({"email": "other@example.com"})),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    for email in ["outsider@example.com", "nobody@example.com"] {
        let (status, body) = app
            .call(
                Method::POST,
                &add,
                &t.admin.token,
                Some(json!({"email": email})),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{email}: {body}");
    }

    // The workspace's projects, as a plain array; members see the ones they belong to.
    let list = format!("/api/projects/workspace/{}/projects", t.ws);
    let (status, body) = app.call(Method::GET, &list, &t.admin.token, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(keys(&body), ["data", "success"]);
    let all = body["data"].as_array().unwrap();
    assert_eq!(all.len(), 2);
    assert!(all.iter().all(|p| p["workspace_id"] == t.ws.as_str()));
    assert!(all.iter().any(|p| p["id"] == id.as_str()));
    let (_, body) = app.call(Method::GET, &list, &t.other.token, None).await;
    let mine = body["data"].as_array().unwrap();
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0]["id"], id.as_str());
    let (status, _) = app.call(Method::GET, &list, &t.outsider.token, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "a non-member learns nothing");
}

#[tokio::test]
async fn seed_002_tasks_with_comments_and_comments_with_users() {
    let app = TestApp::spawn().await;
    let t = team(&app).await;
    let project = app
        .create_project(
            &t.admin.token,
            &t.ws,
            json!({"name": "Board", "team_lead": t.lead.user_id, "members": [t.member.user_id]}),
        )
        .await;
    let mut task_ids = Vec::new();
    for (title, assignee) in [
        ("First", Some(&t.member.user_id)),
        ("Second", None),
        ("Third", Some(&t.lead.user_id)),
    ] {
        let (status, body) = app
            .call(
                Method::POST,
                &format!("/v1/projects/{project}/tasks"),
                &t.lead.token,
                Some(json!({"title": title, "assignee_id": assignee})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        task_ids.push(body["data"]["id"].as_str().unwrap().to_string());
    }
    for (token, content) in [(&t.member.token, "Looks good"), (&t.lead.token, "Thanks")] {
        let (status, body) = app
            .call(
                Method::POST,
                &format!("/v1/tasks/{}/comments", task_ids[0]),
                token,
                Some(json!({"content": content})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }

    let (status, body) = app
        .call(
            Method::GET,
            &format!("/api/tasks/project/{project}/tasks"),
            &t.member.token,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(keys(&body), ["data", "success"]);
    let tasks = body["data"].as_array().unwrap();
    let titles: Vec<&str> = tasks.iter().map(|t| t["title"].as_str().unwrap()).collect();
    assert_eq!(titles, ["First", "Second", "Third"], "board order");
    let first = &tasks[0];
    assert_eq!(first["project_id"], project.as_str());
    assert_eq!(first["status"], "TODO");
    assert_eq!(first["assignee"]["id"], t.member.user_id.as_str());
    assert_eq!(first["assignee"]["email"], "member@example.com");
    assert_eq!(first["comments_count"], 2);
    let comments = first["comments"].as_array().unwrap();
    assert_eq!(comments.len(), 2);
    assert_eq!(comments[0]["content"], "Looks good");
    assert_eq!(comments[0]["author"]["id"], t.member.user_id.as_str());
    assert_eq!(comments[1]["author"]["email"], "lead@example.com");
    assert_eq!(tasks[1]["comments"], json!([]));
    assert!(tasks[1]["assignee"].is_null());

    let (status, body) = app
        .call(
            Method::GET,
            &format!("/api/comments/task/{}/comments", task_ids[0]),
            &t.admin.token,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(keys(&body), ["data", "success"]);
    let comments = body["data"].as_array().unwrap();
    assert_eq!(comments.len(), 2);
    for c in comments {
        assert!(c["user"].is_object(), "{c}");
        assert_eq!(c["user"], c["author"]);
        assert_eq!(c["task_id"], task_ids[0].as_str());
    }
    assert_eq!(comments[0]["user"]["id"], t.member.user_id.as_str());
    assert_eq!(comments[0]["user"]["name"], "Test User");
    let (_, body) = app
        .call(
            Method::GET,
            &format!("/api/comments/task/{}/comments", task_ids[1]),
            &t.admin.token,
            None,
        )
        .await;
    assert_eq!(body["data"], json!([]));
}

/// The comments of every task come in one query; each task still gets its own, oldest first.
#[tokio::test]
async fn seed_002_task_list_gives_each_task_its_own_comments() {
    let app = TestApp::spawn().await;
    let owner = app.register("owner@example.com").await;
    let ws = app.create_workspace(&owner.token, "Team").await;
    let project = app
        .create_project(&owner.token, &ws, json!({"name": "Board"}))
        .await;
    let mut task_ids = Vec::new();
    for title in ["A", "B", "C", "D"] {
        let (status, body) = app
            .call(
                Method::POST,
                &format!("/v1/projects/{project}/tasks"),
                &owner.token,
                Some(json!({"title": title})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        task_ids.push(body["data"]["id"].as_str().unwrap().to_string());
    }
    // Interleaved across tasks; task C gets none.
    for (task, content) in [
        (0, "A1"),
        (3, "D1"),
        (1, "B1"),
        (0, "A2"),
        (3, "D2"),
        (0, "A3"),
    ] {
        let (status, body) = app
            .call(
                Method::POST,
                &format!("/v1/tasks/{}/comments", task_ids[task]),
                &owner.token,
                Some(json!({"content": content})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    let (status, body) = app
        .call(
            Method::GET,
            &format!("/api/tasks/project/{project}/tasks"),
            &owner.token,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let contents: Vec<(String, Vec<String>)> = body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            let comments = t["comments"].as_array().unwrap();
            assert_eq!(t["comments_count"], comments.len());
            for c in comments {
                assert_eq!(c["task_id"], t["id"]);
            }
            let texts = comments
                .iter()
                .map(|c| c["content"].as_str().unwrap().to_string());
            (t["title"].as_str().unwrap().to_string(), texts.collect())
        })
        .collect();
    let want = [
        ("A", vec!["A1", "A2", "A3"]),
        ("B", vec!["B1"]),
        ("C", vec![]),
        ("D", vec!["D1", "D2"]),
    ];
    let want: Vec<(String, Vec<String>)> = want
        .into_iter()
        .map(|(t, c)| (t.to_string(), c.into_iter().map(String::from).collect()))
        .collect();
    assert_eq!(contents, want);
}

#[tokio::test]
async fn seed_002_task_list_reads_every_page() {
    let app = TestApp::spawn().await;
    let owner = app.register("owner@example.com").await;
    let ws = app.create_workspace(&owner.token, "Team").await;
    let project = app
        .create_project(&owner.token, &ws, json!({"name": "Big"}))
        .await;
    let count = 103;
    for i in 0..count {
        let (status, body) = app
            .call(
                Method::POST,
                &format!("/v1/projects/{project}/tasks"),
                &owner.token,
                Some(json!({"title": format!("Task {i:03}")})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    let (status, body) = app
        .call(
            Method::GET,
            &format!("/api/tasks/project/{project}/tasks"),
            &owner.token,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let titles: Vec<String> = body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["title"].as_str().unwrap().to_string())
        .collect();
    let want: Vec<String> = (0..count).map(|i| format!("Task {i:03}")).collect();
    assert_eq!(titles, want, "every task once, in board order");
}

#[tokio::test]
async fn seed_002_routes_hide_other_workspaces_and_tenants() {
    let app = TestApp::spawn_with(|c| c.auth.multi_tenant = true).await;
    let acme = app.create_tenant("Acme").await;
    let other = app.create_tenant("Other").await;
    let owner = app
        .register_with("owner@example.com", Some(&acme.publishable_key))
        .await;
    let member = app
        .register_with("member@example.com", Some(&acme.publishable_key))
        .await;
    let outsider = app
        .register_with("outsider@example.com", Some(&acme.publishable_key))
        .await;
    // Same email as a member of acme, in another tenant.
    let foreign = app
        .register_with("member@example.com", Some(&other.publishable_key))
        .await;
    let ws = app.create_workspace(&owner.token, "Team").await;
    app.add_member(&owner.token, &ws, &member, "MEMBER").await;
    let project = app
        .create_project(&owner.token, &ws, json!({"name": "Secret"}))
        .await;
    let (status, body) = app
        .call(
            Method::POST,
            &format!("/v1/projects/{project}/tasks"),
            &owner.token,
            Some(json!({"title": "Hidden"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let task = body["data"]["id"].as_str().unwrap().to_string();

    let workspace_routes = [
        (
            Method::GET,
            format!("/api/projects/workspace/{ws}/projects"),
            None,
        ),
        (
            Method::POST,
            "/api/projects".to_string(),
            Some(json!({"name": "Intruder", "workspaceId": ws})),
        ),
    ];
    // The workspace member is not in the project, so it is hidden from them too.
    let project_routes = [
        (
            Method::PATCH,
            format!("/api/projects/{project}"),
            Some(json!({"name": "Taken over"})),
        ),
        (
            Method::POST,
            format!("/api/projects/{project}/add-member"),
            Some(json!({"email": "member@example.com"})),
        ),
        (
            Method::GET,
            format!("/api/tasks/project/{project}/tasks"),
            None,
        ),
        (
            Method::GET,
            format!("/api/comments/task/{task}/comments"),
            None,
        ),
        (
            Method::POST,
            "/api/create-task".to_string(),
            Some(json!({"projectId": project, "title": "Intruder"})),
        ),
    ];
    for (who, user) in [("non-member", &outsider), ("other tenant", &foreign)] {
        for (method, path, body) in workspace_routes.iter().chain(project_routes.iter()) {
            let (status, resp) = app
                .call(method.clone(), path, &user.token, body.clone())
                .await;
            assert_eq!(
                status,
                StatusCode::NOT_FOUND,
                "{who}: {method} {path}: {resp}"
            );
        }
    }
    for (method, path, body) in &project_routes {
        let (status, resp) = app
            .call(method.clone(), path, &member.token, body.clone())
            .await;
        assert_eq!(
            status,
            StatusCode::NOT_FOUND,
            "member: {method} {path}: {resp}"
        );
    }
    // Nothing changed.
    let (_, body) = app
        .call(
            Method::GET,
            &format!("/api/projects/workspace/{ws}/projects"),
            &owner.token,
            None,
        )
        .await;
    let projects = body["data"].as_array().unwrap();
    assert_eq!(projects.len(), 1);
    assert_eq!(projects[0]["name"], "Secret");
    let (_, body) = app
        .call(
            Method::GET,
            &format!("/api/tasks/project/{project}/tasks"),
            &owner.token,
            None,
        )
        .await;
    assert_eq!(body["data"].as_array().unwrap().len(), 1);
}
