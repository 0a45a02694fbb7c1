-- Realtime: which task and which user an event concerns (so a `task/{id}` or `user/{id}`
-- subscription can resume from the log through an index). SQLite needs no trigger: one
-- process tails the log by id (see src/realtime/source).

ALTER TABLE activity ADD COLUMN task_id TEXT;
ALTER TABLE activity ADD COLUMN user_id TEXT;
CREATE INDEX activity_task ON activity (task_id, id) WHERE task_id IS NOT NULL;
CREATE INDEX activity_user ON activity (user_id, id) WHERE user_id IS NOT NULL;
