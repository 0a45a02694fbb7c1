//! Attachments over HTTP: uploads (multipart and the seed's base64), limits, names, sniffing,
//! downloads with ranges, signed links, who may see and delete, and the purge of deleted
//! tasks' and projects' files. With `KANRI_TEST_S3_URL` (plus the `AWS_*` endpoint and
//! credentials) every test stores its files in that bucket, under a prefix of its own.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use kanri::config::{Config, Secret};
use kanri::storage::Storage;
use kanri::storage::signing::SigningKey;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{SignedIn, TestApp, expect_error, read};

const LIMIT: u64 = 256 * 1024;
const KEY: &str = "attachments-test-signing-key-0123456789";
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0";

async fn spawn() -> TestApp {
    spawn_with(|_| {}).await
}

async fn spawn_with(adjust: impl FnOnce(&mut Config)) -> TestApp {
    TestApp::spawn_with(|c| {
        c.storage.max_upload_bytes = LIMIT;
        c.storage.signing_key = Some(Secret::new(KEY.into()));
        if let Ok(url) = std::env::var("KANRI_TEST_S3_URL") {
            let prefix = uuid::Uuid::now_v7().simple();
            c.storage
                .set_url(format!("{}/{prefix}", url.trim_end_matches('/')))
                .unwrap();
        }
        adjust(c);
    })
    .await
}

/// An owner with a workspace, a project and a task.
struct World {
    owner: SignedIn,
    workspace: String,
    project: String,
    task: String,
}

async fn world(app: &TestApp) -> World {
    let owner = app.register("owner@example.com").await;
    let workspace = app.create_workspace(&owner.token, "Files").await;
    let project = app
        .create_project(&owner.token, &workspace, json!({"name": "Docs"}))
        .await;
    let task = app
        .create_task(&owner.token, &project, json!({"title": "Spec"}))
        .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    World {
        owner,
        workspace,
        project,
        task,
    }
}

const BOUNDARY: &str = "kanri-test-boundary-7MA4YWxkTrZu0gW";

/// A multipart body with `note` before the `file` field.
fn multipart(filename: &str, bytes: &[u8]) -> Vec<u8> {
    let mut body = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhello\r\n\
         --{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\n\
         Content-Type: image/png\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    body
}

async fn upload_raw(
    app: &TestApp,
    token: &str,
    task: &str,
    filename: &str,
    bytes: &[u8],
) -> reqwest::Response {
    app.as_user(
        Method::POST,
        &format!("/v1/tasks/{task}/attachments"),
        token,
    )
    .header(
        "content-type",
        format!("multipart/form-data; boundary={BOUNDARY}"),
    )
    .body(multipart(filename, bytes))
    .send()
    .await
    .unwrap()
}

pub(crate) async fn upload(
    app: &TestApp,
    token: &str,
    task: &str,
    filename: &str,
    bytes: &[u8],
) -> Value {
    let (status, body) = read(upload_raw(app, token, task, filename, bytes).await).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["data"].clone()
}

async fn stored_keys(app: &TestApp) -> Vec<String> {
    Storage::from_config(&app.config.storage)
        .unwrap()
        .list_keys("")
        .await
        .unwrap()
}

async fn storage_bytes(app: &TestApp, w: &World) -> i64 {
    let (status, body) = app
        .call(
            Method::GET,
            &format!("/v1/workspaces/{}", w.workspace),
            &w.owner.token,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["data"]["storage_bytes"].as_i64().unwrap()
}

/// Status, headers and raw bytes of a download.
async fn fetch(req: reqwest::RequestBuilder) -> (StatusCode, reqwest::header::HeaderMap, Vec<u8>) {
    let res = req.send().await.unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    (status, headers, res.bytes().await.unwrap().to_vec())
}

fn header<'a>(headers: &'a reqwest::header::HeaderMap, name: &str) -> &'a str {
    headers.get(name).map_or("", |v| v.to_str().unwrap())
}

/// A link the server made, pointed at this test's server (tests bind port 0, so
/// `KANRI_APP_URL` cannot name the real port).
fn local(app: &TestApp, url: &str) -> String {
    let path = url.find("/v1/").map_or(url, |i| &url[i..]);
    format!("{}{path}", app.base)
}

