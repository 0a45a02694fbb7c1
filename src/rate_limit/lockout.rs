//! Per-account failure windows. [`SIGN_IN`]: after 10 failed sign-ins for one email within 15
//! minutes, every further attempt for that email is refused until the window ends — whether
//! or not an account has that email (so the answer tells nothing), and even with the right
//! password (so guessing cannot go on behind the lock). [`TWO_FACTOR`]: after 5 wrong
//! two-factor codes for one account within 5 minutes, the same. That leaves someone who
//! already has the password at most 1,440 guesses a day, each with about a 3-in-a-million
//! chance (three steps are accepted): roughly 0.4% a day, against certainty within minutes
//! without the limit.
//!
//! The window is fixed from the first failure. Attempts are counted *before* the password is
//! checked and taken back when they were not a failure, so a burst of parallel guesses cannot
//! slip past the count. Keys are a hash of tenant and normalised email: no address is stored.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

/// How many failures a window allows, how long it lasts, and the store's key prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    pub max_failures: u32,
    pub window: Duration,
    pub prefix: &'static str,
}

/// Password sign-ins, per tenant and email.
pub const SIGN_IN: Policy = Policy {
    max_failures: 10,
    window: Duration::from_secs(15 * 60),
    prefix: "acct:",
};

/// Two-factor codes (sign-in, confirmation, disabling), per tenant and user.
pub const TWO_FACTOR: Policy = Policy {
    max_failures: 5,
    window: Duration::from_secs(5 * 60),
    prefix: "2fa:",
};

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
    /// Counts an attempt under `policy`; `Err(retry_after)` while the account is locked.
    /// `key` already carries the policy's prefix.
    pub fn attempt(&self, key: &str, now: Instant, policy: Policy) -> Result<(), Duration> {
        let mut windows = self.windows.lock().expect("lockout windows");
        if windows.len() > SWEEP_ABOVE {
            windows.retain(|_, (_, ends)| *ends > now);
        }
        let entry = windows
            .entry(key.to_string())
            .or_insert((0, now + policy.window));
        if entry.1 <= now {
            *entry = (0, now + policy.window);
        }
        entry.0 += 1;
        if entry.0 > policy.max_failures {
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
        for _ in 0..SIGN_IN.max_failures {
            assert!(windows.attempt("k", start, SIGN_IN).is_ok());
        }
        let later = start + Duration::from_secs(60);
        let locked = windows.attempt("k", later, SIGN_IN).unwrap_err();
        assert_eq!(locked, SIGN_IN.window - Duration::from_secs(60));
        assert!(
            windows.attempt("other", later, SIGN_IN).is_ok(),
            "per account"
        );
        // The window is fixed from the first failure; after it, a fresh count.
        assert!(
            windows
                .attempt("k", start + SIGN_IN.window, SIGN_IN)
                .is_ok()
        );
    }

    #[test]
    fn two_factor_codes_get_five_tries_in_five_minutes() {
        let windows = Windows::default();
        let start = Instant::now();
        for _ in 0..5 {
            assert!(windows.attempt("2fa:k", start, TWO_FACTOR).is_ok());
        }
        let locked = windows.attempt("2fa:k", start, TWO_FACTOR).unwrap_err();
        assert_eq!(locked, Duration::from_secs(300));
        assert!(
            windows
                .attempt("2fa:k", start + TWO_FACTOR.window, TWO_FACTOR)
                .is_ok()
        );
    }

    #[test]
    fn attempts_that_were_no_failure_are_taken_back() {
        let windows = Windows::default();
        let now = Instant::now();
        for _ in 0..50 {
            windows.attempt("k", now, SIGN_IN).unwrap();
            windows.undo("k");
        }
        assert!(windows.attempt("k", now, SIGN_IN).is_ok());
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
