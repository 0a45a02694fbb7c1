//! Endpoint management. The secret is shown on create and on rotation only.

use serde::Serialize;

use super::{Manager, managed_endpoint, managing};
use crate::clock::{now_ms, to_rfc3339};
use crate::db::webhook_endpoints::{EndpointChange, EndpointRow};
use crate::db::{self};
use crate::domain::event::DomainEvent;
use crate::domain::webhook::{parse_description, parse_patterns, parse_url};
use crate::domain::{FieldError, Validator};
use crate::error::{AppError, AppResult};
use crate::ids::new_id;
use crate::services::Ctx;
use crate::services::access::Actor;
use crate::services::page;
use crate::webhooks::{WebhookSecret, Webhooks, client::literal_ip};

/// After a rotation the old secret signs beside the new one this long, so receivers can
/// switch over without dropping a message.
pub const ROTATION_OVERLAP_MS: i64 = 24 * 3_600_000;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Endpoint {
    pub id: String,
    pub workspace_id: String,
    pub url: String,
    pub description: String,
    /// Event patterns: `task.created`, `task.*`, `*`.
    pub events: Vec<String>,
    pub enabled: bool,
    /// Since when every attempt has failed; `null` while deliveries succeed. After 5 days the
    /// endpoint is disabled.
    pub failing_since: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

/// An endpoint with its signing secret, shown once: on create and on rotation.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EndpointWithSecret {
    #[serde(flatten)]
    pub endpoint: Endpoint,
    /// `whsec_` + base64 of the key; verify deliveries with it.
    pub secret: String,
}

impl TryFrom<EndpointRow> for Endpoint {
    type Error = AppError;

    fn try_from(row: EndpointRow) -> AppResult<Self> {
        Ok(Self {
            events: serde_json::from_str(&row.events).map_err(anyhow::Error::from)?,
            id: row.id,
            workspace_id: row.workspace_id,
            url: row.url,
            description: row.description,
            enabled: row.enabled != 0,
            failing_since: row.failing_since.map(to_rfc3339),
            created_at: to_rfc3339(row.created_at),
            updated_at: to_rfc3339(row.updated_at),
        })
    }
}

pub struct NewEndpoint<'a> {
    pub url: &'a str,
    pub events: &'a [String],
    pub description: Option<&'a str>,
    pub enabled: Option<bool>,
}

#[derive(Default)]
pub struct EndpointUpdate<'a> {
    pub url: Option<&'a str>,
    pub events: Option<&'a [String]>,
    pub description: Option<&'a str>,
    pub enabled: Option<bool>,
}

/// A URL that parses, and whose host, when it is an IP address, the guard lets through. A
/// host name is checked when it is connected to, on every attempt.
fn parse_target(hooks: &Webhooks, field: &str, input: &str) -> Result<String, FieldError> {
    let url = parse_url(field, input)?;
    if let Some(ip) = literal_ip(&url) {
        hooks
            .guard()
            .check(ip)
            .map_err(|b| FieldError::new(field, b.to_string()))?;
    }
    Ok(url.to_string())
}

fn patterns_json(field: &str, input: &[String]) -> Result<String, FieldError> {
    let patterns = parse_patterns(field, input)?;
    Ok(serde_json::to_string(&patterns).expect("strings serialise"))
}

pub async fn create(
    cx: &Ctx,
    hooks: &Webhooks,
    actor: &Actor,
    workspace_id: &str,
    input: NewEndpoint<'_>,
) -> AppResult<EndpointWithSecret> {
    managing(cx, actor, workspace_id).await?;
    let mut v = Validator::default();
    let url = v.field(parse_target(hooks, "url", input.url));
    let events = v.field(patterns_json("events", input.events));
    let description = v.field(parse_description(
        "description",
        input.description.unwrap_or(""),
    ));
    v.finish()?;
    let cipher = hooks.cipher()?;
    let secret = WebhookSecret::generate();
    let now = now_ms();
    let id = new_id();
    let row = EndpointRow {
        secret: cipher.seal(&id, &secret),
        id,
        tenant_id: actor.tenant_id.clone(),
        workspace_id: workspace_id.to_string(),
        url: url.expect("validated"),
        description: description.expect("validated"),
        events: events.expect("validated"),
        enabled: i64::from(input.enabled.unwrap_or(true)),
        previous_secret: None,
        previous_secret_until: None,
        failing_since: None,
        created_at: now,
        updated_at: now,
    };
    let mut tx = cx.begin_as(actor).await?;
    db::webhook_endpoints::insert(&mut *tx, &row).await?;
    tx.record(DomainEvent::WebhookCreated {
        workspace_id: row.workspace_id.clone(),
        endpoint_id: row.id.clone(),
        // Never the URL: its path and query often carry the receiver's token.
        host: url::Url::parse(&row.url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_owned))
            .unwrap_or_default(),
    });
    tx.commit().await?;
    Ok(EndpointWithSecret {
        endpoint: row.try_into()?,
        secret: secret.reveal(),
    })
}

