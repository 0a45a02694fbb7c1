//! Realtime delivery of the activity log over WebSocket and Server-Sent Events.
//!
//! Every event is an activity row. A *source* (`source/`) learns of committed rows — Postgres
//! NOTIFY from a trigger, or a tail of the log on SQLite — and hands each to the [`Hub`], which
//! routes it to the channels it belongs to (`project/{id}`, `task/{id}`, `user/{id}`) and puts
//! it on the bounded queue of every connection subscribed there. A [`Session`] is one
//! connection's side: access checks, resume from the log, de-duplication at the seam, and the
//! re-checks that end a subscription when access is lost. See ARCHITECTURE.md, "Realtime".

pub mod channel;
pub mod frame;
pub mod hub;
pub mod session;
pub mod source;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub use crate::config::RealtimeSettings;
use crate::db::Db;
pub use hub::Hub;
pub use session::Session;

/// The realtime side of one instance: the hub, and the poke that wakes the SQLite tail after a
/// local write commits. Cheap to clone.
#[derive(Clone)]
pub struct Realtime {
    pub hub: Arc<Hub>,
    pub settings: Arc<RealtimeSettings>,
    written: Arc<Notify>,
    /// Cancelled when the server begins to shut down: every WebSocket and SSE stream ends, so
    /// the graceful shutdown that waits for open responses can finish.
    pub closing: CancellationToken,
}

impl Realtime {
    pub fn new(settings: RealtimeSettings) -> Self {
        Self {
            hub: Arc::new(Hub::new(settings.queue, settings.max_connections_per_user)),
            settings: Arc::new(settings),
            written: Arc::default(),
            closing: CancellationToken::new(),
        }
    }

    /// What a commit that recorded events rings, so the log tail looks now rather than at its
    /// next poll (`services::Ctx` holds it). A no-op in effect on Postgres, where NOTIFY does
    /// this job.
    pub fn written_signal(&self) -> Arc<Notify> {
        self.written.clone()
    }

    /// Starts this instance's event source; it runs until `stop` is cancelled. When the first
    /// attempt fails (the database is unreachable at start), serving goes on without live
    /// events and the source is retried every second in the background.
    pub async fn start(
        &self,
        db: &Db,
        database_url: &str,
        stop: CancellationToken,
    ) -> JoinHandle<()> {
        let attempt = || {
            source::start(
                self.hub.clone(),
                db.clone(),
                database_url,
                self.written.clone(),
                self.settings.poll_interval,
                stop.clone(),
            )
        };
        match attempt().await {
            Ok(running) => running,
            Err(e) => {
                tracing::warn!(error = %e, "realtime: the event source did not start; retrying");
                let this = self.clone();
                let (db, url) = (db.clone(), database_url.to_string());
                tokio::spawn(async move { this.retry(db, url, stop).await })
            }
        }
    }

    async fn retry(self, db: Db, url: String, stop: CancellationToken) {
        loop {
            tokio::select! {
                () = stop.cancelled() => return,
                () = tokio::time::sleep(Duration::from_secs(1)) => {}
            }
            let started = source::start(
                self.hub.clone(),
                db.clone(),
                &url,
                self.written.clone(),
                self.settings.poll_interval,
                stop.clone(),
            )
            .await;
            if let Ok(running) = started {
                let _ = running.await;
                return;
            }
        }
    }
}
