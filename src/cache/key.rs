//! What a cached result's key is made of: a namespace, the scopes it depends on (whose current
//! versions go into the key) and the inputs that select it (query, cursor, limit, who asks).

use std::time::Duration;

use sha2::{Digest, Sha256};

/// The version key every entry also depends on. Bumped only to drop everything at once (Redis
/// does it after an outage, when bumps may have been lost).
pub(crate) const EPOCH: &str = "epoch";

/// Something cached results depend on. A write bumps the narrowest scope that covers all it
/// changed; a result depends on every scope above it too (a project's task list on its
/// workspace and tenant), so bumping a wide scope reaches everything below it.
#[derive(Debug, Clone, Copy)]
pub enum Scope<'a> {
    /// Everything cached for a tenant: user profiles and deletions show up in every list.
    Tenant(&'a str),
    /// A workspace's project lists and everything under its projects (project and membership
    /// changes decide who sees what).
    Workspace { tenant: &'a str, workspace: &'a str },
    /// A project's task lists and search results.
    Project { tenant: &'a str, project: &'a str },
}

impl Scope<'_> {
    pub fn version_key(&self) -> String {
        match self {
            Self::Tenant(t) => format!("t:{t}"),
            Self::Workspace { tenant, workspace } => format!("w:{tenant}:{workspace}"),
            Self::Project { tenant, project } => format!("p:{tenant}:{project}"),
        }
    }
}

/// One cached result's identity and lifetime. Build it with everything the result depends on:
/// a part left out is a result served to the wrong request.
#[derive(Debug, Clone)]
pub struct Lookup {
    namespace: &'static str,
    ttl: Duration,
    scopes: Vec<String>,
    parts: Vec<Option<String>>,
}

impl Lookup {
    /// `namespace` names the result's shape (e.g. `v1-tasks`); two shapes of the same data
    /// need two namespaces.
    pub fn new(namespace: &'static str, ttl: Duration) -> Self {
        Self {
            namespace,
            ttl,
            scopes: Vec::new(),
            parts: Vec::new(),
        }
    }

    pub fn scope(mut self, scope: Scope<'_>) -> Self {
        self.scopes.push(scope.version_key());
        self
    }

    /// An input that selects the result. `None` and `Some("")` are different parts.
    pub fn part<'a>(mut self, value: impl Into<Option<&'a str>>) -> Self {
        self.parts.push(value.into().map(str::to_string));
        self
    }

    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// The version keys to read: the epoch, then the scopes.
    pub(crate) fn version_keys(&self) -> Vec<String> {
        std::iter::once(EPOCH.to_string())
            .chain(self.scopes.iter().cloned())
            .collect()
    }

    /// The entry's key under `versions` (one per version key). Inputs are hashed, with their
    /// lengths, so keys stay short whatever a client sends and no two inputs collide by
    /// concatenation.
    pub(crate) fn entry_key(&self, versions: &[u64]) -> String {
        let mut hasher = Sha256::new();
        let mut field = |bytes: &[u8]| {
            hasher.update((bytes.len() as u64).to_be_bytes());
            hasher.update(bytes);
        };
        for scope in &self.scopes {
            field(scope.as_bytes());
        }
        for version in versions {
            field(&version.to_be_bytes());
        }
        for part in &self.parts {
            match part {
                None => field(&[0]),
                Some(p) => {
                    field(&[1]);
                    field(p.as_bytes());
                }
            }
        }
        format!("{}:{}", self.namespace, hex::encode(hasher.finalize()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Lookup {
        Lookup::new("ns", Duration::from_secs(1)).scope(Scope::Project {
            tenant: "t",
            project: "p",
        })
    }

    #[test]
    fn version_keys_start_with_the_epoch_and_name_their_tenant() {
        let l = base().scope(Scope::Tenant("t"));
        assert_eq!(l.version_keys(), ["epoch", "p:t:p", "t:t"]);
        assert_eq!(
            Scope::Workspace {
                tenant: "a",
                workspace: "b"
            }
            .version_key(),
            "w:a:b"
        );
    }

    #[test]
    fn every_input_changes_the_key() {
        let key = base().part("a").part(None).entry_key(&[1, 2]);
        assert!(key.starts_with("ns:"));
        assert_eq!(key, base().part("a").part(None).entry_key(&[1, 2]));
        let others = [
            base().part("a").part(None).entry_key(&[1, 3]),
            base().part("a").part(None).entry_key(&[2, 2]),
            base().part("a").part("").entry_key(&[1, 2]),
            base().part("b").part(None).entry_key(&[1, 2]),
            base().part(None).part("a").entry_key(&[1, 2]),
            base().part("a").entry_key(&[1, 2]),
            Lookup::new("other", Duration::from_secs(1))
                .scope(Scope::Project {
                    tenant: "t",
                    project: "p",
                })
                .part("a")
                .part(None)
                .entry_key(&[1, 2]),
            Lookup::new("ns", Duration::from_secs(1))
                .scope(Scope::Project {
                    tenant: "t",
                    project: "q",
                })
                .part("a")
                .part(None)
                .entry_key(&[1, 2]),
        ];
        for other in others {
            assert_ne!(key, other);
        }
        // Concatenation cannot make two inputs equal.
        assert_ne!(
            base().part("ab").part("c").entry_key(&[1]),
            base().part("a").part("bc").entry_key(&[1])
        );
    }

    #[test]
    fn keys_stay_short_whatever_the_input() {
        let long = "x".repeat(10_000);
        assert!(base().part(long.as_str()).entry_key(&[1]).len() < 80);
    }
}
