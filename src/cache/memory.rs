//! The in-process backend (moka): entries bounded by total size with a TTL each, and versions
//! from one atomic sequence. Right for one instance; with several, each has its own cache and
//! a write on one cannot reach the others — use Redis then.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use moka::Expiry;
use moka::future::Cache as Moka;

use super::{Backend, BackendFuture, BackendHealth};

/// Versions are a few bytes each; this many scopes stay remembered. One that is evicted comes
/// back as a fresh number from the sequence, which no stored entry carries, so eviction costs
/// hits but never serves anything stale.
const MAX_VERSIONS: u64 = 100_000;

#[derive(Clone)]
struct Entry {
    body: Bytes,
    ttl: Duration,
}

struct EntryTtl;

impl Expiry<String, Entry> for EntryTtl {
    fn expire_after_create(&self, _key: &String, entry: &Entry, _at: Instant) -> Option<Duration> {
        Some(entry.ttl)
    }
}

pub struct Memory {
    entries: Moka<String, Entry>,
    versions: Moka<String, u64>,
    sequence: AtomicU64,
}

impl Memory {
    pub fn new(max_bytes: u64) -> Self {
        Self {
            entries: Moka::builder()
                .max_capacity(max_bytes)
                .weigher(|key: &String, entry: &Entry| {
                    u32::try_from(key.len() + entry.body.len()).unwrap_or(u32::MAX)
                })
                .expire_after(EntryTtl)
                .build(),
            versions: Moka::builder().max_capacity(MAX_VERSIONS).build(),
            sequence: AtomicU64::new(0),
        }
    }

    fn next_version(&self) -> u64 {
        self.sequence.fetch_add(1, Ordering::Relaxed) + 1
    }
}

impl Backend for Memory {
    fn name(&self) -> &'static str {
        "memory"
    }

    fn versions<'a>(&'a self, keys: &'a [String]) -> BackendFuture<'a, Option<Vec<u64>>> {
        Box::pin(async move {
            let mut out = Vec::with_capacity(keys.len());
            for key in keys {
                // Atomic per key: concurrent first readers agree on one number.
                let entry = self
                    .versions
                    .entry_by_ref(key.as_str())
                    .or_insert_with(async { self.next_version() })
                    .await;
                out.push(entry.into_value());
            }
            Some(out)
        })
    }

    fn get<'a>(&'a self, key: &'a str) -> BackendFuture<'a, Option<Bytes>> {
        Box::pin(async move { self.entries.get(key).await.map(|e| e.body) })
    }

    fn put<'a>(&'a self, key: &'a str, value: Bytes, ttl: Duration) -> BackendFuture<'a, ()> {
        Box::pin(async move {
            self.entries
                .insert(key.to_string(), Entry { body: value, ttl })
                .await;
        })
    }

    fn bump<'a>(&'a self, keys: &'a [String]) -> BackendFuture<'a, ()> {
        Box::pin(async move {
            for key in keys {
                self.versions
                    .entry_by_ref(key.as_str())
                    .and_upsert_with(|_| async { self.next_version() })
                    .await;
            }
        })
    }

    fn health(&self) -> BackendHealth {
        BackendHealth {
            available: true,
            failures: 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn versions_are_created_once_and_bumped_to_unused_numbers() {
        let m = Memory::new(1024);
        let keys = vec!["a".to_string(), "b".to_string()];
        let first = m.versions(&keys).await.unwrap();
        assert_eq!(first, m.versions(&keys).await.unwrap());
        assert_ne!(first[0], first[1]);
        m.bump(&keys[..1]).await;
        let second = m.versions(&keys).await.unwrap();
        assert!(second[0] > first[0] && second[0] > first[1]);
        assert_eq!(second[1], first[1]);
        // A forgotten version comes back as a number never handed out before.
        m.versions.invalidate("b").await;
        let third = m.versions(&keys).await.unwrap();
        assert!(third[1] > second[0]);
    }

    #[tokio::test]
    async fn entries_round_trip() {
        let m = Memory::new(1024);
        assert!(m.get("k").await.is_none());
        m.put("k", Bytes::from_static(b"v"), Duration::from_secs(60))
            .await;
        assert_eq!(m.get("k").await.as_deref(), Some(&b"v"[..]));
    }
}
