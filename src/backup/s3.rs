//! Backups kept in the S3 attachment store, under `backups/<name>/` beside the attachment
//! keys (`<tenant>/<workspace>/<id>`, which never start with `backups/`). A backup is
//! assembled on local disk as for a directory, then uploaded object by object with
//! `manifest.json` last: S3 has no rename, so the manifest is the mark of a complete backup,
//! and retention deletes a backup's manifest before its other objects.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Context;

use super::{file_stream, manifest, retention, write_stream};
use crate::storage::Storage;

/// The key prefix backups live under in the attachment store.
pub const PREFIX: &str = "backups";

fn key(name: &str, rel: &str) -> String {
    format!("{PREFIX}/{name}/{rel}")
}

/// Uploads the assembled backup in `staging` as `backups/<name>/…`, the manifest last.
pub async fn upload(storage: &Storage, staging: &Path, name: &str) -> anyhow::Result<()> {
    let mut files = Vec::new();
    collect(staging, staging, &mut files)?;
    files.sort();
    files.retain(|rel| rel != manifest::FILE);
    files.push(manifest::FILE.to_string());
    for rel in files {
        storage
            .put_stream(&key(name, &rel), file_stream(staging.join(&rel)), u64::MAX)
            .await
            .with_context(|| format!("uploading {}", key(name, &rel)))?;
    }
    Ok(())
}

/// Every file under `dir`, as paths relative to `root` with `/` separators.
fn collect(root: &Path, dir: &Path, out: &mut Vec<String>) -> anyhow::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect(root, &path, out)?;
        } else {
            let rel = path.strip_prefix(root)?;
            let parts: Vec<String> = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            out.push(parts.join("/"));
        }
    }
    Ok(())
}

/// The objects of every backup in the store, by backup name.
async fn objects(storage: &Storage) -> anyhow::Result<BTreeMap<String, Vec<String>>> {
    let mut by_name: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for key in storage.list_keys(PREFIX).await? {
        let rest = key
            .strip_prefix(PREFIX)
            .unwrap_or(&key)
            .trim_start_matches('/');
        if let Some((name, _)) = rest.split_once('/') {
            by_name.entry(name.to_string()).or_default().push(key);
        }
    }
    Ok(by_name)
}

/// The complete backups (those with a manifest) in the store, oldest first.
pub async fn list_complete(storage: &Storage) -> anyhow::Result<Vec<String>> {
    Ok(objects(storage)
        .await?
        .into_iter()
        .filter(|(name, keys)| {
            retention::is_backup_name(name) && keys.contains(&key(name, manifest::FILE))
        })
        .map(|(name, _)| name)
        .collect())
}

/// Deletes the oldest complete backups beyond the newest `keep`, each manifest first.
pub async fn prune(storage: &Storage, keep: usize) -> anyhow::Result<Vec<String>> {
    let all = objects(storage).await?;
    let complete: Vec<String> = all
        .iter()
        .filter(|(name, keys)| keys.contains(&key(name, manifest::FILE)))
        .map(|(name, _)| name.clone())
        .collect();
    let doomed = retention::to_delete(&complete, keep);
    for name in &doomed {
        let manifest_key = key(name, manifest::FILE);
        storage.delete(&manifest_key).await?;
        for k in all[name].iter().filter(|k| **k != manifest_key) {
            storage.delete(k).await?;
        }
    }
    Ok(doomed)
}

/// Downloads the backup `name` into the local folder `into`, to be checked and restored from
/// there. Refused when it has no manifest.
pub async fn download(storage: &Storage, name: &str, into: &Path) -> anyhow::Result<()> {
    let all = objects(storage).await?;
    let keys = all
        .get(name)
        .filter(|keys| keys.contains(&key(name, manifest::FILE)))
        .ok_or_else(|| {
            anyhow::anyhow!(
                "refusing to restore: s3:{name} is not a complete backup in {PREFIX}/ (no {})",
                manifest::FILE
            )
        })?;
    let prefix = format!("{PREFIX}/{name}/");
    for k in keys {
        let rel = k.strip_prefix(&prefix).unwrap_or(k);
        let dest = super::object_path(into, rel)?;
        let stream = storage.open(k, None).await?;
        write_stream(stream, dest).await?;
    }
    Ok(())
}
