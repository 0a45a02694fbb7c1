//! What semantic search needs from a model: a stable identity for its coordinate space and
//! unit-length vectors for texts. Backends live beside this file.

use std::future::Future;
use std::pin::Pin;

/// Texts longer than this are cut before embedding. Both backends look at a few hundred tokens
/// at most (pocket-encoder: 128), so the rest would only cost time and memory.
pub const MAX_TEXT_BYTES: usize = 4096;

#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    /// Worth trying again later (a remote endpoint was down or slow).
    #[error("embeddings unavailable: {0}")]
    Unavailable(String),
    /// Will not succeed on retry (a bad answer, a model failure).
    #[error("embedding failed: {0}")]
    Failed(String),
}

pub type EmbedFuture<'a> =
    Pin<Box<dyn Future<Output = Result<Vec<Vec<f32>>, EmbedError>> + Send + 'a>>;

/// A sentence-embedding model.
pub trait Embedder: Send + Sync + 'static {
    /// The complete identity of the coordinate space. Stored with every vector; vectors with
    /// different identities are never compared.
    fn model(&self) -> &str;

    /// One unit-length vector per text, in order. Texts are non-blank and at most
    /// [`MAX_TEXT_BYTES`] long (see [`prepare`]).
    fn embed<'a>(&'a self, texts: &'a [String]) -> EmbedFuture<'a>;

    /// How many texts one `embed` call should carry.
    fn batch_size(&self) -> usize {
        32
    }
}

/// Cuts `text` to at most [`MAX_TEXT_BYTES`] on a character boundary and trims it; `None`
/// when nothing is left to embed.
pub fn prepare(text: &str) -> Option<String> {
    let text = text.trim();
    let mut end = text.len().min(MAX_TEXT_BYTES);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let text = text[..end].trim();
    (!text.is_empty()).then(|| text.to_string())
}

/// The text a task is embedded from: its title, then its description.
pub fn task_text(title: &str, description: Option<&str>) -> Option<String> {
    match description.map(str::trim).filter(|d| !d.is_empty()) {
        Some(d) => prepare(&format!("{title}\n{d}")),
        None => prepare(title),
    }
}

/// Scales `v` to unit length; `None` for an empty, zero or non-finite vector.
pub fn normalize(mut v: Vec<f32>) -> Option<Vec<f32>> {
    let norm = v.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>().sqrt();
    if v.is_empty() || !norm.is_finite() || norm <= f64::EPSILON {
        return None;
    }
    for x in &mut v {
        *x = (f64::from(*x) / norm) as f32;
    }
    Some(v)
}

/// Little-endian f32 bytes, as vectors are stored.
pub fn to_bytes(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// The inverse of [`to_bytes`]; `None` when the length is not `dims` floats.
pub fn from_bytes(bytes: &[u8], dims: usize) -> Option<Vec<f32>> {
    if bytes.len() != dims * 4 {
        return None;
    }
    Some(
        bytes
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prepare_cuts_on_a_char_boundary_and_rejects_blank() {
        assert_eq!(prepare("  "), None);
        assert_eq!(prepare(" a "), Some("a".into()));
        let long = "é".repeat(MAX_TEXT_BYTES);
        let cut = prepare(&long).unwrap();
        assert!(cut.len() <= MAX_TEXT_BYTES && cut.chars().all(|c| c == 'é'));
        assert_eq!(task_text("T", Some("  ")), Some("T".into()));
        assert_eq!(task_text("T", Some("d")), Some("T\nd".into()));
    }

    #[test]
    fn vectors_round_trip_and_normalise() {
        let v = normalize(vec![3.0, 4.0]).unwrap();
        assert!((v[0] - 0.6).abs() < 1e-6 && (v[1] - 0.8).abs() < 1e-6);
        assert_eq!(from_bytes(&to_bytes(&v), 2), Some(v));
        assert_eq!(from_bytes(&[0; 7], 2), None);
        assert_eq!(normalize(vec![0.0, 0.0]), None);
        assert_eq!(normalize(vec![f32::NAN]), None);
    }
}
