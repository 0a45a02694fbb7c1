//! The server section: where it listens, its public URL, CORS, body limits and timeouts.

use std::net::SocketAddr;
use std::time::Duration;

use super::load::RawConfig;
use super::{ConfigError, invalid};

#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub bind: SocketAddr,
    /// The public base URL links point at (no trailing slash); default `http://<bind>`.
    pub app_url: String,
    /// Empty: no cross-origin access. `["*"]`: any origin (without credentials).
    pub cors_origins: Vec<String>,
    pub max_body_bytes: usize,
    pub request_timeout: Duration,
}

impl ServerConfig {
    pub(super) fn from_raw(raw: &RawConfig) -> Result<Self, ConfigError> {
        let bind: SocketAddr = raw
            .bind
            .parse()
            .map_err(|_| invalid("KANRI_BIND", format!("{:?} is not host:port", raw.bind)))?;
        let app_url = match &raw.app_url {
            Some(url) => parse_http_url("KANRI_APP_URL", url)?,
            None => format!("http://{bind}"),
        };
        let cors_origins = parse_cors_origins(&raw.cors_origins)?;
        if raw.max_body_bytes < 1024 {
            return Err(invalid("KANRI_MAX_BODY_BYTES", "must be at least 1024"));
        }
        if raw.request_timeout_secs == 0 {
            return Err(invalid(
                "KANRI_REQUEST_TIMEOUT_SECS",
                "must be greater than 0",
            ));
        }
        Ok(Self {
            bind,
            app_url,
            cors_origins,
            max_body_bytes: raw.max_body_bytes,
            request_timeout: Duration::from_secs(raw.request_timeout_secs),
        })
    }
}

/// An http(s) URL, without its trailing slashes.
pub(super) fn parse_http_url(key: &'static str, value: &str) -> Result<String, ConfigError> {
    let url = url::Url::parse(value).map_err(|e| invalid(key, format!("{value:?}: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid(key, "must be an http or https URL"));
    }
    Ok(value.trim_end_matches('/').to_string())
}

fn parse_cors_origins(value: &str) -> Result<Vec<String>, ConfigError> {
    value
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|origin| {
            if origin == "*" {
                return Ok(origin.to_string());
            }
            let url = url::Url::parse(origin)
                .map_err(|e| invalid("KANRI_CORS_ORIGINS", format!("{origin:?}: {e}")))?;
            match url.origin() {
                o @ url::Origin::Tuple(..) => Ok(o.ascii_serialization()),
                url::Origin::Opaque(_) => Err(invalid(
                    "KANRI_CORS_ORIGINS",
                    format!("{origin:?} is not an origin"),
                )),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::Config;
    use super::*;

    fn raw() -> RawConfig {
        RawConfig::default()
    }

    #[test]
    fn cors_origins_are_normalised() {
        let mut r = raw();
        r.cors_origins = "https://app.example.com/, http://localhost:3000".into();
        let c = Config::from_raw(r).unwrap();
        assert_eq!(
            c.server.cors_origins,
            vec!["https://app.example.com", "http://localhost:3000"]
        );
    }
}
