/// First retry after about this long; each later one waits twice as long.
const BASE_MS: i64 = 2_000;
const CAP_MS: i64 = 60 * 60 * 1000;

/// Delay before retry number `attempt` (1-based): exponential, capped at an hour, with "equal
/// jitter" (between half and all of the delay) so failed jobs do not retry in lockstep.
pub fn backoff_ms(attempt: i64) -> i64 {
    let exponent = u32::try_from(attempt.clamp(1, 32) - 1).unwrap_or(0);
    let delay = BASE_MS
        .saturating_mul(1_i64 << exponent.min(30))
        .min(CAP_MS);
    let half = delay / 2;
    half + rand::random_range(0..=half)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_exponentially_within_jitter_and_caps() {
        for attempt in 1..=20 {
            let full = (BASE_MS << (attempt - 1).min(30)).min(CAP_MS);
            for _ in 0..50 {
                let d = backoff_ms(attempt);
                assert!(d >= full / 2 && d <= full, "attempt {attempt}: {d}");
            }
        }
        assert!(backoff_ms(1000) <= CAP_MS);
        assert!(backoff_ms(-3) >= BASE_MS / 2);
    }
}
