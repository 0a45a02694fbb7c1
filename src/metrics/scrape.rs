//! The gauges read at scrape time. They are set and rendered under one lock: several apps in
//! one process (the tests) share the recorder, and each scrape must show its own database's
//! values, not another app's written in between.

use std::collections::HashSet;
use std::sync::{Mutex, PoisonError};

use metrics_exporter_prometheus::PrometheusHandle;

use super::process::Sample;
use super::{DB_POOL, JOBS, PROCESS_CPU, PROCESS_MEMORY};
use crate::clock::now_ms;
use crate::db::{self, Db};

/// The `jobs` series the last scrape set, so a kind/state that has emptied since reads 0
/// instead of keeping its old value.
static JOB_SERIES: Mutex<Option<HashSet<(String, String)>>> = Mutex::new(None);

/// `(kind, state, count)` rows; `None` when the database did not answer (the gauges then keep
/// their last values rather than claiming an empty queue).
pub(super) async fn job_counts(db: &Db) -> Option<Vec<(String, String, i64)>> {
    match db::jobs::gauge_counts(db.read(), None, now_ms()).await {
        Ok(rows) => Some(rows),
        Err(error) => {
            tracing::warn!(%error, "could not count jobs for /metrics");
            None
        }
    }
}

pub(super) fn set_and_render(
    handle: &PrometheusHandle,
    jobs: Option<Vec<(String, String, i64)>>,
    (in_use, idle): (u64, u64),
    process: Option<Sample>,
) -> String {
    let mut last = JOB_SERIES.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(rows) = jobs {
        let now: HashSet<(String, String)> = rows
            .iter()
            .map(|(kind, state, _)| (kind.clone(), state.clone()))
            .collect();
        for (kind, state) in last.iter().flatten().filter(|s| !now.contains(*s)) {
            metrics::gauge!(JOBS, "kind" => kind.clone(), "state" => state.clone()).set(0.0);
        }
        for (kind, state, count) in rows {
            #[allow(clippy::cast_precision_loss)] // counts far below 2^52
            metrics::gauge!(JOBS, "kind" => kind, "state" => state).set(count as f64);
        }
        *last = Some(now);
    }
    #[allow(clippy::cast_precision_loss)]
    {
        metrics::gauge!(DB_POOL, "state" => "in_use").set(in_use as f64);
        metrics::gauge!(DB_POOL, "state" => "idle").set(idle as f64);
    }
    if let Some(sample) = process {
        #[allow(clippy::cast_precision_loss)]
        metrics::gauge!(PROCESS_MEMORY).set(sample.resident_bytes as f64);
        metrics::gauge!(PROCESS_CPU).set(sample.cpu_seconds);
    }
    handle.render()
}
