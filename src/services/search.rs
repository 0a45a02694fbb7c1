//! Hybrid task search: full-text (FTS5 / Postgres full-text) and semantic (embeddings), fused
//! by reciprocal rank, over exactly the tasks the caller may read.
//!
//! A search is two steps. An access check (`list_cache::project_search` for one project,
//! `workspace_scope` for a workspace) and a parse produce a [`SearchQuery`]: the text, mode,
//! limit and a [`TaskScope`] naming the tenant, the readable projects and the field filters.
//! [`Search::search`] then runs that query and returns [`SearchResults`]. The second step
//! depends only on its argument (and the data), so the result cache wraps exactly that call
//! (`http::api::search::cached_project_search`), keyed by the serialised `SearchQuery` and
//! invalidated by project. Workspace searches are not cached: they depend on every project
//! of the workspace, and a task write invalidates only its own project.

pub mod embed;
pub mod reindexing;
pub mod vectors;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::db::search::TaskScope;
use crate::db::{self};
use crate::domain::enums::{Priority, TaskStatus, TaskType};
use crate::domain::permission;
pub use crate::domain::search_mode::SearchMode;
use crate::domain::{FieldError, Validator};
use crate::error::{AppError, AppResult};
use crate::search::Embedder;
use crate::search::embedder::prepare;
use crate::search::fusion::rrf;
use crate::search::text_query::{self, MAX_QUERY_CHARS};
use crate::services::Ctx;
use crate::services::access::{self, Actor};
use crate::services::tasks::Task;

pub use crate::config::SearchSettings;

pub const DEFAULT_LIMIT: usize = 20;
pub const MAX_LIMIT: usize = 100;
/// How deep each list goes before fusion: past the deepest page a client may ask for, so
/// fusion can promote an item that only one list ranks low.
const CANDIDATES: usize = 100;
/// Values per filter field.
const MAX_FILTER_VALUES: usize = 20;
/// A workspace search covers at most this many projects (the first by id).
pub const MAX_WORKSPACE_PROJECTS: usize = 1000;
/// The typo fallback corrects against the words of this many recent tasks in scope.
const VOCABULARY_TASKS: i64 = 5000;
/// Sets bigger than this are scanned on the blocking pool rather than on the runtime.
const INLINE_SCAN: usize = 4096;

/// Which signals found a result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Matched {
    Text,
    Semantic,
    Both,
}

/// One value or a list of values.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    fn values(&self) -> Vec<&str> {
        match self {
            Self::One(v) => vec![v.as_str()],
            Self::Many(v) => v.iter().map(String::as_str).collect(),
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SearchFilters {
    /// TODO, IN_PROGRESS, DONE (one or a list).
    #[schema(value_type = Option<Vec<String>>)]
    pub status: Option<OneOrMany>,
    /// Assignee user ids.
    #[schema(value_type = Option<Vec<String>>)]
    pub assignee: Option<OneOrMany>,
    /// TASK, BUG, FEATURE, IMPROVEMENT, OTHER.
    #[serde(rename = "type")]
    #[schema(value_type = Option<Vec<String>>)]
    pub kind: Option<OneOrMany>,
    /// LOW, MEDIUM, HIGH.
    #[schema(value_type = Option<Vec<String>>)]
    pub priority: Option<OneOrMany>,
}

/// A search as a client asks for it.
#[derive(Debug, Clone, Default)]
pub struct SearchInput<'a> {
    pub query: &'a str,
    pub limit: Option<u32>,
    pub mode: Option<&'a str>,
    pub filters: Option<&'a SearchFilters>,
}

