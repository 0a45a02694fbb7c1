//! Loading: defaults, then `kanri.toml` (or the file `KANRI_CONFIG` names), then `KANRI_*`
//! variables, into [`RawConfig`], which `Config::from_raw` checks section by section.

use std::path::PathBuf;

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

use super::{Config, ConfigError, LogFormat, Secret, invalid};

/// The raw, deserialised shape: one field per `KANRI_*` variable (and `kanri.toml` key).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub(super) struct RawConfig {
    pub bind: String,
    pub data_dir: PathBuf,
    pub database_url: Option<Secret<String>>,
    pub database_max_connections: u32,
    pub multi_tenant: bool,
    pub operator_emails: String,
    pub session_ttl_secs: u64,
    pub invitation_ttl_secs: u64,
    pub app_url: Option<String>,
    pub mail_url: Option<Secret<String>>,
    pub mail_from: String,
    pub cors_origins: String,
    pub max_body_bytes: usize,
    pub request_timeout_secs: u64,
    pub key_usage_flush_secs: u64,
    pub workers: usize,
    pub job_lease_secs: u64,
    pub job_poll_ms: u64,
    pub job_shutdown_grace_secs: u64,
    pub reminder_lead_secs: u64,
    pub identity_webhook_secret: Option<Secret<String>>,
    pub external_jwt_issuer: Option<String>,
    pub external_jwt_jwks_url: Option<String>,
    pub external_jwt_audience: Option<String>,
    pub oidc_issuer: Option<String>,
    pub oidc_client_id: Option<String>,
    pub oidc_client_secret: Option<Secret<String>>,
    pub oidc_name: Option<String>,
    pub log: String,
    pub log_format: LogFormat,
    pub cache_enabled: bool,
    pub cache_memory_mb: u64,
    pub redis_url: Option<Secret<String>>,
    pub redis_prefix: String,
    pub storage_url: Option<String>,
    pub max_upload_bytes: u64,
    pub signing_key: Option<Secret<String>>,
    pub signed_url_ttl_secs: u64,
    pub realtime_ping_secs: u64,
    pub realtime_pong_timeout_secs: u64,
    pub realtime_auth_timeout_secs: u64,
    pub realtime_recheck_secs: u64,
    pub realtime_poll_ms: u64,
    pub realtime_queue: usize,
    pub realtime_max_subscriptions: usize,
    pub realtime_max_message_bytes: usize,
    pub realtime_max_connections_per_user: usize,
    pub realtime_resume_max: i64,
    pub redis_timeout_ms: u64,
    pub embeddings_url: Option<String>,
    pub embeddings_model: Option<String>,
    pub embeddings_key: Option<Secret<String>>,
    pub search_ann_threshold: usize,
    pub search_min_similarity: f32,
    pub webhook_retry_schedule: String,
    pub webhook_allowed_cidrs: String,
    pub rate_limit_per_minute: u32,
    pub auth_rate_limit_per_minute: u32,
    pub trusted_proxies: String,
    pub stripe_webhook_secret: Option<Secret<String>>,
    pub usage_flush_secs: u64,
    pub metrics_token: Option<Secret<String>>,
    pub backup_to: Option<String>,
    pub backup_keep: usize,
    pub backup_cron: Option<String>,
}

impl Default for RawConfig {
    fn default() -> Self {
        Self {
            bind: "127.0.0.1:8080".into(),
            data_dir: PathBuf::from("./data"),
            database_url: None,
            database_max_connections: 16,
            multi_tenant: false,
            operator_emails: String::new(),
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
            external_jwt_issuer: None,
            external_jwt_jwks_url: None,
            external_jwt_audience: None,
            oidc_issuer: None,
            oidc_client_id: None,
            oidc_client_secret: None,
            oidc_name: None,
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
            search_ann_threshold: super::search::DEFAULT_ANN_THRESHOLD,
            search_min_similarity: 0.2,
            webhook_retry_schedule: super::DEFAULT_RETRY_SCHEDULE.into(),
            webhook_allowed_cidrs: String::new(),
            rate_limit_per_minute: 1000,
            auth_rate_limit_per_minute: 10,
            trusted_proxies: String::new(),
            stripe_webhook_secret: None,
            usage_flush_secs: 30,
            metrics_token: None,
            backup_to: None,
            backup_keep: super::DEFAULT_BACKUP_KEEP,
            backup_cron: None,
        }
    }
}

impl Config {
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
}
