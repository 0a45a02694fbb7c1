//! Tenants and their API keys.

use serde::Serialize;

use crate::clock::{now_ms, to_rfc3339};
use crate::db::api_keys::{ApiKeyRow, NewApiKey};
use crate::db::tenants::TenantRow;
use crate::db::{self};
use crate::domain::event::DomainEvent;
use crate::domain::{ApiKey, KeyKind};
use crate::error::{AppError, AppResult, AuthFailure};
use crate::ids::new_id;
use crate::services::Ctx;
use crate::services::key_usage::KeyUsage;
use crate::services::unit_of_work::UnitOfWork;

const MAX_NAME_CHARS: usize = 100;

#[derive(Debug, Clone, Serialize)]
pub struct Tenant {
    pub id: String,
    pub name: String,
}

/// A new tenant with its first pair of keys, shown this once.
#[derive(Debug)]
pub struct CreatedTenant {
    pub tenant: Tenant,
    pub secret_key: ApiKey,
    pub publishable_key: ApiKey,
}

/// A key as listings show it: a hint, never the key.
#[derive(Debug, Clone, Serialize)]
pub struct KeyInfo {
    pub id: String,
    pub tenant_id: String,
    pub kind: String,
    pub name: String,
    pub hint: String,
    pub created_at: String,
    pub last_used_at: Option<String>,
    pub revoked_at: Option<String>,
}

impl From<ApiKeyRow> for KeyInfo {
    fn from(row: ApiKeyRow) -> Self {
        Self {
            id: row.id,
            tenant_id: row.tenant_id,
            kind: row.kind,
            name: row.name,
            hint: row.key_hint,
            created_at: to_rfc3339(row.created_at),
            last_used_at: row.last_used_at.map(to_rfc3339),
            revoked_at: row.revoked_at.map(to_rfc3339),
        }
    }
}

/// The tenant and kind a presented key grants.
#[derive(Debug, Clone)]
pub struct ResolvedKey {
    pub key_id: String,
    pub tenant_id: String,
    pub kind: KeyKind,
}

fn parse_name(name: &str) -> AppResult<String> {
    let name = name.trim();
    if name.is_empty()
        || name.chars().count() > MAX_NAME_CHARS
        || name.chars().any(char::is_control)
    {
        return Err(AppError::validation(
            "name",
            "must be 1–100 characters without control characters",
        ));
    }
    Ok(name.to_string())
}

pub async fn create_tenant(cx: &Ctx, name: &str) -> AppResult<CreatedTenant> {
    let name = parse_name(name)?;
    let row = TenantRow {
        id: new_id(),
        name,
        created_at: now_ms(),
    };
    let mut tx = cx.begin(&row.id, None).await?;
    db::tenants::insert(&mut *tx, &row).await?;
    crate::services::plans::ensure_default(&mut tx, &row.id).await?;
    let secret_key = insert_key(&mut tx, &row.id, KeyKind::Secret, "default")
        .await?
        .1;
    let publishable_key = insert_key(&mut tx, &row.id, KeyKind::Publishable, "default")
        .await?
        .1;
    tx.commit().await?;
    Ok(CreatedTenant {
        tenant: Tenant {
            id: row.id,
            name: row.name,
        },
        secret_key,
        publishable_key,
    })
}

pub async fn list_tenants(cx: &Ctx) -> AppResult<Vec<Tenant>> {
    Ok(db::tenants::list(cx.db.read())
        .await?
        .into_iter()
        .map(|r| Tenant {
            id: r.id,
            name: r.name,
        })
        .collect())
}

/// Issues a new key for an existing tenant.
pub async fn create_key(
    cx: &Ctx,
    tenant_id: &str,
    kind: KeyKind,
    name: &str,
) -> AppResult<(KeyInfo, ApiKey)> {
    let name = parse_name(name)?;
    let mut tx = cx.begin(tenant_id, None).await?;
    if db::tenants::find(&mut *tx, tenant_id).await?.is_none() {
        return Err(AppError::NotFound("tenant"));
    }
    let (info, key) = insert_key(&mut tx, tenant_id, kind, &name).await?;
    tx.commit().await?;
    Ok((info, key))
}

pub async fn list_keys(cx: &Ctx, tenant_id: &str) -> AppResult<Vec<KeyInfo>> {
    Ok(db::api_keys::list_for_tenant(cx.db.read(), tenant_id)
        .await?
        .into_iter()
        .map(KeyInfo::from)
        .collect())
}

pub async fn revoke_key(cx: &Ctx, key_id: &str) -> AppResult<()> {
    let not_found = || AppError::NotFound("api key");
    let tenant_id = db::api_keys::tenant_of(cx.db.read(), key_id)
        .await?
        .ok_or_else(not_found)?;
    let mut tx = cx.begin(&tenant_id, None).await?;
    if !db::api_keys::revoke(&mut *tx, key_id, now_ms()).await? {
        return Err(not_found());
    }
    tx.record(DomainEvent::KeyRevoked {
        key_id: key_id.to_string(),
    });
    tx.commit().await?;
    Ok(())
}

/// Checks a presented key and notes its use. Malformed, unknown and revoked keys all give the
/// same answer.
pub async fn resolve_key(cx: &Ctx, usage: &KeyUsage, raw: &str) -> AppResult<ResolvedKey> {
    let invalid = AppError::Unauthenticated(AuthFailure::InvalidApiKey);
    let key = ApiKey::parse(raw).ok_or(invalid)?;
    let row = db::api_keys::find_active_by_hash(cx.db.read(), &key.hash())
        .await?
        .ok_or(AppError::Unauthenticated(AuthFailure::InvalidApiKey))?;
    usage.record(&row.id);
    Ok(ResolvedKey {
        key_id: row.id,
        tenant_id: row.tenant_id,
        kind: key.kind(),
    })
}

/// Issues a key and records its event in `tx`.
async fn insert_key(
    tx: &mut UnitOfWork,
    tenant_id: &str,
    kind: KeyKind,
    name: &str,
) -> AppResult<(KeyInfo, ApiKey)> {
    let key = ApiKey::generate(kind);
    let id = new_id();
    let now = now_ms();
    let hint = key.hint();
    db::api_keys::insert(
        &mut **tx,
        &NewApiKey {
            id: &id,
            tenant_id,
            kind: kind.as_str(),
            name,
            key_hash: &key.hash(),
            key_hint: &hint,
            now,
        },
    )
    .await?;
    tx.record(DomainEvent::KeyCreated {
        key_id: id.clone(),
        kind: kind.as_str(),
        name: name.to_string(),
    });
    let info = KeyInfo {
        id,
        tenant_id: tenant_id.to_string(),
        kind: kind.as_str().to_string(),
        name: name.to_string(),
        hint,
        created_at: to_rfc3339(now),
        last_used_at: None,
        revoked_at: None,
    };
    Ok((info, key))
}
