-- Search: a full-text index over tasks (title, description, comments) kept in step by
-- triggers, so every write that changes a task or comment updates it in the same transaction
-- without service code; task embeddings with the identity of the model that made them; and a
-- per-project generation that every embedding write and task deletion bumps, so each instance
-- can tell cheaply whether its in-memory vectors are stale.

-- FTS5 needs an integer rowid and task ids are text. `rowid` of `tasks` is not stable (VACUUM
-- may renumber a table without an INTEGER PRIMARY KEY), so each task gets its own document
-- number here.
CREATE TABLE search_docs (
    doc      INTEGER PRIMARY KEY AUTOINCREMENT,
    task_id  TEXT NOT NULL UNIQUE
);

CREATE VIRTUAL TABLE task_fts USING fts5 (
    title, description, comments,
    tokenize = 'porter unicode61 remove_diacritics 2'
);

CREATE TRIGGER task_fts_insert AFTER INSERT ON tasks BEGIN
    INSERT INTO search_docs (task_id) VALUES (new.id);
    INSERT INTO task_fts (rowid, title, description, comments)
    VALUES ((SELECT doc FROM search_docs WHERE task_id = new.id), new.title,
            COALESCE(new.description, ''), '');
END;

-- Every task update sets these columns (COALESCE with the old value), so the WHEN clause keeps
-- status or position changes from rewriting the document.
CREATE TRIGGER task_fts_update AFTER UPDATE OF title, description ON tasks
WHEN old.title IS NOT new.title OR old.description IS NOT new.description BEGIN
    UPDATE task_fts SET title = new.title, description = COALESCE(new.description, '')
    WHERE rowid = (SELECT doc FROM search_docs WHERE task_id = new.id);
END;

CREATE TRIGGER task_fts_delete AFTER DELETE ON tasks BEGIN
    DELETE FROM task_fts WHERE rowid = (SELECT doc FROM search_docs WHERE task_id = old.id);
    DELETE FROM search_docs WHERE task_id = old.id;
    UPDATE search_generations SET generation = generation + 1 WHERE project_id = old.project_id;
END;

CREATE TRIGGER task_fts_comment_insert AFTER INSERT ON comments BEGIN
    UPDATE task_fts
    SET comments = COALESCE((SELECT group_concat(content, ' ') FROM comments WHERE task_id = new.task_id), '')
    WHERE rowid = (SELECT doc FROM search_docs WHERE task_id = new.task_id);
END;

CREATE TRIGGER task_fts_comment_update AFTER UPDATE OF content ON comments BEGIN
    UPDATE task_fts
    SET comments = COALESCE((SELECT group_concat(content, ' ') FROM comments WHERE task_id = new.task_id), '')
    WHERE rowid = (SELECT doc FROM search_docs WHERE task_id = new.task_id);
END;

CREATE TRIGGER task_fts_comment_delete AFTER DELETE ON comments BEGIN
    UPDATE task_fts
    SET comments = COALESCE((SELECT group_concat(content, ' ') FROM comments WHERE task_id = old.task_id), '')
    WHERE rowid = (SELECT doc FROM search_docs WHERE task_id = old.task_id);
END;

-- Vectors are little-endian f32, unit length. `model` is the embedder's full identity; vectors
-- of different models are never compared. `content_hash` lets a job skip unchanged text.
CREATE TABLE task_embeddings (
    task_id       TEXT PRIMARY KEY REFERENCES tasks (id) ON DELETE CASCADE,
    tenant_id     TEXT NOT NULL,
    project_id    TEXT NOT NULL,
    model         TEXT NOT NULL,
    dims          INTEGER NOT NULL,
    vector        BLOB NOT NULL,
    content_hash  TEXT NOT NULL,
    generation    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);
CREATE INDEX task_embeddings_project ON task_embeddings (project_id, model, generation);

CREATE TABLE search_generations (
    project_id  TEXT PRIMARY KEY REFERENCES projects (id) ON DELETE CASCADE,
    tenant_id   TEXT NOT NULL,
    generation  INTEGER NOT NULL
);

-- Backfill what already exists.
INSERT INTO search_docs (task_id) SELECT id FROM tasks ORDER BY id;
INSERT INTO task_fts (rowid, title, description, comments)
SELECT d.doc, t.title, COALESCE(t.description, ''),
       COALESCE((SELECT group_concat(c.content, ' ') FROM comments c WHERE c.task_id = t.id), '')
FROM tasks t JOIN search_docs d ON d.task_id = t.id;
