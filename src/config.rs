//! Typed configuration, loaded once at start from `KANRI_*` variables and an optional
//! `kanri.toml`, validated before anything else runs.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

/// A value that must never reach a log line or `Debug` output.
#[derive(Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret<T>(T);

impl<T> Secret<T> {
    pub fn new(value: T) -> Self {
        Self(value)
    }

    pub fn expose(&self) -> &T {
        &self.0
    }
}

impl<T> fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

/// The raw, deserialised shape; `Config::from_raw` turns it into checked values.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
struct RawConfig {
    bind: String,
    data_dir: PathBuf,
    database_url: Option<Secret<String>>,
    multi_tenant: bool,
    session_ttl_secs: u64,
    invitation_ttl_secs: u64,
    app_url: Option<String>,
    mail_url: Option<Secret<String>>,
    mail_from: String,
    cors_origins: String,
    max_body_bytes: usize,
    request_timeout_secs: u64,
    key_usage_flush_secs: u64,
    workers: usize,
    job_lease_secs: u64,
    job_poll_ms: u64,
    job_shutdown_grace_secs: u64,
    reminder_lead_secs: u64,
    identity_webhook_secret: Option<Secret<String>>,
    log: String,
    log_format: LogFormat,
    embeddings_url: Option<String>,
    embeddings_model: Option<String>,
    embeddings_key: Option<Secret<String>>,
    search_ann_threshold: usize,
    search_min_similarity: f32,
}

impl Default for RawConfig {
    fn default() -> Self {
        Self {
            bind: "127.0.0.1:8080".into(),
            data_dir: PathBuf::from("./data"),
            database_url: None,
            multi_tenant: false,
            session_ttl_secs: 604_800,
            invitation_ttl_secs: 604_800,
            app_url: None,
            mail_url: None,
            mail_from: "Kanri <kanri@localhost>".into(),
            cors_origins: String::new(),
            max_body_bytes: 2 * 1024 * 1024,
            request_timeout_secs: 30,
            key_usage_flush_secs: 30,
            workers: 4,
            job_lease_secs: 60,
            job_poll_ms: 1000,
            job_shutdown_grace_secs: 10,
            reminder_lead_secs: 0,
            identity_webhook_secret: None,
            log: "info".into(),
            log_format: LogFormat::Text,
            embeddings_url: None,
            embeddings_model: None,
            embeddings_key: None,
            // Measured (README, benches/search.rs): exact search of 100,000 vectors answers in
            // 17 ms at p99 and beat the HNSW graph on this hardware, so the graph is for
            // projects far beyond that.
            search_ann_threshold: 200_000,
            search_min_similarity: 0.2,
        }
    }
}

/// An OpenAI-compatible embeddings endpoint used instead of the bundled model.
#[derive(Debug, Clone)]
pub struct EmbeddingsEndpoint {
    /// Base URL; requests go to `{url}/embeddings`.
    pub url: String,
    pub model: String,
    pub key: Option<Secret<String>>,
}

/// Which relational engine a database URL selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Engine {
    Sqlite,
    Postgres,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub bind: SocketAddr,
    pub data_dir: PathBuf,
    pub database_url: Secret<String>,
    pub engine: Engine,
    pub multi_tenant: bool,
    pub session_ttl: Duration,
    /// How long an invitation can be accepted.
    pub invitation_ttl: Duration,
    pub app_url: String,
    /// Where mail goes (`file://`, `smtp://`, `resend://`; see `mail::MailUrl`). Default
    /// `file://<data_dir>/mail`. Checked at load, so `mail::from_config` can parse it.
    pub mail_url: Secret<String>,
    /// The sender mailbox, e.g. `Kanri <kanri@example.com>`; checked at load.
    pub mail_from: String,
    /// Empty: no cross-origin access. `["*"]`: any origin (without credentials).
    pub cors_origins: Vec<String>,
    pub max_body_bytes: usize,
    pub request_timeout: Duration,
    pub key_usage_flush: Duration,
    /// Job workers inside `kanri serve`; 0 runs none (use `kanri worker` processes).
    pub workers: usize,
    pub jobs: crate::jobs::QueueSettings,
    /// How long before a task's due date its reminder goes out (0: at the due time).
    pub reminder_lead: Duration,
    /// Signs identity-provider webhooks (`whsec_<base64>`, Svix's format); webhooks answer 503
    /// without it. Checked at load, so `services::identity::WebhookKey::parse` succeeds on it.
    pub identity_webhook_secret: Option<Secret<String>>,
    pub log: String,
    pub log_format: LogFormat,
    /// `None`: the bundled offline model embeds tasks.
    pub embeddings: Option<EmbeddingsEndpoint>,
    pub search: crate::services::search::SearchSettings,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{0}")]
    Source(String),
    #[error("invalid {key}: {reason}")]
    Invalid { key: &'static str, reason: String },
}

