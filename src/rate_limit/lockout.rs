//! Per-account sign-in lockout: after [`MAX_FAILURES`] failed sign-ins for one email within
//! [`WINDOW`], every further attempt for that email is refused until the window ends — whether
//! or not an account has that email (so the answer tells nothing), and even with the right
//! password (so guessing cannot go on behind the lock).
//!
//! The window is fixed from the first failure. Attempts are counted *before* the password is
//! checked and taken back when they were not a failure, so a burst of parallel guesses cannot
//! slip past the count. Keys are a hash of tenant and normalised email: no address is stored.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

pub const MAX_FAILURES: u32 = 10;
pub const WINDOW: Duration = Duration::from_secs(15 * 60);

/// Windows kept in process before expired ones are swept.
const SWEEP_ABOVE: usize = 10_000;

/// The key for one email in one tenant: trimmed and lower-cased, then hashed.
pub fn account_key(tenant_id: &str, email: &str) -> String {
    let mut hash = Sha256::new();
    hash.update(tenant_id.as_bytes());
    hash.update([0]);
    hash.update(email.trim().to_lowercase().as_bytes());
    hex::encode(hash.finalize())
}

/// The in-process failure windows.
#[derive(Default)]
pub struct Windows {
    windows: Mutex<HashMap<String, (u32, Instant)>>,
}

impl Windows {
    /// Counts an attempt; `Err(retry_after)` while the account is locked.
    pub fn attempt(&self, key: &str, now: Instant) -> Result<(), Duration> {
        let mut windows = self.windows.lock().expect("lockout windows");
        if windows.len() > SWEEP_ABOVE {
            windows.retain(|_, (_, ends)| *ends > now);
        }
        let entry = windows.entry(key.to_string()).or_insert((0, now + WINDOW));
        if entry.1 <= now {
            *entry = (0, now + WINDOW);
        }
        entry.0 += 1;
        if entry.0 > MAX_FAILURES {
            Err(entry.1 - now)
        } else {
            Ok(())
        }
    }

    /// Takes back an attempt that was not a failure.
    pub fn undo(&self, key: &str) {
        let mut windows = self.windows.lock().expect("lockout windows");
        if let Some(entry) = windows.get_mut(key) {
            entry.0 = entry.0.saturating_sub(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ten_failures_lock_the_rest_of_the_window() {
        let windows = Windows::default();
        let start = Instant::now();
        for _ in 0..MAX_FAILURES {
            assert!(windows.attempt("k", start).is_ok());
        }
        let later = start + Duration::from_secs(60);
        let locked = windows.attempt("k", later).unwrap_err();
        assert_eq!(locked, WINDOW - Duration::from_secs(60));
        assert!(windows.attempt("other", later).is_ok(), "per account");
        // The window is fixed from the first failure; after it, a fresh count.
        assert!(windows.attempt("k", start + WINDOW).is_ok());
    }

    #[test]
    fn attempts_that_were_no_failure_are_taken_back() {
        let windows = Windows::default();
        let now = Instant::now();
        for _ in 0..50 {
            windows.attempt("k", now).unwrap();
            windows.undo("k");
        }
        assert!(windows.attempt("k", now).is_ok());
    }

    #[test]
    fn the_key_normalises_the_email_and_includes_the_tenant() {
        assert_eq!(
            account_key("t1", " Alice@Example.COM "),
            account_key("t1", "alice@example.com")
        );
        assert_ne!(
            account_key("t1", "alice@example.com"),
            account_key("t2", "alice@example.com")
        );
        assert!(!account_key("t1", "alice@example.com").contains("alice"));
    }
}
