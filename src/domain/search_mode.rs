//! How a search ranks: full text, embeddings, or both fused. On the wire it is lower-case
//! (`hybrid`, `text`, `semantic`), unlike the upper-case sets in `enums.rs`.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::FieldError;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SearchMode {
    #[default]
    Hybrid,
    Text,
    Semantic,
}

impl SearchMode {
    pub const ALL: &'static [SearchMode] = &[Self::Hybrid, Self::Text, Self::Semantic];

    /// The wire value, as serde writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Hybrid => "hybrid",
            Self::Text => "text",
            Self::Semantic => "semantic",
        }
    }

    /// Case-insensitive, surrounding space ignored.
    pub fn parse(field: &str, input: &str) -> Result<Self, FieldError> {
        let wanted = input.trim().to_ascii_lowercase();
        Self::ALL
            .iter()
            .copied()
            .find(|m| m.as_str() == wanted)
            .ok_or_else(|| FieldError::new(field, "must be hybrid, text or semantic"))
    }
}

impl std::fmt::Display for SearchMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_mode_parses_loosely_and_matches_serde() {
        assert_eq!(
            SearchMode::parse("mode", " Semantic ").unwrap(),
            SearchMode::Semantic
        );
        assert_eq!(SearchMode::parse("mode", "TEXT").unwrap(), SearchMode::Text);
        let err = SearchMode::parse("mode", "fuzzy").unwrap_err();
        assert_eq!(err.field, "mode");
        assert_eq!(err.message, "must be hybrid, text or semantic");
        assert_eq!(SearchMode::default(), SearchMode::Hybrid);
        for &mode in SearchMode::ALL {
            let json = serde_json::to_string(&mode).unwrap();
            assert_eq!(json, format!("\"{}\"", mode.as_str()));
            assert_eq!(serde_json::from_str::<SearchMode>(&json).unwrap(), mode);
            assert_eq!(SearchMode::parse("mode", &mode.to_string()).unwrap(), mode);
        }
    }
}
