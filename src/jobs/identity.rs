//! `identity:sync`: a thin adapter over `services::identity_sync`, mapping why an event was
//! not applied to what the queue does next.

use super::JobError;
use crate::services::Ctx;
use crate::services::identity_sync::{self, SyncError};

pub async fn sync(cx: &Ctx, tenant_id: &str, args: &serde_json::Value) -> Result<(), JobError> {
    identity_sync::sync(cx, tenant_id, args)
        .await
        .map_err(|e| match e {
            SyncError::Invalid(reason) => JobError::Fatal(reason),
            SyncError::Raced(reason) => JobError::Retry(reason),
            SyncError::App(e) => JobError::Retry(e.to_string()),
        })
}
