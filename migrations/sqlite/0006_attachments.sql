-- Files attached to tasks. The bytes live in object storage under `storage_key`
-- (`{tenant}/{workspace}/{attachment id}`, made by us, never from a client's file name).
--
-- `task_id`, `project_id` and `workspace_id` carry no foreign keys on purpose: deleting a task
-- or project must not take these rows with it before the purge job has deleted the stored
-- objects. Instead the delete marks them (`deleted_at`) in its own transaction and enqueues
-- `attachments:purge`, which removes the object and then the row. Marked rows are invisible.
CREATE TABLE attachments (
    id            TEXT PRIMARY KEY,
    tenant_id     TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    workspace_id  TEXT NOT NULL,
    project_id    TEXT NOT NULL,
    task_id       TEXT NOT NULL,
    uploaded_by   TEXT,
    filename      TEXT NOT NULL,
    content_type  TEXT NOT NULL,
    size_bytes    INTEGER NOT NULL,
    sha256        TEXT NOT NULL,
    storage_key   TEXT NOT NULL UNIQUE,
    created_at    INTEGER NOT NULL,
    deleted_at    INTEGER
);
CREATE INDEX attachments_task ON attachments (task_id, id) WHERE deleted_at IS NULL;
CREATE INDEX attachments_project ON attachments (project_id) WHERE deleted_at IS NULL;
CREATE INDEX attachments_deleted ON attachments (deleted_at) WHERE deleted_at IS NOT NULL;

-- Bytes stored per workspace, changed in the transaction that adds or removes an attachment.
CREATE TABLE workspace_usage (
    workspace_id   TEXT PRIMARY KEY REFERENCES workspaces (id) ON DELETE CASCADE,
    tenant_id      TEXT NOT NULL,
    storage_bytes  INTEGER NOT NULL DEFAULT 0,
    updated_at     INTEGER NOT NULL
);
