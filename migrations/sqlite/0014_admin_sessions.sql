-- The console's operator sessions: a tenant's secret key exchanged for a short-lived token, so
-- the key itself never sits in a browser. A session ends with its key (revoked keys are joined
-- out on every lookup) and with its tenant.
CREATE TABLE admin_sessions (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    key_id      TEXT NOT NULL REFERENCES api_keys (id) ON DELETE CASCADE,
    token_hash  TEXT NOT NULL UNIQUE,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
);
CREATE INDEX admin_sessions_expires ON admin_sessions (expires_at);
