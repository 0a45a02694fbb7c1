//! Search: full-text (prefix, hostile syntax, filters), semantic through the embedding job,
//! fusion, permissions, deletions, restarts, model identity, the seed route, and an
//! OpenAI-compatible embeddings endpoint (a small real HTTP server standing in for the model).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Json as AxumJson;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode as AxumStatus};
use kanri::clock::now_ms;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{SignedIn, TestApp, expect_error, shared_cache};

struct World {
    owner: SignedIn,
    workspace: String,
    project: String,
}

async fn world(app: &TestApp) -> World {
    let owner = app.register("owner@example.com").await;
    let workspace = app.create_workspace(&owner.token, "Acme").await;
    let project = app
        .create_project(&owner.token, &workspace, json!({"name": "Web"}))
        .await;
    World {
        owner,
        workspace,
        project,
    }
}

async fn task(app: &TestApp, w: &World, project: &str, body: Value) -> String {
    app.create_task(&w.owner.token, project, body).await["id"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn search(app: &TestApp, token: &str, path: &str, body: Value) -> (StatusCode, Value) {
    app.call(Method::POST, path, token, Some(body)).await
}

/// The ids of a successful search, best first.
async fn found(app: &TestApp, token: &str, path: &str, body: Value) -> Vec<String> {
    let (status, body) = search(app, token, path, body).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["data"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|hit| hit["task"]["id"].as_str().unwrap().to_string())
        .collect()
}

fn project_path(project: &str) -> String {
    format!("/v1/projects/{project}/search")
}

#[tokio::test]
async fn text_search_matches_prefixes_survives_hostile_syntax_and_filters() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let invoice = task(
        &app,
        &w,
        &w.project,
        json!({"title": "Invoice PDF generation is slow", "type": "BUG", "priority": "HIGH"}),
    )
    .await;
    let login = task(&app, &w, &w.project, json!({"title": "Fix login redirect loop", "description": "Happens after the invoice page", "status": "IN_PROGRESS"})).await;
    let path = project_path(&w.project);

    // Search as you type: the last word is a prefix.
    let ids = found(
        &app,
        &w.owner.token,
        &path,
        json!({"query": "invoice pdf gen", "mode": "text"}),
    )
    .await;
    assert_eq!(ids, vec![invoice.clone()], "every word must match");
    let ids = found(
        &app,
        &w.owner.token,
        &path,
        json!({"query": "invoice", "mode": "text"}),
    )
    .await;
    assert_eq!(
        ids,
        vec![invoice.clone(), login.clone()],
        "title (weighted higher) first, then description"
    );
    // Text-only search relaxes to any word when no task has them all.
    let ids = found(
        &app,
        &w.owner.token,
        &path,
        json!({"query": "redirect spreadsheet", "mode": "text"}),
    )
    .await;
    assert_eq!(ids, vec![login.clone()]);
    let (_, body) = search(
        &app,
        &w.owner.token,
        &path,
        json!({"query": "redir", "mode": "text"}),
    )
    .await;
    assert_eq!(body["data"]["items"][0]["task"]["id"], login.as_str());
    assert_eq!(body["data"]["items"][0]["matched"], "text");
    assert_eq!(body["data"]["mode"], "text");

    // Comments are indexed, in the same transaction as the comment.
    let (status, _) = app
        .call(
            Method::POST,
            &format!("/v1/tasks/{invoice}/comments"),
            &w.owner.token,
            Some(json!({"content": "Customers in Zanzibar see it too"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(
        found(
            &app,
            &w.owner.token,
            &path,
            json!({"query": "zanzibar", "mode": "text"})
        )
        .await,
        vec![invoice.clone()]
    );

    // Query syntax from the user is never interpreted.
    for hostile in [
        "\"foo AND (",
        "-",
        ":*",
        "NEAR(a b",
        "*",
        "'",
        "\\",
        "title:invoice",
        "a & b | !c",
        "\"\"\"",
        "(((",
        "invoice)",
    ] {
        for mode in ["text", "hybrid"] {
            let (status, body) = search(
                &app,
                &w.owner.token,
                &path,
                json!({"query": hostile, "mode": mode}),
            )
            .await;
            assert_eq!(status, StatusCode::OK, "{hostile:?} {mode}: {body}");
        }
    }
    assert_eq!(
        found(
            &app,
            &w.owner.token,
            &path,
            json!({"query": "invoice)", "mode": "text"})
        )
        .await[0],
        invoice
    );

    // Filters narrow the results.
    let ids = found(
        &app,
        &w.owner.token,
        &path,
        json!({"query": "invoice", "mode": "text", "filters": {"status": "in_progress"}}),
    )
    .await;
    assert_eq!(ids, vec![login.clone()]);
    let ids = found(&app, &w.owner.token, &path, json!({"query": "invoice", "mode": "text", "filters": {"type": ["bug"], "priority": "high"}})).await;
    assert_eq!(ids, vec![invoice.clone()]);
    let ids = found(
        &app,
        &w.owner.token,
        &path,
        json!({"query": "invoice", "mode": "text", "filters": {"assignee": w.owner.user_id}}),
    )
    .await;
    assert!(ids.is_empty());

    // Bad input is a 422 naming the field.
    for (body, field) in [
        (json!({"query": ""}), "query"),
        (json!({"query": "x".repeat(501)}), "query"),
        (json!({"query": "x", "limit": 0}), "limit"),
        (json!({"query": "x", "limit": 101}), "limit"),
        (json!({"query": "x", "mode": "fuzzy"}), "mode"),
        (
            json!({"query": "x", "filters": {"status": "LATER"}}),
            "filters.status",
        ),
    ] {
        let res = app
            .as_user(Method::POST, &path, &w.owner.token)
            .json(&body)
            .send()
            .await
            .unwrap();
        let err = expect_error(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
        assert!(err.to_string().contains(field), "{err}");
    }
    let res = app
        .as_user(Method::POST, &path, &w.owner.token)
        .json(&json!({"query": "x", "filters": {"colour": "red"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn typos_fall_back_to_the_closest_words_in_scope() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let id = task(
        &app,
        &w,
        &w.project,
        json!({"title": "Database migration fails on startup"}),
    )
    .await;
    let (status, body) = search(
        &app,
        &w.owner.token,
        &project_path(&w.project),
        json!({"query": "databse migraton", "mode": "text"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["items"][0]["task"]["id"], id.as_str());
    assert_eq!(body["data"]["corrected_query"], "database migration");
}

#[tokio::test]
async fn embeddings_come_from_jobs_and_follow_updates_and_deletions() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let login = task(&app, &w, &w.project, json!({"title": "Users cannot log in after password change", "description": "401 invalid credentials with the new password"})).await;
    let pdf = task(
        &app,
        &w,
        &w.project,
        json!({"title": "Invoice PDF export is slow"}),
    )
    .await;
    let theme = task(
        &app,
        &w,
        &w.project,
        json!({"title": "Add a dark colour theme"}),
    )
    .await;
    let path = project_path(&w.project);
    let semantic =
        json!({"query": "authentication broken after resetting my secret", "mode": "semantic"});

    // Nothing is embedded on the request path: before the jobs run there are no vectors.
    assert!(
        found(&app, &w.owner.token, &path, semantic.clone())
            .await
            .is_empty()
    );
    assert_eq!(app.run_due_jobs(now_ms()).await, 3);
    let (_, body) = search(&app, &w.owner.token, &path, semantic.clone()).await;
    assert_eq!(
        body["data"]["items"][0]["task"]["id"],
        login.as_str(),
        "{body}"
    );
    assert_eq!(body["data"]["items"][0]["matched"], "semantic");

    // Hybrid: a task both lists find is marked so, and ranks first.
    let (_, body) = search(
        &app,
        &w.owner.token,
        &path,
        json!({"query": "invoice pdf export"}),
    )
    .await;
    assert_eq!(body["data"]["mode"], "hybrid");
    assert_eq!(
        body["data"]["items"][0]["task"]["id"],
        pdf.as_str(),
        "{body}"
    );
    assert_eq!(body["data"]["items"][0]["matched"], "both");

    // An update re-embeds through a job (one per task however many edits).
    for title in ["Mobile app crashes", "Mobile app crashes on startup"] {
        let (status, _) = app
            .call(
                Method::PATCH,
                &format!("/v1/tasks/{theme}"),
                &w.owner.token,
                Some(json!({"title": title})),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
    }
    let (status, _) = app
        .call(
            Method::PATCH,
            &format!("/v1/tasks/{pdf}"),
            &w.owner.token,
            Some(json!({"priority": "HIGH"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        app.run_due_jobs(now_ms()).await,
        1,
        "only the task whose text changed"
    );
    let crash = json!({"query": "the application dies as soon as it launches", "mode": "semantic", "limit": 1});
    assert_eq!(
        found(&app, &w.owner.token, &path, crash.clone()).await,
        vec![theme.clone()]
    );

    // A deleted task leaves both indexes at once.
    let (status, _) = app
        .call(
            Method::DELETE,
            &format!("/v1/tasks/{login}"),
            &w.owner.token,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    for mode in ["semantic", "text", "hybrid"] {
        let ids = found(
            &app,
            &w.owner.token,
            &path,
            json!({"query": "users cannot log in password", "mode": mode}),
        )
        .await;
        assert!(!ids.contains(&login), "{mode}: {ids:?}");
    }
    let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM task_embeddings")
        .fetch_one(app.db.read())
        .await
        .unwrap();
    assert_eq!(stored, 2);
}

#[tokio::test]
async fn results_never_include_tasks_the_caller_cannot_read() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let secret_project = app
        .create_project(&w.owner.token, &w.workspace, json!({"name": "Secret"}))
        .await;
    let member = app.register("member@example.com").await;
    app.add_member(&w.owner.token, &w.workspace, &member, "MEMBER")
        .await;
    // The member belongs to the first project only.
    app.add_project_member(&w.owner.token, &w.project, &member)
        .await;
    let open = task(
        &app,
        &w,
        &w.project,
        json!({"title": "Rotate the signing keys"}),
    )
    .await;
    let hidden = task(
        &app,
        &w,
        &secret_project,
        json!({"title": "Rotate the signing keys for the acquisition"}),
    )
    .await;
    // Another tenant with the same words.
    let other = app.create_tenant("Other").await;
    let stranger = app
        .register_with("stranger@example.com", Some(&other.publishable_key))
        .await;
    let their_ws = app.create_workspace(&stranger.token, "Theirs").await;
    let their_project = app
        .create_project(&stranger.token, &their_ws, json!({"name": "Keys"}))
        .await;
    let theirs = app
        .create_task(
            &stranger.token,
            &their_project,
            json!({"title": "Rotate the signing keys"}),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.run_due_jobs(now_ms()).await;

    for mode in ["text", "semantic", "hybrid"] {
        let q = json!({"query": "rotate signing keys", "mode": mode});
        let ws_path = format!("/v1/workspaces/{}/search", w.workspace);
        let mine = found(&app, &member.token, &ws_path, q.clone()).await;
        assert_eq!(
            mine,
            vec![open.clone()],
            "{mode}: workspace search covers only readable projects"
        );
        let all = found(&app, &w.owner.token, &ws_path, q.clone()).await;
        assert!(
            all.contains(&open) && all.contains(&hidden) && !all.contains(&theirs),
            "{mode}: {all:?}"
        );
        let res = app
            .as_user(Method::POST, &project_path(&secret_project), &member.token)
            .json(&q)
            .send()
            .await
            .unwrap();
        expect_error(res, StatusCode::NOT_FOUND, "not_found").await;
        let res = app
            .as_user(Method::POST, &project_path(&w.project), &stranger.token)
            .json(&q)
            .send()
            .await
            .unwrap();
        expect_error(res, StatusCode::NOT_FOUND, "not_found").await;
        let res = app
            .as_user(Method::POST, &ws_path, &stranger.token)
            .json(&q)
            .send()
            .await
            .unwrap();
        expect_error(res, StatusCode::NOT_FOUND, "not_found").await;
        assert_eq!(
            found(
                &app,
                &stranger.token,
                &project_path(&their_project),
                q.clone()
            )
            .await,
            vec![theirs.clone()]
        );
    }
}

#[tokio::test]
async fn seed_search_route_keeps_the_seed_shape() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let id = task(
        &app,
        &w,
        &w.project,
        json!({"title": "Export tasks as CSV"}),
    )
    .await;
    app.run_due_jobs(now_ms()).await;
    let res = app
        .as_user(Method::POST, "/api/search-tasks", &w.owner.token)
        .json(&json!({"query": "csv export", "projectId": w.project}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    let first = &body["results"][0];
    assert_eq!(first["id"], id.as_str(), "{body}");
    assert_eq!(first["projectId"], w.project.as_str());
    assert_eq!(first["title"], "Export tasks as CSV");
    assert_eq!(first["status"], "todo");
    assert_eq!(first["matched"], "both");
    assert!(first["score"].as_f64().unwrap() > 0.0);
    assert!(body["results"].as_array().unwrap().len() <= 10);
    let outsider = app.register("outsider@example.com").await;
    let res = app
        .as_user(Method::POST, "/api/search-tasks", &outsider.token)
        .json(&json!({"query": "csv", "projectId": w.project}))
        .send()
        .await
        .unwrap();
    expect_error(res, StatusCode::NOT_FOUND, "not_found").await;
}

#[tokio::test]
async fn a_restart_keeps_vectors_and_another_models_vectors_are_replaced() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let id = task(
        &app,
        &w,
        &w.project,
        json!({"title": "Nightly backup job silently fails"}),
    )
    .await;
    assert_eq!(app.run_due_jobs(now_ms()).await, 1);
    let q = json!({"query": "the overnight snapshot does not complete", "mode": "semantic"});
    let path = project_path(&w.project);
    assert_eq!(
        found(&app, &w.owner.token, &path, q.clone()).await,
        vec![id.clone()]
    );

    // Restart on the same data: nothing to re-embed, same answer.
    let (config, dir) = app.stop().await;
    let app = TestApp::start(config, dir).await;
    assert_eq!(
        app.run_due_jobs(now_ms()).await,
        0,
        "no embedding job after a restart"
    );
    assert_eq!(
        found(&app, &w.owner.token, &path, q.clone()).await,
        vec![id.clone()]
    );

    // Vectors of another model are never compared, and are replaced at the next start.
    sqlx::query("UPDATE task_embeddings SET model = 'some-other-model@0'")
        .execute(app.db.write())
        .await
        .unwrap();
    let (config, dir) = app.stop().await;
    let app = TestApp::start(config, dir).await;
    assert!(
        found(&app, &w.owner.token, &path, q.clone())
            .await
            .is_empty()
    );
    assert_eq!(app.run_due_jobs(now_ms()).await, 1);
    assert_eq!(
        found(&app, &w.owner.token, &path, q.clone()).await,
        vec![id.clone()]
    );
    let model: String = sqlx::query_scalar("SELECT model FROM task_embeddings")
        .fetch_one(app.db.read())
        .await
        .unwrap();
    assert!(model.starts_with("pocket-encoder/"), "{model}");
}

/// A stand-in for an OpenAI-compatible endpoint: bag-of-words vectors over 64 hashed buckets,
/// so texts sharing words are similar.
struct FakeModel {
    requests: AtomicUsize,
    fail: std::sync::atomic::AtomicBool,
}

fn bag_of_words(text: &str) -> Vec<f32> {
    let mut v = vec![0.0f32; 64];
    for word in text
        .to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        let h = word
            .bytes()
            .fold(7u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b)));
        v[(h % 64) as usize] += 1.0;
    }
    v[63] += 0.01;
    v
}

async fn fake_embeddings(
    State(model): State<Arc<FakeModel>>,
    headers: HeaderMap,
    AxumJson(body): AxumJson<Value>,
) -> (AxumStatus, AxumJson<Value>) {
    model.requests.fetch_add(1, Ordering::SeqCst);
    if model.fail.load(Ordering::SeqCst) {
        return (
            AxumStatus::SERVICE_UNAVAILABLE,
            AxumJson(json!({"error": "down"})),
        );
    }
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some("Bearer sk-test-key")
        || body["model"] != "fake-embed-1"
    {
        return (
            AxumStatus::UNAUTHORIZED,
            AxumJson(json!({"error": "bad key or model"})),
        );
    }
    let data: Vec<Value> = body["input"].as_array().unwrap().iter().enumerate()
        .map(|(i, t)| json!({"object": "embedding", "index": i, "embedding": bag_of_words(t.as_str().unwrap())}))
        .collect();
    (
        AxumStatus::OK,
        AxumJson(json!({"object": "list", "data": data, "model": "fake-embed-1"})),
    )
}

#[tokio::test]
async fn an_openai_compatible_endpoint_can_embed_instead_of_the_bundled_model() {
    let model = Arc::new(FakeModel {
        requests: AtomicUsize::new(0),
        fail: false.into(),
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/v1", listener.local_addr().unwrap());
    let router = axum::Router::new()
        .route("/v1/embeddings", axum::routing::post(fake_embeddings))
        .with_state(model.clone());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });

    let app = TestApp::spawn_with(|c| {
        c.search.embeddings = Some(kanri::config::EmbeddingsEndpoint {
            url: url.clone(),
            model: "fake-embed-1".into(),
            key: Some(kanri::config::Secret::new("sk-test-key".into())),
        });
    })
    .await;
    let w = world(&app).await;
    let a = task(
        &app,
        &w,
        &w.project,
        json!({"title": "purple elephant parade"}),
    )
    .await;
    let _b = task(
        &app,
        &w,
        &w.project,
        json!({"title": "quarterly revenue report"}),
    )
    .await;
    assert_eq!(app.run_due_jobs(now_ms()).await, 2);
    let path = project_path(&w.project);
    let q = json!({"query": "elephant purple", "mode": "semantic", "limit": 1});
    assert_eq!(
        found(&app, &w.owner.token, &path, q.clone()).await,
        vec![a.clone()]
    );
    let stored: String = sqlx::query_scalar("SELECT model FROM task_embeddings LIMIT 1")
        .fetch_one(app.db.read())
        .await
        .unwrap();
    assert!(
        stored.starts_with("openai-compatible:fake-embed-1@"),
        "{stored}"
    );
    // The query embedding is cached: asking again sends nothing.
    let before = model.requests.load(Ordering::SeqCst);
    found(&app, &w.owner.token, &path, q.clone()).await;
    assert_eq!(model.requests.load(Ordering::SeqCst), before);

    // With the endpoint down, hybrid search answers from full text and semantic mode says 503.
    model.fail.store(true, Ordering::SeqCst);
    let ids = found(
        &app,
        &w.owner.token,
        &path,
        json!({"query": "quarterly revenue"}),
    )
    .await;
    assert_eq!(ids.len(), 1);
    let res = app
        .as_user(Method::POST, &path, &w.owner.token)
        .json(&json!({"query": "something new", "mode": "semantic"}))
        .send()
        .await
        .unwrap();
    expect_error(res, StatusCode::SERVICE_UNAVAILABLE, "not_configured").await;
    // An embedding job against a down endpoint is retried later, not lost.
    task(&app, &w, &w.project, json!({"title": "retry me"})).await;
    assert_eq!(app.run_due_jobs(now_ms()).await, 1);
    let state: String = sqlx::query_scalar(
        "SELECT state FROM jobs WHERE kind = 'search:embed' AND last_error IS NOT NULL",
    )
    .fetch_one(app.db.read())
    .await
    .unwrap();
    assert_eq!(state, "queued");
}

#[tokio::test]
async fn two_instances_on_one_database_stay_in_step() {
    let a = TestApp::spawn_with(shared_cache).await;
    let w = world(&a).await;
    let keep = task(
        &a,
        &w,
        &w.project,
        json!({"title": "Invoice totals are rounded wrongly"}),
    )
    .await;
    let gone = task(
        &a,
        &w,
        &w.project,
        json!({"title": "Push notifications arrive twice"}),
    )
    .await;
    assert_eq!(a.run_due_jobs(now_ms()).await, 2);
    // A second server on the same database, with its own in-memory index.
    let b = TestApp::start(a.config.clone(), tempfile::tempdir().unwrap()).await;
    let path = project_path(&w.project);
    let dup = json!({"query": "duplicate alerts on the phone", "mode": "semantic", "limit": 1});
    for app in [&a, &b] {
        assert_eq!(
            found(app, &w.owner.token, &path, dup.clone()).await,
            vec![gone.clone()]
        );
    }

    // Changes made through A reach B's index: a deletion at once, new text once embedded.
    let (status, _) = a
        .call(
            Method::DELETE,
            &format!("/v1/tasks/{gone}"),
            &w.owner.token,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        !found(&b, &w.owner.token, &path, dup.clone())
            .await
            .contains(&gone)
    );
    let (status, _) = a
        .call(
            Method::PATCH,
            &format!("/v1/tasks/{keep}"),
            &w.owner.token,
            Some(json!({"title": "Push notifications are delivered two times"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let top_score = |body: &Value| body["data"]["items"][0]["score"].as_f64().unwrap_or(0.0);
    let (_, before) = search(&a, &w.owner.token, &path, dup.clone()).await;
    assert_eq!(b.run_due_jobs(now_ms()).await, 1);
    let (_, body) = search(&b, &w.owner.token, &path, dup.clone()).await;
    assert_eq!(body["data"]["items"][0]["task"]["id"], keep.as_str());
    // A loaded its index before the change, and picks up the vector B's job wrote.
    let (_, after) = search(&a, &w.owner.token, &path, dup.clone()).await;
    assert_eq!(after["data"]["items"][0]["task"]["id"], keep.as_str());
    assert!(
        top_score(&after) > top_score(&before) + 0.2,
        "{before} {after}"
    );
}

/// A search and where it came from (`X-Cache`).
async fn cached_search(app: &TestApp, token: &str, path: &str, body: &Value) -> (String, Value) {
    let res = app
        .as_user(Method::POST, path, token)
        .json(body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let source = res.headers()["x-cache"].to_str().unwrap().to_string();
    (source, res.json().await.unwrap())
}

/// The titles of a list of hits: v1 hits hold the task, seed hits are the task.
fn titles(hits: &Value) -> Vec<String> {
    hits.as_array()
        .unwrap()
        .iter()
        .map(|hit| {
            hit.get("task").unwrap_or(hit)["title"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect()
}

#[tokio::test]
async fn results_are_cached_until_the_projects_tasks_or_embeddings_change() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let id = task(
        &app,
        &w,
        &w.project,
        json!({"title": "Rotate the signing keys"}),
    )
    .await;
    let path = project_path(&w.project);
    let body = json!({"query": "signing", "mode": "text"});

    let (source, first) = cached_search(&app, &w.owner.token, &path, &body).await;
    assert_eq!(source, "miss");
    let (source, again) = cached_search(&app, &w.owner.token, &path, &body).await;
    assert_eq!((source.as_str(), &again), ("hit", &first));
    // Another reader of the project shares the entry; an equivalent query too.
    let (source, _) = cached_search(
        &app,
        &w.owner.token,
        &path,
        &json!({"query": "signing", "mode": "text", "limit": 20}),
    )
    .await;
    assert_eq!(source, "hit");

    // A task write invalidates: the renamed task is found by its new words at once.
    let (status, _) = app
        .call(
            Method::PATCH,
            &format!("/v1/tasks/{id}"),
            &w.owner.token,
            Some(json!({"title": "Rotate the encryption keys"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (source, after) = cached_search(&app, &w.owner.token, &path, &body).await;
    assert_eq!(source, "miss");
    assert!(titles(&after["data"]["items"]).is_empty(), "{after}");

    // So does a comment (comments are searched) …
    let enc = json!({"query": "vault", "mode": "text"});
    let (source, _) = cached_search(&app, &w.owner.token, &path, &enc).await;
    assert_eq!(source, "miss");
    let (status, _) = app
        .call(
            Method::POST,
            &format!("/v1/tasks/{id}/comments"),
            &w.owner.token,
            Some(json!({"content": "keys live in the vault"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (source, found) = cached_search(&app, &w.owner.token, &path, &enc).await;
    assert_eq!(source, "miss");
    assert_eq!(
        titles(&found["data"]["items"]),
        ["Rotate the encryption keys"]
    );

    // … and embeddings landing (semantic results change without a task write).
    let semantic = json!({"query": "encryption key rotation", "mode": "semantic"});
    let (_, before_embedding) = cached_search(&app, &w.owner.token, &path, &semantic).await;
    assert!(titles(&before_embedding["data"]["items"]).is_empty());
    let (source, _) = cached_search(&app, &w.owner.token, &path, &semantic).await;
    assert_eq!(source, "hit");
    app.run_due_jobs(now_ms()).await;
    let (source, embedded) = cached_search(&app, &w.owner.token, &path, &semantic).await;
    assert_eq!(source, "miss");
    assert_eq!(
        titles(&embedded["data"]["items"]),
        ["Rotate the encryption keys"]
    );

    // The seed route is cached the same way, in its own shape.
    let seed = json!({"query": "encryption", "projectId": w.project});
    let (source, _) = cached_search(&app, &w.owner.token, "/api/search-tasks", &seed).await;
    assert_eq!(source, "miss");
    let (source, hit) = cached_search(&app, &w.owner.token, "/api/search-tasks", &seed).await;
    assert_eq!(source, "hit");
    assert_eq!(hit["success"], true);
    assert_eq!(titles(&hit["results"]), ["Rotate the encryption keys"]);

    // A cached entry is never served to someone who may not read the project.
    let outsider = app.register("outsider@example.com").await;
    let res = app
        .as_user(Method::POST, &path, &outsider.token)
        .json(&body)
        .send()
        .await
        .unwrap();
    expect_error(res, StatusCode::NOT_FOUND, "not_found").await;
}
