//! The bundled offline model: pocket-encoder 0.1.2 (a 4-bit paraphrase-MiniLM-L3-v2, 384
//! dimensions), Kanri's vendored copy (`vendor/pocket-encoder`, see its KANRI.md). It embeds
//! its weights and tokenizer with `include_bytes!`, does no file or network I/O, keeps no input
//! text, loads once per process through its own `OnceLock`, and its only `unsafe` is the GEMM
//! call. Its `embed` is CPU-bound (one core; the texts of a call are encoded together), so it
//! runs on the blocking pool here, under a semaphore so a burst of jobs cannot take every
//! blocking thread.

use std::sync::Arc;

use sha2::{Digest, Sha256};
use tokio::sync::Semaphore;

use super::embedder::{EmbedError, EmbedFuture, Embedder};

pub struct PocketEmbedder {
    model: String,
    permits: Arc<Semaphore>,
}

impl Default for PocketEmbedder {
    fn default() -> Self {
        Self::new()
    }
}

impl PocketEmbedder {
    pub fn new() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Self {
            model: identity(&pocket_encoder::model_info()),
            permits: Arc::new(Semaphore::new(cores)),
        }
    }
}

/// The model's id plus a digest of its complete `ModelInfo` (weights and tokenizer hashes,
/// pooling, truncation), as its README asks: equal ids with different weights never match.
fn identity(info: &pocket_encoder::ModelInfo) -> String {
    let json = serde_json::to_vec(info).unwrap_or_default();
    let digest = hex::encode(Sha256::digest(&json));
    format!("{}@{}", info.id, &digest[..16])
}

impl Embedder for PocketEmbedder {
    fn model(&self) -> &str {
        &self.model
    }

    fn embed<'a>(&'a self, texts: &'a [String]) -> EmbedFuture<'a> {
        Box::pin(async move {
            if texts.is_empty() {
                return Ok(Vec::new());
            }
            let _permit = self
                .permits
                .acquire()
                .await
                .map_err(|_| EmbedError::Unavailable("embedder is shutting down".into()))?;
            let texts = texts.to_vec();
            tokio::task::spawn_blocking(move || {
                // Loads the weights on first use (about a second); later calls share them.
                let encoder = pocket_encoder::Encoder::new()
                    .map_err(|e| EmbedError::Failed(e.to_string()))?;
                encoder
                    .embed(&texts)
                    .map_err(|e| EmbedError::Failed(e.to_string()))
            })
            .await
            .map_err(|e| EmbedError::Failed(format!("embedding task: {e}")))?
        })
    }
}
