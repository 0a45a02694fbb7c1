-- OpenID Connect sign-in (KANRI_OIDC_*): which provider subject is which user, and the
-- sign-ins under way (state, nonce and PKCE verifier, for ten minutes).
CREATE TABLE oidc_identities (
    tenant_id   TEXT NOT NULL,
    provider    TEXT NOT NULL,
    subject     TEXT NOT NULL,
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, provider, subject)
);
CREATE INDEX oidc_identities_user ON oidc_identities (user_id);

-- Keyed by the SHA-256 of the state sent to the provider; used once.
CREATE TABLE oidc_logins (
    state_hash  TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL,
    provider    TEXT NOT NULL,
    nonce       TEXT NOT NULL,
    verifier    TEXT NOT NULL,
    return_to   TEXT,
    expires_at  BIGINT NOT NULL
);
CREATE INDEX oidc_logins_expiry ON oidc_logins (expires_at);
