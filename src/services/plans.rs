//! Plans: a tenant's catalogue (`free`, `pro`, …), each with features and limits, managed with
//! the tenant's secret key. Every tenant has the default plan `free` (no limits until the
//! tenant sets some), which new workspaces are subscribed to.

use serde::Serialize;
use sqlx::AnyConnection;

use crate::clock::{now_ms, to_rfc3339};
use crate::db::plans::PlanRow;
use crate::db::{self, is_unique_violation};
use crate::domain::Validator;
use crate::domain::billing::{DEFAULT_PLAN_KEY, Limits, parse_features, parse_plan_key};
use crate::domain::event::DomainEvent;
use crate::error::{AppError, AppResult};
use crate::ids::new_id;
use crate::services::{Ctx, page};

const MAX_NAME_CHARS: usize = 100;
const MAX_PRICE_CHARS: usize = 255;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Plan {
    pub id: String,
    /// Unique in the tenant; `free` is the default plan.
    pub key: String,
    pub name: String,
    pub features: Vec<String>,
    /// `null` is unlimited.
    pub limits: Limits,
    /// The Stripe price that maps a Stripe subscription onto this plan.
    pub stripe_price_id: Option<String>,
    /// Whether this is the tenant's default plan (`free`), which new workspaces get.
    pub is_default: bool,
    pub created_at: String,
    pub updated_at: String,
}

impl Plan {
    pub fn limits_of(row: &PlanRow) -> Limits {
        Limits {
            projects: row.max_projects,
            members: row.max_members,
            storage_bytes: row.max_storage_bytes,
            api_calls_per_month: row.max_api_calls_per_month,
            rate_limit_per_minute: row.rate_limit_per_minute,
        }
    }

    pub fn features_of(row: &PlanRow) -> AppResult<Vec<String>> {
        Ok(serde_json::from_str(&row.features).map_err(anyhow::Error::from)?)
    }
}

impl TryFrom<PlanRow> for Plan {
    type Error = AppError;

    fn try_from(row: PlanRow) -> AppResult<Self> {
        Ok(Self {
            features: Plan::features_of(&row)?,
            limits: Plan::limits_of(&row),
            is_default: row.key == DEFAULT_PLAN_KEY,
            id: row.id,
            key: row.key,
            name: row.name,
            stripe_price_id: row.stripe_price_id,
            created_at: to_rfc3339(row.created_at),
            updated_at: to_rfc3339(row.updated_at),
        })
    }
}

/// What a create or an update sends; `None` leaves a field as it is (update) or at its
/// default (create: no features, no limits, no price).
#[derive(Debug, Default)]
pub struct PlanInput<'a> {
    pub key: Option<&'a str>,
    pub name: Option<&'a str>,
    pub features: Option<&'a [String]>,
    /// Replaces all limits at once; a limit left out is unlimited.
    pub limits: Option<Limits>,
    /// `Some(None)` removes the price.
    pub stripe_price_id: Option<Option<&'a str>>,
}

fn parse_name(field: &str, input: &str) -> Result<String, crate::domain::FieldError> {
    let name = input.trim();
    if name.is_empty()
        || name.chars().count() > MAX_NAME_CHARS
        || name.chars().any(char::is_control)
    {
        return Err(crate::domain::FieldError::new(
            field,
            "must be 1–100 characters without control characters",
        ));
    }
    Ok(name.to_string())
}

fn parse_price(field: &str, input: &str) -> Result<String, crate::domain::FieldError> {
    let price = input.trim();
    if price.is_empty()
        || price.len() > MAX_PRICE_CHARS
        || !price.bytes().all(|b| b.is_ascii_graphic())
    {
        return Err(crate::domain::FieldError::new(
            field,
            "must be a Stripe price id (printable, at most 255 characters)",
        ));
    }
    Ok(price.to_string())
}

/// Applies the input to `row` after checking every field; all failures are reported at once.
fn apply(row: &mut PlanRow, input: &PlanInput<'_>) -> AppResult<()> {
    let mut v = Validator::default();
    let key = input.key.map(|k| v.field(parse_plan_key("key", k)));
    let name = input.name.map(|n| v.field(parse_name("name", n)));
    let features = input
        .features
        .map(|f| v.field(parse_features("features", f)));
    let limits = input.limits.map(|l| v.field(l.check("limits")));
    let price = input
        .stripe_price_id
        .map(|p| p.map(|p| v.field(parse_price("stripe_price_id", p))));
    v.finish()?;
    if let Some(key) = key.flatten() {
        // The default plan keeps its key: it is how every tenant finds its default.
        if row.key == DEFAULT_PLAN_KEY && key != DEFAULT_PLAN_KEY {
            return Err(AppError::validation(
                "key",
                "the default plan's key cannot change",
            ));
        }
        row.key = key;
    }
    if let Some(name) = name.flatten() {
        row.name = name;
    }
    if let Some(features) = features.flatten() {
        row.features = serde_json::to_string(&features).expect("strings serialise");
    }
    if let Some(l) = limits.flatten() {
        row.max_projects = l.projects;
        row.max_members = l.members;
        row.max_storage_bytes = l.storage_bytes;
        row.max_api_calls_per_month = l.api_calls_per_month;
        row.rate_limit_per_minute = l.rate_limit_per_minute;
    }
    if let Some(price) = price {
        row.stripe_price_id = price.flatten();
    }
    Ok(())
}

fn map_unique(e: sqlx::Error) -> AppError {
    if is_unique_violation(&e) {
        AppError::Conflict {
            code: "plan_exists",
            message: "a plan with this key or Stripe price already exists".into(),
        }
    } else {
        e.into()
    }
}

