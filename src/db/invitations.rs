use crate::domain::enums::{InvitationStatus, WorkspaceRole};
use sqlx::{Any, Executor};
use sqlx_macros::FromRow;

/// An invitation with its workspace's name, for showing to the inviter or the invited.
#[derive(Debug, Clone, FromRow)]
pub struct InvitationRow {
    pub id: String,
    pub workspace_id: String,
    pub workspace_name: String,
    pub email: String,
    pub email_normalized: String,
    pub role: WorkspaceRole,
    pub custom_role_id: Option<String>,
    pub message: Option<String>,
    pub status: InvitationStatus,
    pub invited_by: Option<String>,
    pub created_at: i64,
    pub expires_at: i64,
    pub responded_at: Option<i64>,
}

const SELECT: &str = "SELECT i.id, i.workspace_id, w.name AS workspace_name, i.email,
        i.email_normalized, i.role, i.custom_role_id, i.message, i.status, i.invited_by,
        i.created_at, i.expires_at, i.responded_at
    FROM invitations i JOIN workspaces w ON w.id = i.workspace_id";

pub struct NewInvitation<'a> {
    pub id: &'a str,
    pub tenant_id: &'a str,
    pub workspace_id: &'a str,
    pub email: &'a str,
    pub email_normalized: &'a str,
    pub role: WorkspaceRole,
    pub custom_role_id: Option<&'a str>,
    pub message: Option<&'a str>,
    pub token_hash: &'a str,
    pub invited_by: &'a str,
    pub now: i64,
    pub expires_at: i64,
}

pub async fn insert<'c>(
    ex: impl Executor<'c, Database = Any>,
    i: &NewInvitation<'_>,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO invitations (id, tenant_id, workspace_id, email, email_normalized, role,
            custom_role_id, message, token_hash, status, invited_by, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'PENDING', $10, $11, $12)",
    )
    .bind(i.id)
    .bind(i.tenant_id)
    .bind(i.workspace_id)
    .bind(i.email)
    .bind(i.email_normalized)
    .bind(i.role)
    .bind(i.custom_role_id)
    .bind(i.message)
    .bind(i.token_hash)
    .bind(i.invited_by)
    .bind(i.now)
    .bind(i.expires_at)
    .execute(ex)
    .await?;
    Ok(())
}

pub async fn find<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: &str,
    id: &str,
) -> sqlx::Result<Option<InvitationRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{SELECT} WHERE i.tenant_id = $1 AND i.id = $2"
    )))
    .bind(tenant_id)
    .bind(id)
    .fetch_optional(ex)
    .await
}

/// Is there a pending invitation for this address in the workspace that has not expired?
pub async fn pending_exists<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: &str,
    workspace_id: &str,
    email_normalized: &str,
    now: i64,
) -> sqlx::Result<bool> {
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM invitations
         WHERE tenant_id = $1 AND workspace_id = $2 AND email_normalized = $3
           AND status = 'PENDING' AND expires_at > $4",
    )
    .bind(tenant_id)
    .bind(workspace_id)
    .bind(email_normalized)
    .bind(now)
    .fetch_one(ex)
    .await?;
    Ok(n > 0)
}

/// Which invitations a list shows. `Expired` and `Pending` are told apart by `expires_at`,
/// since an expired invitation is still stored as pending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusFilter<'a> {
    Any,
    Pending,
    Expired,
    /// A stored final status: ACCEPTED, REJECTED or REVOKED.
    Stored(&'a str),
}

/// A page of a workspace's invitations in id (= creation) order after `after_id`.
pub async fn list_for_workspace<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: &str,
    workspace_id: &str,
    filter: StatusFilter<'_>,
    now: i64,
    after_id: Option<&str>,
    limit: i64,
) -> sqlx::Result<Vec<InvitationRow>> {
    // $4 selects the filter: 0 any, 1 pending, 2 expired, 3 a stored status ($5).
    let (mode, stored) = match filter {
        StatusFilter::Any => (0_i64, ""),
        StatusFilter::Pending => (1, ""),
        StatusFilter::Expired => (2, ""),
        StatusFilter::Stored(s) => (3, s),
    };
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{SELECT} WHERE i.tenant_id = $1 AND i.workspace_id = $2 AND i.id > $3
           AND ($4 = 0
             OR ($4 = 1 AND i.status = 'PENDING' AND i.expires_at > $6)
             OR ($4 = 2 AND i.status = 'PENDING' AND i.expires_at <= $6)
             OR ($4 = 3 AND i.status = $5))
         ORDER BY i.id LIMIT $7"
    )))
    .bind(tenant_id)
    .bind(workspace_id)
    .bind(after_id.unwrap_or(""))
    .bind(mode)
    .bind(stored)
    .bind(now)
    .bind(limit)
    .fetch_all(ex)
    .await
}

/// A page of the pending, unexpired invitations addressed to an email, across workspaces.
pub async fn list_pending_for_email<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: &str,
    email_normalized: &str,
    now: i64,
    after_id: Option<&str>,
    limit: i64,
) -> sqlx::Result<Vec<InvitationRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{SELECT} WHERE i.tenant_id = $1 AND i.email_normalized = $2 AND i.status = 'PENDING'
           AND i.expires_at > $3 AND i.id > $4
         ORDER BY i.id LIMIT $5"
    )))
    .bind(tenant_id)
    .bind(email_normalized)
    .bind(now)
    .bind(after_id.unwrap_or(""))
    .bind(limit)
    .fetch_all(ex)
    .await
}

/// Moves a pending, unexpired invitation to a final status. False when it was no longer
/// pending or had expired, so two concurrent answers cannot both succeed.
pub async fn respond<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: &str,
    id: &str,
    status: &str,
    now: i64,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE invitations SET status = $1, responded_at = $2
         WHERE tenant_id = $3 AND id = $4 AND status = 'PENDING' AND expires_at > $2",
    )
    .bind(status)
    .bind(now)
    .bind(tenant_id)
    .bind(id)
    .execute(ex)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Replaces the invitation's token (the email job makes a fresh one to send, so the plaintext
/// never rests in the database).
pub async fn set_token_hash<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: &str,
    id: &str,
    token_hash: &str,
) -> sqlx::Result<bool> {
    let done = sqlx::query("UPDATE invitations SET token_hash = $1 WHERE tenant_id = $2 AND id = $3 AND status = 'PENDING'")
        .bind(token_hash)
        .bind(tenant_id)
        .bind(id)
        .execute(ex)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// Deletes pending invitations that expired before `before`; returns how many.
pub async fn purge_expired<'c>(
    ex: impl Executor<'c, Database = Any>,
    before: i64,
) -> sqlx::Result<u64> {
    let done = sqlx::query("DELETE FROM invitations WHERE status = 'PENDING' AND expires_at <= $1")
        .bind(before)
        .execute(ex)
        .await?;
    Ok(done.rows_affected())
}

/// Does the invitation's current token have this hash?
pub async fn token_matches<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: &str,
    id: &str,
    token_hash: &str,
) -> sqlx::Result<bool> {
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM invitations WHERE tenant_id = $1 AND id = $2 AND token_hash = $3",
    )
    .bind(tenant_id)
    .bind(id)
    .bind(token_hash)
    .fetch_one(ex)
    .await?;
    Ok(n > 0)
}
