-- Workspace exports (`kanri export`, `POST /v1/workspaces/{id}/exports`): one row per request
-- with its state and progress, and where the finished archive is stored. The
-- `workspace:export` job fills it in; `GET …/exports/{id}` reads it.
CREATE TABLE exports (
    id            TEXT PRIMARY KEY,
    tenant_id     TEXT NOT NULL,
    workspace_id  TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    requested_by  TEXT,
    state         TEXT NOT NULL CHECK (state IN ('QUEUED', 'RUNNING', 'DONE', 'FAILED')),
    -- Rows and files written so far, of `total` (known once the rows are read).
    progress      BIGINT NOT NULL,
    total         BIGINT NOT NULL,
    storage_key   TEXT,
    size_bytes    BIGINT,
    error         TEXT,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);
CREATE INDEX exports_workspace ON exports (workspace_id, created_at);

-- Archive imports over the API (`POST /v1/imports`): the uploaded archive waits under
-- `staging_key` until the `workspace:import` job has imported it (or refused it), then is deleted.
CREATE TABLE imports (
    id           TEXT PRIMARY KEY,
    tenant_id    TEXT NOT NULL,
    state        TEXT NOT NULL CHECK (state IN ('QUEUED', 'RUNNING', 'DONE', 'FAILED')),
    remap_ids    BIGINT NOT NULL,
    staging_key  TEXT NOT NULL,
    progress     BIGINT NOT NULL,
    total        BIGINT NOT NULL,
    -- JSON: the summary when DONE, the error (code, message, details) when FAILED.
    result       TEXT,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);
