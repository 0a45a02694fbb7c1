//! The bodies of seed 002's project routes: projects and members named by email, and the
//! seed's project status words.

use crate::domain::enums::ProjectStatus;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::http::extract::nullable;

#[derive(Debug, Deserialize, ToSchema)]
pub struct SeedNewProject {
    pub name: Option<String>,
    pub description: Option<String>,
    #[serde(rename = "workspaceId")]
    pub workspace_id: String,
    /// Email of the team lead (a workspace member); the creator when not given.
    pub team_lead: Option<String>,
    /// Emails of further members (workspace members).
    #[serde(default)]
    pub team_members: Vec<String>,
    /// PLANNING (default), ACTIVE, ON_HOLD, COMPLETED or CANCELLED; IN_PROGRESS means ACTIVE.
    pub status: Option<String>,
    /// LOW, MEDIUM (default) or HIGH.
    pub priority: Option<String>,
    /// RFC 3339 or `YYYY-MM-DD`.
    pub start_date: Option<String>,
    pub end_date: Option<String>,
}

/// A partial update: fields not sent stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
pub struct SeedProjectChanges {
    pub name: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    /// IN_PROGRESS means ACTIVE.
    pub status: Option<String>,
    pub priority: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub start_date: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub end_date: Option<Option<String>>,
    /// Email of the new team lead (a workspace member); `null` clears it.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub team_lead: Option<Option<String>>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct SeedProjectMember {
    pub email: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AddedMember {
    #[serde(rename = "userId")]
    pub user_id: String,
}

/// Seed 002's PATCH example sends the project status `IN_PROGRESS`, which is not one of our
/// project statuses. This adapter, and only this one, reads it (in any case, with `-` or a
/// space for `_`) as `ACTIVE`; every other value goes to the service unchanged.
pub fn seed_status(status: Option<&str>) -> Option<&str> {
    status.map(|s| ProjectStatus::seed002_alias(s).map_or(s, |p| p.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_progress_means_active_in_any_case() {
        for s in ["IN_PROGRESS", "in_progress", "In-Progress", " in progress "] {
            assert_eq!(seed_status(Some(s)), Some("ACTIVE"), "{s}");
        }
        assert_eq!(seed_status(Some("on_hold")), Some("on_hold"));
        assert_eq!(seed_status(None), None);
    }
}
