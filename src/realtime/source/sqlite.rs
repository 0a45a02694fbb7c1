//! SQLite: one writer at a time (`BEGIN IMMEDIATE`, across processes through the file lock)
//! means ids are assigned in commit order, so reading `id > high_water` in order misses
//! nothing. The tail wakes when a local write completes (`Realtime::poke`) and otherwise
//! polls, which picks up writes by other processes such as `kanri worker`.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::PAGE;
use crate::db::{self, Db};
use crate::realtime::Hub;

pub async fn start(
    hub: Arc<Hub>,
    db: Db,
    written: Arc<Notify>,
    poll: Duration,
    stop: CancellationToken,
) -> anyhow::Result<JoinHandle<()>> {
    // Clients catch up on older events by resuming; live delivery starts at the present.
    let high_water = db::activity::max_id(db.read()).await?;
    Ok(tokio::spawn(tail(hub, db, high_water, written, poll, stop)))
}

async fn tail(
    hub: Arc<Hub>,
    db: Db,
    mut high_water: i64,
    written: Arc<Notify>,
    poll: Duration,
    stop: CancellationToken,
) {
    loop {
        loop {
            match db::activity::feed_after(db.read(), high_water, PAGE).await {
                Ok(rows) => {
                    let full = rows.len() as i64 == PAGE;
                    for row in &rows {
                        hub.dispatch(row);
                        high_water = row.id;
                    }
                    if !full {
                        break;
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "realtime: reading the activity log failed");
                    break;
                }
            }
        }
        tokio::select! {
            () = stop.cancelled() => return,
            () = written.notified() => {}
            () = tokio::time::sleep(poll) => {}
        }
    }
}
