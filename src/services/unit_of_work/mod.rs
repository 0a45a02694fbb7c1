//! The one write path. A use case opens a [`UnitOfWork`] (a write transaction), runs its
//! queries on it, and records the [`DomainEvent`]s of its change. `commit` then, in the same
//! transaction, writes each event's activity row (ids in commit order, see
//! `db::activity::order_commits`) and enqueues the jobs the events imply; after the commit it
//! invalidates the cache scopes they touched and wakes the job workers and the realtime tail.
//! No use case does any of that by hand.

use std::ops::{Deref, DerefMut};

use sqlx::{Any, AnyConnection, Transaction};

use crate::domain::event::{CacheScope, DomainEvent};
use crate::error::AppResult;
use crate::jobs::{self, NewJobSpec};
use crate::services::activity;
use crate::services::context::Ctx;
use crate::services::webhooks;

mod effects;
pub mod idempotency;
use effects::invalidate;

pub struct UnitOfWork {
    cx: Ctx,
    tx: Transaction<'static, Any>,
    tenant_id: String,
    actor_id: Option<String>,
    events: Vec<DomainEvent>,
    /// Jobs no event implies (a password-reset email): enqueued at commit all the same.
    jobs: Vec<OwnedJob>,
    /// Cache scopes made stale by derived data no event describes (search vectors).
    stale: Vec<CacheScope>,
    /// What this change created, for an idempotent request's replay (see [`Self::created`]).
    answer: Option<serde_json::Value>,
}

struct OwnedJob {
    kind: &'static str,
    args: serde_json::Value,
    dedupe_key: Option<String>,
    run_at: Option<i64>,
}

impl UnitOfWork {
    pub(crate) async fn begin(
        cx: &Ctx,
        tenant_id: &str,
        actor_id: Option<&str>,
    ) -> AppResult<Self> {
        Ok(Self {
            tx: cx.db.begin().await?,
            cx: cx.clone(),
            tenant_id: tenant_id.to_string(),
            actor_id: actor_id.map(str::to_string),
            events: Vec::new(),
            jobs: Vec::new(),
            stale: Vec::new(),
            answer: None,
        })
    }

    /// The database engine, for the few queries that differ (row locks).
    pub fn engine(&self) -> crate::config::Engine {
        self.cx.db.engine()
    }

    /// Makes writers of this project wait for each other until this one commits (task
    /// positions are taken from the project's last one). On Postgres a row lock on the
    /// project; on SQLite nothing, because the write transaction (`BEGIN IMMEDIATE`) already
    /// holds the database's only write lock, and the statement would be one more round trip to
    /// that one writer on every create.
    pub async fn lock_project(&mut self, project_id: &str) -> sqlx::Result<()> {
        if self.engine() == crate::config::Engine::Postgres {
            crate::db::projects::lock(&mut *self.tx, &self.tenant_id, project_id).await?;
        }
        Ok(())
    }

    /// Locks a task's row until commit, on Postgres, so the decisions made on the row read
    /// next hold when it is written; on SQLite the write transaction already excludes every
    /// other writer. Whether the task exists is for the caller's read to say.
    pub async fn lock_task(&mut self, task_id: &str) -> sqlx::Result<()> {
        if self.engine() == crate::config::Engine::Postgres {
            crate::db::tasks::lock(&mut *self.tx, &self.tenant_id, task_id).await?;
        }
        Ok(())
    }

    /// Records that this change happened; it is written (with everything it implies) at commit.
    pub fn record(&mut self, event: DomainEvent) {
        self.events.push(event);
    }

    /// Enqueues a job that no event implies, with this transaction, in this unit's tenant.
    pub fn enqueue(&mut self, spec: NewJobSpec<'_>) {
        self.jobs.push(OwnedJob {
            kind: spec.kind,
            args: spec.args,
            dedupe_key: spec.dedupe_key,
            run_at: spec.run_at,
        });
    }

    /// Marks a cache scope stale at commit for a change that is not an event: derived data
    /// (search vectors), which no client made and no activity log shows.
    pub fn stale(&mut self, scope: CacheScope) {
        self.stale.push(scope);
    }

    /// The resource this change created, as the caller is shown it. Under an `Idempotency-Key`
    /// it is stored for replay in this transaction, so a retry after a crash gets the same
    /// answer; read it on this transaction, before `commit`.
    pub fn created(&mut self, resource: &impl serde::Serialize) -> AppResult<()> {
        let value = serde_json::to_value(resource)
            .map_err(|e| anyhow::anyhow!("cannot keep a response: {e}"))?;
        self.answer = Some(value);
        Ok(())
    }

    pub async fn commit(mut self) -> AppResult<()> {
        let mut enqueued = false;
        if !self.events.is_empty() {
            // From here to COMMIT, this tenant's other writers wait, so event ids are handed
            // out in the order their transactions commit.
            crate::db::activity::order_commits(&mut self.tx, self.cx.db.engine(), &self.tenant_id)
                .await?;
        }
        let mut outgoing = Vec::new();
        for event in std::mem::take(&mut self.events) {
            let appended = activity::append(
                &mut self.tx,
                &self.tenant_id,
                self.actor_id.as_deref(),
                &event,
            )
            .await?;
            for follow_up in event.follow_ups(self.actor_id.as_deref()) {
                self.follow_up(follow_up, appended.id).await?;
                enqueued = true;
            }
            outgoing.push(webhooks::Outgoing::of(&event, appended));
            self.events.push(event);
        }
        // Outgoing webhooks: one delivery per (event, subscribed endpoint), in this transaction.
        enqueued |= webhooks::fan_out(&mut self.tx, &self.tenant_id, &outgoing).await?;
        for job in std::mem::take(&mut self.jobs) {
            let mut spec = NewJobSpec::new(&self.tenant_id, job.kind, job.args);
            spec.dedupe_key = job.dedupe_key;
            spec.run_at = job.run_at;
            jobs::enqueue(&mut self.tx, spec).await?;
            enqueued = true;
        }
        // An idempotent request's claim is marked in this transaction, so the change and the
        // mark (with the answer) survive a crash together or not at all.
        let claim = idempotency::unused()
            .filter(|_| !self.events.is_empty() || self.answer.is_some() || enqueued);
        if let Some(claim) = &claim {
            idempotency::mark(
                &mut self.tx,
                claim,
                self.answer.as_ref(),
                crate::clock::now_ms(),
            )
            .await?;
        }
        let Self {
            cx,
            tx,
            tenant_id,
            events,
            stale,
            answer,
            ..
        } = self;
        tx.commit().await?;
        if let Some(claim) = &claim {
            idempotency::spent(claim, answer.is_some());
        }
        let scopes = events
            .iter()
            .filter_map(DomainEvent::cache_scope)
            .chain(stale);
        invalidate(&cx, &tenant_id, scopes).await;
        if events.iter().any(DomainEvent::changes_allowances) {
            cx.api_calls.forget_allowances();
        }
        if enqueued {
            // One idle worker; it wakes the next when it finds work (`jobs::worker`), so a
            // commit with one job costs one claim rather than one per idle worker.
            cx.jobs_waiting.notify_one();
        }
        if !events.is_empty() {
            cx.events_written.notify_one();
        }
        Ok(())
    }
}

impl Deref for UnitOfWork {
    type Target = AnyConnection;

    fn deref(&self) -> &AnyConnection {
        &self.tx
    }
}

impl DerefMut for UnitOfWork {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        &mut self.tx
    }
}
