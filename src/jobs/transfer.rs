//! `workspace:export`: a thin adapter over `services::transfer::export::run_job`. The export
//! row records a failure for its requester, so the job is buried rather than retried.

use super::JobError;
use crate::domain::job::ExportWorkspace;
use crate::services::Ctx;
use crate::services::transfer::export;
use crate::storage::Storage;

pub async fn export(
    cx: &Ctx,
    storage: &Storage,
    tenant_id: &str,
    args: &serde_json::Value,
) -> Result<(), JobError> {
    let job: ExportWorkspace = serde_json::from_value(args.clone())
        .map_err(|e| JobError::Fatal(format!("bad arguments: {e}")))?;
    export::run_job(cx, storage, tenant_id, &job.export_id)
        .await
        .map_err(|e| JobError::Fatal(format!("export {}: {e:#}", job.export_id)))
}
