-- Webhook messages already received, by the provider's message id (Svix's `svix-id`). A
-- replayed or retried delivery finds its id here and is acknowledged without a second job.
-- A receipt is written in the transaction that enqueues the message's job.
-- Keyed by provider and id alone: the signature does not cover the tenant, so a delivery
-- re-sent with another tenant's key must count as the same message.
CREATE TABLE webhook_receipts (
    tenant_id    TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    provider     TEXT NOT NULL,
    event_id     TEXT NOT NULL,
    received_at  INTEGER NOT NULL,
    PRIMARY KEY (provider, event_id)
);
CREATE INDEX webhook_receipts_received ON webhook_receipts (received_at);
