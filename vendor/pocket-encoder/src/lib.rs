//! Bundled sentence-transformer embeddings, offline, with native Rust CPU inference.
//!
//! This runs all three attention layers of MiniLM. The 4-bit **storage** format is
//! dequantized to F32 once at load; inference is F32, not an integer kernel.
//! No model downloads, Python, ONNX shared library, cache or build script.
//!
//! Kanri's copy (see KANRI.md): the crate's own native F32 backend on every target, with the
//! texts of one call encoded together in batches.
//!
//! ```no_run
//! let encoder = pocket_encoder::Encoder::new()?;
//! let vectors = encoder.embed(&["Send a document", "Transfer a file"])?;
//! assert_eq!(vectors[0].len(), 384);
//! # Ok::<(), pocket_encoder::Error>(())
//! ```
mod cpu;
mod weights;
use cpu::{Model, Tokens};
use serde::{Deserialize, Serialize};
use std::sync::{Arc, OnceLock};
use tokenizers::{Tokenizer, TruncationParams};

/// Embedding coordinate-space identity. Persist this with indexed vectors.
/// Exact equality, not just equal dimensions, is required before comparison.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelInfo {
    /// Identifies the model and preprocessing contract.
    pub id: String,
    /// SHA-256 of the bundled quantized weights.
    pub revision: String,
    /// Upstream model repository.
    pub upstream_model: String,
    /// Immutable upstream revision.
    pub upstream_revision: String,
    /// SHA-256 of the unchanged tokenizer JSON.
    pub tokenizer_sha256: String,
    /// Number of normalized F32 coordinates per input.
    pub dimensions: usize,
    /// Includes special tokens. Longer inputs are right-truncated.
    pub max_tokens: usize,
    /// Pooling and normalization contract.
    pub pooling: String,
}

/// Metadata is available without loading weights or doing inference.
pub fn model_info() -> ModelInfo {
    let value: serde_json::Value = serde_json::from_str(include_str!("../assets/provenance.json"))
        .expect("bundled provenance");
    ModelInfo {
        id: "pocket-encoder/minilm-l3-q4-g32-v1".into(),
        revision: format!("sha256:{}", value["bundled_sha256"].as_str().unwrap()),
        upstream_model: value["upstream_model"].as_str().unwrap().into(),
        upstream_revision: value["upstream_revision"].as_str().unwrap().into(),
        tokenizer_sha256: value["tokenizer_sha256"].as_str().unwrap().into(),
        dimensions: 384,
        max_tokens: 128,
        pooling: "attention-masked mean; L2 normalized; no query prefix; right truncation".into(),
    }
}

/// Validation or native inference failure. Input text is never included.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Input bounds were exceeded.
    #[error("{0}")]
    Input(&'static str),
    /// Tokenizer/model initialization or inference failed.
    #[error("encoder failed: {0}")]
    Inference(String),
}

struct Inner {
    model: Model,
    tokenizer: Tokenizer,
}

/// Cheap clones share immutable weights and tokenizer; CPU only.
#[derive(Clone)]
pub struct Encoder {
    inner: Arc<Inner>,
}

impl Encoder {
    /// Load compiled-in weights once per process. No filesystem or network I/O.
    pub fn new() -> Result<Self, Error> {
        static MODEL: OnceLock<Result<Arc<Inner>, String>> = OnceLock::new();
        MODEL
            .get_or_init(|| load_bundled().map(Arc::new).map_err(|e| e.to_string()))
            .clone()
            .map(|inner| Self { inner })
            .map_err(Error::Inference)
    }

