//! The semantic candidates: the query's embedding (cached per model and text) scanned against
//! each project's vectors, restricted to the scope's filters.

use std::collections::HashSet;
use std::sync::Arc;

use crate::db::{self, search::TaskScope};
use crate::search::embedder::prepare;

use super::{CANDIDATES, Search};

/// Sets bigger than this are scanned on the blocking pool rather than on the runtime.
const INLINE_SCAN: usize = 4096;

/// Why there are no semantic candidates: the embedder or scan failed (a hybrid search goes on
/// without them), or the database did (the search fails).
pub(super) enum SemanticError {
    Unavailable(String),
    Db(sqlx::Error),
}

impl From<sqlx::Error> for SemanticError {
    fn from(e: sqlx::Error) -> Self {
        Self::Db(e)
    }
}

impl Search {
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

    /// The best [`CANDIDATES`] ids in scope by cosine similarity, at least `min_similarity`.
    pub(super) async fn semantic_matches(
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
}
