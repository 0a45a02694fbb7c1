//! `kanri restore <backup>`: every check first, then the swap.
//!
//! Checks, before anything is touched: the manifest is there and readable, the database
//! copy's size and SHA-256 match it, the copy passes `integrity_check`, its schema is not
//! newer than this binary's, and every attachment object the copy lists is in the backup
//! with its recorded size and SHA-256. Then it takes the database's instance lock
//! exclusively (refused while `kanri serve`, `kanri worker` or any command has the database
//! open), moves the current database (and a local attachment directory) aside into
//! `<data_dir>/before-restore-<time>/` — never deleting it — puts the copy in place through a
//! temporary name, and writes the backup's objects back to the attachment store.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::Serialize;

use super::manifest::{self, DATABASE_FILE, FILES_DIR, Found, Manifest};
use super::{blocking, fsio, object_path};
use crate::clock::now_ms;
use crate::config::{Config, Engine, StorageUrl};
use crate::db::backup as snapshot;
use crate::db::instance_lock::InstanceLock;
use crate::storage::Storage;

/// What a restore did.
#[derive(Debug, Clone, Serialize)]
pub struct Restored {
    pub manifest: Manifest,
    /// Where the database it replaced (and a local attachment directory) now is; `None` when
    /// there was none.
    pub moved_aside: Option<String>,
    pub files: u64,
}

/// Restores `source` over the database `config` names: a backup folder, or `s3:<name>` for
/// one in the S3 attachment store's `backups/` (downloaded to the data directory first, and
/// checked there like any other).
pub async fn restore(config: &Config, source: &str) -> anyhow::Result<Restored> {
    if config.database.engine == Engine::Postgres {
        bail!(
            "kanri restore restores SQLite backups; this install runs on Postgres: use \
             pg_restore (README, \"Backups and restore\")"
        );
    }
    let Some(name) = source.strip_prefix("s3:") else {
        return restore_dir(config, Path::new(source)).await;
    };
    let name = name
        .trim_start_matches('/')
        .trim_start_matches(super::s3::PREFIX)
        .trim_matches('/');
    if !super::retention::is_backup_name(name) {
        bail!("s3:{name} does not name a backup (s3:kanri-backup-<time>)");
    }
    if !matches!(config.storage.url(), StorageUrl::S3 { .. }) {
        bail!("s3:{name} needs KANRI_STORAGE_URL=s3://… (the store backups were taken to)");
    }
    let storage = Storage::from_config(&config.storage)?;
    let staging = config.data_dir.join(format!(".restore-{name}"));
    let _ = std::fs::remove_dir_all(&staging);
    let result = match super::s3::download(&storage, name, &staging).await {
        Ok(()) => restore_dir(config, &staging).await,
        Err(e) => Err(e),
    };
    let _ = std::fs::remove_dir_all(&staging);
    result
}

/// Restores the backup folder `backup`.
async fn restore_dir(config: &Config, backup: &Path) -> anyhow::Result<Restored> {
    let manifest = read_manifest(backup)?;
    let copy = backup.join(DATABASE_FILE);
    let found = blocking({
        let copy = copy.clone();
        move || {
            let (bytes, sha256) = fsio::hash_file(&copy)?;
            Ok(Found { bytes, sha256 })
        }
    })
    .await?;
    manifest.check_file(&found).map_err(refused)?;
    let facts = snapshot::inspect(&copy).await.map_err(|e| {
        anyhow::anyhow!("refusing to restore: the database copy cannot be read: {e}")
    })?;
    manifest
        .check_database(&found, &facts, snapshot::latest_migration(Engine::Sqlite))
        .map_err(refused)?;
    let files = check_files(backup, &manifest, &facts.files).await?;

    let db_path = snapshot::sqlite_path(config.database.url.expose())?;
    let lock = InstanceLock::exclusive(&db_path).map_err(|e| anyhow::anyhow!("{e}"))?;
    let moved_aside = move_aside(config, &db_path).await?;
    blocking({
        let (copy, db_path) = (copy.clone(), db_path.clone());
        move || {
            if let Some(dir) = db_path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)?;
            }
            fsio::copy_into_place(&copy, &db_path).map(|_| ())
        }
    })
    .await?;
    let storage = Storage::from_config(&config.storage)?;
    let written = put_files(&storage, backup, &files).await?;
    lock.release();
    Ok(Restored {
        manifest,
        moved_aside: moved_aside.map(|p| p.display().to_string()),
        files: written,
    })
}

