//! The realtime section: WebSocket/SSE limits and timings (`KANRI_REALTIME_*`).

use std::time::Duration;

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
