//! Backup names and which backups keep-N retention deletes.
//!
//! A backup is named `kanri-backup-<UTC time to the millisecond>` (`kanri-backup-
//! 20260131T170000123Z`), so names sort in the order they were taken. A staging folder is
//! `.partial-<name>`: it never looks like a backup, and retention never touches it.

use chrono::{DateTime, Utc};

pub const PREFIX: &str = "kanri-backup-";
pub const PARTIAL_PREFIX: &str = ".partial-";

/// The name of a backup taken at `at_ms` (epoch ms).
pub fn name_at(at_ms: i64) -> String {
    let at = DateTime::<Utc>::from_timestamp_millis(at_ms).unwrap_or_default();
    format!("{PREFIX}{}", at.format("%Y%m%dT%H%M%S%3fZ"))
}

/// Is `name` a backup's name (not a staging folder, not anything else in the directory)?
pub fn is_backup_name(name: &str) -> bool {
    name.strip_prefix(PREFIX).is_some_and(|rest| {
        rest.len() == 19
            && rest.ends_with('Z')
            && rest[8..9] == *"T"
            && rest[..8].bytes().all(|b| b.is_ascii_digit())
            && rest[9..18].bytes().all(|b| b.is_ascii_digit())
    })
}

/// Of the complete backups named in `complete`, the ones to delete so that the newest `keep`
/// remain, oldest first. Anything not named like a backup is ignored.
pub fn to_delete(complete: &[String], keep: usize) -> Vec<String> {
    let mut names: Vec<&String> = complete.iter().filter(|n| is_backup_name(n)).collect();
    names.sort();
    names.dedup();
    let surplus = names.len().saturating_sub(keep);
    names.into_iter().take(surplus).cloned().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_sort_by_time_and_are_recognised() {
        let a = name_at(1_767_225_600_000);
        assert_eq!(a, "kanri-backup-20260101T000000000Z");
        let b = name_at(1_767_225_600_001);
        assert!(a < b && is_backup_name(&a) && is_backup_name(&b));
        for not in [
            ".partial-kanri-backup-20260101T000000000Z",
            "kanri-backup-",
            "kanri-backup-2026",
            "kanri-backup-20260101X000000000Z",
            "notes.txt",
        ] {
            assert!(!is_backup_name(not), "{not}");
        }
    }

    #[test]
    fn keeps_the_newest_n() {
        let names: Vec<String> = [5, 1, 4, 2, 3]
            .iter()
            .map(|i| name_at(1_767_225_600_000 + i * 1000))
            .collect();
        let doomed = to_delete(&names, 2);
        assert_eq!(
            doomed,
            [1, 2, 3]
                .iter()
                .map(|i| name_at(1_767_225_600_000 + i * 1000))
                .collect::<Vec<_>>()
        );
        assert!(to_delete(&names, 5).is_empty());
        assert!(to_delete(&names, 9).is_empty());
        assert!(to_delete(&["junk".to_string()], 0).is_empty());
    }
}
