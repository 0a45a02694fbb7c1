-- Labels, subtasks and relations, recurring tasks, estimates and time tracking (issue 14).

-- A subtask's parent is a task of the same project; deleting the parent makes its subtasks
-- top-level tasks rather than deleting work.
ALTER TABLE tasks ADD COLUMN parent_id TEXT REFERENCES tasks (id) ON DELETE SET NULL;
ALTER TABLE tasks ADD COLUMN estimate_minutes INTEGER;
-- An RFC 5545 RRULE subset (`domain::recurrence`); completing the task creates the next one.
ALTER TABLE tasks ADD COLUMN recurrence TEXT;
-- The occurrence created when this one was completed: set once, so it is created once.
ALTER TABLE tasks ADD COLUMN recurrence_next_id TEXT;
CREATE INDEX tasks_parent ON tasks (parent_id, status);

CREATE TABLE labels (
    id            TEXT PRIMARY KEY,
    tenant_id     TEXT NOT NULL,
    workspace_id  TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    color         TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);
CREATE UNIQUE INDEX labels_workspace_name ON labels (workspace_id, LOWER(name));

CREATE TABLE task_labels (
    task_id   TEXT NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    label_id  TEXT NOT NULL REFERENCES labels (id) ON DELETE CASCADE,
    tenant_id TEXT NOT NULL,
    PRIMARY KEY (task_id, label_id)
);
CREATE INDEX task_labels_label ON task_labels (label_id, task_id);

-- BLOCKED_BY and DUPLICATED_BY are these rows read from the other end.
CREATE TABLE task_relations (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL,
    task_id     TEXT NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    related_id  TEXT NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    kind        TEXT NOT NULL CHECK (kind IN ('BLOCKS', 'RELATES_TO', 'DUPLICATES')),
    created_by  TEXT,
    created_at  INTEGER NOT NULL,
    CHECK (task_id <> related_id),
    UNIQUE (task_id, related_id, kind)
);
CREATE INDEX task_relations_related ON task_relations (related_id);

CREATE TABLE time_entries (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL,
    task_id     TEXT NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    project_id  TEXT NOT NULL,
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    started_at  INTEGER NOT NULL,
    -- NULL while the timer runs.
    ended_at    INTEGER,
    note        TEXT,
    created_at  INTEGER NOT NULL,
    CHECK (ended_at IS NULL OR ended_at >= started_at)
);
CREATE INDEX time_entries_task ON time_entries (task_id, started_at);
CREATE INDEX time_entries_project ON time_entries (project_id, user_id);
-- One running timer per person.
CREATE UNIQUE INDEX time_entries_running ON time_entries (user_id) WHERE ended_at IS NULL;
