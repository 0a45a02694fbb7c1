//! The Redis backend, shared by every instance that points at the same Redis and prefix.
//!
//! Keys: `{prefix}e:{namespace}:{hash}` entries (with `PX` TTL), `{prefix}v:{scope}` versions
//! and `{prefix}seq`, the sequence versions are drawn from (no TTL on either: Redis should run
//! with `noeviction` or a `volatile-*` policy). Reading versions and bumping them are Lua
//! scripts, so a missing version is created atomically and a bump is one round trip.
//!
//! **Failure.** Redis is an optimisation: every operation has a short timeout, and the first
//! failure marks the backend down (logged once), after which requests skip Redis entirely and
//! go to the database — no request waits on a hung Redis more than once. A background task
//! retries every second; when Redis answers again it bumps the *epoch*, a version every key
//! embeds, which drops everything cached before the outage. That is what makes a lost bump
//! safe: a write whose bump failed may have left entries that should have been invalidated,
//! and they become unreachable the moment this instance can talk to Redis again. Until then,
//! this instance reads from the database (so it never serves its own writes stale); another
//! instance that can still reach Redis may serve such an entry until the recovery, and at
//! worst until the entry's TTL (1–10 minutes) if this instance never reconnects.

use std::fmt::Display;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use bytes::Bytes;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{RedisResult, Script};

use super::key::EPOCH;
use super::{Backend, BackendFuture, BackendHealth};

/// How often a down backend tries Redis again.
const RETRY_EVERY: Duration = Duration::from_secs(1);

/// A missing sequence (Redis restarted empty, or an eviction policy took it) restarts at the
/// current time in microseconds, above any number handed out before, so a stored entry can
/// never match a re-created version.
const SEQUENCE_INIT: &str = "if redis.call('EXISTS', KEYS[#KEYS]) == 0 then \
     redis.call('SET', KEYS[#KEYS], ARGV[1]) end ";

const VERSIONS: &str = "local out = {} \
     for i = 1, #KEYS - 1 do \
       local v = redis.call('GET', KEYS[i]) \
       if not v then v = redis.call('INCR', KEYS[#KEYS]); redis.call('SET', KEYS[i], v) end \
       out[i] = tonumber(v) \
     end \
     return out";

const BUMP: &str = "for i = 1, #KEYS - 1 do \
       redis.call('SET', KEYS[i], redis.call('INCR', KEYS[#KEYS])) \
     end \
     return #KEYS - 1";

pub struct Redis {
    shared: Arc<Shared>,
}

struct Shared {
    conn: ConnectionManager,
    prefix: String,
    versions: Script,
    bump: Script,
    timeout: Duration,
    down: AtomicBool,
    failures: AtomicU64,
}

impl Redis {
    /// Prepares a connection without making it, so a server starts while Redis is down.
    /// `timeout` bounds every operation (`KANRI_REDIS_TIMEOUT_MS`): past it, the request reads
    /// the database instead.
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
                prefix: prefix.to_string(),
                versions: Script::new(&format!("{SEQUENCE_INIT}{VERSIONS}")),
                bump: Script::new(&format!("{SEQUENCE_INIT}{BUMP}")),
                timeout,
                down: AtomicBool::new(false),
                failures: AtomicU64::new(0),
            }),
        })
    }
}

impl Shared {
    fn version_key(&self, scope: &str) -> String {
        format!("{}v:{scope}", self.prefix)
    }

    fn entry_key(&self, key: &str) -> String {
        format!("{}e:{key}", self.prefix)
    }

    fn sequence_key(&self) -> String {
        format!("{}seq", self.prefix)
    }

    /// Runs one operation unless the backend is down; a failure or timeout marks it down.
    async fn run<T>(self: &Arc<Self>, op: impl Future<Output = RedisResult<T>>) -> Option<T> {
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
        self.failures.fetch_add(1, Ordering::Relaxed);
        crate::metrics::cache_redis_error();
        if !self.down.swap(true, Ordering::AcqRel) {
            tracing::warn!(%error, "Redis cache unreachable; serving from the database until it is back");
            tokio::spawn(recover(Arc::downgrade(self)));
        }
    }

    async fn bump_keys(&self, scopes: &[String]) -> RedisResult<i64> {
        let mut invocation = self.bump.prepare_invoke();
        for scope in scopes {
            invocation.key(self.version_key(scope));
        }
        invocation.key(self.sequence_key()).arg(now_micros());
        invocation.invoke_async(&mut self.conn.clone()).await
    }
}

