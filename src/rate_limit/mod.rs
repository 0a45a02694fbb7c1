//! Rate limits: per tenant, per client IP on the auth surface, and the per-account sign-in
//! lockout and two-factor code limit. One [`Limiter`] answers every check, in Redis when one is configured (shared by
//! every instance) and in process otherwise — or when Redis cannot answer, which is counted
//! and shown in `/readyz` but never fails a request.
//!
//! - `gcra.rs`: the rule and the [`Decision`] a check answers;
//! - `memory.rs`: in process (governor); `redis.rs`: one Lua script per check;
//! - `lockout.rs`: the sign-in failure windows; `client_ip.rs`: who the client is;
//! - `connections.rs`: realtime connections per user across instances;
//! - `tenant.rs`: the limit a tenant gets (its default plan's, remembered for 2 s). The HTTP side is `http::rate_limit`.

pub mod client_ip;
pub mod connections;
pub mod gcra;
pub mod lockout;
pub mod memory;
pub mod redis;
mod tenant;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::config::CacheConfig;
use crate::realtime::hub::TooManyConnections;
pub use client_ip::{client_ip, limit_key};
pub use connections::ConnectionLease;
pub use gcra::Decision;
pub use tenant::tenant_limit_per_minute;

/// What a limit is counted per; also the `scope` label of `rate_limited_requests_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Tenant,
    AuthIp,
    AuthAccount,
    TwoFactor,
}

impl Scope {
    pub fn label(self) -> &'static str {
        match self {
            Self::Tenant => "tenant",
            Self::AuthIp => "auth_ip",
            Self::AuthAccount => "auth_account",
            Self::TwoFactor => "two_factor",
        }
    }

    /// Keeps the scopes' keys apart in one store.
    fn key(self, key: &str) -> String {
        match self {
            Self::Tenant => format!("t:{key}"),
            Self::AuthIp => format!("ip:{key}"),
            Self::AuthAccount => format!("acct:{key}"),
            Self::TwoFactor => format!("2fa:{key}"),
        }
    }
}

/// What `/readyz` shows of the limiter.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LimiterStats {
    /// `memory` or `redis`.
    pub backend: &'static str,
    /// True while Redis is configured but unreachable: limits are then per instance.
    pub degraded: bool,
    /// Checks answered in process because Redis could not answer, since start.
    pub fallbacks: u64,
}

/// The application's limiter; cheap to clone.
#[derive(Clone)]
pub struct Limiter {
    inner: Arc<Inner>,
}

struct Inner {
    memory: memory::Memory,
    windows: lockout::Windows,
    redis: Option<redis::Redis>,
    fallbacks: AtomicU64,
    plan_limits: tenant::PlanLimits,
}

/// A sign-in attempt (a password, or a two-factor code) let through its failure window; say how
/// it ended with [`SignInAttempt::settle`].
#[must_use]
pub struct SignInAttempt {
    limiter: Limiter,
    key: String,
    /// Where it was counted, so it is taken back from the same store.
    in_redis: bool,
}

impl Limiter {
    /// Redis (the cache's URL and prefix) when configured, else in process. Redis is connected
    /// lazily, so a server starts while Redis is down.
    pub fn from_config(cache: &CacheConfig) -> anyhow::Result<Self> {
        let redis = match &cache.redis_url {
            Some(url) => Some(redis::Redis::connect(
                url.expose(),
                &cache.redis_prefix,
                cache.redis_timeout,
            )?),
            None => None,
        };
        Ok(Self::with_redis(redis))
    }

    pub fn in_process() -> Self {
        Self::with_redis(None)
    }

    fn with_redis(redis: Option<redis::Redis>) -> Self {
        Self {
            inner: Arc::new(Inner {
                memory: memory::Memory::default(),
                windows: lockout::Windows::default(),
                redis,
                fallbacks: AtomicU64::new(0),
                plan_limits: tenant::PlanLimits::default(),
            }),
        }
    }

    /// Counts one request of `key` in `scope` against `limit_per_minute`.
    pub async fn check(&self, scope: Scope, key: &str, limit_per_minute: u32) -> Decision {
        let key = scope.key(key);
        let decision = match self.redis_answer(|r| r.check(&key, limit_per_minute)).await {
            Some(decision) => decision,
            None => self.inner.memory.check(&key, limit_per_minute),
        };
        if !decision.allowed {
            refused(scope);
        }
        decision
    }

