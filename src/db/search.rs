//! Search queries: full-text matching (the one engine-specific part: FTS5 with `bm25()` on
//! SQLite, a GIN-indexed tsvector with `ts_rank_cd` on Postgres), the embedding store with
//! its per-project generations, and the reads reindexing and the typo fallback need.
//!
//! A search's scope (tenant, projects, field filters) is a list of bound values; only `$n`
//! placeholders are generated into the SQL, never a value.

use sqlx::{Any, Executor};
use sqlx_macros::FromRow;

use super::Db;
use super::tasks::{DETAIL_SELECT, TaskDetail};
use crate::config::Engine;

/// Which tasks a search may return: a tenant, its projects, and optional field filters (each
/// a list of accepted stored values; empty means any).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, serde::Serialize)]
pub struct TaskScope {
    pub tenant_id: String,
    pub project_ids: Vec<String>,
    pub statuses: Vec<String>,
    pub assignees: Vec<String>,
    pub kinds: Vec<String>,
    pub priorities: Vec<String>,
    /// Tasks carrying any of these labels.
    pub labels: Vec<String>,
}

/// Whether a query's scope columns may drive its plan.
#[derive(Debug, Clone, Copy)]
enum Lookup {
    Indexed,
    ById,
}

impl TaskScope {
    pub fn has_filters(&self) -> bool {
        !(self.statuses.is_empty()
            && self.assignees.is_empty()
            && self.kinds.is_empty()
            && self.priorities.is_empty()
            && self.labels.is_empty())
    }

    /// ` AND t.tenant_id = $n AND t.project_id IN (…) …` with placeholders from `$first`, and
    /// the values to bind in order.
    fn condition(&self, first: usize) -> (String, Vec<&str>) {
        self.condition_on(first, Lookup::Indexed)
    }

    /// `condition`, with the scope's columns either usable by an index or not (`Lookup::ById`:
    /// for a query that names its rows by id, where a project's index would be a scan of the
    /// whole project: 12 ms at 100,000 tasks, against a key lookup per id).
    fn condition_on(&self, first: usize, lookup: Lookup) -> (String, Vec<&str>) {
        let column = |name: &str| match lookup {
            Lookup::Indexed => name.to_string(),
            // `|| ''` keeps the value and hides the column from the planner, on both engines.
            Lookup::ById => format!("({name} || '')"),
        };
        let mut sql = format!(" AND {} = ${first}", column("t.tenant_id"));
        let mut binds: Vec<&str> = vec![&self.tenant_id];
        for (name, values, always) in [
            ("t.project_id", &self.project_ids, true),
            ("t.status", &self.statuses, false),
            ("t.assignee_id", &self.assignees, false),
            ("t.type", &self.kinds, false),
            ("t.priority", &self.priorities, false),
        ] {
            if values.is_empty() && !always {
                continue;
            }
            let mut marks = Vec::with_capacity(values.len());
            for value in values {
                marks.push(format!("${}", first + binds.len()));
                binds.push(value);
            }
            sql.push_str(&format!(" AND {} IN ({})", column(name), marks.join(", ")));
        }
        if !self.labels.is_empty() {
            let mut marks = Vec::with_capacity(self.labels.len());
            for label in &self.labels {
                marks.push(format!("${}", first + binds.len()));
                binds.push(label);
            }
            sql.push_str(&format!(
                " AND EXISTS (SELECT 1 FROM task_labels tl WHERE tl.task_id = t.id AND tl.label_id IN ({}))",
                marks.join(", ")
            ));
        }
        (sql, binds)
    }
}

/// BM25 column weights on SQLite (title, description, comments); Postgres uses the matching
/// setweight classes A, B and C from the migration.
const BM25: &str = "bm25(task_fts, 10.0, 4.0, 1.0)";

/// How many of a query's matches SQLite ranks, newest first (see `text_search`).
pub const RANKED_MATCHES: usize = 2_000;

