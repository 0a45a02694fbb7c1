-- When the change an idempotent request made committed. Written in the same transaction as the
-- change (with the response when the use case supplies it), so after a crash a retry can tell a
-- request that never committed (run it again) from one that did (never run it again).
ALTER TABLE idempotency_keys ADD COLUMN committed_at INTEGER;
