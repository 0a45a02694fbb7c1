//! The telemetry section: the log filter and the log line format.

use serde::{Deserialize, Serialize};

use super::load::RawConfig;
use super::{ConfigError, invalid};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone)]
pub struct TelemetryConfig {
    /// A `tracing` filter (`RUST_LOG` syntax); checked at load.
    pub log: String,
    pub format: LogFormat,
}

impl TelemetryConfig {
    pub(super) fn from_raw(raw: &RawConfig) -> Result<Self, ConfigError> {
        tracing_subscriber::EnvFilter::try_new(&raw.log)
            .map_err(|e| invalid("KANRI_LOG", e.to_string()))?;
        Ok(Self {
            log: raw.log.clone(),
            format: raw.log_format,
        })
    }
}
