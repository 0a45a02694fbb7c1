-- Realtime: which task and which user an event concerns (so a `task/{id}` or `user/{id}`
-- subscription can resume from the log through an index), and a trigger that announces every
-- committed activity row to all instances.

ALTER TABLE activity ADD COLUMN task_id TEXT;
ALTER TABLE activity ADD COLUMN user_id TEXT;
CREATE INDEX activity_task ON activity (task_id, id) WHERE task_id IS NOT NULL;
CREATE INDEX activity_user ON activity (user_id, id) WHERE user_id IS NOT NULL;

-- NOTIFY is delivered at commit and never for a rolled-back transaction, so an instance hears
-- of an event exactly when its change is visible, whichever process wrote it.
CREATE FUNCTION kanri_activity_notify() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('kanri_activity', NEW.id::text);
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER activity_notify AFTER INSERT ON activity
    FOR EACH ROW EXECUTE FUNCTION kanri_activity_notify();
