//! Plans, subscriptions and quotas as values: a plan's key and limits, a subscription's
//! status, the resources a plan limits, and the one quota rule.

use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc};
use serde::{Deserialize, Serialize};

use super::FieldError;

/// The plan every tenant has and every new workspace starts on.
pub const DEFAULT_PLAN_KEY: &str = "free";

const MAX_KEY_CHARS: usize = 64;
const MAX_FEATURES: usize = 64;
const MAX_FEATURE_CHARS: usize = 100;

/// A plan's key: 1–64 characters of `a-z 0-9 _ - .`, unique in the tenant.
pub fn parse_plan_key(field: &str, input: &str) -> Result<String, FieldError> {
    let key = input.trim();
    let ok = !key.is_empty()
        && key.len() <= MAX_KEY_CHARS
        && key
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_-.".contains(&b));
    if ok {
        Ok(key.to_string())
    } else {
        Err(FieldError::new(
            field,
            "must be 1–64 characters of a-z, 0-9, '_', '-' and '.'",
        ))
    }
}

/// Feature flags: at most 64 distinct, non-empty names of at most 100 characters, kept in the
/// order given.
pub fn parse_features(field: &str, input: &[String]) -> Result<Vec<String>, FieldError> {
    if input.len() > MAX_FEATURES {
        return Err(FieldError::new(field, "must list at most 64 features"));
    }
    let mut out: Vec<String> = Vec::with_capacity(input.len());
    for feature in input {
        let f = feature.trim();
        if f.is_empty() || f.chars().count() > MAX_FEATURE_CHARS || f.chars().any(char::is_control)
        {
            return Err(FieldError::new(
                field,
                "each feature must be 1–100 characters without control characters",
            ));
        }
        if !out.iter().any(|o| o == f) {
            out.push(f.to_string());
        }
    }
    Ok(out)
}

/// What a plan allows; `None` is unlimited.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct Limits {
    pub projects: Option<i64>,
    pub members: Option<i64>,
    pub storage_bytes: Option<i64>,
    pub api_calls_per_month: Option<i64>,
    pub rate_limit_per_minute: Option<i64>,
}

impl Limits {
    /// Every limit must be a whole number ≥ 0 (0 blocks all new creates); a rate limit ≥ 1.
    pub fn check(self, field: &str) -> Result<Self, FieldError> {
        let counts = [
            self.projects,
            self.members,
            self.storage_bytes,
            self.api_calls_per_month,
        ];
        if counts.into_iter().flatten().any(|v| v < 0) {
            return Err(FieldError::new(field, "limits must be 0 or more"));
        }
        if self
            .rate_limit_per_minute
            .is_some_and(|v| !(1..=i64::from(u32::MAX)).contains(&v))
        {
            return Err(FieldError::new(
                field,
                "rate_limit_per_minute must be 1 or more",
            ));
        }
        Ok(self)
    }

    pub fn of(&self, resource: Resource) -> Option<i64> {
        match resource {
            Resource::Projects => self.projects,
            Resource::Members => self.members,
            Resource::StorageBytes => self.storage_bytes,
            Resource::ApiCalls => self.api_calls_per_month,
        }
    }
}

/// A subscription's state, as Stripe names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SubscriptionStatus {
    Trialing,
    Active,
    PastDue,
    Canceled,
}

impl SubscriptionStatus {
    pub const ALL: [Self; 4] = [Self::Trialing, Self::Active, Self::PastDue, Self::Canceled];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Trialing => "trialing",
            Self::Active => "active",
            Self::PastDue => "past_due",
            Self::Canceled => "canceled",
        }
    }

    pub fn parse(field: &str, input: &str) -> Result<Self, FieldError> {
        let wanted = input.trim().to_ascii_lowercase();
        Self::ALL
            .into_iter()
            .find(|s| s.as_str() == wanted)
            .ok_or_else(|| {
                FieldError::new(field, "must be one of trialing, active, past_due, canceled")
            })
    }

    /// A Stripe subscription status mapped onto ours: Stripe's `unpaid` and `incomplete` are
    /// unpaid (`past_due`), `incomplete_expired` and `paused` end access (`canceled`).
    pub fn from_stripe(status: &str) -> Option<Self> {
        match status {
            "trialing" => Some(Self::Trialing),
            "active" => Some(Self::Active),
            "past_due" | "unpaid" | "incomplete" => Some(Self::PastDue),
            "canceled" | "incomplete_expired" | "paused" => Some(Self::Canceled),
            _ => None,
        }
    }

    pub fn from_db(s: &str) -> Self {
        Self::parse("", s).unwrap_or_else(|_| panic!("invalid subscription status in db: {s:?}"))
    }
}

/// What a plan limits, by the name clients see in usage and in `quota_exceeded` details.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Resource {
    Projects,
    Members,
    StorageBytes,
    ApiCalls,
}

impl Resource {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Projects => "projects",
            Self::Members => "members",
            Self::StorageBytes => "storage_bytes",
            Self::ApiCalls => "api_calls",
        }
    }
}

