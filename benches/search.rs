//! Search speed: embedding throughput of the bundled model on one core, vector-search latency
//! (p50/p99) for a 1,000-task project and a 100,000-task set, exact and through the HNSW
//! graph (synthetic unit vectors; recall@10 of the graph against exact search is printed
//! too), the index's memory, and one full search request path over HTTP (a real server on
//! SQLite with 1,000 embedded tasks: access check, query embedding, full text, vectors,
//! fusion, hydration).
//!
//! `cargo bench --bench search`. `KANRI_BENCH_BIG` sets the big set's size (default 100000).
//! Without `--bench` (as under `cargo test --all-targets`) it runs a small smoke case.

use std::time::{Duration, Instant};

use kanri::Config;
#[cfg(feature = "ann")]
use kanri::search::ann::Ann;
use kanri::search::embedder::normalize;
use kanri::search::{Embedder, VectorSet};
use kanri::services::access::Actor;
use kanri::services::tasks::{self, TaskInput};
use serde_json::{Value, json};

const DIMS: usize = 384;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn report(what: &str, mut times: Vec<Duration>) {
    times.sort();
    println!(
        "{what:<52} p50 {:>9.3} ms   p99 {:>9.3} ms   ({} runs)",
        percentile(&times, 0.5).as_secs_f64() * 1e3,
        percentile(&times, 0.99).as_secs_f64() * 1e3,
        times.len()
    );
}

/// Deterministic pseudo-random unit vectors.
struct Vectors(u64);

impl Vectors {
    fn next(&mut self) -> Vec<f32> {
        let v: Vec<f32> = (0..DIMS)
            .map(|_| {
                self.0 = self
                    .0
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                (self.0 >> 40) as f32 / (1u64 << 24) as f32 - 0.5
            })
            .collect();
        normalize(v).expect("non-zero")
    }
}

fn set_of(n: usize, rng: &mut Vectors) -> VectorSet {
    let mut set = VectorSet::new(DIMS);
    for i in 0..n {
        set.upsert(&format!("task-{i:08}"), &rng.next());
    }
    set
}

fn mib(bytes: usize) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

