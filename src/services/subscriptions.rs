//! Subscriptions: one per workspace, naming its plan, status and current period. New
//! workspaces start on the tenant's default plan, `active`. The tenant's server (secret key)
//! or Stripe's webhooks change it; every change is a `subscription.updated` event.

use serde::Serialize;
use sqlx::AnyConnection;

use crate::clock::{now_ms, parse_time, to_rfc3339};
use crate::db::plans::PlanRow;
use crate::db::subscriptions::SubscriptionRow;
use crate::db::{self};
use crate::domain::Validator;
use crate::domain::billing::{Limits, SubscriptionStatus};
use crate::domain::event::DomainEvent;
use crate::error::{AppError, AppResult};
use crate::services::Ctx;
use crate::services::access::{self, Actor};
use crate::services::plans::{self, Plan};
use crate::services::unit_of_work::UnitOfWork;

/// The plan a subscription is on, as the subscription shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PlanRef {
    pub id: String,
    pub key: String,
    pub name: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Subscription {
    pub workspace_id: String,
    pub plan: PlanRef,
    pub status: SubscriptionStatus,
    pub features: Vec<String>,
    /// `null` is unlimited.
    pub limits: Limits,
    pub current_period_start: String,
    /// `null` until a period end is set (by the tenant or Stripe).
    pub current_period_end: Option<String>,
    pub stripe_customer_id: Option<String>,
    pub stripe_subscription_id: Option<String>,
    pub updated_at: String,
}

/// A subscription row with its plan.
pub struct Loaded {
    pub row: SubscriptionRow,
    pub plan: PlanRow,
}

impl Loaded {
    pub fn view(&self) -> AppResult<Subscription> {
        let (row, plan) = (&self.row, &self.plan);
        Ok(Subscription {
            workspace_id: row.workspace_id.clone(),
            plan: PlanRef {
                id: plan.id.clone(),
                key: plan.key.clone(),
                name: plan.name.clone(),
            },
            status: SubscriptionStatus::from_db(&row.status),
            features: Plan::features_of(plan)?,
            limits: Plan::limits_of(plan),
            current_period_start: to_rfc3339(row.current_period_start),
            current_period_end: row.current_period_end.map(to_rfc3339),
            stripe_customer_id: row.stripe_customer_id.clone(),
            stripe_subscription_id: row.stripe_subscription_id.clone(),
            updated_at: to_rfc3339(row.updated_at),
        })
    }
}

/// Subscribes a new workspace to the tenant's default plan, in the creating transaction.
pub async fn create_for_workspace(
    conn: &mut AnyConnection,
    tenant_id: &str,
    workspace_id: &str,
    now: i64,
) -> AppResult<()> {
    let plan = plans::ensure_default(&mut *conn, tenant_id).await?;
    db::subscriptions::insert(
        &mut *conn,
        &SubscriptionRow {
            workspace_id: workspace_id.to_string(),
            tenant_id: tenant_id.to_string(),
            plan_id: plan.id,
            status: SubscriptionStatus::Active.as_str().into(),
            current_period_start: now,
            current_period_end: None,
            stripe_customer_id: None,
            stripe_subscription_id: None,
            stripe_event_created: None,
            stripe_subscription_event_created: None,
            created_at: now,
            updated_at: now,
        },
    )
    .await?;
    Ok(())
}

/// The workspace's subscription with its plan (read-only; no API call counted).
pub async fn load(cx: &Ctx, tenant_id: &str, workspace_id: &str) -> AppResult<Loaded> {
    let read = cx.db.read();
    let row = db::subscriptions::find(read, tenant_id, workspace_id)
        .await?
        .ok_or(AppError::NotFound("subscription"))?;
    let plan = db::plans::find(read, tenant_id, &row.plan_id)
        .await?
        .ok_or(AppError::NotFound("plan"))?;
    Ok(Loaded { row, plan })
}

/// Who may read a workspace's subscription and usage: any member, or the tenant's server
/// (secret key).
#[derive(Debug, Clone)]
pub enum Reader {
    Member(Actor),
    Server { tenant_id: String },
}

