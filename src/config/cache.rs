//! The cache section: off, in-process (bounded in size) or Redis.

use std::time::Duration;

use super::load::RawConfig;
use super::{ConfigError, Secret, invalid};

#[derive(Debug, Clone)]
pub struct CacheConfig {
    /// `false` turns the response cache off (every lookup misses).
    pub enabled: bool,
    /// Size bound of the in-process cache (used when `redis_url` is unset).
    pub memory_mb: u64,
    /// `redis://…`: cache in Redis, shared by every instance; unset: in-process. Checked at load.
    pub redis_url: Option<Secret<String>>,
    /// Prefix of every Redis key, so several deployments (or tests) can share one Redis.
    pub redis_prefix: String,
    /// Longest a Redis operation may take before the request reads the database instead.
    pub redis_timeout: Duration,
}

impl CacheConfig {
    pub(super) fn from_raw(raw: &RawConfig) -> Result<Self, ConfigError> {
        if !(1..=65_536).contains(&raw.cache_memory_mb) {
            return Err(invalid(
                "KANRI_CACHE_MEMORY_MB",
                "must be between 1 and 65536",
            ));
        }
        if let Some(url) = &raw.redis_url {
            check_redis_url(url.expose())?;
        }
        if !(10..=60_000).contains(&raw.redis_timeout_ms) {
            return Err(invalid(
                "KANRI_REDIS_TIMEOUT_MS",
                "must be between 10 and 60000",
            ));
        }
        if raw.redis_prefix.len() > 64 || raw.redis_prefix.chars().any(char::is_whitespace) {
            return Err(invalid(
                "KANRI_REDIS_PREFIX",
                "must be at most 64 characters without spaces",
            ));
        }
        Ok(Self {
            enabled: raw.cache_enabled,
            memory_mb: raw.cache_memory_mb,
            redis_url: raw.redis_url.clone(),
            redis_prefix: raw.redis_prefix.clone(),
            redis_timeout: Duration::from_millis(raw.redis_timeout_ms),
        })
    }

    pub fn memory_bytes(&self) -> u64 {
        self.memory_mb.saturating_mul(1024 * 1024)
    }
}

/// A `redis://` URL the client accepts (no TLS is compiled in, so not `rediss://`). Errors never
/// repeat the URL, which may hold a password.
pub fn check_redis_url(value: &str) -> Result<(), ConfigError> {
    let key = "KANRI_REDIS_URL";
    let url = url::Url::parse(value).map_err(|e| invalid(key, format!("not a URL: {e}")))?;
    if url.scheme() != "redis" {
        return Err(invalid(key, "must be a redis:// URL"));
    }
    redis::Client::open(value).map_err(|_| invalid(key, "is not a valid Redis URL"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::Config;
    use super::*;

    fn raw() -> RawConfig {
        RawConfig::default()
    }

    #[test]
    fn redis_url_is_checked_and_redacted() {
        let c = Config::from_raw(raw()).unwrap();
        assert!(c.cache.enabled && c.cache.redis_url.is_none());
        assert_eq!(c.cache.memory_bytes(), 64 * 1024 * 1024);
        let mut r = raw();
        r.redis_url = Some(Secret::new("redis://:hunter2@cache:6379/0".into()));
        let c = Config::from_raw(r).unwrap();
        let shown = c.redacted().to_string();
        assert!(
            !shown.contains("hunter2") && shown.contains("redis://:***@cache:6379/0"),
            "{shown}"
        );
        assert!(!format!("{c:?}").contains("hunter2"));
        for bad in ["rediss://:hunter2@cache", "http://cache", "hunter2"] {
            let mut r = raw();
            r.redis_url = Some(Secret::new(bad.into()));
            let err = Config::from_raw(r).unwrap_err().to_string();
            assert!(
                err.contains("KANRI_REDIS_URL") && !err.contains("hunter2"),
                "{bad}: {err}"
            );
        }
        let mut r = raw();
        r.redis_prefix = "has space".into();
        assert!(Config::from_raw(r).is_err());
        assert_eq!(c.cache.redis_timeout.as_millis(), 250);
        let mut r = raw();
        r.redis_timeout_ms = 5;
        let err = Config::from_raw(r).unwrap_err().to_string();
        assert!(err.contains("KANRI_REDIS_TIMEOUT_MS"), "{err}");
        let mut r = raw();
        r.cache_memory_mb = 0;
        let err = Config::from_raw(r).unwrap_err().to_string();
        assert!(err.contains("KANRI_CACHE_MEMORY_MB"), "{err}");
    }
}