async fn embedding_throughput(texts: usize) -> anyhow::Result<()> {
    let embedder = kanri::search::pocket::PocketEmbedder::new();
    // Load the weights outside the measurement.
    embedder.embed(&["warm up".to_string()]).await?;
    let words = [
        "invoice",
        "login",
        "timeout",
        "export",
        "mobile",
        "crash",
        "payment",
        "report",
        "latency",
        "dashboard",
    ];
    let batch: Vec<String> = (0..texts)
        .map(|i| {
            let n = 8 + i % 40;
            (0..n)
                .map(|j| words[(i * 7 + j * 3) % words.len()])
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    let started = Instant::now();
    for chunk in batch.chunks(32) {
        embedder.embed(chunk).await?;
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "embedding throughput (pocket-encoder, 1 core)         {:>9.1} texts/s ({} texts of 8–47 words, {:.2}s)",
        texts as f64 / secs,
        texts,
        secs
    );
    // As the job workers call it: batches of 32 at once, as many running as the embedder's
    // semaphore lets in (one per core).
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let started = Instant::now();
    futures_util::future::try_join_all(batch.chunks(32).map(|chunk| embedder.embed(chunk))).await?;
    let secs = started.elapsed().as_secs_f64();
    println!(
        "embedding throughput (pocket-encoder, {cores} cores)        {:>9.1} texts/s ({} texts, {:.2}s)",
        texts as f64 / secs,
        texts,
        secs
    );
    Ok(())
}

fn vector_search(big: usize, queries: usize) {
    let mut rng = Vectors(7);
    let small = set_of(1_000, &mut rng);
    let qs: Vec<Vec<f32>> = (0..queries).map(|_| rng.next()).collect();
    let times = qs
        .iter()
        .map(|q| {
            let t = Instant::now();
            std::hint::black_box(small.search(q, 100, None));
            t.elapsed()
        })
        .collect();
    report("vector search, 1,000 vectors, exact, top 100", times);
    println!(
        "index memory, 1,000 vectors                           {:>9.1} MiB",
        mib(small.memory_bytes())
    );

    let stored: Vec<Vec<f32>> = (0..big).map(|_| rng.next()).collect();
    let mut set = VectorSet::new(DIMS);
    for (i, v) in stored.iter().enumerate() {
        set.upsert(&format!("task-{i:08}"), v);
    }
    let exact: Vec<Vec<String>> = qs
        .iter()
        .map(|q| {
            set.search_exact(q, 10, None)
                .into_iter()
                .map(|(id, _)| id.to_string())
                .collect()
        })
        .collect();
    let times = qs
        .iter()
        .map(|q| {
            let t = Instant::now();
            std::hint::black_box(set.search(q, 100, None));
            t.elapsed()
        })
        .collect();
    report(
        &format!("vector search, {big} vectors, exact, top 100"),
        times,
    );
    println!(
        "index memory, {big} vectors, exact               {:>9.1} MiB",
        mib(set.memory_bytes())
    );
    #[cfg(feature = "ann")]
    hnsw_search(set, &stored, &qs, &exact, big);
    #[cfg(not(feature = "ann"))]
    {
        let _ = (stored, exact);
        println!("(HNSW rows: cargo bench --features ann --bench search)");
    }
}

/// The graph on the same vectors and queries (the `ann` feature).
#[cfg(feature = "ann")]
fn hnsw_search(
    mut set: VectorSet,
    stored: &[Vec<f32>],
    qs: &[Vec<f32>],
    exact: &[Vec<String>],
    big: usize,
) {
    let started = Instant::now();
    let snapshot = set.snapshot();
    set.install(Ann::build(snapshot));
    println!(
        "HNSW build, {big} vectors                          {:>9.1} s",
        started.elapsed().as_secs_f64()
    );
    // Random queries are HNSW's worst case (every point is about equally far); real queries
    // lie near their answers, so also measure queries that are a stored vector plus noise.
    let mut noise = Vectors(99);
    let near: Vec<Vec<f32>> = (0..qs.len())
        .map(|i| {
            let base = &stored[(i * 7919) % big];
            let n = noise.next();
            normalize(base.iter().zip(&n).map(|(b, n)| b + 0.5 * n).collect()).expect("non-zero")
        })
        .collect();
    let near_exact: Vec<Vec<String>> = near
        .iter()
        .map(|q| {
            set.search_exact(q, 10, None)
                .into_iter()
                .map(|(id, _)| id.to_string())
                .collect()
        })
        .collect();
    let mut found = 0;
    let times = qs
        .iter()
        .zip(exact)
        .map(|(q, truth)| {
            let t = Instant::now();
            let hits = set.search(q, 100, None);
            let elapsed = t.elapsed();
            found += hits
                .iter()
                .take(10)
                .filter(|(id, _)| truth.contains(&id.to_string()))
                .count();
            elapsed
        })
        .collect();
    report(
        &format!("vector search, {big} vectors, HNSW, top 100, random queries"),
        times,
    );
    println!(
        "HNSW recall@10 against exact, random queries          {:>9.3}",
        found as f64 / (10 * qs.len()) as f64
    );
    let exact = near_exact;
    let mut found = 0;
    let times = near
        .iter()
        .zip(&exact)
        .map(|(q, truth)| {
            let t = Instant::now();
            let hits = set.search(q, 100, None);
            let elapsed = t.elapsed();
            found += hits
                .iter()
                .take(10)
                .filter(|(id, _)| truth.contains(&id.to_string()))
                .count();
            elapsed
        })
        .collect();
    report(
        &format!("vector search, {big} vectors, HNSW, top 100, near queries"),
        times,
    );
    println!(
        "HNSW recall@10 against exact                          {:>9.3}",
        found as f64 / (10 * near.len()) as f64
    );
    println!(
        "index memory, {big} vectors, with HNSW           {:>9.1} MiB",
        mib(set.memory_bytes())
    );
}

async fn request_path(tasks_n: usize, queries: usize) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let mut config = Config::for_data_dir(dir.path(), None);
    config.jobs.workers = 0;
    config.telemetry.log = "off".into();
    let app = kanri::App::build(config).await?;
    let cx = app.cx().clone();
    let search = app.search().clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.serve(listener, async move {
        let _ = stopped.await;
    }));
    let client = reqwest::Client::new();
    let signed: Value = client
        .post(format!("{base}/v1/auth/register"))
        .json(
            &json!({"email": "bench@example.com", "password": "correct-horse-1", "name": "Bench"}),
        )
        .send()
        .await?
        .json()
        .await?;
    let token = signed["data"]["token"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let user_id = signed["data"]["user"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let ws: Value = client
        .post(format!("{base}/v1/workspaces"))
        .bearer_auth(&token)
        .json(&json!({"name": "Bench"}))
        .send()
        .await?
        .json()
        .await?;
    let ws_id = ws["data"]["id"].as_str().unwrap_or_default();
    let project: Value = client
        .post(format!("{base}/v1/workspaces/{ws_id}/projects"))
        .bearer_auth(&token)
        .json(&json!({"name": "Bench"}))
        .send()
        .await?
        .json()
        .await?;
    let project_id = project["data"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let actor = Actor {
        tenant_id: "default".into(),
        user_id,
    };
    let topics = [
        "login fails",
        "invoice totals wrong",
        "export to CSV",
        "slow dashboard",
        "push notifications",
        "dark mode",
        "payment webhook retries",
        "search results stale",
    ];
    let places = [
        "on mobile",
        "in Safari",
        "for admins",
        "after the upgrade",
        "in the EU region",
        "for new users",
    ];
    for i in 0..tasks_n {
        let title = format!(
            "{} {} #{i}",
            topics[i % topics.len()],
            places[(i / topics.len()) % places.len()]
        );
        let description = format!(
            "Seen by customer {} since release {}.{}; steps attached.",
            i % 97,
            i % 5,
            i % 13
        );
        let input = TaskInput {
            title: Some(&title),
            description: Some(Some(&description)),
            ..TaskInput::default()
        };
        tasks::create(&cx, &actor, &project_id, input)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    let started = Instant::now();
    kanri::cli::search::reindex(&cx, search.embedder().as_ref(), None).await?;
    println!(
        "reindex (FTS + embeddings), {tasks_n} tasks                {:>9.1} s",
        started.elapsed().as_secs_f64()
    );
    let url = format!("{base}/v1/projects/{project_id}/search");
    let run = |distinct: bool| {
        let (client, token, url) = (client.clone(), token.clone(), url.clone());
        async move {
            let mut times = Vec::with_capacity(queries);
            for i in 0..queries {
                let q = if distinct {
                    format!("{} problem {i}", topics[i % topics.len()])
                } else {
                    "customers cannot sign in on phones".to_string()
                };
                let t = Instant::now();
                let res = client
                    .post(&url)
                    .bearer_auth(&token)
                    .json(&json!({"query": q}))
                    .send()
                    .await?;
                anyhow::ensure!(
                    res.status().is_success(),
                    "search answered {}",
                    res.status()
                );
                res.bytes().await?;
                times.push(t.elapsed());
            }
            anyhow::Ok(times)
        }
    };
    report(
        &format!("HTTP hybrid search, {tasks_n} tasks, new query each"),
        run(true).await?,
    );
    report(
        &format!("HTTP hybrid search, {tasks_n} tasks, one query again (result cache)"),
        run(false).await?,
    );
    let _ = stop.send(());
    server.await??;
    Ok(())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let benching = std::env::args().any(|a| a == "--bench");
    let big: usize = std::env::var("KANRI_BENCH_BIG")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let (texts, big, queries, tasks_n) = if benching {
        (1024, big, 1000, 1000)
    } else {
        (8, 500, 20, 30)
    };
    embedding_throughput(texts).await?;
    vector_search(big, queries);
    request_path(tasks_n, if benching { 200 } else { 5 }).await?;
    Ok(())
}
