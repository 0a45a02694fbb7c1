//! `TestApp`: the real server on port 0 with its own database, and typed helpers so each test
//! reads as a scenario.
//!
//! With `KANRI_TEST_DATABASE_URL` set (a Postgres server URL), every app gets a fresh database
//! on that server; otherwise a fresh SQLite file in a temporary directory.

use std::path::PathBuf;

use kanri::config::Config;
use kanri::db::Db;
use kanri::services::tenants;
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde_json::{Value, json};
use sqlx::Connection;
use tempfile::TempDir;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub const PASSWORD: &str = "correct-horse-1";

pub struct TestApp {
    pub base: String,
    pub queue: kanri::jobs::Queue,
    pub runner: std::sync::Arc<kanri::jobs::runner::KindRunner>,
    pub client: reqwest::Client,
    pub config: Config,
    pub db: Db,
    /// What the services run with (the same database, with the app's cache).
    pub cx: kanri::services::Ctx,
    pub dir: TempDir,
    stop: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<anyhow::Result<()>>>,
}

pub struct Tenant {
    pub id: String,
    pub secret_key: String,
    pub publishable_key: String,
}

pub struct SignedIn {
    pub token: String,
    pub user_id: String,
}

/// A fresh database URL for one test: a new Postgres database when configured, else `None`
/// (the app's default SQLite file in its data dir).
pub async fn fresh_database_url() -> Option<String> {
    let server = std::env::var("KANRI_TEST_DATABASE_URL").ok()?;
    sqlx::any::install_default_drivers();
    let name = format!("kanri_test_{}", uuid::Uuid::now_v7().simple());
    let mut admin = sqlx::AnyConnection::connect(&server)
        .await
        .expect("KANRI_TEST_DATABASE_URL is set but Postgres is unreachable");
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await
        .expect("create test database");
    admin.close().await.ok();
    let mut url = url::Url::parse(&server).expect("KANRI_TEST_DATABASE_URL is a URL");
    url.set_path(&format!("/{name}"));
    Some(url.to_string())
}

/// For several instances that must agree: one Redis cache (own key prefix) when the run has
/// `KANRI_TEST_REDIS_URL`, else no cache — in-process caches are per instance by design.
pub fn shared_cache(c: &mut Config) {
    match std::env::var("KANRI_TEST_REDIS_URL") {
        Ok(url) => use_redis(c, &url),
        Err(_) => c.cache.enabled = false,
    }
}

/// Caches in the Redis at `url` under a key prefix of this app's own.
pub fn use_redis(c: &mut Config, url: &str) {
    c.cache.redis_url = Some(kanri::config::Secret::new(url.to_string()));
    c.cache.redis_prefix = format!("kanri-test-{}:", uuid::Uuid::now_v7().simple());
    // A loaded test machine must not pass for a Redis outage.
    c.cache.redis_timeout = std::time::Duration::from_secs(5);
}

