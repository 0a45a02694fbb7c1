//! The delivery log of an endpoint, a manual retry, and a test message.

use serde::Serialize;

use super::fan_out::{body, delivery_job};
use super::{Manager, managed_endpoint};
use crate::clock::{now_ms, to_rfc3339};
use crate::db::webhook_deliveries::{AttemptRow, DeliveryRow};
use crate::db::{self};
use crate::domain::webhook::DeliveryStatus;
use crate::error::{AppError, AppResult};
use crate::ids::new_id;
use crate::services::Ctx;
use crate::services::page;

/// The type of the message `POST /v1/webhooks/{id}/test` sends.
pub const TEST_EVENT: &str = "webhook.test";

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Attempt {
    pub attempt: i64,
    pub attempted_at: String,
    /// The HTTP status the endpoint answered; `null` when there was no answer.
    pub status_code: Option<i64>,
    pub duration_ms: i64,
    pub error: Option<String>,
    /// The first 1 KiB of the response body.
    pub response_body: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Delivery {
    pub id: String,
    pub endpoint_id: String,
    /// The `webhook-id` header of every attempt.
    pub message_id: String,
    pub event_type: String,
    /// The activity event it carries; `null` for a test message.
    pub event_id: Option<i64>,
    pub status: DeliveryStatus,
    pub next_attempt_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub attempts: Vec<Attempt>,
}

fn delivery(row: DeliveryRow, attempts: Vec<AttemptRow>) -> Delivery {
    Delivery {
        message_id: format!("msg_{}", row.id),
        status: DeliveryStatus::from_db(&row.status).unwrap_or(DeliveryStatus::Pending),
        next_attempt_at: row.next_attempt_at.map(to_rfc3339),
        created_at: to_rfc3339(row.created_at),
        updated_at: to_rfc3339(row.updated_at),
        attempts: attempts
            .into_iter()
            .map(|a| Attempt {
                attempt: a.attempt,
                attempted_at: to_rfc3339(a.attempted_at),
                status_code: a.status_code,
                duration_ms: a.duration_ms,
                error: a.error,
                response_body: a.response_body,
            })
            .collect(),
        id: row.id,
        endpoint_id: row.endpoint_id,
        event_type: row.event_type,
        event_id: row.event_id,
    }
}

/// A page of the endpoint's deliveries, newest first, each with its attempts.
pub async fn list_deliveries(
    cx: &Ctx,
    manager: Manager<'_>,
    endpoint_id: &str,
    before_id: Option<&str>,
    limit: u32,
) -> AppResult<(Vec<Delivery>, Option<String>)> {
    managed_endpoint(cx, manager, endpoint_id).await?;
    let rows = db::webhook_deliveries::list_page(
        cx.db.read(),
        manager.tenant_id(),
        endpoint_id,
        before_id,
        page::fetch_size(limit),
    )
    .await?;
    let (rows, next) = page::split(rows, limit, |r| r.id.clone());
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let mut attempts = db::webhook_deliveries::attempts_of(cx.db.read(), &ids).await?;
    let items = rows
        .into_iter()
        .map(|row| {
            let (mine, rest): (Vec<_>, Vec<_>) =
                attempts.drain(..).partition(|a| a.delivery_id == row.id);
            attempts = rest;
            delivery(row, mine)
        })
        .collect();
    Ok((items, next))
}

fn disabled() -> AppError {
    AppError::Conflict {
        code: "webhook_disabled",
        message: "the endpoint is disabled; enable it first".into(),
    }
}

/// Sends the delivery again now, under its `webhook-id`, whatever its status.
pub async fn retry_delivery(
    cx: &Ctx,
    manager: Manager<'_>,
    endpoint_id: &str,
    delivery_id: &str,
) -> AppResult<Delivery> {
    let endpoint = managed_endpoint(cx, manager, endpoint_id).await?;
    let tenant_id = manager.tenant_id();
    if endpoint.enabled == 0 {
        return Err(disabled());
    }
    let row = db::webhook_deliveries::find(cx.db.read(), tenant_id, delivery_id)
        .await?
        .filter(|d| d.endpoint_id == endpoint.id)
        .ok_or(AppError::NotFound("delivery"))?;
    let now = now_ms();
    let mut tx = cx.begin(tenant_id, manager.actor_id()).await?;
    db::webhook_deliveries::set_status(
        &mut *tx,
        &row.id,
        DeliveryStatus::Pending.as_str(),
        row.attempts,
        Some(now),
        now,
    )
    .await?;
    let mut job = delivery_job(tenant_id, &row.id, row.attempts + 1, None);
    // A retry asked for by hand runs now even when a scheduled attempt is waiting.
    job.dedupe_key = None;
    tx.enqueue(job);
    tx.commit().await?;
    let row = db::webhook_deliveries::find(cx.db.read(), tenant_id, delivery_id)
        .await?
        .ok_or(AppError::NotFound("delivery"))?;
    let attempts =
        db::webhook_deliveries::attempts_of(cx.db.read(), std::slice::from_ref(&row.id)).await?;
    Ok(delivery(row, attempts))
}

/// Queues a `webhook.test` message to this endpoint only.
pub async fn send_test(cx: &Ctx, manager: Manager<'_>, endpoint_id: &str) -> AppResult<Delivery> {
    let endpoint = managed_endpoint(cx, manager, endpoint_id).await?;
    if endpoint.enabled == 0 {
        return Err(disabled());
    }
    let now = now_ms();
    let data = serde_json::json!({
        "endpoint_id": endpoint.id,
        "workspace_id": endpoint.workspace_id,
        "message": "a test message from kanri",
    });
    let row = DeliveryRow {
        id: new_id(),
        tenant_id: manager.tenant_id().to_string(),
        endpoint_id: endpoint.id.clone(),
        event_id: None,
        event_type: TEST_EVENT.to_string(),
        body: body(TEST_EVENT, now, &data.to_string()),
        status: DeliveryStatus::Pending.as_str().to_string(),
        attempts: 0,
        next_attempt_at: Some(now),
        created_at: now,
        updated_at: now,
    };
    let mut tx = cx.begin(manager.tenant_id(), manager.actor_id()).await?;
    db::webhook_deliveries::insert(&mut *tx, &row).await?;
    tx.enqueue(delivery_job(manager.tenant_id(), &row.id, 1, None));
    tx.commit().await?;
    Ok(delivery(row, Vec::new()))
}
