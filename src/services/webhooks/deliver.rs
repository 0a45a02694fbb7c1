//! One attempt of a delivery, run by its `webhook:deliver` job. The message is signed afresh
//! (new timestamp) under the same `webhook-id`, sent through the guarded client, and the
//! outcome recorded in one unit of work: the attempt row, the delivery's status, the next
//! attempt's job (scheduled with `run_at` on `KANRI_WEBHOOK_RETRY_SCHEDULE`, not slept for),
//! and, for an endpoint that has failed continuously for 5 days, its disabling and the
//! `webhook.disabled` event.

use bytes::Bytes;

use super::fan_out::delivery_job;
use crate::clock::now_ms;
use crate::db::webhook_deliveries::{AttemptRow, DeliveryRow};
use crate::db::webhook_endpoints::EndpointRow;
use crate::db::{self};
use crate::domain::event::DomainEvent;
use crate::domain::webhook::DeliveryStatus;
use crate::error::AppResult;
use crate::ids::new_id;
use crate::services::Ctx;
use crate::webhooks::client::storable;
use crate::webhooks::{AttemptResult, WebhookSecret, Webhooks, signature_header};

/// An endpoint whose attempts have all failed for this long is disabled.
pub const DISABLE_AFTER_MS: i64 = 5 * 24 * 3_600_000;

/// Makes the next attempt of `delivery_id`. `now` is the queue's clock (tests move it); the
/// signature's timestamp is the wall clock, as receivers check it against theirs.
pub async fn deliver(
    cx: &Ctx,
    hooks: &Webhooks,
    tenant_id: &str,
    delivery_id: &str,
    now: i64,
) -> AppResult<()> {
    let Some(delivery) = db::webhook_deliveries::find(cx.db.read(), tenant_id, delivery_id).await?
    else {
        return Ok(()); // Deleted with its endpoint.
    };
    if DeliveryStatus::from_db(&delivery.status) == Some(DeliveryStatus::Delivered) {
        return Ok(()); // A second job for a message already through.
    }
    let Some(endpoint) =
        db::webhook_endpoints::find(cx.db.read(), tenant_id, &delivery.endpoint_id).await?
    else {
        return Ok(());
    };
    let result = if endpoint.enabled == 0 {
        AttemptResult {
            status: None,
            duration_ms: 0,
            error: Some("the endpoint is disabled".into()),
            body: None,
        }
    } else {
        attempt(hooks, &endpoint, &delivery, now).await
    };
    record(cx, hooks, &endpoint, &delivery, result, now).await
}

/// The secrets signing now: the current one, and the previous one during its 24 hours.
fn secrets(hooks: &Webhooks, endpoint: &EndpointRow, now: i64) -> Option<Vec<WebhookSecret>> {
    let cipher = hooks.cipher().ok()?;
    let mut out = vec![cipher.open(&endpoint.id, &endpoint.secret)?];
    if let (Some(previous), Some(until)) =
        (&endpoint.previous_secret, endpoint.previous_secret_until)
        && until > now
        && let Some(old) = cipher.open(&endpoint.id, previous)
    {
        out.push(old);
    }
    Some(out)
}

async fn attempt(
    hooks: &Webhooks,
    endpoint: &EndpointRow,
    delivery: &DeliveryRow,
    now: i64,
) -> AttemptResult {
    let failed = |error: &str| AttemptResult {
        status: None,
        duration_ms: 0,
        error: Some(error.to_string()),
        body: None,
    };
    let Some(secrets) = secrets(hooks, endpoint, now) else {
        return failed("the signing secret cannot be decrypted (was the signing key changed?)");
    };
    let Ok(url) = url::Url::parse(&endpoint.url) else {
        return failed("the endpoint URL does not parse");
    };
    let msg_id = format!("msg_{}", delivery.id);
    let timestamp = now_ms() / 1000;
    let body = Bytes::from(delivery.body.clone());
    let headers = [
        ("webhook-id", msg_id.clone()),
        ("webhook-timestamp", timestamp.to_string()),
        (
            "webhook-signature",
            signature_header(&secrets, &msg_id, timestamp, &body),
        ),
    ];
    hooks.client.send(&url, &headers, body).await
}

