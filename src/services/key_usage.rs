//! API-key last-used tracking without a database write per request: uses are noted in memory
//! and written in one batch every flush interval and at shutdown.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::clock::now_ms;
use crate::db::{Db, api_keys};

#[derive(Debug, Default)]
pub struct KeyUsage {
    pending: Mutex<HashMap<String, i64>>,
}

impl KeyUsage {
    pub fn record(&self, key_id: &str) {
        let now = now_ms();
        let mut pending = self.pending.lock().expect("key usage lock poisoned");
        pending.insert(key_id.to_string(), now);
    }

    /// Writes what has been noted since the last flush. On failure the times are put back so
    /// the next flush retries them.
    pub async fn flush(&self, db: &Db) -> sqlx::Result<()> {
        let batch = std::mem::take(&mut *self.pending.lock().expect("key usage lock poisoned"));
        if batch.is_empty() {
            return Ok(());
        }
        let result = async {
            let mut tx = db.begin().await?;
            for (id, used_at) in &batch {
                api_keys::touch_last_used(&mut *tx, id, *used_at).await?;
            }
            tx.commit().await
        }
        .await;
        if result.is_err() {
            let mut pending = self.pending.lock().expect("key usage lock poisoned");
            for (id, used_at) in batch {
                pending.entry(id).or_insert(used_at);
            }
        }
        result
    }

    /// Flushes every `every` until `stop` is cancelled, then once more.
    pub fn spawn_flusher(
        self: Arc<Self>,
        db: Db,
        every: Duration,
        stop: CancellationToken,
    ) -> tokio::task::JoinHandle<()> {
        super::periodic_flush::spawn("API key usage", every, stop, move || {
            let (batch, db) = (self.clone(), db.clone());
            async move { batch.flush(&db).await }
        })
    }
}
