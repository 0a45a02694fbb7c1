//! Running a checked query: full-text and semantic candidates, fused by mode, with a
//! typo-corrected retry when nothing matched.

use std::collections::HashMap;
use std::sync::Arc;

use crate::db::{self, search::TaskScope};
use crate::domain::search_mode::SearchMode;
use crate::error::{AppError, AppResult};
use crate::search::fusion::rrf;
use crate::search::text_query;

use super::hydrate::{Matched, SearchResults};
use super::query::SearchQuery;
use super::semantic::SemanticError;
use super::{CANDIDATES, Search};

/// The typo fallback corrects against the words of this many recent tasks in scope.
const VOCABULARY_TASKS: i64 = 5000;

impl Search {
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
        let ranked = fuse(query.mode, text, semantic);
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

    /// Corrects the query's words against the vocabulary of the tasks in scope.
    async fn correct(&self, scope: &TaskScope, terms: &[String]) -> AppResult<Option<Vec<String>>> {
        if terms.is_empty() {
            return Ok(None);
        }
        let vocabulary = self
            .vocabularies
            .try_get_with(scope.clone(), self.vocabulary(scope))
            .await
            .map_err(|e| match Arc::try_unwrap(e) {
                Ok(e) => e,
                Err(shared) => AppError::Internal(anyhow::anyhow!("{shared}")),
            })?;
        Ok(text_query::correct(
            terms,
            vocabulary.iter().map(|(w, c)| (w.as_str(), *c)),
        ))
    }

    /// The words of the most recently updated tasks in scope, with how often each appears.
    async fn vocabulary(&self, scope: &TaskScope) -> AppResult<Arc<Vec<(String, usize)>>> {
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
        Ok(Arc::new(counts.into_iter().collect()))
    }
}

/// One ranked list from the candidates, by mode: a single list keeps its own scores, hybrid
/// fuses both by reciprocal rank and says which lists found each id.
fn fuse(
    mode: SearchMode,
    text: Vec<(String, f64)>,
    semantic: Vec<(String, f32)>,
) -> Vec<(String, f64, Matched)> {
    match mode {
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
    }
}
