//! The Redis backend: every instance pointing at the same Redis and prefix shares each limit.
//!
//! One Lua script per check, so a check is one round trip and atomic, on any stock Redis
//! (≥ 5, for `TIME` in a script; no modules). The clock is Redis's own `TIME`, so instances
//! whose clocks disagree still agree on a bucket. Keys: `{prefix}rl:{key}` holding the TAT in
//! microseconds, expiring when the bucket would be full again (`PEXPIRE`), and
//! `{prefix}rl:acct:{hash}` counting sign-in failures for the lockout window (`rl:2fa:{hash}` for
//! two-factor codes).
//!
//! **Failure.** A limiter must never turn a Redis outage into failed requests: the first error
//! or timeout marks the backend down (one warning per outage), every check then goes to the
//! in-process limiter without waiting on Redis, and a background task pings every second until
//! Redis answers again.

use std::fmt::Display;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{RedisResult, Script};

use super::gcra::{Decision, decide, interval_us};

/// How often a down backend tries Redis again.
const RETRY_EVERY: Duration = Duration::from_secs(1);

/// GCRA (see `gcra.rs`): KEYS[1] the TAT, ARGV[1] the interval T and ARGV[2] the tolerance τ,
/// both in µs. Returns {allowed, TAT - now after the check}.
const CHECK: &str = "\
local t = redis.call('TIME') \
local now = tonumber(t[1]) * 1000000 + tonumber(t[2]) \
local interval = tonumber(ARGV[1]) \
local tau = tonumber(ARGV[2]) \
local tat = tonumber(redis.call('GET', KEYS[1]) or now) \
if tat < now then tat = now end \
if tat - now > tau then return {0, tat - now} end \
local new = tat + interval \
redis.call('SET', KEYS[1], string.format('%d', new), 'PX', math.ceil((new - now) / 1000)) \
return {1, new - now}";

/// One sign-in attempt: KEYS[1] the failure count, ARGV[1] the window (ms), ARGV[2] the most
/// failures allowed. Counted *before* the password is checked (and taken back when it was no
/// failure), so racing attempts cannot slip past the limit. Returns {allowed, window left ms}.
const ATTEMPT: &str = "\
local n = redis.call('INCR', KEYS[1]) \
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end \
local left = redis.call('PTTL', KEYS[1]) \
if n > tonumber(ARGV[2]) then return {0, left} end \
return {1, left}";

/// Takes back an attempt that was no failure; never re-creates an expired window.
const UNDO: &str = "\
if redis.call('EXISTS', KEYS[1]) == 1 then return redis.call('DECR', KEYS[1]) end \
return 0";

#[derive(Clone)]
pub struct Redis {
    pub(super) shared: Arc<Shared>,
}

pub(super) struct Shared {
    pub(super) conn: ConnectionManager,
    /// `{prefix}rl:`, before every key of the limiter.
    pub(super) prefix: String,
    check: Script,
    attempt: Script,
    undo: Script,
    timeout: Duration,
    down: AtomicBool,
}

impl Redis {
    /// Prepares a connection without making it, so a server starts while Redis is down.
    pub fn connect(url: &str, prefix: &str, timeout: Duration) -> anyhow::Result<Self> {
        let client = redis::Client::open(url)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(timeout))
            .set_response_timeout(Some(timeout))
            .set_number_of_retries(1);
        let conn = ConnectionManager::new_lazy_with_config(client, config)?;
        Ok(Self {
            shared: Arc::new(Shared {
                conn,
                prefix: format!("{prefix}rl:"),
                check: Script::new(CHECK),
                attempt: Script::new(ATTEMPT),
                undo: Script::new(UNDO),
                timeout,
                down: AtomicBool::new(false),
            }),
        })
    }

    pub fn is_down(&self) -> bool {
        self.shared.down.load(Ordering::Acquire)
    }

    /// Counts one request of `key` against `limit` per minute; `None` when Redis cannot
    /// answer (the caller falls back).
    pub async fn check(&self, key: &str, limit: u32) -> Option<Decision> {
        let s = &self.shared;
        let limit = limit.max(1);
        let t = interval_us(limit);
        let mut invocation = s.check.key(format!("{}{key}", s.prefix));
        invocation.arg(t).arg(t * u64::from(limit - 1));
        let mut conn = s.conn.clone();
        let (allowed, ahead): (i64, i64) = s.run(invocation.invoke_async(&mut conn)).await?;
        Some(decide(limit, allowed == 1, ahead.max(0) as u64))
    }

    /// One attempt for the account key (its policy's prefix and the hashed account):
    /// `Some(Ok(()))` to go on, `Some(Err(retry_after))` while locked out.
    pub async fn attempt(
        &self,
        account: &str,
        window: Duration,
        max_failures: u32,
    ) -> Option<Result<(), Duration>> {
        let s = &self.shared;
        let mut invocation = s.attempt.key(format!("{}{account}", s.prefix));
        invocation.arg(window.as_millis() as u64).arg(max_failures);
        let mut conn = s.conn.clone();
        let (allowed, left_ms): (i64, i64) = s.run(invocation.invoke_async(&mut conn)).await?;
        let left = Duration::from_millis(left_ms.max(1) as u64);
        Some(if allowed == 1 { Ok(()) } else { Err(left) })
    }

    /// Takes back an attempt that turned out not to be a failure.
    pub async fn undo(&self, account: &str) -> Option<()> {
        let s = &self.shared;
        let invocation = s.undo.key(format!("{}{account}", s.prefix));
        let mut conn = s.conn.clone();
        let _: i64 = s.run(invocation.invoke_async(&mut conn)).await?;
        Some(())
    }
}

impl Shared {
    /// Runs one operation unless the backend is down; a failure or timeout marks it down.
    pub(super) async fn run<T>(
        self: &Arc<Self>,
        op: impl Future<Output = RedisResult<T>>,
    ) -> Option<T> {
        if self.down.load(Ordering::Acquire) {
            return None;
        }
        match tokio::time::timeout(self.timeout, op).await {
            Ok(Ok(value)) => Some(value),
            Ok(Err(error)) => {
                self.failed(&error);
                None
            }
            Err(_) => {
                self.failed(&"timed out");
                None
            }
        }
    }

    fn failed(self: &Arc<Self>, error: &dyn Display) {
        if !self.down.swap(true, Ordering::AcqRel) {
            tracing::warn!(%error, "Redis rate limiter unreachable; limiting in process until it is back");
            tokio::spawn(recover(Arc::downgrade(self)));
        }
    }
}

/// Pings until Redis answers, then uses it again. Ends when the limiter is dropped.
async fn recover(shared: Weak<Shared>) {
    loop {
        tokio::time::sleep(RETRY_EVERY).await;
        let Some(shared) = shared.upgrade() else {
            return;
        };
        let mut conn = shared.conn.clone();
        let cmd = redis::cmd("PING");
        let ping = cmd.query_async::<String>(&mut conn);
        if let Ok(Ok(_)) = tokio::time::timeout(shared.timeout, ping).await {
            shared.down.store(false, Ordering::Release);
            tracing::info!("Redis rate limiter reachable again");
            return;
        }
    }
}
