//! File storage behind `object_store`: a directory under the data dir by default
//! (`file://…`), or any S3-compatible bucket (`s3://bucket/prefix`, credentials and endpoint
//! from the usual `AWS_*` variables). Keys are made by us (`{tenant}/{workspace}/{id}`), never
//! from a client's file name.
//!
//! The rest of this module is what serving files safely needs and nothing else: file-name
//! sanitising (`names`), content sniffing and the inline policy (`sniff`), `Range` parsing
//! (`range`), signed URLs (`signing`) and the streamed upload (`upload`).

pub mod names;
pub mod range;
pub mod signing;
pub mod sniff;
mod upload;

use std::ops::Range;
use std::sync::Arc;

use anyhow::Context;
use bytes::Bytes;
use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::prefix::PrefixStore;
use object_store::{GetOptions, GetRange, ObjectStore, ObjectStoreExt};

use crate::config::StorageConfig;

pub use crate::config::StorageUrl;
pub use upload::{PutError, Stored};

/// The object store files live in. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Storage {
    store: Arc<dyn ObjectStore>,
}

impl Storage {
    /// Opens the store `KANRI_STORAGE_URL` names; a local directory is created if missing.
    pub fn from_config(config: &StorageConfig) -> anyhow::Result<Self> {
        let store: Arc<dyn ObjectStore> = match config.url().clone() {
            StorageUrl::Local(dir) => {
                std::fs::create_dir_all(&dir)
                    .with_context(|| format!("creating the storage directory {}", dir.display()))?;
                // Removes emptied directories on delete, so purged workspaces leave nothing.
                Arc::new(LocalFileSystem::new_with_prefix(&dir)?.with_automatic_cleanup(true))
            }
            StorageUrl::S3 { bucket, prefix } => {
                // reqwest has no TLS provider of its own here: ring, installed process-wide.
                crate::crypto::install_providers();
                let s3 = AmazonS3Builder::from_env()
                    .with_bucket_name(bucket)
                    .build()
                    .context("configuring S3 storage")?;
                if prefix.is_empty() {
                    Arc::new(s3)
                } else {
                    Arc::new(PrefixStore::new(s3, prefix.as_str()))
                }
            }
        };
        Ok(Self { store })
    }

    /// The key of an attachment's bytes.
    pub fn key(tenant_id: &str, workspace_id: &str, attachment_id: &str) -> String {
        format!("{tenant_id}/{workspace_id}/{attachment_id}")
    }

    /// Streams `body` to `key`, refusing more than `limit` bytes. On any failure nothing is
    /// left behind: a multipart upload is aborted.
    pub async fn put_stream<S, E>(&self, key: &str, body: S, limit: u64) -> Result<Stored, PutError>
    where
        S: futures_util::Stream<Item = Result<Bytes, E>> + Send,
        E: std::fmt::Display,
    {
        upload::put_stream(self.store.as_ref(), &Path::from(key), body, limit).await
    }

    /// The bytes of `key` in `range` (all when `None`), as a stream.
    pub async fn open(
        &self,
        key: &str,
        range: Option<Range<u64>>,
    ) -> object_store::Result<BoxStream<'static, object_store::Result<Bytes>>> {
        let options = GetOptions {
            range: range.map(GetRange::Bounded),
            ..GetOptions::default()
        };
        Ok(self
            .store
            .get_opts(&Path::from(key), options)
            .await?
            .into_stream())
    }

    /// Deletes `key`; one that is already gone counts as deleted.
    pub async fn delete(&self, key: &str) -> object_store::Result<()> {
        match self.store.delete(&Path::from(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Asks the store about a key that is never written: an answer, "not found" included,
    /// means it is reachable and the credentials work.
    pub async fn probe(&self) -> object_store::Result<()> {
        match self.store.head(&Path::from(".kanri-health-probe")).await {
            Ok(_) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Every key under `prefix` (all when empty): for tests and operators.
    pub async fn list_keys(&self, prefix: &str) -> object_store::Result<Vec<String>> {
        let prefix = (!prefix.is_empty()).then(|| Path::from(prefix));
        let mut keys = Vec::new();
        let mut listing = self.store.list(prefix.as_ref());
        while let Some(meta) = listing.next().await {
            keys.push(meta?.location.to_string());
        }
        Ok(keys)
    }
}