/// A create that would take `resource` over its limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuotaExceeded {
    pub resource: Resource,
    pub limit: i64,
    pub used: i64,
}

/// The quota rule: adding `adding` to `used` must stay within `limit` (none = unlimited).
/// Usage already over a lowered limit is kept; only growth is refused.
pub fn check_quota(
    resource: Resource,
    limit: Option<i64>,
    used: i64,
    adding: i64,
) -> Result<(), QuotaExceeded> {
    match limit {
        Some(limit) if used.saturating_add(adding) > limit => Err(QuotaExceeded {
            resource,
            limit,
            used,
        }),
        _ => Ok(()),
    }
}

/// The UTC day of an epoch-ms time, as usage rows store it (`YYYY-MM-DD`).
pub fn day_of(ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms)
        .unwrap_or_default()
        .format("%Y-%m-%d")
        .to_string()
}

/// Midnight UTC at the start of the calendar month holding `ms`.
pub fn month_start(ms: i64) -> i64 {
    let t = DateTime::<Utc>::from_timestamp_millis(ms).unwrap_or_default();
    Utc.with_ymd_and_hms(t.year(), t.month(), 1, 0, 0, 0)
        .single()
        .map_or(0, |d| d.timestamp_millis())
}

/// Midnight UTC at the start of the month after the one holding `ms`.
pub fn next_month_start(ms: i64) -> i64 {
    let t = DateTime::<Utc>::from_timestamp_millis(ms).unwrap_or_default();
    let (y, m) = if t.month() == 12 {
        (t.year() + 1, 1)
    } else {
        (t.year(), t.month() + 1)
    };
    Utc.with_ymd_and_hms(y, m, 1, 0, 0, 0)
        .single()
        .map_or(i64::MAX, |d| d.timestamp_millis())
}

/// The longest subscription period the monthly API-call allowance is counted over.
pub const MAX_ALLOWANCE_PERIOD_MS: i64 = 31 * 24 * 3_600_000;

/// The billing period holding `now`: the subscription's own `[start, end)` when it holds
/// `now` and is at most 31 days long, else the calendar month (UTC). API calls are counted
/// against this period, so a yearly plan's allowance stays monthly, and an unknown start
/// (0 or less) never makes the count cover years.
pub fn period_at(now: i64, start: i64, end: Option<i64>) -> (i64, i64) {
    match end {
        Some(end)
            if start > 0
                && start <= now
                && now < end
                && end.saturating_sub(start) <= MAX_ALLOWANCE_PERIOD_MS =>
        {
            (start, end)
        }
        _ => (month_start(now), next_month_start(now)),
    }
}

/// The longest range of daily records one request may ask for.
pub const MAX_RECORD_DAYS: i64 = 366;

