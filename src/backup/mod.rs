//! SQLite backups and restores (`kanri backup`, `kanri restore`, the schedule in `kanri serve`).
//!
//! A backup is a folder `kanri-backup-<time>` holding `kanri.db` (an online snapshot made by
//! `VACUUM INTO`, fsynced and `integrity_check`ed), `files/<storage key>` (each attachment's
//! object, copied from the local directory or S3) and `manifest.json` (written last). It is
//! assembled under `.partial-<name>` and renamed into place only when whole, so an
//! interrupted backup never looks complete; keep-N retention deletes the oldest complete
//! backups only after the new one is in place. Postgres is backed up with `pg_dump`.

pub mod fsio;
pub mod manifest;
pub mod restore;
pub mod retention;
pub mod s3;

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use serde::Serialize;

use crate::clock::{now_ms, to_rfc3339};
use crate::config::{BackupTarget, Config, Engine, StorageUrl};
use crate::db::backup as snapshot;
use crate::db::instance_lock::InstanceLock;
use crate::storage::Storage;
use manifest::{DATABASE_FILE, DatabaseEntry, FILES_DIR, FilesEntry, Manifest};

/// What `kanri backup` says when the database is Postgres.
pub const POSTGRES_HINT: &str = "kanri backup snapshots the embedded SQLite database; this \
     install runs on Postgres, so back it up with pg_dump (pg_dump --format=custom \
     --file=kanri.dump \"$KANRI_DATABASE_URL\") and restore with pg_restore; attachments live \
     in KANRI_STORAGE_URL (README, \"Backups and restore\")";

/// A backup just taken.
#[derive(Debug, Clone, Serialize)]
pub struct Taken {
    pub name: String,
    /// Where it is: the folder, or `s3:backups/<name>`.
    pub location: String,
    pub manifest: Manifest,
    /// Older backups retention removed after this one was complete.
    pub deleted: Vec<String>,
}

/// Takes one backup of the database `config` names to `target`, then applies keep-`keep`
/// retention there.
pub async fn take(
    config: &Config,
    storage: &Storage,
    target: &BackupTarget,
    keep: usize,
) -> anyhow::Result<Taken> {
    if config.database.engine == Engine::Postgres {
        bail!("{POSTGRES_HINT}");
    }
    target
        .check_storage(config.storage.url())
        .map_err(|e| anyhow::anyhow!("--to {target}: {e}"))?;
    let db_path = snapshot::sqlite_path(config.database.url.expose())?;
    // Held while the snapshot is read, so a restore cannot swap the file mid-copy.
    let lock = InstanceLock::shared(&db_path)?;
    let started = now_ms();
    let name = retention::name_at(started);
    // A directory target stages inside itself (the rename then stays on one filesystem);
    // S3 stages in the data directory and uploads from there.
    let parent = match target {
        BackupTarget::Dir(dir) => dir.clone(),
        BackupTarget::S3 => config.data_dir.clone(),
    };
    std::fs::create_dir_all(&parent)
        .with_context(|| format!("creating the backup directory {}", parent.display()))?;
    let staging = parent.join(format!("{}{name}", retention::PARTIAL_PREFIX));
    let result = assemble(config, storage, &db_path, &staging, started).await;
    lock.release();
    let manifest = match result {
        Ok(manifest) => manifest,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&staging);
            return Err(e);
        }
    };
    let (location, deleted) = match target {
        BackupTarget::Dir(dir) => {
            let place = dir.join(&name);
            std::fs::rename(&staging, &place).with_context(|| {
                format!("renaming {} to {}", staging.display(), place.display())
            })?;
            fsio::sync_dir(dir)?;
            (place.display().to_string(), prune(dir, keep)?)
        }
        BackupTarget::S3 => {
            let uploaded = s3::upload(storage, &staging, &name).await;
            let _ = std::fs::remove_dir_all(&staging);
            uploaded?;
            (
                format!("s3:{}/{name}", s3::PREFIX),
                s3::prune(storage, keep).await?,
            )
        }
    };
    Ok(Taken {
        name,
        location,
        manifest,
        deleted,
    })
}

/// Fills `staging` with the snapshot, the files and the manifest, each fsynced.
async fn assemble(
    config: &Config,
    storage: &Storage,
    db_path: &Path,
    staging: &Path,
    started: i64,
) -> anyhow::Result<Manifest> {
    std::fs::create_dir_all(staging).with_context(|| format!("creating {}", staging.display()))?;
    let copy = staging.join(DATABASE_FILE);
    snapshot::vacuum_into(db_path, &copy)
        .await
        .context("VACUUM INTO")?;
    let (bytes, sha256) = blocking({
        let (copy, staging) = (copy.clone(), staging.to_path_buf());
        move || {
            fsio::sync_file(&copy)?;
            fsio::sync_dir(&staging)?;
            fsio::hash_file(&copy)
        }
    })
    .await?;
    let facts = snapshot::inspect(&copy)
        .await
        .context("opening the snapshot")?;
    if !facts.is_sound() {
        bail!(
            "the snapshot fails integrity_check: {}",
            facts.integrity.join("; ")
        );
    }
    let files = copy_files(storage, &facts.files, &staging.join(FILES_DIR)).await?;
    let manifest = Manifest {
        format: manifest::FORMAT,
        kanri_version: env!("CARGO_PKG_VERSION").into(),
        created_at: to_rfc3339(started),
        engine: "sqlite".into(),
        schema_version: facts.schema_version,
        database: DatabaseEntry {
            file: DATABASE_FILE.into(),
            bytes,
            sha256,
        },
        files: FilesEntry {
            storage: match config.storage.url() {
                StorageUrl::Local(_) => "local".into(),
                StorageUrl::S3 { .. } => "s3".into(),
            },
            ..files
        },
    };
    let text = serde_json::to_vec_pretty(&manifest)?;
    blocking({
        let staging = staging.to_path_buf();
        move || {
            fsio::write_synced(&staging.join(manifest::FILE), &text)?;
            fsio::sync_dir(&staging)
        }
    })
    .await?;
    Ok(manifest)
}

