//! The search section: the embeddings endpoint and the ranking settings.

/// The search settings from `Config`.
#[derive(Debug, Clone)]
pub struct SearchSettings {
    /// Projects with at least this many vectors are also indexed in an HNSW graph.
    pub ann_threshold: usize,
    /// Semantic matches below this cosine similarity are dropped.
    pub min_similarity: f32,
}

impl Default for SearchSettings {
    fn default() -> Self {
        Self {
            ann_threshold: 200_000,
            min_similarity: 0.2,
        }
    }
}