fn invalid(key: &'static str, reason: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        key,
        reason: reason.into(),
    }
}

impl Config {
    /// The reminder lead time in the milliseconds the task services take.
    pub fn reminder_lead_ms(&self) -> i64 {
        i64::try_from(self.reminder_lead.as_millis()).unwrap_or(i64::MAX)
    }

    /// Loads defaults, then `kanri.toml` (or the file named by `KANRI_CONFIG`), then `KANRI_*`.
    pub fn load() -> Result<Self, ConfigError> {
        let file = std::env::var_os("KANRI_CONFIG")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("kanri.toml"));
        if std::env::var_os("KANRI_CONFIG").is_some() && !file.exists() {
            return Err(invalid(
                "KANRI_CONFIG",
                format!("{} does not exist", file.display()),
            ));
        }
        let figment = Figment::from(Serialized::defaults(RawConfig::default()))
            .merge(Toml::file(&file))
            .merge(Env::prefixed("KANRI_").ignore(&["config"]));
        let raw: RawConfig = figment
            .extract()
            .map_err(|e| ConfigError::Source(e.to_string()))?;
        Self::from_raw(raw)
    }

    /// Defaults for a given data directory and database; what tests and tools start from.
    pub fn for_data_dir(data_dir: impl Into<PathBuf>, database_url: Option<String>) -> Self {
        let raw = RawConfig {
            data_dir: data_dir.into(),
            database_url: database_url.map(Secret::new),
            ..RawConfig::default()
        };
        Self::from_raw(raw).expect("default configuration is valid")
    }

    fn from_raw(raw: RawConfig) -> Result<Self, ConfigError> {
        let bind: SocketAddr = raw
            .bind
            .parse()
            .map_err(|_| invalid("KANRI_BIND", format!("{:?} is not host:port", raw.bind)))?;
        let database_url = match raw.database_url {
            Some(url) => url,
            None => Secret::new(default_sqlite_url(&raw.data_dir)),
        };
        let engine = engine_of(database_url.expose())?;
        if raw.session_ttl_secs == 0 {
            return Err(invalid("KANRI_SESSION_TTL_SECS", "must be greater than 0"));
        }
        if raw.invitation_ttl_secs == 0 {
            return Err(invalid(
                "KANRI_INVITATION_TTL_SECS",
                "must be greater than 0",
            ));
        }
        let app_url = match raw.app_url {
            Some(url) => parse_http_url("KANRI_APP_URL", &url)?,
            None => format!("http://{bind}"),
        };
        let mail_url = match raw.mail_url {
            Some(url) => url,
            None => Secret::new(format!("file://{}", raw.data_dir.join("mail").display())),
        };
        crate::mail::MailUrl::parse(mail_url.expose()).map_err(|e| invalid("KANRI_MAIL_URL", e))?;
        let mail_from = raw.mail_from.trim().to_string();
        mail_from.parse::<lettre::message::Mailbox>().map_err(|e| {
            invalid(
                "KANRI_MAIL_FROM",
                format!("{mail_from:?} is not a mailbox like \"Kanri <kanri@example.com>\": {e}"),
            )
        })?;
        let cors_origins = parse_cors_origins(&raw.cors_origins)?;
        if raw.max_body_bytes < 1024 {
            return Err(invalid("KANRI_MAX_BODY_BYTES", "must be at least 1024"));
        }
        if raw.request_timeout_secs == 0 {
            return Err(invalid(
                "KANRI_REQUEST_TIMEOUT_SECS",
                "must be greater than 0",
            ));
        }
        if raw.key_usage_flush_secs == 0 {
            return Err(invalid(
                "KANRI_KEY_USAGE_FLUSH_SECS",
                "must be greater than 0",
            ));
        }
        if raw.workers > 256 {
            return Err(invalid("KANRI_WORKERS", "must be at most 256"));
        }
        if raw.job_lease_secs < 2 {
            return Err(invalid("KANRI_JOB_LEASE_SECS", "must be at least 2"));
        }
        if raw.job_poll_ms < 10 {
            return Err(invalid("KANRI_JOB_POLL_MS", "must be at least 10"));
        }
        if let Some(secret) = &raw.identity_webhook_secret {
            crate::services::identity::WebhookKey::parse(secret.expose())
                .map_err(|e| invalid("KANRI_IDENTITY_WEBHOOK_SECRET", e))?;
        }
        tracing_subscriber::EnvFilter::try_new(&raw.log)
            .map_err(|e| invalid("KANRI_LOG", e.to_string()))?;
        let embeddings = match (raw.embeddings_url, raw.embeddings_model) {
            (None, None) => None,
            (Some(url), Some(model)) if !model.trim().is_empty() => Some(EmbeddingsEndpoint {
                url: parse_http_url("KANRI_EMBEDDINGS_URL", &url)?,
                model: model.trim().to_string(),
                key: raw.embeddings_key,
            }),
            (Some(_), _) => {
                return Err(invalid(
                    "KANRI_EMBEDDINGS_MODEL",
                    "is required with KANRI_EMBEDDINGS_URL",
                ));
            }
            (None, Some(_)) => {
                return Err(invalid(
                    "KANRI_EMBEDDINGS_URL",
                    "is required with KANRI_EMBEDDINGS_MODEL",
                ));
            }
        };
        if raw.search_ann_threshold < 100 {
            return Err(invalid(
                "KANRI_SEARCH_ANN_THRESHOLD",
                "must be at least 100",
            ));
        }
        if !(-1.0..=1.0).contains(&raw.search_min_similarity) {
            return Err(invalid(
                "KANRI_SEARCH_MIN_SIMILARITY",
                "must be between -1 and 1",
            ));
        }
        Ok(Self {
            bind,
            data_dir: raw.data_dir,
            database_url,
            engine,
            multi_tenant: raw.multi_tenant,
            session_ttl: Duration::from_secs(raw.session_ttl_secs),
            invitation_ttl: Duration::from_secs(raw.invitation_ttl_secs),
            app_url,
            mail_url,
            mail_from,
            cors_origins,
            max_body_bytes: raw.max_body_bytes,
            request_timeout: Duration::from_secs(raw.request_timeout_secs),
            key_usage_flush: Duration::from_secs(raw.key_usage_flush_secs),
            workers: raw.workers,
            jobs: crate::jobs::QueueSettings {
                lease: Duration::from_secs(raw.job_lease_secs),
                poll: Duration::from_millis(raw.job_poll_ms),
                shutdown_grace: Duration::from_secs(raw.job_shutdown_grace_secs),
            },
            reminder_lead: Duration::from_secs(raw.reminder_lead_secs),
            identity_webhook_secret: raw.identity_webhook_secret,
            log: raw.log,
            log_format: raw.log_format,
            embeddings,
            search: crate::services::search::SearchSettings {
                ann_threshold: raw.search_ann_threshold,
                min_similarity: raw.search_min_similarity,
            },
        })
    }

    /// The effective configuration as JSON, with credentials in URLs replaced by `***`.
    pub fn redacted(&self) -> serde_json::Value {
        serde_json::json!({
            "bind": self.bind.to_string(),
            "data_dir": self.data_dir.display().to_string(),
            "database_url": redact_url(self.database_url.expose()),
            "engine": self.engine,
            "multi_tenant": self.multi_tenant,
            "session_ttl_secs": self.session_ttl.as_secs(),
            "invitation_ttl_secs": self.invitation_ttl.as_secs(),
            "app_url": self.app_url,
            "mail_url": crate::mail::redact_mail_url(self.mail_url.expose()),
            "mail_from": self.mail_from,
            "cors_origins": self.cors_origins,
            "max_body_bytes": self.max_body_bytes,
            "request_timeout_secs": self.request_timeout.as_secs(),
            "key_usage_flush_secs": self.key_usage_flush.as_secs(),
            "workers": self.workers,
            "job_lease_secs": self.jobs.lease.as_secs(),
            "job_poll_ms": self.jobs.poll.as_millis(),
            "job_shutdown_grace_secs": self.jobs.shutdown_grace.as_secs(),
            "reminder_lead_secs": self.reminder_lead.as_secs(),
            "identity_webhook_secret": self.identity_webhook_secret.as_ref().map(|_| "***"),
            "log": self.log,
            "log_format": self.log_format,
            "embeddings_url": self.embeddings.as_ref().map(|e| redact_url(&e.url)),
            "embeddings_model": self.embeddings.as_ref().map(|e| e.model.clone()),
            "embeddings_key": self.embeddings.as_ref().and_then(|e| e.key.as_ref()).map(|_| "***"),
            "search_ann_threshold": self.search.ann_threshold,
            "search_min_similarity": self.search.min_similarity,
        })
    }
}

