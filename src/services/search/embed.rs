//! Computing and storing task embeddings: the body of the `search:embed` job, the batch
//! rebuild behind `kanri search reindex`, and the start-up sweep that re-embeds tasks whose
//! vector is missing or was made by another model.

use sha2::{Digest, Sha256};

use crate::clock::now_ms;
use crate::db::search::{EmbedSource, NewEmbedding};
use crate::db::{self, Db};
use crate::search::embedder::{task_text, to_bytes};
use crate::search::{EmbedError, Embedder};

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
    db: &Db,
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
                db::search::embedding_state(db.read(), &source.id).await?
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
        let mut tx = db.begin().await?;
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
        }
        tx.commit().await?;
        // Cached search results of these projects may now rank differently.
        let mut projects: Vec<(&str, &str)> = chunk
            .iter()
            .map(|(s, _, _)| (s.tenant_id.as_str(), s.project_id.as_str()))
            .collect();
        projects.sort_unstable();
        projects.dedup();
        for (tenant, project) in projects {
            db.cache().invalidate_project(tenant, project).await;
        }
    }
    Ok(done)
}

/// Embeds one task (the job); a task that no longer exists is done.
pub async fn embed_task(
    db: &Db,
    embedder: &dyn Embedder,
    tenant_id: &str,
    task_id: &str,
) -> Result<Embedded, EmbedFailure> {
    match db::search::embed_source(db.read(), tenant_id, task_id).await? {
        Some(source) => embed_sources(db, embedder, &[source], false).await,
        None => Ok(Embedded::default()),
    }
}

/// Enqueues an embedding job for every task whose vector is missing or of another model.
/// Run at start, so a model change re-embeds everything in the background; on an up-to-date
/// database it enqueues nothing. Returns how many were enqueued.
pub async fn enqueue_stale(db: &Db, model: &str) -> sqlx::Result<usize> {
    let mut after = String::new();
    let mut queued = 0;
    loop {
        let page = db::search::stale_tasks(db.read(), model, &after, 500).await?;
        let Some((_, last)) = page.last() else {
            break;
        };
        after = last.clone();
        let mut tx = db.begin().await?;
        for (tenant_id, task_id) in &page {
            crate::jobs::search::enqueue_embed(&mut tx, tenant_id, task_id).await?;
        }
        tx.commit().await?;
        queued += page.len();
    }
    if queued > 0 {
        db.wake_jobs();
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
}