pub async fn create(cx: &Ctx, tenant_id: &str, input: PlanInput<'_>) -> AppResult<Plan> {
    let mut v = Validator::default();
    if input.key.is_none() {
        v.field::<()>(Err(crate::domain::FieldError::new("key", "is required")));
    }
    if input.name.is_none() {
        v.field::<()>(Err(crate::domain::FieldError::new("name", "is required")));
    }
    v.finish()?;
    let now = now_ms();
    let mut row = PlanRow {
        id: String::new(),
        tenant_id: tenant_id.to_string(),
        key: String::new(),
        name: String::new(),
        features: "[]".into(),
        max_projects: None,
        max_members: None,
        max_storage_bytes: None,
        max_api_calls_per_month: None,
        rate_limit_per_minute: None,
        stripe_price_id: None,
        created_at: now,
        updated_at: now,
    };
    apply(&mut row, &input)?;
    row.id = new_id();
    let mut tx = cx.begin(tenant_id, None).await?;
    ensure_default(&mut tx, tenant_id).await?;
    db::plans::insert(&mut *tx, &row)
        .await
        .map_err(map_unique)?;
    tx.record(DomainEvent::PlanCreated {
        plan_id: row.id.clone(),
        key: row.key.clone(),
    });
    tx.commit().await?;
    row.try_into()
}

pub async fn get(cx: &Ctx, tenant_id: &str, id: &str) -> AppResult<Plan> {
    db::plans::find(cx.db.read(), tenant_id, id)
        .await?
        .ok_or(AppError::NotFound("plan"))?
        .try_into()
}

pub async fn list(
    cx: &Ctx,
    tenant_id: &str,
    after_id: Option<&str>,
    limit: u32,
) -> AppResult<(Vec<Plan>, Option<String>)> {
    let rows =
        db::plans::list_page(cx.db.read(), tenant_id, after_id, page::fetch_size(limit)).await?;
    let (rows, next) = page::split(rows, limit, |r| r.id.clone());
    let plans = rows
        .into_iter()
        .map(Plan::try_from)
        .collect::<AppResult<_>>()?;
    Ok((plans, next))
}

/// Changes what the input names. Lowering a limit below a workspace's usage keeps its data;
/// only new creates are refused.
pub async fn update(cx: &Ctx, tenant_id: &str, id: &str, input: PlanInput<'_>) -> AppResult<Plan> {
    let mut tx = cx.begin(tenant_id, None).await?;
    let mut row = db::plans::find(&mut *tx, tenant_id, id)
        .await?
        .ok_or(AppError::NotFound("plan"))?;
    apply(&mut row, &input)?;
    row.updated_at = now_ms();
    db::plans::update(&mut *tx, &row)
        .await
        .map_err(map_unique)?;
    tx.record(DomainEvent::PlanUpdated {
        plan_id: row.id.clone(),
        key: row.key.clone(),
    });
    tx.commit().await?;
    row.try_into()
}

/// Deletes a plan no workspace is subscribed to. The default plan cannot be deleted.
pub async fn delete(cx: &Ctx, tenant_id: &str, id: &str) -> AppResult<()> {
    let mut tx = cx.begin(tenant_id, None).await?;
    let row = db::plans::find(&mut *tx, tenant_id, id)
        .await?
        .ok_or(AppError::NotFound("plan"))?;
    if row.key == DEFAULT_PLAN_KEY {
        return Err(AppError::Conflict {
            code: "plan_in_use",
            message: "the default plan cannot be deleted".into(),
        });
    }
    let using = db::plans::subscriptions_using(&mut *tx, tenant_id, id).await?;
    if using > 0 {
        return Err(AppError::Conflict {
            code: "plan_in_use",
            message: format!(
                "{using} workspace(s) are subscribed to this plan; move them to another plan first"
            ),
        });
    }
    db::plans::delete(&mut *tx, tenant_id, id).await?;
    tx.record(DomainEvent::PlanDeleted {
        plan_id: id.to_string(),
    });
    tx.commit().await?;
    Ok(())
}

/// The tenant's default plan, created if it is missing (tenants made before plans existed
/// got one from migration 0010, new ones at creation; this covers any other path).
pub async fn ensure_default(conn: &mut AnyConnection, tenant_id: &str) -> AppResult<PlanRow> {
    if let Some(row) = db::plans::find_by_key(&mut *conn, tenant_id, DEFAULT_PLAN_KEY).await? {
        return Ok(row);
    }
    db::plans::insert_default(&mut *conn, &new_id(), tenant_id, DEFAULT_PLAN_KEY, now_ms()).await?;
    db::plans::find_by_key(&mut *conn, tenant_id, DEFAULT_PLAN_KEY)
        .await?
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("default plan missing after insert")))
}

/// The tenant's request limit per minute from its plan: the default plan's
/// `rate_limit_per_minute`, or `None` (no plan, or no limit set) to use the server's
/// `KANRI_RATE_LIMIT_PER_MINUTE`. The rate limiter calls this; the rule is per tenant, so it
/// is the default plan's that counts, whatever plans single workspaces are on.
pub async fn tenant_rate_limit(cx: &Ctx, tenant_id: &str) -> AppResult<Option<u32>> {
    let limit = db::plans::rate_limit_of(cx.db.read(), tenant_id, DEFAULT_PLAN_KEY).await?;
    Ok(limit.and_then(|l| u32::try_from(l).ok()))
}
