//! Computing and storing task embeddings: the body of the `search:embed` job, the batch
//! rebuild behind `kanri search reindex`, and the start-up sweep that re-embeds tasks whose
//! vector is missing or was made by another model.

use sha2::{Digest, Sha256};

use crate::clock::now_ms;
use crate::db::search::{EmbedSource, NewEmbedding};
use crate::db::{self};
use crate::domain::event::CacheScope;
use crate::error::AppError;
use crate::search::embedder::{task_text, to_bytes};
use crate::search::{EmbedError, Embedder};
use crate::services::Ctx;

/// What a batch did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Embedded {
    pub written: usize,
    /// Already embedded from the same text by the same model.
    pub unchanged: usize,
}

fn content_hash(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// Embeds the given tasks and stores their vectors, one transaction per batch that also bumps
/// each touched project's generation. Unless `force`, a task whose stored vector was made by
/// this model from the same text is skipped.
pub async fn embed_sources(
    cx: &Ctx,
    embedder: &dyn Embedder,
    sources: &[EmbedSource],
    force: bool,
) -> Result<Embedded, EmbedFailure> {
    let model = embedder.model().to_string();
    let mut todo: Vec<(&EmbedSource, String, String)> = Vec::new();
    let mut done = Embedded::default();
    for source in sources {
        let Some(text) = task_text(&source.title, source.description.as_deref()) else {
            continue;
        };
        let hash = content_hash(&text);
        if !force
            && let Some((stored_model, stored_hash)) =
                db::search::embedding_state(cx.db.read(), &source.id).await?
            && stored_model == model
            && stored_hash == hash
        {
            done.unchanged += 1;
            continue;
        }
        todo.push((source, text, hash));
    }
    for chunk in todo.chunks(embedder.batch_size().max(1)) {
        let texts: Vec<String> = chunk.iter().map(|(_, text, _)| text.clone()).collect();
        let vectors = embedder.embed(&texts).await?;
        if vectors.len() != chunk.len() {
            return Err(EmbedError::Failed("wrong number of vectors".into()).into());
        }
        let now = now_ms();
        // Derived data, not a change anyone made: no event, but cached search results of these
        // projects may now rank differently.
        let mut tx = cx.begin(&chunk[0].0.tenant_id, None).await?;
        for ((source, _, hash), vector) in chunk.iter().zip(&vectors) {
            let generation =
                db::search::bump_generation(&mut *tx, &source.tenant_id, &source.project_id)
                    .await?;
            let written = db::search::upsert_embedding(
                &mut *tx,
                &NewEmbedding {
                    task_id: &source.id,
                    model: &model,
                    vector: &to_bytes(vector),
                    dims: vector.len() as i64,
                    content_hash: hash,
                    generation,
                    now,
                },
            )
            .await?;
            done.written += usize::from(written);
            tx.stale(CacheScope::Project(source.project_id.clone()));
        }
        tx.commit().await?;
    }
    Ok(done)
}

/// Embeds one task (the job); a task that no longer exists is done.
pub async fn embed_task(
    cx: &Ctx,
    embedder: &dyn Embedder,
    tenant_id: &str,
    task_id: &str,
) -> Result<Embedded, EmbedFailure> {
    match db::search::embed_source(cx.db.read(), tenant_id, task_id).await? {
        Some(source) => embed_sources(cx, embedder, &[source], false).await,
        None => Ok(Embedded::default()),
    }
}

/// Enqueues an embedding job for every task whose vector is missing or of another model.
/// Run at start, so a model change re-embeds everything in the background; on an up-to-date
/// database it enqueues nothing. Returns how many were enqueued.
pub async fn enqueue_stale(cx: &Ctx, model: &str) -> sqlx::Result<usize> {
    let mut after = String::new();
    let mut queued = 0;
    loop {
        let page = db::search::stale_tasks(cx.db.read(), model, &after, 500).await?;
        let Some((_, last)) = page.last() else {
            break;
        };
        after = last.clone();
        // Before any worker starts, so there is nobody to wake.
        let mut tx = cx.db.begin().await?;
        for (tenant_id, task_id) in &page {
            crate::jobs::search::enqueue_embed(&mut tx, tenant_id, task_id).await?;
        }
        tx.commit().await?;
        queued += page.len();
    }
    if queued > 0 {
        tracing::info!(queued, model, "tasks queued for embedding");
    }
    Ok(queued)
}

/// Why embedding failed: the model, or the database.
#[derive(Debug, thiserror::Error)]
pub enum EmbedFailure {
    #[error(transparent)]
    Embed(#[from] EmbedError),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    App(#[from] AppError),
}
