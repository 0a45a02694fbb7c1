//! Jobs per second through the real queue: N jobs are enqueued in transactions of
//! `KANRI_BENCH_BATCH`, then run to completion by 1 and by 4 workers from
//! `kanri::jobs::worker::spawn` with a runner that does nothing, so what is measured is the
//! queue itself (claim with a lease, record the outcome) on the real database.
//!
//! `cargo bench --bench queue` runs it on SQLite (a file in a temporary directory) and, when
//! `KANRI_BENCH_DATABASE_URL` names a Postgres server, on a fresh database there too (dropped
//! afterwards). `KANRI_BENCH_JOBS` sets N (default 2000). Without `--bench` (as under
//! `cargo test --all-targets`) it only runs a small smoke case.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use kanri::Config;
use kanri::db::Db;
use kanri::jobs::{self, Job, JobFuture, NewJobSpec, Queue, QueueSettings, Runner, worker};
use serde_json::json;
use sqlx::Connection;
use tokio_util::sync::CancellationToken;

/// Succeeds at once: the cost measured is the queue's.
struct Noop;

impl Runner for Noop {
    fn run<'a>(&'a self, _job: &'a Job) -> JobFuture<'a> {
        Box::pin(async { Ok(()) })
    }
}

#[derive(Clone, Copy)]
enum Engine {
    Sqlite,
    Postgres,
}

impl Engine {
    fn name(self) -> &'static str {
        match self {
            Engine::Sqlite => "sqlite",
            Engine::Postgres => "postgres",
        }
    }
}

/// A fresh, migrated database for one case, and how to get rid of it.
struct Fresh {
    db: Db,
    _dir: tempfile::TempDir,
    /// Postgres: the server URL and the database to drop afterwards.
    drop: Option<(String, String)>,
}

async fn fresh(engine: Engine, server: Option<&str>) -> anyhow::Result<Fresh> {
    let dir = tempfile::tempdir()?;
    let (url, drop) = match engine {
        Engine::Sqlite => (None, None),
        Engine::Postgres => {
            let server = server.expect("a Postgres server URL");
            sqlx::any::install_default_drivers();
            let name = format!("kanri_bench_{}", uuid::Uuid::now_v7().simple());
            let mut admin = sqlx::AnyConnection::connect(server).await?;
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .execute(&mut admin)
                .await?;
            admin.close().await?;
            let mut url = url::Url::parse(server)?;
            url.set_path(&format!("/{name}"));
            (Some(url.to_string()), Some((server.to_string(), name)))
        }
    };
    let config = Config::for_data_dir(dir.path(), url);
    let db = Db::connect(&config).await?;
    db.migrate().await?;
    Ok(Fresh {
        db,
        _dir: dir,
        drop,
    })
}

impl Fresh {
    async fn dispose(self) {
        self.db.close().await;
        if let Some((server, name)) = self.drop
            && let Ok(mut admin) = sqlx::AnyConnection::connect(&server).await
        {
            let _ = sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE {name}")))
                .execute(&mut admin)
                .await;
            let _ = admin.close().await;
        }
    }
}

struct Figures {
    enqueue: Duration,
    run: Duration,
}

async fn case(
    engine: Engine,
    server: Option<&str>,
    workers: usize,
    jobs: usize,
    batch: usize,
) -> anyhow::Result<Figures> {
    let fresh = fresh(engine, server).await?;
    let queue = Queue::new(
        fresh.db.clone(),
        QueueSettings {
            lease: Duration::from_secs(60),
            poll: Duration::from_millis(10),
            shutdown_grace: Duration::from_secs(10),
        },
        Default::default(),
    );

    let started = Instant::now();
    let mut n = 0;
    while n < jobs {
        let mut tx = queue.db.begin().await?;
        for i in n..(n + batch).min(jobs) {
            jobs::enqueue(
                &mut tx,
                NewJobSpec::new("default", "bench.noop", json!({ "i": i })),
            )
            .await?;
        }
        tx.commit().await?;
        n += batch;
    }
    let enqueue = started.elapsed();

    let stop = CancellationToken::new();
    let started = Instant::now();
    let running = worker::spawn(&queue, Arc::new(Noop), workers, &stop);
    let deadline = started + Duration::from_secs(600);
    // The outcome counters are in memory: watching them adds no load on the database.
    while queue.outcomes.succeeded.load(Ordering::Relaxed) < jobs as u64 {
        anyhow::ensure!(Instant::now() < deadline, "jobs did not finish in time");
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let run = started.elapsed();
    stop.cancel();
    running.join_all().await;

    let once: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM jobs WHERE state = 'succeeded' AND attempts = 1")
            .fetch_one(queue.db.read())
            .await?;
    anyhow::ensure!(
        once == jobs as i64,
        "{once} of {jobs} jobs succeeded on their first attempt"
    );
    fresh.dispose().await;
    Ok(Figures { enqueue, run })
}

fn env_usize(name: &str, default: usize) -> usize {
    match std::env::var(name) {
        Ok(v) => v
            .parse()
            .unwrap_or_else(|_| panic!("{name} must be a number, not {v:?}")),
        Err(_) => default,
    }
}

fn rate(jobs: usize, d: Duration) -> f64 {
    jobs as f64 / d.as_secs_f64()
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let benching = std::env::args().any(|a| a == "--bench");
    let jobs = if benching {
        env_usize("KANRI_BENCH_JOBS", 2000)
    } else {
        20
    };
    let batch = env_usize("KANRI_BENCH_BATCH", 100).max(1);
    let server = std::env::var("KANRI_BENCH_DATABASE_URL").ok();
    let mut engines = vec![Engine::Sqlite];
    if server.is_some() {
        engines.push(Engine::Postgres);
    }

    println!(
        "{:<9} {:>7} {:>6} {:>10} {:>11} {:>9} {:>9}",
        "engine", "workers", "jobs", "enqueue_s", "enqueue/s", "run_s", "jobs/s"
    );
    for engine in engines {
        for workers in [1, 4] {
            let f = case(engine, server.as_deref(), workers, jobs, batch).await?;
            println!(
                "{:<9} {:>7} {:>6} {:>10.3} {:>11.0} {:>9.3} {:>9.0}",
                engine.name(),
                workers,
                jobs,
                f.enqueue.as_secs_f64(),
                rate(jobs, f.enqueue),
                f.run.as_secs_f64(),
                rate(jobs, f.run),
            );
        }
    }
    Ok(())
}
