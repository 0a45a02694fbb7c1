//! What every use case runs with: the database, the response cache and the signals its
//! commits send. Cheap to clone; handlers, the CLI and job handlers all hold one.

use std::sync::Arc;

use tokio::sync::Notify;

use crate::cache::Cache;
use crate::config::Config;
use crate::db::Db;
use crate::error::AppResult;
use crate::services::access::Actor;
use crate::services::unit_of_work::UnitOfWork;
use crate::services::usage::ApiCalls;

#[derive(Clone)]
pub struct Ctx {
    pub db: Db,
    pub cache: Cache,
    /// Rung after a commit that enqueued jobs, so idle workers in this process look at once.
    pub jobs_waiting: Arc<Notify>,
    /// Rung after a commit that recorded events, so the SQLite log tail looks at once (on
    /// Postgres, NOTIFY does this job).
    pub events_written: Arc<Notify>,
    /// How long before a task's due date its reminder goes out.
    pub reminder_lead_ms: i64,
    /// API calls counted in memory until the next flush (`services::usage`).
    pub api_calls: Arc<ApiCalls>,
}

impl Ctx {
    /// The context for `db` with the configured cache. Its commit signals ring nobody until
    /// the application shares them with its workers and event tail.
    pub fn new(db: Db, config: &Config) -> anyhow::Result<Self> {
        Ok(Self {
            cache: Cache::from_config(&config.cache)?,
            db,
            jobs_waiting: Arc::default(),
            events_written: Arc::default(),
            reminder_lead_ms: config.reminder_lead_ms(),
            api_calls: Arc::default(),
        })
    }

    /// Opens a unit of work for a change `actor` makes.
    pub async fn begin_as(&self, actor: &Actor) -> AppResult<UnitOfWork> {
        UnitOfWork::begin(self, &actor.tenant_id, Some(&actor.user_id)).await
    }

    /// Opens a unit of work for a change made on behalf of `actor_id` in `tenant_id`.
    pub async fn begin(&self, tenant_id: &str, actor_id: Option<&str>) -> AppResult<UnitOfWork> {
        UnitOfWork::begin(self, tenant_id, actor_id).await
    }
}
