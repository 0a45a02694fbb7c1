//! The GCRA rule (a smooth token bucket): what a check answers, given the state it left.
//!
//! A limit of `L` per minute has an emission interval `T = 60 s / L` and a burst tolerance
//! `τ = (L - 1)·T`, so `L` requests can arrive at once and then one per `T`. The state is one
//! number per key, the *theoretical arrival time* (TAT): a request at `now` conforms when
//! `max(TAT, now) - now ≤ τ`, and then moves the TAT on by `T`. The Redis script
//! (`redis.rs`) is this rule in Lua; governor (`memory.rs`) implements the same algorithm.
//! Both report how far the TAT is ahead of `now` after the check, and [`decide`] turns that
//! into the answer the headers carry.

use std::time::Duration;

/// The window every limit is expressed over.
pub const PERIOD: Duration = Duration::from_secs(60);

/// What one check answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    pub allowed: bool,
    /// The limit per minute this check applied.
    pub limit: u32,
    /// Requests that would still be let through right now.
    pub remaining: u32,
    /// Until the bucket is full again (nothing used).
    pub reset_after: Duration,
    /// Until the next request can be let through; zero when this one was.
    pub retry_after: Duration,
}

/// `T` for `limit` per minute, in microseconds (at least 1).
pub fn interval_us(limit: u32) -> u64 {
    (PERIOD.as_micros() as u64 / u64::from(limit.max(1))).max(1)
}

/// The answer of a check for `limit` per minute that left the TAT `ahead_us` after `now`.
pub fn decide(limit: u32, allowed: bool, ahead_us: u64) -> Decision {
    let limit = limit.max(1);
    let t = interval_us(limit);
    // τ + T: how far ahead the TAT may be after a conforming request.
    let window = t * u64::from(limit);
    if allowed {
        let remaining = window.saturating_sub(ahead_us) / t;
        Decision {
            allowed,
            limit,
            remaining: u32::try_from(remaining).unwrap_or(u32::MAX).min(limit - 1),
            reset_after: Duration::from_micros(ahead_us),
            retry_after: Duration::ZERO,
        }
    } else {
        Decision {
            allowed,
            limit,
            remaining: 0,
            reset_after: Duration::from_micros(ahead_us),
            // Conforming again once the TAT is within τ of now.
            retry_after: Duration::from_micros(ahead_us.saturating_sub(window - t).max(1)),
        }
    }
}

impl Decision {
    /// `RateLimit-Reset`: whole seconds, rounded up.
    pub fn reset_secs(&self) -> u64 {
        ceil_secs(self.reset_after)
    }

    /// `Retry-After`: whole seconds, rounded up, at least 1.
    pub fn retry_after_secs(&self) -> u64 {
        ceil_secs(self.retry_after).max(1)
    }
}

fn ceil_secs(d: Duration) -> u64 {
    d.as_micros().div_ceil(1_000_000) as u64
}

/// One step of the rule on a stored TAT, as the Lua script does it: whether a request at
/// `now_us` conforms, and the TAT to store (unchanged when it does not).
#[cfg(test)]
pub fn step(stored_tat: Option<u64>, now_us: u64, limit: u32) -> (bool, u64) {
    let t = interval_us(limit);
    let tau = t * u64::from(limit.max(1) - 1);
    let tat = stored_tat.unwrap_or(now_us).max(now_us);
    if tat - now_us <= tau {
        (true, tat + t)
    } else {
        (false, tat)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(limit: u32, times: &[u64]) -> Vec<Decision> {
        let mut tat = None;
        times
            .iter()
            .map(|&now| {
                let (allowed, next) = step(tat, now, limit);
                tat = Some(next);
                decide(limit, allowed, next - now)
            })
            .collect()
    }

    #[test]
    fn a_full_burst_then_one_per_interval() {
        // 60 per minute: T = 1 s. Sixty at once, the 61st refused for a second.
        let at_once = vec![0; 61];
        let answers = run(60, &at_once);
        assert!(answers[..60].iter().all(|d| d.allowed));
        assert_eq!(answers[0].remaining, 59);
        assert_eq!(answers[59].remaining, 0);
        let refused = answers[60];
        assert!(!refused.allowed);
        assert_eq!(refused.retry_after, Duration::from_secs(1));
        assert_eq!(refused.retry_after_secs(), 1);
        assert_eq!(refused.reset_secs(), 60);
    }

    #[test]
    fn the_bucket_refills_smoothly_not_per_window() {
        let mut times = vec![0; 10];
        // 10 per minute: T = 6 s. After 6 s exactly one more; after 60 s the whole burst.
        times.push(6_000_000);
        times.push(6_000_000);
        let answers = run(10, &times);
        assert!(answers[..10].iter().all(|d| d.allowed));
        assert!(answers[10].allowed, "one interval later one fits");
        assert!(!answers[11].allowed, "but only one");
        assert_eq!(answers[11].retry_after, Duration::from_secs(6));
        let (allowed, tat) = step(Some(60_000_000), 120_000_000, 10);
        assert!(allowed);
        assert_eq!(decide(10, allowed, tat - 120_000_000).remaining, 9);
    }

    #[test]
    fn a_limit_of_one_and_rounding() {
        let answers = run(1, &[0, 1, 60_000_000]);
        assert!(answers[0].allowed && !answers[1].allowed && answers[2].allowed);
        assert_eq!(answers[0].remaining, 0);
        assert_eq!(answers[1].retry_after_secs(), 60);
        // Sub-second waits round up, never to zero.
        let d = decide(1000, false, 60_000_001 - 60_000);
        assert_eq!(d.retry_after_secs(), 1);
    }

    #[test]
    fn refused_requests_do_not_move_the_tat() {
        let mut tat = None;
        for _ in 0..5 {
            tat = Some(step(tat, 0, 5).1);
        }
        let before = tat.unwrap();
        let (allowed, after) = step(tat, 0, 5);
        assert!(!allowed);
        assert_eq!(after, before);
    }
}
