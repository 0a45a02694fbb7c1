//! The worker loop: claim a due job, run it while renewing its lease, record the outcome.
//! Idle workers wait for a wake-up from this process or the polling interval, whichever is
//! first. On shutdown they stop claiming, give running jobs a grace period, and release what
//! is still unfinished so another worker picks it up at once.

use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use super::{Job, JobError, Outcomes, Queue, Runner, backoff_ms};
use crate::clock::now_ms;
use crate::db;
use crate::ids::new_id;

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX / 2)
}

/// Starts `count` workers; they stop when `stop` is cancelled. The returned set finishes when
/// all of them have.
pub fn spawn(
    queue: &Queue,
    runner: Arc<dyn Runner>,
    count: usize,
    stop: &CancellationToken,
) -> JoinSet<()> {
    let mut set = JoinSet::new();
    for n in 0..count {
        let queue = queue.clone();
        let runner = runner.clone();
        let stop = stop.clone();
        let id = format!("{}-{n}", new_id());
        set.spawn(async move { work(queue, runner, id, stop).await });
    }
    set
}

async fn work(queue: Queue, runner: Arc<dyn Runner>, worker_id: String, stop: CancellationToken) {
    while !stop.is_cancelled() {
        // Register interest before looking, so a wake-up between the claim and the wait is not lost.
        let woken = queue.wake_signal().notified();
        let mut woken = pin!(woken);
        woken.as_mut().enable();
        let now = now_ms();
        match db::jobs::claim(
            &queue.db,
            &worker_id,
            now,
            now + millis(queue.settings.lease),
            1,
        )
        .await
        {
            Ok(jobs) if !jobs.is_empty() => {
                // There may be more: pass the wake-up on before running this one.
                queue.wake_signal().notify_one();
                for row in jobs {
                    run_one(&queue, &runner, &worker_id, Job::from(row), &stop).await;
                }
            }
            Ok(_) => {
                tokio::select! {
                    () = &mut woken => {}
                    () = tokio::time::sleep(queue.settings.poll) => {}
                    () = stop.cancelled() => {}
                }
            }
            Err(error) => {
                tracing::warn!(%error, "could not claim jobs");
                tokio::select! {
                    () = tokio::time::sleep(queue.settings.poll) => {}
                    () = stop.cancelled() => {}
                }
            }
        }
    }
}

/// How a run ended.
enum Ending {
    Finished(Result<(), JobError>),
    /// Shutdown came and the grace period ran out: give the job back.
    Released,
    /// Another worker holds the job now; its outcome is theirs to record.
    LeaseLost,
}

/// Runs one job in its own task, so a panic becomes a failed attempt instead of a dead worker,
/// and so the job can be stopped when its lease is lost or shutdown's grace period ends.
async fn run_one(
    queue: &Queue,
    runner: &Arc<dyn Runner>,
    worker_id: &str,
    job: Job,
    stop: &CancellationToken,
) {
    let span = job_span(&job);
    let lease = queue.settings.lease;
    let mut renew = tokio::time::interval(lease / 3);
    renew.tick().await;
    let mut running = {
        let (runner, job) = (runner.clone(), job.clone());
        let trace = job.trace_id.clone();
        tokio::spawn(
            crate::trace::scope(trace, async move { runner.run(&job).await })
                .instrument(span.clone()),
        )
    };
    let mut deadline: Option<tokio::time::Instant> = None;
    let ending = loop {
        let grace_over = async {
            match deadline {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            joined = &mut running => break Ending::Finished(match joined {
                Ok(result) => result,
                Err(e) if e.is_panic() => Err(JobError::Retry("the job panicked".into())),
                Err(e) => Err(JobError::Retry(format!("the job was stopped: {e}"))),
            }),
            _ = renew.tick() => {
                let now = now_ms();
                match db::jobs::renew(&queue.db, &job.id, worker_id, now + millis(lease), now).await {
                    Ok(true) => {}
                    Ok(false) => break Ending::LeaseLost,
                    Err(error) => tracing::warn!(parent: &span, %error, "could not renew a job lease"),
                }
            }
            () = stop.cancelled(), if deadline.is_none() => {
                deadline = Some(tokio::time::Instant::now() + queue.settings.shutdown_grace);
            }
            () = grace_over => break Ending::Released,
        }
    };
    if !matches!(ending, Ending::Finished(_)) {
        running.abort();
    }
    let now = now_ms();
    let recorded = match ending {
        Ending::Finished(result) => record_outcome(queue, worker_id, &job, result, now).await,
        Ending::Released => {
            Outcomes::add(&queue.outcomes.released);
            tracing::info!(parent: &span, "released at shutdown");
            db::jobs::release(&queue.db, &job.id, worker_id, now)
                .await
                .map(|_| ())
        }
        Ending::LeaseLost => {
            tracing::warn!(parent: &span, "lost the lease on a running job; stopped it");
            Ok(())
        }
    };
    if let Err(error) = recorded {
        // The lease will run out and another worker will take the job again.
        tracing::error!(parent: &span, %error, "could not record a job's outcome");
    }
}

/// One span per run, with the trace of the request that caused the job, so its log lines join
/// that request's.
pub(crate) fn job_span(job: &Job) -> tracing::Span {
    let trace = job.trace_id.as_ref().map(|t| t.as_str());
    tracing::info_span!("job", id = %job.id, kind = %job.kind, attempt = job.attempt, trace_id = trace)
}

/// Writes what happened to a job: success, a retry after backoff, or burial after the last
/// attempt (or a fatal error).
pub(crate) async fn record_outcome(
    queue: &Queue,
    worker_id: &str,
    job: &Job,
    result: Result<(), JobError>,
    now: i64,
) -> sqlx::Result<()> {
    crate::metrics::job_ran(&job.kind, result.is_ok());
    match result {
        Ok(()) => {
            db::jobs::succeed(&queue.db, &job.id, worker_id, now).await?;
            Outcomes::add(&queue.outcomes.succeeded);
        }
        Err(JobError::Retry(error)) if job.attempt < job.max_attempts => {
            tracing::warn!(job = %job.id, kind = %job.kind, attempt = job.attempt, %error, "job failed; will retry");
            db::jobs::retry_later(
                &queue.db,
                &job.id,
                worker_id,
                &error,
                now + backoff_ms(job.attempt),
                now,
            )
            .await?;
            Outcomes::add(&queue.outcomes.retried);
        }
        Err(error) => {
            tracing::error!(job = %job.id, kind = %job.kind, attempt = job.attempt, %error, "job is dead");
            db::jobs::bury(&queue.db, &job.id, worker_id, &error.to_string(), now).await?;
            Outcomes::add(&queue.outcomes.dead);
        }
    }
    Ok(())
}
