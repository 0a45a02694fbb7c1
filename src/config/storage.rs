//! The storage section: where attachment bytes go (parsed once), the upload limit, and how
//! download links are signed.

use std::time::Duration;

use super::load::RawConfig;
use super::{ConfigError, Secret, invalid};

/// Shortest accepted `KANRI_SIGNING_KEY`.
pub const MIN_SIGNING_KEY_CHARS: usize = 32;

#[derive(Debug, Clone)]
pub struct StorageConfig {
    /// `KANRI_STORAGE_URL` parsed: `file://DIR` (default `file://<data_dir>/files`) or
    /// `s3://bucket/prefix` (credentials and endpoint from `AWS_*`).
    url: StorageUrl,
    /// The text `url` was parsed from, as `kanri config` shows it.
    url_text: String,
    /// Largest attachment accepted, in bytes.
    pub max_upload_bytes: u64,
    /// Signs expiring download links; must be the same on every instance. Without it, SQLite
    /// installs make one in the data directory and Postgres installs offer no signed links.
    pub signing_key: Option<Secret<String>>,
    pub signed_url_ttl: Duration,
}

/// Where files go, parsed from `KANRI_STORAGE_URL`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StorageUrl {
    /// A local directory (`file:///abs/path` or `file://./relative`).
    Local(std::path::PathBuf),
    /// An S3-compatible bucket and an optional key prefix.
    S3 { bucket: String, prefix: String },
}

impl StorageUrl {
    pub fn parse(value: &str) -> Result<Self, String> {
        if let Some(path) = value.strip_prefix("file://") {
            if path.is_empty() {
                return Err("file:// needs a directory".into());
            }
            return Ok(Self::Local(path.into()));
        }
        if value.starts_with("s3://") {
            let url = url::Url::parse(value).map_err(|e| format!("{value:?}: {e}"))?;
            let bucket = url.host_str().unwrap_or_default().to_string();
            if bucket.is_empty() {
                return Err("s3:// needs a bucket: s3://bucket/prefix".into());
            }
            let prefix = url.path().trim_matches('/').to_string();
            return Ok(Self::S3 { bucket, prefix });
        }
        Err("must be file://DIR or s3://bucket/prefix".into())
    }
}

impl StorageConfig {
    pub(super) fn from_raw(raw: &RawConfig) -> Result<Self, ConfigError> {
        let url_text = raw
            .storage_url
            .clone()
            .unwrap_or_else(|| format!("file://{}", raw.data_dir.join("files").display()));
        let url = StorageUrl::parse(&url_text).map_err(|e| invalid("KANRI_STORAGE_URL", e))?;
        if raw.max_upload_bytes == 0 {
            return Err(invalid("KANRI_MAX_UPLOAD_BYTES", "must be greater than 0"));
        }
        if raw
            .signing_key
            .as_ref()
            .is_some_and(|k| k.expose().len() < MIN_SIGNING_KEY_CHARS)
        {
            return Err(invalid(
                "KANRI_SIGNING_KEY",
                "must be at least 32 characters",
            ));
        }
        if raw.signed_url_ttl_secs == 0 || raw.signed_url_ttl_secs > 7 * 24 * 3600 {
            return Err(invalid(
                "KANRI_SIGNED_URL_TTL_SECS",
                "must be between 1 and 604800 (7 days)",
            ));
        }
        Ok(Self {
            url,
            url_text,
            max_upload_bytes: raw.max_upload_bytes,
            signing_key: raw.signing_key.clone(),
            signed_url_ttl: Duration::from_secs(raw.signed_url_ttl_secs),
        })
    }

    /// Where attachments are stored.
    pub fn url(&self) -> &StorageUrl {
        &self.url
    }

    /// The storage URL as written.
    pub fn url_text(&self) -> &str {
        &self.url_text
    }

    /// Stores attachments where `value` says (as `KANRI_STORAGE_URL` would), if it parses.
    pub fn set_url(&mut self, value: impl Into<String>) -> Result<(), String> {
        let text = value.into();
        self.url = StorageUrl::parse(&text)?;
        self.url_text = text;
        Ok(())
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
    fn storage_urls_parse() {
        assert_eq!(
            StorageUrl::parse("file://./data/files"),
            Ok(StorageUrl::Local("./data/files".into()))
        );
        assert_eq!(
            StorageUrl::parse("s3://bucket/some/prefix/"),
            Ok(StorageUrl::S3 {
                bucket: "bucket".into(),
                prefix: "some/prefix".into()
            })
        );
        assert_eq!(
            StorageUrl::parse("s3://bucket"),
            Ok(StorageUrl::S3 {
                bucket: "bucket".into(),
                prefix: String::new()
            })
        );
        for bad in ["", "file://", "s3://", "s3:///x", "http://x", "/tmp/files"] {
            assert!(StorageUrl::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn storage_settings_default_validate_and_redact() {
        let c = Config::from_raw(raw()).unwrap();
        assert_eq!(c.storage.url_text(), "file://./data/files");
        assert_eq!(c.storage.max_upload_bytes, 25 * 1024 * 1024);
        assert_eq!(c.storage.signed_url_ttl.as_secs(), 900);
        let mut r = raw();
        r.signing_key = Some(Secret::new("s".repeat(40)));
        r.storage_url = Some("s3://bucket/prefix".into());
        let c = Config::from_raw(r).unwrap();
        let shown = c.redacted().to_string();
        assert!(
            !shown.contains("sssss") && shown.contains("\"signing_key\":\"***\""),
            "{shown}"
        );
        assert!(!format!("{c:?}").contains("sssss"));
        for (key, adjust) in [
            (
                "KANRI_STORAGE_URL",
                (|r: &mut RawConfig| r.storage_url = Some("ftp://x".into())) as fn(&mut RawConfig),
            ),
            ("KANRI_SIGNING_KEY", |r| {
                r.signing_key = Some(Secret::new("short".into()))
            }),
            ("KANRI_MAX_UPLOAD_BYTES", |r| r.max_upload_bytes = 0),
            ("KANRI_SIGNED_URL_TTL_SECS", |r| r.signed_url_ttl_secs = 0),
        ] {
            let mut r = raw();
            adjust(&mut r);
            let err = Config::from_raw(r).unwrap_err().to_string();
            assert!(err.contains(key), "{key}: {err}");
        }
    }
}