/// Copies every attachment object the snapshot lists into `into/<key>`, fsynced. An object
/// already gone (deleted and purged after the snapshot) is listed as missing, not an error.
async fn copy_files(
    storage: &Storage,
    files: &[snapshot::StoredFile],
    into: &Path,
) -> anyhow::Result<FilesEntry> {
    let mut entry = FilesEntry {
        storage: String::new(),
        count: 0,
        bytes: 0,
        missing: Vec::new(),
    };
    for file in files {
        let dest = object_path(into, &file.storage_key)?;
        let stream = match storage.open(&file.storage_key, None).await {
            Ok(stream) => stream,
            Err(object_store::Error::NotFound { .. }) => {
                entry.missing.push(file.storage_key.clone());
                continue;
            }
            Err(e) => return Err(e).context(format!("reading {}", file.storage_key)),
        };
        let written = write_stream(stream, dest).await?;
        entry.count += 1;
        entry.bytes += written;
    }
    Ok(entry)
}

/// `dir/<key>`, refusing a key that would leave `dir` (keys are ours, but a backup is read
/// back from disk).
pub(crate) fn object_path(dir: &Path, key: &str) -> anyhow::Result<PathBuf> {
    let safe = !key.is_empty()
        && key
            .split('/')
            .all(|part| !part.is_empty() && part != "." && part != "..");
    if !safe {
        bail!("unexpected storage key {key:?}");
    }
    Ok(dir.join(key))
}

/// Writes a byte stream to a new file at `dest` (creating its folders), fsynced; returns its
/// size. The writes run off the async runtime.
async fn write_stream<S, E>(mut stream: S, dest: PathBuf) -> anyhow::Result<u64>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::error::Error + Send + Sync + 'static,
{
    let mut file = blocking({
        let dest = dest.clone();
        move || {
            if let Some(parent) = dest.parent() {
                std::fs::create_dir_all(parent)?;
            }
            Ok(std::fs::File::create(&dest)?)
        }
    })
    .await?;
    let mut size = 0u64;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk?;
        size += chunk.len() as u64;
        file = blocking(move || {
            use std::io::Write;
            file.write_all(&chunk)?;
            Ok(file)
        })
        .await?;
    }
    blocking(move || {
        file.sync_all()?;
        if let Some(parent) = dest.parent() {
            fsio::sync_dir(parent)?;
        }
        Ok(())
    })
    .await?;
    Ok(size)
}

/// Runs blocking file work off the async runtime.
pub(crate) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> anyhow::Result<T> + Send + 'static,
) -> anyhow::Result<T> {
    tokio::task::spawn_blocking(work)
        .await
        .context("blocking task panicked")?
}

/// The complete backups in `dir` (a backup's name and a manifest), oldest first.
pub fn list_complete(dir: &Path) -> anyhow::Result<Vec<String>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).with_context(|| format!("listing {}", dir.display())),
    };
    let mut names = Vec::new();
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if retention::is_backup_name(&name) && entry.path().join(manifest::FILE).is_file() {
            names.push(name);
        }
    }
    names.sort();
    Ok(names)
}

/// Deletes the oldest complete backups in `dir` beyond the newest `keep`. Each loses its
/// manifest first, so one whose deletion is interrupted is no longer taken as complete.
pub fn prune(dir: &Path, keep: usize) -> anyhow::Result<Vec<String>> {
    let doomed = retention::to_delete(&list_complete(dir)?, keep);
    for name in &doomed {
        let path = dir.join(name);
        std::fs::remove_file(path.join(manifest::FILE))
            .with_context(|| format!("deleting {}", path.display()))?;
        std::fs::remove_dir_all(&path).with_context(|| format!("deleting {}", path.display()))?;
    }
    Ok(doomed)
}

/// A file's bytes as a stream of 1 MiB chunks, each read off the async runtime.
pub(crate) fn file_stream(
    path: PathBuf,
) -> impl Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static {
    enum State {
        Start(PathBuf),
        Reading(std::fs::File),
        Done,
    }
    futures_util::stream::unfold(State::Start(path), |state| async move {
        let read = tokio::task::spawn_blocking(move || {
            use std::io::Read;
            let mut file = match state {
                State::Start(path) => std::fs::File::open(path)?,
                State::Reading(file) => file,
                State::Done => return Ok(None),
            };
            let mut buf = vec![0u8; 1 << 20];
            let n = file.read(&mut buf)?;
            if n == 0 {
                return Ok(None);
            }
            buf.truncate(n);
            Ok::<_, std::io::Error>(Some((Bytes::from(buf), file)))
        })
        .await
        .unwrap_or_else(|e| Err(std::io::Error::other(e)));
        match read {
            Ok(Some((chunk, file))) => Some((Ok(chunk), State::Reading(file))),
            Ok(None) => None,
            Err(e) => Some((Err(e), State::Done)),
        }
    })
}
