//! A task's repeat rule: the RFC 5545 RRULE subset teams use for chores and rituals —
//! `FREQ=DAILY|WEEKLY|MONTHLY|YEARLY`, `INTERVAL`, `BYDAY` (weekly), `BYMONTHDAY` (monthly,
//! negative counts from the month's end) and `UNTIL`. Occurrences keep the time of day of the
//! one they follow, in UTC; a day a month lacks (the 31st in April) is skipped, as RFC 5545
//! says, not moved.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Utc, Weekday};

use super::FieldError;

const MAX_INTERVAL: u32 = 999;
/// Candidate periods tried before a rule is taken to have no further occurrence (a
/// `BYMONTHDAY=31` rule every 2 months from a month that lacks it cycles through at most 12).
const MAX_PERIODS: u32 = 5_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frequency {
    Daily,
    Weekly,
    Monthly,
    Yearly,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recurrence {
    pub frequency: Frequency,
    pub interval: u32,
    /// Weekly only: the weekdays it falls on (empty: the weekday of the occurrence it follows).
    pub by_day: Vec<Weekday>,
    /// Monthly only: the day of the month (1–31, or −1 for the last day … −31).
    pub by_month_day: Option<i32>,
    /// No occurrence after this instant.
    pub until: Option<DateTime<Utc>>,
}

impl Recurrence {
    /// Parses `FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,TH` (an optional `RRULE:` prefix, any case).
    pub fn parse(field: &str, input: &str) -> Result<Self, FieldError> {
        let bad = |why: String| FieldError::new(field, why);
        let text = input.trim();
        let text = text
            .strip_prefix("RRULE:")
            .or_else(|| text.strip_prefix("rrule:"))
            .unwrap_or(text);
        if text.is_empty() || text.len() > 200 {
            return Err(bad("must be an RRULE such as FREQ=WEEKLY;BYDAY=MO".into()));
        }
        let (mut frequency, mut interval, mut by_day, mut by_month_day, mut until) =
            (None, 1, Vec::new(), None, None);
        for part in text.split(';').filter(|p| !p.is_empty()) {
            let (key, value) = part
                .split_once('=')
                .ok_or_else(|| bad(format!("`{part}` is not KEY=VALUE")))?;
            let value = value.to_ascii_uppercase();
            match key.to_ascii_uppercase().as_str() {
                "FREQ" => {
                    frequency = Some(match value.as_str() {
                        "DAILY" => Frequency::Daily,
                        "WEEKLY" => Frequency::Weekly,
                        "MONTHLY" => Frequency::Monthly,
                        "YEARLY" => Frequency::Yearly,
                        _ => {
                            return Err(
                                bad("FREQ must be DAILY, WEEKLY, MONTHLY or YEARLY".into()),
                            );
                        }
                    })
                }
                "INTERVAL" => {
                    interval = value
                        .parse()
                        .ok()
                        .filter(|n| (1..=MAX_INTERVAL).contains(n))
                        .ok_or_else(|| bad(format!("INTERVAL must be 1–{MAX_INTERVAL}")))?
                }
                "BYDAY" => {
                    by_day = value
                        .split(',')
                        .map(weekday)
                        .collect::<Option<Vec<_>>>()
                        .ok_or_else(|| bad("BYDAY takes MO,TU,WE,TH,FR,SA,SU".into()))?;
                    by_day.sort_by_key(Weekday::num_days_from_monday);
                    by_day.dedup();
                }
                "BYMONTHDAY" => {
                    by_month_day = Some(
                        value
                            .parse::<i32>()
                            .ok()
                            .filter(|d| (1..=31).contains(&d.abs()))
                            .ok_or_else(|| bad("BYMONTHDAY must be 1–31 or −1–−31".into()))?,
                    )
                }
                "UNTIL" => {
                    until =
                        Some(parse_until(&value).ok_or_else(|| {
                            bad("UNTIL must be YYYYMMDD or YYYYMMDDTHHMMSSZ".into())
                        })?)
                }
                "WKST" if value == "MO" => {}
                other => {
                    return Err(bad(format!(
                        "`{other}` is not supported (FREQ, INTERVAL, BYDAY, BYMONTHDAY, UNTIL are)"
                    )));
                }
            }
        }
        let frequency = frequency.ok_or_else(|| bad("FREQ is required".into()))?;
        if !by_day.is_empty() && frequency != Frequency::Weekly {
            return Err(bad("BYDAY goes with FREQ=WEEKLY".into()));
        }
        if by_month_day.is_some() && frequency != Frequency::Monthly {
            return Err(bad("BYMONTHDAY goes with FREQ=MONTHLY".into()));
        }
        Ok(Self {
            frequency,
            interval,
            by_day,
            by_month_day,
            until,
        })
    }

    /// The rule in canonical form, as stored and shown.
    pub fn to_rule(&self) -> String {
        let mut rule = format!(
            "FREQ={}",
            match self.frequency {
                Frequency::Daily => "DAILY",
                Frequency::Weekly => "WEEKLY",
                Frequency::Monthly => "MONTHLY",
                Frequency::Yearly => "YEARLY",
            }
        );
        if self.interval != 1 {
            rule += &format!(";INTERVAL={}", self.interval);
        }
        if !self.by_day.is_empty() {
            let days: Vec<_> = self.by_day.iter().map(|d| day_code(*d)).collect();
            rule += &format!(";BYDAY={}", days.join(","));
        }
        if let Some(day) = self.by_month_day {
            rule += &format!(";BYMONTHDAY={day}");
        }
        if let Some(until) = self.until {
            rule += &format!(";UNTIL={}", until.format("%Y%m%dT%H%M%SZ"));
        }
        rule
    }

    /// The first occurrence of the series through `anchor` (the occurrence just completed)
    /// that is later than both `anchor` and `not_before`: a chore done late is next due in
    /// the future, not in a backlog of missed dates. `None` once the series has ended.
    pub fn next_after(
        &self,
        anchor: DateTime<Utc>,
        not_before: DateTime<Utc>,
    ) -> Option<DateTime<Utc>> {
        let floor = anchor.max(not_before);
        let time = anchor.time();
        let day = anchor.date_naive();
        let step = i64::from(self.interval);
        let next = (0..MAX_PERIODS).find_map(|k| {
            let k = i64::from(k);
            let candidates: Vec<NaiveDate> = match self.frequency {
                Frequency::Daily => vec![day + Duration::days(k * step)],
                Frequency::Weekly => {
                    let monday =
                        day - Duration::days(i64::from(day.weekday().num_days_from_monday()));
                    let week = monday + Duration::weeks(k * step);
                    let days = if self.by_day.is_empty() {
                        vec![day.weekday()]
                    } else {
                        self.by_day.clone()
                    };
                    days.iter()
                        .map(|d| week + Duration::days(i64::from(d.num_days_from_monday())))
                        .collect()
                }
                Frequency::Monthly => {
                    let months = i64::from(day.month0()) + k * step;
                    let year = day.year() + i32::try_from(months / 12).ok()?;
                    let month = u32::try_from(months % 12).ok()? + 1;
                    month_day(year, month, self.by_month_day.unwrap_or(day.day() as i32))
                        .into_iter()
                        .collect()
                }
                Frequency::Yearly => {
                    let year = day.year() + i32::try_from(k * step).ok()?;
                    NaiveDate::from_ymd_opt(year, day.month(), day.day())
                        .into_iter()
                        .collect()
                }
            };
            candidates
                .into_iter()
                .map(|d| at(d, time))
                .find(|t| *t > floor)
        })?;
        match self.until {
            Some(until) if next > until => None,
            _ => Some(next),
        }
    }
}

fn at(day: NaiveDate, time: NaiveTime) -> DateTime<Utc> {
    Utc.from_utc_datetime(&day.and_time(time))
}

/// The `day`th day of the month (negative: from its end), if the month has it.
fn month_day(year: i32, month: u32, day: i32) -> Option<NaiveDate> {
    let first = NaiveDate::from_ymd_opt(year, month, 1)?;
    let days_in_month = first
        .checked_add_months(chrono::Months::new(1))?
        .signed_duration_since(first)
        .num_days() as i32;
    let day = if day < 0 {
        days_in_month + 1 + day
    } else {
        day
    };
    (1..=days_in_month)
        .contains(&day)
        .then(|| NaiveDate::from_ymd_opt(year, month, day as u32))
        .flatten()
}

fn weekday(code: &str) -> Option<Weekday> {
    Some(match code.trim() {
        "MO" => Weekday::Mon,
        "TU" => Weekday::Tue,
        "WE" => Weekday::Wed,
        "TH" => Weekday::Thu,
        "FR" => Weekday::Fri,
        "SA" => Weekday::Sat,
        "SU" => Weekday::Sun,
        _ => return None,
    })
}

fn day_code(day: Weekday) -> &'static str {
    match day {
        Weekday::Mon => "MO",
        Weekday::Tue => "TU",
        Weekday::Wed => "WE",
        Weekday::Thu => "TH",
        Weekday::Fri => "FR",
        Weekday::Sat => "SA",
        Weekday::Sun => "SU",
    }
}

