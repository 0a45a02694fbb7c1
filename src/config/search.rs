//! The search section: the embeddings endpoint and the ranking settings.

use super::load::RawConfig;
use super::server::parse_http_url;
use super::{ConfigError, Secret, invalid};

#[derive(Debug, Clone)]
pub struct SearchConfig {
    /// `None`: the bundled offline model embeds tasks.
    pub embeddings: Option<EmbeddingsEndpoint>,
    pub settings: SearchSettings,
}

/// An OpenAI-compatible embeddings endpoint used instead of the bundled model.
#[derive(Debug, Clone)]
pub struct EmbeddingsEndpoint {
    /// Base URL; requests go to `{url}/embeddings`.
    pub url: String,
    pub model: String,
    pub key: Option<Secret<String>>,
}

/// `KANRI_SEARCH_ANN_THRESHOLD`'s default.
pub const DEFAULT_ANN_THRESHOLD: usize = 200_000;

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
            ann_threshold: DEFAULT_ANN_THRESHOLD,
            min_similarity: 0.2,
        }
    }
}

impl SearchConfig {
    pub(super) fn from_raw(raw: &RawConfig) -> Result<Self, ConfigError> {
        let embeddings = match (&raw.embeddings_url, &raw.embeddings_model) {
            (None, None) => None,
            (Some(url), Some(model)) if !model.trim().is_empty() => Some(EmbeddingsEndpoint {
                url: parse_http_url("KANRI_EMBEDDINGS_URL", url)?,
                model: model.trim().to_string(),
                key: raw.embeddings_key.clone(),
            }),
            (Some(_), _) => {
                return Err(invalid(
                    "KANRI_EMBEDDINGS_MODEL",
                    "is required with KANRI_EMBEDDINGS_URL",
                ));
            }
            (None, Some(_)) => {
                return Err(invalid(
                    "KANRI_EMBEDDINGS_URL",
                    "is required with KANRI_EMBEDDINGS_MODEL",
                ));
            }
        };
        if raw.search_ann_threshold < 100 {
            return Err(invalid(
                "KANRI_SEARCH_ANN_THRESHOLD",
                "must be at least 100",
            ));
        }
        // A threshold that would never take effect is a mistake to say at start-up.
        if !cfg!(feature = "ann") && raw.search_ann_threshold != DEFAULT_ANN_THRESHOLD {
            return Err(invalid(
                "KANRI_SEARCH_ANN_THRESHOLD",
                "needs a build with the HNSW graph (cargo build --release --features ann)",
            ));
        }
        if !(-1.0..=1.0).contains(&raw.search_min_similarity) {
            return Err(invalid(
                "KANRI_SEARCH_MIN_SIMILARITY",
                "must be between -1 and 1",
            ));
        }
        Ok(Self {
            embeddings,
            settings: SearchSettings {
                ann_threshold: raw.search_ann_threshold,
                min_similarity: raw.search_min_similarity,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::Config;
    use super::*;

    fn raw() -> RawConfig {
        RawConfig::default()
    }

    #[test]
    fn embeddings_settings_are_checked_and_the_key_redacted() {
        assert!(Config::from_raw(raw()).unwrap().search.embeddings.is_none());
        let mut r = raw();
        r.embeddings_url = Some("http://127.0.0.1:9/v1/".into());
        r.embeddings_model = Some("m".into());
        r.embeddings_key = Some(Secret::new("sk-hunter2".into()));
        let c = Config::from_raw(r).unwrap();
        assert_eq!(
            c.search.embeddings.as_ref().unwrap().url,
            "http://127.0.0.1:9/v1"
        );
        let shown = c.redacted().to_string();
        assert!(
            !shown.contains("hunter2") && !format!("{c:?}").contains("hunter2"),
            "{shown}"
        );
        let mut r = raw();
        r.embeddings_url = Some("http://x".into());
        let err = Config::from_raw(r).unwrap_err().to_string();
        assert!(err.contains("KANRI_EMBEDDINGS_MODEL"), "{err}");
        let mut r = raw();
        r.search_ann_threshold = 5;
        assert!(Config::from_raw(r).is_err());
        let mut r = raw();
        r.search_ann_threshold = 1_000;
        let err = Config::from_raw(r).map(|_| ()).map_err(|e| e.to_string());
        if cfg!(feature = "ann") {
            assert!(err.is_ok());
        } else {
            assert!(err.unwrap_err().contains("--features ann"));
        }
        let mut r = raw();
        r.search_min_similarity = 2.0;
        assert!(Config::from_raw(r).is_err());
    }
}
