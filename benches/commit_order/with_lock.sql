-- One task create as Kanri's services::tasks::create + UnitOfWork::commit issue it, statement
-- for statement (no assignee, appended at the end of the board).
--
-- Variables (pgbench -D): tenant_per_client, project_per_client, each 0 or 1.
--   0/0: every client writes tenant bench-t0, project bench-t0-p0
--   0/1: every client writes tenant bench-t0, its own project bench-t0-p<client_id>
--   1/1: every client writes its own tenant bench-t<client_id> (project p0 of that tenant)
\set tnum :client_id * :tenant_per_client
\set pnum :client_id * :project_per_client * (1 - :tenant_per_client)
BEGIN;
-- db::projects::lock: the project row's write lock, held to COMMIT (serialises one project).
UPDATE projects SET updated_at = updated_at
 WHERE tenant_id = 'bench-t' || :tnum::text AND id = 'bench-t' || :tnum::text || '-p' || :pnum::text;
-- place() -> db::tasks::last_position (Kanri draws the uuid v7 id in Rust; here, the same round trip).
SELECT gen_random_uuid()::text AS task_id, COALESCE(MAX(position), '') AS last_position
  FROM tasks WHERE project_id = 'bench-t' || :tnum::text || '-p' || :pnum::text \gset
-- db::tasks::insert (fires the 0008 full-text trigger: one task_search row).
INSERT INTO tasks (id, tenant_id, project_id, title, description, status, type, priority, assignee_id,
                   due_date, position, created_by, completed_at, version, created_at, updated_at)
VALUES (:task_id::text, 'bench-t' || :tnum::text, 'bench-t' || :tnum::text || '-p' || :pnum::text,
        'Benchmark task ' || :task_id::text, 'Written by benches/commit_order to time the write path.',
        'TODO', 'TASK', 'MEDIUM', NULL, NULL,
        'a' || to_char(clock_timestamp(), 'YYYYMMDDHH24MISSUS'), 'bench-user', NULL, 1,
        (extract(epoch FROM clock_timestamp()) * 1000)::bigint,
        (extract(epoch FROM clock_timestamp()) * 1000)::bigint);
-- UnitOfWork::commit: from here to COMMIT.
-- db::activity::order_commits: this tenant's other writers wait from here until we commit.
SELECT pg_advisory_xact_lock(hashtextextended('kanri.activity:' || ('bench-t' || :tnum::text), 0));
-- db::activity::append (fires the 0007 NOTIFY trigger).
INSERT INTO activity (tenant_id, workspace_id, project_id, actor_id, kind, subject_type, subject_id,
                      payload, task_id, user_id, created_at)
VALUES ('bench-t' || :tnum::text, 'bench-t' || :tnum::text || '-w', 'bench-t' || :tnum::text || '-p' || :pnum::text,
        'bench-user', 'task.created', 'task', :task_id::text,
        json_build_object('id', :task_id::text, 'projectId', 'bench-t' || :tnum::text || '-p' || :pnum::text,
                          'title', 'Benchmark task ' || :task_id::text, 'status', 'TODO',
                          'assignee_id', NULL, 'due_date', NULL)::text,
        :task_id::text, NULL, (extract(epoch FROM clock_timestamp()) * 1000)::bigint)
RETURNING id;
-- The event's follow-up, jobs::search::enqueue_embed -> db::jobs::insert. ('search:' || 'embed'
-- is split: pgbench reads a colon followed by a word as a variable, even inside quotes.)
INSERT INTO jobs (id, tenant_id, kind, args, state, dedupe_key, run_at, attempts, max_attempts,
                  created_at, updated_at)
VALUES (gen_random_uuid()::text, 'bench-t' || :tnum::text, 'search:' || 'embed', json_build_object('task_id', :task_id::text)::text,
        'queued', 'search:' || 'embed:' || :task_id::text, (extract(epoch FROM clock_timestamp()) * 1000)::bigint,
        0, 8, (extract(epoch FROM clock_timestamp()) * 1000)::bigint,
        (extract(epoch FROM clock_timestamp()) * 1000)::bigint)
ON CONFLICT (dedupe_key) DO NOTHING;
COMMIT;