/// What follows a failed attempt number `attempt`: the time of the next, or none (give up).
pub fn next_attempt_at(schedule: &[std::time::Duration], attempt: i64, now: i64) -> Option<i64> {
    let index = usize::try_from(attempt - 1).ok()?;
    let wait = schedule.get(index)?;
    Some(now + i64::try_from(wait.as_millis()).unwrap_or(i64::MAX / 4))
}

async fn record(
    cx: &Ctx,
    hooks: &Webhooks,
    endpoint: &EndpointRow,
    delivery: &DeliveryRow,
    result: AttemptResult,
    now: i64,
) -> AppResult<()> {
    let attempt = delivery.attempts + 1;
    let tenant_id = delivery.tenant_id.as_str();
    let mut tx = cx.begin(tenant_id, None).await?;
    if !db::webhook_deliveries::claim_attempt(&mut *tx, &delivery.id, delivery.attempts, now)
        .await?
    {
        // Another attempt was recorded (or delivered the message) while this one was in flight:
        // its outcome stands; this one is not logged.
        return Ok(());
    }
    db::webhook_deliveries::insert_attempt(
        &mut *tx,
        &AttemptRow {
            id: new_id(),
            delivery_id: delivery.id.clone(),
            attempt,
            attempted_at: now,
            status_code: result.status.map(i64::from),
            duration_ms: result.duration_ms,
            // Both can hold the receiver's bytes (its body, its status line in an error).
            error: result.error.as_deref().map(storable),
            response_body: result.body.as_deref().map(storable),
        },
    )
    .await?;
    let outcome = if result.succeeded() {
        db::webhook_deliveries::set_status(
            &mut *tx,
            &delivery.id,
            DeliveryStatus::Delivered.as_str(),
            attempt,
            None,
            now,
        )
        .await?;
        db::webhook_endpoints::clear_failing(&mut *tx, &endpoint.id).await?;
        "delivered"
    } else {
        let failing_since =
            db::webhook_endpoints::mark_failing(&mut *tx, &endpoint.id, now).await?;
        let disable = endpoint.enabled != 0
            && failing_since.is_some_and(|since| now - since >= DISABLE_AFTER_MS);
        if disable && db::webhook_endpoints::disable(&mut *tx, tenant_id, &endpoint.id, now).await?
        {
            tx.record(DomainEvent::WebhookDisabled {
                workspace_id: endpoint.workspace_id.clone(),
                endpoint_id: endpoint.id.clone(),
                reason: "every delivery attempt failed for 5 days".into(),
            });
        }
        let next = (endpoint.enabled != 0 && !disable)
            .then(|| next_attempt_at(&hooks.settings.retry_schedule, attempt, now))
            .flatten();
        match next {
            Some(at) => {
                db::webhook_deliveries::set_status(
                    &mut *tx,
                    &delivery.id,
                    DeliveryStatus::Retrying.as_str(),
                    attempt,
                    Some(at),
                    now,
                )
                .await?;
                tx.enqueue(delivery_job(tenant_id, &delivery.id, attempt + 1, Some(at)));
                "retrying"
            }
            None => {
                db::webhook_deliveries::set_status(
                    &mut *tx,
                    &delivery.id,
                    DeliveryStatus::Failed.as_str(),
                    attempt,
                    None,
                    now,
                )
                .await?;
                "failed"
            }
        }
    };
    tx.commit().await?;
    metrics::counter!("webhook_deliveries_total", "outcome" => outcome).increment(1);
    if let Some(error) = &result.error {
        tracing::info!(delivery = %delivery.id, attempt, outcome, %error, "webhook attempt failed");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn retries_follow_the_schedule_then_stop() {
        let schedule = [5, 300].map(Duration::from_secs);
        assert_eq!(next_attempt_at(&schedule, 1, 1000), Some(6000));
        assert_eq!(next_attempt_at(&schedule, 2, 1000), Some(301_000));
        assert_eq!(next_attempt_at(&schedule, 3, 1000), None);
        assert_eq!(next_attempt_at(&[], 1, 1000), None);
    }
}
