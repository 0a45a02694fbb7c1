//! The response cache: one [`Cache`] facade over an in-process backend (moka, the default) or
//! Redis (`KANRI_REDIS_URL`), shared by every instance that points at the same Redis.
//!
//! **Versioned keys.** A cached result depends on *scopes* ([`Scope`]): the tenant, a
//! workspace, a project. Each scope has a version number in the backend. A result is stored
//! under a key that embeds the current version of every scope it depends on (and the global
//! epoch, see `redis.rs`); a write bumps the version of the narrowest scope that covers
//! everything it changed, after its commit and before its response. Old entries are never
//! deleted, just never asked for again, and age out by their TTL.
//!
//! **Why this is race-free.** A reader reads the versions *before* it reads the database, and
//! stores what it read under those versions. A writer bumps *after* it commits. So:
//! - a reader that saw the new version started its database read after the commit, and stores
//!   fresh data;
//! - a slow reader that saw the old version may store data from before the commit — but under
//!   the old version, which nobody who starts after the bump will look up.
//!
//! The writer answers only after the bump, so a client never reads older than its own write.
//! Versions are unique numbers drawn from one sequence (never reused), so a version that is
//! lost (evicted, or Redis restarted) is re-created as a number no stale entry carries.
//!
//! **The cache never decides who may see what.** Access is checked against the database on
//! every request before a lookup; only the caller's *visibility class* (who shares a result)
//! goes into the key. See `services::list_cache`.

mod key;
pub mod memory;
pub mod redis;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use serde::Serialize;

use crate::config::CacheConfig;

pub use key::{Lookup, Scope};

/// A user's project lists.
pub const PROJECT_LIST_TTL: Duration = Duration::from_secs(5 * 60);
/// A project's task list pages.
pub const TASK_LIST_TTL: Duration = Duration::from_secs(60);
/// Search results (for the search feature).
pub const SEARCH_TTL: Duration = Duration::from_secs(10 * 60);
/// Results larger than this are served but not stored, so one huge page cannot crowd out the
/// rest (or take a Redis round trip's worth of bandwidth on every hit).
pub const MAX_ENTRY_BYTES: usize = 1024 * 1024;

/// A boxed future, so `dyn Backend` works without `async_trait`.
pub type BackendFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Where entries and versions live. Backends never fail: one that cannot answer returns
/// `None` (a miss), drops the write, and accounts for the failure itself.
pub trait Backend: Send + Sync {
    fn name(&self) -> &'static str;
    /// The current version of each key, creating missing ones from the sequence; `None` when
    /// the backend cannot answer (the caller then neither reads nor stores).
    fn versions<'a>(&'a self, keys: &'a [String]) -> BackendFuture<'a, Option<Vec<u64>>>;
    fn get<'a>(&'a self, key: &'a str) -> BackendFuture<'a, Option<Bytes>>;
    fn put<'a>(&'a self, key: &'a str, value: Bytes, ttl: Duration) -> BackendFuture<'a, ()>;
    /// Gives each key a new version from the sequence.
    fn bump<'a>(&'a self, keys: &'a [String]) -> BackendFuture<'a, ()>;
    /// Whether it is answering now, and how many operations failed since start.
    fn health(&self) -> BackendHealth;
}

#[derive(Debug, Clone, Copy, Serialize, utoipa::ToSchema)]
pub struct BackendHealth {
    pub available: bool,
    pub failures: u64,
}

/// Whether a response came from the cache (`X-Cache: hit`) or was computed (`miss`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Hit,
    Miss,
}

impl Source {
    pub fn is_hit(self) -> bool {
        self == Self::Hit
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Hit => "hit",
            Self::Miss => "miss",
        }
    }
}

/// What a lookup found: the stored bytes, or the resolved key to store a fresh result under
/// (`None` when the backend cannot take it now). Resolved before the result is computed,
/// which is what makes storing it race-free.
pub enum Found {
    Hit(Bytes),
    Miss(Option<Ticket>),
}

/// Where a freshly computed result goes: the key built from the versions read before it was
/// computed.
pub struct Ticket {
    key: String,
    ttl: Duration,
}

/// The counters `/readyz` shows.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CacheStats {
    /// `memory`, `redis` or `off`.
    pub backend: &'static str,
    /// False while Redis is unreachable (requests then go to the database).
    pub available: bool,
    pub hits: u64,
    pub misses: u64,
    /// Backend operations that failed or timed out since start.
    pub failures: u64,
}

/// The application's cache; cheap to clone.
#[derive(Clone)]
pub struct Cache {
    inner: Arc<Inner>,
}