/// Retries until Redis answers, then drops everything cached before (see the module docs).
/// Ends when the cache is dropped.
async fn recover(shared: Weak<Shared>) {
    loop {
        tokio::time::sleep(RETRY_EVERY).await;
        let Some(shared) = shared.upgrade() else {
            return;
        };
        if shared.try_recover().await {
            return;
        }
    }
}

impl Shared {
    /// One recovery attempt: bump the epoch and, if Redis took it, use Redis again.
    async fn try_recover(&self) -> bool {
        let epoch = [EPOCH.to_string()];
        match tokio::time::timeout(self.timeout, self.bump_keys(&epoch)).await {
            Ok(Ok(_)) => {
                if self.down.swap(false, Ordering::AcqRel) {
                    tracing::info!(
                        "Redis cache reachable again; entries from before the outage dropped"
                    );
                }
                true
            }
            _ => {
                self.failures.fetch_add(1, Ordering::Relaxed);
                crate::metrics::cache_redis_error();
                false
            }
        }
    }
}

fn now_micros() -> i64 {
    crate::clock::now_ms().saturating_mul(1000)
}

impl Backend for Redis {
    fn name(&self) -> &'static str {
        "redis"
    }

    fn versions<'a>(&'a self, keys: &'a [String]) -> BackendFuture<'a, Option<Vec<u64>>> {
        Box::pin(async move {
            let s = &self.shared;
            let mut invocation = s.versions.prepare_invoke();
            for key in keys {
                invocation.key(s.version_key(key));
            }
            invocation.key(s.sequence_key()).arg(now_micros());
            let mut conn = s.conn.clone();
            let versions: Vec<u64> = s.run(invocation.invoke_async(&mut conn)).await?;
            // A short answer would shift every version onto the wrong scope.
            (versions.len() == keys.len()).then_some(versions)
        })
    }

    fn get<'a>(&'a self, key: &'a str) -> BackendFuture<'a, Option<Bytes>> {
        Box::pin(async move {
            let s = &self.shared;
            let mut conn = s.conn.clone();
            let cmd = redis::cmd("GET").arg(s.entry_key(key)).to_owned();
            let found: Option<Vec<u8>> = s.run(cmd.query_async(&mut conn)).await?;
            found.map(Bytes::from)
        })
    }

    fn put<'a>(&'a self, key: &'a str, value: Bytes, ttl: Duration) -> BackendFuture<'a, ()> {
        Box::pin(async move {
            let s = &self.shared;
            let mut conn = s.conn.clone();
            let ttl_ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
            let cmd = redis::cmd("SET")
                .arg(s.entry_key(key))
                .arg(value.as_ref())
                .arg("PX")
                .arg(ttl_ms)
                .to_owned();
            s.run(cmd.query_async::<()>(&mut conn)).await;
        })
    }

    fn bump<'a>(&'a self, keys: &'a [String]) -> BackendFuture<'a, ()> {
        Box::pin(async move {
            let s = &self.shared;
            // While down, the bump is lost — the epoch bump at recovery covers it.
            s.run(s.bump_keys(keys)).await;
        })
    }

    fn health(&self) -> BackendHealth {
        BackendHealth {
            available: !self.shared.down.load(Ordering::Acquire),
            failures: self.shared.failures.load(Ordering::Relaxed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Generous, so a loaded test machine is not mistaken for a Redis outage.
    const TEST_TIMEOUT: Duration = Duration::from_secs(5);

    fn redis_url() -> Option<String> {
        std::env::var("KANRI_TEST_REDIS_URL").ok()
    }

    fn prefix() -> String {
        format!("kanri-unit-{}:", uuid::Uuid::now_v7().simple())
    }

    #[tokio::test]
    async fn versions_and_entries_round_trip() {
        let Some(url) = redis_url() else { return };
        let r = Redis::connect(&url, &prefix(), TEST_TIMEOUT).unwrap();
        let keys = vec!["a".to_string(), "b".to_string()];
        let first = r.versions(&keys).await.expect("redis answers");
        assert_eq!(first, r.versions(&keys).await.unwrap());
        assert_ne!(first[0], first[1]);
        r.bump(&keys[1..]).await;
        let second = r.versions(&keys).await.unwrap();
        assert_eq!(second[0], first[0]);
        assert!(second[1] > first[0].max(first[1]));
        assert!(r.get("k").await.is_none());
        r.put("k", Bytes::from_static(b"v"), Duration::from_secs(60))
            .await;
        assert_eq!(r.get("k").await.as_deref(), Some(&b"v"[..]));
        assert!(r.health().available);
        assert_eq!(r.health().failures, 0);
    }

    /// A bump lost while Redis was unreachable from this instance must not leave anything
    /// stale behind once it is reachable again: recovery bumps the epoch.
    #[tokio::test]
    async fn a_lost_bump_is_covered_by_the_epoch_bump_at_recovery() {
        let Some(url) = redis_url() else { return };
        let prefix = prefix();
        let r = Redis::connect(&url, &prefix, TEST_TIMEOUT).unwrap();
        let keys = vec![EPOCH.to_string(), "p".to_string()];
        let before = r.versions(&keys).await.unwrap();
        // Simulate the failure that loses a bump.
        r.shared.failed(&"test outage");
        r.bump(&keys[1..]).await;
        assert!(!r.health().available);
        assert!(r.versions(&keys).await.is_none(), "down: skip Redis");
        assert!(r.shared.try_recover().await, "Redis is up");
        assert!(r.health().available);
        let after = r.versions(&keys).await.unwrap();
        assert!(
            after[0] > before[0],
            "the epoch moved: {before:?} → {after:?}"
        );
    }

    /// A TCP proxy to Redis that the test can cut and restore, so a real outage and a real
    /// reconnection happen without touching the shared Redis.
    struct Proxy {
        port: u16,
        stop: tokio_util::sync::CancellationToken,
    }

    impl Proxy {
        async fn start(port: u16, upstream: String) -> Self {
            let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
                .await
                .unwrap();
            let port = listener.local_addr().unwrap().port();
            let stop = tokio_util::sync::CancellationToken::new();
            let token = stop.clone();
            tokio::spawn(async move {
                loop {
                    let (mut inbound, _) = tokio::select! {
                        () = token.cancelled() => return,
                        accepted = listener.accept() => accepted.unwrap(),
                    };
                    let (upstream, token) = (upstream.clone(), token.clone());
                    tokio::spawn(async move {
                        let mut outbound = tokio::net::TcpStream::connect(upstream).await.unwrap();
                        tokio::select! {
                            _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                            () = token.cancelled() => {}
                        }
                    });
                }
            });
            Self { port, stop }
        }

        fn cut(&self) {
            self.stop.cancel();
        }
    }

    #[tokio::test]
    async fn an_outage_is_survived_and_recovered_from() {
        let Some(url) = redis_url() else { return };
        let target = url::Url::parse(&url).unwrap();
        let upstream = format!(
            "{}:{}",
            target.host_str().unwrap(),
            target.port().unwrap_or(6379)
        );
        let proxy = Proxy::start(0, upstream.clone()).await;
        let r = Redis::connect(
            &format!("redis://127.0.0.1:{}", proxy.port),
            &prefix(),
            TEST_TIMEOUT,
        )
        .unwrap();
        let keys = vec![EPOCH.to_string(), "p".to_string()];
        let before = r.versions(&keys).await.expect("up");

        proxy.cut();
        let port = proxy.port;
        // Requests during the outage get nothing from Redis, quickly, and are counted.
        assert!(r.versions(&keys).await.is_none());
        r.bump(&keys[1..]).await;
        assert!(r.get("k").await.is_none());
        assert!(!r.health().available);
        assert!(r.health().failures >= 1);

        let _proxy = Proxy::start(port, upstream).await;
        // The connection manager reconnects in the background; give it a few attempts.
        let mut attempts = 0;
        while !r.shared.try_recover().await {
            attempts += 1;
            assert!(attempts < 50, "never recovered");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(r.health().available);
        let after = r.versions(&keys).await.expect("up again");
        assert!(after[0] > before[0], "everything before the outage dropped");
    }

    #[tokio::test]
    async fn an_unreachable_redis_fails_fast_and_counts() {
        // Nothing listens on port 1.
        let r = Redis::connect("redis://127.0.0.1:1", &prefix(), TEST_TIMEOUT).unwrap();
        assert!(r.versions(&["a".to_string()]).await.is_none());
        assert!(r.get("k").await.is_none());
        r.bump(&["a".to_string()]).await;
        let health = r.health();
        assert!(!health.available);
        // Later calls skip Redis while it is down (the retry task may add its own failures).
        assert!(health.failures >= 1);
    }
}