/// The best full-text matches in scope, best first, with a score where higher is better
/// (−BM25 on SQLite, `ts_rank_cd` on Postgres). `query` is a MATCH expression on SQLite and a
/// `to_tsquery` text on Postgres, both built by `search::text_query`.
pub async fn text_search(
    db: &Db,
    scope: &TaskScope,
    query: &str,
    limit: i64,
) -> sqlx::Result<Vec<(String, f64)>> {
    if scope.project_ids.is_empty() {
        return Ok(Vec::new());
    }
    let (condition, binds) = scope.condition(3);
    let sql = match db.engine() {
        // CROSS JOIN fixes the join order (SQLite never reorders it): the full-text index
        // first, then each match's task by key. Left to itself the planner started from the
        // project's tasks and probed the index once per task, so at 100,000 tasks a word
        // matching nothing took seconds.
        //
        // Ranking costs a BM25 per match (60 ms for a word in 100,000 documents, 2–3 ms for
        // 2,000), so only the newest `RANKED_MATCHES` matches in scope are ranked: the index
        // walks documents newest first and stops there. A word that common says little about relevance, and
        // among equals the newer task is the likelier one.
        Engine::Sqlite => format!(
            "SELECT id, score FROM (
                 SELECT t.id AS id, -{BM25} AS score
                 FROM task_fts CROSS JOIN search_docs d CROSS JOIN tasks t
                 WHERE task_fts MATCH $1 AND d.doc = task_fts.rowid AND t.id = d.task_id{condition}
                 ORDER BY task_fts.rowid DESC LIMIT {RANKED_MATCHES})
             ORDER BY score DESC, id LIMIT $2"
        ),
        Engine::Postgres => format!(
            "SELECT t.id, CAST(ts_rank_cd(s.document, q.q) AS DOUBLE PRECISION) AS score
             FROM task_search s JOIN tasks t ON t.id = s.task_id,
                  (SELECT to_tsquery('english', $1) AS q) q
             WHERE s.document @@ q.q{condition}
             ORDER BY score DESC, t.id LIMIT $2"
        ),
    };
    let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(query)
        .bind(limit);
    for value in binds {
        q = q.bind(value);
    }
    q.fetch_all(db.read()).await
}

/// Ids of the tasks in scope (for semantic search with field filters).
pub async fn ids_in_scope<'c>(
    ex: impl Executor<'c, Database = Any>,
    scope: &TaskScope,
) -> sqlx::Result<Vec<String>> {
    if scope.project_ids.is_empty() {
        return Ok(Vec::new());
    }
    let (condition, binds) = scope.condition(1);
    let sql = format!("SELECT t.id FROM tasks t WHERE 1 = 1{condition}");
    let mut q = sqlx::query_scalar(sqlx::AssertSqlSafe(sql));
    for value in binds {
        q = q.bind(value);
    }
    q.fetch_all(ex).await
}

/// The tasks among `ids` that are still in scope, with their details (in no order).
pub async fn details_in_scope<'c>(
    ex: impl Executor<'c, Database = Any>,
    scope: &TaskScope,
    ids: &[String],
) -> sqlx::Result<Vec<TaskDetail>> {
    if ids.is_empty() || scope.project_ids.is_empty() {
        return Ok(Vec::new());
    }
    let (condition, binds) = scope.condition_on(ids.len() + 1, Lookup::ById);
    let marks: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
    let sql = format!(
        "{DETAIL_SELECT} WHERE t.id IN ({}){condition}",
        marks.join(", ")
    );
    let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql));
    for id in ids {
        q = q.bind(id.as_str());
    }
    for value in binds {
        q = q.bind(value);
    }
    q.fetch_all(ex).await
}

/// Titles and descriptions of up to `limit` of the newest tasks in scope: the vocabulary the
/// typo fallback corrects against (only words the caller could find anyway).
pub async fn vocabulary_texts<'c>(
    ex: impl Executor<'c, Database = Any>,
    scope: &TaskScope,
    limit: i64,
) -> sqlx::Result<Vec<(String, Option<String>)>> {
    if scope.project_ids.is_empty() {
        return Ok(Vec::new());
    }
    let (condition, binds) = scope.condition(2);
    let sql = format!(
        "SELECT t.title, t.description FROM tasks t WHERE 1 = 1{condition}
         ORDER BY t.updated_at DESC LIMIT $1"
    );
    let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(limit);
    for value in binds {
        q = q.bind(value);
    }
    q.fetch_all(ex).await
}

