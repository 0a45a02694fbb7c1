-- TOTP two-factor sign-in. One row per user who started enrolment: the secret sealed with
-- ChaCha20-Poly1305 (never plain), enabled_at NULL until a code confirmed it, and the last
-- time step a code was accepted for, so no code is accepted twice (a conditional UPDATE).
CREATE TABLE user_two_factor (
    user_id       TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    tenant_id     TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    secret_sealed TEXT NOT NULL,
    enabled_at    INTEGER,
    last_step     INTEGER,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);

-- Single-use recovery codes, as SHA-256 of user id and code (80 random bits each); a used
-- code's row is deleted.
CREATE TABLE two_factor_recovery_codes (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash   TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    UNIQUE (user_id, code_hash)
);

-- A password sign-in of a two-factor account waiting for its code: the challenge token is
-- stored as SHA-256 only, lives five minutes and is used up by the sign-in it completes.
CREATE TABLE two_factor_challenges (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash  TEXT NOT NULL UNIQUE,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
);
CREATE INDEX two_factor_challenges_user ON two_factor_challenges (user_id);
CREATE INDEX two_factor_challenges_expires ON two_factor_challenges (expires_at);
