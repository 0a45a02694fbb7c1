-- Outgoing webhooks: a workspace's endpoints, the deliveries its events became, and each
-- delivery's attempts (the delivery log).
--
-- The signing secrets cannot be hashed (they sign every delivery), so they are stored
-- encrypted (ChaCha20-Poly1305 under a key derived from the server's signing key, see
-- src/webhooks/cipher.rs). A rotated-out secret keeps signing until previous_secret_until.
CREATE TABLE webhook_endpoints (
    id                     TEXT PRIMARY KEY,
    tenant_id              TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    workspace_id           TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    url                    TEXT NOT NULL,
    description            TEXT NOT NULL,
    -- A JSON array of event patterns: "task.created", "task.*", "*".
    events                 TEXT NOT NULL,
    enabled                INTEGER NOT NULL,
    secret                 TEXT NOT NULL,
    previous_secret        TEXT,
    previous_secret_until  INTEGER,
    -- When the current run of failed attempts began; NULL after a success.
    failing_since          INTEGER,
    created_at             INTEGER NOT NULL,
    updated_at             INTEGER NOT NULL
);
CREATE INDEX webhook_endpoints_workspace ON webhook_endpoints (tenant_id, workspace_id, id);

-- One message to one endpoint. Its body is fixed when the event commits; every attempt sends
-- it again under the same `webhook-id` (msg_ + id). status: pending, retrying, delivered, failed.
CREATE TABLE webhook_deliveries (
    id               TEXT PRIMARY KEY,
    tenant_id        TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    endpoint_id      TEXT NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    -- The activity row of the event; NULL for a test message.
    event_id         INTEGER,
    event_type       TEXT NOT NULL,
    body             TEXT NOT NULL,
    status           TEXT NOT NULL,
    attempts         INTEGER NOT NULL,
    next_attempt_at  INTEGER,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
);
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, id);

CREATE TABLE webhook_attempts (
    id             TEXT PRIMARY KEY,
    delivery_id    TEXT NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    attempt        INTEGER NOT NULL,
    attempted_at   INTEGER NOT NULL,
    status_code    INTEGER,
    duration_ms    INTEGER NOT NULL,
    error          TEXT,
    -- The first 1 KiB of the response body.
    response_body  TEXT
);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id, attempt);