    /// Lets a sign-in for `email` go on, or refuses it (`Err(retry_after)`) while the account
    /// is locked out. See `lockout.rs`.
    pub async fn sign_in_attempt(
        &self,
        tenant_id: &str,
        email: &str,
    ) -> Result<SignInAttempt, Duration> {
        let key = lockout::account_key(tenant_id, email);
        self.failure_window(Scope::AuthAccount, lockout::SIGN_IN, key)
            .await
    }

    /// Lets a two-factor code for user `user_id` be checked, or refuses it (`Err(retry_after)`)
    /// after too many wrong ones (`lockout::TWO_FACTOR`). Settle it like a sign-in attempt.
    pub async fn two_factor_attempt(
        &self,
        tenant_id: &str,
        user_id: &str,
    ) -> Result<SignInAttempt, Duration> {
        let key = lockout::account_key(tenant_id, user_id);
        self.failure_window(Scope::TwoFactor, lockout::TWO_FACTOR, key)
            .await
    }

    async fn failure_window(
        &self,
        scope: Scope,
        policy: lockout::Policy,
        account: String,
    ) -> Result<SignInAttempt, Duration> {
        let key = format!("{}{account}", policy.prefix);
        let answer = self
            .redis_answer(|r| r.attempt(&key, policy.window, policy.max_failures))
            .await;
        let in_redis = answer.is_some();
        let answer =
            answer.unwrap_or_else(|| self.inner.windows.attempt(&key, Instant::now(), policy));
        match answer {
            Ok(()) => Ok(SignInAttempt {
                limiter: self.clone(),
                key,
                in_redis,
            }),
            Err(retry_after) => {
                refused(scope);
                Err(retry_after)
            }
        }
    }

    /// Asks Redis when it is configured and up; `None` means answer in process (counted as a
    /// fallback when Redis is configured).
    async fn redis_answer<'a, T, F, Fut>(&'a self, ask: F) -> Option<T>
    where
        F: FnOnce(&'a redis::Redis) -> Fut,
        Fut: Future<Output = Option<T>>,
    {
        let redis = self.inner.redis.as_ref()?;
        let answer = ask(redis).await;
        if answer.is_none() {
            self.inner.fallbacks.fetch_add(1, Ordering::Relaxed);
            metrics::counter!("rate_limiter_fallbacks_total").increment(1);
        }
        answer
    }

    /// A place for one more realtime connection of a user, across every instance sharing
    /// Redis: `Err` when the user already has `max`; `Ok(None)` without Redis (or while it
    /// is down), when the hub's per-instance count is the only one.
    pub async fn connection_lease(
        &self,
        tenant_id: &str,
        user_id: &str,
        max: usize,
    ) -> Result<Option<ConnectionLease>, TooManyConnections> {
        let user_key = format!("{tenant_id}:{user_id}");
        match self
            .redis_answer(|r| r.acquire_connection(&user_key, max))
            .await
        {
            Some(Some(lease)) => Ok(Some(lease)),
            Some(None) => Err(TooManyConnections),
            None => Ok(None),
        }
    }

    /// The tenants' plan limits, remembered briefly (see `tenant.rs`).
    pub fn plan_limits(&self) -> &tenant::PlanLimits {
        &self.inner.plan_limits
    }

    pub fn stats(&self) -> LimiterStats {
        let redis = self.inner.redis.as_ref();
        LimiterStats {
            backend: if redis.is_some() { "redis" } else { "memory" },
            degraded: redis.is_some_and(redis::Redis::is_down),
            fallbacks: self.inner.fallbacks.load(Ordering::Relaxed),
        }
    }
}

impl SignInAttempt {
    /// `failed`: the credentials were wrong, and the attempt stays counted. Anything else (a
    /// sign-in, a malformed request, a server error) is taken back.
    pub async fn settle(self, failed: bool) {
        if failed {
            return;
        }
        let inner = &self.limiter.inner;
        if self.in_redis
            && let Some(redis) = &inner.redis
        {
            // If Redis went away meanwhile the failure stays counted there; the window is
            // short and a stale count only errs on the side of caution.
            let _ = redis.undo(&self.key).await;
            return;
        }
        inner.windows.undo(&self.key);
    }
}

fn refused(scope: Scope) {
    metrics::counter!("rate_limited_requests_total", "scope" => scope.label()).increment(1);
}