impl Reader {
    /// The workspace's tenant, after checking the reader may see it (else not found). Counts
    /// no API call: billing reads stay open to a workspace over its allowance.
    pub async fn tenant_of(&self, cx: &Ctx, workspace_id: &str) -> AppResult<String> {
        match self {
            Self::Member(actor) => Ok(access::workspace_standing(cx, actor, workspace_id)
                .await?
                .tenant_id),
            Self::Server { tenant_id } => {
                db::workspaces::find(cx.db.read(), tenant_id, workspace_id)
                    .await?
                    .ok_or(AppError::NotFound("workspace"))?;
                Ok(tenant_id.clone())
            }
        }
    }
}

/// The subscription, for a member of the workspace or the tenant's server.
pub async fn get(cx: &Ctx, reader: &Reader, workspace_id: &str) -> AppResult<Subscription> {
    let tenant_id = reader.tenant_of(cx, workspace_id).await?;
    load(cx, &tenant_id, workspace_id).await?.view()
}

/// What the tenant's server sets: the plan (by id or key), the status and the period end.
#[derive(Debug, Default)]
pub struct SubscriptionInput<'a> {
    pub plan_id: Option<&'a str>,
    pub plan_key: Option<&'a str>,
    pub status: Option<&'a str>,
    /// `Some(None)` clears it.
    pub current_period_end: Option<Option<&'a str>>,
}

/// Sets a workspace's subscription (secret key). Moving to a plan whose limits are below the
/// workspace's usage keeps everything; only new creates are refused.
pub async fn put(
    cx: &Ctx,
    tenant_id: &str,
    workspace_id: &str,
    input: SubscriptionInput<'_>,
) -> AppResult<Subscription> {
    let mut v = Validator::default();
    let status = input
        .status
        .map(|s| v.field(SubscriptionStatus::parse("status", s)));
    let period_end = input
        .current_period_end
        .map(|e| e.map(|e| v.field(parse_time("current_period_end", e))));
    if input.plan_id.is_some() && input.plan_key.is_some() {
        v.field::<()>(Err(crate::domain::FieldError::new(
            "plan_id",
            "give plan_id or plan_key, not both",
        )));
    }
    v.finish()?;
    let mut tx = cx.begin(tenant_id, None).await?;
    let Some(mut row) =
        db::subscriptions::lock(&mut *tx, cx.db.engine(), tenant_id, workspace_id).await?
    else {
        return Err(AppError::NotFound("workspace"));
    };
    let plan = match (input.plan_id, input.plan_key) {
        (Some(id), _) => Some(db::plans::find(&mut *tx, tenant_id, id).await?),
        (_, Some(key)) => Some(db::plans::find_by_key(&mut *tx, tenant_id, key).await?),
        _ => None,
    };
    let plan = match plan {
        Some(found) => found.ok_or_else(|| AppError::validation("plan_id", "no such plan"))?,
        None => db::plans::find(&mut *tx, tenant_id, &row.plan_id)
            .await?
            .ok_or(AppError::NotFound("plan"))?,
    };
    row.plan_id = plan.id.clone();
    if let Some(status) = status.flatten() {
        row.status = status.as_str().into();
    }
    if let Some(end) = period_end.map(Option::flatten)
        && end != row.current_period_end
    {
        // A new period begins now: the start is what the API-call allowance counts from
        // (`billing::period_at`), and the input has no start of its own.
        row.current_period_end = end;
        row.current_period_start = now_ms();
    }
    let loaded = save(&mut tx, row, plan).await?;
    tx.commit().await?;
    loaded.view()
}

/// Writes the subscription and records `subscription.updated` in `tx`.
pub async fn save(
    tx: &mut UnitOfWork,
    mut row: SubscriptionRow,
    plan: PlanRow,
) -> AppResult<Loaded> {
    row.updated_at = now_ms();
    db::subscriptions::update(&mut **tx, &row).await?;
    tx.record(DomainEvent::SubscriptionUpdated {
        workspace_id: row.workspace_id.clone(),
        plan_id: plan.id.clone(),
        plan_key: plan.key.clone(),
        status: SubscriptionStatus::from_db(&row.status),
    });
    Ok(Loaded { row, plan })
}