// ---- embeddings ----

/// What an embedding job needs of a task.
#[derive(Debug, Clone, FromRow)]
pub struct EmbedSource {
    pub id: String,
    pub tenant_id: String,
    pub project_id: String,
    pub title: String,
    pub description: Option<String>,
}

pub async fn embed_source<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: &str,
    task_id: &str,
) -> sqlx::Result<Option<EmbedSource>> {
    sqlx::query_as(
        "SELECT id, tenant_id, project_id, title, description FROM tasks WHERE tenant_id = $1 AND id = $2",
    )
    .bind(tenant_id)
    .bind(task_id)
    .fetch_optional(ex)
    .await
}

/// A page of tasks in id order after `after_id`, of one tenant or all (reindexing).
pub async fn embed_sources_page<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: Option<&str>,
    after_id: &str,
    limit: i64,
) -> sqlx::Result<Vec<EmbedSource>> {
    sqlx::query_as(
        "SELECT id, tenant_id, project_id, title, description FROM tasks
         WHERE ($1 IS NULL OR tenant_id = $1) AND id > $2 ORDER BY id LIMIT $3",
    )
    .bind(tenant_id)
    .bind(after_id)
    .bind(limit)
    .fetch_all(ex)
    .await
}

pub async fn count_tasks<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: Option<&str>,
) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT COUNT(*) FROM tasks WHERE ($1 IS NULL OR tenant_id = $1)")
        .bind(tenant_id)
        .fetch_one(ex)
        .await
}

/// The model and content hash of a task's stored embedding.
pub async fn embedding_state<'c>(
    ex: impl Executor<'c, Database = Any>,
    task_id: &str,
) -> sqlx::Result<Option<(String, String)>> {
    sqlx::query_as("SELECT model, content_hash FROM task_embeddings WHERE task_id = $1")
        .bind(task_id)
        .fetch_optional(ex)
        .await
}

/// Bumps the project's generation and returns the new one. Also takes the generation row's
/// write lock until commit, so generations are handed out in commit order.
pub async fn bump_generation<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: &str,
    project_id: &str,
) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "INSERT INTO search_generations (project_id, tenant_id, generation) VALUES ($1, $2, 1)
         ON CONFLICT (project_id) DO UPDATE SET generation = search_generations.generation + 1
         RETURNING generation",
    )
    .bind(project_id)
    .bind(tenant_id)
    .fetch_one(ex)
    .await
}

pub struct NewEmbedding<'a> {
    pub task_id: &'a str,
    pub model: &'a str,
    pub vector: &'a [u8],
    pub dims: i64,
    pub content_hash: &'a str,
    pub generation: i64,
    pub now: i64,
}

/// Stores a task's embedding if the task still exists; returns whether a row was written.
pub async fn upsert_embedding<'c>(
    ex: impl Executor<'c, Database = Any>,
    e: &NewEmbedding<'_>,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "INSERT INTO task_embeddings (task_id, tenant_id, project_id, model, dims, vector, content_hash, generation, updated_at)
         SELECT t.id, t.tenant_id, t.project_id, $2, $3, $4, $5, $6, $7 FROM tasks t WHERE t.id = $1
         ON CONFLICT (task_id) DO UPDATE SET model = excluded.model, dims = excluded.dims,
             vector = excluded.vector, content_hash = excluded.content_hash,
             generation = excluded.generation, updated_at = excluded.updated_at",
    )
    .bind(e.task_id)
    .bind(e.model)
    .bind(e.dims)
    .bind(e.vector)
    .bind(e.content_hash)
    .bind(e.generation)
    .bind(e.now)
    .execute(ex)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// The current generation of each of these projects that has one.
pub async fn generations<'c>(
    ex: impl Executor<'c, Database = Any>,
    project_ids: &[String],
) -> sqlx::Result<Vec<(String, i64)>> {
    if project_ids.is_empty() {
        return Ok(Vec::new());
    }
    let marks: Vec<String> = (1..=project_ids.len()).map(|i| format!("${i}")).collect();
    let sql = format!(
        "SELECT project_id, generation FROM search_generations WHERE project_id IN ({})",
        marks.join(", ")
    );
    let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql));
    for id in project_ids {
        q = q.bind(id.as_str());
    }
    q.fetch_all(ex).await
}

