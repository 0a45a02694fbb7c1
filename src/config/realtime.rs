//! The realtime section: WebSocket/SSE limits and timings (`KANRI_REALTIME_*`).

use std::time::Duration;

use super::load::RawConfig;
use super::{ConfigError, invalid};

/// Limits and timings, from `KANRI_REALTIME_*`.
#[derive(Debug, Clone)]
pub struct RealtimeSettings {
    /// A WebSocket ping (and an SSE keep-alive comment) goes out this often.
    pub ping_interval: Duration,
    /// A WebSocket that answers no ping for this long is closed.
    pub pong_timeout: Duration,
    /// A WebSocket without a header credential must send `auth` within this time.
    pub auth_timeout: Duration,
    /// Every subscription's access is checked again this often, besides after membership events.
    pub recheck_interval: Duration,
    /// SQLite: how often the log is read when no local write announced itself (writes by other
    /// processes).
    pub poll_interval: Duration,
    /// Events waiting for one connection; a connection that falls this far behind is dropped.
    pub queue: usize,
    pub max_subscriptions: usize,
    /// Largest client message accepted, in bytes.
    pub max_message_bytes: usize,
    pub max_connections_per_user: usize,
    /// A resume that missed more events than this is refused; the client reloads instead.
    pub resume_max: i64,
}

impl Default for RealtimeSettings {
    fn default() -> Self {
        Self {
            ping_interval: Duration::from_secs(20),
            pong_timeout: Duration::from_secs(20),
            auth_timeout: Duration::from_secs(5),
            recheck_interval: Duration::from_secs(60),
            poll_interval: Duration::from_millis(1000),
            queue: 1024,
            max_subscriptions: 100,
            max_message_bytes: 16 * 1024,
            max_connections_per_user: 20,
            resume_max: 10_000,
        }
    }
}

impl RealtimeSettings {
    pub(super) fn from_raw(raw: &RawConfig) -> Result<Self, ConfigError> {
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
        Ok(Self {
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
}
