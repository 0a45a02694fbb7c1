//! A search as a client asks for it ([`SearchInput`]) and as it runs ([`SearchQuery`]): the
//! parse checks the text, limit, mode and filters, reporting every mistake at once.

use serde::Serialize;

use crate::db::search::TaskScope;
use crate::domain::search_mode::SearchMode;
use crate::domain::{FieldError, Validator};
use crate::error::AppResult;
use crate::search::text_query::MAX_QUERY_CHARS;

use super::filters::{self, SearchFilters};

pub const DEFAULT_LIMIT: usize = 20;
pub const MAX_LIMIT: usize = 100;

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
///
/// [`Search::search`]: super::Search::search
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct SearchQuery {
    pub text: String,
    pub mode: SearchMode,
    pub limit: usize,
    pub scope: TaskScope,
}

/// The query over `project_ids` of `tenant_id`; the caller has checked access to them.
pub(super) fn parse(
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
        filters::narrow(&mut v, filters, &mut scope);
    }
    v.finish()?;
    Ok(SearchQuery {
        text: text.to_string(),
        mode,
        limit,
        scope,
    })
}
