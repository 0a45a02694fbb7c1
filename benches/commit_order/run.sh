#!/usr/bin/env bash
# Cost of the per-tenant commit-order lock (db::activity::order_commits) on task creates.
#
#   bash benches/commit_order/run.sh
#
# Rebuilds the database (setup.sh), then runs pgbench on with_lock.sql and without_lock.sql
# for three cases at 1 and 8 clients, twice each, alternating the order (A B, then B A) so a
# drift in machine load hits both variants alike. Every run starts from empty tables and a
# checkpoint. Prints one markdown row per run, then the means. Environment:
#   PGURL (postgres://postgres@127.0.0.1:5432), DB (kanri_bench_commit_order),
#   DURATION seconds per run (20), CLIENTS ("1 8"), REPS (2), OUT (raw pgbench output; a temp dir),
#   ONLY (case names to run, e.g. "8-projects"; all by default).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PGURL="${PGURL:-postgres://postgres@127.0.0.1:5432}"
DB="${DB:-kanri_bench_commit_order}"
DURATION="${DURATION:-20}"
CLIENTS="${CLIENTS:-1 8}"
REPS="${REPS:-2}"
ONLY="${ONLY:-}"
OUT="${OUT:-$(mktemp -d /tmp/kanri_commit_order.XXXXXX)}"
mkdir -p "$OUT"
export PGURL DB
export PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning"

# name  tenant_per_client  project_per_client
CASES=(
    "one-project  0 0"   # all clients: tenant t0, project p0 (the project row lock already serialises)
    "8-projects   0 1"   # all clients: tenant t0, a project each (only the tenant lock serialises)
    "8-tenants    1 1"   # a tenant (and so a project) each (nothing shared)
)

bash "$HERE/setup.sh"
PSQL=(psql -X -q -v ON_ERROR_STOP=1 "$PGURL/$DB")
server="$("${PSQL[@]}" -At -c "SELECT current_setting('server_version') || ', fsync=' || current_setting('fsync') || ', synchronous_commit=' || current_setting('synchronous_commit')")"

rows="$OUT/rows.tsv"
: >"$rows"
echo
echo "postgres $server; $(nproc) cores; ${DURATION}s per run; raw output in $OUT"
echo "load before: $(uptime)"
echo
echo "| case | clients | lock | rep | TPS | avg latency (ms) | load 1m |"
echo "|---|---:|---|---:|---:|---:|---:|"
for c in "${CASES[@]}"; do
    read -r name tpc ppc <<<"$c"
    [ -z "$ONLY" ] || [[ " $ONLY " == *" $name "* ]] || continue
    for clients in $CLIENTS; do
        threads=$((clients < 2 ? clients : 2))
        for rep in $(seq 1 "$REPS"); do
            if ((rep % 2)); then order="without with"; else order="with without"; fi
            for lock in $order; do
                "${PSQL[@]}" -c "TRUNCATE tasks, task_search, activity, jobs RESTART IDENTITY CASCADE" -c "CHECKPOINT"
                log="$OUT/$name.c$clients.$lock.r$rep.txt"
                pgbench -n -M prepared -c "$clients" -j "$threads" -T "$DURATION" \
                    -D tenant_per_client="$tpc" -D project_per_client="$ppc" \
                    -f "$HERE/${lock}_lock.sql" "$PGURL/$DB" >"$log" 2>&1 ||
                    { cat "$log"; echo "pgbench failed: $log" >&2; exit 1; }
                failed="$(awk '/number of failed transactions/ {print $5}' "$log")"
                [ "${failed:-0}" = 0 ] || { cat "$log"; echo "failed transactions: $log" >&2; exit 1; }
                tps="$(awk '/^tps = / {printf "%.0f", $3}' "$log")"
                lat="$(awk '/^latency average = / {printf "%.2f", $4}' "$log")"
                load="$(cut -d' ' -f1 /proc/loadavg)"
                printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$clients" "$lock" "$rep" "$tps" "$lat" "$load" >>"$rows"
                echo "| $name | $clients | $lock | $rep | $tps | $lat | $load |"
            done
        done
    done
done

echo
echo "Means over the reps, [min-max] (change = mean with vs mean without):"
echo
echo "| case | clients | TPS without | TPS with | TPS change | latency without (ms) | latency with (ms) |"
echo "|---|---:|---:|---:|---:|---:|---:|"
awk -F'\t' '
    { k = $1 SUBSEP $2; if (!(k in seen)) { seen[k] = 1; order[++n] = k }
      if (!((k, $3) in cnt)) { tmin[k, $3] = tmax[k, $3] = $5; lmin[k, $3] = lmax[k, $3] = $6 }
      if ($5 < tmin[k, $3]) tmin[k, $3] = $5; if ($5 > tmax[k, $3]) tmax[k, $3] = $5
      if ($6 < lmin[k, $3]) lmin[k, $3] = $6; if ($6 > lmax[k, $3]) lmax[k, $3] = $6
      tps[k, $3] += $5; lat[k, $3] += $6; cnt[k, $3]++ }
    END { for (i = 1; i <= n; i++) { k = order[i]; split(k, p, SUBSEP)
            tw = tps[k, "without"] / cnt[k, "without"]; tl = tps[k, "with"] / cnt[k, "with"]
            lw = lat[k, "without"] / cnt[k, "without"]; ll = lat[k, "with"] / cnt[k, "with"]
            printf "| %s | %s | %.0f [%d-%d] | %.0f [%d-%d] | %+.0f%% | %.1f [%.1f-%.1f] | %.1f [%.1f-%.1f] |\n", p[1], p[2],
                tw, tmin[k, "without"], tmax[k, "without"], tl, tmin[k, "with"], tmax[k, "with"], (tl / tw - 1) * 100,
                lw, lmin[k, "without"], lmax[k, "without"], ll, lmin[k, "with"], lmax[k, "with"] } }
' "$rows"
echo
echo "load after: $(uptime)"
