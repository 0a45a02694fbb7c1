//! Stripe billing webhooks: verifying `Stripe-Signature`, reading the subscription facts out of
//! the six event types kanri applies, recording each event id once with its job, and (in the
//! job) applying the facts to the workspace's subscription as far as [`gate`] allows (two
//! ordered streams, see [`mark`]).
//!
//! **Which tenant.** One Stripe account (one signing secret) serves the whole server. An event
//! is mapped to a workspace — and so to its tenant — only from what the signature covers: the
//! Stripe subscription id an earlier event linked to a workspace, else the workspace id the
//! tenant's server put in `metadata.workspace_id` (or `client_reference_id`) of the Checkout
//! Session or Subscription, else a linked customer id. Nothing outside the signed body (a key in the URL or a
//! header) takes part, so a captured delivery cannot be re-aimed at another tenant. Plans are
//! then looked up by price inside that tenant only.

mod signature;

use serde::Deserialize;
use serde_json::Value;

use crate::clock::now_ms;
use crate::db;
use crate::db::subscriptions::StripeId;
use crate::domain::billing::{DEFAULT_PLAN_KEY, SubscriptionStatus};
use crate::domain::job::{JobKind, StripeEventKind, StripeSync};
use crate::error::{AppError, AppResult};
use crate::jobs::NewJobSpec;
use crate::services::identity::Received;
use crate::services::{Ctx, plans, subscriptions};

/// The provider name receipts are recorded under.
pub const PROVIDER: &str = "stripe";

pub use signature::{SignatureFailure, TOLERANCE_SECS, verify};

const MAX_EVENT_ID_LEN: usize = 255;

/// A Stripe event envelope; `data.object` is read by [`facts`].
#[derive(Debug, Deserialize)]
pub struct StripeEvent {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub created: i64,
    pub data: EventData,
}

#[derive(Debug, Deserialize)]
pub struct EventData {
    pub object: Value,
}

/// An id field that Stripe sends either as a string or, expanded, as an object with `id`.
fn id_at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    let mut at = v;
    for key in path {
        at = at.get(key)?;
    }
    at.as_str()
        .or_else(|| at.get("id").and_then(Value::as_str))
        .filter(|s| !s.is_empty())
}

fn int_at(v: &Value, path: &[&str]) -> Option<i64> {
    let mut at = v;
    for key in path {
        at = at.get(key)?;
    }
    at.as_i64()
}

fn first_item(v: &Value, list: &str) -> Value {
    v.get(list)
        .and_then(|l| l.get("data"))
        .and_then(|d| d.get(0))
        .cloned()
        .unwrap_or(Value::Null)
}

/// The facts of an event kanri applies, before its workspace is known; `None` for any other
/// type. A subscription event's own id is its subscription.
pub fn facts(event: &StripeEvent) -> Option<(StripeSync, Option<String>)> {
    let kind = StripeEventKind::from_stripe(&event.kind)?;
    let o = &event.data.object;
    let s = |v: Option<&str>| v.map(str::to_string);
    let mut sync = StripeSync {
        event_id: event.id.clone(),
        kind,
        created: event.created,
        workspace_id: String::new(),
        customer_id: s(id_at(o, &["customer"])),
        subscription_id: None,
        price_id: None,
        status: None,
        period_start: None,
        period_end: None,
    };
    let mut workspace = s(id_at(o, &["metadata", "workspace_id"]));
    match kind {
        StripeEventKind::CheckoutCompleted => {
            sync.subscription_id = s(id_at(o, &["subscription"]));
            workspace = workspace.or_else(|| s(id_at(o, &["client_reference_id"])));
        }
        StripeEventKind::SubscriptionCreated
        | StripeEventKind::SubscriptionUpdated
        | StripeEventKind::SubscriptionDeleted => {
            let item = first_item(o, "items");
            sync.subscription_id = s(id_at(o, &["id"]));
            sync.price_id = s(id_at(&item, &["price"]));
            sync.status = s(o.get("status").and_then(Value::as_str));
            // Older API versions put the period on the subscription, newer ones on its items.
            sync.period_start = int_at(o, &["current_period_start"])
                .or_else(|| int_at(&item, &["current_period_start"]));
            sync.period_end = int_at(o, &["current_period_end"])
                .or_else(|| int_at(&item, &["current_period_end"]));
        }
        StripeEventKind::InvoicePaid | StripeEventKind::InvoicePaymentFailed => {
            sync.subscription_id = s(id_at(o, &["subscription"])
                .or_else(|| id_at(o, &["parent", "subscription_details", "subscription"])));
            workspace = workspace
                .or_else(|| {
                    s(id_at(
                        o,
                        &["subscription_details", "metadata", "workspace_id"],
                    ))
                })
                .or_else(|| {
                    s(id_at(
                        o,
                        &["parent", "subscription_details", "metadata", "workspace_id"],
                    ))
                });
            let line = first_item(o, "lines");
            sync.period_start = int_at(&line, &["period", "start"]);
            sync.period_end = int_at(&line, &["period", "end"]);
        }
    }
    Some((sync, workspace))
}

