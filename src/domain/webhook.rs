//! Outgoing-webhook rules with no I/O: an endpoint's URL, its event patterns, and a delivery's
//! status.

use std::collections::BTreeSet;

use super::FieldError;
use super::event::EventKind;

pub const MAX_URL_CHARS: usize = 2048;
pub const MAX_PATTERNS: usize = 50;
pub const MAX_DESCRIPTION_CHARS: usize = 500;

/// An endpoint URL: absolute http(s) with a host, no user or password, at most 2048
/// characters. Whether its address may be reached is the SSRF guard's call.
pub fn parse_url(field: &str, input: &str) -> Result<url::Url, FieldError> {
    let bad = |why: &str| FieldError::new(field, why);
    let input = input.trim();
    if input.is_empty() || input.chars().count() > MAX_URL_CHARS {
        return Err(bad("must be a URL of at most 2048 characters"));
    }
    let url = url::Url::parse(input).map_err(|_| bad("must be an absolute http or https URL"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(bad("must use http or https"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(bad("must name a host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad("must not carry a user name or password"));
    }
    Ok(url)
}

/// The event patterns an endpoint subscribes to: `*`, a family (`task.*`) or an exact kind
/// (`task.created`), checked against the event kinds this build has. Stored sorted, without
/// duplicates.
pub fn parse_patterns(field: &str, input: &[String]) -> Result<Vec<String>, FieldError> {
    if input.is_empty() || input.len() > MAX_PATTERNS {
        return Err(FieldError::new(field, "must list 1–50 event patterns"));
    }
    let mut out = BTreeSet::new();
    for raw in input {
        let p = raw.trim();
        let known = p == "*"
            || EventKind::from_wire(p).is_some()
            || p.strip_suffix(".*").is_some_and(|family| {
                EventKind::ALL
                    .iter()
                    .any(|k| family_of(k.as_str()) == family)
            });
        if !known {
            return Err(FieldError::new(
                field,
                format!("{p:?} is not an event kind, a family like \"task.*\", or \"*\""),
            ));
        }
        out.insert(p.to_string());
    }
    Ok(out.into_iter().collect())
}

fn family_of(kind: &str) -> &str {
    kind.split_once('.').map_or(kind, |(f, _)| f)
}

/// Does any of `patterns` subscribe to events of type `kind`?
pub fn subscribes<S: AsRef<str>>(patterns: &[S], kind: &str) -> bool {
    patterns.iter().any(|p| {
        let p = p.as_ref();
        p == "*" || p == kind || p.strip_suffix(".*").is_some_and(|f| f == family_of(kind))
    })
}

pub fn parse_description(field: &str, input: &str) -> Result<String, FieldError> {
    let text = input.trim();
    if text.chars().count() > MAX_DESCRIPTION_CHARS || text.chars().any(char::is_control) {
        return Err(FieldError::new(
            field,
            "must be at most 500 characters without control characters",
        ));
    }
    Ok(text.to_string())
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryStatus {
    /// Waiting for its first attempt.
    Pending,
    /// An attempt failed; another is scheduled.
    Retrying,
    Delivered,
    /// Every scheduled attempt failed (or the endpoint was disabled).
    Failed,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Retrying => "retrying",
            Self::Delivered => "delivered",
            Self::Failed => "failed",
        }
    }

    pub fn from_db(text: &str) -> Option<Self> {
        Some(match text {
            "pending" => Self::Pending,
            "retrying" => Self::Retrying,
            "delivered" => Self::Delivered,
            "failed" => Self::Failed,
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_string()).collect()
    }

    #[test]
    fn patterns_are_checked_against_real_kinds() {
        assert_eq!(
            parse_patterns(
                "events",
                &strings(&["task.created", "task.*", "*", "task.*"])
            )
            .unwrap(),
            ["*", "task.*", "task.created"]
        );
        assert!(parse_patterns("events", &strings(&["webhook.disabled", "member.*"])).is_ok());
        for bad in [
            "task.exploded",
            "tasks.*",
            "",
            "task.",
            ".*",
            "**",
            "task.created ",
        ] {
            let trimmed_ok = bad == "task.created ";
            assert_eq!(
                parse_patterns("events", &strings(&[bad])).is_ok(),
                trimmed_ok,
                "{bad:?}"
            );
        }
        assert!(parse_patterns("events", &[]).is_err());
    }

    #[test]
    fn subscriptions_match_exact_family_and_all() {
        assert!(subscribes(&["task.*"], "task.created"));
        assert!(!subscribes(&["task.*"], "comment.created"));
        assert!(subscribes(&["task.created"], "task.created"));
        assert!(!subscribes(&["task.created"], "task.updated"));
        assert!(subscribes(&["*"], "member.added"));
        assert!(!subscribes::<&str>(&[], "task.created"));
    }

    #[test]
    fn urls_must_be_plain_http_or_https() {
        assert!(parse_url("url", "https://example.com/hook").is_ok());
        assert!(parse_url("url", "http://127.0.0.1:8080/x").is_ok());
        for bad in [
            "ftp://example.com",
            "file:///etc/passwd",
            "https://user:pw@example.com/",
            "https://user@example.com/",
            "not a url",
            "",
            "/relative",
            "javascript:alert(1)",
        ] {
            assert!(parse_url("url", bad).is_err(), "{bad}");
        }
        let long = format!("https://example.com/{}", "a".repeat(2100));
        assert!(parse_url("url", &long).is_err());
    }
}