pub async fn test_config() -> (Config, TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut config = Config::for_data_dir(dir.path(), fresh_database_url().await);
    config.server.bind = "127.0.0.1:0".parse().unwrap();
    config.telemetry.log = std::env::var("TEST_LOG").unwrap_or_else(|_| "off".into());
    // Tests drive the queue themselves (`TestApp::run_due_jobs`) instead of waiting on workers.
    config.jobs.workers = 0;
    // The suite signs in over and over from 127.0.0.1; `rate_limit.rs` sets small limits itself.
    config.rate_limit.per_minute = 1_000_000;
    config.rate_limit.auth_per_minute = 1_000_000;
    (config, dir)
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    pub async fn spawn_with(adjust: impl FnOnce(&mut Config)) -> Self {
        let (mut config, dir) = test_config().await;
        adjust(&mut config);
        Self::start(config, dir).await
    }

    /// Starts a server on an existing configuration and data directory (e.g. after a restart).
    pub async fn start(config: Config, dir: TempDir) -> Self {
        if std::env::var("TEST_LOG").is_ok() {
            kanri::telemetry::init(&config.telemetry);
        }
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let app = kanri::App::build(config.clone()).await.expect("app builds");
        let db = app.db().clone();
        let cx = app.cx().clone();
        let queue = app.queue().clone();
        let runner = app.runner();
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(app.serve(listener, async move {
            let _ = stopped.await;
        }));
        Self {
            base,
            queue,
            runner,
            client: reqwest::Client::new(),
            config,
            db,
            cx,
            dir,
            stop: Some(stop),
            server: Some(server),
        }
    }

    /// Graceful shutdown; returns the data directory so a test can inspect or restart on it.
    pub async fn stop(mut self) -> (Config, TempDir) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            server
                .await
                .expect("server task")
                .expect("server stops cleanly");
        }
        let dir = std::mem::replace(&mut self.dir, tempfile::tempdir().unwrap());
        (self.config.clone(), dir)
    }

    /// Runs every job due at `as_of` (epoch ms) with the application's own handlers.
    pub async fn run_due_jobs(&self, as_of: i64) -> usize {
        self.queue
            .run_due(self.runner.as_ref(), as_of)
            .await
            .expect("jobs run")
    }

    pub fn sqlite_files(&self) -> Vec<PathBuf> {
        std::fs::read_dir(self.dir.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| {
                p.file_name()
                    .unwrap()
                    .to_string_lossy()
                    .starts_with("kanri.db")
            })
            .collect()
    }

    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.client
            .request(method, format!("{}{}", self.base, path))
    }

    pub async fn get(&self, path: &str) -> Response {
        self.request(Method::GET, path).send().await.unwrap()
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> Response {
        self.request(Method::POST, path)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn register(&self, email: &str) -> SignedIn {
        self.register_with(email, None).await
    }

    /// Registers through `/v1/auth/register`, optionally with an API key.
    pub async fn register_with(&self, email: &str, key: Option<&str>) -> SignedIn {
        let mut req = self
            .request(Method::POST, "/v1/auth/register")
            .json(&json!({"email": email, "password": PASSWORD, "name": "Test User"}));
        if let Some(key) = key {
            req = req.header("X-Api-Key", key);
        }
        let res = req.send().await.unwrap();
        let (status, body) = read(res).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        SignedIn {
            token: body["data"]["token"].as_str().unwrap().to_string(),
            user_id: body["data"]["user"]["id"].as_str().unwrap().to_string(),
        }
    }

    pub async fn me(&self, token: &str) -> (StatusCode, Value) {
        read(
            self.request(Method::GET, "/v1/auth/me")
                .bearer_auth(token)
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    /// A tenant with its keys, made the way `kanri tenant create` makes one.
    pub async fn create_tenant(&self, name: &str) -> Tenant {
        let created = tenants::create_tenant(&self.cx, name)
            .await
            .expect("tenant");
        Tenant {
            id: created.tenant.id,
            secret_key: created.secret_key.expose().to_string(),
            publishable_key: created.publishable_key.expose().to_string(),
        }
    }
}

/// Status and JSON body; also checks what every response must have.
pub async fn read(res: Response) -> (StatusCode, Value) {
    let status = res.status();
    let request_id = res
        .headers()
        .get("x-request-id")
        .map(|v| v.to_str().unwrap().to_string())
        .expect("every response carries X-Request-Id");
    let text = res.text().await.unwrap();
    let body: Value =
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("response is JSON: {status} {text}"));
    let success = body["success"].as_bool().expect("envelope has success");
    assert_eq!(success, status.is_success(), "{body}");
    if !success {
        assert!(body["code"].is_string(), "{body}");
        assert!(body["message"].is_string(), "{body}");
        assert_eq!(body["request_id"], request_id.as_str(), "{body}");
    }
    (status, body)
}

/// Asserts an error response's status and code, returning the body.
pub async fn expect_error(res: Response, status: StatusCode, code: &str) -> Value {
    let (got, body) = read(res).await;
    assert_eq!(got, status, "{body}");
    assert_eq!(body["code"], code, "{body}");
    body
}

impl TestApp {
    /// A request with a session token.
    pub fn as_user(&self, method: Method, path: &str, token: &str) -> RequestBuilder {
        self.request(method, path).bearer_auth(token)
    }

    /// Sends with a session token and reads the envelope.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = self.as_user(method, path, token);
        if let Some(body) = body {
            req = req.json(&body);
        }
        read(req.send().await.unwrap()).await
    }

    /// Creates a workspace owned by `token`'s user and returns its id.
    pub async fn create_workspace(&self, token: &str, name: &str) -> String {
        let (status, body) = self
            .call(
                Method::POST,
                "/v1/workspaces",
                token,
                Some(json!({"name": name})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["data"]["id"].as_str().unwrap().to_string()
    }

    /// Adds a registered user to a workspace with a role, as `owner_token`.
    pub async fn add_member(
        &self,
        owner_token: &str,
        workspace_id: &str,
        user: &SignedIn,
        role: &str,
    ) {
        let path = format!("/v1/workspaces/{workspace_id}/members");
        let (status, body) = self
            .call(
                Method::POST,
                &path,
                owner_token,
                Some(json!({"user_id": user.user_id, "role": role})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }

    /// Adds `user` (already a workspace member) to a project, as `token`.
    pub async fn add_project_member(&self, token: &str, project_id: &str, user: &SignedIn) {
        let (status, body) = self
            .call(
                Method::POST,
                &format!("/v1/projects/{project_id}/members"),
                token,
                Some(json!({"user_id": user.user_id})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
}

impl TestApp {
    /// Creates a project in a workspace as `token` (who must be allowed to) and returns its id.
    pub async fn create_project(&self, token: &str, workspace_id: &str, body: Value) -> String {
        let path = format!("/v1/workspaces/{workspace_id}/projects");
        let (status, body) = self.call(Method::POST, &path, token, Some(body)).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["data"]["id"].as_str().unwrap().to_string()
    }

    /// Creates a task in a project as `token` (who must be allowed to) and returns it.
    pub async fn create_task(&self, token: &str, project_id: &str, body: Value) -> Value {
        let path = format!("/v1/projects/{project_id}/tasks");
        let (status, resp) = self.call(Method::POST, &path, token, Some(body)).await;
        assert_eq!(status, StatusCode::CREATED, "{resp}");
        resp["data"].clone()
    }

    /// Follows `next_cursor` through every page of a list route and returns all item ids.
    pub async fn collect_ids(&self, path: &str, token: &str, limit: u32) -> Vec<String> {
        let mut ids = Vec::new();
        let mut cursor: Option<String> = None;
        let sep = if path.contains('?') { '&' } else { '?' };
        loop {
            let mut url = format!("{path}{sep}limit={limit}");
            if let Some(c) = &cursor {
                url.push_str(&format!("&cursor={c}"));
            }
            let (status, body) = self.call(Method::GET, &url, token, None).await;
            assert_eq!(status, StatusCode::OK, "{body}");
            let items = body["data"]["items"].as_array().unwrap();
            assert!(items.len() <= limit as usize);
            ids.extend(items.iter().map(|i| i["id"].as_str().unwrap().to_string()));
            match body["data"]["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_string()),
                None => return ids,
            }
        }
    }
}

impl TestApp {
    /// The messages the default file mailer has written, oldest first, read back as MIME.
    pub fn sent_mail(&self) -> Vec<crate::mail::Parsed> {
        let dir = self.dir.path().join("mail");
        let mut files: Vec<_> = match std::fs::read_dir(&dir) {
            Ok(entries) => entries
                .map(|e| e.unwrap().path())
                .filter(|p| p.extension().is_some_and(|x| x == "eml"))
                .collect(),
            Err(_) => return Vec::new(),
        };
        files.sort();
        files
            .iter()
            .map(|f| crate::mail::parse(&std::fs::read(f).unwrap()))
            .collect()
    }
}

impl TestApp {
    /// The token in the newest email for this invitation (running due jobs first, so the email
    /// exists), or a well-formed token nobody has when no email went out.
    pub async fn invitation_token(&self, invitation_id: &str) -> String {
        self.run_due_jobs(kanri::clock::now_ms()).await;
        let marker = format!("/app/invitations/{invitation_id}?token=");
        self.sent_mail()
            .iter()
            .rev()
            .find_map(|m| {
                m.text
                    .split(&marker)
                    .nth(1)
                    .map(|rest| rest.split_whitespace().next().unwrap_or("").to_string())
            })
            .unwrap_or_else(|| "A".repeat(43))
    }

    /// Accepts or rejects (`action`) an invitation as `token`'s user, with the emailed token.
    pub async fn answer_invitation(
        &self,
        path_prefix: &str,
        invitation_id: &str,
        action: &str,
        session: &str,
    ) -> (StatusCode, Value) {
        let secret = self.invitation_token(invitation_id).await;
        let path = format!("{path_prefix}/invitations/{invitation_id}/{action}");
        self.call(Method::POST, &path, session, Some(json!({"token": secret})))
            .await
    }
}
