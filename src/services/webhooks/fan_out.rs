//! From committed events to deliveries, inside the committing transaction: for each event of
//! a workspace, that workspace's enabled endpoints whose patterns match get one delivery row
//! (holding the body) and one `webhook:deliver` job. A rolled-back change therefore sends
//! nothing, and a committed one cannot miss its deliveries.

use std::collections::HashMap;

use sqlx::AnyConnection;

use crate::clock::to_rfc3339;
use crate::db::webhook_deliveries::DeliveryRow;
use crate::db::{self};
use crate::domain::event::{DomainEvent, EventKind};
use crate::domain::job::{DeliverWebhook, JobKind};
use crate::domain::webhook::{DeliveryStatus, subscribes};
use crate::ids::new_id;
use crate::jobs::{self, NewJobSpec};
use crate::services::activity::Appended;

/// A committed event as webhooks see it.
pub(crate) struct Outgoing {
    pub event_id: i64,
    pub kind: EventKind,
    pub workspace_id: Option<String>,
    /// The activity payload, JSON text.
    pub payload: String,
    pub at: i64,
}

impl Outgoing {
    pub(crate) fn of(event: &DomainEvent, appended: Appended) -> Self {
        Self {
            event_id: appended.id,
            kind: event.kind(),
            workspace_id: event.place().0.map(str::to_string),
            payload: appended.payload,
            at: appended.created_at,
        }
    }
}

/// The message body: `{"type", "timestamp", "data"}`.
pub(crate) fn body(kind: &str, at: i64, data_json: &str) -> String {
    let head = serde_json::json!({"type": kind, "timestamp": to_rfc3339(at)}).to_string();
    // `data` is already JSON text: splice it in rather than parse and re-serialise it.
    format!("{},\"data\":{data_json}}}", &head[..head.len() - 1])
}

/// Writes the deliveries and their jobs; true when any job was enqueued.
pub(crate) async fn fan_out(
    conn: &mut AnyConnection,
    tenant_id: &str,
    events: &[Outgoing],
) -> sqlx::Result<bool> {
    let mut endpoints: HashMap<&str, Vec<(String, Vec<String>)>> = HashMap::new();
    let mut enqueued = false;
    for event in events {
        let Some(workspace) = event.workspace_id.as_deref() else {
            continue;
        };
        if !endpoints.contains_key(workspace) {
            let rows = db::webhook_endpoints::subscribed(&mut *conn, tenant_id, workspace).await?;
            let parsed = rows
                .into_iter()
                .map(|(id, events)| (id, serde_json::from_str(&events).unwrap_or_default()))
                .collect();
            endpoints.insert(workspace, parsed);
        }
        for (endpoint_id, patterns) in &endpoints[workspace] {
            if !subscribes(patterns, event.kind.as_str()) {
                continue;
            }
            let row = DeliveryRow {
                id: new_id(),
                tenant_id: tenant_id.to_string(),
                endpoint_id: endpoint_id.clone(),
                event_id: Some(event.event_id),
                event_type: event.kind.as_str().to_string(),
                body: body(event.kind.as_str(), event.at, &event.payload),
                status: DeliveryStatus::Pending.as_str().to_string(),
                attempts: 0,
                next_attempt_at: Some(event.at),
                created_at: event.at,
                updated_at: event.at,
            };
            db::webhook_deliveries::insert(&mut *conn, &row).await?;
            jobs::enqueue(&mut *conn, delivery_job(tenant_id, &row.id, 1, None)).await?;
            enqueued = true;
        }
    }
    Ok(enqueued)
}

/// The job for attempt `attempt` of a delivery, due at `run_at` (now when `None`).
pub(crate) fn delivery_job<'a>(
    tenant_id: &'a str,
    delivery_id: &str,
    attempt: i64,
    run_at: Option<i64>,
) -> NewJobSpec<'a> {
    let job = DeliverWebhook {
        delivery_id: delivery_id.to_string(),
    };
    let mut spec = NewJobSpec::of(tenant_id, &job);
    spec.run_at = run_at;
    // The handler records every outcome itself; the queue's own retries are for failures to
    // record (the database), so a few suffice.
    spec.max_attempts = 3;
    spec.dedupe(format!("{}:{delivery_id}:{attempt}", DeliverWebhook::NAME))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_body_wraps_the_payload() {
        let b = body("task.created", 0, r#"{"id":"t"}"#);
        let v: serde_json::Value = serde_json::from_str(&b).unwrap();
        assert_eq!(v["type"], "task.created");
        assert_eq!(v["timestamp"], "1970-01-01T00:00:00.000Z");
        assert_eq!(v["data"]["id"], "t");
    }
}
