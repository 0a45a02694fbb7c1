//! `workspace:export` and `workspace:import`: thin adapters over `services::transfer`. The
//! export or import row records a failure for its requester, so the job is buried rather than
//! retried.

use super::JobError;
use crate::domain::job::{ExportWorkspace, ImportArchive};
use crate::services::Ctx;
use crate::services::transfer::{export, queued};
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

pub async fn import(
    cx: &Ctx,
    storage: &Storage,
    tenant_id: &str,
    args: &serde_json::Value,
) -> Result<(), JobError> {
    let job: ImportArchive = serde_json::from_value(args.clone())
        .map_err(|e| JobError::Fatal(format!("bad arguments: {e}")))?;
    queued::run_job(cx, storage, tenant_id, &job.import_id)
        .await
        .map_err(|e| JobError::Fatal(format!("import {}: {e:#}", job.import_id)))
}
