//! `webhook:deliver`: a thin adapter over `services::webhooks::deliver`, which records every
//! outcome of the HTTP attempt itself; only a failure to record one is retried by the queue.

use super::JobError;
use crate::domain::job::DeliverWebhook;
use crate::services::Ctx;
use crate::webhooks::Webhooks;

pub async fn deliver(
    cx: &Ctx,
    hooks: &Webhooks,
    tenant_id: &str,
    args: &serde_json::Value,
    now: i64,
) -> Result<(), JobError> {
    let job: DeliverWebhook = serde_json::from_value(args.clone())
        .map_err(|e| JobError::Fatal(format!("bad arguments: {e}")))?;
    crate::services::webhooks::deliver(cx, hooks, tenant_id, &job.delivery_id, now)
        .await
        .map_err(|e| JobError::Retry(e.to_string()))
}
