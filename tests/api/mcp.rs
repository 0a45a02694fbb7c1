//! The MCP endpoint over plain JSON-RPC (the Python SDK's client drives it in
//! tests/contract/mcp_client.py): tools run as the token's user, with its rights, and their
//! changes are events like the REST API's.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::TestApp;

const PROTOCOL: &str = "2025-11-25";

async fn rpc(
    app: &TestApp,
    token: Option<&str>,
    method: &str,
    params: Value,
) -> (StatusCode, Value) {
    let mut req = app
        .request(Method::POST, "/mcp")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", PROTOCOL)
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}));
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    let res = req.send().await.unwrap();
    let status = res.status();
    let text = res.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// Calls a tool and returns (is_error, structured content or error text).
async fn tool(app: &TestApp, token: &str, name: &str, arguments: Value) -> (bool, Value) {
    let (status, body) = rpc(
        app,
        Some(token),
        "tools/call",
        json!({"name": name, "arguments": arguments}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let result = &body["result"];
    if result["isError"] == true {
        (true, result["content"][0]["text"].clone())
    } else {
        (false, result["structuredContent"].clone())
    }
}

#[tokio::test]
async fn tools_act_as_the_caller_within_its_rights() {
    let app = TestApp::spawn().await;
    let owner = app.register("owner@example.com").await;
    let member = app.register("member@example.com").await;
    let viewer = app.register("viewer@example.com").await;
    let outsider = app.register("outsider@example.com").await;
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

    let (status, init) = rpc(&app, Some(&member.token), "initialize", json!({
        "protocolVersion": PROTOCOL, "capabilities": {}, "clientInfo": {"name": "test", "version": "1"}})).await;
    assert_eq!(status, StatusCode::OK, "{init}");
    assert_eq!(init["result"]["serverInfo"]["name"], "kanri");
    let (_, tools) = rpc(&app, Some(&member.token), "tools/list", json!({})).await;
    let names: Vec<&str> = tools["result"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"create_task") && names.contains(&"search_tasks"),
        "{names:?}"
    );

    let (err, created) = tool(
        &app,
        &member.token,
        "create_task",
        json!({"project_id": project, "title": "Ship it"}),
    )
    .await;
    assert!(!err, "{created}");
    let task = created["task"]["id"].as_str().unwrap().to_string();
    let (_, activity) = app
        .call(
            Method::GET,
            &format!("/v1/tasks/{task}/activity"),
            &owner.token,
            None,
        )
        .await;
    assert_eq!(activity["data"]["items"][0]["kind"], "task.created");
    assert_eq!(
        activity["data"]["items"][0]["actor_id"],
        member.user_id.as_str()
    );

    let (err, text) = tool(
        &app,
        &viewer.token,
        "update_task",
        json!({"task_id": task, "status": "DONE"}),
    )
    .await;
    assert!(
        err && text.as_str().unwrap().starts_with("forbidden"),
        "{text}"
    );
    let (err, text) = tool(&app, &outsider.token, "get_task", json!({"task_id": task})).await;
    assert!(
        err && text.as_str().unwrap().starts_with("not_found"),
        "{text}"
    );
    let (err, text) = tool(
        &app,
        &member.token,
        "create_task",
        json!({"project_id": project, "title": "x", "extra": 1}),
    )
    .await;
    assert!(
        err && text.as_str().unwrap().starts_with("invalid_arguments"),
        "{text}"
    );
    let (_, read) = app
        .call(
            Method::GET,
            &format!("/v1/tasks/{task}"),
            &owner.token,
            None,
        )
        .await;
    assert_eq!(
        read["data"]["status"], "TODO",
        "the refused update wrote nothing"
    );

    // Without a valid session, the transport is never reached.
    for token in [None, Some("not-a-token")] {
        let (status, body) = rpc(&app, token, "tools/list", json!({})).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    }
}