/// Finds the event's workspace and tenant from what the signed body says (see the module
/// docs), or `None` when it names no workspace kanri knows.
async fn locate(
    cx: &Ctx,
    sync: &StripeSync,
    workspace: Option<&str>,
) -> AppResult<Option<(String, String)>> {
    // The write pool: the link an event just applied must be seen (a replica may lag).
    let pool = cx.db.write();
    // The stored subscription link first: metadata can name a workspace the subscription
    // has since moved from.
    let found = match sync.subscription_id.as_deref() {
        Some(id) => db::subscriptions::find_by_stripe(pool, StripeId::Subscription, id).await?,
        None => None,
    };
    let found = match (found, workspace) {
        (None, Some(ws)) => db::subscriptions::find_any_tenant(pool, ws).await?,
        (found, _) => found,
    };
    let found = match (found, sync.customer_id.as_deref()) {
        (None, Some(id)) => db::subscriptions::find_by_stripe(pool, StripeId::Customer, id).await?,
        (found, _) => found,
    };
    Ok(found.map(|row| (row.tenant_id, row.workspace_id)))
}

/// What became of a delivery.
#[derive(Debug, PartialEq, Eq)]
pub enum Receipt {
    Done(Received),
    /// A handled type whose workspace cannot be located yet: not recorded, so it can be
    /// delivered again (the handler answers 503).
    NotLocated,
}

/// Records the event id and enqueues its job in one transaction; a replayed id enqueues
/// nothing, and an event for no known workspace is not recorded (see [`Receipt::NotLocated`]).
pub async fn receive(cx: &Ctx, event: &StripeEvent) -> AppResult<Receipt> {
    if event.id.is_empty()
        || event.id.len() > MAX_EVENT_ID_LEN
        || !event.id.bytes().all(|b| b.is_ascii_graphic())
    {
        return Err(AppError::validation("id", "is not a Stripe event id"));
    }
    let Some((mut sync, workspace)) = facts(event) else {
        return Ok(Receipt::Done(Received::Ignored));
    };
    let Some((tenant_id, workspace_id)) = locate(cx, &sync, workspace.as_deref()).await? else {
        // Not recorded: Stripe redelivers on a 5xx, and by then the event that links this
        // subscription or customer (or the workspace itself) may have been applied.
        tracing::warn!(event_id = %event.id, kind = %event.kind, "a Stripe event names no known workspace yet; asking Stripe to retry");
        return Ok(Receipt::NotLocated);
    };
    sync.workspace_id = workspace_id;
    let mut tx = cx.begin(&tenant_id, None).await?;
    if !db::webhook_receipts::insert(&mut *tx, &tenant_id, PROVIDER, &event.id, now_ms()).await? {
        return Ok(Receipt::Done(Received::Replayed));
    }
    let dedupe = format!("{}:{}", StripeSync::NAME, event.id);
    tx.enqueue(NewJobSpec::of(&tenant_id, &sync).dedupe(dedupe));
    tx.commit().await?;
    Ok(Receipt::Done(Received::Queued))
}

/// Why the job could not apply an event.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    App(#[from] AppError),
}

/// An event's place in its stream: `created` (epoch seconds) * 4 + the kind's rank. Stripe's
/// `created` has one-second resolution, so on a tie the kind decides, in lifecycle order
/// (a subscription is created, then updated, then deleted; a checkout completes before its
/// invoice fails or is paid, and a payment retried successfully ends a failure). Two events of
/// the same kind in the same second cannot be told apart: the first applied stays (strict
/// `>`), so a redelivered older one never replaces it.
pub fn mark(kind: StripeEventKind, created: i64) -> i64 {
    let rank = match kind {
        StripeEventKind::SubscriptionCreated | StripeEventKind::CheckoutCompleted => 0,
        StripeEventKind::SubscriptionUpdated | StripeEventKind::InvoicePaymentFailed => 1,
        StripeEventKind::SubscriptionDeleted | StripeEventKind::InvoicePaid => 2,
    };
    created.saturating_mul(4).saturating_add(rank)
}

