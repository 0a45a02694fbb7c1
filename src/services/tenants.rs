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
use crate::services::key_usage::KeyUsage;
use crate::services::unit_of_work::UnitOfWork;
use crate::services::{Ctx, page};

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
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct KeyInfo {
    pub id: String,
    pub tenant_id: String,
    pub kind: KeyKind,
    pub name: String,
    /// The key's prefix and last characters, enough to recognise it.
    pub hint: String,
    pub created_at: String,
    /// Noted within a minute of use (uses are counted in memory and flushed).
    pub last_used_at: Option<String>,
    pub revoked_at: Option<String>,
}

impl TryFrom<ApiKeyRow> for KeyInfo {
    type Error = AppError;

    fn try_from(row: ApiKeyRow) -> AppResult<Self> {
        let kind = KeyKind::from_db(&row.kind)
            .ok_or_else(|| anyhow::anyhow!("api key {} has kind {}", row.id, row.kind))?;
        Ok(Self {
            id: row.id,
            tenant_id: row.tenant_id,
            kind,
            name: row.name,
            hint: row.key_hint,
            created_at: to_rfc3339(row.created_at),
            last_used_at: row.last_used_at.map(to_rfc3339),
            revoked_at: row.revoked_at.map(to_rfc3339),
        })
    }
}

/// The tenant and kind a presented key grants.
#[derive(Debug, Clone)]
pub struct ResolvedKey {
    /// The key presented; `None` for an operator's admin session made from their account.
    pub key_id: Option<String>,
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
    db::api_keys::list_for_tenant(cx.db.read(), tenant_id)
        .await?
        .into_iter()
        .map(KeyInfo::try_from)
        .collect()
}

/// A page of the tenant's keys, revoked ones included (they show when they stopped working).
pub async fn list_keys_page(
    cx: &Ctx,
    tenant_id: &str,
    after_id: Option<&str>,
    limit: u32,
) -> AppResult<(Vec<KeyInfo>, Option<String>)> {
    let rows =
        db::api_keys::list_page(cx.db.read(), tenant_id, after_id, page::fetch_size(limit)).await?;
    let (rows, next) = page::split(rows, limit, |r| r.id.clone());
    let items = rows
        .into_iter()
        .map(KeyInfo::try_from)
        .collect::<AppResult<_>>()?;
    Ok((items, next))
}

/// Revokes any tenant's key by id: the command line's break-glass path, which may revoke a
/// tenant's last secret key (a new one is one command away there).
pub async fn revoke_key(cx: &Ctx, key_id: &str) -> AppResult<()> {
    let tenant_id = db::api_keys::tenant_of(cx.db.read(), key_id)
        .await?
        .ok_or(AppError::NotFound("api key"))?;
    revoke(cx, &tenant_id, key_id, LastSecret::Allow).await
}

/// Revokes one of the tenant's own keys, as its operator over the API. The last unrevoked
/// secret key is refused: revoking it would lock the operator out of everything but the
/// command line.
pub async fn revoke_own_key(cx: &Ctx, tenant_id: &str, key_id: &str) -> AppResult<()> {
    revoke(cx, tenant_id, key_id, LastSecret::Keep).await
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LastSecret {
    Allow,
    Keep,
}

async fn revoke(cx: &Ctx, tenant_id: &str, key_id: &str, last: LastSecret) -> AppResult<()> {
    let not_found = || AppError::NotFound("api key");
    let mut tx = cx.begin(tenant_id, None).await?;
    // Serialises revocations in the tenant, so two at once cannot both pass the last-key check.
    db::tenants::lock(&mut *tx, tenant_id).await?;
    let row = db::api_keys::find(&mut *tx, tenant_id, key_id)
        .await?
        .filter(|k| k.revoked_at.is_none())
        .ok_or_else(not_found)?;
    if last == LastSecret::Keep
        && row.kind == KeyKind::Secret.as_str()
        && db::api_keys::count_active_secret(&mut *tx, tenant_id).await? <= 1
    {
        return Err(AppError::Conflict {
            code: "last_secret_key",
            message: "this is the tenant's last secret key; create another before revoking it"
                .into(),
        });
    }
    if !db::api_keys::revoke(&mut *tx, tenant_id, key_id, now_ms()).await? {
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
        key_id: Some(row.id),
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
        kind,
        name: name.to_string(),
        hint,
        created_at: to_rfc3339(now),
        last_used_at: None,
        revoked_at: None,
    };
    Ok((info, key))
}
