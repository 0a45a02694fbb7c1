//! The storage section: where attachment bytes go, and how download links are signed.

/// Shortest accepted `KANRI_SIGNING_KEY`.
pub const MIN_SIGNING_KEY_CHARS: usize = 32;

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

#[cfg(test)]
mod tests {
    use super::*;

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
}