fn refused(reason: manifest::Refusal) -> anyhow::Error {
    anyhow::anyhow!("refusing to restore: {reason}")
}

fn read_manifest(backup: &Path) -> anyhow::Result<Manifest> {
    let path = backup.join(manifest::FILE);
    let text = match std::fs::read(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => bail!(
            "refusing to restore: {} has no {} (not a backup, or one that did not finish)",
            backup.display(),
            manifest::FILE
        ),
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    serde_json::from_slice(&text)
        .map_err(|e| anyhow::anyhow!("refusing to restore: {} is unreadable: {e}", path.display()))
}

/// The objects to write back: every file the copy lists and the manifest does not call
/// missing, each present with the size and SHA-256 its attachment row records.
async fn check_files(
    backup: &Path,
    manifest: &Manifest,
    files: &[snapshot::StoredFile],
) -> anyhow::Result<Vec<snapshot::StoredFile>> {
    let wanted: Vec<snapshot::StoredFile> = files
        .iter()
        .filter(|f| !manifest.files.missing.contains(&f.storage_key))
        .cloned()
        .collect();
    let dir = backup.join(FILES_DIR);
    let checked = wanted.clone();
    blocking(move || {
        for file in &checked {
            let path = object_path(&dir, &file.storage_key)?;
            let (size, sha256) = fsio::hash_file(&path).map_err(|_| {
                anyhow::anyhow!(
                    "refusing to restore: the attachment object {} is not in the backup",
                    file.storage_key
                )
            })?;
            if i64::try_from(size).ok() != Some(file.size_bytes)
                || !sha256.eq_ignore_ascii_case(&file.sha256)
            {
                bail!(
                    "refusing to restore: the attachment object {} differs from its record \
                     ({size} bytes, SHA-256 {sha256}; recorded {} bytes, {})",
                    file.storage_key,
                    file.size_bytes,
                    file.sha256
                );
            }
        }
        Ok(())
    })
    .await?;
    Ok(wanted)
}

/// Moves the current database (its WAL folded in first) and a local attachment directory
/// into `<data_dir>/before-restore-<time>/`. Returns that folder, or `None` when there was
/// nothing to move.
async fn move_aside(config: &Config, db_path: &Path) -> anyhow::Result<Option<PathBuf>> {
    let local_files = match config.storage.url() {
        StorageUrl::Local(dir) => Some(dir.clone()),
        StorageUrl::S3 { .. } => None,
    };
    let has_db = db_path.exists();
    let has_files = local_files.as_ref().is_some_and(|d| d.exists());
    if !has_db && !has_files {
        return Ok(None);
    }
    if has_db {
        snapshot::checkpoint(db_path)
            .await
            .context("folding the current database's WAL in before moving it")?;
    }
    let aside = config.data_dir.join(format!(
        "before-restore-{}",
        super::retention::name_at(now_ms()).trim_start_matches(super::retention::PREFIX)
    ));
    let db_path = db_path.to_path_buf();
    blocking(move || {
        std::fs::create_dir_all(&aside).with_context(|| format!("creating {}", aside.display()))?;
        // Files first: if they cannot move, the database has not moved either.
        if let Some(dir) = local_files.filter(|d| d.exists()) {
            fsio::move_if_present(&dir, &aside.join("files"))?;
        }
        let name = db_path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "kanri.db".into());
        for suffix in ["", "-wal", "-shm"] {
            let from = PathBuf::from(format!("{}{suffix}", db_path.display()));
            fsio::move_if_present(&from, &aside.join(format!("{name}{suffix}")))?;
        }
        fsio::sync_dir(&aside)?;
        if let Some(dir) = db_path.parent().filter(|d| !d.as_os_str().is_empty()) {
            fsio::sync_dir(dir)?;
        }
        Ok(Some(aside))
    })
    .await
}

/// Writes each checked object back to the attachment store under its key.
async fn put_files(
    storage: &Storage,
    backup: &Path,
    files: &[snapshot::StoredFile],
) -> anyhow::Result<u64> {
    let dir = backup.join(FILES_DIR);
    for file in files {
        let path = object_path(&dir, &file.storage_key)?;
        let stream = super::file_stream(path);
        let stored = storage
            .put_stream(&file.storage_key, stream, u64::MAX)
            .await
            .with_context(|| format!("writing {} back", file.storage_key))?;
        if !stored.sha256.eq_ignore_ascii_case(&file.sha256) {
            bail!("{} changed while it was written back", file.storage_key);
        }
    }
    Ok(files.len() as u64)
}