fn is_subscription_event(kind: StripeEventKind) -> bool {
    matches!(
        kind,
        StripeEventKind::SubscriptionCreated
            | StripeEventKind::SubscriptionUpdated
            | StripeEventKind::SubscriptionDeleted
    )
}

/// What one event may change, given the two streams' marks (see the migration 0010 notes).
#[derive(Debug, PartialEq, Eq)]
pub struct Gate {
    /// Newer than its own stream's mark: its stream's fields (plan and period, or links) apply.
    pub fresh: bool,
    /// It may also set the status: not older than the other stream's newest event. A
    /// subscription event wins a same-second tie with an invoice (the subscription's status is
    /// Stripe's own state); an invoice never revives a canceled subscription.
    pub status: bool,
}

pub fn gate(
    kind: StripeEventKind,
    created: i64,
    subscription_mark: Option<i64>,
    other_mark: Option<i64>,
    canceled: bool,
) -> Gate {
    let this = mark(kind, created);
    let seconds = |m: Option<i64>| m.map(|m| m.div_euclid(4));
    if is_subscription_event(kind) {
        let fresh = subscription_mark.is_none_or(|m| this > m);
        let status = fresh
            && (kind == StripeEventKind::SubscriptionDeleted
                || seconds(other_mark).is_none_or(|s| created >= s));
        Gate { fresh, status }
    } else {
        let fresh = other_mark.is_none_or(|m| this > m);
        let status = fresh
            && kind != StripeEventKind::CheckoutCompleted
            && !canceled
            && seconds(subscription_mark).is_none_or(|s| created > s);
        Gate { fresh, status }
    }
}

