-- The W3C trace id of the request (or job) that enqueued a job, so the job's log lines, and
-- the webhook deliveries it causes, join the request's trace. NULL for jobs enqueued outside
-- a traced request (housekeeping, the admin CLI, rows written before this migration).
ALTER TABLE jobs ADD COLUMN trace_id TEXT;
