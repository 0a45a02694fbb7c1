//! Ranked ids back into results: each task's row, re-checked against the scope, in rank
//! order up to the limit; and the result types a search returns.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::db::{self, search::TaskScope};
use crate::domain::search_mode::SearchMode;
use crate::error::AppResult;
use crate::services::tasks::{Task, present};

use super::Search;

/// Which signals found a result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Matched {
    Text,
    Semantic,
    Both,
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

impl Search {
    /// The tasks behind the ranked ids, in rank order, re-checked against the scope (a task
    /// deleted or moved out of the filters since it was indexed is left out).
    pub(super) async fn hydrate(
        &self,
        scope: &TaskScope,
        ranked: Vec<(String, f64, Matched)>,
        limit: usize,
    ) -> AppResult<Vec<SearchHit>> {
        let mut items = Vec::with_capacity(limit);
        // Fetch a little more than a page at a time: a few of the ids may be gone.
        for chunk in ranked.chunks(limit + 10) {
            let ids: Vec<String> = chunk.iter().map(|(id, _, _)| id.clone()).collect();
            let mut conn = self.cx.db.read().acquire().await?;
            let found = db::search::details_in_scope(&mut *conn, scope, &ids).await?;
            let mut details: HashMap<String, Task> = present(&mut *conn, &scope.tenant_id, found)
                .await?
                .into_iter()
                .map(|t| (t.id.clone(), t))
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
