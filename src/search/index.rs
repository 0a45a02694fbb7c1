//! The in-memory vectors of one project: unit-length `f32` vectors in one contiguous buffer,
//! searched exactly by dot product (cosine, since they are normalised), and, above a size
//! threshold, through an HNSW graph ([`super::ann`]) whose candidates are re-scored exactly.
//!
//! The graph cannot delete, and is built from a snapshot while the set keeps changing, so
//! the set remembers which ids changed since the graph's snapshot (`pending`) and scans those
//! exactly too; removed ids simply have no slot any more and drop out at re-scoring.
//!
//! The graph is the `ann` cargo feature (off by default: the default threshold is 200,000
//! vectors a project, where exact search is still faster here; see the README's Benchmarks).
//! Without it a set is always searched exactly.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap, HashSet};
use std::sync::Arc;

#[cfg(feature = "ann")]
use super::ann::Ann;

/// A match: the id and its cosine similarity.
pub type Scored = (Arc<str>, f32);

pub struct VectorSet {
    dims: usize,
    ids: Vec<Arc<str>>,
    data: Vec<f32>,
    slots: HashMap<Arc<str>, usize>,
    #[cfg(feature = "ann")]
    ann: Option<Arc<Ann>>,
    /// Ids written since `ann`'s snapshot.
    pending: HashSet<Arc<str>>,
    /// While a graph is being built: ids written since its snapshot.
    building: Option<HashSet<Arc<str>>>,
}

/// A copy of the vectors to build a graph from, off the lock.
pub struct Snapshot {
    pub dims: usize,
    pub ids: Vec<Arc<str>>,
    pub data: Vec<f32>,
}

impl VectorSet {
    pub fn new(dims: usize) -> Self {
        Self {
            dims,
            ids: Vec::new(),
            data: Vec::new(),
            slots: HashMap::new(),
            #[cfg(feature = "ann")]
            ann: None,
            pending: HashSet::new(),
            building: None,
        }
    }

    pub fn dims(&self) -> usize {
        self.dims
    }

    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    pub fn contains(&self, id: &str) -> bool {
        self.slots.contains_key(id)
    }

    pub fn ids(&self) -> impl Iterator<Item = &Arc<str>> {
        self.ids.iter()
    }

    pub fn has_ann(&self) -> bool {
        #[cfg(feature = "ann")]
        return self.ann.is_some();
        #[cfg(not(feature = "ann"))]
        false
    }

    /// Adds or replaces `id`'s vector; ignored (false) when its length is not `dims`.
    pub fn upsert(&mut self, id: &str, vector: &[f32]) -> bool {
        if vector.len() != self.dims {
            return false;
        }
        let id: Arc<str> = match self.slots.get_key_value(id) {
            Some((key, &slot)) => {
                let key = key.clone();
                self.data[slot * self.dims..(slot + 1) * self.dims].copy_from_slice(vector);
                key
            }
            None => {
                let key: Arc<str> = Arc::from(id);
                self.slots.insert(key.clone(), self.ids.len());
                self.ids.push(key.clone());
                self.data.extend_from_slice(vector);
                key
            }
        };
        if self.has_ann() {
            self.pending.insert(id.clone());
        }
        if let Some(building) = &mut self.building {
            building.insert(id);
        }
        true
    }

    /// Removes `id`; the last vector moves into its slot.
    pub fn remove(&mut self, id: &str) -> bool {
        let Some(slot) = self.slots.remove(id) else {
            return false;
        };
        let last = self.ids.len() - 1;
        self.ids.swap_remove(slot);
        if slot != last {
            let (head, tail) = self.data.split_at_mut(last * self.dims);
            head[slot * self.dims..(slot + 1) * self.dims].copy_from_slice(&tail[..self.dims]);
            self.slots.insert(self.ids[slot].clone(), slot);
        }
        self.data.truncate(last * self.dims);
        self.pending.remove(id);
        true
    }

    /// Keeps only the ids for which `keep` holds.
    pub fn retain(&mut self, keep: impl Fn(&str) -> bool) -> usize {
        let gone: Vec<Arc<str>> = self.ids.iter().filter(|id| !keep(id)).cloned().collect();
        for id in &gone {
            self.remove(id);
        }
        gone.len()
    }