struct Inner {
    backend: Option<Box<dyn Backend>>,
    hits: AtomicU64,
    misses: AtomicU64,
}

impl std::fmt::Debug for Cache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cache")
            .field("backend", &self.backend_name())
            .finish()
    }
}

impl Cache {
    /// The backend the configuration names: off, Redis when `redis_url` is set, else memory.
    /// Redis is connected lazily, so a server starts (uncached) while Redis is down.
    pub fn from_config(config: &CacheConfig) -> anyhow::Result<Self> {
        if !config.enabled {
            return Ok(Self::disabled());
        }
        match &config.redis_url {
            Some(url) => Ok(Self::with_backend(redis::Redis::connect(
                url.expose(),
                &config.redis_prefix,
                config.redis_timeout,
            )?)),
            None => Ok(Self::memory(config.memory_bytes())),
        }
    }

    /// An in-process cache holding at most `max_bytes` of entries.
    pub fn memory(max_bytes: u64) -> Self {
        Self::with_backend(memory::Memory::new(max_bytes))
    }

    /// Every lookup misses and nothing is stored.
    pub fn disabled() -> Self {
        Self::from_parts(None)
    }

    pub fn with_backend(backend: impl Backend + 'static) -> Self {
        Self::from_parts(Some(Box::new(backend)))
    }

    fn from_parts(backend: Option<Box<dyn Backend>>) -> Self {
        Self {
            inner: Arc::new(Inner {
                backend,
                hits: AtomicU64::new(0),
                misses: AtomicU64::new(0),
            }),
        }
    }

