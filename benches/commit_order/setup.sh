#!/usr/bin/env bash
# Creates a fresh database for the commit-order benchmark: every Postgres migration, applied
# in order (triggers included: the activity NOTIFY of 0007, the task full-text document of
# 0008), plus 8 tenants, each with one workspace and 8 projects.
#
#   tenant  bench-t<T>              (T = 0..7)
#   project bench-t<T>-p<P>         (P = 0..7), in workspace bench-t<T>-w
#
# The pgbench scripts pick a tenant and project from these by number (see run.sh).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
PGURL="${PGURL:-postgres://postgres@127.0.0.1:5432}"
DB="${DB:-kanri_bench_commit_order}"
PSQL=(psql -X -q -v ON_ERROR_STOP=1)
export PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning"

"${PSQL[@]}" "$PGURL/postgres" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)"
"${PSQL[@]}" "$PGURL/postgres" -c "CREATE DATABASE $DB"

for f in "$REPO"/migrations/postgres/*.sql; do
    "${PSQL[@]}" "$PGURL/$DB" -1 -f "$f" >/dev/null
done

"${PSQL[@]}" "$PGURL/$DB" <<'SQL'
INSERT INTO tenants (id, name, created_at)
SELECT 'bench-t' || t, 'Bench tenant ' || t, 0 FROM generate_series(0, 7) t;

INSERT INTO workspaces (id, tenant_id, name, slug, owner_id, created_at, updated_at)
SELECT 'bench-t' || t || '-w', 'bench-t' || t, 'Bench', 'bench', 'bench-user', 0, 0
FROM generate_series(0, 7) t;

INSERT INTO projects (id, tenant_id, workspace_id, name, status, priority, created_at, updated_at)
SELECT 'bench-t' || t || '-p' || p, 'bench-t' || t, 'bench-t' || t || '-w',
       'Bench project ' || p, 'ACTIVE', 'MEDIUM', 0, 0
FROM generate_series(0, 7) t, generate_series(0, 7) p;

SQL

echo "setup: $DB ready ($("${PSQL[@]}" -At "$PGURL/$DB" -c "SELECT count(*) FROM projects WHERE id LIKE 'bench-%'") projects)"
