//! `billing:stripe`: a thin adapter over `services::stripe::apply`.

use super::JobError;
use crate::services::Ctx;
use crate::services::stripe::{self, ApplyError};

pub async fn stripe(cx: &Ctx, tenant_id: &str, args: &serde_json::Value) -> Result<(), JobError> {
    stripe::apply(cx, tenant_id, args)
        .await
        .map_err(|e| match e {
            ApplyError::Invalid(reason) => JobError::Fatal(reason),
            ApplyError::App(e) => JobError::Retry(e.to_string()),
        })
}