    fn backend_name(&self) -> &'static str {
        self.inner.backend.as_ref().map_or("off", |b| b.name())
    }

    /// Looks a result up. On a miss, compute it and hand it to [`Cache::put`] with the ticket.
    pub async fn get(&self, lookup: &Lookup) -> Found {
        let Some(backend) = &self.inner.backend else {
            self.inner.misses.fetch_add(1, Ordering::Relaxed);
            crate::metrics::cache_lookup(false);
            return Found::Miss(None);
        };
        let version_keys = lookup.version_keys();
        let found = match backend.versions(&version_keys).await {
            None => Found::Miss(None),
            Some(versions) => {
                let key = lookup.entry_key(&versions);
                match backend.get(&key).await {
                    Some(bytes) => Found::Hit(bytes),
                    None => Found::Miss(Some(Ticket {
                        key,
                        ttl: lookup.ttl(),
                    })),
                }
            }
        };
        let hit = matches!(found, Found::Hit(_));
        let counter = if hit {
            &self.inner.hits
        } else {
            &self.inner.misses
        };
        counter.fetch_add(1, Ordering::Relaxed);
        crate::metrics::cache_lookup(hit);
        found
    }

    /// Stores a result computed after the lookup that issued `ticket`.
    pub async fn put(&self, ticket: Ticket, value: Bytes) {
        if value.len() > MAX_ENTRY_BYTES {
            return;
        }
        if let Some(backend) = &self.inner.backend {
            backend.put(&ticket.key, value, ticket.ttl).await;
        }
    }

    /// The cached result for `lookup`, or `load`'s, which is then stored. Errors are returned
    /// and never stored.
    pub async fn fetch<E, F, Fut>(&self, lookup: &Lookup, load: F) -> Result<(Bytes, Source), E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Vec<u8>, E>>,
    {
        match self.get(lookup).await {
            Found::Hit(bytes) => Ok((bytes, Source::Hit)),
            Found::Miss(ticket) => {
                let bytes = Bytes::from(load().await?);
                if let Some(ticket) = ticket {
                    self.put(ticket, bytes.clone()).await;
                }
                Ok((bytes, Source::Miss))
            }
        }
    }

    /// Makes every result that depends on one of `scopes` unreachable, on every instance that
    /// shares the backend. Call it after the write commits and before answering.
    pub async fn invalidate(&self, scopes: &[Scope<'_>]) {
        if self.inner.backend.is_none() {
            return;
        }
        let keys: Vec<String> = scopes.iter().map(Scope::version_key).collect();
        let cache = self.clone();
        // In its own task: a request whose client hangs up (or times out) right after the commit
        // drops its handler's future, and the bump must still happen.
        let bump = tokio::spawn(async move {
            if let Some(backend) = &cache.inner.backend {
                backend.bump(&keys).await;
            }
        });
        if let Err(error) = bump.await {
            tracing::error!(%error, "cache invalidation task failed");
        }
    }

    /// After a change to a workspace's projects or members: its project lists and everything
    /// cached under its projects.
    pub async fn invalidate_workspace(&self, tenant: &str, workspace: &str) {
        self.invalidate(&[Scope::Workspace { tenant, workspace }])
            .await;
    }

    /// After a change to a project's tasks or comments: its task lists and search results.
    pub async fn invalidate_project(&self, tenant: &str, project: &str) {
        self.invalidate(&[Scope::Project { tenant, project }]).await;
    }

    /// After a change that reaches across workspaces (a user's profile or deletion):
    /// everything cached for the tenant.
    pub async fn invalidate_tenant(&self, tenant: &str) {
        self.invalidate(&[Scope::Tenant(tenant)]).await;
    }

    pub fn stats(&self) -> CacheStats {
        let health = self.inner.backend.as_ref().map(|b| b.health());
        CacheStats {
            backend: self.backend_name(),
            available: health.is_some_and(|h| h.available),
            hits: self.inner.hits.load(Ordering::Relaxed),
            misses: self.inner.misses.load(Ordering::Relaxed),
            failures: health.map_or(0, |h| h.failures),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup() -> Lookup {
        Lookup::new("test", TASK_LIST_TTL)
            .scope(Scope::Tenant("t1"))
            .scope(Scope::Project {
                tenant: "t1",
                project: "p1",
            })
            .part("page-1")
    }

    async fn load(n: &str) -> Result<Vec<u8>, ()> {
        Ok(n.as_bytes().to_vec())
    }

    #[tokio::test]
    async fn miss_then_hit_then_invalidated() {
        let cache = Cache::memory(1 << 20);
        let (body, src) = cache.fetch(&lookup(), || load("a")).await.unwrap();
        assert_eq!((&body[..], src), (&b"a"[..], Source::Miss));
        let (body, src) = cache.fetch(&lookup(), || load("b")).await.unwrap();
        assert_eq!((&body[..], src), (&b"a"[..], Source::Hit));
        cache.invalidate_project("t1", "p1").await;
        let (body, src) = cache.fetch(&lookup(), || load("c")).await.unwrap();
        assert_eq!((&body[..], src), (&b"c"[..], Source::Miss));
        // Another project's bump leaves this entry alone.
        cache.invalidate_project("t1", "p2").await;
        cache.invalidate_workspace("t1", "w1").await;
        let (_, src) = cache.fetch(&lookup(), || load("d")).await.unwrap();
        assert_eq!(src, Source::Hit);
        cache.invalidate_tenant("t1").await;
        let (_, src) = cache.fetch(&lookup(), || load("e")).await.unwrap();
        assert_eq!(src, Source::Miss);
        let stats = cache.stats();
        assert_eq!((stats.hits, stats.misses, stats.backend), (2, 3, "memory"));
    }

    /// The race the versions exist for: a reader looks up, a writer commits and bumps, then the
    /// slow reader stores what it read before the commit. Nobody may be served that.
    #[tokio::test]
    async fn a_slow_reader_cannot_store_a_stale_result_for_later_readers() {
        let cache = Cache::memory(1 << 20);
        let Found::Miss(Some(slow_ticket)) = cache.get(&lookup()).await else {
            panic!("first lookup misses with a ticket");
        };
        cache.invalidate_project("t1", "p1").await;
        cache.put(slow_ticket, Bytes::from_static(b"stale")).await;
        let (body, src) = cache.fetch(&lookup(), || load("fresh")).await.unwrap();
        assert_eq!((&body[..], src), (&b"fresh"[..], Source::Miss));
        let (body, _) = cache.fetch(&lookup(), || load("x")).await.unwrap();
        assert_eq!(&body[..], b"fresh");
    }

    #[tokio::test]
    async fn errors_and_oversized_results_are_not_stored() {
        let cache = Cache::memory(1 << 24);
        let failed: Result<_, &str> = cache.fetch(&lookup(), || async { Err("boom") }).await;
        assert!(failed.is_err());
        let big = vec![b'x'; MAX_ENTRY_BYTES + 1];
        let (_, src) = cache
            .fetch(&lookup(), || async { Ok::<_, ()>(big) })
            .await
            .unwrap();
        assert_eq!(src, Source::Miss);
        let (body, src) = cache.fetch(&lookup(), || load("small")).await.unwrap();
        assert_eq!((&body[..], src), (&b"small"[..], Source::Miss));
    }

    #[tokio::test]
    async fn disabled_always_misses() {
        let cache = Cache::disabled();
        for _ in 0..2 {
            let (_, src) = cache.fetch(&lookup(), || load("a")).await.unwrap();
            assert_eq!(src, Source::Miss);
        }
        cache.invalidate_tenant("t1").await;
        let stats = cache.stats();
        assert_eq!(
            (stats.backend, stats.available, stats.misses),
            ("off", false, 2)
        );
    }
}
