//! Retrieval quality measures for `kanri search eval`: nDCG@k with graded relevance
//! (gain 2^grade − 1, log2 discount) and recall@k over the items graded at least 1.

use std::collections::HashMap;

/// nDCG@k of `ranked` (best first) against graded judgements; 0 when nothing is relevant.
pub fn ndcg_at(k: usize, ranked: &[String], grades: &HashMap<String, u32>) -> f64 {
    let gain = |g: u32| 2f64.powi(g.min(30) as i32) - 1.0;
    let discount = |i: usize| 1.0 / ((i + 2) as f64).log2();
    let dcg: f64 = ranked
        .iter()
        .take(k)
        .enumerate()
        .map(|(i, id)| gain(grades.get(id).copied().unwrap_or(0)) * discount(i))
        .sum();
    let mut ideal: Vec<u32> = grades.values().copied().filter(|g| *g > 0).collect();
    ideal.sort_unstable_by(|a, b| b.cmp(a));
    let idcg: f64 = ideal
        .iter()
        .take(k)
        .enumerate()
        .map(|(i, g)| gain(*g) * discount(i))
        .sum();
    if idcg == 0.0 { 0.0 } else { dcg / idcg }
}

/// Share of the items graded ≥ 1 found in the top k; 0 when none are.
pub fn recall_at(k: usize, ranked: &[String], grades: &HashMap<String, u32>) -> f64 {
    let relevant = grades.values().filter(|g| **g >= 1).count();
    if relevant == 0 {
        return 0.0;
    }
    let found = ranked
        .iter()
        .take(k)
        .filter(|id| grades.get(*id).is_some_and(|g| *g >= 1))
        .count();
    found as f64 / relevant as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grades(v: &[(&str, u32)]) -> HashMap<String, u32> {
        v.iter().map(|(k, g)| (k.to_string(), *g)).collect()
    }

    fn ids(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn perfect_and_imperfect_rankings() {
        let g = grades(&[("a", 3), ("b", 1)]);
        assert!((ndcg_at(10, &ids(&["a", "b"]), &g) - 1.0).abs() < 1e-12);
        let swapped = ndcg_at(10, &ids(&["b", "a"]), &g);
        assert!(swapped < 1.0 && swapped > 0.5);
        assert_eq!(ndcg_at(10, &ids(&["x"]), &g), 0.0);
        assert_eq!(recall_at(10, &ids(&["a", "x"]), &g), 0.5);
        assert_eq!(recall_at(1, &ids(&["x", "a", "b"]), &g), 0.0);
        assert_eq!(ndcg_at(10, &ids(&["a"]), &grades(&[])), 0.0);
    }
}
