//! User text to full-text queries. The user's text never reaches the MATCH or tsquery syntax
//! as is: it is cut into words of letters and digits only, so no quote, operator, parenthesis,
//! colon or star can survive, and each word is then written in the target syntax (quoted for
//! FTS5). Every word must match, as with the engines' own defaults (FTS5's implicit AND,
//! Postgres' `plainto_tsquery`); text-only search relaxes to any word when that finds nothing.
//! Stop words are dropped first; the last word is a prefix, for search-as-you-type. Matches are
//! ranked by BM25 / `ts_rank_cd`.

/// The longest query accepted, in characters.
pub const MAX_QUERY_CHARS: usize = 500;
/// Words beyond this are ignored.
pub const MAX_TERMS: usize = 16;
/// Longer words are cut (no real word is this long; it bounds the query's size).
pub const MAX_TERM_CHARS: usize = 48;

/// English stop words: the Snowball list, which Postgres' `english` configuration also uses,
/// so both engines ignore the same words (FTS5 has no stop-word list of its own).
const STOP_WORDS: &[&str] = &[
    "i",
    "me",
    "my",
    "myself",
    "we",
    "our",
    "ours",
    "ourselves",
    "you",
    "your",
    "yours",
    "yourself",
    "yourselves",
    "he",
    "him",
    "his",
    "himself",
    "she",
    "her",
    "hers",
    "herself",
    "it",
    "its",
    "itself",
    "they",
    "them",
    "their",
    "theirs",
    "themselves",
    "what",
    "which",
    "who",
    "whom",
    "this",
    "that",
    "these",
    "those",
    "am",
    "is",
    "are",
    "was",
    "were",
    "be",
    "been",
    "being",
    "have",
    "has",
    "had",
    "having",
    "do",
    "does",
    "did",
    "doing",
    "a",
    "an",
    "the",
    "and",
    "but",
    "if",
    "or",
    "because",
    "as",
    "until",
    "while",
    "of",
    "at",
    "by",
    "for",
    "with",
    "about",
    "against",
    "between",
    "into",
    "through",
    "during",
    "before",
    "after",
    "above",
    "below",
    "to",
    "from",
    "up",
    "down",
    "in",
    "out",
    "on",
    "off",
    "over",
    "under",
    "again",
    "further",
    "then",
    "once",
    "here",
    "there",
    "when",
    "where",
    "why",
    "how",
    "all",
    "any",
    "both",
    "each",
    "few",
    "more",
    "most",
    "other",
    "some",
    "such",
    "no",
    "nor",
    "not",
    "only",
    "own",
    "same",
    "so",
    "than",
    "too",
    "very",
    "s",
    "t",
    "can",
    "will",
    "just",
    "don",
    "should",
    "now",
];

pub fn is_stop_word(word: &str) -> bool {
    STOP_WORDS.contains(&word)
}

/// The query's words: lower-cased runs of letters and digits, in order, without repeats.
/// Stop words are dropped unless the query has nothing else.
pub fn terms(query: &str) -> Vec<String> {
    let words = all_terms(query);
    if words.iter().all(|w| is_stop_word(w)) {
        return words;
    }
    words.into_iter().filter(|w| !is_stop_word(w)).collect()
}

fn all_terms(query: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for word in query.split(|c: char| !c.is_alphanumeric()) {
        if word.is_empty() {
            continue;
        }
        let word = lower_word(word);
        if word.is_empty() {
            continue;
        }
        if !out.contains(&word) {
            out.push(word);
        }
        if out.len() == MAX_TERMS {
            break;
        }
    }
    out
}

/// Every word of a document, lower-cased, for building a vocabulary.
pub fn terms_unbounded(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty() && w.chars().count() <= MAX_TERM_CHARS)
        .map(lower_word)
        .filter(|w| !w.is_empty())
}

/// Lower-cases a word and keeps its letters and digits: lower-casing can add a combining mark
/// (`İ` becomes `i` + U+0307), which is not a word character and must not reach a query.
fn lower_word(word: &str) -> String {
    word.to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric())
        .take(MAX_TERM_CHARS)
        .collect()
}

/// An FTS5 MATCH expression: `"w1" AND "w2" AND "w3"*` (with `every`) or the same with OR. `None` when there are no words.
pub fn fts5_match(terms: &[String], every: bool) -> Option<String> {
    let last = terms.len().checked_sub(1)?;
    let parts: Vec<String> = terms
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let quoted = format!("\"{}\"", t.replace('"', ""));
            if i == last {
                format!("{quoted}*")
            } else {
                quoted
            }
        })
        .collect();
    Some(parts.join(if every { " AND " } else { " OR " }))
}

/// A `to_tsquery` text: `w1 & w2 & w3:*` (with `every`) or `w1 | w2 | w3:*`. `None` when there are no words.
pub fn tsquery(terms: &[String], every: bool) -> Option<String> {
    let last = terms.len().checked_sub(1)?;
    let parts: Vec<String> = terms
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let word: String = t.chars().filter(|c| c.is_alphanumeric()).collect();
            if i == last { format!("{word}:*") } else { word }
        })
        .filter(|w| !w.is_empty() && w != ":*")
        .collect();
    (!parts.is_empty()).then(|| parts.join(if every { " & " } else { " | " }))
}