    /// Bytes held: the vectors, the ids and the graph.
    pub fn memory_bytes(&self) -> usize {
        let ids: usize = self.ids.iter().map(|id| id.len() + 16 + 48).sum();
        #[cfg(feature = "ann")]
        let graph = self.ann.as_ref().map_or(0, |a| a.memory_bytes());
        #[cfg(not(feature = "ann"))]
        let graph = 0;
        self.data.capacity() * 4 + ids + graph
    }

    /// The `k` best matches of `query`, best first, among ids `allow` accepts. Exact unless
    /// a graph exists, in which case its candidates and the pending ids are re-scored exactly.
    pub fn search(
        &self,
        query: &[f32],
        k: usize,
        allow: Option<&dyn Fn(&str) -> bool>,
    ) -> Vec<Scored> {
        if k == 0 || query.len() != self.dims || self.ids.is_empty() {
            return Vec::new();
        }
        #[cfg(feature = "ann")]
        if let Some(ann) = &self.ann {
            return self.search_ann(ann, query, k, allow);
        }
        self.search_exact(query, k, allow)
    }

    pub fn search_exact(
        &self,
        query: &[f32],
        k: usize,
        allow: Option<&dyn Fn(&str) -> bool>,
    ) -> Vec<Scored> {
        let mut top = TopK::new(k);
        for (slot, row) in self.data.chunks_exact(self.dims).enumerate() {
            let score = dot(query, row);
            if top.accepts(score) && allow.is_none_or(|f| f(&self.ids[slot])) {
                top.push(score, slot);
            }
        }
        top.into_sorted()
            .into_iter()
            .map(|(score, slot)| (self.ids[slot].clone(), score))
            .collect()
    }

    #[cfg(feature = "ann")]
    fn search_ann(
        &self,
        ann: &Ann,
        query: &[f32],
        k: usize,
        allow: Option<&dyn Fn(&str) -> bool>,
    ) -> Vec<Scored> {
        // Over-fetch: some candidates are stale (removed or re-embedded since the snapshot).
        let wanted = (k * 2).max(40);
        let mut top = TopK::new(k);
        let mut seen = HashSet::new();
        let candidates = ann.search(query, wanted, allow);
        for id in candidates.iter().chain(self.pending.iter()) {
            if !seen.insert(id.clone()) {
                continue;
            }
            let Some(&slot) = self.slots.get(id) else {
                continue;
            };
            if allow.is_some_and(|f| !f(id)) {
                continue;
            }
            let score = dot(query, &self.data[slot * self.dims..(slot + 1) * self.dims]);
            top.push(score, slot);
        }
        top.into_sorted()
            .into_iter()
            .map(|(score, slot)| (self.ids[slot].clone(), score))
            .collect()
    }

    /// Whether a graph should be (re)built: the set is at least `threshold` big and has no
    /// graph, or more than a tenth of it changed since the graph's snapshot.
    #[cfg(feature = "ann")]
    pub fn wants_ann(&self, threshold: usize) -> bool {
        if self.building.is_some() || self.len() < threshold {
            return false;
        }
        match &self.ann {
            None => true,
            Some(ann) => self.pending.len() * 10 > self.len() || ann.len() > self.len() * 11 / 10,
        }
    }

    /// Copies the vectors for a graph build and starts tracking what changes meanwhile.
    pub fn snapshot(&mut self) -> Snapshot {
        self.building = Some(HashSet::new());
        Snapshot {
            dims: self.dims,
            ids: self.ids.clone(),
            data: self.data.clone(),
        }
    }

    /// Puts a graph built from the last snapshot in service.
    #[cfg(feature = "ann")]
    pub fn install(&mut self, ann: Ann) {
        // No build in flight: the set was reset meanwhile and this graph is of old data.
        let Some(pending) = self.building.take() else {
            return;
        };
        self.pending = pending;
        self.ann = Some(Arc::new(ann));
    }

    /// Forgets a build that failed, so a later one can start.
    pub fn abandon_build(&mut self) {
        self.building = None;
    }

    /// Drops the graph (small sets are searched exactly).
    pub fn drop_ann(&mut self) {
        #[cfg(feature = "ann")]
        {
            self.ann = None;
        }
        self.pending.clear();
    }
}

