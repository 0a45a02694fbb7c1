-- Webhook messages already received, by the provider's message id (Svix's `svix-id`). A
-- replayed or retried delivery finds its id here and is acknowledged without a second job.
-- A receipt is written in the transaction that enqueues the message's job.
CREATE TABLE webhook_receipts (
    tenant_id    TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    provider     TEXT NOT NULL,
    event_id     TEXT NOT NULL,
    received_at  BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, provider, event_id)
);
CREATE INDEX webhook_receipts_received ON webhook_receipts (received_at);
