-- Events that belong to no workspace (a user, a role, an API key, a deleted workspace) are
-- logged at tenant level: `workspace_id` becomes optional. SQLite cannot drop NOT NULL in
-- place, so the table is rebuilt with the same ids (nothing references it).
CREATE TABLE activity_rebuilt (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id     TEXT NOT NULL,
    workspace_id  TEXT REFERENCES workspaces (id) ON DELETE CASCADE,
    project_id    TEXT REFERENCES projects (id) ON DELETE CASCADE,
    actor_id      TEXT,
    kind          TEXT NOT NULL,
    subject_type  TEXT NOT NULL,
    subject_id    TEXT NOT NULL,
    payload       TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    task_id       TEXT,
    user_id       TEXT
);
INSERT INTO activity_rebuilt (id, tenant_id, workspace_id, project_id, actor_id, kind,
    subject_type, subject_id, payload, created_at, task_id, user_id)
SELECT id, tenant_id, workspace_id, project_id, actor_id, kind, subject_type, subject_id,
    payload, created_at, task_id, user_id FROM activity;
DROP TABLE activity;
ALTER TABLE activity_rebuilt RENAME TO activity;
CREATE INDEX activity_project ON activity (project_id, id);
CREATE INDEX activity_workspace ON activity (workspace_id, id);
CREATE INDEX activity_task ON activity (task_id, id) WHERE task_id IS NOT NULL;
CREATE INDEX activity_user ON activity (user_id, id) WHERE user_id IS NOT NULL;
CREATE INDEX activity_tenant ON activity (tenant_id, id);