/// Applies one event's facts to the workspace's subscription (the `billing:stripe` job), as
/// [`gate`] allows: `customer.subscription.*` events set the plan, period and status;
/// checkout and invoice events set the Stripe links and (invoices) the status. A vanished
/// workspace is done.
pub async fn apply(cx: &Ctx, tenant_id: &str, args: &Value) -> Result<(), ApplyError> {
    let sync: StripeSync =
        serde_json::from_value(args.clone()).map_err(|e| ApplyError::Invalid(e.to_string()))?;
    let mut tx = cx.begin(tenant_id, None).await?;
    let engine = tx.engine();
    let Some(mut row) = db::subscriptions::lock(&mut *tx, engine, tenant_id, &sync.workspace_id)
        .await
        .map_err(AppError::from)?
    else {
        return Ok(());
    };
    if let (Some(stored), Some(named)) = (
        row.stripe_subscription_id.as_deref(),
        sync.subscription_id.as_deref(),
    ) && stored != named
        && sync.kind != StripeEventKind::CheckoutCompleted
    {
        // Another (say an old, replaced) subscription of the same customer: only a completed
        // checkout moves the link.
        tracing::info!(event_id = %sync.event_id, "a Stripe event names another subscription; ignored");
        return Ok(());
    }
    let canceled = row.status == SubscriptionStatus::Canceled.as_str();
    let gate = gate(
        sync.kind,
        sync.created,
        row.stripe_subscription_event_created,
        row.stripe_event_created,
        canceled,
    );
    if !gate.fresh {
        tracing::info!(event_id = %sync.event_id, "an older Stripe event arrived late; nothing to change");
        return Ok(());
    }
    let this = mark(sync.kind, sync.created);
    let mut plan = db::plans::find(&mut *tx, tenant_id, &row.plan_id)
        .await
        .map_err(AppError::from)?
        .ok_or(AppError::NotFound("plan"))?;
    let status;
    if is_subscription_event(sync.kind) {
        row.stripe_subscription_event_created = Some(this);
        if sync.kind == StripeEventKind::SubscriptionDeleted {
            // The paid plan ends: back to the default plan, whose limits apply from now on.
            plan = plans::ensure_default(&mut tx, tenant_id).await?;
            debug_assert_eq!(plan.key, DEFAULT_PLAN_KEY);
            status = Some(SubscriptionStatus::Canceled);
        } else {
            if let Some(price) = sync.price_id.as_deref() {
                match db::plans::find_by_price(&mut *tx, tenant_id, price)
                    .await
                    .map_err(AppError::from)?
                {
                    Some(p) => plan = p,
                    None => tracing::warn!(price, "a Stripe price matches no plan; the plan stays"),
                }
            }
            status = sync
                .status
                .as_deref()
                .and_then(SubscriptionStatus::from_stripe);
        }
        if let Some(start) = sync.period_start {
            row.current_period_start = start.saturating_mul(1000);
        }
        if let Some(end) = sync.period_end {
            row.current_period_end = Some(end.saturating_mul(1000));
        }
    } else {
        row.stripe_event_created = Some(this);
        status = match sync.kind {
            StripeEventKind::InvoicePaid => Some(SubscriptionStatus::Active),
            StripeEventKind::InvoicePaymentFailed => Some(SubscriptionStatus::PastDue),
            _ => None,
        };
    }
    if let Some(status) = status.filter(|_| gate.status) {
        row.status = status.as_str().into();
    }
    if sync.customer_id.is_some() {
        row.stripe_customer_id = sync.customer_id.clone();
    }
    if sync.subscription_id.is_some() {
        row.stripe_subscription_id = sync.subscription_id.clone();
    }
    row.plan_id = plan.id.clone();
    subscriptions::save(&mut tx, row, plan).await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_facts_from_each_event_type() {
        let event: StripeEvent = serde_json::from_value(serde_json::json!({
            "id": "evt_1", "type": "customer.subscription.updated", "created": 10,
            "data": {"object": {"id": "sub_1", "customer": "cus_1", "status": "past_due",
                "metadata": {"workspace_id": "ws_1"},
                "items": {"data": [{"price": {"id": "price_pro"},
                    "current_period_start": 100, "current_period_end": 200}]}}}
        }))
        .unwrap();
        let (sync, ws) = facts(&event).unwrap();
        assert_eq!(ws.as_deref(), Some("ws_1"));
        assert_eq!(sync.subscription_id.as_deref(), Some("sub_1"));
        assert_eq!(sync.price_id.as_deref(), Some("price_pro"));
        assert_eq!(sync.status.as_deref(), Some("past_due"));
        assert_eq!((sync.period_start, sync.period_end), (Some(100), Some(200)));

        let invoice: StripeEvent = serde_json::from_value(serde_json::json!({
            "id": "evt_2", "type": "invoice.paid", "created": 11,
            "data": {"object": {"customer": {"id": "cus_1"},
                "parent": {"subscription_details": {"subscription": "sub_1",
                    "metadata": {"workspace_id": "ws_1"}}},
                "lines": {"data": [{"period": {"start": 200, "end": 300}}]}}}
        }))
        .unwrap();
        let (sync, ws) = facts(&invoice).unwrap();
        assert_eq!(ws.as_deref(), Some("ws_1"));
        assert_eq!(sync.customer_id.as_deref(), Some("cus_1"));
        assert_eq!(sync.subscription_id.as_deref(), Some("sub_1"));
        assert_eq!(sync.period_end, Some(300));

        let other: StripeEvent = serde_json::from_value(serde_json::json!({
            "id": "evt_3", "type": "charge.refunded", "created": 12, "data": {"object": {}}
        }))
        .unwrap();
        assert!(facts(&other).is_none());
    }

    #[test]
    fn each_stream_is_ordered_by_its_own_mark_and_ties_go_by_lifecycle() {
        use StripeEventKind::*;
        let g = |fresh, status| Gate { fresh, status };
        // A subscription event older than an applied invoice: fresh for its stream (plan,
        // period), but its status is older than the payment's.
        let paid = Some(mark(InvoicePaid, 100));
        assert_eq!(
            gate(SubscriptionCreated, 99, None, paid, false),
            g(true, false)
        );
        assert_eq!(
            gate(SubscriptionCreated, 100, None, paid, false),
            g(true, true)
        );
        // Within one stream: older or the same event again changes nothing.
        let updated = Some(mark(SubscriptionUpdated, 100));
        assert_eq!(
            gate(SubscriptionUpdated, 99, updated, None, false),
            g(false, false)
        );
        assert_eq!(
            gate(SubscriptionUpdated, 100, updated, None, false),
            g(false, false)
        );
        // Same second: created never overtakes updated; deleted does.
        assert!(!gate(SubscriptionCreated, 100, updated, None, false).fresh);
        assert_eq!(
            gate(SubscriptionDeleted, 100, updated, None, false),
            g(true, true)
        );
        // Invoices: the status only when newer than the subscription's own state, never
        // reviving a canceled one; a checkout only links.
        assert_eq!(gate(InvoicePaid, 100, updated, None, false), g(true, false));
        assert_eq!(gate(InvoicePaid, 101, updated, None, false), g(true, true));
        assert_eq!(gate(InvoicePaid, 101, updated, None, true), g(true, false));
        assert_eq!(
            gate(CheckoutCompleted, 101, None, None, false),
            g(true, false)
        );
        let failed = Some(mark(InvoicePaymentFailed, 100));
        assert_eq!(gate(InvoicePaid, 100, None, failed, false), g(true, true));
        assert!(!gate(InvoicePaymentFailed, 100, None, paid, false).fresh);
    }
}