pub async fn list(
    cx: &Ctx,
    actor: &Actor,
    workspace_id: &str,
    after_id: Option<&str>,
    limit: u32,
) -> AppResult<(Vec<Endpoint>, Option<String>)> {
    managing(cx, actor, workspace_id).await?;
    let rows = db::webhook_endpoints::list_page(
        cx.db.read(),
        &actor.tenant_id,
        workspace_id,
        after_id,
        page::fetch_size(limit),
    )
    .await?;
    endpoint_page(rows, limit)
}

/// A page of every endpoint in the tenant, for its operator.
pub async fn list_all(
    cx: &Ctx,
    tenant_id: &str,
    after_id: Option<&str>,
    limit: u32,
) -> AppResult<(Vec<Endpoint>, Option<String>)> {
    let rows = db::webhook_endpoints::list_tenant_page(
        cx.db.read(),
        tenant_id,
        after_id,
        page::fetch_size(limit),
    )
    .await?;
    endpoint_page(rows, limit)
}

/// A page of endpoints from one more row than `limit`, and the next page's cursor.
fn endpoint_page(rows: Vec<EndpointRow>, limit: u32) -> AppResult<(Vec<Endpoint>, Option<String>)> {
    let (rows, next) = page::split(rows, limit, |r| r.id.clone());
    let items = rows
        .into_iter()
        .map(Endpoint::try_from)
        .collect::<AppResult<_>>()?;
    Ok((items, next))
}

pub async fn get(cx: &Ctx, actor: &Actor, id: &str) -> AppResult<Endpoint> {
    managed_endpoint(cx, Manager::Member(actor), id)
        .await?
        .try_into()
}

pub async fn update(
    cx: &Ctx,
    hooks: &Webhooks,
    actor: &Actor,
    id: &str,
    input: EndpointUpdate<'_>,
) -> AppResult<Endpoint> {
    let row = managed_endpoint(cx, Manager::Member(actor), id).await?;
    let mut v = Validator::default();
    let url = input.url.map(|u| v.field(parse_target(hooks, "url", u)));
    let events = input.events.map(|e| v.field(patterns_json("events", e)));
    let description = input
        .description
        .map(|d| v.field(parse_description("description", d)));
    v.finish()?;
    let (url, events, description) = (url.flatten(), events.flatten(), description.flatten());
    let mut fields = Vec::new();
    for (name, given) in [
        ("url", url.is_some()),
        ("events", events.is_some()),
        ("description", description.is_some()),
        ("enabled", input.enabled.is_some()),
    ] {
        if given {
            fields.push(name);
        }
    }
    if fields.is_empty() {
        return row.try_into();
    }
    let change = EndpointChange {
        url: url.as_deref(),
        description: description.as_deref(),
        events: events.as_deref(),
        enabled: input.enabled,
    };
    let mut tx = cx.begin_as(actor).await?;
    if !db::webhook_endpoints::update(&mut *tx, &actor.tenant_id, id, &change, now_ms()).await? {
        return Err(AppError::NotFound("webhook"));
    }
    let updated = db::webhook_endpoints::find(&mut *tx, &actor.tenant_id, id)
        .await?
        .ok_or(AppError::NotFound("webhook"))?;
    tx.record(DomainEvent::WebhookUpdated {
        workspace_id: row.workspace_id,
        endpoint_id: row.id,
        fields,
    });
    tx.commit().await?;
    updated.try_into()
}

/// Deletes the endpoint with its deliveries; their pending jobs find nothing and end.
pub async fn delete(cx: &Ctx, actor: &Actor, id: &str) -> AppResult<()> {
    let row = managed_endpoint(cx, Manager::Member(actor), id).await?;
    let mut tx = cx.begin_as(actor).await?;
    if !db::webhook_endpoints::delete(&mut *tx, &actor.tenant_id, id).await? {
        return Err(AppError::NotFound("webhook"));
    }
    tx.record(DomainEvent::WebhookDeleted {
        workspace_id: row.workspace_id,
        endpoint_id: row.id,
    });
    tx.commit().await
}

/// A new secret, shown once; the current one keeps signing beside it for 24 hours (a second
/// rotation within that time retires the oldest at once).
pub async fn rotate_secret(
    cx: &Ctx,
    hooks: &Webhooks,
    actor: &Actor,
    id: &str,
) -> AppResult<EndpointWithSecret> {
    let row = managed_endpoint(cx, Manager::Member(actor), id).await?;
    let cipher = hooks.cipher()?;
    let secret = WebhookSecret::generate();
    let now = now_ms();
    let mut tx = cx.begin_as(actor).await?;
    let sealed = cipher.seal(&row.id, &secret);
    let until = now + ROTATION_OVERLAP_MS;
    if !db::webhook_endpoints::rotate(&mut *tx, &actor.tenant_id, id, &sealed, until, now).await? {
        return Err(AppError::NotFound("webhook"));
    }
    let updated = db::webhook_endpoints::find(&mut *tx, &actor.tenant_id, id)
        .await?
        .ok_or(AppError::NotFound("webhook"))?;
    tx.record(DomainEvent::WebhookUpdated {
        workspace_id: row.workspace_id,
        endpoint_id: row.id,
        fields: vec!["secret"],
    });
    tx.commit().await?;
    Ok(EndpointWithSecret {
        endpoint: updated.try_into()?,
        secret: secret.reveal(),
    })
}
