//! `attachments:purge`: deletes the stored objects of attachments marked deleted (with their
//! attachment, task or project), then their rows. Enqueued in the deleting transaction, so a
//! committed delete always gets its purge; an object already gone counts as deleted, so a
//! retried run is harmless. Housekeeping also sweeps attachments whose task vanished without
//! marking them (a deleted workspace) and anything a failed purge left.

use crate::domain::job::{JobKind, PurgeFiles};

use super::{JobError, NewJobSpec};
use crate::clock::now_ms;
use crate::db::{self, Db};
use crate::storage::Storage;

/// Rows read per batch.
const BATCH: i64 = 100;

/// The purge for one cause (`attachment:{id}`, `task:{id}`, `project:{id}`).
pub fn purge_spec<'a>(tenant_id: &'a str, cause: &str) -> NewJobSpec<'a> {
    let job = PurgeFiles {
        cause: cause.to_string(),
    };
    NewJobSpec::of(tenant_id, &job).dedupe(format!("{}:{cause}", PurgeFiles::NAME))
}

/// Purges every marked attachment of the tenant; returns how many went.
pub async fn purge(db: &Db, storage: &Storage, tenant_id: &str) -> Result<usize, JobError> {
    let mut purged = 0;
    loop {
        let rows = db::attachments::purgeable(db.read(), tenant_id, BATCH).await?;
        if rows.is_empty() {
            return Ok(purged);
        }
        purged += purge_rows(db, storage, rows).await?;
    }
}

/// Marks attachments whose task is gone, then purges every marked one of every tenant.
pub async fn sweep(db: &Db, storage: &Storage) -> Result<(u64, usize), JobError> {
    let orphans = db::attachments::mark_orphans(db.write(), now_ms()).await?;
    let mut purged = 0;
    loop {
        let rows = db::attachments::purgeable_everywhere(db.read(), BATCH).await?;
        if rows.is_empty() {
            return Ok((orphans, purged));
        }
        purged += purge_rows(db, storage, rows).await?;
    }
}

async fn purge_rows(
    db: &Db,
    storage: &Storage,
    rows: Vec<db::attachments::Purgeable>,
) -> Result<usize, JobError> {
    let count = rows.len();
    for row in rows {
        storage
            .delete(&row.storage_key)
            .await
            .map_err(|e| JobError::Retry(format!("deleting {}: {e}", row.storage_key)))?;
        db::attachments::delete_marked(db.write(), &row.id).await?;
    }
    Ok(count)
}
