//! Where an instance learns of committed events: Postgres NOTIFY (every instance hears every
//! commit, whichever process wrote it) or, on SQLite, a tail of the log by id.

mod postgres;
mod sqlite;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::Hub;
use crate::config::Engine;
use crate::db::Db;

/// Events read from the log per query.
const PAGE: i64 = 500;

pub async fn start(
    hub: Arc<Hub>,
    db: Db,
    database_url: &str,
    written: Arc<Notify>,
    poll: Duration,
    stop: CancellationToken,
) -> anyhow::Result<JoinHandle<()>> {
    match db.engine() {
        Engine::Sqlite => sqlite::start(hub, db, written, poll, stop).await,
        Engine::Postgres => postgres::start(hub, db, database_url, stop).await,
    }
}
