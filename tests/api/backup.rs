//! `kanri backup`, `kanri restore` and `kanri demo`, run as the real binary the way an
//! operator runs them, against a live server's data directory.
//!
//! On the embedded SQLite database (in both of the suite's passes): a backup taken while a writer keeps creating tasks restores to a database that
//! passes `integrity_check` and holds every task acknowledged before the backup began, as a
//! prefix of the acknowledged sequence; corrupted backups are refused with the current
//! database untouched; restore is refused while a server has the database open; retention
//! keeps N; attachment files come back; the scheduled job takes one backup per slot. On
//! Postgres (`KANRI_TEST_DATABASE_URL`): `kanri backup` refuses with the pg_dump advice.
//! `kanri demo` runs on both.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use kanri::config::Config;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sqlx::Connection;

use kanri::config::BackupTarget;
use kanri::storage::Storage;

use crate::helpers::{TestApp, read};

/// The `kanri` binary (`KANRI_TEST_BIN` overrides cargo's path, for a target directory that
/// several checkouts build into) with only the settings given: the data directory (and a
/// Postgres URL).
fn kanri(data_dir: &Path, database_url: Option<&str>, args: &[&str]) -> Command {
    let bin =
        std::env::var("KANRI_TEST_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_kanri").into());
    let mut cmd = Command::new(bin);
    for (key, _) in std::env::vars().filter(|(k, _)| k.starts_with("KANRI_")) {
        cmd.env_remove(key);
    }
    cmd.args(args)
        .env("KANRI_DATA_DIR", data_dir)
        .current_dir(data_dir);
    if let Some(url) = database_url {
        cmd.env("KANRI_DATABASE_URL", url);
    }
    cmd
}

/// Runs a command off the runtime, so the server in this process keeps answering meanwhile.
async fn run(mut cmd: Command) -> Output {
    tokio::task::spawn_blocking(move || cmd.output().expect("kanri runs"))
        .await
        .unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn json_out(out: &Output) -> Value {
    assert!(out.status.success(), "{}", stderr(out));
    serde_json::from_slice(&out.stdout).expect("--json prints JSON")
}

/// A backup of the app's database to `to`, keeping `keep`: what `kanri backup --to DIR
/// --keep N --json` prints, from the library call the command makes.
async fn backup(app: &TestApp, to: &Path, keep: usize) -> Value {
    let storage = Storage::from_config(&app.config.storage).unwrap();
    let target = BackupTarget::Dir(to.to_path_buf());
    let taken = kanri::backup::take(&app.config, &storage, &target, keep)
        .await
        .expect("backup taken");
    serde_json::to_value(taken).unwrap()
}

/// `kanri restore BACKUP` into the data directory `into`: what `--json` prints, or the
/// error line it exits non-zero with.
async fn restore(into: &Path, backup: &Path) -> Result<Value, String> {
    let config = Config::for_data_dir(into, None);
    kanri::backup::restore::restore(&config, backup.to_str().unwrap())
        .await
        .map(|r| serde_json::to_value(r).unwrap())
        .map_err(|e| format!("{e:#}"))
}

/// An app on a data directory that `kanri restore` filled.
async fn app_on(dir: tempfile::TempDir) -> TestApp {
    let mut config = Config::for_data_dir(dir.path(), None);
    config.telemetry.log = "off".into();
    config.jobs.workers = 0;
    config.rate_limit.per_minute = 1_000_000;
    config.rate_limit.auth_per_minute = 1_000_000;
    TestApp::start(config, dir).await
}

async fn integrity(path: &Path) -> String {
    sqlx::any::install_default_drivers();
    let url = format!("sqlite://{}?mode=ro", path.display());
    let mut conn = sqlx::AnyConnection::connect(&url).await.unwrap();
    let answer: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    answer
}

fn sha256(path: &Path) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(std::fs::read(path).unwrap()))
}

struct Board {
    token: String,
    project: String,
}

async fn board(app: &TestApp) -> Board {
    let owner = app.register("owner@example.com").await;
    let workspace = app.create_workspace(&owner.token, "Backed up").await;
    let project = app
        .create_project(&owner.token, &workspace, json!({"name": "Kept"}))
        .await;
    Board {
        token: owner.token,
        project,
    }
}

