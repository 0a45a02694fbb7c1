//! The metrics section: who may scrape `GET /metrics`.

use super::load::RawConfig;
use super::{ConfigError, Secret, invalid};

/// Shorter tokens are too easy to guess for an endpoint that is reachable wherever the API is.
pub const MIN_METRICS_TOKEN_CHARS: usize = 16;

#[derive(Debug, Clone, Default)]
pub struct MetricsConfig {
    /// `KANRI_METRICS_TOKEN`: when set, `/metrics` requires `Authorization: Bearer <token>`;
    /// unset, it is open (put it behind the network's own controls).
    pub token: Option<Secret<String>>,
}

impl MetricsConfig {
    pub(super) fn from_raw(raw: &RawConfig) -> Result<Self, ConfigError> {
        let token = raw
            .metrics_token
            .as_ref()
            .filter(|t| !t.expose().is_empty())
            .cloned();
        if let Some(token) = &token {
            let t = token.expose();
            if t.chars().count() < MIN_METRICS_TOKEN_CHARS {
                return Err(invalid(
                    "KANRI_METRICS_TOKEN",
                    format!("must be at least {MIN_METRICS_TOKEN_CHARS} characters"),
                ));
            }
            // It travels in a header: no spaces or control characters.
            if !t.chars().all(|c| c.is_ascii_graphic()) {
                return Err(invalid(
                    "KANRI_METRICS_TOKEN",
                    "must be printable ASCII without spaces",
                ));
            }
        }
        Ok(Self { token })
    }
}

#[cfg(test)]
mod tests {
    use super::super::Config;
    use super::*;

    fn with_token(token: &str) -> RawConfig {
        RawConfig {
            metrics_token: Some(Secret::new(token.into())),
            ..RawConfig::default()
        }
    }

    #[test]
    fn token_is_checked_and_redacted() {
        let c = Config::from_raw(RawConfig::default()).unwrap();
        assert!(c.metrics.token.is_none());
        let c = Config::from_raw(with_token("scrape-me-please-0123")).unwrap();
        assert!(c.metrics.token.is_some());
        let shown = c.redacted().to_string();
        assert!(!shown.contains("scrape-me-please"), "{shown}");
        assert!(shown.contains(r#""metrics_token":"***""#), "{shown}");
        assert!(!format!("{c:?}").contains("scrape-me-please"));
        for bad in ["short", "has a space in it!!"] {
            let err = Config::from_raw(with_token(bad)).unwrap_err().to_string();
            assert!(
                err.contains("KANRI_METRICS_TOKEN") && !err.contains(bad),
                "{err}"
            );
        }
        let unset = Config::from_raw(with_token("")).unwrap();
        assert!(unset.metrics.token.is_none(), "empty means unset");
    }
}