/// Edit distance with adjacent transpositions (optimal string alignment), stopping early past
/// `max`; `None` when the distance exceeds `max`.
pub fn distance_within(a: &str, b: &str, max: usize) -> Option<usize> {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    if a.len().abs_diff(b.len()) > max {
        return None;
    }
    let mut prev2: Vec<usize> = vec![0; b.len() + 1];
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for i in 1..=a.len() {
        let mut cur = vec![i; b.len() + 1];
        let mut row_min = cur[0];
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut d = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d = d.min(prev2[j - 2] + 1);
            }
            cur[j] = d;
            row_min = row_min.min(d);
        }
        if row_min > max {
            return None;
        }
        prev2 = std::mem::replace(&mut prev, cur);
    }
    (prev[b.len()] <= max).then_some(prev[b.len()])
}

/// How many typos a word of this length may carry: none below 4 letters (too many short
/// words are one edit apart), one up to 7, two beyond.
pub fn allowed_typos(word: &str) -> usize {
    match word.chars().count() {
        0..=3 => 0,
        4..=7 => 1,
        _ => 2,
    }
}

/// Replaces each word not in the vocabulary by the closest vocabulary word within its typo
/// allowance (the more frequent one on a tie). Returns `None` when nothing changed.
pub fn correct<'a>(
    terms: &[String],
    vocabulary: impl Iterator<Item = (&'a str, usize)> + Clone,
) -> Option<Vec<String>> {
    let mut changed = false;
    let mut out = Vec::with_capacity(terms.len());
    for term in terms {
        if vocabulary.clone().any(|(w, _)| w == term) {
            out.push(term.clone());
            continue;
        }
        let max = allowed_typos(term);
        let best = vocabulary
            .clone()
            .filter_map(|(w, freq)| {
                distance_within(term, w, max).map(|d| (d, std::cmp::Reverse(freq), w))
            })
            .min();
        match best {
            Some((_, _, w)) if max > 0 => {
                out.push(w.to_string());
                changed = true;
            }
            _ => out.push(term.clone()),
        }
    }
    changed.then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn hostile_syntax_becomes_plain_words() {
        assert_eq!(terms("\"foo AND (").as_slice(), ["foo"]);
        assert_eq!(terms("to do").as_slice(), ["to", "do"]);
        assert!(
            terms("- :* \" ( ) ^ NEAR/2 *")
                .iter()
                .all(|t| t.chars().all(char::is_alphanumeric))
        );
        assert_eq!(terms("-"), Vec::<String>::new());
        assert_eq!(fts5_match(&terms(":*"), true), None);
        assert_eq!(
            fts5_match(&terms("Sign-in BROKEN"), true).unwrap(),
            "\"sign\" AND \"broken\"*"
        );
        assert_eq!(
            tsquery(&terms("Sign-in BROKEN"), false).unwrap(),
            "sign | broken:*"
        );
        assert_eq!(terms("café Ünïcode").as_slice(), ["café", "ünïcode"]);
        assert_eq!(terms(&"a ".repeat(100)).len(), 1);
        assert_eq!(
            terms("w1 w2 w3 w4 w5 w6 w7 w8 w9 w10 w11 w12 w13 w14 w15 w16 w17").len(),
            MAX_TERMS
        );
    }

    #[test]
    fn typo_distance_and_correction() {
        assert_eq!(distance_within("recieve", "receive", 2), Some(1));
        assert_eq!(distance_within("kitten", "sitting", 2), None);
        assert_eq!(distance_within("kitten", "sitting", 3), Some(3));
        let vocab = [
            ("database", 3usize),
            ("migration", 2),
            ("login", 5),
            ("logic", 1),
        ];
        let fixed = correct(
            &terms("databse migraton loign"),
            vocab.iter().map(|(w, f)| (*w, *f)),
        );
        assert_eq!(fixed.unwrap(), ["database", "migration", "login"]);
        assert_eq!(
            correct(&terms("login"), vocab.iter().map(|(w, f)| (*w, *f))),
            None
        );
        // Short words are never "corrected".
        assert_eq!(
            correct(&terms("lgn"), vocab.iter().map(|(w, f)| (*w, *f))),
            None
        );
    }

    #[test]
    fn lower_casing_never_adds_marks() {
        assert_eq!(terms("İstanbul"), ["istanbul"]);
        assert_eq!(terms_unbounded("İ x").collect::<Vec<_>>(), ["i", "x"]);
    }

    proptest! {
        #[test]
        fn any_input_yields_only_safe_words(s in "\\PC{0,200}") {
            let t = terms(&s);
            prop_assert!(t.len() <= MAX_TERMS);
            for w in &t {
                prop_assert!(!w.is_empty() && w.chars().all(char::is_alphanumeric));
            }
            if let Some(m) = fts5_match(&t, false) {
                prop_assert_eq!(m.matches('"').count(), 2 * t.len());
            }
            if let Some(q) = tsquery(&t, true) {
                prop_assert!(!q.contains(['|', '!', '(', ')', '\'', '<', '>', '\\']));
            }
        }
    }
}