fn location(taken: &Value) -> PathBuf {
    PathBuf::from(taken["location"].as_str().unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_under_write_load_restores_every_acknowledged_task() {
    let app = TestApp::spawn_with(embedded).await;
    let b = board(&app).await;
    // A writer creates tasks one after another and records each acknowledged id in order.
    let acked = Arc::new(Mutex::new(Vec::<String>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (acked, stop) = (acked.clone(), stop.clone());
        let (client, base) = (app.client.clone(), app.base.clone());
        let (token, project) = (b.token.clone(), b.project.clone());
        tokio::spawn(async move {
            let mut n = 0;
            while !stop.load(Ordering::SeqCst) {
                n += 1;
                let res = client
                    .post(format!("{base}/v1/projects/{project}/tasks"))
                    .bearer_auth(&token)
                    .json(&json!({"title": format!("task {n}")}))
                    .send()
                    .await
                    .unwrap();
                let (status, body) = read(res).await;
                assert_eq!(status, StatusCode::CREATED, "{body}");
                let id = body["data"]["id"].as_str().unwrap().to_string();
                acked.lock().unwrap().push(id);
            }
        })
    };
    while acked.lock().unwrap().len() < 40 {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let before: Vec<String> = acked.lock().unwrap().clone();
    let backups = tempfile::tempdir().unwrap();
    let taken = backup(&app, backups.path(), 7).await;
    let during = acked.lock().unwrap().len();
    // The writer goes on a little after the backup, so the live database is ahead of it.
    while acked.lock().unwrap().len() < during + 10 {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    stop.store(true, Ordering::SeqCst);
    writer.await.unwrap();
    let all: Vec<String> = acked.lock().unwrap().clone();

    let dir = location(&taken);
    assert!(dir.join("manifest.json").is_file());
    assert_eq!(integrity(&dir.join("kanri.db")).await, "ok");
    assert_eq!(
        taken["manifest"]["database"]["sha256"],
        sha256(&dir.join("kanri.db"))
    );
    let partials: Vec<_> = std::fs::read_dir(backups.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        partials,
        [taken["name"].as_str().unwrap()],
        "no staging left"
    );

    let fresh = tempfile::tempdir().unwrap();
    let restored = restore(fresh.path(), &dir).await.unwrap();
    assert_eq!(restored["moved_aside"], Value::Null, "nothing was there");
    assert_eq!(integrity(&fresh.path().join("kanri.db")).await, "ok");
    let again = app_on(fresh).await;
    let path = format!("/v1/projects/{}/tasks", b.project);
    let mut got = again.collect_ids(&path, &b.token, 100).await;
    got.sort();
    let mut expected_prefix = all[..got.len()].to_vec();
    expected_prefix.sort();
    assert_eq!(
        got, expected_prefix,
        "the backup holds a prefix of the acknowledged writes"
    );
    assert!(
        got.len() >= before.len(),
        "every task acknowledged before the backup began is in it ({} < {})",
        got.len(),
        before.len()
    );
    assert!(got.len() < all.len(), "and not the ones written after it");
    // Nothing half-written: each task came with its activity event.
    let created: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM activity WHERE kind = 'task.created' AND project_id = $1",
    )
    .bind(&b.project)
    .fetch_one(again.db.read())
    .await
    .unwrap();
    assert_eq!(created, got.len() as i64);
    again.stop().await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restore_refuses_bad_backups_and_a_running_server_and_touches_nothing() {
    let app = TestApp::spawn_with(embedded).await;
    let b = board(&app).await;
    app.create_task(&b.token, &b.project, json!({"title": "kept"}))
        .await;
    let backups = tempfile::tempdir().unwrap();
    let good = location(&backup(&app, backups.path(), 7).await);

    // While the server has the database open, restore refuses and changes nothing.
    let err = restore(app.dir.path(), &good).await.unwrap_err();
    assert!(err.contains("in use"), "{err}");

    app.create_task(&b.token, &b.project, json!({"title": "after the backup"}))
        .await;
    let (config, dir) = app.stop().await;
    let db = dir.path().join("kanri.db");
    let listing = |dir: &Path| -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    };
    let (sum, names) = (sha256(&db), listing(dir.path()));

    let copy = |name: &str| -> PathBuf {
        let to = backups.path().join(name);
        std::fs::create_dir_all(&to).unwrap();
        for file in ["kanri.db", "manifest.json"] {
            std::fs::copy(good.join(file), to.join(file)).unwrap();
        }
        to
    };
    // Bytes flipped in the database copy.
    let flipped = copy("flipped");
    let mut bytes = std::fs::read(flipped.join("kanri.db")).unwrap();
    let at = bytes.len() / 2;
    bytes[at] ^= 0xff;
    std::fs::write(flipped.join("kanri.db"), bytes).unwrap();
    // A manifest whose checksum does not match.
    let wrong_sum = copy("wrong-sum");
    let mut manifest: Value =
        serde_json::from_slice(&std::fs::read(wrong_sum.join("manifest.json")).unwrap()).unwrap();
    manifest["database"]["sha256"] = json!("0".repeat(64));
    std::fs::write(wrong_sum.join("manifest.json"), manifest.to_string()).unwrap();
    // A backup that never finished: no manifest.
    let unfinished = copy("unfinished");
    std::fs::remove_file(unfinished.join("manifest.json")).unwrap();
    // A copy from a newer kanri (a schema this binary does not know).
    let newer = copy("newer");
    let mut manifest: Value =
        serde_json::from_slice(&std::fs::read(newer.join("manifest.json")).unwrap()).unwrap();
    manifest["schema_version"] = json!(9999);
    std::fs::write(newer.join("manifest.json"), manifest.to_string()).unwrap();

    for (bad, why) in [
        (&flipped, "SHA-256"),
        (&wrong_sum, "SHA-256"),
        (&unfinished, "manifest.json"),
        (&newer, "migration"),
    ] {
        let text = restore(dir.path(), bad).await.unwrap_err();
        assert!(
            text.contains("refusing to restore") && text.contains(why),
            "{text}"
        );
        assert_eq!(sha256(&db), sum, "the current database is untouched");
        assert_eq!(listing(dir.path()), names, "nothing moved aside");
    }

    // The good one restores, and the database it replaced is kept, not deleted.
    let restored = restore(dir.path(), &good).await.unwrap();
    let aside = PathBuf::from(restored["moved_aside"].as_str().unwrap());
    assert_eq!(sha256(&aside.join("kanri.db")), sum);
    let app = TestApp::start(config, dir).await;
    let titles: Vec<String> = {
        let (status, body) = app
            .call(
                Method::GET,
                &format!("/v1/projects/{}/tasks", b.project),
                &b.token,
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["data"]["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["title"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(titles, ["kept"]);
    app.stop().await;
}

#[tokio::test]
async fn retention_keeps_the_newest_n_complete_backups() {
    let app = TestApp::spawn_with(embedded).await;
    let backups = tempfile::tempdir().unwrap();
    // Something in the directory that is not a complete backup is left alone.
    let stray = backups
        .path()
        .join(".partial-kanri-backup-20200101T000000000Z");
    std::fs::create_dir_all(&stray).unwrap();
    let mut names = Vec::new();
    for _ in 0..4 {
        let taken = backup(&app, backups.path(), 2).await;
        names.push(taken["name"].as_str().unwrap().to_string());
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let mut left: Vec<String> = std::fs::read_dir(backups.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("kanri-backup-"))
        .collect();
    left.sort();
    assert_eq!(left, names[2..].to_vec());
    assert!(stray.exists());
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attachment_files_come_back() {
    let app = TestApp::spawn_with(embedded).await;
    let b = board(&app).await;
    let task = app
        .create_task(&b.token, &b.project, json!({"title": "with a file"}))
        .await;
    let task_id = task["id"].as_str().unwrap();
    let bytes: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
    let file = crate::attachments::upload(&app, &b.token, task_id, "data.bin", &bytes).await;
    let backups = tempfile::tempdir().unwrap();
    let taken = backup(&app, backups.path(), 7).await;
    assert_eq!(taken["manifest"]["files"]["count"], 1);
    assert_eq!(taken["manifest"]["files"]["bytes"], bytes.len());

    let fresh = tempfile::tempdir().unwrap();
    let restored = restore(fresh.path(), &location(&taken)).await.unwrap();
    assert_eq!(restored["files"], 1);
    let again = app_on(fresh).await;
    let res = again
        .as_user(
            Method::GET,
            &format!("/v1/attachments/{}/download", file["id"].as_str().unwrap()),
            &b.token,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.bytes().await.unwrap().to_vec(), bytes);
    again.stop().await;
    app.stop().await;
}

#[tokio::test]
async fn the_schedule_takes_one_backup_per_slot_however_many_instances_enqueue_it() {
    let backups = tempfile::tempdir().unwrap();
    let to = backups.path().to_path_buf();
    let app = TestApp::spawn_with(|c| {
        embedded(c);
        c.backup.target = kanri::config::BackupTarget::Dir(to);
        c.backup.keep = 3;
    })
    .await;
    let slot = kanri::clock::now_ms() - 1000;
    for _ in 0..3 {
        // Every instance enqueues the slot's job; the dedupe key keeps one.
        let mut tx = app.db.begin().await.unwrap();
        kanri::jobs::enqueue(&mut tx, kanri::jobs::backup::backup_spec(slot))
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }
    app.run_due_jobs(kanri::clock::now_ms()).await;
    let complete = kanri::backup::list_complete(backups.path()).unwrap();
    assert_eq!(complete.len(), 1, "{complete:?}");
    app.stop().await;
}

#[tokio::test]
async fn demo_fills_a_fresh_install_and_refuses_a_second_time() {
    let app = TestApp::spawn().await;
    let passwords = kanri::services::passwords::Passwords::default();
    let made = kanri::services::demo::create(&app.cx, &passwords, "demo-pass-123", false)
        .await
        .expect("demo made");
    let err = kanri::services::demo::create(&app.cx, &passwords, "demo-pass-123", false)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("--force"), "{err}");

    let (status, body) = read(
        app.request(Method::POST, "/v1/auth/login")
            .json(&json!({"email": made.users[0].email, "password": "demo-pass-123"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let token = body["data"]["token"].as_str().unwrap().to_string();
    let workspaces = app.collect_ids("/v1/workspaces", &token, 100).await;
    assert_eq!(workspaces.len(), 1);
    assert_eq!(workspaces[0], made.workspace_id);
    let projects = app
        .collect_ids(
            &format!("/v1/workspaces/{}/projects", workspaces[0]),
            &token,
            100,
        )
        .await;
    assert_eq!(projects.len(), 4);
    let mut tasks = 0;
    for project in &projects {
        tasks += app
            .collect_ids(&format!("/v1/projects/{project}/tasks"), &token, 100)
            .await
            .len();
    }
    assert_eq!(tasks, made.tasks);
    assert!(tasks >= 200, "{tasks}");
    let (status, body) = app
        .call(
            Method::GET,
            &format!("/v1/workspaces/{}/members?limit=100", workspaces[0]),
            &token,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["items"].as_array().unwrap().len(), 6);
    // The board has labels on its tasks and some subtasks.
    let (_, labels) = app
        .call(
            Method::GET,
            &format!("/v1/workspaces/{}/labels", workspaces[0]),
            &token,
            None,
        )
        .await;
    assert_eq!(labels["data"].as_array().unwrap().len(), 5, "{labels}");
    let (_, page) = app
        .call(
            Method::GET,
            &format!("/v1/projects/{}/tasks?limit=100", projects[0]),
            &token,
            None,
        )
        .await;
    let items = page["data"]["items"].as_array().unwrap();
    assert!(
        items
            .iter()
            .any(|t| !t["labels"].as_array().unwrap().is_empty()),
        "labelled tasks"
    );
    // Through the write path: each task's creation is in the activity log.
    let created: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM activity WHERE kind = 'task.created'")
            .fetch_one(app.db.read())
            .await
            .unwrap();
    assert_eq!(created, tasks as i64);
    // And a forced second demo adds a workspace beside the first.
    kanri::services::demo::create(&app.cx, &passwords, "demo-pass-123", true)
        .await
        .expect("forced demo");
    app.stop().await;
}

/// The commands as an operator runs them: output, refusals and exit codes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_runs_demo_backup_and_restore_with_clear_exit_codes() {
    let (config, dir) = crate::helpers::test_config().await;
    let url = config.database.url.expose().to_string();
    let pg = url.starts_with("postgres").then_some(url.as_str());
    let help = run(kanri(dir.path(), pg, &["--help"])).await;
    assert!(
        String::from_utf8_lossy(&help.stdout).contains("restore"),
        "the kanri binary is not this checkout's build (a shared target directory? set \
         KANRI_TEST_BIN to a copy of it)"
    );
    let made = json_out(&run(kanri(dir.path(), pg, &["demo", "--json"])).await);
    assert!(made["demo"]["password"].as_str().unwrap().len() >= 20);
    let again = run(kanri(dir.path(), pg, &["demo"])).await;
    assert_eq!(again.status.code(), Some(1), "a second demo is refused");
    assert!(stderr(&again).contains("--force"), "{}", stderr(&again));

    if pg.is_some() {
        for (args, hint) in [
            (&["backup"][..], "pg_dump"),
            (&["restore", "."][..], "pg_restore"),
        ] {
            let out = run(kanri(dir.path(), pg, args)).await;
            assert_eq!(out.status.code(), Some(1));
            assert!(stderr(&out).contains(hint), "{}", stderr(&out));
        }
        return;
    }
    let backups = tempfile::tempdir().unwrap();
    let to = backups.path().to_str().unwrap();
    let taken = json_out(&run(kanri(dir.path(), None, &["backup", "--to", to, "--json"])).await);
    assert_eq!(taken["manifest"]["engine"], "sqlite");
    let text = run(kanri(
        dir.path(),
        None,
        &["backup", "--to", to, "--keep", "1"],
    ))
    .await;
    assert!(text.status.success(), "{}", stderr(&text));
    let shown = String::from_utf8_lossy(&text.stdout).into_owned();
    assert!(
        shown.contains("written to")
            && shown.contains(&format!("deleted  {}", taken["name"].as_str().unwrap())),
        "{shown}"
    );
    let unfinished = backups.path().join("nothing-here");
    std::fs::create_dir_all(&unfinished).unwrap();
    let out = run(kanri(
        dir.path(),
        None,
        &["restore", unfinished.to_str().unwrap()],
    ))
    .await;
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("refusing to restore"),
        "{}",
        stderr(&out)
    );
    let newest = kanri::backup::list_complete(backups.path()).unwrap();
    let out = run(kanri(
        dir.path(),
        None,
        &["restore", backups.path().join(&newest[0]).to_str().unwrap()],
    ))
    .await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("previous database is kept in"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    drop(config);
}

/// The embedded database even in the Postgres pass: backups are of SQLite.
fn embedded(c: &mut Config) {
    let url = format!(
        "sqlite://{}?mode=rwc",
        c.data_dir.join("kanri.db").display()
    );
    c.database.url = kanri::config::Secret::new(url);
    c.database.engine = kanri::config::Engine::Sqlite;
}

/// With `KANRI_TEST_S3_URL` (and the `AWS_*` settings): backups go to the bucket's
/// `backups/`, manifest last, retention there keeps N, and `s3:<name>` restores the
/// database and writes the attachment objects back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backups_in_s3_keep_n_and_restore_with_their_files() {
    let Ok(s3) = std::env::var("KANRI_TEST_S3_URL") else {
        return;
    };
    let storage_url = format!(
        "{}/{}",
        s3.trim_end_matches('/'),
        uuid::Uuid::now_v7().simple()
    );
    let on_s3 = |c: &mut Config| {
        embedded(c);
        c.storage.set_url(storage_url.clone()).unwrap();
        c.backup.target = BackupTarget::S3;
    };
    let app = TestApp::spawn_with(on_s3).await;
    let b = board(&app).await;
    let task = app
        .create_task(&b.token, &b.project, json!({"title": "with a file in S3"}))
        .await;
    let bytes: Vec<u8> = (0..70_000u32).map(|i| (i % 241) as u8).collect();
    let file = crate::attachments::upload(
        &app,
        &b.token,
        task["id"].as_str().unwrap(),
        "s3.bin",
        &bytes,
    )
    .await;
    let storage = Storage::from_config(&app.config.storage).unwrap();
    let mut names = Vec::new();
    for _ in 0..3 {
        let taken = kanri::backup::take(&app.config, &storage, &BackupTarget::S3, 2)
            .await
            .expect("backup to S3");
        assert!(
            taken.location.starts_with("s3:backups/"),
            "{}",
            taken.location
        );
        assert_eq!(taken.manifest.files.count, 1);
        names.push(taken.name);
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    assert_eq!(
        kanri::backup::s3::list_complete(&storage).await.unwrap(),
        names[1..].to_vec()
    );
    // The attachment's object is lost; the restore brings it back with the database.
    let key = storage
        .list_keys("")
        .await
        .unwrap()
        .into_iter()
        .find(|k| !k.starts_with("backups/"))
        .unwrap();
    storage.delete(&key).await.unwrap();
    let (_, dir) = app.stop().await;
    let mut config = Config::for_data_dir(dir.path(), None);
    on_s3(&mut config);
    let unknown = kanri::backup::restore::restore(&config, "s3:kanri-backup-20200101T000000000Z")
        .await
        .unwrap_err();
    assert!(
        format!("{unknown:#}").contains("refusing to restore"),
        "{unknown:#}"
    );
    let restored = kanri::backup::restore::restore(&config, &format!("s3:{}", names[2]))
        .await
        .expect("restored from S3");
    assert_eq!(restored.files, 1);
    assert!(restored.moved_aside.is_some());
    config.telemetry.log = "off".into();
    config.jobs.workers = 0;
    let again = TestApp::start(config, dir).await;
    let res = again
        .as_user(
            Method::GET,
            &format!("/v1/attachments/{}/download", file["id"].as_str().unwrap()),
            &b.token,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.bytes().await.unwrap().to_vec(), bytes);
    again.stop().await;
}
