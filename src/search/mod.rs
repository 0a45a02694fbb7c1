//! Search building blocks with no database in them: the `Embedder` trait and its backends
//! (the bundled pocket-encoder model and an OpenAI-compatible HTTP endpoint), the in-memory
//! vector index (exact, and HNSW with the `ann` feature), rank fusion, and turning user text into safe full-text
//! queries. `services::search` puts them together with the database.

#[cfg(feature = "ann")]
pub mod ann;
pub mod embedder;
pub mod fusion;
pub mod http_embedder;
pub mod index;
pub mod metrics;
pub mod pocket;
pub mod text_query;

pub use embedder::{EmbedError, Embedder};
pub use index::VectorSet;

/// The embedder the configuration names: the endpoint if one is set, else the bundled model.
pub fn from_config(
    config: &crate::config::SearchConfig,
) -> anyhow::Result<std::sync::Arc<dyn Embedder>> {
    Ok(match &config.embeddings {
        Some(e) => std::sync::Arc::new(http_embedder::HttpEmbedder::new(
            &e.url,
            &e.model,
            e.key.clone(),
        )?),
        None => std::sync::Arc::new(pocket::PocketEmbedder::new()),
    })
}
