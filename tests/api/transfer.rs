//! Workspace export and import, as a client and an operator use them: export through the API
//! (a job), download, import into a fresh instance on the other engine, and every row comes
//! back; a second import without remapping is refused and changes nothing, with remapping it
//! is a copy; a CSV with a bad row imports nothing and names the line; a Trello board becomes
//! a project; nobody outside the workspace can export or import.

use std::collections::BTreeMap;
use std::io::Write;
use std::process::Command;

use futures_util::StreamExt;
use kanri::db::transfer::JsonRow;
use kanri::domain::KeyKind;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{SignedIn, TestApp, read, test_config};

const BOUNDARY: &str = "kanri-transfer-boundary";
const FILE_BYTES: &[u8] = b"%PDF-1.4\nnot really a pdf, but bytes that must survive\n\x00\x01\x02";

/// An app on SQLite whatever the run's engine, for the other side of a cross-engine copy.
async fn sqlite_app() -> TestApp {
    let (mut config, dir) = test_config().await;
    config.database = kanri::Config::for_data_dir(dir.path(), None).database;
    TestApp::start(config, dir).await
}

struct Source {
    owner: SignedIn,
    workspace: String,
    project: String,
    attachment: String,
}

/// A workspace with two members, a project, labelled and related tasks with a subtask,
/// comments, a time entry and an attachment.
async fn populate(app: &TestApp) -> Source {
    let owner = app.register("owner@example.com").await;
    let member = app.register("member@example.com").await;
    let workspace = app.create_workspace(&owner.token, "Acme").await;
    app.add_member(&owner.token, &workspace, &member, "MEMBER")
        .await;
    let project = app
        .create_project(
            &owner.token,
            &workspace,
            json!({"name": "Launch", "description": "Q3"}),
        )
        .await;
    app.add_project_member(&owner.token, &project, &member)
        .await;
    let (status, label) = app
        .call(
            Method::POST,
            &format!("/v1/workspaces/{workspace}/labels"),
            &owner.token,
            Some(json!({"name": "urgent", "color": "#d73a4a"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{label}");
    let label = label["data"]["id"].as_str().unwrap().to_string();
    let first = app
        .create_task(
            &owner.token,
            &project,
            json!({"title": "Write the plan", "description": "All of it", "assignee_id": member.user_id,
                   "due_date": "2026-03-01", "label_ids": [label], "priority": "HIGH", "type": "FEATURE"}),
        )
        .await;
    let first = first["id"].as_str().unwrap().to_string();
    let second = app
        .create_task(
            &owner.token,
            &project,
            json!({"title": "Review it", "parent_id": first, "status": "IN_PROGRESS"}),
        )
        .await;
    let second = second["id"].as_str().unwrap().to_string();
    for (task, content) in [(&first, "Draft is up"), (&second, "Looks good")] {
        let (status, body) = app
            .call(
                Method::POST,
                &format!("/v1/tasks/{task}/comments"),
                &member.token,
                Some(json!({"content": content})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    let (status, body) = app
        .call(
            Method::POST,
            &format!("/v1/tasks/{second}/relations"),
            &owner.token,
            Some(json!({"task_id": first, "kind": "BLOCKED_BY"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, body) = app
        .call(
            Method::POST,
            &format!("/v1/tasks/{first}/time-entries"),
            &member.token,
            Some(json!({"duration_seconds": 1800, "note": "planning"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let mut upload = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"plan.pdf\"\r\nContent-Type: application/pdf\r\n\r\n"
    )
    .into_bytes();
    upload.extend_from_slice(FILE_BYTES);
    upload.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    let res = app
        .as_user(
            Method::POST,
            &format!("/v1/tasks/{first}/attachments"),
            &owner.token,
        )
        .header(
            "content-type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(upload)
        .send()
        .await
        .unwrap();
    let (status, attachment) = read(res).await;
    assert_eq!(status, StatusCode::CREATED, "{attachment}");
    Source {
        owner,
        workspace,
        project,
        attachment: attachment["data"]["id"].as_str().unwrap().to_string(),
    }
}

/// Exports through the API: 202, the job, then the state with its link, then the bytes.
async fn export_archive(app: &TestApp, token: &str, workspace: &str) -> Vec<u8> {
    let res = app
        .as_user(
            Method::POST,
            &format!("/v1/workspaces/{workspace}/exports"),
            token,
        )
        .send()
        .await
        .unwrap();
    let (status, body) = read(res).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(body["data"]["state"], "QUEUED");
    assert!(body["data"]["download_url"].is_null());
    let id = body["data"]["id"].as_str().unwrap().to_string();
    let path = format!("/v1/workspaces/{workspace}/exports/{id}");
    let res = app
        .as_user(Method::GET, &format!("{path}/download"), token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::CONFLICT,
        "not ready before the job runs"
    );
    app.run_due_jobs(kanri::clock::now_ms()).await;
    let (status, body) = app.call(Method::GET, &path, token, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["state"], "DONE", "{body}");
    assert!(body["data"]["total"].as_i64().unwrap() > 0);
    assert_eq!(body["data"]["progress"], body["data"]["total"]);
    let link = body["data"]["download_url"].as_str().unwrap();
    assert!(link.ends_with(&format!("{path}/download")), "{link}");
    let res = app
        .as_user(Method::GET, &format!("{path}/download"), token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "application/zip");
    let bytes = res.bytes().await.unwrap().to_vec();
    assert_eq!(
        body["data"]["size_bytes"].as_u64(),
        Some(bytes.len() as u64)
    );
    bytes
}

async fn secret_key(app: &TestApp) -> String {
    let (_, key) =
        kanri::services::tenants::create_key(&app.cx, "default", KeyKind::Secret, "import")
            .await
            .unwrap();
    key.expose().to_string()
}

/// Imports through the API: 202 with the queued import, the job, then its outcome. Answers
/// the final state: `DONE` with `summary`, or `FAILED` with `error` ({code, message, details}).
async fn import_archive(app: &TestApp, key: &str, archive: &[u8], remap: bool) -> Value {
    let path = format!("/v1/imports?remap_ids={remap}");
    let res = app
        .request(Method::POST, &path)
        .header("X-Api-Key", key)
        .header("content-type", "application/zip")
        .body(archive.to_vec())
        .send()
        .await
        .unwrap();
    let (status, body) = read(res).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(body["data"]["state"], "QUEUED");
    let id = body["data"]["id"].as_str().unwrap().to_string();
    app.run_due_jobs(kanri::clock::now_ms()).await;
    let res = app
        .request(Method::GET, &format!("/v1/imports/{id}"))
        .header("X-Api-Key", key)
        .send()
        .await
        .unwrap();
    let (status, body) = read(res).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let job = body["data"].clone();
    assert!(job["state"] == "DONE" || job["state"] == "FAILED", "{job}");
    job
}

/// Every exported row of the workspace, as the export reads them (activity left out: each
/// instance keeps its own log), and what must differ between instances blanked.
async fn rows_of(app: &TestApp, workspace: &str) -> BTreeMap<&'static str, Vec<JsonRow>> {
    let mut tables = kanri::services::transfer::export::collect(&app.cx, "default", workspace)
        .await
        .unwrap();
    tables.remove("activity");
    for user in tables.get_mut("users").unwrap() {
        // Users the target did not know are created by the import, now.
        user.remove("created_at");
    }
    tables
}

async fn stored_bytes(app: &TestApp, workspace: &str, attachment: &str) -> Vec<u8> {
    let key = kanri::storage::Storage::key("default", workspace, attachment);
    let mut stream = app.runner.storage.open(&key, None).await.unwrap();
    let mut out = Vec::new();
    while let Some(chunk) = stream.next().await {
        out.extend_from_slice(&chunk.unwrap());
    }
    out
}

async fn count(app: &TestApp, table: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}")))
        .fetch_one(app.db.read())
        .await
        .unwrap()
}

async fn round_trip(source: TestApp, target: TestApp) {
    let src = populate(&source).await;
    let archive = export_archive(&source, &src.owner.token, &src.workspace).await;
    let key = secret_key(&target).await;
    let job = import_archive(&target, &key, &archive, false).await;
    assert_eq!(job["state"], "DONE", "{job}");
    assert_eq!(job["progress"], job["total"]);
    let summary = &job["summary"];
    assert_eq!(
        summary["workspace_id"],
        src.workspace.as_str(),
        "ids are kept"
    );
    assert_eq!(summary["counts"]["tasks"], 2);
    assert_eq!(summary["counts"]["users_created"], 2);
    assert_eq!(summary["counts"]["files"], 1);

    let before = rows_of(&source, &src.workspace).await;
    let after = rows_of(&target, &src.workspace).await;
    for (table, rows) in &before {
        assert!(
            !rows.is_empty() || *table == "roles",
            "{table} was populated"
        );
        assert_eq!(rows, &after[table], "{table} round-trips");
    }
    assert_eq!(
        stored_bytes(&target, &src.workspace, &src.attachment).await,
        FILE_BYTES
    );

    // Again without remapping: refused, nothing changed.
    let tasks = count(&target, "tasks").await;
    let workspaces = count(&target, "workspaces").await;
    let files = target.runner.storage.list_keys("").await.unwrap().len();
    let job = import_archive(&target, &key, &archive, false).await;
    assert_eq!(job["state"], "FAILED", "{job}");
    assert_eq!(job["error"]["code"], "import_conflict");
    assert!(
        job["error"]["message"]
            .as_str()
            .unwrap()
            .contains("remap_ids"),
        "{job}"
    );
    assert_eq!(count(&target, "tasks").await, tasks);
    assert_eq!(count(&target, "workspaces").await, workspaces);
    assert_eq!(
        target.runner.storage.list_keys("").await.unwrap().len(),
        files
    );

    // With remapping: a second copy, every reference rewritten, the same people.
    let job = import_archive(&target, &key, &archive, true).await;
    assert_eq!(job["state"], "DONE", "{job}");
    let copy = job["summary"]["workspace_id"].as_str().unwrap().to_string();
    assert_ne!(copy, src.workspace);
    assert_eq!(
        job["summary"]["counts"]["users_created"], 0,
        "matched by email"
    );
    assert_eq!(count(&target, "tasks").await, tasks * 2);
    let copied = rows_of(&target, &copy).await;
    assert_eq!(copied["tasks"].len(), 2);
    assert_eq!(copied["users"], after["users"]);
    let titles = |rows: &[JsonRow]| rows.iter().map(|r| r["title"].clone()).collect::<Vec<_>>();
    assert_eq!(titles(&copied["tasks"]), titles(&after["tasks"]));
    let copied_ids: Vec<&Value> = copied["tasks"].iter().map(|t| &t["id"]).collect();
    let subtask = copied["tasks"]
        .iter()
        .find(|t| !t["parent_id"].is_null())
        .unwrap();
    assert!(
        copied_ids.contains(&&subtask["parent_id"]),
        "the parent is the copy's"
    );
    let slugs: Vec<String> = sqlx::query_scalar("SELECT slug FROM workspaces ORDER BY slug")
        .fetch_all(target.db.read())
        .await
        .unwrap();
    assert_eq!(slugs, ["acme", "acme-2"]);
    let copied_file = copied["attachments"][0]["id"].as_str().unwrap();
    assert_eq!(stored_bytes(&target, &copy, copied_file).await, FILE_BYTES);
    // The first workspace's project is still the only one under its id.
    assert_eq!(after["projects"][0]["id"], src.project.as_str());
}

#[tokio::test]
async fn an_export_imports_into_a_fresh_instance_from_sqlite() {
    round_trip(sqlite_app().await, TestApp::spawn().await).await;
}

#[tokio::test]
async fn an_export_imports_into_a_fresh_instance_into_sqlite() {
    round_trip(TestApp::spawn().await, sqlite_app().await).await;
}

#[tokio::test]
async fn a_bad_archive_is_refused_with_its_line_and_nothing_written() {
    let app = TestApp::spawn().await;
    let key = secret_key(&app).await;
    // No body, or not a zip: refused at once, nothing queued.
    for body in [&b""[..], b"not a zip"] {
        let res = app
            .request(Method::POST, "/v1/imports")
            .header("X-Api-Key", &key)
            .body(body.to_vec())
            .send()
            .await
            .unwrap();
        let (status, body) = read(res).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(body["code"], "validation_failed", "{body}");
        assert_eq!(body["details"][0]["field"], "body", "{body}");
    }
    assert_eq!(count(&app, "imports").await, 0);
    let src = populate(&app).await;
    let archive = export_archive(&app, &src.owner.token, &src.workspace).await;
    let tasks = count(&app, "tasks").await;
    let files = app.runner.storage.list_keys("").await.unwrap().len();
    // A table line of the wrong type: refused while reading, before anything is stored.
    let broken = rewrite_entry(&archive, "tables/comments.jsonl", |text| {
        let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
        let mut second: Value = serde_json::from_str(&lines[1]).unwrap();
        second["created_at"] = json!("yesterday");
        lines[1] = second.to_string();
        lines.join("\n") + "\n"
    });
    let job = import_archive(&app, &key, &broken, true).await;
    assert_eq!(job["error"]["code"], "validation_failed", "{job}");
    assert_eq!(
        job["error"]["details"][0]["field"], "tables/comments.jsonl line 2, column created_at",
        "{job}"
    );
    // A value only the schema refuses, found when the rows are written after the files were
    // stored: the row is named and the stored files are deleted again.
    let broken = rewrite_entry(&archive, "tables/tasks.jsonl", |text| {
        text.replace("\"status\":\"IN_PROGRESS\"", "\"status\":\"BLOCKED\"")
    });
    let job = import_archive(&app, &key, &broken, true).await;
    assert_eq!(job["state"], "FAILED", "{job}");
    assert_eq!(
        job["error"]["details"][0]["field"], "tables/tasks.jsonl line 2",
        "{job}"
    );
    assert_eq!(count(&app, "tasks").await, tasks);
    assert_eq!(count(&app, "workspaces").await, 1);
    assert_eq!(app.runner.storage.list_keys("").await.unwrap().len(), files);
}

/// The archive with one entry's text changed.
fn rewrite_entry(archive: &[u8], entry_name: &str, change: impl Fn(&str) -> String) -> Vec<u8> {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(archive.to_vec())).unwrap();
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i).unwrap();
        let name = entry.name().to_string();
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut entry, &mut bytes).unwrap();
        if name == entry_name {
            let changed = change(std::str::from_utf8(&bytes).unwrap());
            assert_ne!(changed.as_bytes(), bytes, "{entry_name} changed");
            bytes = changed.into_bytes();
        }
        out.start_file(name, zip::write::SimpleFileOptions::default())
            .unwrap();
        out.write_all(&bytes).unwrap();
    }
    out.finish().unwrap().into_inner()
}

#[tokio::test]
async fn a_csv_with_a_bad_row_imports_nothing_and_names_the_line() {
    let app = TestApp::spawn().await;
    let src = populate(&app).await;
    let tasks = count(&app, "tasks").await;
    let csv = "Summary,State,Owner,Due,Tags\n\
               Ship the site,In progress,member@example.com,2026-04-01,web;urgent\n\
               Tell customers,todo,,,\n\
               Celebrate,Blocked,,,\n";
    let path = format!(
        "/v1/projects/{}/imports/csv?mapping=title%3DSummary,status%3DState,assignee%3DOwner,due_date%3DDue,labels%3DTags",
        src.project
    );
    let send = |body: &'static str| {
        app.as_user(Method::POST, &path, &src.owner.token)
            .header("content-type", "text/csv")
            .body(body)
            .send()
    };
    let (status, body) = read(send(csv).await.unwrap()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(
        body["details"][0]["field"], "line 4, status (column State)",
        "{body}"
    );
    assert_eq!(count(&app, "tasks").await, tasks, "nothing imported");
    // An assignee who is not on the project is refused too.
    let (status, body) = read(send("Summary,Owner\nA,owner2@example.com\n").await.unwrap()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(count(&app, "tasks").await, tasks);

    let good = csv.rsplit_once("Celebrate").unwrap().0;
    let good: &'static str = Box::leak(good.to_string().into_boxed_str());
    let (status, body) = read(send(good).await.unwrap()).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["data"]["counts"]["tasks"], 2);
    assert_eq!(
        body["data"]["counts"]["labels_created"], 1,
        "web is new, urgent exists"
    );
    let (_, list) = app
        .call(
            Method::GET,
            &format!("/v1/projects/{}/tasks?limit=100", src.project),
            &src.owner.token,
            None,
        )
        .await;
    let shipped = list["data"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["title"] == "Ship the site")
        .unwrap();
    assert_eq!(shipped["status"], "IN_PROGRESS");
    assert_eq!(
        shipped["assignee"]["email"], "member@example.com",
        "{shipped}"
    );
    let names: Vec<&str> = shipped["labels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 2, "{shipped}");
}

#[tokio::test]
async fn a_trello_board_becomes_a_project() {
    let app = TestApp::spawn().await;
    let owner = app.register("owner@example.com").await;
    let workspace = app.create_workspace(&owner.token, "Acme").await;
    let board = include_str!("fixtures/trello_board.json");
    let res = app
        .as_user(
            Method::POST,
            &format!("/v1/workspaces/{workspace}/imports/trello"),
            &owner.token,
        )
        .header("content-type", "application/json")
        .body(board)
        .send()
        .await
        .unwrap();
    let (status, body) = read(res).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    // Three open cards and two checklist items; the archived card and list are left out.
    assert_eq!(body["data"]["counts"]["tasks"], 5, "{body}");
    assert_eq!(body["data"]["counts"]["comments"], 2);
    let project = body["data"]["project_id"].as_str().unwrap();
    let (status, got) = app
        .call(
            Method::GET,
            &format!("/v1/projects/{project}"),
            &owner.token,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{got}");
    assert_eq!(got["data"]["name"], "Website relaunch");
    let (_, list) = app
        .call(
            Method::GET,
            &format!("/v1/projects/{project}/tasks?limit=100&sort=position"),
            &owner.token,
            None,
        )
        .await;
    let items = list["data"]["items"].as_array().unwrap();
    let by_title = |t: &str| {
        items
            .iter()
            .find(|i| i["title"] == t)
            .unwrap_or_else(|| panic!("{t} in {list}"))
    };
    let copy = by_title("Write the landing page copy");
    assert_eq!(copy["status"], "TODO");
    assert_eq!(copy["due_date"], "2026-03-02T17:00:00.000Z");
    assert_eq!(copy["labels"][0]["name"], "copy");
    assert_eq!(by_title("Pick a hosting provider")["status"], "IN_PROGRESS");
    assert_eq!(by_title("Register the domain")["status"], "DONE");
    assert_eq!(by_title("Hero")["status"], "DONE");
    assert_eq!(by_title("Hero")["parent_id"], copy["id"]);
    assert!(items.iter().all(|i| i["title"] != "Archived card"));
    let copy_id = copy["id"].as_str().unwrap();
    let (_, comments) = app
        .call(
            Method::GET,
            &format!("/v1/tasks/{copy_id}/comments"),
            &owner.token,
            None,
        )
        .await;
    let texts: Vec<&str> = comments["data"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["content"].as_str().unwrap())
        .collect();
    assert_eq!(
        texts,
        [
            "Ada Lovelace (on Trello): First draft done, needs a review.",
            "Ada Lovelace (on Trello): Second draft is in the doc."
        ]
    );
}

#[tokio::test]
async fn outsiders_cannot_export_or_import_and_members_cannot_export() {
    let app = TestApp::spawn().await;
    let src = populate(&app).await;
    let outsider = app.register("outsider@example.com").await;
    app.create_workspace(&outsider.token, "Elsewhere").await;
    let ws = &src.workspace;
    let (status, _) = app
        .call(
            Method::POST,
            &format!("/v1/workspaces/{ws}/exports"),
            &outsider.token,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let res = app
        .as_user(
            Method::POST,
            &format!("/v1/projects/{}/imports/csv", src.project),
            &outsider.token,
        )
        .body("title\nsneaky\n")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let res = app
        .as_user(
            Method::POST,
            &format!("/v1/workspaces/{ws}/imports/trello"),
            &outsider.token,
        )
        .body(include_str!("fixtures/trello_board.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    // A plain member may not take the whole workspace out.
    let member = read(
        app.request(Method::POST, "/v1/auth/login")
            .json(&json!({"email": "member@example.com", "password": crate::helpers::PASSWORD}))
            .send()
            .await
            .unwrap(),
    )
    .await
    .1["data"]["token"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, body) = app
        .call(
            Method::POST,
            &format!("/v1/workspaces/{ws}/exports"),
            &member,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    // An owner's export is not readable by an outsider either.
    let res = app
        .as_user(
            Method::POST,
            &format!("/v1/workspaces/{ws}/exports"),
            &src.owner.token,
        )
        .send()
        .await
        .unwrap();
    let id = read(res).await.1["data"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.run_due_jobs(kanri::clock::now_ms()).await;
    let res = app
        .as_user(
            Method::GET,
            &format!("/v1/workspaces/{ws}/exports/{id}/download"),
            &outsider.token,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    // The archive import needs the secret key: a session is not enough.
    let res = app
        .as_user(Method::POST, "/v1/imports", &src.owner.token)
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_cli_exports_and_imports_with_remapped_ids() {
    let app = TestApp::spawn().await;
    let src = populate(&app).await;
    let url = app.config.database.url.expose().to_string();
    let run = |args: &[&str]| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_kanri"));
        for (key, _) in std::env::vars().filter(|(k, _)| k.starts_with("KANRI_")) {
            cmd.env_remove(key);
        }
        cmd.args(args)
            .env("KANRI_DATA_DIR", app.dir.path())
            .env("KANRI_DATABASE_URL", &url);
        cmd.output().expect("kanri runs")
    };
    let file = app.dir.path().join("acme.zip");
    let out = run(&[
        "export",
        "--workspace",
        &src.workspace,
        "--out",
        file.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(printed["manifest"]["counts"]["tasks"], 2);
    assert_eq!(printed["manifest"]["format"], "kanri.workspace-export");
    let out = run(&["import", file.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--remap-ids"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run(&["import", file.to_str().unwrap(), "--remap-ids"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["counts"]["tasks"], 2);
    assert_eq!(count(&app, "workspaces").await, 2);
    let csv = app.dir.path().join("tasks.csv");
    std::fs::write(&csv, "title,priority\nFrom the CLI,high\n").unwrap();
    let out = run(&["import", csv.to_str().unwrap(), "--project", &src.project]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(count(&app, "tasks").await, 5);
}
