-- Search: a full-text document per task (title A, description B, comments C) kept in step by
-- triggers, so every write that changes a task or comment updates it in the same transaction
-- without service code; task embeddings with the identity of the model that made them; and a
-- per-project generation that every embedding write and task deletion bumps, so each instance
-- can tell cheaply whether its in-memory vectors are stale.

CREATE TABLE task_search (
    task_id   TEXT PRIMARY KEY REFERENCES tasks (id) ON DELETE CASCADE,
    document  tsvector NOT NULL
);
CREATE INDEX task_search_document ON task_search USING GIN (document);

CREATE FUNCTION kanri_task_search_refresh(p_task TEXT) RETURNS void AS $$
    INSERT INTO task_search (task_id, document)
    SELECT t.id,
           setweight(to_tsvector('english', t.title), 'A')
        || setweight(to_tsvector('english', COALESCE(t.description, '')), 'B')
        || setweight(to_tsvector('english', COALESCE(
               (SELECT string_agg(c.content, ' ' ORDER BY c.created_at, c.id)
                FROM comments c WHERE c.task_id = t.id), '')), 'C')
    FROM tasks t WHERE t.id = p_task
    ON CONFLICT (task_id) DO UPDATE SET document = EXCLUDED.document;
$$ LANGUAGE sql;

CREATE FUNCTION kanri_task_search_task() RETURNS trigger AS $$
BEGIN
    PERFORM kanri_task_search_refresh(NEW.id);
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE FUNCTION kanri_task_search_comment() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM kanri_task_search_refresh(OLD.task_id);
    ELSE
        PERFORM kanri_task_search_refresh(NEW.task_id);
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE FUNCTION kanri_task_search_deleted() RETURNS trigger AS $$
BEGIN
    UPDATE search_generations SET generation = generation + 1 WHERE project_id = OLD.project_id;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER task_search_insert AFTER INSERT ON tasks
    FOR EACH ROW EXECUTE FUNCTION kanri_task_search_task();
-- Every task update sets these columns (COALESCE with the old value), so the WHEN clause keeps
-- status or position changes from rewriting the document.
CREATE TRIGGER task_search_update AFTER UPDATE OF title, description ON tasks
    FOR EACH ROW
    WHEN (OLD.title IS DISTINCT FROM NEW.title OR OLD.description IS DISTINCT FROM NEW.description)
    EXECUTE FUNCTION kanri_task_search_task();
CREATE TRIGGER task_search_delete AFTER DELETE ON tasks
    FOR EACH ROW EXECUTE FUNCTION kanri_task_search_deleted();
CREATE TRIGGER task_search_comment AFTER INSERT OR UPDATE OF content OR DELETE ON comments
    FOR EACH ROW EXECUTE FUNCTION kanri_task_search_comment();

-- Vectors are little-endian f32, unit length. `model` is the embedder's full identity; vectors
-- of different models are never compared. `content_hash` lets a job skip unchanged text.
CREATE TABLE task_embeddings (
    task_id       TEXT PRIMARY KEY REFERENCES tasks (id) ON DELETE CASCADE,
    tenant_id     TEXT NOT NULL,
    project_id    TEXT NOT NULL,
    model         TEXT NOT NULL,
    dims          BIGINT NOT NULL,
    vector        BYTEA NOT NULL,
    content_hash  TEXT NOT NULL,
    generation    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);
CREATE INDEX task_embeddings_project ON task_embeddings (project_id, model, generation);

CREATE TABLE search_generations (
    project_id  TEXT PRIMARY KEY REFERENCES projects (id) ON DELETE CASCADE,
    tenant_id   TEXT NOT NULL,
    generation  BIGINT NOT NULL
);

-- Backfill what already exists.
SELECT kanri_task_search_refresh(id) FROM tasks;
