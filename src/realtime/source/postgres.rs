//! Postgres: the `activity_notify` trigger (migration 0007) sends each new row's id on the
//! `kanri_activity` channel, delivered at commit. One `PgListener` per instance receives the
//! ids in commit order; a loader reads the rows in batches and dispatches them in that order.
//!
//! After the listener's connection drops, notifications sent meanwhile are lost, so the loader
//! catches up from the log: every row after the oldest recently dispatched id that it has not
//! dispatched yet. Ids are assigned at insert, not at commit, so an id lower than one already
//! seen can still commit later; starting the catch-up below the recent window covers that.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::PgListener;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::PAGE;
use crate::db::{self, Db};
use crate::realtime::Hub;

const CHANNEL: &str = "kanri_activity";
/// Notified ids waiting for the loader. When it is full the listener waits, and Postgres keeps
/// the notifications on its side meanwhile.
const ID_QUEUE: usize = 16 * 1024;
/// Rows loaded per query.
const BATCH: usize = 256;
/// Dispatched ids remembered to skip duplicates after a catch-up.
const RECENT: usize = 16 * 1024;

enum Signal {
    Id(i64),
    /// The connection was lost and re-established; notifications may be missing.
    Reconnected,
}

pub async fn start(
    hub: Arc<Hub>,
    db: Db,
    url: &str,
    stop: CancellationToken,
) -> anyhow::Result<JoinHandle<()>> {
    let mut listener = PgListener::connect(url).await?;
    listener.listen(CHANNEL).await?;
    // Read after LISTEN: anything committed later is notified; anything earlier is history.
    let start = db::activity::max_id(db.read()).await?;
    let (tx, rx) = mpsc::channel(ID_QUEUE);
    let listen = tokio::spawn(listen(listener, tx, stop.clone()));
    Ok(tokio::spawn(async move {
        load(hub, db, rx, start).await;
        let _ = listen.await;
    }))
}

async fn listen(mut listener: PgListener, tx: mpsc::Sender<Signal>, stop: CancellationToken) {
    loop {
        let received = tokio::select! {
            () = stop.cancelled() => return,
            r = listener.try_recv() => r,
        };
        let signal = match received {
            Ok(Some(n)) => match n.payload().parse::<i64>() {
                Ok(id) => Signal::Id(id),
                Err(_) => continue,
            },
            Ok(None) => Signal::Reconnected,
            Err(e) => {
                tracing::warn!(error = %e, "realtime: the Postgres listener failed; retrying");
                tokio::select! {
                    () = stop.cancelled() => return,
                    () = tokio::time::sleep(Duration::from_secs(1)) => {}
                }
                Signal::Reconnected
            }
        };
        if tx.send(signal).await.is_err() {
            return;
        }
    }
}

async fn load(hub: Arc<Hub>, db: Db, mut rx: mpsc::Receiver<Signal>, start: i64) {
    let mut recent = Recent::new(start);
    let mut signals = Vec::with_capacity(BATCH);
    while rx.recv_many(&mut signals, BATCH).await > 0 {
        let mut ids = Vec::with_capacity(signals.len());
        let mut catch_up = false;
        for s in signals.drain(..) {
            match s {
                Signal::Id(id) => ids.push(id),
                Signal::Reconnected => catch_up = true,
            }
        }
        if !ids.is_empty() {
            match db::activity::feed_by_ids(db.read(), &ids).await {
                Ok(rows) => {
                    let mut by_id: HashMap<i64, _> = rows.into_iter().map(|r| (r.id, r)).collect();
                    // Notification order is commit order.
                    for id in &ids {
                        if let Some(row) = by_id.remove(id)
                            && recent.insert(row.id)
                        {
                            hub.dispatch(&row);
                        }
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "realtime: loading notified events failed");
                    catch_up = true;
                }
            }
        }
        if catch_up {
            catch_up_from_log(&hub, &db, &mut recent).await;
        }
    }
}

async fn catch_up_from_log(hub: &Hub, db: &Db, recent: &mut Recent) {
    let mut after = recent.floor();
    loop {
        match db::activity::feed_after(db.read(), after, PAGE).await {
            Ok(rows) => {
                let full = rows.len() as i64 == PAGE;
                for row in &rows {
                    after = row.id;
                    if recent.insert(row.id) {
                        hub.dispatch(row);
                    }
                }
                if !full {
                    return;
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "realtime: catching up from the log failed");
                return;
            }
        }
    }
}

/// The last `RECENT` dispatched ids.
struct Recent {
    order: VecDeque<i64>,
    seen: HashSet<i64>,
    /// A catch-up never reads at or below this: history when the instance started, or ids
    /// that have left the window.
    start: i64,
}

impl Recent {
    fn new(start: i64) -> Self {
        Self {
            order: VecDeque::with_capacity(RECENT),
            seen: HashSet::with_capacity(RECENT),
            start,
        }
    }

    /// Remembers `id`; `false` if it was already dispatched.
    fn insert(&mut self, id: i64) -> bool {
        if !self.seen.insert(id) {
            return false;
        }
        self.order.push_back(id);
        if self.order.len() > RECENT
            && let Some(old) = self.order.pop_front()
        {
            self.seen.remove(&old);
            self.start = self.start.max(old);
        }
        true
    }

    /// Where a catch-up starts reading: below every id still remembered.
    fn floor(&self) -> i64 {
        self.order
            .iter()
            .min()
            .map_or(self.start, |min| (min - 1).max(self.start))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recent_ids_are_dispatched_once_and_catch_up_starts_below_them() {
        let mut r = Recent::new(10);
        assert_eq!(r.floor(), 10);
        assert!(r.insert(12));
        assert!(r.insert(11));
        assert!(!r.insert(12));
        assert_eq!(r.floor(), 10);
    }
}
