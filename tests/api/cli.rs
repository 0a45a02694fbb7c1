//! The `kanri` binary's administration commands, run as a user would run them.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, read, test_config};

struct Cli {
    data_dir: tempfile::TempDir,
    database_url: Option<String>,
}

impl Cli {
    async fn new() -> Self {
        let (config, data_dir) = test_config().await;
        let url = config.database.url.expose().to_string();
        Self {
            data_dir,
            database_url: url.starts_with("postgres").then_some(url),
        }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_kanri"));
        for (key, _) in std::env::vars().filter(|(k, _)| k.starts_with("KANRI_")) {
            cmd.env_remove(key);
        }
        cmd.args(args)
            .env("KANRI_DATA_DIR", self.data_dir.path())
            .current_dir(self.data_dir.path());
        if let Some(url) = &self.database_url {
            cmd.env("KANRI_DATABASE_URL", url);
        }
        cmd
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("kanri runs")
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// An app serving the same database the commands wrote to.
    async fn app(self) -> TestApp {
        let mut config =
            kanri::Config::for_data_dir(self.data_dir.path(), self.database_url.clone());
        config.telemetry.log = "off".into();
        TestApp::start(config, self.data_dir).await
    }
}

#[tokio::test]
async fn tenant_create_json_prints_exactly_the_tenant_and_working_keys() {
    let cli = Cli::new().await;
    let out: Value =
        serde_json::from_str(cli.ok(&["tenant", "create", "Acme Inc", "--json"]).trim()).unwrap();
    let top: Vec<&str> = out
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(top, ["publishable_key", "secret_key", "tenant"]);
    let tenant_keys: Vec<&str> = out["tenant"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(tenant_keys, ["id", "name"]);
    assert_eq!(out["tenant"]["name"], "Acme Inc");
    let sk = out["secret_key"].as_str().unwrap().to_string();
    let pk = out["publishable_key"].as_str().unwrap().to_string();
    assert!(sk.starts_with("sk_live_") && pk.starts_with("pk_live_"));

    let app = cli.app().await;
    let res = app
        .request(Method::POST, "/v1/auth/register")
        .header("X-Api-Key", &pk)
        .json(&json!({"email": "cli@example.com", "password": "cli-pass-123", "name": "C"}))
        .send()
        .await
        .unwrap();
    let (status, body) = read(res).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (_, me) = app.me(body["data"]["token"].as_str().unwrap()).await;
    assert_eq!(me["data"]["tenant_id"], out["tenant"]["id"]);
    let res = app
        .request(Method::GET, "/v1/admin/users")
        .header("X-Api-Key", &sk)
        .send()
        .await
        .unwrap();
    assert_eq!(
        read(res).await.1["data"]["items"].as_array().unwrap().len(),
        1
    );
}

#[tokio::test]
async fn apikey_create_list_revoke() {
    let cli = Cli::new().await;
    let tenant: Value =
        serde_json::from_str(cli.ok(&["tenant", "create", "Acme", "--json"]).trim()).unwrap();
    let tenant_id = tenant["tenant"]["id"].as_str().unwrap();
    let created: Value = serde_json::from_str(
        cli.ok(&[
            "apikey",
            "create",
            "--tenant",
            tenant_id,
            "--kind",
            "publishable",
            "--name",
            "web",
            "--json",
        ])
        .trim(),
    )
    .unwrap();
    let key = created["api_key"].as_str().unwrap().to_string();
    let key_id = created["key"]["id"].as_str().unwrap().to_string();
    assert!(key.starts_with("pk_live_"));

    let listed: Value = serde_json::from_str(
        cli.ok(&["apikey", "list", "--tenant", tenant_id, "--json"])
            .trim(),
    )
    .unwrap();
    let listed = listed.as_array().unwrap();
    assert_eq!(listed.len(), 3);
    assert!(
        !listed.iter().any(|k| k.to_string().contains(&key)),
        "listings never show a key"
    );

    cli.ok(&["apikey", "revoke", &key_id]);
    let out = cli.run(&["apikey", "revoke", &key_id]);
    assert!(!out.status.success(), "revoking twice fails");

    let app = cli.app().await;
    let res = app
        .request(Method::POST, "/v1/auth/login")
        .header("X-Api-Key", &key)
        .json(&json!({"email": "x@example.com", "password": "whatever-1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(read(res).await.1["code"], "invalid_api_key");
}

#[tokio::test]
async fn user_create_reads_the_password_from_stdin() {
    let cli = Cli::new().await;
    let mut child = cli
        .command(&[
            "user",
            "create",
            "--email",
            "ops@example.com",
            "--name",
            "Ops",
            "--password-stdin",
            "--json",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"stdin-pass-42\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed = String::from_utf8(out.stdout).unwrap();
    assert!(!printed.contains("stdin-pass-42"));

    let generated: Value = serde_json::from_str(
        cli.ok(&[
            "user",
            "create",
            "--email",
            "gen@example.com",
            "--name",
            "Gen",
            "--json",
        ])
        .trim(),
    )
    .unwrap();
    let generated_password = generated["password"].as_str().unwrap().to_string();

    let app = cli.app().await;
    for (email, password) in [
        ("ops@example.com", "stdin-pass-42"),
        ("gen@example.com", generated_password.as_str()),
    ] {
        let res = app
            .post_json(
                "/v1/auth/login",
                &json!({"email": email, "password": password}),
            )
            .await;
        assert_eq!(read(res).await.0, StatusCode::OK, "{email}");
    }
}

#[tokio::test]
async fn bad_arguments_and_bad_config_fail_with_one_line() {
    let cli = Cli::new().await;
    for args in [
        vec!["tenant", "create"],
        vec!["frobnicate"],
        vec!["apikey", "create", "--kind", "root"],
        vec!["user", "create", "--email", "nope", "--name", "N"],
        vec!["apikey", "create", "--tenant", "no-such-tenant"],
        vec![
            "search",
            "query",
            "some-project",
            "words",
            "--mode",
            "bogus",
        ],
    ] {
        let out = cli.run(&args);
        assert!(!out.status.success(), "{args:?}");
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!(stderr.trim().lines().count(), 1, "{args:?}: {stderr}");
        assert!(stderr.starts_with("error"), "{args:?}: {stderr}");
    }
    // Usage errors exit 2, as the README promises; a bad mode is one.
    let out = cli.run(&[
        "search",
        "query",
        "some-project",
        "words",
        "--mode",
        "bogus",
    ]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let out = cli
        .command(&["config"])
        .env("KANRI_BIND", "not-an-address")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("KANRI_BIND"), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
}

#[tokio::test]
async fn config_prints_effective_settings_with_secrets_redacted() {
    let cli = Cli::new().await;
    let out = cli
        .command(&["config"])
        .env(
            "KANRI_DATABASE_URL",
            "postgres://kanri:hunter2@db.internal:5432/kanri",
        )
        .env("KANRI_MULTI_TENANT", "true")
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(!text.contains("hunter2"), "{text}");
    let shown: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(shown["multi_tenant"], true);
    assert_eq!(shown["engine"], "postgres");
    assert_eq!(shown["session_ttl_secs"], 604_800);
}

#[tokio::test]
async fn serve_answers_healthz_and_stops_on_sigterm() {
    let cli = Cli::new().await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    // Its logs go to a file, as under a service manager: plain text, no colour codes.
    let log_path = cli.data_dir.path().join("serve.log");
    let mut child = cli
        .command(&["serve"])
        .env("KANRI_BIND", format!("127.0.0.1:{port}"))
        .env("KANRI_LOG", "info")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log_path).unwrap())
        .spawn()
        .unwrap();
    let client = reqwest::Client::new();
    let mut healthy = false;
    for _ in 0..100 {
        if let Ok(res) = client
            .get(format!("http://127.0.0.1:{port}/healthz"))
            .send()
            .await
        {
            healthy = res.status() == StatusCode::OK;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(healthy, "serve did not answer /healthz");
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = child.wait().unwrap();
    assert!(exit.success(), "graceful shutdown exits 0, got {exit:?}");
    let log = std::fs::read_to_string(&log_path).unwrap();
    assert!(log.contains("INFO"), "the server logged nothing: {log:?}");
    assert!(!log.contains('\x1b'), "ANSI codes in a log file: {log:?}");
}

#[tokio::test]
async fn mail_test_writes_a_file_with_the_default_mailer() {
    let cli = Cli::new().await;
    let out = cli.ok(&["mail", "test", "you@example.com"]);
    let path = out
        .trim()
        .strip_prefix("test message written to ")
        .unwrap_or_else(|| panic!("{out}"));
    let path = std::path::Path::new(path);
    assert_eq!(
        path.parent(),
        Some(cli.data_dir.path().join("mail").as_path())
    );
    let eml = std::fs::read_to_string(path).unwrap();
    assert!(eml.contains("To: you@example.com"), "{eml}");
    assert!(eml.contains("Subject: Kanri test message"), "{eml}");
    assert!(
        eml.contains("text/plain") && eml.contains("text/html"),
        "{eml}"
    );

    let out = cli.run(&["mail", "test", "not an address"]);
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("error: ") && err.contains("address"),
        "{err}"
    );
}

#[tokio::test]
async fn jobs_commands_list_retry_and_cancel() {
    use kanri::jobs::NewJobSpec;
    let cli = Cli::new().await;
    // A job with a kind no handler knows dies on its first run; another waits for tomorrow.
    let app = cli.app().await;
    let mut tx = app.db.begin().await.unwrap();
    kanri::jobs::enqueue(
        &mut tx,
        NewJobSpec::new("default", "no.such.kind", json!({})),
    )
    .await
    .unwrap();
    let tomorrow = kanri::clock::now_ms() + 24 * 3_600_000;
    kanri::jobs::enqueue(
        &mut tx,
        NewJobSpec::new("default", "later", json!({})).at(tomorrow),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    app.run_due_jobs(kanri::clock::now_ms()).await;
    let (config, dir) = app.stop().await;
    let cli = Cli {
        data_dir: dir,
        database_url: config
            .database
            .url
            .expose()
            .starts_with("postgres")
            .then(|| config.database.url.expose().to_string()),
    };

    let dead: Value = serde_json::from_str(
        cli.ok(&["jobs", "list", "--state", "dead", "--json"])
            .trim(),
    )
    .unwrap();
    let dead = dead.as_array().unwrap();
    assert_eq!(dead.len(), 1);
    assert!(
        dead[0]["last_error"]
            .as_str()
            .unwrap()
            .contains("no handler")
    );
    let dead_id = dead[0]["id"].as_str().unwrap().to_string();
    let scheduled: Value = serde_json::from_str(
        cli.ok(&["jobs", "list", "--state", "scheduled", "--json"])
            .trim(),
    )
    .unwrap();
    let scheduled_id = scheduled[0]["id"].as_str().unwrap().to_string();
    // A job due tomorrow is scheduled, not queued: with nothing runnable the queue reads empty.
    let stats: Value = serde_json::from_str(cli.ok(&["jobs", "stats", "--json"]).trim()).unwrap();
    let by_state = |state: &str| {
        stats
            .as_array()
            .unwrap()
            .iter()
            .find(|pair| pair[0] == state)
            .map(|pair| pair[1].as_i64().unwrap())
    };
    assert_eq!(by_state("scheduled"), Some(1), "{stats}");
    // The newest jobs come first: `--limit 1` shows the job with the highest (time-ordered) id.
    let all: Value = serde_json::from_str(cli.ok(&["jobs", "list", "--json"]).trim()).unwrap();
    let all: Vec<&str> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["id"].as_str().unwrap())
        .collect();
    assert!(all.len() >= 2, "{all:?}");
    assert!(all.windows(2).all(|w| w[0] > w[1]), "newest first: {all:?}");
    let newest: Value =
        serde_json::from_str(cli.ok(&["jobs", "list", "--limit", "1", "--json"]).trim()).unwrap();
    assert_eq!(newest.as_array().unwrap().len(), 1, "{newest}");
    assert_eq!(newest[0]["id"], all[0], "{newest}");

    assert!(cli.ok(&["jobs", "retry", &dead_id]).contains("queued"));
    assert!(
        !cli.run(&["jobs", "retry", &dead_id]).status.success(),
        "only dead or cancelled jobs"
    );
    cli.ok(&["jobs", "cancel", &scheduled_id]);
    assert!(!cli.run(&["jobs", "cancel", &scheduled_id]).status.success());
    assert!(cli.ok(&["jobs", "retry", "--all-dead"]).contains("0 dead"));
    let stats: Value = serde_json::from_str(cli.ok(&["jobs", "stats", "--json"]).trim()).unwrap();
    assert!(stats.to_string().contains("cancelled"), "{stats}");
    let out = cli.run(&["jobs", "list", "--state", "nonsense"]);
    assert!(!out.status.success());
}
