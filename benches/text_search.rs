//! Text search at scale: one project of `KANRI_BENCH_TASKS` tasks (default 100,000) with a
//! Zipf-like vocabulary, then p50/p99 of the text search the API runs (`Search::search` in text
//! mode: the full-text query, the relaxed retry, the typo fallback, hydration) for the most
//! common word in the corpus, a mid-frequency word, a rare one, two words, a prefix, and a
//! word that matches nothing. SQLite, and Postgres too with `KANRI_BENCH_DATABASE_URL`.
//!
//! `cargo bench --bench text_search` (`KANRI_BENCH_RUNS` sets the runs per query). Without `--bench` (as under `cargo test --all-targets`)
//! it runs a small smoke case.
//!
//! The tasks are inserted with SQL in large transactions, not through the write path: this
//! measures reading, and the search index is filled by the same triggers either way.

use std::time::{Duration, Instant};

use kanri::Config;
use kanri::db::search::TaskScope;
use kanri::domain::search_mode::SearchMode;
use kanri::services::search::SearchQuery;

/// Words of titles and descriptions; the first is in every title, the rest by a Zipf-like law.
const WORDS: &[&str] = &[
    "task",
    "login",
    "invoice",
    "export",
    "dashboard",
    "mobile",
    "payment",
    "search",
    "report",
    "safari",
    "webhook",
    "upload",
    "settings",
    "profile",
    "billing",
    "calendar",
    "reminder",
    "timezone",
    "password",
    "session",
    "avatar",
    "filter",
    "sorting",
    "pagination",
    "archive",
    "onboarding",
    "tooltip",
    "keyboard",
    "shortcut",
    "latency",
    "timeout",
    "retry",
    "cache",
    "locale",
    "currency",
    "receipt",
    "refund",
    "coupon",
    "analytics",
    "tracking",
    "privacy",
    "consent",
    "banner",
    "sidebar",
    "header",
    "footer",
    "modal",
    "dropdown",
    "checkbox",
    "slider",
];

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// A deterministic word index: small indexes far more often than large ones.
fn zipf(seed: u64, n: usize) -> usize {
    let x = (seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407)
        >> 33) as f64
        / (1u64 << 31) as f64;
    (((n as f64).powf(x) - 1.0) as usize).min(n - 1)
}

fn text(i: usize, words: usize, salt: u64) -> String {
    (0..words)
        .map(|w| WORDS[1 + zipf(i as u64 * 31 + w as u64 * 7 + salt, WORDS.len() - 1)])
        .collect::<Vec<_>>()
        .join(" ")
}

async fn world(config: Config, tasks_n: usize) -> anyhow::Result<(kanri::App, String)> {
    let app = kanri::App::build(config).await?;
    let cx = app.cx().clone();
    let (user, ws, project_id) = (
        kanri::ids::new_id(),
        kanri::ids::new_id(),
        kanri::ids::new_id(),
    );
    let now = kanri::clock::now_ms();
    let mut tx = cx.db.begin().await?;
    sqlx::query(
        "INSERT INTO users (id, tenant_id, email, email_normalized, name, created_at, updated_at)
         VALUES ($1, 'default', 'bench@example.com', 'bench@example.com', 'Bench', $2, $2)",
    )
    .bind(&user)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO workspaces (id, tenant_id, name, slug, owner_id, created_at, updated_at)
         VALUES ($1, 'default', 'Bench', 'bench', $2, $3, $3)",
    )
    .bind(&ws)
    .bind(&user)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO projects (id, tenant_id, workspace_id, name, status, priority, created_at, updated_at)
         VALUES ($1, 'default', $2, 'Bench', 'ACTIVE', 'MEDIUM', $3, $3)",
    )
    .bind(&project_id)
    .bind(&ws)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;

    let started = Instant::now();
    for chunk in (0..tasks_n).collect::<Vec<_>>().chunks(5_000) {
        let mut tx = cx.db.begin().await?;
        for &i in chunk {
            // One task in a thousand has a rare word.
            let rare = if i % 1000 == 0 { " kumquat" } else { "" };
            let title = format!("task {i} {}{rare}", text(i, 4, 1));
            let description = text(i, 12, 2);
            sqlx::query(
                "INSERT INTO tasks (id, tenant_id, project_id, title, description, status, type, priority,
                                    position, version, created_at, updated_at)
                 VALUES ($1, 'default', $2, $3, $4, 'TODO', 'TASK', 'MEDIUM', $5, 1, $6, $6)",
            )
            .bind(kanri::ids::new_id())
            .bind(&project_id)
            .bind(&title)
            .bind(&description)
            .bind(format!("a{i:08}"))
            .bind(now + i as i64)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
    }
    println!(
        "inserted {tasks_n} tasks (with their full-text index) in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    // What autovacuum does within a minute of a bulk load: without statistics the Postgres
    // planner guesses, and the figures would be of its guess.
    if cx.db.engine() == kanri::config::Engine::Postgres {
        sqlx::query("ANALYZE").execute(cx.db.write()).await?;
    }
    Ok((app, project_id))
}

