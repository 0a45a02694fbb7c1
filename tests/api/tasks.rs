use std::collections::HashSet;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{SignedIn, TestApp};

struct Board {
    owner: SignedIn,
    member: SignedIn,
    viewer: SignedIn,
    project: String,
}

async fn board(app: &TestApp) -> Board {
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
            json!({"name": "Board", "members": [member.user_id, viewer.user_id]}),
        )
        .await;
    Board {
        owner,
        member,
        viewer,
        project,
    }
}

/// A create answers with exactly what a read of the task gives, whether it is answered from
/// the inserted row (a plain task) or read back (assignee, labels, done).
#[tokio::test]
async fn the_create_answer_is_what_a_read_gives() {
    let app = TestApp::spawn().await;
    let b = board(&app).await;
    for body in [
        json!({"title": "Plain"}),
        json!({"title": "Dated", "description": "With text", "type": "bug", "priority": "high",
               "due_date": "2026-03-01", "estimate_minutes": 30, "recurrence": "FREQ=WEEKLY"}),
        json!({"title": "Assigned", "assignee_id": b.member.user_id}),
        json!({"title": "Finished", "status": "DONE"}),
    ] {
        let created = app.create_task(&b.member.token, &b.project, body).await;
        let id = created["id"].as_str().unwrap();
        let (status, read) = app
            .call(
                Method::GET,
                &format!("/v1/tasks/{id}"),
                &b.member.token,
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{read}");
        assert_eq!(created, read["data"]);
    }
}

#[tokio::test]
async fn create_read_update_complete_delete() {
    let app = TestApp::spawn().await;
    let b = board(&app).await;
    let task = app.create_task(&b.member.token,
        &b.project,
        json!({"title": "Fix login", "description": "Users cannot log in", "status": "todo", "type": "bug",
               "priority": "high", "assignee_id": b.member.user_id, "due_date": "2026-03-01"}),
    )
    .await;
    assert_eq!(task["status"], "TODO");
    assert_eq!(task["type"], "BUG");
    assert_eq!(task["assignee"]["email"], "member@example.com");
    assert_eq!(task["due_date"], "2026-03-01T00:00:00.000Z");
    assert_eq!(task["comments_count"], 0);
    assert_eq!(task["attachments_count"], 0);
    assert!(task["completed_at"].is_null());
    let path = format!("/v1/tasks/{}", task["id"].as_str().unwrap());

    let (status, done) = app
        .call(
            Method::PATCH,
            &path,
            &b.member.token,
            Some(json!({"status": "DONE"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert!(done["data"]["completed_at"].is_string());
    assert_eq!(done["data"]["title"], "Fix login", "fields not sent stay");
    assert_eq!(done["data"]["version"], 2);
    let (_, reopened) = app
        .call(
            Method::PATCH,
            &path,
            &b.member.token,
            Some(json!({"status": "in_progress", "assignee_id": null})),
        )
        .await;
    assert!(reopened["data"]["completed_at"].is_null());
    assert!(reopened["data"]["assignee"].is_null());

    // A viewer reads but cannot write.
    let (status, _) = app.call(Method::GET, &path, &b.viewer.token, None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = app
        .call(
            Method::PATCH,
            &path,
            &b.viewer.token,
            Some(json!({"title": "x"})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = app
        .call(
            Method::POST,
            &format!("/v1/projects/{}/tasks", b.project),
            &b.viewer.token,
            Some(json!({"title": "x"})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let (status, _) = app.call(Method::DELETE, &path, &b.member.token, None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = app.call(Method::GET, &path, &b.owner.token, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn input_rules() {
    let app = TestApp::spawn().await;
    let b = board(&app).await;
    let outsider = app.register("outsider@example.com").await;
    let create = format!("/v1/projects/{}/tasks", b.project);
    for (body, field) in [
        (json!({"title": ""}), "title"),
        (json!({"title": "x".repeat(501)}), "title"),
        (json!({"title": "t", "status": "finished"}), "status"),
        (json!({"title": "t", "type": "epic"}), "type"),
        (json!({"title": "t", "due_date": "next week"}), "due_date"),
        (
            json!({"title": "t", "assignee_id": outsider.user_id}),
            "assignee_id",
        ),
        (json!({"title": "t", "after_id": "nope"}), "after_id"),
    ] {
        let (status, resp) = app
            .call(Method::POST, &create, &b.owner.token, Some(body.clone()))
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {resp}");
        assert_eq!(resp["details"][0]["field"], field, "{body}: {resp}");
    }
    let (status, resp) = app
        .call(
            Method::POST,
            &create,
            &b.owner.token,
            Some(json!({"title": 7})),
        )
        .await;
    assert_eq!(
        (status, resp["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_body"))
    );
}

/// (title, position, version) of every task in board order.
async fn board_order(app: &TestApp, b: &Board) -> Vec<(String, String, i64)> {
    let (_, body) = app
        .call(
            Method::GET,
            &format!("/v1/projects/{}/tasks", b.project),
            &b.owner.token,
            None,
        )
        .await;
    body["data"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["title"].as_str().unwrap().to_string(),
                t["position"].as_str().unwrap().to_string(),
                t["version"].as_i64().unwrap(),
            )
        })
        .collect()
}

#[tokio::test]
async fn moving_between_two_tasks_touches_only_the_moved_one() {
    let app = TestApp::spawn().await;
    let b = board(&app).await;
    let mut ids = Vec::new();
    for title in ["a", "b", "c", "d"] {
        ids.push(
            app.create_task(&b.owner.token, &b.project, json!({"title": title}))
                .await["id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    let before = board_order(&app, &b).await;
    assert_eq!(
        before.iter().map(|t| t.0.as_str()).collect::<Vec<_>>(),
        ["a", "b", "c", "d"]
    );
    // Move d between a and b, then a to the very end.
    let (status, _) = app
        .call(
            Method::PATCH,
            &format!("/v1/tasks/{}", ids[3]),
            &b.owner.token,
            Some(json!({"after_id": ids[0]})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = app
        .call(
            Method::PATCH,
            &format!("/v1/tasks/{}", ids[0]),
            &b.owner.token,
            Some(json!({"after_id": ids[2]})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = app
        .call(
            Method::PATCH,
            &format!("/v1/tasks/{}", ids[1]),
            &b.owner.token,
            Some(json!({"before_id": ids[3]})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let after = board_order(&app, &b).await;
    assert_eq!(
        after.iter().map(|t| t.0.as_str()).collect::<Vec<_>>(),
        ["b", "d", "c", "a"]
    );
    // c never moved: same position, same version.
    let c_before = before.iter().find(|t| t.0 == "c").unwrap();
    let c_after = after.iter().find(|t| t.0 == "c").unwrap();
    assert_eq!(c_before, c_after);
    // Inserting between two neighbours works too.
    app.create_task(
        &b.owner.token,
        &b.project,
        json!({"title": "e", "after_id": ids[1]}),
    )
    .await;
    let titles: Vec<String> = board_order(&app, &b)
        .await
        .into_iter()
        .map(|t| t.0)
        .collect();
    assert_eq!(titles, ["b", "e", "d", "c", "a"]);
}

#[tokio::test]
async fn filters_sorts_and_pages_survive_inserts() {
    let app = TestApp::spawn().await;
    let b = board(&app).await;
    let specs = [
        ("Login bug", "BUG", "HIGH", "TODO", Some("2026-01-10"), true),
        (
            "Signup form",
            "FEATURE",
            "LOW",
            "IN_PROGRESS",
            Some("2026-01-05"),
            false,
        ),
        (
            "Billing 50% discount",
            "FEATURE",
            "MEDIUM",
            "DONE",
            None,
            true,
        ),
        ("Docs", "OTHER", "LOW", "TODO", Some("2026-02-01"), false),
        (
            "Crash on save",
            "BUG",
            "MEDIUM",
            "TODO",
            Some("2026-01-20"),
            true,
        ),
    ];
    let mut by_title = std::collections::HashMap::new();
    for (title, kind, priority, status, due, assigned) in specs {
        let mut body =
            json!({"title": title, "type": kind, "priority": priority, "status": status});
        if let Some(due) = due {
            body["due_date"] = json!(due);
        }
        if assigned {
            body["assignee_id"] = json!(b.member.user_id);
        }
        let t = app.create_task(&b.owner.token, &b.project, body).await;
        by_title.insert(title, t["id"].as_str().unwrap().to_string());
    }
    let titles = |body: &Value| {
        body["data"]["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["title"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    let get = |query: &str| {
        let path = format!("/v1/projects/{}/tasks?{query}", b.project);
        let token = b.owner.token.clone();
        let app = &app;
        async move { app.call(Method::GET, &path, &token, None).await }
    };
    let (_, body) = get("type=bug&sort=due_date").await;
    assert_eq!(titles(&body), ["Login bug", "Crash on save"]);
    let (_, body) = get(&format!("assignee_id={}&status=todo", b.member.user_id)).await;
    assert_eq!(titles(&body), ["Login bug", "Crash on save"]);
    let (_, body) = get("sort=priority").await;
    assert_eq!(titles(&body)[0], "Login bug");
    let (_, body) = get("sort=-due_date").await;
    assert_eq!(
        titles(&body).last().unwrap(),
        "Billing 50% discount",
        "no due date sorts last"
    );
    let (_, body) = get("due_before=2026-01-15&sort=due_date").await;
    assert_eq!(titles(&body), ["Signup form", "Login bug"]);
    let (_, body) = get("due_after=2026-01-15T00:00:00Z&sort=due_date").await;
    assert_eq!(titles(&body), ["Crash on save", "Docs"]);
    let (_, body) = get("q=LOGIN").await;
    assert_eq!(titles(&body), ["Login bug"]);
    let (_, body) = get("q=50%25").await;
    assert_eq!(
        titles(&body),
        ["Billing 50% discount"],
        "% is matched literally"
    );
    let (_, body) = get("q=%25").await;
    assert_eq!(titles(&body), ["Billing 50% discount"]);
    for bad in [
        "sort=title",
        "status=finished",
        "due_before=soon",
        "limit=0",
        "cursor=abc",
    ] {
        let (status, body) = get(bad).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {body}");
    }

    // Every sort pages through all tasks with no gaps or repeats, even with inserts in between.
    let mut all: HashSet<String> = by_title.values().cloned().collect();
    for sort in [
        "position",
        "-created_at",
        "priority",
        "due_date",
        "-updated_at",
    ] {
        let mut seen = Vec::new();
        let existing = all.clone();
        let mut cursor: Option<String> = None;
        loop {
            let query = match &cursor {
                Some(c) => format!("sort={sort}&limit=2&cursor={c}"),
                None => format!("sort={sort}&limit=2"),
            };
            let (status, body) = get(&query).await;
            assert_eq!(status, StatusCode::OK, "{body}");
            seen.extend(
                body["data"]["items"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|t| t["id"].as_str().unwrap().to_string()),
            );
            if seen.len() == 2 {
                // A task inserted mid-way either shows up later or sorted before the cursor.
                let t = app
                    .create_task(
                        &b.owner.token,
                        &b.project,
                        json!({"title": format!("late {sort}")}),
                    )
                    .await;
                all.insert(t["id"].as_str().unwrap().to_string());
            }
            match body["data"]["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_string()),
                None => break,
            }
        }
        let unique: HashSet<String> = seen.iter().cloned().collect();
        assert_eq!(unique.len(), seen.len(), "{sort}: repeated rows");
        assert!(
            existing.is_subset(&unique),
            "{sort}: a row that existed throughout was skipped"
        );
        assert!(unique.is_subset(&all), "{sort}: unknown rows");
    }
    // A cursor from one sort is refused for another.
    let (_, body) = get("sort=priority&limit=1").await;
    let cursor = body["data"]["next_cursor"].as_str().unwrap().to_string();
    let (status, _) = get(&format!("sort=position&cursor={cursor}")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn concurrent_edits_of_different_fields_both_survive_and_versions_guard() {
    let app = TestApp::spawn().await;
    let b = board(&app).await;
    let task = app
        .create_task(&b.owner.token, &b.project, json!({"title": "Original"}))
        .await;
    let path = format!("/v1/tasks/{}", task["id"].as_str().unwrap());
    let mut writes = tokio::task::JoinSet::new();
    for (i, body) in [
        json!({"title": "Renamed"}),
        json!({"priority": "HIGH"}),
        json!({"description": "Details"}),
        json!({"type": "BUG"}),
    ]
    .into_iter()
    .enumerate()
    {
        let token = if i % 2 == 0 {
            b.owner.token.clone()
        } else {
            b.member.token.clone()
        };
        let req = app.as_user(Method::PATCH, &path, &token).json(&body);
        writes.spawn(async move { req.send().await.unwrap().status() });
    }
    assert!(writes.join_all().await.iter().all(|s| *s == StatusCode::OK));
    let (_, body) = app.call(Method::GET, &path, &b.owner.token, None).await;
    let t = &body["data"];
    assert_eq!(
        (
            t["title"].as_str(),
            t["priority"].as_str(),
            t["description"].as_str(),
            t["type"].as_str()
        ),
        (Some("Renamed"), Some("HIGH"), Some("Details"), Some("BUG"))
    );
    assert_eq!(t["version"], 5);

    // Optimistic concurrency on request: a stale version is refused and changes nothing.
    let (status, body) = app
        .call(
            Method::PATCH,
            &path,
            &b.member.token,
            Some(json!({"title": "Stale", "version": 4})),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("version_conflict"))
    );
    let (status, body) = app
        .call(
            Method::PATCH,
            &path,
            &b.member.token,
            Some(json!({"title": "Fresh", "version": 5})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["title"], "Fresh");
}

#[tokio::test]
async fn bulk_status_is_all_or_nothing() {
    let app = TestApp::spawn().await;
    let b = board(&app).await;
    let t1 = app
        .create_task(&b.owner.token, &b.project, json!({"title": "one"}))
        .await["id"]
        .clone();
    let t2 = app
        .create_task(&b.owner.token, &b.project, json!({"title": "two"}))
        .await["id"]
        .clone();
    let bulk = format!("/v1/projects/{}/tasks/bulk-status", b.project);
    let (status, _) = app
        .call(
            Method::POST,
            &bulk,
            &b.member.token,
            Some(json!({"task_ids": [t1, "missing"], "status": "DONE"})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (_, body) = app
        .call(
            Method::GET,
            &format!("/v1/tasks/{}", t1.as_str().unwrap()),
            &b.member.token,
            None,
        )
        .await;
    assert_eq!(body["data"]["status"], "TODO", "nothing was half-written");
    let (status, body) = app
        .call(
            Method::POST,
            &bulk,
            &b.member.token,
            Some(json!({"task_ids": [t1, t2], "status": "done"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(
        body["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["status"] == "DONE" && t["completed_at"].is_string())
    );
    let (status, _) = app
        .call(
            Method::POST,
            &bulk,
            &b.viewer.token,
            Some(json!({"task_ids": [t1], "status": "TODO"})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn comments_belong_to_their_authors() {
    let app = TestApp::spawn().await;
    let b = board(&app).await;
    let task = app
        .create_task(&b.owner.token, &b.project, json!({"title": "Discuss"}))
        .await;
    let comments = format!("/v1/tasks/{}/comments", task["id"].as_str().unwrap());
    let (status, body) = app
        .call(
            Method::POST,
            &comments,
            &b.member.token,
            Some(json!({"content": "<b>First</b> 🚀"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["data"]["content"], "<b>First</b> 🚀");
    assert_eq!(body["data"]["author"]["email"], "member@example.com");
    let comment = format!("/v1/comments/{}", body["data"]["id"].as_str().unwrap());
    let (status, _) = app
        .call(
            Method::POST,
            &comments,
            &b.viewer.token,
            Some(json!({"content": "viewer"})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = app
        .call(
            Method::POST,
            &comments,
            &b.member.token,
            Some(json!({"content": "   "})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

    let (status, _) = app
        .call(
            Method::PATCH,
            &comment,
            &b.owner.token,
            Some(json!({"content": "edited by owner"})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "only the author edits");
    let (status, body) = app
        .call(
            Method::PATCH,
            &comment,
            &b.member.token,
            Some(json!({"content": "edited"})),
        )
        .await;
    assert_eq!(
        (status, body["data"]["content"].as_str()),
        (StatusCode::OK, Some("edited"))
    );

    let (_, body) = app
        .call(
            Method::GET,
            &format!("/v1/tasks/{}", task["id"].as_str().unwrap()),
            &b.viewer.token,
            None,
        )
        .await;
    assert_eq!(body["data"]["comments_count"], 1);
    let (_, body) = app
        .call(Method::GET, &comments, &b.viewer.token, None)
        .await;
    assert_eq!(body["data"]["items"][0]["author"]["name"], "Test User");

    let (status, _) = app
        .call(Method::DELETE, &comment, &b.viewer.token, None)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = app
        .call(Method::DELETE, &comment, &b.owner.token, None)
        .await;
    assert_eq!(status, StatusCode::OK, "owners and admins moderate");
    let (status, _) = app
        .call(
            Method::PATCH,
            &comment,
            &b.member.token,
            Some(json!({"content": "gone"})),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn other_tenants_and_outsiders_get_404_everywhere() {
    let app = TestApp::spawn_with(|c| c.auth.multi_tenant = true).await;
    let acme = app.create_tenant("Acme").await;
    let other = app.create_tenant("Other").await;
    let owner = app
        .register_with("owner@example.com", Some(&acme.publishable_key))
        .await;
    let outsider = app
        .register_with("outsider@example.com", Some(&acme.publishable_key))
        .await;
    let foreign = app
        .register_with("owner@example.com", Some(&other.publishable_key))
        .await;
    let ws = app.create_workspace(&owner.token, "Team").await;
    let project = app
        .create_project(&owner.token, &ws, json!({"name": "P"}))
        .await;
    let task = app
        .create_task(&owner.token, &project, json!({"title": "secret"}))
        .await;
    let task_id = task["id"].as_str().unwrap();
    let (_, c) = app
        .call(
            Method::POST,
            &format!("/v1/tasks/{task_id}/comments"),
            &owner.token,
            Some(json!({"content": "c"})),
        )
        .await;
    let comment_id = c["data"]["id"].as_str().unwrap();
    for caller in [&outsider, &foreign] {
        for (method, path, body) in [
            (Method::GET, format!("/v1/projects/{project}/tasks"), None),
            (
                Method::GET,
                format!("/v1/projects/{project}/tasks?status=TODO"),
                None,
            ),
            (
                Method::POST,
                format!("/v1/projects/{project}/tasks"),
                Some(json!({"title": "x"})),
            ),
            (
                Method::POST,
                format!("/v1/projects/{project}/tasks/bulk-status"),
                Some(json!({"task_ids": [task_id], "status": "DONE"})),
            ),
            (Method::GET, format!("/v1/tasks/{task_id}"), None),
            (
                Method::PATCH,
                format!("/v1/tasks/{task_id}"),
                Some(json!({"title": "pwned"})),
            ),
            (Method::DELETE, format!("/v1/tasks/{task_id}"), None),
            (Method::GET, format!("/v1/tasks/{task_id}/comments"), None),
            (
                Method::POST,
                format!("/v1/tasks/{task_id}/comments"),
                Some(json!({"content": "x"})),
            ),
            (
                Method::PATCH,
                format!("/v1/comments/{comment_id}"),
                Some(json!({"content": "x"})),
            ),
            (Method::DELETE, format!("/v1/comments/{comment_id}"), None),
        ] {
            let (status, body) = app.call(method.clone(), &path, &caller.token, body).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{method} {path}: {body}");
        }
    }
    let (_, body) = app
        .call(
            Method::GET,
            &format!("/v1/tasks/{task_id}"),
            &owner.token,
            None,
        )
        .await;
    assert_eq!(body["data"]["title"], "secret");
    assert_eq!(body["data"]["version"], 1);
}

#[tokio::test]
async fn a_tasks_activity_holds_its_own_events_and_its_comments_only() {
    let app = TestApp::spawn().await;
    let b = board(&app).await;
    let task = app
        .create_task(&b.owner.token, &b.project, json!({"title": "Watched"}))
        .await;
    let id = task["id"].as_str().unwrap().to_string();
    let other = app
        .create_task(&b.owner.token, &b.project, json!({"title": "Elsewhere"}))
        .await;
    let (status, _) = app
        .call(
            Method::PATCH,
            &format!("/v1/tasks/{id}"),
            &b.member.token,
            Some(json!({"status": "IN_PROGRESS"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = app
        .call(
            Method::POST,
            &format!("/v1/tasks/{id}/comments"),
            &b.member.token,
            Some(json!({"content": "On it"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    app.call(
        Method::PATCH,
        &format!("/v1/tasks/{}", other["id"].as_str().unwrap()),
        &b.owner.token,
        Some(json!({"title": "Still elsewhere"})),
    )
    .await;

    let path = format!("/v1/tasks/{id}/activity");
    let (status, body) = app.call(Method::GET, &path, &b.viewer.token, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let kinds: Vec<&str> = body["data"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["task.created", "task.updated", "comment.created"],
        "{body}"
    );
    assert_eq!(
        body["data"]["items"][1]["actor_id"],
        b.member.user_id.as_str()
    );

    // Pages follow on.
    let (_, first) = app
        .call(
            Method::GET,
            &format!("{path}?limit=2"),
            &b.viewer.token,
            None,
        )
        .await;
    let cursor = first["data"]["next_cursor"].as_str().unwrap();
    let (_, rest) = app
        .call(
            Method::GET,
            &format!("{path}?cursor={cursor}"),
            &b.viewer.token,
            None,
        )
        .await;
    assert_eq!(rest["data"]["items"][0]["kind"], "comment.created");

    // Someone outside the project gets the 404 an unknown task gets.
    let outsider = app.register("outsider@example.com").await;
    let (status, _) = app.call(Method::GET, &path, &outsider.token, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = app
        .call(Method::GET, "/v1/tasks/nope/activity", &b.owner.token, None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
