//! Approximate nearest neighbours for large projects: an HNSW graph from `hnsw_rs`.
//!
//! Chosen over `instant-distance` because it is actively released, inserts incrementally,
//! searches with a filter (permissions and field filters apply inside the graph walk), and
//! uses the same `rand` line as we do. Its warts, checked in its source: `Hnsw::new` exits the
//! process if `max_nb_connection > 256` (ours is a constant 16), it logs through `log`, and
//! the bundled `DistDot` asserts `dot <= 1`, which rounding breaks for a vector compared with
//! itself, so we supply our own clamped distance.
//! The graph is only a candidate generator: `VectorSet` re-scores every candidate exactly.

use std::sync::Arc;

use hnsw_rs::prelude::{Distance, FilterT, Hnsw};

use super::index::{Snapshot, dot};

/// `1 − cosine` for unit vectors, clamped at 0 against rounding.
#[derive(Debug, Default, Clone, Copy)]
pub struct UnitDot;

impl Distance<f32> for UnitDot {
    fn eval(&self, a: &[f32], b: &[f32]) -> f32 {
        (1.0 - dot(a, b)).max(0.0)
    }
}

/// Links per node (HNSW's M). 16 is the usual default for a few hundred dimensions.
const MAX_CONNECTIONS: usize = 16;
/// Candidate list size while building; higher builds slower and recalls more.
const EF_CONSTRUCTION: usize = 100;
const MAX_LAYERS: usize = 16;

pub struct Ann {
    graph: Hnsw<'static, f32, UnitDot>,
    ids: Vec<Arc<str>>,
    dims: usize,
}

impl Ann {
    /// Builds the graph from a snapshot, on all cores (rayon). Slow: call it off the runtime.
    pub fn build(snapshot: Snapshot) -> Self {
        let Snapshot { dims, ids, data } = snapshot;
        let graph = Hnsw::new(
            MAX_CONNECTIONS,
            ids.len().max(1),
            MAX_LAYERS,
            EF_CONSTRUCTION,
            UnitDot,
        );
        let rows: Vec<(&[f32], usize)> = data.chunks_exact(dims.max(1)).zip(0..).collect();
        graph.parallel_insert_slice(&rows);
        let mut graph = graph;
        graph.set_searching_mode(true);
        Self { graph, ids, dims }
    }

    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// An estimate: each node's copy of its vector, its links on layer 0 (2·M) and above, and
    /// the id table.
    pub fn memory_bytes(&self) -> usize {
        self.ids.len() * (self.dims * 4 + 2 * MAX_CONNECTIONS * 24 + 160)
    }

    /// Ids of about the `k` nearest nodes that `allow` accepts.
    pub fn search(
        &self,
        query: &[f32],
        k: usize,
        allow: Option<&dyn Fn(&str) -> bool>,
    ) -> Vec<Arc<str>> {
        let ef = (k * 2).max(64);
        let ids = &self.ids;
        let hits = match allow {
            Some(allow) => {
                let filter = |id: &usize| ids.get(*id).is_some_and(|id| allow(id));
                self.graph
                    .search_filter(query, k, ef, Some(&filter as &dyn FilterT))
            }
            None => self.graph.search(query, k, ef),
        };
        hits.into_iter()
            .filter_map(|n| ids.get(n.d_id).cloned())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::super::index::VectorSet;

    #[test]
    fn graph_search_agrees_with_exact_search_on_the_best_match() {
        let dims = 32;
        let mut set = VectorSet::new(dims);
        let mut x: u64 = 42;
        let mut next = || {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (x >> 40) as f32 / (1u64 << 24) as f32 - 0.5
        };
        let vectors: Vec<Vec<f32>> = (0..2000)
            .map(|_| {
                super::super::embedder::normalize((0..dims).map(|_| next()).collect()).unwrap()
            })
            .collect();
        for (i, v) in vectors.iter().enumerate() {
            set.upsert(&format!("t{i}"), v);
        }
        let snapshot = set.snapshot();
        set.install(super::Ann::build(snapshot));
        assert!(set.has_ann());
        let mut agree = 0;
        for q in vectors.iter().take(50) {
            if set.search(q, 1, None)[0].0 == set.search_exact(q, 1, None)[0].0 {
                agree += 1;
            }
        }
        assert!(agree >= 48, "{agree}/50");
        // Written after the snapshot: found through the pending list; removed: gone.
        set.upsert("new", &vectors[5]);
        set.remove("t5");
        let hits = set.search(&vectors[5], 2, None);
        assert_eq!(&*hits[0].0, "new");
        assert!(hits.iter().all(|(id, _)| &**id != "t5"));
    }
}
