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
//!
//! By idea: `query` (what a client asks for, parsed and checked), `filters` (the field
//! filters that narrow the scope), `scope` (which projects a search covers), `run` (text and
//! semantic candidates, fusion, the typo fallback), `semantic` (the query embedding and the
//! vector scan), `hydrate` (ranked ids back into readable tasks, and the result types);
//! `embed`, `vectors` and `reindexing` keep the index.
//!
//! [`TaskScope`]: crate::db::search::TaskScope

pub mod embed;
mod filters;
mod hydrate;
mod query;
pub mod reindexing;
mod run;
mod scope;
mod semantic;
pub mod vectors;

use std::sync::Arc;
use std::time::Duration;

use crate::search::Embedder;
use crate::services::Ctx;

pub use crate::config::SearchSettings;
pub use crate::domain::search_mode::SearchMode;
pub use filters::{OneOrMany, SearchFilters};
pub use hydrate::{Matched, SearchHit, SearchResults};
pub use query::{DEFAULT_LIMIT, MAX_LIMIT, SearchInput, SearchQuery};
pub use scope::MAX_WORKSPACE_PROJECTS;

/// How deep each list goes before fusion: past the deepest page a client may ask for, so
/// fusion can promote an item that only one list ranks low.
const CANDIDATES: usize = 100;

/// The search service: the database, the embedder, each project's vectors and a cache of
/// query embeddings. One per process, shared through `AppState`.
pub struct Search {
    cx: Ctx,
    embedder: Arc<dyn Embedder>,
    vectors: vectors::Vectors,
    query_vectors: moka::future::Cache<(String, String), Arc<Vec<f32>>>,
    /// The typo fallback's word counts per scope, rebuilt after a minute: a word added since
    /// is only not offered as a correction yet, and a correction whose word has gone finds
    /// nothing and is not shown.
    vocabularies: moka::future::Cache<crate::db::search::TaskScope, Arc<Vec<(String, usize)>>>,
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
            vocabularies: moka::future::Cache::builder()
                .max_capacity(1_000)
                .time_to_live(Duration::from_secs(60))
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
}
