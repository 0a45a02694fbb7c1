//! The console's pages, by path. The script's router (`assets/console/router.js`) knows the
//! same list; this one decides the status the shell is served with.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page {
    /// Open to anyone; the page itself asks for a sign-in when it needs one.
    Team,
    /// Only for a signed-in operator.
    Admin,
    Unknown,
}

/// The admin pages' sections (`/app/admin/{section}`).
pub const ADMIN_SECTIONS: [&str; 6] = ["users", "keys", "jobs", "webhooks", "billing", "health"];

const OPEN_PAGES: [&str; 5] = ["sign-in", "sign-up", "forgot", "reset", "operator"];

pub fn classify(path: &str) -> Page {
    let Some(rest) = path.strip_prefix("/app") else {
        return Page::Unknown;
    };
    let segments: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
    let id = |s: &str| !s.is_empty() && s.len() <= 64;
    match segments.as_slice() {
        [] => Page::Team,
        [page] if OPEN_PAGES.contains(page) => Page::Team,
        ["invitations", i] | ["p", i] | ["tasks", i] | ["w", i] if id(i) => Page::Team,
        ["w", i, "members" | "search"] if id(i) => Page::Team,
        ["admin"] => Page::Admin,
        ["admin", section] if ADMIN_SECTIONS.contains(section) => Page::Admin,
        _ => Page::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_are_known_by_path() {
        for team in [
            "/app",
            "/app/",
            "/app/sign-in",
            "/app/reset",
            "/app/invitations/abc",
            "/app/w/ws1",
            "/app/w/ws1/members",
            "/app/p/p1",
            "/app/tasks/t1",
            "/app/operator",
        ] {
            assert_eq!(classify(team), Page::Team, "{team}");
        }
        assert_eq!(classify("/app/admin"), Page::Admin);
        assert_eq!(classify("/app/admin/jobs"), Page::Admin);
        for unknown in [
            "/app/nope",
            "/app/admin/nope",
            "/app/w/ws1/nope",
            "/app/tasks",
            "/app/p/a/b",
            "/elsewhere",
        ] {
            assert_eq!(classify(unknown), Page::Unknown, "{unknown}");
        }
    }
}
