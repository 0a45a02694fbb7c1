//! Typed configuration, loaded once at start from `KANRI_*` variables and an optional
//! `kanri.toml`, validated before anything else runs.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

mod identity;
mod jobs;
mod mail_url;
mod realtime;
mod search;
mod storage;

pub use identity::WebhookKey;
pub use jobs::QueueSettings;
pub use mail_url::{MailUrl, SmtpTls, redact_mail_url};
pub use realtime::RealtimeSettings;
pub use search::SearchSettings;
pub use storage::{MIN_SIGNING_KEY_CHARS, StorageUrl};

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
    cache_enabled: bool,
    cache_memory_mb: u64,
    redis_url: Option<Secret<String>>,
    redis_prefix: String,
    storage_url: Option<String>,
    max_upload_bytes: u64,
    signing_key: Option<Secret<String>>,
    signed_url_ttl_secs: u64,
    realtime_ping_secs: u64,
    realtime_pong_timeout_secs: u64,
    realtime_auth_timeout_secs: u64,
    realtime_recheck_secs: u64,
    realtime_poll_ms: u64,
    realtime_queue: usize,
    realtime_max_subscriptions: usize,
    realtime_max_message_bytes: usize,
    realtime_max_connections_per_user: usize,
    realtime_resume_max: i64,
    redis_timeout_ms: u64,
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
            cache_enabled: true,
            cache_memory_mb: 64,
            redis_url: None,
            redis_prefix: "kanri:".into(),
            storage_url: None,
            max_upload_bytes: 25 * 1024 * 1024,
            signing_key: None,
            signed_url_ttl_secs: 900,
            realtime_ping_secs: 20,
            realtime_pong_timeout_secs: 20,
            realtime_auth_timeout_secs: 5,
            realtime_recheck_secs: 60,
            realtime_poll_ms: 1000,
            realtime_queue: 1024,
            realtime_max_subscriptions: 100,
            realtime_max_message_bytes: 16 * 1024,
            realtime_max_connections_per_user: 20,
            realtime_resume_max: 10_000,
            redis_timeout_ms: 250,
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
    pub jobs: QueueSettings,
    /// How long before a task's due date its reminder goes out (0: at the due time).
    pub reminder_lead: Duration,
    /// Signs identity-provider webhooks (`whsec_<base64>`, Svix's format); webhooks answer 503
    /// without it. Checked at load, so `services::identity::WebhookKey::parse` succeeds on it.
    pub identity_webhook_secret: Option<Secret<String>>,
    pub log: String,
    pub log_format: LogFormat,
    /// `false` turns the response cache off (every lookup misses).
    pub cache_enabled: bool,
    /// Size bound of the in-process cache (used when `redis_url` is unset).
    pub cache_memory_mb: u64,
    /// `redis://…`: cache in Redis, shared by every instance; unset: in-process. Checked at load.
    pub redis_url: Option<Secret<String>>,
    /// Prefix of every Redis key, so several deployments (or tests) can share one Redis.
    pub redis_prefix: String,
    /// Where attachments are stored: `file://DIR` (default `file://<data_dir>/files`) or
    /// `s3://bucket/prefix` (credentials and endpoint from `AWS_*`). Checked at load.
    pub storage_url: String,
    /// Largest attachment accepted, in bytes.
    pub max_upload_bytes: u64,
    /// Signs expiring download links; must be the same on every instance. Without it, SQLite
    /// installs make one in the data directory and Postgres installs offer no signed links.
    pub signing_key: Option<Secret<String>>,
    pub signed_url_ttl: Duration,
    /// WebSocket/SSE limits and timings (`KANRI_REALTIME_*`).
    pub realtime: RealtimeSettings,
    /// Longest a Redis operation may take before the request reads the database instead.
    pub redis_timeout: Duration,
    /// `None`: the bundled offline model embeds tasks.
    pub embeddings: Option<EmbeddingsEndpoint>,
    pub search: SearchSettings,
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

    pub fn cache_memory_bytes(&self) -> u64 {
        self.cache_memory_mb.saturating_mul(1024 * 1024)
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
        let realtime = realtime_settings(&raw)?;
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
        MailUrl::parse(mail_url.expose()).map_err(|e| invalid("KANRI_MAIL_URL", e))?;
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
            WebhookKey::parse(secret.expose())
                .map_err(|e| invalid("KANRI_IDENTITY_WEBHOOK_SECRET", e))?;
        }
        tracing_subscriber::EnvFilter::try_new(&raw.log)
            .map_err(|e| invalid("KANRI_LOG", e.to_string()))?;
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
        let storage_url = raw
            .storage_url
            .unwrap_or_else(|| format!("file://{}", raw.data_dir.join("files").display()));
        StorageUrl::parse(&storage_url).map_err(|e| invalid("KANRI_STORAGE_URL", e))?;
        if raw.max_upload_bytes == 0 {
            return Err(invalid("KANRI_MAX_UPLOAD_BYTES", "must be greater than 0"));
        }
        if raw
            .signing_key
            .as_ref()
            .is_some_and(|k| k.expose().len() < MIN_SIGNING_KEY_CHARS)
        {
            return Err(invalid(
                "KANRI_SIGNING_KEY",
                "must be at least 32 characters",
            ));
        }
        if raw.signed_url_ttl_secs == 0 || raw.signed_url_ttl_secs > 7 * 24 * 3600 {
            return Err(invalid(
                "KANRI_SIGNED_URL_TTL_SECS",
                "must be between 1 and 604800 (7 days)",
            ));
        }
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
            jobs: QueueSettings {
                lease: Duration::from_secs(raw.job_lease_secs),
                poll: Duration::from_millis(raw.job_poll_ms),
                shutdown_grace: Duration::from_secs(raw.job_shutdown_grace_secs),
            },
            reminder_lead: Duration::from_secs(raw.reminder_lead_secs),
            identity_webhook_secret: raw.identity_webhook_secret,
            log: raw.log,
            log_format: raw.log_format,
            cache_enabled: raw.cache_enabled,
            cache_memory_mb: raw.cache_memory_mb,
            redis_url: raw.redis_url,
            redis_prefix: raw.redis_prefix,
            storage_url,
            max_upload_bytes: raw.max_upload_bytes,
            signing_key: raw.signing_key,
            signed_url_ttl: Duration::from_secs(raw.signed_url_ttl_secs),
            realtime,
            redis_timeout: Duration::from_millis(raw.redis_timeout_ms),
            embeddings,
            search: SearchSettings {
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
            "mail_url": redact_mail_url(self.mail_url.expose()),
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
            "cache_enabled": self.cache_enabled,
            "cache_memory_mb": self.cache_memory_mb,
            "redis_url": self.redis_url.as_ref().map(|u| redact_url(u.expose())),
            "redis_prefix": self.redis_prefix,
            "storage_url": self.storage_url,
            "max_upload_bytes": self.max_upload_bytes,
            "signing_key": self.signing_key.as_ref().map(|_| "***"),
            "signed_url_ttl_secs": self.signed_url_ttl.as_secs(),
            "realtime_ping_secs": self.realtime.ping_interval.as_secs(),
            "realtime_pong_timeout_secs": self.realtime.pong_timeout.as_secs(),
            "realtime_auth_timeout_secs": self.realtime.auth_timeout.as_secs(),
            "realtime_recheck_secs": self.realtime.recheck_interval.as_secs(),
            "realtime_poll_ms": self.realtime.poll_interval.as_millis(),
            "realtime_queue": self.realtime.queue,
            "realtime_max_subscriptions": self.realtime.max_subscriptions,
            "realtime_max_message_bytes": self.realtime.max_message_bytes,
            "realtime_max_connections_per_user": self.realtime.max_connections_per_user,
            "realtime_resume_max": self.realtime.resume_max,
            "redis_timeout_ms": self.redis_timeout.as_millis(),
            "embeddings_url": self.embeddings.as_ref().map(|e| redact_url(&e.url)),
            "embeddings_model": self.embeddings.as_ref().map(|e| e.model.clone()),
            "embeddings_key": self.embeddings.as_ref().and_then(|e| e.key.as_ref()).map(|_| "***"),
            "search_ann_threshold": self.search.ann_threshold,
            "search_min_similarity": self.search.min_similarity,
        })
    }
}