/// Dot product with eight independent accumulators, so the compiler vectorises the loop.
#[inline]
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0.0f32; 8];
    let (a8, a_rest) = a.as_chunks::<8>();
    let (b8, b_rest) = b.as_chunks::<8>();
    for (x, y) in a8.iter().zip(b8) {
        for i in 0..8 {
            acc[i] += x[i] * y[i];
        }
    }
    let mut sum: f32 = acc.iter().sum();
    for (x, y) in a_rest.iter().zip(b_rest) {
        sum += x * y;
    }
    sum
}

/// The k best (score, slot) pairs seen, kept in a min-heap.
struct TopK {
    k: usize,
    heap: BinaryHeap<Entry>,
}

#[derive(PartialEq)]
struct Entry(f32, usize);

impl Eq for Entry {}

impl Ord for Entry {
    // Reversed, so the heap's top is the worst kept entry; ties keep the lower slot.
    fn cmp(&self, other: &Self) -> Ordering {
        other.0.total_cmp(&self.0).then(self.1.cmp(&other.1))
    }
}

impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl TopK {
    fn new(k: usize) -> Self {
        Self {
            k,
            heap: BinaryHeap::with_capacity(k + 1),
        }
    }

    fn accepts(&self, score: f32) -> bool {
        self.heap.len() < self.k || self.heap.peek().is_some_and(|worst| score > worst.0)
    }

    fn push(&mut self, score: f32, slot: usize) {
        if !self.accepts(score) {
            return;
        }
        self.heap.push(Entry(score, slot));
        if self.heap.len() > self.k {
            self.heap.pop();
        }
    }

    fn into_sorted(self) -> Vec<(f32, usize)> {
        let mut v: Vec<(f32, usize)> = self.heap.into_iter().map(|e| (e.0, e.1)).collect();
        v.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(seed: u64, dims: usize) -> Vec<f32> {
        let mut x = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let v: Vec<f32> = (0..dims)
            .map(|_| {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                ((x >> 33) as f32 / u32::MAX as f32) - 0.25
            })
            .collect();
        super::super::embedder::normalize(v).unwrap()
    }

    #[test]
    fn exact_search_finds_the_same_vector_first_and_respects_filters() {
        let mut set = VectorSet::new(16);
        for i in 0..50 {
            assert!(set.upsert(&format!("t{i}"), &unit(i, 16)));
        }
        assert!(!set.upsert("bad", &[1.0; 3]));
        let hits = set.search(&unit(7, 16), 5, None);
        assert_eq!(&*hits[0].0, "t7");
        assert!((hits[0].1 - 1.0).abs() < 1e-5);
        assert!(hits.windows(2).all(|w| w[0].1 >= w[1].1));
        let only_odd = |id: &str| id[1..].parse::<u32>().unwrap() % 2 == 1;
        let hits = set.search(&unit(8, 16), 5, Some(&only_odd));
        assert!(hits.iter().all(|(id, _)| only_odd(id)));
        assert_eq!(hits.len(), 5);
    }

    #[test]
    fn remove_and_replace_keep_slots_consistent() {
        let mut set = VectorSet::new(8);
        for i in 0..10 {
            set.upsert(&format!("t{i}"), &unit(i, 8));
        }
        assert!(set.remove("t3"));
        assert!(!set.remove("t3"));
        assert_eq!(set.len(), 9);
        // t9 moved into t3's slot and is still found by its own vector.
        assert_eq!(&*set.search(&unit(9, 8), 1, None)[0].0, "t9");
        set.upsert("t9", &unit(100, 8));
        assert_eq!(&*set.search(&unit(100, 8), 1, None)[0].0, "t9");
        assert_eq!(set.retain(|id| id != "t0"), 1);
        assert!(
            set.search(&unit(0, 8), 9, None)
                .iter()
                .all(|(id, _)| &**id != "t0")
        );
    }

    #[test]
    fn dot_matches_a_plain_sum() {
        let a: Vec<f32> = (0..19).map(|i| i as f32).collect();
        let b: Vec<f32> = (0..19).map(|i| (i % 3) as f32).collect();
        let plain: f32 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
        assert_eq!(dot(&a, &b), plain);
    }
}
