//! Writes that span tables when an identity provider removes a person.

/// Removes a user with their project and workspace memberships and their sessions, on `conn`
/// (one transaction). The foreign keys would cascade too; deleting explicitly, by tenant, keeps
/// the effect visible here and independent of `PRAGMA foreign_keys`. Rows that merely mention
/// the user (task assignee, comment author, project lead) are cleared by `ON DELETE SET NULL`.
/// Returns whether the user existed.
pub async fn remove_user(
    conn: &mut sqlx::AnyConnection,
    tenant_id: &str,
    user_id: &str,
) -> sqlx::Result<bool> {
    for statement in [
        "DELETE FROM project_members WHERE tenant_id = $1 AND user_id = $2",
        "DELETE FROM workspace_members WHERE tenant_id = $1 AND user_id = $2",
        "DELETE FROM sessions WHERE tenant_id = $1 AND user_id = $2",
    ] {
        sqlx::query(statement)
            .bind(tenant_id)
            .bind(user_id)
            .execute(&mut *conn)
            .await?;
    }
    let done = sqlx::query("DELETE FROM users WHERE tenant_id = $1 AND id = $2")
        .bind(tenant_id)
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected() > 0)
}
