//! `kanri search reindex|query|eval`: rebuild the indexes, try a query, and measure retrieval
//! quality on a labelled set.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use clap::Subcommand;
use serde::Deserialize;

use crate::config::Config;
use crate::db::Db;
use crate::search::Embedder;
use crate::search::metrics::{ndcg_at, recall_at};
use crate::services::Ctx;
use crate::services::access::Actor;
use crate::services::accounts::{self, NewUserInput};
use crate::services::passwords::Passwords;
use crate::services::projects::{self, ProjectInput};
use crate::services::search::reindexing::{self, Progress};
use crate::services::search::{Search, SearchInput, SearchMode};
use crate::services::tasks::{self, TaskInput};
use crate::services::{comments, workspaces};

#[derive(Debug, Subcommand)]
pub enum SearchCommand {
    /// Rebuild the full-text index and every embedding (of one tenant, or all).
    Reindex {
        #[arg(long)]
        tenant: Option<String>,
    },
    /// Search a project as the operator (no permission checks) and print the results.
    Query {
        project: String,
        text: String,
        #[arg(long, default_value = "default")]
        tenant: String,
        /// hybrid (default), text or semantic. Checked by clap, so a bad mode is a usage error
        /// (exit 2) like every other bad argument.
        #[arg(long, value_parser = ["hybrid", "text", "semantic"])]
        mode: Option<String>,
        #[arg(long, default_value_t = 10)]
        limit: u32,
    },
    /// Load a labelled set into a fresh temporary SQLite database and print nDCG@10 and
    /// recall@10 of every mode.
    Eval { file: PathBuf },
}

pub async fn run(command: SearchCommand, config: Config) -> anyhow::Result<()> {
    match command {
        SearchCommand::Eval { file } => eval(&file, &config).await,
        command => {
            let db = Db::connect(&config)
                .await
                .context("cannot open the database")?;
            db.migrate().await.context("cannot apply migrations")?;
            let cx = Ctx::new(db, &config)?;
            let embedder = crate::search::from_config(&config.search)?;
            let result = match command {
                SearchCommand::Reindex { tenant } => {
                    reindex(&cx, embedder.as_ref(), tenant.as_deref()).await
                }
                SearchCommand::Query {
                    project,
                    text,
                    tenant,
                    mode,
                    limit,
                } => {
                    let search = Search::new(cx.clone(), embedder, config.search.settings.clone());
                    query(&search, &tenant, &project, &text, mode.as_deref(), limit).await
                }
                SearchCommand::Eval { .. } => unreachable!("handled above"),
            };
            cx.db.close().await;
            result
        }
    }
}

