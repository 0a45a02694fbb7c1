-- The console's operator sessions, exchanged for the tenant's secret key (so the key itself
-- never sits in a browser) or, in single-tenant mode, for the signed-in account of an operator
-- named in KANRI_OPERATOR_EMAILS. A session ends with what it was made from: a revoked key
-- or a deleted account is joined out on every lookup (and cascades), and so is its tenant.
CREATE TABLE admin_sessions (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    key_id      TEXT REFERENCES api_keys (id) ON DELETE CASCADE,
    user_id     TEXT REFERENCES users (id) ON DELETE CASCADE,
    token_hash  TEXT NOT NULL UNIQUE,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    CHECK ((key_id IS NULL) <> (user_id IS NULL))
);
CREATE INDEX admin_sessions_expires ON admin_sessions (expires_at);