/// A checked search over a scope the caller may read: what [`Search::search`] runs and what a
/// result cache keys on.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct SearchQuery {
    pub text: String,
    pub mode: SearchMode,
    pub limit: usize,
    pub scope: TaskScope,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SearchHit {
    pub task: Task,
    /// Higher is better. Hybrid: the reciprocal-rank-fusion sum; text: the BM25 /
    /// `ts_rank_cd` score; semantic: cosine similarity.
    pub score: f64,
    pub matched: Matched,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SearchResults {
    pub mode: SearchMode,
    /// The query with typos corrected, when nothing matched the query as typed and the
    /// corrected one was searched instead.
    pub corrected_query: Option<String>,
    pub items: Vec<SearchHit>,
}

/// The search service: the database, the embedder, each project's vectors and a cache of
/// query embeddings. One per process, shared through `AppState`.
pub struct Search {
    cx: Ctx,
    embedder: Arc<dyn Embedder>,
    vectors: vectors::Vectors,
    query_vectors: moka::future::Cache<(String, String), Arc<Vec<f32>>>,
    settings: SearchSettings,
}

impl Search {
    pub fn new(cx: Ctx, embedder: Arc<dyn Embedder>, settings: SearchSettings) -> Self {
        Self {
            vectors: vectors::Vectors::new(
                cx.db.clone(),
                embedder.model().to_string(),
                settings.ann_threshold,
            ),
            cx,
            embedder,
            query_vectors: moka::future::Cache::builder()
                .max_capacity(10_000)
                .time_to_live(Duration::from_secs(3600))
                .build(),
            settings,
        }
    }

    pub fn embedder(&self) -> &Arc<dyn Embedder> {
        &self.embedder
    }

    pub fn cx(&self) -> &Ctx {
        &self.cx
    }

    /// Bytes held by the in-memory vectors.
    pub fn memory_bytes(&self) -> usize {
        self.vectors.memory_bytes()
    }

    /// The projects of the workspace the caller may read, and the query over them.
    pub async fn workspace_scope(
        &self,
        actor: &Actor,
        workspace_id: &str,
        input: &SearchInput<'_>,
    ) -> AppResult<SearchQuery> {
        let ws = access::workspace_access(&self.cx, actor, workspace_id).await?;
        ws.require(permission::TASKS_READ)?;
        let visible_to = (!ws.can(permission::PROJECTS_READ)).then_some(actor.user_id.as_str());
        let mut projects = Vec::new();
        let mut after: Option<String> = None;
        while projects.len() < MAX_WORKSPACE_PROJECTS {
            let rows = db::projects::list_page(
                self.cx.db.read(),
                &actor.tenant_id,
                workspace_id,
                visible_to,
                after.as_deref(),
                500,
            )
            .await?;
            let Some(last) = rows.last() else { break };
            after = Some(last.id.clone());
            projects.extend(rows.into_iter().map(|p| p.id));
        }
        projects.truncate(MAX_WORKSPACE_PROJECTS);
        parse(input, &actor.tenant_id, projects)
    }

    /// A search over projects of one tenant without an access check: for the operator's CLI,
    /// and for a caller whose access to the projects was already checked.
    pub fn system_scope(
        &self,
        tenant_id: &str,
        project_ids: Vec<String>,
        input: &SearchInput<'_>,
    ) -> AppResult<SearchQuery> {
        parse(input, tenant_id, project_ids)
    }

    /// Runs a checked query. Depends only on `query` and the data: the unit a cache wraps.
    pub async fn search(&self, query: &SearchQuery) -> AppResult<SearchResults> {
        let terms = text_query::terms(&query.text);
        let mut text = Vec::new();
        if query.mode != SearchMode::Semantic {
            text = self.text_matches(&query.scope, &terms, true).await?;
            // Text-only search has no semantic list to fall back on: relax to any word.
            if text.is_empty() && query.mode == SearchMode::Text && terms.len() > 1 {
                text = self.text_matches(&query.scope, &terms, false).await?;
            }
        }
        let mut semantic = Vec::new();
        if query.mode != SearchMode::Text {
            match self.semantic_matches(&query.scope, &query.text).await {
                Ok(found) => semantic = found,
                Err(SemanticError::Db(e)) => return Err(e.into()),
                Err(SemanticError::Unavailable(reason)) => {
                    if query.mode == SearchMode::Semantic {
                        tracing::warn!(%reason, "semantic search unavailable");
                        return Err(AppError::NotConfigured(
                            "semantic search is unavailable right now",
                        ));
                    }
                    tracing::warn!(%reason, "semantic search unavailable; answering from full-text only");
                }
            }
        }
        let mut corrected_query = None;
        if text.is_empty()
            && semantic.is_empty()
            && query.mode != SearchMode::Semantic
            && let Some(fixed) = self.correct(&query.scope, &terms).await?
        {
            text = self.text_matches(&query.scope, &fixed, true).await?;
            if !text.is_empty() {
                corrected_query = Some(fixed.join(" "));
            }
        }
        let ranked: Vec<(String, f64, Matched)> = match query.mode {
            SearchMode::Text => text
                .into_iter()
                .map(|(id, s)| (id, s, Matched::Text))
                .collect(),
            SearchMode::Semantic => semantic
                .into_iter()
                .map(|(id, s)| (id, f64::from(s), Matched::Semantic))
                .collect(),
            SearchMode::Hybrid => {
                let text_ids: Vec<String> = text.into_iter().map(|(id, _)| id).collect();
                let semantic_ids: Vec<String> = semantic.into_iter().map(|(id, _)| id).collect();
                rrf(&text_ids, &semantic_ids)
                    .into_iter()
                    .map(|f| {
                        let matched = match (f.text_rank, f.semantic_rank) {
                            (Some(_), Some(_)) => Matched::Both,
                            (Some(_), None) => Matched::Text,
                            _ => Matched::Semantic,
                        };
                        (f.id, f.score, matched)
                    })
                    .collect()
            }
        };
        let items = self.hydrate(&query.scope, ranked, query.limit).await?;
        Ok(SearchResults {
            mode: query.mode,
            corrected_query,
            items,
        })
    }

    /// Full-text matches of every word (`every`) or of any.
    async fn text_matches(
        &self,
        scope: &TaskScope,
        terms: &[String],
        every: bool,
    ) -> AppResult<Vec<(String, f64)>> {
        let expression = match self.cx.db.engine() {
            crate::config::Engine::Sqlite => text_query::fts5_match(terms, every),
            crate::config::Engine::Postgres => text_query::tsquery(terms, every),
        };
        let Some(expression) = expression else {
            return Ok(Vec::new());
        };
        Ok(db::search::text_search(&self.cx.db, scope, &expression, CANDIDATES as i64).await?)
    }

    /// The query's embedding, from the cache or the embedder.
    async fn query_vector(&self, text: &str) -> Result<Arc<Vec<f32>>, SemanticError> {
        let Some(text) = prepare(text) else {
            return Err(SemanticError::Unavailable("empty query".into()));
        };
        let key = (self.embedder.model().to_string(), text.clone());
        if let Some(v) = self.query_vectors.get(&key).await {
            return Ok(v);
        }
        let mut vectors = self
            .embedder
            .embed(std::slice::from_ref(&text))
            .await
            .map_err(|e| SemanticError::Unavailable(e.to_string()))?;
        let vector = Arc::new(
            vectors
                .pop()
                .ok_or_else(|| SemanticError::Unavailable("no vector".into()))?,
        );
        self.query_vectors.insert(key, vector.clone()).await;
        Ok(vector)
    }

    async fn semantic_matches(
        &self,
        scope: &TaskScope,
        text: &str,
    ) -> Result<Vec<(String, f32)>, SemanticError> {
        if scope.project_ids.is_empty() {
            return Ok(Vec::new());
        }
        let query = self.query_vector(text).await?;
        let allowed: Option<Arc<HashSet<String>>> = if scope.has_filters() {
            Some(Arc::new(
                db::search::ids_in_scope(self.cx.db.read(), scope)
                    .await?
                    .into_iter()
                    .collect(),
            ))
        } else {
            None
        };
        let projects = self.vectors.projects(&scope.project_ids).await?;
        let mut found: Vec<(String, f32)> = Vec::new();
        for project in projects {
            let small = project.len() <= INLINE_SCAN;
            let (query, allowed) = (query.clone(), allowed.clone());
            let scan = move || {
                let allow = allowed.as_ref().map(|set| move |id: &str| set.contains(id));
                project.with(|set| {
                    set.map(|set| {
                        let allow_ref = allow.as_ref().map(|f| f as &dyn Fn(&str) -> bool);
                        set.search(&query, CANDIDATES, allow_ref)
                            .into_iter()
                            .map(|(id, score)| (id.to_string(), score))
                            .collect::<Vec<_>>()
                    })
                    .unwrap_or_default()
                })
            };
            let hits = if small {
                scan()
            } else {
                tokio::task::spawn_blocking(scan)
                    .await
                    .map_err(|e| SemanticError::Unavailable(format!("scan: {e}")))?
            };
            found.extend(hits);
        }
        found.retain(|(_, score)| *score >= self.settings.min_similarity);
        found.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        found.truncate(CANDIDATES);
        Ok(found)
    }

    /// Corrects the query's words against the vocabulary of the tasks in scope.
    async fn correct(&self, scope: &TaskScope, terms: &[String]) -> AppResult<Option<Vec<String>>> {
        if terms.is_empty() {
            return Ok(None);
        }
        let texts =
            db::search::vocabulary_texts(self.cx.db.read(), scope, VOCABULARY_TASKS).await?;
        let mut counts: HashMap<String, usize> = HashMap::new();
        for (title, description) in &texts {
            for word in text_query::terms_unbounded(title).chain(
                description
                    .as_deref()
                    .map(text_query::terms_unbounded)
                    .into_iter()
                    .flatten(),
            ) {
                *counts.entry(word).or_default() += 1;
            }
        }
        Ok(text_query::correct(
            terms,
            counts.iter().map(|(w, c)| (w.as_str(), *c)),
        ))
    }

    /// The tasks behind the ranked ids, in rank order, re-checked against the scope (a task
    /// deleted or moved out of the filters since it was indexed is left out).
    async fn hydrate(
        &self,
        scope: &TaskScope,
        ranked: Vec<(String, f64, Matched)>,
        limit: usize,
    ) -> AppResult<Vec<SearchHit>> {
        let mut items = Vec::with_capacity(limit);
        // Fetch a little more than a page at a time: a few of the ids may be gone.
        for chunk in ranked.chunks(limit + 10) {
            let ids: Vec<String> = chunk.iter().map(|(id, _, _)| id.clone()).collect();
            let mut details: HashMap<String, Task> =
                db::search::details_in_scope(self.cx.db.read(), scope, &ids)
                    .await?
                    .into_iter()
                    .map(|d| (d.task.id.clone(), Task::from(d)))
                    .collect();
            for (id, score, matched) in chunk {
                if let Some(task) = details.remove(id) {
                    items.push(SearchHit {
                        task,
                        score: *score,
                        matched: *matched,
                    });
                    if items.len() == limit {
                        return Ok(items);
                    }
                }
            }
        }
        Ok(items)
    }
}

enum SemanticError {
    Unavailable(String),
    Db(sqlx::Error),
}

impl From<sqlx::Error> for SemanticError {
    fn from(e: sqlx::Error) -> Self {
        Self::Db(e)
    }
}

fn parse(
    input: &SearchInput<'_>,
    tenant_id: &str,
    project_ids: Vec<String>,
) -> AppResult<SearchQuery> {
    let mut v = Validator::default();
    let text = input.query.trim();
    if text.is_empty() {
        v.field::<()>(Err(FieldError::new("query", "must not be empty")));
    } else if text.chars().count() > MAX_QUERY_CHARS {
        v.field::<()>(Err(FieldError::new(
            "query",
            format!("must be at most {MAX_QUERY_CHARS} characters"),
        )));
    }
    let limit = match input.limit {
        None => DEFAULT_LIMIT,
        Some(n) if (1..=MAX_LIMIT as u32).contains(&n) => n as usize,
        Some(_) => {
            v.field::<()>(Err(FieldError::new(
                "limit",
                format!("must be 1–{MAX_LIMIT}"),
            )));
            DEFAULT_LIMIT
        }
    };
    let mode = input
        .mode
        .and_then(|m| v.field(SearchMode::parse("mode", m)))
        .unwrap_or_default();
    let mut scope = TaskScope {
        tenant_id: tenant_id.to_string(),
        project_ids,
        ..TaskScope::default()
    };
    if let Some(filters) = input.filters {
        scope.statuses = filter(&mut v, "filters.status", &filters.status, |f, s| {
            TaskStatus::parse(f, s).map(|x| x.as_str().to_string())
        });
        scope.kinds = filter(&mut v, "filters.type", &filters.kind, |f, s| {
            TaskType::parse(f, s).map(|x| x.as_str().to_string())
        });
        scope.priorities = filter(&mut v, "filters.priority", &filters.priority, |f, s| {
            Priority::parse(f, s).map(|x| x.as_str().to_string())
        });
        scope.assignees = filter(&mut v, "filters.assignee", &filters.assignee, |f, s| {
            if s.is_empty() || s.len() > 64 {
                Err(FieldError::new(f, "must be user ids"))
            } else {
                Ok(s.to_string())
            }
        });
    }
    v.finish()?;
    Ok(SearchQuery {
        text: text.to_string(),
        mode,
        limit,
        scope,
    })
}

fn filter(
    v: &mut Validator,
    field: &'static str,
    values: &Option<OneOrMany>,
    parse: impl Fn(&str, &str) -> Result<String, FieldError>,
) -> Vec<String> {
    let Some(values) = values else {
        return Vec::new();
    };
    let values = values.values();
    if values.is_empty() || values.len() > MAX_FILTER_VALUES {
        v.field::<()>(Err(FieldError::new(
            field,
            format!("must list 1–{MAX_FILTER_VALUES} values"),
        )));
        return Vec::new();
    }
    let mut out: Vec<String> = values
        .into_iter()
        .filter_map(|s| v.field(parse(field, s)))
        .collect();
    out.sort();
    out.dedup();
    out
}