fn realtime_settings(raw: &RawConfig) -> Result<RealtimeSettings, ConfigError> {
    let at_least = |key: &'static str, value: u64, min: u64| {
        if value < min {
            Err(invalid(key, format!("must be at least {min}")))
        } else {
            Ok(())
        }
    };
    at_least("KANRI_REALTIME_PING_SECS", raw.realtime_ping_secs, 1)?;
    at_least(
        "KANRI_REALTIME_PONG_TIMEOUT_SECS",
        raw.realtime_pong_timeout_secs,
        1,
    )?;
    at_least(
        "KANRI_REALTIME_AUTH_TIMEOUT_SECS",
        raw.realtime_auth_timeout_secs,
        1,
    )?;
    at_least("KANRI_REALTIME_RECHECK_SECS", raw.realtime_recheck_secs, 1)?;
    at_least("KANRI_REALTIME_POLL_MS", raw.realtime_poll_ms, 10)?;
    let count = |key: &'static str, value: usize, min: usize, max: usize| {
        if (min..=max).contains(&value) {
            Ok(value)
        } else {
            Err(invalid(key, format!("must be between {min} and {max}")))
        }
    };
    let resume_max = raw.realtime_resume_max;
    if !(1..=1_000_000).contains(&resume_max) {
        return Err(invalid(
            "KANRI_REALTIME_RESUME_MAX",
            "must be between 1 and 1000000",
        ));
    }
    Ok(RealtimeSettings {
        ping_interval: Duration::from_secs(raw.realtime_ping_secs),
        pong_timeout: Duration::from_secs(raw.realtime_pong_timeout_secs),
        auth_timeout: Duration::from_secs(raw.realtime_auth_timeout_secs),
        recheck_interval: Duration::from_secs(raw.realtime_recheck_secs),
        poll_interval: Duration::from_millis(raw.realtime_poll_ms),
        queue: count("KANRI_REALTIME_QUEUE", raw.realtime_queue, 1, 1 << 20)?,
        max_subscriptions: count(
            "KANRI_REALTIME_MAX_SUBSCRIPTIONS",
            raw.realtime_max_subscriptions,
            1,
            10_000,
        )?,
        max_message_bytes: count(
            "KANRI_REALTIME_MAX_MESSAGE_BYTES",
            raw.realtime_max_message_bytes,
            256,
            1 << 20,
        )?,
        max_connections_per_user: count(
            "KANRI_REALTIME_MAX_CONNECTIONS_PER_USER",
            raw.realtime_max_connections_per_user,
            1,
            1 << 20,
        )?,
        resume_max,
    })
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

