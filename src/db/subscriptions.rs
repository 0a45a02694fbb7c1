//! One subscription per workspace: its plan, status, period and Stripe links.

use sqlx::{Any, Executor};
use sqlx_macros::FromRow;

use crate::config::Engine;

#[derive(Debug, Clone, FromRow)]
pub struct SubscriptionRow {
    pub workspace_id: String,
    pub tenant_id: String,
    pub plan_id: String,
    pub status: String,
    pub current_period_start: i64,
    pub current_period_end: Option<i64>,
    pub stripe_customer_id: Option<String>,
    pub stripe_subscription_id: Option<String>,
    pub stripe_event_created: Option<i64>,
    pub stripe_subscription_event_created: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

const COLUMNS: &str = "workspace_id, tenant_id, plan_id, status, current_period_start, \
    current_period_end, stripe_customer_id, stripe_subscription_id, stripe_event_created, \
    stripe_subscription_event_created, created_at, updated_at";

pub async fn insert<'c>(
    ex: impl Executor<'c, Database = Any>,
    s: &SubscriptionRow,
) -> sqlx::Result<()> {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO subscriptions ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
    )))
    .bind(&s.workspace_id)
    .bind(&s.tenant_id)
    .bind(&s.plan_id)
    .bind(&s.status)
    .bind(s.current_period_start)
    .bind(s.current_period_end)
    .bind(&s.stripe_customer_id)
    .bind(&s.stripe_subscription_id)
    .bind(s.stripe_event_created)
    .bind(s.stripe_subscription_event_created)
    .bind(s.created_at)
    .bind(s.updated_at)
    .execute(ex)
    .await?;
    Ok(())
}

pub async fn find<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: &str,
    workspace_id: &str,
) -> sqlx::Result<Option<SubscriptionRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM subscriptions WHERE tenant_id = $1 AND workspace_id = $2"
    )))
    .bind(tenant_id)
    .bind(workspace_id)
    .fetch_optional(ex)
    .await
}

/// The subscription, locked until the transaction ends, so creates that count against its
/// plan's limits run one at a time per workspace. On SQLite the write transaction
/// (`BEGIN IMMEDIATE`) already holds the database's write lock, so a plain read serialises
/// as well; on Postgres the row lock does it, and the count that follows (a new statement
/// under READ COMMITTED) sees every create committed before the lock was granted.
pub async fn lock<'c>(
    ex: impl Executor<'c, Database = Any>,
    engine: Engine,
    tenant_id: &str,
    workspace_id: &str,
) -> sqlx::Result<Option<SubscriptionRow>> {
    let lock = match engine {
        Engine::Sqlite => "",
        Engine::Postgres => " FOR UPDATE",
    };
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM subscriptions WHERE tenant_id = $1 AND workspace_id = $2{lock}"
    )))
    .bind(tenant_id)
    .bind(workspace_id)
    .fetch_optional(ex)
    .await
}

/// A subscription found through a Stripe id column (`stripe_subscription_id` or
/// `stripe_customer_id`), in any tenant: the Stripe account is the server's, and its ids are
/// unique in it.
pub async fn find_by_stripe<'c>(
    ex: impl Executor<'c, Database = Any>,
    column: StripeId,
    value: &str,
) -> sqlx::Result<Option<SubscriptionRow>> {
    let column = match column {
        StripeId::Subscription => "stripe_subscription_id",
        StripeId::Customer => "stripe_customer_id",
    };
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM subscriptions WHERE {column} = $1 ORDER BY updated_at DESC LIMIT 1"
    )))
    .bind(value)
    .fetch_optional(ex)
    .await
}

#[derive(Debug, Clone, Copy)]
pub enum StripeId {
    Subscription,
    Customer,
}

/// The workspace plan's monthly API-call allowance and the subscription's period, in one read
/// (this runs on every request that resolves a workspace). `None` without a subscription.
pub async fn api_allowance<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: &str,
    workspace_id: &str,
) -> sqlx::Result<Option<(Option<i64>, i64, Option<i64>)>> {
    sqlx::query_as(
        "SELECT p.max_api_calls_per_month, s.current_period_start, s.current_period_end
         FROM subscriptions s JOIN plans p ON p.id = s.plan_id
         WHERE s.tenant_id = $1 AND s.workspace_id = $2",
    )
    .bind(tenant_id)
    .bind(workspace_id)
    .fetch_optional(ex)
    .await
}

/// A workspace's subscription by the workspace id alone, in any tenant: a Stripe event names
/// its workspace in the signed body, and that is how its tenant is found.
pub async fn find_any_tenant<'c>(
    ex: impl Executor<'c, Database = Any>,
    workspace_id: &str,
) -> sqlx::Result<Option<SubscriptionRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM subscriptions WHERE workspace_id = $1"
    )))
    .bind(workspace_id)
    .fetch_optional(ex)
    .await
}

/// Writes the plan, status, period and Stripe fields of `s`.
pub async fn update<'c>(
    ex: impl Executor<'c, Database = Any>,
    s: &SubscriptionRow,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE subscriptions SET plan_id = $3, status = $4, current_period_start = $5,
                current_period_end = $6, stripe_customer_id = $7, stripe_subscription_id = $8,
                stripe_event_created = $9, updated_at = $10,
                stripe_subscription_event_created = $11
         WHERE tenant_id = $1 AND workspace_id = $2",
    )
    .bind(&s.tenant_id)
    .bind(&s.workspace_id)
    .bind(&s.plan_id)
    .bind(&s.status)
    .bind(s.current_period_start)
    .bind(s.current_period_end)
    .bind(&s.stripe_customer_id)
    .bind(&s.stripe_subscription_id)
    .bind(s.stripe_event_created)
    .bind(s.updated_at)
    .bind(s.stripe_subscription_event_created)
    .execute(ex)
    .await?;
    Ok(done.rows_affected() > 0)
}
