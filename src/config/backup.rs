//! The backup section: where `kanri backup` (and the schedule inside `kanri serve`) writes,
//! how many complete backups it keeps, and when the schedule takes one.

use std::path::PathBuf;

use croner::Cron;
use croner::parser::{CronParser, Seconds, Year};

use super::load::RawConfig;
use super::{ConfigError, Engine, StorageUrl, engine_of, invalid};

/// The default number of complete backups kept.
pub const DEFAULT_BACKUP_KEEP: usize = 7;

#[derive(Debug, Clone)]
pub struct BackupConfig {
    /// `KANRI_BACKUP_TO`: a directory (default `<data_dir>/backups`) or `s3`.
    pub target: BackupTarget,
    /// `KANRI_BACKUP_KEEP`: complete backups kept; older ones go after a new one completes.
    pub keep: usize,
    /// `KANRI_BACKUP_CRON`: when `kanri serve` takes a backup (UTC); none by default.
    pub schedule: Option<BackupSchedule>,
}

/// Where backups go, parsed from `KANRI_BACKUP_TO` or `kanri backup --to`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BackupTarget {
    /// A local directory; each backup is a folder in it.
    Dir(PathBuf),
    /// The configured S3 attachment store, under its `backups/` prefix.
    S3,
}

impl BackupTarget {
    /// `s3` names the attachment bucket; anything else is a directory.
    pub fn parse(value: &str) -> Result<Self, String> {
        let value = value.trim();
        match value {
            "" => Err("must be a directory or s3".into()),
            "s3" | "s3://" => Ok(Self::S3),
            dir => Ok(Self::Dir(dir.strip_prefix("file://").unwrap_or(dir).into())),
        }
    }

    /// Refuses `s3` when attachments are not stored on S3 (there is no bucket to use).
    pub fn check_storage(&self, storage: &StorageUrl) -> Result<(), String> {
        match (self, storage) {
            (Self::S3, StorageUrl::Local(_)) => Err(
                "s3 needs KANRI_STORAGE_URL=s3://bucket/prefix (backups go under its backups/)"
                    .into(),
            ),
            _ => Ok(()),
        }
    }
}

impl std::fmt::Display for BackupTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Dir(dir) => write!(f, "{}", dir.display()),
            Self::S3 => f.write_str("s3"),
        }
    }
}

/// A five-field cron pattern (minute hour day-of-month month day-of-week), in UTC.
#[derive(Debug, Clone)]
pub struct BackupSchedule {
    cron: Cron,
    text: String,
}

impl BackupSchedule {
    pub fn parse(value: &str) -> Result<Self, String> {
        let text = value.trim().to_string();
        let cron = CronParser::builder()
            .seconds(Seconds::Disallowed)
            .year(Year::Disallowed)
            .build()
            .parse(&text)
            .map_err(|e| format!("{text:?} is not a five-field cron pattern: {e}"))?;
        Ok(Self { cron, text })
    }

    /// The first time after `after_ms` (epoch ms) the pattern names, in epoch ms.
    pub fn next_after(&self, after_ms: i64) -> Option<i64> {
        let after = chrono::DateTime::from_timestamp_millis(after_ms)?;
        self.cron
            .find_next_occurrence(&after, false)
            .ok()
            .map(|t| t.timestamp_millis())
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl BackupConfig {
    pub(super) fn from_raw(raw: &RawConfig, storage: &StorageUrl) -> Result<Self, ConfigError> {
        let target = match raw.backup_to.as_deref() {
            Some(text) => BackupTarget::parse(text).map_err(|e| invalid("KANRI_BACKUP_TO", e))?,
            None => BackupTarget::Dir(raw.data_dir.join("backups")),
        };
        target
            .check_storage(storage)
            .map_err(|e| invalid("KANRI_BACKUP_TO", e))?;
        if raw.backup_keep == 0 || raw.backup_keep > 10_000 {
            return Err(invalid("KANRI_BACKUP_KEEP", "must be 1–10000"));
        }
        let schedule = match raw.backup_cron.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(text) => {
                Some(BackupSchedule::parse(text).map_err(|e| invalid("KANRI_BACKUP_CRON", e))?)
            }
        };
        let engine = raw
            .database_url
            .as_ref()
            .map_or(Ok(Engine::Sqlite), |u| engine_of(u.expose()))?;
        if schedule.is_some() && engine == Engine::Postgres {
            return Err(invalid(
                "KANRI_BACKUP_CRON",
                "scheduled backups snapshot the SQLite database; on Postgres use pg_dump \
                 (README, \"Backups and restore\")",
            ));
        }
        Ok(Self {
            target,
            keep: raw.backup_keep,
            schedule,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Config, Secret};
    use super::*;

    #[test]
    fn defaults_keep_seven_in_the_data_dir_with_no_schedule() {
        let c = Config::from_raw(RawConfig::default()).unwrap();
        assert_eq!(c.backup.target, BackupTarget::Dir("./data/backups".into()));
        assert_eq!(c.backup.keep, DEFAULT_BACKUP_KEEP);
        assert!(c.backup.schedule.is_none());
    }

    #[test]
    fn targets_parse() {
        assert_eq!(BackupTarget::parse("s3"), Ok(BackupTarget::S3));
        assert_eq!(
            BackupTarget::parse("/srv/backups"),
            Ok(BackupTarget::Dir("/srv/backups".into()))
        );
        assert_eq!(
            BackupTarget::parse("file:///srv/b"),
            Ok(BackupTarget::Dir("/srv/b".into()))
        );
        assert!(BackupTarget::parse("  ").is_err());
    }

    #[test]
    fn schedules_follow_the_pattern_in_utc() {
        let s = BackupSchedule::parse("30 3 * * *").unwrap();
        // 2026-01-01T00:00:00Z → 03:30 the same day, then the next day.
        let start = 1_767_225_600_000;
        let first = s.next_after(start).unwrap();
        assert_eq!(first, start + (3 * 60 + 30) * 60_000);
        assert_eq!(s.next_after(first).unwrap(), first + 24 * 3_600_000);
        assert!(BackupSchedule::parse("*/15 * * * *").is_ok());
        for bad in ["", "every day", "0 0 * *", "0 0 0 * * * *", "61 * * * *"] {
            assert!(BackupSchedule::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn bad_values_name_their_variable() {
        for (key, adjust) in [
            (
                "KANRI_BACKUP_KEEP",
                (|r: &mut RawConfig| r.backup_keep = 0) as fn(&mut RawConfig),
            ),
            ("KANRI_BACKUP_CRON", |r| {
                r.backup_cron = Some("tomorrow".into())
            }),
            ("KANRI_BACKUP_TO", |r| r.backup_to = Some("s3".into())),
            ("KANRI_BACKUP_CRON", |r| {
                r.backup_cron = Some("0 3 * * *".into());
                r.database_url = Some(Secret::new("postgres://db/kanri".into()));
            }),
        ] {
            let mut r = RawConfig::default();
            adjust(&mut r);
            let err = Config::from_raw(r).unwrap_err().to_string();
            assert!(err.contains(key), "{key}: {err}");
        }
        let r = RawConfig {
            backup_to: Some("s3".into()),
            storage_url: Some("s3://bucket/kanri".into()),
            ..RawConfig::default()
        };
        assert_eq!(Config::from_raw(r).unwrap().backup.target, BackupTarget::S3);
    }
}
