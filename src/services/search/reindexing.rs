//! Reindexing (`kanri search reindex`): rebuilds the full-text index from the tables, then
//! embeds every task again, in batches, reporting progress to the caller.

use crate::db;
use crate::search::Embedder;
use crate::services::Ctx;
use crate::services::search::embed::{self, EmbedFailure, Embedded};

/// Tasks embedded per batch.
const BATCH: i64 = 64;

/// How far a reindex has come.
#[derive(Debug, Clone, Copy)]
pub enum Progress {
    /// The text index holds `rows` tasks again; `total` tasks are to be embedded.
    TextIndexed { rows: u64, total: u64 },
    /// This many more tasks were embedded.
    Embedded(u64),
}

/// Reindexes one tenant, or every tenant when `tenant` is `None`.
pub async fn run(
    cx: &Ctx,
    embedder: &dyn Embedder,
    tenant: Option<&str>,
    mut progress: impl FnMut(Progress),
) -> Result<Embedded, EmbedFailure> {
    let rows = db::search::rebuild_text_index(&cx.db, tenant).await?;
    let total = db::search::count_tasks(cx.db.read(), tenant).await?;
    progress(Progress::TextIndexed {
        rows,
        total: u64::try_from(total).unwrap_or(0),
    });
    let mut after = String::new();
    let mut done = Embedded::default();
    loop {
        let page = db::search::embed_sources_page(cx.db.read(), tenant, &after, BATCH).await?;
        let Some(last) = page.last() else { break };
        after = last.id.clone();
        let batch = embed::embed_sources(cx, embedder, &page, true).await?;
        done.written += batch.written;
        done.unchanged += batch.unchanged;
        progress(Progress::Embedded(page.len() as u64));
    }
    Ok(done)
}