#[derive(Debug, FromRow)]
pub struct StoredVector {
    pub task_id: String,
    pub dims: i64,
    pub vector: Vec<u8>,
}

/// A project's vectors of `model` written after generation `after`.
pub async fn vectors_since<'c>(
    ex: impl Executor<'c, Database = Any>,
    project_id: &str,
    model: &str,
    after: i64,
) -> sqlx::Result<Vec<StoredVector>> {
    sqlx::query_as(
        "SELECT task_id, dims, vector FROM task_embeddings
         WHERE project_id = $1 AND model = $2 AND generation > $3",
    )
    .bind(project_id)
    .bind(model)
    .bind(after)
    .fetch_all(ex)
    .await
}

pub async fn count_vectors<'c>(
    ex: impl Executor<'c, Database = Any>,
    project_id: &str,
    model: &str,
) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT COUNT(*) FROM task_embeddings WHERE project_id = $1 AND model = $2")
        .bind(project_id)
        .bind(model)
        .fetch_one(ex)
        .await
}

pub async fn vector_ids<'c>(
    ex: impl Executor<'c, Database = Any>,
    project_id: &str,
    model: &str,
) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar("SELECT task_id FROM task_embeddings WHERE project_id = $1 AND model = $2")
        .bind(project_id)
        .bind(model)
        .fetch_all(ex)
        .await
}

/// Tasks with no embedding of `model` (none, or another model's), in id order after
/// `after_id`, as (tenant, task) pairs.
pub async fn stale_tasks<'c>(
    ex: impl Executor<'c, Database = Any>,
    model: &str,
    after_id: &str,
    limit: i64,
) -> sqlx::Result<Vec<(String, String)>> {
    sqlx::query_as(
        "SELECT t.tenant_id, t.id FROM tasks t LEFT JOIN task_embeddings e ON e.task_id = t.id
         WHERE (e.task_id IS NULL OR e.model <> $1) AND t.id > $2 ORDER BY t.id LIMIT $3",
    )
    .bind(model)
    .bind(after_id)
    .bind(limit)
    .fetch_all(ex)
    .await
}

/// Rebuilds the full-text index for one tenant or all from the tasks and comments.
pub async fn rebuild_text_index(db: &Db, tenant_id: Option<&str>) -> sqlx::Result<u64> {
    let mut tx = db.begin().await?;
    let rows = match db.engine() {
        Engine::Sqlite => {
            sqlx::query("DELETE FROM search_docs WHERE task_id NOT IN (SELECT id FROM tasks)")
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "DELETE FROM task_fts WHERE rowid NOT IN (SELECT doc FROM search_docs)
                    OR rowid IN (SELECT d.doc FROM search_docs d JOIN tasks t ON t.id = d.task_id
                                 WHERE $1 IS NULL OR t.tenant_id = $1)",
            )
            .bind(tenant_id)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO search_docs (task_id) SELECT id FROM tasks
                 WHERE ($1 IS NULL OR tenant_id = $1) AND id NOT IN (SELECT task_id FROM search_docs)",
            )
            .bind(tenant_id)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO task_fts (rowid, title, description, comments)
                 SELECT d.doc, t.title, COALESCE(t.description, ''),
                        COALESCE((SELECT group_concat(c.content, ' ') FROM comments c WHERE c.task_id = t.id), '')
                 FROM tasks t JOIN search_docs d ON d.task_id = t.id
                 WHERE $1 IS NULL OR t.tenant_id = $1",
            )
            .bind(tenant_id)
            .execute(&mut *tx)
            .await?
            .rows_affected()
        }
        Engine::Postgres => {
            sqlx::query(
                "SELECT CAST(kanri_task_search_refresh(id) AS TEXT) FROM tasks WHERE $1 IS NULL OR tenant_id = $1",
            )
            .bind(tenant_id)
            .fetch_all(&mut *tx)
            .await?
            .len() as u64
        }
    };
    tx.commit().await?;
    Ok(rows)
}
