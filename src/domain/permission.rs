//! Permissions: `resource:action` strings, granted by patterns with wildcards (`*`,
//! `projects:*`, `tasks:read`). `grants` is the one evaluator every route's check goes through.

use super::FieldError;
use super::enums::WorkspaceRole;

pub const WORKSPACE_READ: &str = "workspace:read";
pub const WORKSPACE_UPDATE: &str = "workspace:update";
pub const WORKSPACE_DELETE: &str = "workspace:delete";
/// Export every row and file of the workspace.
pub const WORKSPACE_EXPORT: &str = "workspace:export";
pub const MEMBERS_READ: &str = "members:read";
pub const MEMBERS_MANAGE: &str = "members:manage";
pub const INVITATIONS_MANAGE: &str = "invitations:manage";
/// Read every project in the workspace (without it, only the projects one belongs to).
pub const PROJECTS_READ: &str = "projects:read";
pub const PROJECTS_CREATE: &str = "projects:create";
pub const PROJECTS_UPDATE: &str = "projects:update";
pub const PROJECTS_DELETE: &str = "projects:delete";
pub const PROJECTS_MEMBERS: &str = "projects:members";
pub const TASKS_READ: &str = "tasks:read";
pub const TASKS_CREATE: &str = "tasks:create";
pub const TASKS_UPDATE: &str = "tasks:update";
pub const TASKS_DELETE: &str = "tasks:delete";
pub const COMMENTS_READ: &str = "comments:read";
pub const COMMENTS_CREATE: &str = "comments:create";
/// Delete other people's comments.
pub const COMMENTS_MODERATE: &str = "comments:moderate";
/// Create, rename, recolour and delete the workspace's labels.
pub const LABELS_MANAGE: &str = "labels:manage";

pub const ALL: &[&str] = &[
    WORKSPACE_READ,
    WORKSPACE_UPDATE,
    WORKSPACE_DELETE,
    WORKSPACE_EXPORT,
    MEMBERS_READ,
    MEMBERS_MANAGE,
    INVITATIONS_MANAGE,
    PROJECTS_READ,
    PROJECTS_CREATE,
    PROJECTS_UPDATE,
    PROJECTS_DELETE,
    PROJECTS_MEMBERS,
    TASKS_READ,
    TASKS_CREATE,
    TASKS_UPDATE,
    TASKS_DELETE,
    COMMENTS_READ,
    COMMENTS_CREATE,
    COMMENTS_MODERATE,
    LABELS_MANAGE,
];

/// Does any pattern grant `permission`? `*` grants everything, `res:*` every action on `res`.
pub fn grants<S: AsRef<str>>(patterns: &[S], permission: &str) -> bool {
    let (resource, _) = permission.split_once(':').unwrap_or((permission, ""));
    patterns.iter().any(|p| {
        let p = p.as_ref();
        p == "*" || p == permission || p.strip_suffix(":*").is_some_and(|r| r == resource)
    })
}

/// What a built-in role grants. Owner-only powers (deleting the workspace, managing owners)
/// are checked on the role itself as well, so no custom role can reach them.
pub fn role_grants(role: WorkspaceRole) -> &'static [&'static str] {
    match role {
        WorkspaceRole::Owner => &["*"],
        WorkspaceRole::Admin => &[
            WORKSPACE_READ,
            WORKSPACE_UPDATE,
            WORKSPACE_EXPORT,
            "members:*",
            "invitations:*",
            "projects:*",
            "tasks:*",
            "comments:*",
            "labels:*",
        ],
        WorkspaceRole::Member => &[
            WORKSPACE_READ,
            MEMBERS_READ,
            "tasks:*",
            COMMENTS_READ,
            COMMENTS_CREATE,
            LABELS_MANAGE,
        ],
        WorkspaceRole::Viewer => &[WORKSPACE_READ, MEMBERS_READ, TASKS_READ, COMMENTS_READ],
    }
}

/// Parses a custom role's permission list: each entry is `*`, `resource:*` or a known
/// permission.
pub fn parse_patterns(field: &str, input: &[String]) -> Result<Vec<String>, FieldError> {
    if input.is_empty() || input.len() > 64 {
        return Err(FieldError::new(field, "must list 1–64 permissions"));
    }
    let mut out: Vec<String> = Vec::with_capacity(input.len());
    for raw in input {
        let p = raw.trim().to_ascii_lowercase();
        let known_resource = |r: &str| ALL.iter().any(|a| a.split(':').next() == Some(r));
        let valid = p == "*"
            || ALL.contains(&p.as_str())
            || p.strip_suffix(":*").is_some_and(known_resource);
        if !valid {
            return Err(FieldError::new(
                field,
                format!("unknown permission {raw:?}"),
            ));
        }
        if !out.contains(&p) {
            out.push(p);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_match_by_resource_only() {
        assert!(grants(&["*"], TASKS_DELETE));
        assert!(grants(&["tasks:*"], TASKS_DELETE));
        assert!(!grants(&["tasks:*"], PROJECTS_READ));
        assert!(grants(&["tasks:read"], TASKS_READ));
        assert!(!grants(&["tasks:read"], TASKS_UPDATE));
        assert!(
            !grants(&["task:*"], TASKS_READ),
            "prefix must be the whole resource"
        );
        assert!(!grants::<&str>(&[], WORKSPACE_READ));
    }

    #[test]
    fn built_in_roles_nest() {
        for p in ALL {
            let viewer = grants(role_grants(WorkspaceRole::Viewer), p);
            let member = grants(role_grants(WorkspaceRole::Member), p);
            let admin = grants(role_grants(WorkspaceRole::Admin), p);
            let owner = grants(role_grants(WorkspaceRole::Owner), p);
            assert!(!viewer || member, "{p}");
            assert!(!member || admin, "{p}");
            assert!(!admin || owner, "{p}");
        }
        assert!(!grants(role_grants(WorkspaceRole::Admin), WORKSPACE_DELETE));
        assert!(!grants(role_grants(WorkspaceRole::Viewer), TASKS_CREATE));
    }

    #[test]
    fn custom_patterns_are_checked() {
        let ok = parse_patterns(
            "permissions",
            &["Projects:*".into(), "tasks:read".into(), "*".into()],
        )
        .unwrap();
        assert_eq!(ok, ["projects:*", "tasks:read", "*"]);
        assert!(parse_patterns("permissions", &["tasks:fly".into()]).is_err());
        assert!(parse_patterns("permissions", &["nothing:*".into()]).is_err());
        assert!(parse_patterns("permissions", &[]).is_err());
    }
}