fn random_bytes(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 7919 % 251) as u8).collect()
}

#[tokio::test]
async fn multipart_upload_round_trips_and_is_counted() {
    let app = spawn().await;
    let w = world(&app).await;
    let bytes = random_bytes(200_000);
    let a = upload(&app, &w.owner.token, &w.task, "data.bin", &bytes).await;
    assert_eq!(a["size_bytes"], 200_000);
    assert_eq!(a["filename"], "data.bin");
    assert_eq!(a["task_id"], w.task.as_str());
    assert_eq!(a["project_id"], w.project.as_str());
    assert_eq!(a["uploaded_by"], w.owner.user_id.as_str());
    // The client said image/png; the bytes say otherwise.
    assert_eq!(a["content_type"], "application/octet-stream");
    let id = a["id"].as_str().unwrap();

    let (status, headers, got) = fetch(app.as_user(
        Method::GET,
        &format!("/v1/attachments/{id}/download"),
        &w.owner.token,
    ))
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(got == bytes, "the bytes round-trip exactly");
    assert_eq!(header(&headers, "content-length"), "200000");
    assert_eq!(header(&headers, "accept-ranges"), "bytes");
    assert_eq!(header(&headers, "x-content-type-options"), "nosniff");
    assert!(header(&headers, "content-disposition").starts_with("attachment;"));

    let (status, body) = app
        .call(
            Method::GET,
            &format!("/v1/attachments/{id}"),
            &w.owner.token,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["sha256"], a["sha256"]);

    let second = upload(&app, &w.owner.token, &w.task, "pixel.png", PNG).await;
    assert_eq!(second["content_type"], "image/png");
    let ids = app
        .collect_ids(
            &format!("/v1/tasks/{}/attachments", w.task),
            &w.owner.token,
            1,
        )
        .await;
    assert_eq!(ids, [id, second["id"].as_str().unwrap()]);
    assert_eq!(storage_bytes(&app, &w).await, 200_000 + PNG.len() as i64);
    assert_eq!(stored_keys(&app).await.len(), 2);
}

/// The signed link a seed 000 task's `attachmentUrl` holds, split into its parts.
struct SeedLink {
    id: String,
    expires: i64,
    sig: String,
}

impl SeedLink {
    fn parse(url: &str) -> Self {
        let url = reqwest::Url::parse(url).unwrap();
        let id = url.path().strip_prefix("/v1/files/").unwrap().to_string();
        let query = |name: &str| {
            url.query_pairs()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.to_string())
                .unwrap_or_else(|| panic!("{name} in {url}"))
        };
        Self {
            id,
            expires: query("expires").parse().unwrap(),
            sig: query("sig"),
        }
    }

    fn url(&self, app: &TestApp) -> String {
        format!(
            "{}/v1/files/{}?expires={}&sig={}",
            app.base, self.id, self.expires, self.sig
        )
    }
}