/// Parses the `from`/`to` of a usage-records query: `YYYY-MM-DD` days, `from` ≤ `to`, at most
/// 366 days. Missing ends default to the last 30 days up to `today`.
pub fn parse_day_range(
    from: Option<&str>,
    to: Option<&str>,
    today: &str,
) -> Result<(String, String), Vec<FieldError>> {
    // chrono accepts years far outside what anyone means (`-262144-01-01`), where the
    // 30-day default arithmetic below would overflow: only 1970..=9999 is a usage day.
    let day = |field: &str, s: &str| {
        NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
            .ok()
            .filter(|d| (1970..=9999).contains(&d.year()))
            .ok_or_else(|| FieldError::new(field, "must be a YYYY-MM-DD date in 1970..=9999"))
    };
    let today = day("to", today).map_err(|e| vec![e])?;
    let to_day = to.map(|s| day("to", s)).transpose();
    let from_day = from.map(|s| day("from", s)).transpose();
    let (from_day, to_day) = match (from_day, to_day) {
        (Ok(f), Ok(t)) => (f, t),
        (f, t) => return Err([f.err(), t.err()].into_iter().flatten().collect()),
    };
    let to_day = to_day.unwrap_or(today);
    let from_day = match from_day {
        Some(f) => f,
        None => to_day
            .checked_sub_signed(chrono::Duration::days(29))
            .ok_or_else(|| vec![FieldError::new("to", "is too early")])?,
    };
    if from_day > to_day {
        return Err(vec![FieldError::new("from", "must not be after to")]);
    }
    if (to_day - from_day).num_days() >= MAX_RECORD_DAYS {
        return Err(vec![FieldError::new(
            "from",
            "the range may span at most 366 days",
        )]);
    }
    let fmt = |d: NaiveDate| d.format("%Y-%m-%d").to_string();
    Ok((fmt(from_day), fmt(to_day)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quota_allows_up_to_the_limit_and_keeps_usage_over_a_lowered_one() {
        let r = Resource::Projects;
        assert!(check_quota(r, None, 1_000, 1).is_ok());
        assert!(check_quota(r, Some(3), 2, 1).is_ok());
        assert_eq!(
            check_quota(r, Some(3), 3, 1),
            Err(QuotaExceeded {
                resource: r,
                limit: 3,
                used: 3
            })
        );
        // Downgraded below usage: nothing is removed, growth is refused.
        assert_eq!(check_quota(r, Some(1), 5, 1).unwrap_err().used, 5);
        assert!(check_quota(Resource::StorageBytes, Some(10), 4, 7).is_err());
        assert!(check_quota(Resource::StorageBytes, Some(10), 4, 6).is_ok());
    }

    #[test]
    fn keys_features_and_limits_are_checked() {
        assert_eq!(parse_plan_key("key", " pro-2026 ").unwrap(), "pro-2026");
        for bad in ["", "Pro", "has space", &"a".repeat(65)] {
            assert!(parse_plan_key("key", bad).is_err(), "{bad}");
        }
        assert_eq!(
            parse_features("f", &["a".into(), "b".into(), "a".into()]).unwrap(),
            ["a", "b"]
        );
        assert!(parse_features("f", &[" ".into()]).is_err());
        let neg = Limits {
            projects: Some(-1),
            ..Limits::default()
        };
        assert!(neg.check("limits").is_err());
        let zero_rate = Limits {
            rate_limit_per_minute: Some(0),
            ..Limits::default()
        };
        assert!(zero_rate.check("limits").is_err());
        assert!(Limits::default().check("limits").is_ok());
    }

    #[test]
    fn statuses_parse_and_map_from_stripe() {
        assert_eq!(
            SubscriptionStatus::parse("s", "PAST_DUE").unwrap(),
            SubscriptionStatus::PastDue
        );
        assert!(SubscriptionStatus::parse("s", "paused").is_err());
        assert_eq!(
            SubscriptionStatus::from_stripe("unpaid"),
            Some(SubscriptionStatus::PastDue)
        );
        assert_eq!(SubscriptionStatus::from_stripe("weird"), None);
        for s in SubscriptionStatus::ALL {
            assert_eq!(SubscriptionStatus::from_db(s.as_str()), s);
        }
    }

    #[test]
    fn days_months_and_periods() {
        // 2026-01-31T17:00:00Z
        let t = 1_769_878_800_000;
        assert_eq!(day_of(t), "2026-01-31");
        assert_eq!(month_start(t), 1_767_225_600_000); // 2026-01-01
        assert_eq!(next_month_start(t), 1_769_904_000_000); // 2026-02-01
        assert_eq!(period_at(t, 0, None), (month_start(t), next_month_start(t)));
        assert_eq!(period_at(t, t - 5, Some(t + 5)), (t - 5, t + 5));
        // An ended period falls back to the calendar month.
        assert_eq!(period_at(t, 0, Some(t)).0, month_start(t));
    }

    #[test]
    fn api_calls_count_over_a_short_period_else_the_calendar_month() {
        let day = 24 * 3_600_000;
        let at = |d: &str| {
            NaiveDate::parse_from_str(d, "%Y-%m-%d")
                .unwrap()
                .and_hms_opt(0, 0, 0)
                .unwrap()
                .and_utc()
                .timestamp_millis()
        };
        let now = at("2026-03-15") + 5;
        let march = (at("2026-03-01"), at("2026-04-01"));
        let start = at("2026-03-10");
        // A monthly period holding now is its own.
        assert_eq!(
            period_at(now, start, Some(start + 30 * day)),
            (start, start + 30 * day)
        );
        assert_eq!(
            period_at(now, start, Some(start + 31 * day)),
            (start, start + 31 * day)
        );
        // Longer (a yearly plan), unknown start, no end, or not holding now: the month.
        assert_eq!(period_at(now, start, Some(start + 31 * day + 1)), march);
        assert_eq!(period_at(now, start, Some(start + 365 * day)), march);
        assert_eq!(period_at(now, 0, Some(now + day)), march);
        assert_eq!(period_at(now, start, None), march);
        assert_eq!(period_at(now, start, Some(now)), march);
    }

    #[test]
    fn day_ranges_are_bounded_and_ordered() {
        assert_eq!(
            parse_day_range(None, None, "2026-03-31").unwrap(),
            ("2026-03-02".into(), "2026-03-31".into())
        );
        assert_eq!(
            parse_day_range(Some("2026-01-01"), Some("2026-01-01"), "2026-03-31").unwrap(),
            ("2026-01-01".into(), "2026-01-01".into())
        );
        assert!(parse_day_range(Some("2026-02-01"), Some("2026-01-01"), "2026-03-31").is_err());
        // 366 days (both ends included) is the most.
        assert!(parse_day_range(Some("2025-01-01"), Some("2026-01-01"), "2026-03-31").is_ok());
        assert!(parse_day_range(Some("2024-12-31"), Some("2026-01-01"), "2026-03-31").is_err());
        let both = parse_day_range(Some("x"), Some("2026-13-01"), "2026-03-31").unwrap_err();
        assert_eq!(both.len(), 2);
        // Outside 1970..=9999: refused, naming the field, never an overflow.
        for to in [
            "-262144-01-01",
            "+262143-12-31",
            "1969-12-31",
            "10000-01-01",
        ] {
            let e = parse_day_range(None, Some(to), "2026-03-31").unwrap_err();
            assert_eq!(e[0].field, "to", "{to}");
        }
    }
}