fn default_sqlite_url(data_dir: &Path) -> String {
    format!("sqlite://{}?mode=rwc", data_dir.join("kanri.db").display())
}

fn engine_of(url: &str) -> Result<Engine, ConfigError> {
    if url.starts_with("sqlite:") {
        Ok(Engine::Sqlite)
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Engine::Postgres)
    } else {
        Err(invalid(
            "KANRI_DATABASE_URL",
            "must start with sqlite:, postgres:// or postgresql://",
        ))
    }
}

fn parse_http_url(key: &'static str, value: &str) -> Result<String, ConfigError> {
    let url = url::Url::parse(value).map_err(|e| invalid(key, format!("{value:?}: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid(key, "must be an http or https URL"));
    }
    Ok(value.trim_end_matches('/').to_string())
}

fn parse_cors_origins(value: &str) -> Result<Vec<String>, ConfigError> {
    value
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|origin| {
            if origin == "*" {
                return Ok(origin.to_string());
            }
            let url = url::Url::parse(origin)
                .map_err(|e| invalid("KANRI_CORS_ORIGINS", format!("{origin:?}: {e}")))?;
            match url.origin() {
                o @ url::Origin::Tuple(..) => Ok(o.ascii_serialization()),
                url::Origin::Opaque(_) => Err(invalid(
                    "KANRI_CORS_ORIGINS",
                    format!("{origin:?} is not an origin"),
                )),
            }
        })
        .collect()
}

/// Hides the password of a connection URL, whether in the user-info or a `password=` parameter.
fn redact_url(value: &str) -> String {
    let Ok(mut url) = url::Url::parse(value) else {
        return "***".into();
    };
    if url.password().is_some() {
        let _ = url.set_password(Some("***"));
    }
    if url.query_pairs().any(|(k, _)| k == "password") {
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(k, v)| {
                let v = if k == "password" {
                    "***".into()
                } else {
                    v.into_owned()
                };
                (k.into_owned(), v)
            })
            .collect();
        url.query_pairs_mut().clear().extend_pairs(pairs);
    }
    url.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw() -> RawConfig {
        RawConfig::default()
    }

    #[test]
    fn defaults_are_valid_and_embedded() {
        let c = Config::from_raw(raw()).unwrap();
        assert_eq!(c.bind.to_string(), "127.0.0.1:8080");
        assert_eq!(c.engine, Engine::Sqlite);
        assert!(c.database_url.expose().contains("kanri.db"));
        assert_eq!(c.session_ttl.as_secs(), 604_800);
        assert_eq!(c.invitation_ttl.as_secs(), 604_800);
        assert!(!c.multi_tenant);
    }

    #[test]
    fn postgres_url_selects_postgres_and_is_redacted() {
        let mut r = raw();
        r.database_url = Some(Secret::new("postgres://kanri:hunter2@db:5432/kanri".into()));
        let c = Config::from_raw(r).unwrap();
        assert_eq!(c.engine, Engine::Postgres);
        let shown = c.redacted().to_string();
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("***"));
        assert!(!format!("{c:?}").contains("hunter2"));

        let mut r = raw();
        r.database_url = Some(Secret::new(
            "postgres://db/kanri?user=k&password=hunter2&sslmode=require".into(),
        ));
        let shown = Config::from_raw(r).unwrap().redacted().to_string();
        assert!(
            !shown.contains("hunter2") && shown.contains("sslmode=require"),
            "{shown}"
        );
    }

    #[test]
    fn rejects_bad_values_with_the_variable_name() {
        let mut r = raw();
        r.bind = "nonsense".into();
        let err = Config::from_raw(r).unwrap_err().to_string();
        assert!(err.contains("KANRI_BIND"), "{err}");

        let mut r = raw();
        r.database_url = Some(Secret::new("mysql://x".into()));
        assert!(
            Config::from_raw(r)
                .unwrap_err()
                .to_string()
                .contains("KANRI_DATABASE_URL")
        );

        let mut r = raw();
        r.session_ttl_secs = 0;
        assert!(Config::from_raw(r).is_err());

        let mut r = raw();
        r.invitation_ttl_secs = 0;
        let err = Config::from_raw(r).unwrap_err().to_string();
        assert!(err.contains("KANRI_INVITATION_TTL_SECS"), "{err}");

        let mut r = raw();
        r.cors_origins = "not a url".into();
        assert!(Config::from_raw(r).is_err());
    }

    #[test]
    fn mail_settings_default_validate_and_redact() {
        let c = Config::from_raw(raw()).unwrap();
        assert_eq!(c.mail_url.expose(), "file://./data/mail");
        assert_eq!(c.mail_from, "Kanri <kanri@localhost>");

        let mut r = raw();
        r.mail_url = Some(Secret::new(
            "smtp://me%40example.com:hunter2@smtp.example.com:587?tls=starttls".into(),
        ));
        let c = Config::from_raw(r).unwrap();
        let shown = c.redacted().to_string();
        assert!(
            !shown.contains("hunter2") && !shown.contains("me%40example.com"),
            "{shown}"
        );
        assert!(
            shown.contains("smtp://***:***@smtp.example.com:587"),
            "{shown}"
        );

        let mut r = raw();
        r.mail_url = Some(Secret::new("resend://re_hunter2".into()));
        let shown = Config::from_raw(r).unwrap().redacted().to_string();
        assert!(
            shown.contains("resend://***") && !shown.contains("hunter2"),
            "{shown}"
        );

        for bad in ["mailto:x", "smtp://", "smtp://h?tls=sometimes", "resend://"] {
            let mut r = raw();
            r.mail_url = Some(Secret::new(bad.into()));
            let err = Config::from_raw(r).unwrap_err().to_string();
            assert!(err.contains("KANRI_MAIL_URL"), "{bad}: {err}");
        }
        let mut r = raw();
        r.mail_from = " kanri@example.com ".into();
        assert_eq!(Config::from_raw(r).unwrap().mail_from, "kanri@example.com");
        for bad in ["", "kanri", "Kanri <nobody>", "a@b\r\nBcc: c@d.e"] {
            let mut r = raw();
            r.mail_from = bad.into();
            let err = Config::from_raw(r).unwrap_err().to_string();
            assert!(err.contains("KANRI_MAIL_FROM"), "{bad:?}: {err}");
        }
    }

    #[test]
    fn identity_webhook_secret_is_checked_and_redacted() {
        assert!(
            Config::from_raw(raw())
                .unwrap()
                .identity_webhook_secret
                .is_none()
        );
        let mut r = raw();
        r.identity_webhook_secret =
            Some(Secret::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".into()));
        let c = Config::from_raw(r).unwrap();
        let shown = c.redacted().to_string();
        assert!(
            !shown.contains("MfKQ9r8") && shown.contains("\"identity_webhook_secret\":\"***\""),
            "{shown}"
        );
        assert!(!format!("{c:?}").contains("MfKQ9r8"));
        for bad in [
            "",
            "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "whsec_",
            "whsec_not base64!",
        ] {
            let mut r = raw();
            r.identity_webhook_secret = Some(Secret::new(bad.into()));
            let err = Config::from_raw(r).unwrap_err().to_string();
            assert!(
                err.contains("KANRI_IDENTITY_WEBHOOK_SECRET") && !err.contains("MfKQ"),
                "{bad:?}: {err}"
            );
        }
    }

    #[test]
    fn embeddings_settings_are_checked_and_the_key_redacted() {
        assert!(Config::from_raw(raw()).unwrap().embeddings.is_none());
        let mut r = raw();
        r.embeddings_url = Some("http://127.0.0.1:9/v1/".into());
        r.embeddings_model = Some("m".into());
        r.embeddings_key = Some(Secret::new("sk-hunter2".into()));
        let c = Config::from_raw(r).unwrap();
        assert_eq!(c.embeddings.as_ref().unwrap().url, "http://127.0.0.1:9/v1");
        let shown = c.redacted().to_string();
        assert!(
            !shown.contains("hunter2") && !format!("{c:?}").contains("hunter2"),
            "{shown}"
        );
        let mut r = raw();
        r.embeddings_url = Some("http://x".into());
        let err = Config::from_raw(r).unwrap_err().to_string();
        assert!(err.contains("KANRI_EMBEDDINGS_MODEL"), "{err}");
        let mut r = raw();
        r.search_ann_threshold = 5;
        assert!(Config::from_raw(r).is_err());
        let mut r = raw();
        r.search_min_similarity = 2.0;
        assert!(Config::from_raw(r).is_err());
    }

    #[test]
    fn cors_origins_are_normalised() {
        let mut r = raw();
        r.cors_origins = "https://app.example.com/, http://localhost:3000".into();
        let c = Config::from_raw(r).unwrap();
        assert_eq!(
            c.cors_origins,
            vec!["https://app.example.com", "http://localhost:3000"]
        );
    }
}