    /// Encode at most 4096 inputs, each at most 64 KiB, at most 4 MiB combined.
    /// Inputs are independently right-truncated to 128 WordPiece tokens, including
    /// special tokens. Use smaller chunks for long documents. Empty text is rejected.
    /// Returns unit-length vectors in the same order; no input text is retained.
    /// Inputs are encoded together, up to [`BATCH_TOKENS`] tokens a pass: each input's vector
    /// is the one it gets alone (attention never crosses inputs).
    pub fn embed(&self, texts: &[impl AsRef<str>]) -> Result<Vec<Vec<f32>>, Error> {
        if texts.len() > 4096 {
            return Err(Error::Input("at most 4096 texts per call"));
        }
        let mut bytes = 0usize;
        for text in texts {
            let text = text.as_ref();
            if text.trim().is_empty() {
                return Err(Error::Input("text must not be empty"));
            }
            if text.len() > 65536 {
                return Err(Error::Input("text exceeds 64 KiB"));
            }
            bytes = bytes.saturating_add(text.len());
        }
        if bytes > 4 * 1024 * 1024 {
            return Err(Error::Input("texts exceed 4 MiB"));
        }
        let encodings = texts
            .iter()
            .map(|text| self.inner.tokenizer.encode(text.as_ref(), true))
            .collect::<Result<Vec<_>, _>>()
            .map_err(inference)?;
        let lengths = encodings.iter().map(|e| e.get_ids().len());
        let mut vectors = Vec::with_capacity(encodings.len());
        for batch in token_batches(lengths) {
            let inputs = encodings[batch]
                .iter()
                .map(|encoding| Tokens {
                    ids: encoding.get_ids(),
                    types: encoding.get_type_ids(),
                    mask: encoding.get_attention_mask(),
                })
                .collect::<Vec<_>>();
            for pooled in self.inner.model.pooled(&inputs)? {
                vectors.push(normalize(pooled)?);
            }
        }
        Ok(vectors)
    }
}

/// Tokens one forward pass carries: the activations of a pass are about 6 KiB per token
/// per live matrix (the 1,536-wide intermediate one), so this bounds them to a few MiB
/// however many inputs a call brings, while a pass is still large enough for the matrix
/// products to run at speed.
pub const BATCH_TOKENS: usize = 2048;

/// Splits inputs of these token counts into consecutive runs (index ranges) of at most
/// [`BATCH_TOKENS`] tokens (one input may exceed it alone only if it were longer than 128
/// tokens, which truncation prevents).
fn token_batches(lengths: impl IntoIterator<Item = usize>) -> Vec<std::ops::Range<usize>> {
    let mut batches = Vec::new();
    let (mut start, mut end, mut tokens) = (0, 0, 0);
    for len in lengths {
        if end > start && tokens + len > BATCH_TOKENS {
            batches.push(start..end);
            (start, tokens) = (end, 0);
        }
        tokens += len;
        end += 1;
    }
    if start < end {
        batches.push(start..end);
    }
    batches
}

fn inference(error: impl std::fmt::Display) -> Error {
    Error::Inference(error.to_string())
}

fn normalize(pooled: Vec<f32>) -> Result<Vec<f32>, Error> {
    let norm = pooled
        .iter()
        .map(|v| (*v as f64).powi(2))
        .sum::<f64>()
        .sqrt();
    if !norm.is_finite() || norm <= 0.0 {
        return Err(inference("non-finite or zero embedding"));
    }
    Ok(pooled
        .into_iter()
        .map(|v| (v as f64 / norm) as f32)
        .collect())
}

fn tokenizer() -> Result<Tokenizer, Error> {
    let mut tokenizer =
        Tokenizer::from_bytes(include_bytes!("../assets/tokenizer.json")).map_err(inference)?;
    tokenizer.with_padding(None);
    tokenizer
        .with_truncation(Some(TruncationParams {
            max_length: 128,
            ..Default::default()
        }))
        .map_err(inference)?;
    Ok(tokenizer)
}

fn load_bundled() -> Result<Inner, Error> {
    Ok(Inner {
        model: Model::load()?,
        tokenizer: tokenizer()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The batches of `lengths` as slices of it.
    fn batched(lengths: &[usize]) -> Vec<&[usize]> {
        token_batches(lengths.iter().copied())
            .into_iter()
            .map(|range| &lengths[range])
            .collect()
    }

    #[test]
    fn batches_hold_whole_inputs_up_to_the_token_budget() {
        let lengths = [1000, 1000, 48, 1, 2048, 128];
        let batches = batched(&lengths);
        assert_eq!(batches, [&[1000, 1000, 48][..], &[1], &[2048], &[128]]);
        assert!(batched(&[]).is_empty());
        assert_eq!(batched(&[5]), [&[5][..]]);
    }
}
