//! Strict input: unknown v1 body fields and control characters are 422, on both engines;
//! seed routes stay lenient about fields and never answer 500 on a NUL.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, expect_error};

fn fields(body: &Value) -> Vec<String> {
    body["details"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|d| d["field"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn misspelled_fields_and_nul_text_are_refused_and_nothing_is_written() {
    let app = TestApp::spawn().await;
    let user = app.register("strict@example.com").await;
    let ws = app.create_workspace(&user.token, "Strict").await;
    let project = app
        .create_project(&user.token, &ws, json!({"name": "P"}))
        .await;
    let tasks = format!("/v1/projects/{project}/tasks");

    let (status, body) = app
        .call(
            Method::POST,
            &tasks,
            &user.token,
            Some(json!({"title": "t", "dueDate": "2030-01-01", "asignee_id": "x"})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["code"], "validation_failed");
    let mut named = fields(&body);
    named.sort();
    assert_eq!(named, ["asignee_id", "dueDate"], "{body}");

    let task = app
        .create_task(&user.token, &project, json!({"title": "ok"}))
        .await;
    let task_id = task["id"].as_str().unwrap();
    let nul = "a\u{0}b";
    let cases = [
        (
            Method::POST,
            tasks.clone(),
            json!({"title": "n", "description": nul}),
            "description",
        ),
        (
            Method::PATCH,
            format!("/v1/tasks/{task_id}"),
            json!({"description": nul}),
            "description",
        ),
        (
            Method::POST,
            format!("/v1/tasks/{task_id}/comments"),
            json!({"content": nul}),
            "content",
        ),
        (
            Method::POST,
            format!("/v1/workspaces/{ws}/projects"),
            json!({"name": "Q", "description": nul}),
            "description",
        ),
        (
            Method::PATCH,
            format!("/v1/projects/{project}"),
            json!({"description": nul}),
            "description",
        ),
        (
            Method::POST,
            format!("/v1/workspaces/{ws}/invitations"),
            json!({"email": "x@example.com", "role": "MEMBER", "message": nul}),
            "message",
        ),
    ];
    for (method, path, payload, field) in cases {
        let (status, body) = app
            .call(method.clone(), &path, &user.token, Some(payload))
            .await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{method} {path}: {body}"
        );
        assert!(fields(&body).iter().any(|f| f == field), "{path}: {body}");
    }
    let (_, list) = app.call(Method::GET, &tasks, &user.token, None).await;
    assert_eq!(
        list["data"]["items"].as_array().map(Vec::len),
        Some(1),
        "{list}"
    );
    let (_, one) = app
        .call(
            Method::GET,
            &format!("/v1/tasks/{task_id}"),
            &user.token,
            None,
        )
        .await;
    assert!(one["data"]["description"].is_null(), "{one}");

    for query in ["q=a%00b", "assignee_id=a%00b"] {
        let res = app
            .as_user(Method::GET, &format!("{tasks}?{query}"), &user.token)
            .send()
            .await
            .unwrap();
        expect_error(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    }
}

#[tokio::test]
async fn seed_create_task_with_nul_is_not_a_500_and_stays_lenient() {
    let app = TestApp::spawn().await;
    let user = app.register("seed-strict@example.com").await;
    let ws = app.create_workspace(&user.token, "Seed").await;
    let project = app
        .create_project(&user.token, &ws, json!({"name": "Seedy"}))
        .await;
    let (status, body) = app
        .call(
            Method::POST,
            "/api/create-task",
            &user.token,
            Some(json!({"projectId": project, "title": "t", "description": "a\u{0}b"})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (status, body) = app
        .call(
            Method::POST,
            "/api/create-task",
            &user.token,
            Some(json!({"projectId": project, "title": "t", "extra": 1})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn every_refused_control_character_is_422_and_whitespace_is_kept() {
    let app = TestApp::spawn().await;
    let user = app.register("props@example.com").await;
    let ws = app.create_workspace(&user.token, "Props").await;
    let project = app
        .create_project(&user.token, &ws, json!({"name": "P"}))
        .await;
    let task = app
        .create_task(&user.token, &project, json!({"title": "t"}))
        .await;
    let task_id = task["id"].as_str().unwrap();
    let routes = [
        (
            Method::POST,
            format!("/v1/tasks/{task_id}/comments"),
            "content",
        ),
        (Method::PATCH, format!("/v1/tasks/{task_id}"), "description"),
        (
            Method::PATCH,
            format!("/v1/projects/{project}"),
            "description",
        ),
    ];
    for c in (0u32..0x20).chain(0x7f..0xa0).filter_map(char::from_u32) {
        let keep = matches!(c, '\t' | '\n' | '\r');
        for (method, path, field) in &routes {
            let text = format!("x{c}y");
            let (status, body) = app
                .call(
                    method.clone(),
                    path,
                    &user.token,
                    Some(json!({ *field: text })),
                )
                .await;
            let want = if keep {
                status.is_success()
            } else {
                status == StatusCode::UNPROCESSABLE_ENTITY
            };
            assert!(want, "U+{:04X} {path}: {status} {body}", c as u32);
        }
        let res = app
            .as_user(
                Method::GET,
                &format!("/v1/projects/{project}/tasks?q=x%{:02X}y", c as u32 & 0xff),
                &user.token,
            )
            .send()
            .await
            .unwrap();
        if (c as u32) < 0x80 && !keep {
            assert_eq!(
                res.status(),
                StatusCode::UNPROCESSABLE_ENTITY,
                "U+{:04X}",
                c as u32
            );
        } else {
            assert_ne!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
        }
    }
}
