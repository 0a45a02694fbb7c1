//! Scheduled backups. Every `kanri serve` (and `kanri worker`) with `KANRI_BACKUP_CRON` waits
//! for the pattern's next time and enqueues `backup:scheduled` for it with the dedupe key
//! `backup:scheduled:<slot>`, so however many instances share the database, one job exists
//! per slot and one worker takes the backup (the housekeeping job's pattern). The job runs
//! `crate::backup::take` to `KANRI_BACKUP_TO` with `KANRI_BACKUP_KEEP`.

use std::time::Duration;

use serde_json::Value;
use tokio_util::sync::CancellationToken;

use super::{JobError, NewJobSpec, Queue};
use crate::clock::now_ms;
use crate::config::{BackupSchedule, Config};
use crate::db;
use crate::domain::job::{JobKind, ScheduledBackup};
use crate::storage::Storage;

/// A scheduled backup that has not started within this long of its slot is skipped (the
/// next slot takes one), so a queue that was down does not take a burst of them.
const STALE_AFTER_MS: i64 = 6 * 3_600_000;

/// The job for the cron time `slot`.
pub fn backup_spec(slot: i64) -> NewJobSpec<'static> {
    let mut spec = NewJobSpec::of(db::tenants::DEFAULT_TENANT_ID, &ScheduledBackup { slot })
        .dedupe(format!("{}:{slot}", ScheduledBackup::NAME))
        .at(slot);
    spec.max_attempts = 3;
    spec
}

/// Enqueues each slot's job as its time comes, until `stop`.
pub async fn schedule_backups(queue: Queue, schedule: BackupSchedule, stop: CancellationToken) {
    loop {
        let Some(slot) = schedule.next_after(now_ms()) else {
            tracing::warn!(
                cron = schedule.as_str(),
                "the backup schedule names no future time"
            );
            return;
        };
        let wait = Duration::from_millis(u64::try_from(slot - now_ms()).unwrap_or(0));
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            () = stop.cancelled() => return,
        }
        let result = async {
            let mut tx = queue.db.begin().await?;
            super::enqueue(&mut tx, backup_spec(slot)).await?;
            tx.commit().await
        }
        .await;
        match result {
            Ok(()) => queue.wake(),
            Err(error) => tracing::warn!(%error, "could not schedule the backup"),
        }
    }
}

/// Runs one scheduled backup.
pub async fn run(config: &Config, storage: &Storage, args: &Value) -> Result<(), JobError> {
    let job: ScheduledBackup = serde_json::from_value(args.clone())
        .map_err(|e| JobError::Fatal(format!("bad arguments: {e}")))?;
    if now_ms() - job.slot > STALE_AFTER_MS {
        tracing::warn!(
            slot = job.slot,
            "skipping a scheduled backup that is hours late"
        );
        return Ok(());
    }
    let taken = crate::backup::take(config, storage, &config.backup.target, config.backup.keep)
        .await
        .map_err(|e| JobError::Retry(format!("{e:#}")))?;
    tracing::info!(
        name = taken.name,
        location = taken.location,
        bytes = taken.manifest.database.bytes,
        files = taken.manifest.files.count,
        deleted = taken.deleted.len(),
        "scheduled backup taken"
    );
    Ok(())
}
