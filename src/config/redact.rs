//! What `kanri config` prints: every setting under its `KANRI_*` name (lowercase), with
//! credentials replaced by `***`.

use super::{Config, redact_mail_url};

impl Config {
    /// The effective configuration as JSON, with credentials in URLs replaced by `***`.
    pub fn redacted(&self) -> serde_json::Value {
        let server = &self.server;
        let auth = &self.auth;
        let jobs = &self.jobs;
        let cache = &self.cache;
        let storage = &self.storage;
        let realtime = &self.realtime;
        let embeddings = self.search.embeddings.as_ref();
        serde_json::json!({
            "bind": server.bind.to_string(),
            "data_dir": self.data_dir.display().to_string(),
            "database_url": redact_url(self.database.url.expose()),
            "engine": self.database.engine,
            "database_max_connections": self.database.max_connections,
            "multi_tenant": auth.multi_tenant,
            "operator_emails": auth.operator_emails.join(","),
            "session_ttl_secs": auth.session_ttl.as_secs(),
            "invitation_ttl_secs": auth.invitation_ttl.as_secs(),
            "app_url": server.app_url,
            "mail_url": redact_mail_url(self.mail.url_text().expose()),
            "mail_from": self.mail.from,
            "cors_origins": server.cors_origins,
            "max_body_bytes": server.max_body_bytes,
            "request_timeout_secs": server.request_timeout.as_secs(),
            "key_usage_flush_secs": auth.key_usage_flush.as_secs(),
            "workers": jobs.workers,
            "job_lease_secs": jobs.queue.lease.as_secs(),
            "job_poll_ms": jobs.queue.poll.as_millis(),
            "job_shutdown_grace_secs": jobs.queue.shutdown_grace.as_secs(),
            "reminder_lead_secs": jobs.reminder_lead.as_secs(),
            "identity_webhook_secret": self.identity.webhook_key.as_ref().map(|_| "***"),
            "log": self.telemetry.log,
            "log_format": self.telemetry.format,
            "cache_enabled": cache.enabled,
            "cache_memory_mb": cache.memory_mb,
            "redis_url": cache.redis_url.as_ref().map(|u| redact_url(u.expose())),
            "redis_prefix": cache.redis_prefix,
            "storage_url": storage.url_text(),
            "max_upload_bytes": storage.max_upload_bytes,
            "signing_key": storage.signing_key.as_ref().map(|_| "***"),
            "signed_url_ttl_secs": storage.signed_url_ttl.as_secs(),
            "realtime_ping_secs": realtime.ping_interval.as_secs(),
            "realtime_pong_timeout_secs": realtime.pong_timeout.as_secs(),
            "realtime_auth_timeout_secs": realtime.auth_timeout.as_secs(),
            "realtime_recheck_secs": realtime.recheck_interval.as_secs(),
            "realtime_poll_ms": realtime.poll_interval.as_millis(),
            "realtime_queue": realtime.queue,
            "realtime_max_subscriptions": realtime.max_subscriptions,
            "realtime_max_message_bytes": realtime.max_message_bytes,
            "realtime_max_connections_per_user": realtime.max_connections_per_user,
            "realtime_resume_max": realtime.resume_max,
            "redis_timeout_ms": cache.redis_timeout.as_millis(),
            "embeddings_url": embeddings.map(|e| redact_url(&e.url)),
            "embeddings_model": embeddings.map(|e| e.model.clone()),
            "embeddings_key": embeddings.and_then(|e| e.key.as_ref()).map(|_| "***"),
            "search_ann_threshold": self.search.settings.ann_threshold,
            "search_min_similarity": self.search.settings.min_similarity,
            "webhook_retry_schedule": self.webhooks.retry_schedule.iter()
                .map(|d| d.as_secs().to_string()).collect::<Vec<_>>().join(","),
            "webhook_allowed_cidrs": self.webhooks.allowed_cidrs.iter()
                .map(|c| format!("{c}")).collect::<Vec<_>>().join(","),
            "rate_limit_per_minute": self.rate_limit.per_minute,
            "auth_rate_limit_per_minute": self.rate_limit.auth_per_minute,
            "trusted_proxies": self.rate_limit.trusted_proxies.iter().map(ToString::to_string).collect::<Vec<_>>().join(","),
            "stripe_webhook_secret": self.billing.stripe_webhook_secret.as_ref().map(|_| "***"),
            "usage_flush_secs": self.billing.usage_flush.as_secs(),
            "metrics_token": self.metrics.token.as_ref().map(|_| "***"),
            "backup_to": self.backup.target.to_string(),
            "backup_keep": self.backup.keep,
            "backup_cron": self.backup.schedule.as_ref().map(|s| s.as_str()),
        })
    }
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
