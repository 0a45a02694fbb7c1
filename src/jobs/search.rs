//! `search:embed`: computes a task's embedding after its title or description changed.
//! One job per task: its dedupe key names the task, and a later change re-queues the same
//! row, so a burst of edits embeds once, from the newest text.

use crate::domain::job::{EmbedTask, JobKind};

use super::{JobError, NewJobSpec};
use crate::clock::now_ms;
use crate::db;
use crate::search::{EmbedError, Embedder};
use crate::services::Ctx;
use crate::services::search::embed::{self, EmbedFailure};

pub fn embed_key(task_id: &str) -> String {
    format!("{}:{task_id}", EmbedTask::NAME)
}

/// Enqueues (or re-queues) the task's embedding job on `conn`, the transaction of the change.
pub async fn enqueue_embed(
    conn: &mut sqlx::AnyConnection,
    tenant_id: &str,
    task_id: &str,
) -> sqlx::Result<()> {
    let key = embed_key(task_id);
    let job = EmbedTask {
        task_id: task_id.to_string(),
    };
    let spec = NewJobSpec::of(tenant_id, &job).dedupe(key.clone());
    if !super::enqueue(&mut *conn, spec).await? {
        db::jobs::requeue_by_dedupe_key(&mut *conn, &key, now_ms()).await?;
    }
    Ok(())
}

pub async fn run(
    cx: &Ctx,
    embedder: &dyn Embedder,
    tenant_id: &str,
    args: &serde_json::Value,
) -> Result<(), JobError> {
    let args: EmbedTask = serde_json::from_value(args.clone())
        .map_err(|e| JobError::Fatal(format!("bad job arguments: {e}")))?;
    match embed::embed_task(cx, embedder, tenant_id, &args.task_id).await {
        Ok(_) => Ok(()),
        Err(EmbedFailure::Embed(EmbedError::Failed(e))) => Err(JobError::Fatal(e)),
        Err(e) => Err(JobError::Retry(e.to_string())),
    }
}
