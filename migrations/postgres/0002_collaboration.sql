-- Workspaces, roles, invitations, projects, tasks, comments, activity and idempotency records.
-- Enum values are stored upper-case; times are epoch milliseconds; flags are INTEGER 0/1.

CREATE TABLE workspaces (
    id           TEXT PRIMARY KEY,
    tenant_id    TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    slug         TEXT NOT NULL,
    image_url    TEXT,
    owner_id     TEXT NOT NULL,
    personal_of  TEXT,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    UNIQUE (tenant_id, slug)
);
-- The seed's single-user world: one personal workspace per user, made on first use.
CREATE UNIQUE INDEX workspaces_personal ON workspaces (tenant_id, personal_of) WHERE personal_of IS NOT NULL;

CREATE TABLE roles (
    id           TEXT PRIMARY KEY,
    tenant_id    TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    permissions  TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    UNIQUE (tenant_id, name)
);

CREATE TABLE workspace_members (
    workspace_id    TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    user_id         TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    tenant_id       TEXT NOT NULL,
    role            TEXT NOT NULL CHECK (role IN ('OWNER', 'ADMIN', 'MEMBER', 'VIEWER')),
    custom_role_id  TEXT REFERENCES roles (id) ON DELETE SET NULL,
    created_at      BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, user_id)
);
CREATE INDEX workspace_members_user ON workspace_members (tenant_id, user_id);

CREATE TABLE invitations (
    id                TEXT PRIMARY KEY,
    tenant_id         TEXT NOT NULL,
    workspace_id      TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    email             TEXT NOT NULL,
    email_normalized  TEXT NOT NULL,
    role              TEXT NOT NULL CHECK (role IN ('ADMIN', 'MEMBER', 'VIEWER')),
    custom_role_id    TEXT REFERENCES roles (id) ON DELETE SET NULL,
    message           TEXT,
    token_hash        TEXT NOT NULL UNIQUE,
    status            TEXT NOT NULL CHECK (status IN ('PENDING', 'ACCEPTED', 'REJECTED', 'REVOKED')),
    invited_by        TEXT,
    created_at        BIGINT NOT NULL,
    expires_at        BIGINT NOT NULL,
    responded_at      BIGINT
);
CREATE INDEX invitations_workspace ON invitations (workspace_id, created_at);
CREATE INDEX invitations_email ON invitations (tenant_id, email_normalized);

CREATE TABLE projects (
    id            TEXT PRIMARY KEY,
    tenant_id     TEXT NOT NULL,
    workspace_id  TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    description   TEXT,
    status        TEXT NOT NULL CHECK (status IN ('PLANNING', 'ACTIVE', 'ON_HOLD', 'COMPLETED', 'CANCELLED')),
    priority      TEXT NOT NULL CHECK (priority IN ('LOW', 'MEDIUM', 'HIGH')),
    start_date    BIGINT,
    end_date      BIGINT,
    team_lead_id  TEXT REFERENCES users (id) ON DELETE SET NULL,
    created_by    TEXT,
    archived_at   BIGINT,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);
CREATE INDEX projects_workspace ON projects (workspace_id, created_at);

CREATE TABLE project_members (
    project_id  TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    tenant_id   TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (project_id, user_id)
);
CREATE INDEX project_members_user ON project_members (user_id);

CREATE TABLE tasks (
    id            TEXT PRIMARY KEY,
    tenant_id     TEXT NOT NULL,
    project_id    TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    title         TEXT NOT NULL,
    description   TEXT,
    status        TEXT NOT NULL CHECK (status IN ('TODO', 'IN_PROGRESS', 'DONE')),
    type          TEXT NOT NULL CHECK (type IN ('TASK', 'BUG', 'FEATURE', 'IMPROVEMENT', 'OTHER')),
    priority      TEXT NOT NULL CHECK (priority IN ('LOW', 'MEDIUM', 'HIGH')),
    assignee_id   TEXT REFERENCES users (id) ON DELETE SET NULL,
    due_date      BIGINT,
    position      TEXT COLLATE "C" NOT NULL,
    created_by    TEXT,
    completed_at  BIGINT,
    version       BIGINT NOT NULL,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);
CREATE INDEX tasks_project_position ON tasks (project_id, position, id);
CREATE INDEX tasks_project_created ON tasks (project_id, created_at, id);
CREATE INDEX tasks_project_updated ON tasks (project_id, updated_at, id);
CREATE INDEX tasks_project_due ON tasks (project_id, due_date, id);
CREATE INDEX tasks_assignee ON tasks (assignee_id);

CREATE TABLE comments (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL,
    task_id     TEXT NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    author_id   TEXT REFERENCES users (id) ON DELETE SET NULL,
    content     TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE INDEX comments_task ON comments (task_id, created_at, id);

-- Append-only; ids only grow. Project events go with their project.
CREATE TABLE activity (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id     TEXT NOT NULL,
    workspace_id  TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    project_id    TEXT REFERENCES projects (id) ON DELETE CASCADE,
    actor_id      TEXT,
    kind          TEXT NOT NULL,
    subject_type  TEXT NOT NULL,
    subject_id    TEXT NOT NULL,
    payload       TEXT NOT NULL,
    created_at    BIGINT NOT NULL
);
CREATE INDEX activity_project ON activity (project_id, id);
CREATE INDEX activity_workspace ON activity (workspace_id, id);

-- A create's first response, replayed for a retry with the same key. `scope` is a hash of the
-- caller's credentials, so keys of different callers never collide.
CREATE TABLE idempotency_keys (
    scope         TEXT NOT NULL,
    key           TEXT NOT NULL,
    request_hash  TEXT NOT NULL,
    status_code   BIGINT,
    response      TEXT,
    created_at    BIGINT NOT NULL,
    PRIMARY KEY (scope, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
