//! Reciprocal-rank fusion (Cormack, Clarke and Büttcher, SIGIR 2009): each list gives an item
//! `1 / (K + rank)`, ranks from 1, and the sums order the fused list. It needs no score
//! calibration between BM25 and cosine similarity, which live on unrelated scales.

use std::collections::HashMap;

/// The paper's constant, used unchanged: it damps the weight of the very first ranks so that
/// agreement between the lists counts more than one list's top hit.
pub const RRF_K: f64 = 60.0;

#[derive(Debug, Clone, PartialEq)]
pub struct Fused {
    pub id: String,
    pub score: f64,
    /// 1-based rank in the full-text list, if there.
    pub text_rank: Option<usize>,
    /// 1-based rank in the semantic list, if there.
    pub semantic_rank: Option<usize>,
}

/// Fuses two ranked id lists (best first). Ties are broken by the better single rank, then id.
pub fn rrf(text: &[String], semantic: &[String]) -> Vec<Fused> {
    let mut by_id: HashMap<&str, Fused> = HashMap::new();
    for (rank, id) in text.iter().enumerate() {
        let entry = by_id.entry(id).or_insert_with(|| blank(id));
        if entry.text_rank.is_none() {
            entry.text_rank = Some(rank + 1);
            entry.score += 1.0 / (RRF_K + (rank + 1) as f64);
        }
    }
    for (rank, id) in semantic.iter().enumerate() {
        let entry = by_id.entry(id).or_insert_with(|| blank(id));
        if entry.semantic_rank.is_none() {
            entry.semantic_rank = Some(rank + 1);
            entry.score += 1.0 / (RRF_K + (rank + 1) as f64);
        }
    }
    let mut fused: Vec<Fused> = by_id.into_values().collect();
    let best = |f: &Fused| {
        f.text_rank
            .unwrap_or(usize::MAX)
            .min(f.semantic_rank.unwrap_or(usize::MAX))
    };
    fused.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then(best(a).cmp(&best(b)))
            .then(a.id.cmp(&b.id))
    });
    fused
}

fn blank(id: &str) -> Fused {
    Fused {
        id: id.to_string(),
        score: 0.0,
        text_rank: None,
        semantic_rank: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn agreement_beats_a_single_top_rank() {
        let fused = rrf(&ids(&["a", "b", "c"]), &ids(&["d", "b", "a"]));
        let order: Vec<&str> = fused.iter().map(|f| f.id.as_str()).collect();
        assert_eq!(order, ["a", "b", "d", "c"]);
        assert_eq!(fused[1].text_rank, Some(2));
        assert_eq!(fused[1].semantic_rank, Some(2));
        assert!((fused[0].score - (1.0 / 61.0 + 1.0 / 63.0)).abs() < 1e-12);
    }

    #[test]
    fn one_empty_list_keeps_the_other_order_and_duplicates_count_once() {
        let fused = rrf(&[], &ids(&["x", "y", "x"]));
        assert_eq!(fused.len(), 2);
        assert_eq!(fused[0].id, "x");
        assert_eq!(fused[0].text_rank, None);
        assert!(rrf(&[], &[]).is_empty());
    }
}
