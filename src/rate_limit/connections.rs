//! Realtime connections per user, counted across instances through Redis.
//!
//! Each user has a sorted set of connection ids scored by lease expiry (Redis time, ms). Taking
//! a lease drops the expired ones, counts the rest and adds this one, in one script, so two
//! instances racing for the last slot cannot both get it. A live connection refreshes its lease
//! every [`REFRESH_EVERY`]; a closed one removes it; a crashed instance's leases simply expire
//! after [`LEASE`]. Without Redis (or while it is down) only the hub's per-instance count
//! applies, as before.

use std::time::Duration;

use redis::Script;
use tokio::task::JoinHandle;

use super::redis::Redis;

/// How long a lease lives without a refresh: how long a crashed instance's connections go on
/// counting.
pub const LEASE: Duration = Duration::from_secs(60);
const REFRESH_EVERY: Duration = Duration::from_secs(20);

/// KEYS[1] the user's set; ARGV[1] the lease (ms), ARGV[2] the most connections, ARGV[3] this
/// connection's id. Returns 1 when taken, 0 when the user is at the limit.
const ACQUIRE: &str = "\
local t = redis.call('TIME') \
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) \
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now) \
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end \
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[1]), ARGV[3]) \
redis.call('PEXPIRE', KEYS[1], ARGV[1]) \
return 1";

/// Extends a lease still held (`XX`: one that expired meanwhile is not re-taken, as its slot
/// may have gone to another connection).
const REFRESH: &str = "\
local t = redis.call('TIME') \
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) \
local kept = redis.call('ZADD', KEYS[1], 'XX', 'CH', now + tonumber(ARGV[1]), ARGV[2]) \
redis.call('PEXPIRE', KEYS[1], ARGV[1]) \
return kept";

/// One connection's place in its user's set; dropping it gives the place back.
pub struct ConnectionLease {
    redis: Redis,
    key: String,
    member: String,
    refresher: JoinHandle<()>,
}

impl Redis {
    /// `Some(Some(lease))` taken, `Some(None)` at the limit, `None` Redis could not answer.
    pub async fn acquire_connection(
        &self,
        user_key: &str,
        max: usize,
    ) -> Option<Option<ConnectionLease>> {
        let s = &self.shared;
        let key = format!("{}conns:{user_key}", s.prefix);
        let member = uuid::Uuid::now_v7().simple().to_string();
        let script = Script::new(ACQUIRE);
        let mut invocation = script.key(&key);
        invocation
            .arg(LEASE.as_millis() as u64)
            .arg(max)
            .arg(&member);
        let mut conn = s.conn.clone();
        let taken: i64 = s.run(invocation.invoke_async(&mut conn)).await?;
        if taken != 1 {
            return Some(None);
        }
        let refresher = tokio::spawn(refresh(self.clone(), key.clone(), member.clone()));
        Some(Some(ConnectionLease {
            redis: self.clone(),
            key,
            member,
            refresher,
        }))
    }
}

async fn refresh(redis: Redis, key: String, member: String) {
    let script = Script::new(REFRESH);
    loop {
        tokio::time::sleep(REFRESH_EVERY).await;
        let mut invocation = script.key(&key);
        invocation.arg(LEASE.as_millis() as u64).arg(&member);
        let mut conn = redis.shared.conn.clone();
        // A failed refresh is retried at the next tick; the lease outlives two missed ones.
        let _: Option<i64> = redis.shared.run(invocation.invoke_async(&mut conn)).await;
    }
}

impl Drop for ConnectionLease {
    fn drop(&mut self) {
        self.refresher.abort();
        let (redis, key, member) = (self.redis.clone(), self.key.clone(), self.member.clone());
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                let mut conn = redis.shared.conn.clone();
                let mut cmd = redis::cmd("ZREM");
                cmd.arg(&key).arg(&member);
                let _: Option<i64> = redis.shared.run(cmd.query_async(&mut conn)).await;
            });
        }
    }
}