#[tokio::test]
async fn a_seed_attachment_url_opens_without_credentials_and_refuses_tampering() {
    let app = spawn().await;
    let user = app.register("seed@example.com").await;
    let (_, project) = app
        .call(
            Method::POST,
            "/api/create-project",
            &user.token,
            Some(json!({"name": "Seed project"})),
        )
        .await;
    let bytes = random_bytes(70_000);
    let (status, created) = app
        .call(
            Method::POST,
            "/api/create-task",
            &user.token,
            Some(json!({
                "projectId": project["project"]["id"],
                "title": "With a file",
                "attachment": {"file_base64": STANDARD.encode(&bytes), "filename": "data.bin"},
            })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{created}");
    let link = SeedLink::parse(created["task"]["attachmentUrl"].as_str().unwrap());

    // No Authorization, no cookie, no key: 200 and the bytes, ranges too.
    let plain = reqwest::Client::new();
    let (status, _, got) = fetch(plain.get(link.url(&app))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(got, bytes);
    let (status, _, got) = fetch(plain.get(link.url(&app)).header("range", "bytes=10-19")).await;
    assert_eq!(status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(got, &bytes[10..20]);

    // It is meant to be kept, as the seed keeps its URL: years, not the 15 minutes of a
    // `POST /v1/attachments/{id}/url` link.
    let now = kanri::clock::now_ms() / 1000;
    assert!(
        link.expires > now + 9 * 365 * 24 * 3600,
        "expires {}",
        link.expires
    );

    // Tampered: a changed signature, a later expiry, another attachment's id, no signature.
    let mut flipped = link.sig.clone().into_bytes();
    flipped[0] = if flipped[0] == b'0' { b'1' } else { b'0' };
    let tampered = [
        SeedLink {
            sig: String::from_utf8(flipped).unwrap(),
            ..SeedLink::parse(&link.url(&app))
        },
        SeedLink {
            expires: link.expires + 1,
            ..SeedLink::parse(&link.url(&app))
        },
        SeedLink {
            id: uuid::Uuid::now_v7().to_string(),
            ..SeedLink::parse(&link.url(&app))
        },
        SeedLink {
            sig: "00".repeat(32),
            ..SeedLink::parse(&link.url(&app))
        },
    ];
    for bad in tampered {
        let res = plain.get(bad.url(&app)).send().await.unwrap();
        expect_error(res, StatusCode::FORBIDDEN, "forbidden").await;
    }

    // Deleting the file ends the link.
    let (status, body) = app
        .call(
            Method::DELETE,
            &format!("/v1/attachments/{}", link.id),
            &user.token,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let res = plain.get(link.url(&app)).send().await.unwrap();
    expect_error(res, StatusCode::NOT_FOUND, "not_found").await;
}

#[tokio::test]
async fn seed_base64_attachment_round_trips_and_sets_attachment_url() {
    let app = spawn().await;
    let user = app.register("seed@example.com").await;
    let res = app
        .as_user(Method::POST, "/api/create-project", &user.token)
        .json(&json!({"name": "Seed project"}))
        .send()
        .await
        .unwrap();
    let project: Value = res.json().await.unwrap();
    let project_id = project["project"]["id"].as_str().unwrap();
    let res = app
        .as_user(Method::POST, "/api/create-task", &user.token)
        .json(&json!({
            "projectId": project_id,
            "title": "With a file",
            "attachment": {"file_base64": STANDARD.encode(PNG), "filename": "shot.png", "content_type": "text/html"},
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let created: Value = res.json().await.unwrap();
    let url = created["task"]["attachmentUrl"]
        .as_str()
        .unwrap()
        .to_string();
    // Like the seed's storage URL, it opens with no credential at all: a signed link.
    let files = format!("{}/v1/files/", app.config.server.app_url);
    assert!(url.starts_with(&files), "{url}");
    let url = local(&app, &url);
    let (status, headers, got) = fetch(app.client.get(&url)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(got, PNG);
    assert_eq!(header(&headers, "content-type"), "image/png");
    assert!(header(&headers, "content-disposition").starts_with("inline;"));

    // Without an attachment the URL is null, as in the seed.
    let res = app
        .as_user(Method::POST, "/api/create-task", &user.token)
        .json(&json!({"projectId": project_id, "title": "Plain"}))
        .send()
        .await
        .unwrap();
    let created: Value = res.json().await.unwrap();
    assert!(created["task"]["attachmentUrl"].is_null(), "{created}");

    // Bad base64 creates nothing.
    let before = app
        .collect_ids(
            &format!("/v1/projects/{project_id}/tasks"),
            &user.token,
            100,
        )
        .await
        .len();
    let res = app
        .as_user(Method::POST, "/api/create-task", &user.token)
        .json(&json!({"projectId": project_id, "title": "Broken",
            "attachment": {"file_base64": "%%%not base64", "filename": "x.txt"}}))
        .send()
        .await
        .unwrap();
    expect_error(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    let after = app
        .collect_ids(
            &format!("/v1/projects/{project_id}/tasks"),
            &user.token,
            100,
        )
        .await
        .len();
    assert_eq!(before, after);
}

#[tokio::test]
async fn too_large_uploads_are_413_and_leave_nothing() {
    let app = spawn().await;
    let w = world(&app).await;
    let res = upload_raw(
        &app,
        &w.owner.token,
        &w.task,
        "big.bin",
        &random_bytes(LIMIT as usize + 1),
    )
    .await;
    let body = expect_error(res, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").await;
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains(&LIMIT.to_string()),
        "{body}"
    );

    // Past the first part the upload is multipart; it is aborted, not completed.
    let app_big = spawn_with(|c| c.storage.max_upload_bytes = 6 * 1024 * 1024).await;
    let wb = world(&app_big).await;
    let res = upload_raw(
        &app_big,
        &wb.owner.token,
        &wb.task,
        "big.bin",
        &random_bytes(6 * 1024 * 1024 + 10),
    )
    .await;
    expect_error(res, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").await;
    assert!(stored_keys(&app_big).await.is_empty());
    assert_eq!(storage_bytes(&app_big, &wb).await, 0);

    let oversized = STANDARD.encode(random_bytes(LIMIT as usize + 1));
    let res = app
        .as_user(Method::POST, "/api/create-task", &w.owner.token)
        .json(&json!({"projectId": w.project, "title": "Big",
            "attachment": {"file_base64": oversized, "filename": "big.bin"}}))
        .send()
        .await
        .unwrap();
    expect_error(res, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").await;

    assert!(stored_keys(&app).await.is_empty());
    assert_eq!(storage_bytes(&app, &w).await, 0);
    let ids = app
        .collect_ids(
            &format!("/v1/tasks/{}/attachments", w.task),
            &w.owner.token,
            10,
        )
        .await;
    assert!(ids.is_empty());
    let tasks = app
        .collect_ids(
            &format!("/v1/projects/{}/tasks", w.project),
            &w.owner.token,
            10,
        )
        .await;
    assert_eq!(
        tasks,
        std::slice::from_ref(&w.task),
        "the oversized seed task was not created"
    );

    // Exactly the limit is fine.
    upload(
        &app,
        &w.owner.token,
        &w.task,
        "edge.bin",
        &random_bytes(LIMIT as usize),
    )
    .await;
}

#[tokio::test]
async fn bad_forms_are_refused() {
    let app = spawn().await;
    let w = world(&app).await;
    let path = format!("/v1/tasks/{}/attachments", w.task);
    let res = app
        .as_user(Method::POST, &path, &w.owner.token)
        .json(&json!({"file": "x"}))
        .send()
        .await
        .unwrap();
    expect_error(
        res,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    )
    .await;
    let res = app
        .as_user(Method::POST, &path, &w.owner.token)
        .header("content-type", format!("multipart/form-data; boundary={BOUNDARY}"))
        .body(format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"other\"\r\n\r\nx\r\n--{BOUNDARY}--\r\n"))
        .send()
        .await
        .unwrap();
    let body = expect_error(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(body["details"][0]["field"], "file", "{body}");
}

#[tokio::test]
async fn names_are_sanitised() {
    let app = spawn().await;
    let w = world(&app).await;
    let a = upload(
        &app,
        &w.owner.token,
        &w.task,
        "../../etc/passwd",
        b"root:x:0:0",
    )
    .await;
    assert_eq!(a["filename"], "passwd");
    let a = upload(&app, &w.owner.token, &w.task, "..\\..\\boot.ini", b"x").await;
    assert_eq!(a["filename"], "boot.ini");
    let a = upload(
        &app,
        &w.owner.token,
        &w.task,
        "Übersicht 資料.txt",
        b"hello",
    )
    .await;
    assert_eq!(a["filename"], "Übersicht 資料.txt");
    let id = a["id"].as_str().unwrap();
    let (_, headers, _) = fetch(app.as_user(
        Method::GET,
        &format!("/v1/attachments/{id}/download"),
        &w.owner.token,
    ))
    .await;
    assert_eq!(
        header(&headers, "content-disposition"),
        "inline; filename=\"_bersicht __.txt\"; filename*=UTF-8''%C3%9Cbersicht%20%E8%B3%87%E6%96%99.txt"
    );
    // Control characters in a JSON body are refused (the one input rule, seed routes too)…
    let res = app
        .as_user(Method::POST, "/api/create-task", &w.owner.token)
        .json(&json!({"projectId": w.project, "title": "Names",
            "attachment": {"file_base64": STANDARD.encode(b"x"), "filename": "a\u{0}b\r\nc.txt"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // …while line breaks and direction-changing characters, allowed in text, leave the name.
    let res = app
        .as_user(Method::POST, "/api/create-task", &w.owner.token)
        .json(&json!({"projectId": w.project, "title": "Names",
            "attachment": {"file_base64": STANDARD.encode(b"x"), "filename": "a\r\nb\u{202e}c.txt"}}))
        .send()
        .await
        .unwrap();
    let created: Value = res.json().await.unwrap();
    let task = created["task"]["id"].as_str().unwrap();
    let (_, body) = app
        .call(
            Method::GET,
            &format!("/v1/tasks/{task}/attachments"),
            &w.owner.token,
            None,
        )
        .await;
    assert_eq!(body["data"]["items"][0]["filename"], "abc.txt", "{body}");
    // Keys are ours, never the client's name.
    for key in stored_keys(&app).await {
        assert!(!key.contains("passwd") && !key.contains(".."), "{key}");
    }
}

#[tokio::test]
async fn active_content_is_served_as_a_download() {
    let app = spawn().await;
    let w = world(&app).await;
    for (name, bytes) in [
        (
            "x.png",
            &b"<html><body><script>alert(1)</script></body></html>"[..],
        ),
        (
            "icon.png",
            &b"<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"/>"[..],
        ),
        ("data.txt", &b"<?xml version=\"1.0\"?><a/>"[..]),
    ] {
        let a = upload(&app, &w.owner.token, &w.task, name, bytes).await;
        assert_ne!(a["content_type"], "image/png", "{name}");
        let id = a["id"].as_str().unwrap();
        let (status, headers, got) = fetch(app.as_user(
            Method::GET,
            &format!("/v1/attachments/{id}/download"),
            &w.owner.token,
        ))
        .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(got, bytes);
        assert_eq!(
            header(&headers, "content-type"),
            "application/octet-stream",
            "{name}"
        );
        assert!(
            header(&headers, "content-disposition").starts_with("attachment;"),
            "{name}"
        );
        assert_eq!(header(&headers, "x-content-type-options"), "nosniff");
        assert!(header(&headers, "content-security-policy").contains("sandbox"));
    }
}

#[tokio::test]
async fn other_tenants_and_non_members_see_nothing() {
    let app = spawn().await;
    let w = world(&app).await;
    let a = upload(&app, &w.owner.token, &w.task, "secret.txt", b"secret").await;
    let id = a["id"].as_str().unwrap();

    let stranger = app.register("stranger@example.com").await;
    let tenant = app.create_tenant("Other").await;
    let foreign = app
        .register_with("owner@example.com", Some(&tenant.publishable_key))
        .await;
    for token in [&stranger.token, &foreign.token] {
        for (method, path) in [
            (Method::GET, format!("/v1/attachments/{id}")),
            (Method::GET, format!("/v1/attachments/{id}/download")),
            (Method::POST, format!("/v1/attachments/{id}/url")),
            (Method::DELETE, format!("/v1/attachments/{id}")),
            (Method::GET, format!("/v1/tasks/{}/attachments", w.task)),
        ] {
            let res = app
                .as_user(method.clone(), &path, token)
                .send()
                .await
                .unwrap();
            expect_error(res, StatusCode::NOT_FOUND, "not_found").await;
        }
        let res = upload_raw(&app, token, &w.task, "x.txt", b"x").await;
        expect_error(res, StatusCode::NOT_FOUND, "not_found").await;
    }
    // A member outside the (private) project sees nothing either.
    let outsider = app.register("outsider@example.com").await;
    app.add_member(&w.owner.token, &w.workspace, &outsider, "MEMBER")
        .await;
    let res = app
        .as_user(
            Method::GET,
            &format!("/v1/attachments/{id}/download"),
            &outsider.token,
        )
        .send()
        .await
        .unwrap();
    expect_error(res, StatusCode::NOT_FOUND, "not_found").await;
    // Without any session: 401.
    let res = app.get(&format!("/v1/attachments/{id}/download")).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn ranges_are_served() {
    let app = spawn().await;
    let w = world(&app).await;
    let bytes = random_bytes(1000);
    let a = upload(&app, &w.owner.token, &w.task, "r.bin", &bytes).await;
    let path = format!("/v1/attachments/{}/download", a["id"].as_str().unwrap());
    for (range, want, content_range) in [
        ("bytes=0-9", 0..10, "bytes 0-9/1000"),
        ("bytes=990-", 990..1000, "bytes 990-999/1000"),
        ("bytes=-100", 900..1000, "bytes 900-999/1000"),
        ("bytes=500-5000", 500..1000, "bytes 500-999/1000"),
    ] {
        let (status, headers, got) = fetch(
            app.as_user(Method::GET, &path, &w.owner.token)
                .header("range", range),
        )
        .await;
        assert_eq!(status, StatusCode::PARTIAL_CONTENT, "{range}");
        assert_eq!(got, &bytes[want.clone()], "{range}");
        assert_eq!(header(&headers, "content-range"), content_range);
        assert_eq!(header(&headers, "content-length"), want.len().to_string());
    }
    let res = app
        .as_user(Method::GET, &path, &w.owner.token)
        .header("range", "bytes=1000-")
        .send()
        .await
        .unwrap();
    assert_eq!(header(res.headers(), "content-range"), "bytes */1000");
    expect_error(
        res,
        StatusCode::RANGE_NOT_SATISFIABLE,
        "range_not_satisfiable",
    )
    .await;
    // Several ranges: the whole file.
    let (status, _, got) = fetch(
        app.as_user(Method::GET, &path, &w.owner.token)
            .header("range", "bytes=0-1,5-6"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(got, bytes);
}

#[tokio::test]
async fn signed_links_work_without_a_session_until_they_expire() {
    let app = spawn().await;
    let w = world(&app).await;
    let a = upload(&app, &w.owner.token, &w.task, "shared.png", PNG).await;
    let id = a["id"].as_str().unwrap();
    let (status, body) = app
        .call(
            Method::POST,
            &format!("/v1/attachments/{id}/url"),
            &w.owner.token,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let url = local(&app, body["data"]["url"].as_str().unwrap());
    let expires_at =
        chrono::DateTime::parse_from_rfc3339(body["data"]["expires_at"].as_str().unwrap()).unwrap();
    let ttl = expires_at.timestamp() - chrono::Utc::now().timestamp();
    assert!((850..=900).contains(&ttl), "{ttl}");

    let (status, headers, got) = fetch(app.client.get(&url)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(got, PNG);
    assert_eq!(header(&headers, "content-type"), "image/png");
    let (status, _, got) = fetch(app.client.get(&url).header("range", "bytes=0-3")).await;
    assert_eq!(status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(got, &PNG[..4]);

    // Tampered: another expiry, another id, another signature.
    let later = url.replace("expires=", "expires=9");
    let res = app.client.get(&later).send().await.unwrap();
    expect_error(res, StatusCode::FORBIDDEN, "forbidden").await;
    let other = upload(&app, &w.owner.token, &w.task, "other.png", PNG).await;
    let swapped = url.replace(id, other["id"].as_str().unwrap());
    let res = app.client.get(&swapped).send().await.unwrap();
    expect_error(res, StatusCode::FORBIDDEN, "forbidden").await;
    let mut forged = url.clone();
    let last = forged.pop().unwrap();
    forged.push(if last == '0' { '1' } else { '0' });
    let res = app.client.get(&forged).send().await.unwrap();
    expect_error(res, StatusCode::FORBIDDEN, "forbidden").await;

    // Expired: a correctly signed link whose time has passed.
    let key = SigningKey::new(KEY);
    let past = chrono::Utc::now().timestamp() - 1;
    let expired = kanri::services::attachments::signed_link(&app.base, &key, id, past);
    assert!(expired.starts_with(&app.base));
    let res = app.client.get(&expired).send().await.unwrap();
    let body = expect_error(res, StatusCode::FORBIDDEN, "forbidden").await;
    assert!(
        body["message"].as_str().unwrap().contains("expired"),
        "{body}"
    );

    // A deleted file's link stops working.
    let (status, _) = app
        .call(
            Method::DELETE,
            &format!("/v1/attachments/{id}"),
            &w.owner.token,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let res = app.client.get(&url).send().await.unwrap();
    expect_error(res, StatusCode::NOT_FOUND, "not_found").await;
}

#[tokio::test]
async fn on_sqlite_a_signing_key_is_made_and_kept() {
    if std::env::var("KANRI_TEST_DATABASE_URL").is_ok() {
        // On Postgres no key is made; see the next test.
        return;
    }
    let app = spawn_with(|c| c.storage.signing_key = None).await;
    let w = world(&app).await;
    let a = upload(&app, &w.owner.token, &w.task, "k.txt", b"kept").await;
    let path = format!("/v1/attachments/{}/url", a["id"].as_str().unwrap());
    let (_, body) = app.call(Method::POST, &path, &w.owner.token, None).await;
    let url = body["data"]["url"].as_str().unwrap().to_string();
    let (config, dir) = app.stop().await;
    assert!(dir.path().join("signing.key").exists());
    let app = TestApp::start(config, dir).await;
    // The link made before the restart still works: the key survived it.
    let (status, _, got) = fetch(app.client.get(local(&app, &url))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(got, b"kept");
}

#[tokio::test]
async fn without_a_key_on_postgres_signed_links_are_not_offered() {
    if std::env::var("KANRI_TEST_DATABASE_URL").is_err() {
        return;
    }
    let app = spawn_with(|c| c.storage.signing_key = None).await;
    let w = world(&app).await;
    let a = upload(&app, &w.owner.token, &w.task, "k.txt", b"x").await;
    let res = app
        .as_user(
            Method::POST,
            &format!("/v1/attachments/{}/url", a["id"].as_str().unwrap()),
            &w.owner.token,
        )
        .send()
        .await
        .unwrap();
    expect_error(res, StatusCode::SERVICE_UNAVAILABLE, "not_configured").await;
}

#[tokio::test]
async fn uploaders_and_admins_may_delete_others_may_not() {
    let app = spawn().await;
    let w = world(&app).await;
    let member = app.register("member@example.com").await;
    let other = app.register("other@example.com").await;
    let viewer = app.register("viewer@example.com").await;
    let admin = app.register("admin@example.com").await;
    for (user, role) in [
        (&member, "MEMBER"),
        (&other, "MEMBER"),
        (&viewer, "VIEWER"),
        (&admin, "ADMIN"),
    ] {
        app.add_member(&w.owner.token, &w.workspace, user, role)
            .await;
        app.add_project_member(&w.owner.token, &w.project, user)
            .await;
    }
    // A viewer may read but not upload.
    let res = upload_raw(&app, &viewer.token, &w.task, "v.txt", b"v").await;
    expect_error(res, StatusCode::FORBIDDEN, "forbidden").await;

    let mine = upload(&app, &member.token, &w.task, "mine.txt", b"mine").await;
    let theirs = upload(&app, &member.token, &w.task, "theirs.txt", b"theirs").await;
    assert_eq!(storage_bytes(&app, &w).await, 10);
    let path = |a: &Value| format!("/v1/attachments/{}", a["id"].as_str().unwrap());
    for token in [&other.token, &viewer.token] {
        let res = app
            .as_user(Method::DELETE, &path(&mine), token)
            .send()
            .await
            .unwrap();
        expect_error(res, StatusCode::FORBIDDEN, "forbidden").await;
    }
    let (status, body) = app
        .call(Method::DELETE, &path(&mine), &member.token, None)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _) = app
        .call(Method::DELETE, &path(&theirs), &admin.token, None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = app
        .call(Method::GET, &path(&mine), &member.token, None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(storage_bytes(&app, &w).await, 0);

    // The objects go when the purge runs.
    assert_eq!(stored_keys(&app).await.len(), 2);
    app.run_due_jobs(kanri::clock::now_ms()).await;
    assert!(stored_keys(&app).await.is_empty());

    // Both changes are in the project's activity.
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT kind FROM activity WHERE project_id = $1 AND subject_type = 'attachment' ORDER BY id",
    )
    .bind(&w.project)
    .fetch_all(app.db.read())
    .await
    .unwrap();
    let kinds: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "attachment.created",
            "attachment.created",
            "attachment.deleted",
            "attachment.deleted"
        ]
    );
}

#[tokio::test]
async fn deleting_a_task_or_project_purges_its_files() {
    let app = spawn().await;
    let w = world(&app).await;
    let keep = app
        .create_task(&w.owner.token, &w.project, json!({"title": "Keep"}))
        .await;
    let keep = keep["id"].as_str().unwrap();
    let a = upload(&app, &w.owner.token, &w.task, "a.bin", &random_bytes(100)).await;
    upload(&app, &w.owner.token, &w.task, "b.bin", &random_bytes(50)).await;
    upload(&app, &w.owner.token, keep, "c.bin", &random_bytes(7)).await;
    assert_eq!(storage_bytes(&app, &w).await, 157);

    let (status, _) = app
        .call(
            Method::DELETE,
            &format!("/v1/tasks/{}", w.task),
            &w.owner.token,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    // Freed at once; the objects go with the job.
    assert_eq!(storage_bytes(&app, &w).await, 7);
    let (status, _) = app
        .call(
            Method::GET,
            &format!("/v1/attachments/{}", a["id"].as_str().unwrap()),
            &w.owner.token,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(stored_keys(&app).await.len(), 3);
    app.run_due_jobs(kanri::clock::now_ms()).await;
    assert_eq!(stored_keys(&app).await.len(), 1);

    let (status, _) = app
        .call(
            Method::DELETE,
            &format!("/v1/projects/{}", w.project),
            &w.owner.token,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(storage_bytes(&app, &w).await, 0);
    app.run_due_jobs(kanri::clock::now_ms()).await;
    assert!(stored_keys(&app).await.is_empty());
    let (count,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM attachments")
        .fetch_one(app.db.read())
        .await
        .unwrap();
    assert_eq!(count, 0, "purged rows are gone too");
}

#[tokio::test]
async fn housekeeping_purges_files_of_a_deleted_workspace() {
    let app = spawn().await;
    let w = world(&app).await;
    upload(&app, &w.owner.token, &w.task, "a.bin", b"abc").await;
    let (status, body) = app
        .call(
            Method::DELETE,
            &format!("/v1/workspaces/{}", w.workspace),
            &w.owner.token,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(stored_keys(&app).await.len(), 1);
    let now = kanri::clock::now_ms();
    let mut tx = app.db.begin().await.unwrap();
    kanri::jobs::enqueue(&mut tx, kanri::jobs::runner::housekeeping_spec(now))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    // The job is due from its enqueue time, a moment after `now`.
    app.run_due_jobs(kanri::clock::now_ms()).await;
    assert!(stored_keys(&app).await.is_empty());
}

#[tokio::test]
async fn the_process_speaks_tls_through_one_provider() {
    let _app = spawn().await;
    let installed = rustls::crypto::CryptoProvider::get_default().expect("a process default");
    let ring = rustls::crypto::ring::default_provider();
    assert_eq!(
        format!("{:?}", installed.cipher_suites),
        format!("{:?}", ring.cipher_suites)
    );
    // Panics when two providers are compiled in and none is the default.
    let _ = rustls::ClientConfig::builder();
}

#[tokio::test]
async fn tasks_count_their_attachments_and_cached_lists_follow() {
    let app = spawn().await;
    let w = world(&app).await;
    let list = format!("/v1/projects/{}/tasks", w.project);
    let count_in_list = |body: Value| body["data"]["items"][0]["attachments_count"].clone();
    let (_, before) = app.call(Method::GET, &list, &w.owner.token, None).await;
    assert_eq!(count_in_list(before), 0);
    let file = upload(&app, &w.owner.token, &w.task, "a.txt", b"first").await;
    upload(&app, &w.owner.token, &w.task, "b.txt", b"second").await;
    // The cached list was invalidated by the uploads before they answered.
    let (_, after) = app.call(Method::GET, &list, &w.owner.token, None).await;
    assert_eq!(count_in_list(after), 2);
    let (_, task) = app
        .call(
            Method::GET,
            &format!("/v1/tasks/{}", w.task),
            &w.owner.token,
            None,
        )
        .await;
    assert_eq!(task["data"]["attachments_count"], 2);
    let id = file["id"].as_str().unwrap();
    let (status, _) = app
        .call(
            Method::DELETE,
            &format!("/v1/attachments/{id}"),
            &w.owner.token,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, after_delete) = app.call(Method::GET, &list, &w.owner.token, None).await;
    assert_eq!(count_in_list(after_delete), 1);
}
