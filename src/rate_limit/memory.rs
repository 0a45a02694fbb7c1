//! The in-process backend: governor's GCRA, one keyed limiter per limit value.
//!
//! governor fixes the quota when a limiter is built, and a tenant's plan may set its own limit,
//! so there is one keyed limiter per distinct limit (a handful: the default, the auth limit and
//! the plans'); a key whose limit changes starts a fresh bucket here, where in Redis the stored
//! TAT carries over to the new limit. Keys no longer limited are dropped every few thousand checks, so memory follows
//! the clients seen in the last minute, not every client ever seen.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DashMapStateStore;
use governor::{Quota, RateLimiter};

use super::gcra::{Decision, decide, interval_us};

type Keyed<C> = RateLimiter<String, DashMapStateStore<String>, C, StateInformationMiddleware>;

/// Checks between sweeps of idle keys.
const SWEEP_EVERY: u64 = 4096;

pub struct Memory<C: Clock = DefaultClock> {
    clock: C,
    limiters: RwLock<HashMap<u32, Arc<Keyed<C>>>>,
    checks: AtomicU64,
}

impl Default for Memory<DefaultClock> {
    fn default() -> Self {
        Self::with_clock(DefaultClock::default())
    }
}

impl<C: Clock + Clone> Memory<C> {
    pub fn with_clock(clock: C) -> Self {
        Self {
            clock,
            limiters: RwLock::default(),
            checks: AtomicU64::new(0),
        }
    }

    fn limiter(&self, limit: NonZeroU32) -> Arc<Keyed<C>> {
        if let Some(found) = self.limiters.read().expect("limiters").get(&limit.get()) {
            return found.clone();
        }
        let mut all = self.limiters.write().expect("limiters");
        all.entry(limit.get())
            .or_insert_with(|| {
                let quota = Quota::with_period(Duration::from_micros(interval_us(limit.get())))
                    .expect("a positive interval")
                    .allow_burst(limit);
                Arc::new(
                    RateLimiter::dashmap_with_clock(quota, self.clock.clone())
                        .with_middleware::<StateInformationMiddleware>(),
                )
            })
            .clone()
    }

    /// Counts one request of `key` against `limit` per minute.
    pub fn check(&self, key: &str, limit: u32) -> Decision {
        let limit = NonZeroU32::new(limit).unwrap_or(NonZeroU32::MIN);
        let limiter = self.limiter(limit);
        let t = interval_us(limit.get());
        let decision = match limiter.check_key(&key.to_string()) {
            Ok(snapshot) => {
                // governor reports the burst left; the TAT is that many intervals short of
                // the full window.
                let used =
                    u64::from(limit.get() - snapshot.remaining_burst_capacity().min(limit.get()));
                decide(limit.get(), true, used * t)
            }
            Err(not_until) => {
                let wait = not_until.wait_time_from(self.clock.now());
                let ahead = wait.as_micros() as u64 + t * u64::from(limit.get() - 1);
                decide(limit.get(), false, ahead)
            }
        };
        if self.checks.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            self.sweep();
        }
        decision
    }

    fn sweep(&self) {
        for limiter in self.limiters.read().expect("limiters").values() {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    }

    /// Keys currently holding state.
    #[cfg(test)]
    fn keys(&self) -> usize {
        self.limiters
            .read()
            .expect("limiters")
            .values()
            .map(|l| l.len())
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use governor::clock::FakeRelativeClock;

    use super::*;

    #[test]
    fn burst_then_refused_with_the_wait() {
        let clock = FakeRelativeClock::default();
        let memory = Memory::with_clock(clock.clone());
        for i in 0..10 {
            let d = memory.check("a", 10);
            assert!(d.allowed, "request {i}");
            assert_eq!(d.remaining, 9 - i);
        }
        let refused = memory.check("a", 10);
        assert!(!refused.allowed);
        assert_eq!(refused.retry_after_secs(), 6);
        assert_eq!(refused.reset_secs(), 60);
        clock.advance(Duration::from_secs(6));
        assert!(memory.check("a", 10).allowed);
        assert!(!memory.check("a", 10).allowed);
    }

    #[test]
    fn keys_and_limits_are_independent() {
        let clock = FakeRelativeClock::default();
        let memory = Memory::with_clock(clock.clone());
        assert!(memory.check("a", 1).allowed);
        assert!(!memory.check("a", 1).allowed);
        assert!(
            memory.check("b", 1).allowed,
            "another key has its own bucket"
        );
        // The same key under a larger limit (a plan upgrade) is a fresh bucket.
        assert!(memory.check("a", 5).allowed);
        assert_eq!(memory.keys(), 3);
        clock.advance(Duration::from_secs(120));
        memory.sweep();
        assert_eq!(memory.keys(), 0, "idle keys are dropped");
    }
}