/// `UNTIL` as a date (the end of that day, UTC) or a UTC date-time.
fn parse_until(value: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = chrono::NaiveDateTime::parse_from_str(value, "%Y%m%dT%H%M%SZ") {
        return Some(Utc.from_utc_datetime(&t));
    }
    let day = NaiveDate::parse_from_str(value, "%Y%m%d").ok()?;
    Some(at(day, NaiveTime::from_hms_opt(23, 59, 59)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn next(rule: &str, anchor: &str, now: &str) -> Option<String> {
        Recurrence::parse("recurrence", rule)
            .unwrap()
            .next_after(t(anchor), t(now))
            .map(|d| d.to_rfc3339())
    }

    #[test]
    fn parses_the_subset_and_prints_it_canonically() {
        let r = Recurrence::parse("r", "rrule:freq=weekly;interval=2;byday=th,mo,MO").unwrap();
        assert_eq!(r.to_rule(), "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,TH");
        assert_eq!(
            Recurrence::parse("r", "FREQ=MONTHLY;BYMONTHDAY=-1;UNTIL=20270101")
                .unwrap()
                .to_rule(),
            "FREQ=MONTHLY;BYMONTHDAY=-1;UNTIL=20270101T235959Z"
        );
        for bad in [
            "",
            "INTERVAL=2",
            "FREQ=HOURLY",
            "FREQ=DAILY;INTERVAL=0",
            "FREQ=DAILY;INTERVAL=1000",
            "FREQ=DAILY;BYDAY=MO",
            "FREQ=WEEKLY;BYDAY=XX",
            "FREQ=WEEKLY;BYMONTHDAY=3",
            "FREQ=MONTHLY;BYMONTHDAY=32",
            "FREQ=MONTHLY;BYMONTHDAY=0",
            "FREQ=DAILY;COUNT=3",
            "FREQ=DAILY;UNTIL=tomorrow",
            "FREQ",
        ] {
            assert!(Recurrence::parse("r", bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn daily_and_every_n_days_keep_the_time_of_day() {
        let anchor = "2026-03-10T09:30:00+00:00";
        assert_eq!(
            next("FREQ=DAILY", anchor, anchor).as_deref(),
            Some("2026-03-11T09:30:00+00:00")
        );
        assert_eq!(
            next("FREQ=DAILY;INTERVAL=3", anchor, anchor).as_deref(),
            Some("2026-03-13T09:30:00+00:00")
        );
    }

    #[test]
    fn a_late_completion_skips_the_missed_dates() {
        // Due on the 10th, done on the 20th: next is the 21st, not the 11th.
        assert_eq!(
            next(
                "FREQ=DAILY",
                "2026-03-10T09:00:00+00:00",
                "2026-03-20T12:00:00+00:00"
            )
            .as_deref(),
            Some("2026-03-21T09:00:00+00:00")
        );
    }

    #[test]
    fn weekly_on_given_days() {
        // 2026-03-10 is a Tuesday.
        let anchor = "2026-03-10T08:00:00+00:00";
        assert_eq!(
            next("FREQ=WEEKLY;BYDAY=MO,TH", anchor, anchor).as_deref(),
            Some("2026-03-12T08:00:00+00:00")
        );
        assert_eq!(
            next("FREQ=WEEKLY;BYDAY=MO", anchor, anchor).as_deref(),
            Some("2026-03-16T08:00:00+00:00")
        );
        // Every other week: the Monday of the week after next.
        assert_eq!(
            next("FREQ=WEEKLY;INTERVAL=2;BYDAY=MO", anchor, anchor).as_deref(),
            Some("2026-03-23T08:00:00+00:00")
        );
        // Without BYDAY, the anchor's weekday.
        assert_eq!(
            next("FREQ=WEEKLY", anchor, anchor).as_deref(),
            Some("2026-03-17T08:00:00+00:00")
        );
    }

    #[test]
    fn monthly_skips_months_without_the_day_and_counts_from_the_end() {
        let jan31 = "2026-01-31T10:00:00+00:00";
        assert_eq!(
            next("FREQ=MONTHLY", jan31, jan31).as_deref(),
            Some("2026-03-31T10:00:00+00:00")
        );
        assert_eq!(
            next("FREQ=MONTHLY;BYMONTHDAY=-1", jan31, jan31).as_deref(),
            Some("2026-02-28T10:00:00+00:00")
        );
        assert_eq!(
            next(
                "FREQ=MONTHLY;BYMONTHDAY=15",
                "2026-11-20T10:00:00+00:00",
                "2026-11-20T10:00:00+00:00"
            )
            .as_deref(),
            Some("2026-12-15T10:00:00+00:00")
        );
        assert_eq!(
            next(
                "FREQ=MONTHLY;INTERVAL=3",
                "2026-11-05T10:00:00+00:00",
                "2026-11-05T10:00:00+00:00"
            )
            .as_deref(),
            Some("2027-02-05T10:00:00+00:00")
        );
    }

    #[test]
    fn yearly_and_until() {
        let leap = "2028-02-29T00:00:00+00:00";
        assert_eq!(
            next("FREQ=YEARLY", leap, leap).as_deref(),
            Some("2032-02-29T00:00:00+00:00")
        );
        let anchor = "2026-03-10T08:00:00+00:00";
        assert_eq!(next("FREQ=DAILY;UNTIL=20260310", anchor, anchor), None);
        assert_eq!(
            next("FREQ=DAILY;UNTIL=20260311", anchor, anchor).as_deref(),
            Some("2026-03-11T08:00:00+00:00")
        );
    }
}