async fn case(
    label: &str,
    engine_url: Option<String>,
    tasks_n: usize,
    runs: usize,
) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let mut config = Config::for_data_dir(dir.path(), engine_url);
    config.jobs.workers = 0;
    config.telemetry.log = "off".into();
    // Every run is a new search: the result cache would answer repeats from memory.
    config.cache.enabled = false;
    let (app, project_id) = world(config, tasks_n).await?;
    let search = app.search().clone();
    let scope = TaskScope {
        tenant_id: "default".into(),
        project_ids: vec![project_id],
        ..TaskScope::default()
    };
    let queries = [
        ("the most common word (in every title)", "task"),
        ("a frequent word", "login"),
        ("a rare word (one task in 1,000)", "kumquat"),
        ("two words", "invoice refund"),
        ("a prefix", "dashb"),
        ("no match", "zyzzyva"),
    ];
    println!("{label}, {tasks_n} tasks in one project, text mode, {runs} runs each:");
    for (what, q) in queries {
        let query = SearchQuery {
            text: q.to_string(),
            mode: SearchMode::Text,
            limit: 20,
            scope: scope.clone(),
        };
        // The first run is shown apart: it fills the page cache and, for a word with no
        // match, the typo fallback's vocabulary of the scope (kept for a minute).
        let t = Instant::now();
        search
            .search(&query)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let first = t.elapsed();
        let mut times = Vec::with_capacity(runs);
        let mut found = 0;
        for _ in 0..runs {
            let t = Instant::now();
            let results = search
                .search(&query)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            times.push(t.elapsed());
            found = results.items.len();
        }
        times.sort();
        println!(
            "  {what:<40} {q:<16} p50 {:>7.2} ms  p99 {:>7.2} ms  first {:>7.2} ms  ({found} shown)",
            percentile(&times, 0.5).as_secs_f64() * 1e3,
            percentile(&times, 0.99).as_secs_f64() * 1e3,
            first.as_secs_f64() * 1e3,
        );
    }
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let benching = std::env::args().any(|a| a == "--bench");
    let tasks_n: usize = std::env::var("KANRI_BENCH_TASKS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if benching { 100_000 } else { 300 });
    let runs = std::env::var("KANRI_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if benching { 200 } else { 3 });
    case("SQLite", None, tasks_n, runs).await?;
    if let Ok(server) = std::env::var("KANRI_BENCH_DATABASE_URL") {
        let name = format!("kanri_bench_{}", uuid::Uuid::now_v7().simple());
        sqlx::any::install_default_drivers();
        use sqlx::Connection;
        let mut admin = sqlx::AnyConnection::connect(&server).await?;
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut admin)
            .await?;
        let mut url = url::Url::parse(&server)?;
        url.set_path(&format!("/{name}"));
        let result = case("PostgreSQL", Some(url.to_string()), tasks_n, runs).await;
        let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE {name} WITH (FORCE)"
        )))
        .execute(&mut admin)
        .await;
        result?;
    }
    Ok(())
}
