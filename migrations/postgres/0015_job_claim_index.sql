-- Claiming due jobs reads `state = 'queued' AND run_at <= now ORDER BY run_at, id LIMIT n`:
-- with the id in the index that is a range read that stops after n rows, where the old
-- (state, run_at) index left every due job to be sorted on each claim.
CREATE INDEX jobs_claim ON jobs (state, run_at, id);
DROP INDEX jobs_due;
