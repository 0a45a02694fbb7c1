//! Typed configuration, loaded once at start from `KANRI_*` variables and an optional
//! `kanri.toml`, validated before anything else runs.
//!
//! One file per section. Each section owns its types, checks its `KANRI_*` values and keeps
//! them parsed, so a feature takes its own section and never parses a setting again. Nothing
//! here depends on a feature module. `load.rs` reads the raw values, `redact.rs` is what
//! `kanri config` prints.

use std::path::PathBuf;

mod auth;
mod backup;
mod billing;
mod cache;
mod database;
mod identity;
mod jobs;
mod load;
mod mail;
mod mail_url;
mod metrics;
mod networks;
mod rate_limit;
mod realtime;
mod redact;
mod search;
mod secret;
mod server;
mod storage;
mod telemetry;
mod webhooks;

pub use auth::AuthConfig;
pub use backup::{BackupConfig, BackupSchedule, BackupTarget, DEFAULT_BACKUP_KEEP};
pub use billing::BillingConfig;
pub use cache::{CacheConfig, check_redis_url};
pub use database::{DatabaseConfig, Engine, engine_of};
pub use identity::{ExternalJwtConfig, IdentityConfig, OidcConfig, WebhookKey};
pub use jobs::{JobsConfig, QueueSettings};
pub use mail::MailConfig;
pub use mail_url::{MailUrl, SmtpTls, redact_mail_url};
pub use metrics::{MIN_METRICS_TOKEN_CHARS, MetricsConfig};
pub use rate_limit::RateLimitConfig;
pub use realtime::RealtimeSettings;
pub use search::{EmbeddingsEndpoint, SearchConfig, SearchSettings};
pub use secret::Secret;
pub use server::ServerConfig;
pub use storage::{MIN_SIGNING_KEY_CHARS, StorageConfig, StorageUrl};
pub use telemetry::{LogFormat, TelemetryConfig};
pub use webhooks::{DEFAULT_RETRY_SCHEDULE, WebhookSettings};

use load::RawConfig;

#[derive(Debug, Clone)]
pub struct Config {
    /// Where the embedded database, mail files, attachments and the signing key go by default.
    pub data_dir: PathBuf,
    /// Listening, the public URL, CORS, body limits and the request timeout.
    pub server: ServerConfig,
    pub database: DatabaseConfig,
    /// Tenancy, session and invitation lifetimes, key-usage flushing.
    pub auth: AuthConfig,
    /// The identity-provider webhook key.
    pub identity: IdentityConfig,
    pub mail: MailConfig,
    /// Workers, queue timings, reminder lead time.
    pub jobs: JobsConfig,
    pub telemetry: TelemetryConfig,
    /// The response cache: in-process or Redis.
    pub cache: CacheConfig,
    /// Attachments: where they are stored, the size limit, signed links.
    pub storage: StorageConfig,
    /// WebSocket/SSE limits and timings (`KANRI_REALTIME_*`).
    pub realtime: RealtimeSettings,
    /// The embeddings endpoint and the ranking settings.
    pub search: SearchConfig,
    /// Outgoing webhooks: the retry schedule and the allowed address ranges.
    pub webhooks: WebhookSettings,
    /// Per-tenant and auth-surface rate limits, trusted proxies.
    pub rate_limit: RateLimitConfig,
    /// Stripe webhooks and usage counting.
    pub billing: BillingConfig,
    /// Who may scrape `/metrics`.
    pub metrics: MetricsConfig,
    /// `kanri backup`'s destination and retention, and the schedule inside `kanri serve`.
    pub backup: BackupConfig,
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
        i64::try_from(self.jobs.reminder_lead.as_millis()).unwrap_or(i64::MAX)
    }

    /// Checks every section; the first invalid value is the error.
    fn from_raw(raw: RawConfig) -> Result<Self, ConfigError> {
        let realtime = RealtimeSettings::from_raw(&raw)?;
        let server = ServerConfig::from_raw(&raw)?;
        let database = DatabaseConfig::from_raw(&raw)?;
        let auth = AuthConfig::from_raw(&raw)?;
        let mail = MailConfig::from_raw(&raw)?;
        let jobs = JobsConfig::from_raw(&raw)?;
        let identity = IdentityConfig::from_raw(&raw)?;
        let telemetry = TelemetryConfig::from_raw(&raw)?;
        let cache = CacheConfig::from_raw(&raw)?;
        let storage = StorageConfig::from_raw(&raw)?;
        let search = SearchConfig::from_raw(&raw)?;
        let webhooks = WebhookSettings::from_raw(&raw)?;
        let rate_limit = RateLimitConfig::from_raw(&raw)?;
        let billing = BillingConfig::from_raw(&raw)?;
        let metrics = MetricsConfig::from_raw(&raw)?;
        let backup = BackupConfig::from_raw(&raw, storage.url())?;
        Ok(Self {
            data_dir: raw.data_dir,
            server,
            database,
            auth,
            identity,
            mail,
            jobs,
            telemetry,
            cache,
            storage,
            realtime,
            search,
            webhooks,
            rate_limit,
            billing,
            metrics,
            backup,
        })
    }
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
        assert_eq!(c.server.bind.to_string(), "127.0.0.1:8080");
        assert_eq!(c.database.engine, Engine::Sqlite);
        assert!(c.database.url.expose().contains("kanri.db"));
        assert_eq!(c.auth.session_ttl.as_secs(), 604_800);
        assert_eq!(c.auth.invitation_ttl.as_secs(), 604_800);
        assert!(!c.auth.multi_tenant);
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
}
