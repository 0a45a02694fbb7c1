//! The field filters of a search (status, assignee, type, priority): each one value or a
//! list, parsed into the [`TaskScope`] they narrow.

use serde::Deserialize;
use utoipa::ToSchema;

use crate::db::search::TaskScope;
use crate::domain::enums::{Priority, TaskStatus, TaskType};
use crate::domain::{FieldError, Validator};

/// Values per filter field.
const MAX_FILTER_VALUES: usize = 20;

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
    /// Label ids: tasks carrying any of them.
    #[schema(value_type = Option<Vec<String>>)]
    pub label: Option<OneOrMany>,
}

/// Parses every filter field into `scope`, recording each mistake in `v`.
pub(super) fn narrow(v: &mut Validator, filters: &SearchFilters, scope: &mut TaskScope) {
    scope.statuses = filter(v, "filters.status", &filters.status, |f, s| {
        TaskStatus::parse(f, s).map(|x| x.as_str().to_string())
    });
    scope.kinds = filter(v, "filters.type", &filters.kind, |f, s| {
        TaskType::parse(f, s).map(|x| x.as_str().to_string())
    });
    scope.priorities = filter(v, "filters.priority", &filters.priority, |f, s| {
        Priority::parse(f, s).map(|x| x.as_str().to_string())
    });
    scope.assignees = filter(v, "filters.assignee", &filters.assignee, |f, s| {
        if s.is_empty() || s.len() > 64 {
            Err(FieldError::new(f, "must be user ids"))
        } else {
            Ok(s.to_string())
        }
    });
    scope.labels = filter(v, "filters.label", &filters.label, |f, s| {
        if s.is_empty() || s.len() > 64 {
            Err(FieldError::new(f, "must be label ids"))
        } else {
            Ok(s.to_string())
        }
    });
}

/// One filter field's values, each parsed, sorted and deduplicated (so equal filters make
/// equal cache keys).
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
