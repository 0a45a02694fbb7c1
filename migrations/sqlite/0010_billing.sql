-- Plans, subscriptions and daily usage (issue 11).
--
-- A plan is one tenant's catalogue entry. A NULL limit means unlimited. Every tenant has the
-- plan `free` (no limits until the tenant sets some): inserted here for the tenants that exist
-- and by `services::tenants::create_tenant` for new ones.
CREATE TABLE plans (
    id                      TEXT PRIMARY KEY,
    tenant_id               TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    key                     TEXT NOT NULL,
    name                    TEXT NOT NULL,
    features                TEXT NOT NULL DEFAULT '[]',
    max_projects            INTEGER,
    max_members             INTEGER,
    max_storage_bytes       INTEGER,
    max_api_calls_per_month INTEGER,
    rate_limit_per_minute   INTEGER,
    stripe_price_id         TEXT,
    created_at              INTEGER NOT NULL,
    updated_at              INTEGER NOT NULL,
    UNIQUE (tenant_id, key)
);
CREATE UNIQUE INDEX plans_stripe_price ON plans (tenant_id, stripe_price_id)
    WHERE stripe_price_id IS NOT NULL;

INSERT INTO plans (id, tenant_id, key, name, created_at, updated_at)
SELECT 'plan_free_' || id, id, 'free', 'Free', created_at, created_at FROM tenants;

-- One subscription per workspace. The plan cannot be deleted while a subscription uses it
-- (the service answers 409 first; the foreign key is the backstop). The row is also what a
-- quota check locks on Postgres (`SELECT … FOR UPDATE`), so creates in one workspace that
-- count against a limit are serialised.
CREATE TABLE subscriptions (
    workspace_id           TEXT PRIMARY KEY REFERENCES workspaces (id) ON DELETE CASCADE,
    tenant_id              TEXT NOT NULL,
    plan_id                TEXT NOT NULL REFERENCES plans (id),
    status                 TEXT NOT NULL
        CHECK (status IN ('trialing', 'active', 'past_due', 'canceled')),
    current_period_start   INTEGER NOT NULL,
    current_period_end     INTEGER,
    stripe_customer_id     TEXT,
    stripe_subscription_id TEXT,
    -- Two ordering marks (`created` epoch seconds * 4 + the event kind's rank, see
    -- `services::stripe::mark`), one per stream: `customer.subscription.*` events set the
    -- plan, status and period and are ordered by `stripe_subscription_event_created`;
    -- checkout and invoice events set the links and (invoices) the status and are ordered by
    -- `stripe_event_created`. An event at or below its stream's mark changes nothing.
    stripe_event_created   INTEGER,
    stripe_subscription_event_created INTEGER,
    created_at             INTEGER NOT NULL,
    updated_at             INTEGER NOT NULL
);
CREATE INDEX subscriptions_plan ON subscriptions (plan_id);
CREATE INDEX subscriptions_customer ON subscriptions (stripe_customer_id)
    WHERE stripe_customer_id IS NOT NULL;
CREATE INDEX subscriptions_stripe ON subscriptions (stripe_subscription_id)
    WHERE stripe_subscription_id IS NOT NULL;

INSERT INTO subscriptions (workspace_id, tenant_id, plan_id, status, current_period_start,
                           created_at, updated_at)
SELECT w.id, w.tenant_id, p.id, 'active', w.created_at, w.created_at, w.created_at
FROM workspaces w JOIN plans p ON p.tenant_id = w.tenant_id AND p.key = 'free';

-- API calls per workspace and UTC day, added to by the in-memory batch's flush (upsert add).
CREATE TABLE usage_daily (
    workspace_id  TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    day           TEXT NOT NULL,
    tenant_id     TEXT NOT NULL,
    api_calls     INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (workspace_id, day)
);