/// A `redis://` URL the client accepts (no TLS is compiled in, so not `rediss://`). Errors never
/// repeat the URL, which may hold a password.
fn check_redis_url(value: &str) -> Result<(), ConfigError> {
    let key = "KANRI_REDIS_URL";
    let url = url::Url::parse(value).map_err(|e| invalid(key, format!("not a URL: {e}")))?;
    if url.scheme() != "redis" {
        return Err(invalid(key, "must be a redis:// URL"));
    }
    redis::Client::open(value).map_err(|_| invalid(key, "is not a valid Redis URL"))?;
    Ok(())
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
    fn redis_url_is_checked_and_redacted() {
        let c = Config::from_raw(raw()).unwrap();
        assert!(c.cache_enabled && c.redis_url.is_none());
        assert_eq!(c.cache_memory_bytes(), 64 * 1024 * 1024);
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
        assert_eq!(c.redis_timeout.as_millis(), 250);
        let mut r = raw();
        r.redis_timeout_ms = 5;
        let err = Config::from_raw(r).unwrap_err().to_string();
        assert!(err.contains("KANRI_REDIS_TIMEOUT_MS"), "{err}");
        let mut r = raw();
        r.cache_memory_mb = 0;
        let err = Config::from_raw(r).unwrap_err().to_string();
        assert!(err.contains("KANRI_CACHE_MEMORY_MB"), "{err}");
    }

    #[test]
    fn storage_settings_default_validate_and_redact() {
        let c = Config::from_raw(raw()).unwrap();
        assert_eq!(c.storage_url, "file://./data/files");
        assert_eq!(c.max_upload_bytes, 25 * 1024 * 1024);
        assert_eq!(c.signed_url_ttl.as_secs(), 900);
        let mut r = raw();
        r.signing_key = Some(Secret::new("s".repeat(40)));
        r.storage_url = Some("s3://bucket/prefix".into());
        let c = Config::from_raw(r).unwrap();
        let shown = c.redacted().to_string();
        assert!(
            !shown.contains("sssss") && shown.contains("\"signing_key\":\"***\""),
            "{shown}"
        );
        assert!(!format!("{c:?}").contains("sssss"));
        for (key, adjust) in [
            (
                "KANRI_STORAGE_URL",
                (|r: &mut RawConfig| r.storage_url = Some("ftp://x".into())) as fn(&mut RawConfig),
            ),
            ("KANRI_SIGNING_KEY", |r| {
                r.signing_key = Some(Secret::new("short".into()))
            }),
            ("KANRI_MAX_UPLOAD_BYTES", |r| r.max_upload_bytes = 0),
            ("KANRI_SIGNED_URL_TTL_SECS", |r| r.signed_url_ttl_secs = 0),
        ] {
            let mut r = raw();
            adjust(&mut r);
            let err = Config::from_raw(r).unwrap_err().to_string();
            assert!(err.contains(key), "{key}: {err}");
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