/// Rebuilds the text index, then embeds every task in batches with a progress bar.
pub async fn reindex(
    cx: &Ctx,
    embedder: &dyn Embedder,
    tenant: Option<&str>,
) -> anyhow::Result<()> {
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "embedding {bar:40} {pos}/{len} tasks, {per_sec}, ETA {eta}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let started = Instant::now();
    let done = reindexing::run(cx, embedder, tenant, |progress| match progress {
        Progress::TextIndexed { rows, total } => {
            eprintln!("full-text index rebuilt: {rows} tasks");
            bar.set_length(total);
        }
        Progress::Embedded(n) => bar.inc(n),
    })
    .await?;
    bar.finish_and_clear();
    eprintln!(
        "embedded {} tasks with {} in {:.1}s",
        done.written,
        embedder.model(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

async fn query(
    search: &Search,
    tenant: &str,
    project: &str,
    text: &str,
    mode: Option<&str>,
    limit: u32,
) -> anyhow::Result<()> {
    let input = SearchInput {
        query: text,
        limit: Some(limit),
        mode,
        filters: None,
    };
    let q = search
        .system_scope(tenant, vec![project.to_string()], &input)
        .map_err(explain)?;
    let found = search.search(&q).await.map_err(explain)?;
    if let Some(fixed) = &found.corrected_query {
        println!("(showing results for {fixed:?})");
    }
    for (i, hit) in found.items.iter().enumerate() {
        println!(
            "{:>3}. {:<8} {:>8.4}  {}  {}",
            i + 1,
            format!("{:?}", hit.matched).to_lowercase(),
            hit.score,
            hit.task.id,
            hit.task.title
        );
    }
    if found.items.is_empty() {
        println!("no matches");
    }
    Ok(())
}

fn explain(err: crate::error::AppError) -> anyhow::Error {
    match err {
        crate::error::AppError::Validation(fields) => anyhow::anyhow!(
            "{}",
            fields
                .iter()
                .map(|f| format!("{} {}", f.field, f.message))
                .collect::<Vec<_>>()
                .join("; ")
        ),
        other => anyhow::anyhow!("{other}"),
    }
}

#[derive(Deserialize)]
struct Dataset {
    projects: Vec<DataProject>,
    tasks: Vec<DataTask>,
    queries: Vec<DataQuery>,
}

#[derive(Deserialize)]
struct DataProject {
    key: String,
    name: String,
}

#[derive(Deserialize)]
struct DataTask {
    id: String,
    project: String,
    title: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    status: Option<String>,
    priority: Option<String>,
    #[serde(default)]
    comments: Vec<String>,
}

#[derive(Deserialize)]
struct DataQuery {
    id: String,
    project: Option<String>,
    query: String,
    #[serde(default)]
    kind: String,
    relevant: HashMap<String, u32>,
}

/// Per mode: sums of nDCG@10 and recall@10, overall and per query kind.
#[derive(Default)]
struct Scores {
    ndcg: f64,
    recall: f64,
    count: usize,
}

async fn eval(file: &Path, config: &Config) -> anyhow::Result<()> {
    let data: Dataset = serde_json::from_slice(
        &std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?,
    )
    .with_context(|| format!("{} is not a search dataset", file.display()))?;
    let dir = tempfile_dir()?;
    let mut fresh = Config::for_data_dir(dir.path(), None);
    fresh.search = config.search.clone();
    let db = Db::connect(&fresh).await?;
    db.migrate().await?;
    let cx = Ctx::new(db, &fresh)?;
    let embedder = crate::search::from_config(&fresh.search)?;
    let started = Instant::now();
    let ids = load(&cx, &data).await.map_err(explain)?;
    let loaded = started.elapsed();
    reindex(&cx, embedder.as_ref(), None).await?;
    eprintln!(
        "loaded {} tasks in {:.1}s",
        data.tasks.len(),
        loaded.as_secs_f64()
    );
    let search = Search::new(cx.clone(), embedder, fresh.search.settings.clone());
    let back: HashMap<&str, &str> = ids
        .tasks
        .iter()
        .map(|(k, v)| (v.as_str(), k.as_str()))
        .collect();
    let modes = [SearchMode::Text, SearchMode::Semantic, SearchMode::Hybrid];
    let mut totals: HashMap<(SearchMode, String), Scores> = HashMap::new();
    for q in &data.queries {
        let projects: Vec<String> = match &q.project {
            Some(key) => vec![
                ids.projects
                    .get(key)
                    .cloned()
                    .with_context(|| format!("{}: unknown project {key}", q.id))?,
            ],
            None => ids.projects.values().cloned().collect(),
        };
        for mode in modes {
            let name = format!("{mode:?}").to_lowercase();
            let input = SearchInput {
                query: &q.query,
                limit: Some(10),
                mode: Some(&name),
                filters: None,
            };
            let sq = search
                .system_scope(
                    crate::db::tenants::DEFAULT_TENANT_ID,
                    projects.clone(),
                    &input,
                )
                .map_err(explain)?;
            let found = search.search(&sq).await.map_err(explain)?;
            let ranked: Vec<String> = found
                .items
                .iter()
                .filter_map(|h| back.get(h.task.id.as_str()).map(|s| s.to_string()))
                .collect();
            let (n, r) = (
                ndcg_at(10, &ranked, &q.relevant),
                recall_at(10, &ranked, &q.relevant),
            );
            for kind in ["all".to_string(), q.kind.clone()] {
                let s = totals.entry((mode, kind)).or_default();
                s.ndcg += n;
                s.recall += r;
                s.count += 1;
            }
        }
    }
    let mut kinds: Vec<String> = data.queries.iter().map(|q| q.kind.clone()).collect();
    kinds.sort();
    kinds.dedup();
    println!(
        "{} queries over {} tasks, model {}",
        data.queries.len(),
        data.tasks.len(),
        search.embedder().model()
    );
    println!(
        "{:<10} {:<11} {:>8} {:>10}",
        "mode", "queries", "nDCG@10", "recall@10"
    );
    for kind in std::iter::once("all".to_string()).chain(kinds) {
        for mode in modes {
            if let Some(s) = totals.get(&(mode, kind.clone())) {
                println!(
                    "{:<10} {:<11} {:>8.4} {:>10.4}",
                    format!("{mode:?}").to_lowercase(),
                    format!("{kind} ({})", s.count),
                    s.ndcg / s.count as f64,
                    s.recall / s.count as f64
                );
            }
        }
    }
    cx.db.close().await;
    Ok(())
}

struct Loaded {
    projects: HashMap<String, String>,
    tasks: HashMap<String, String>,
}

/// Creates an owner, a workspace, the projects, tasks and comments through the services.
async fn load(cx: &Ctx, data: &Dataset) -> crate::error::AppResult<Loaded> {
    let tenant = crate::db::tenants::DEFAULT_TENANT_ID;
    let user = accounts::create_user(
        cx,
        &Passwords::default(),
        tenant,
        NewUserInput {
            email: "eval@example.com",
            name: "Eval",
            password: None,
        },
    )
    .await?;
    let actor = Actor {
        tenant_id: tenant.to_string(),
        user_id: user.id.clone(),
    };
    let ws = workspaces::create(
        cx,
        &actor,
        workspaces::NewWorkspace {
            name: "Eval",
            slug: None,
            image_url: None,
        },
    )
    .await?;
    let mut projects = HashMap::new();
    for p in &data.projects {
        let input = ProjectInput {
            name: Some(&p.name),
            min_name_chars: 1,
            ..ProjectInput::default()
        };
        let project = projects::create(cx, &actor, &ws.id, input, &[]).await?;
        projects.insert(p.key.clone(), project.id);
    }
    let mut tasks_by_id = HashMap::new();
    for t in &data.tasks {
        let project = projects
            .get(&t.project)
            .ok_or(crate::error::AppError::NotFound("project"))?;
        let description = t.description.as_deref().filter(|d| !d.trim().is_empty());
        let input = TaskInput {
            title: Some(&t.title),
            description: description.map(Some),
            status: t.status.as_deref(),
            kind: t.kind.as_deref(),
            priority: t.priority.as_deref(),
            ..TaskInput::default()
        };
        let task = tasks::create(cx, &actor, project, input).await?;
        for c in &t.comments {
            comments::create(cx, &actor, &task.id, c).await?;
        }
        tasks_by_id.insert(t.id.clone(), task.id);
    }
    Ok(Loaded {
        projects,
        tasks: tasks_by_id,
    })
}

fn tempfile_dir() -> anyhow::Result<TempDir> {
    let path = std::env::temp_dir().join(format!("kanri-eval-{}", crate::ids::new_id()));
    std::fs::create_dir_all(&path)?;
    Ok(TempDir(path))
}

/// A directory removed when dropped (tempfile is only a dev dependency).
struct TempDir(PathBuf);

impl TempDir {
    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
