//! The SQL of SQLite backups: the online snapshot (`VACUUM INTO`), and what is read from a
//! copy before it is trusted (`integrity_check`, its migration level, its attachments). Each
//! runs on a connection of its own, never on the application's pools, so a snapshot inside
//! `kanri serve` does not hold the single write connection.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::{ConnectOptions, Connection, Row};

use super::{POSTGRES_MIGRATIONS, SQLITE_MIGRATIONS};
use crate::config::Engine;

/// The file a `sqlite:` URL names.
pub fn sqlite_path(url: &str) -> anyhow::Result<PathBuf> {
    let options = SqliteConnectOptions::from_str(url)?;
    Ok(options.get_filename().to_path_buf())
}

/// The newest migration this binary knows for `engine`.
pub fn latest_migration(engine: Engine) -> i64 {
    let migrator = match engine {
        Engine::Sqlite => &SQLITE_MIGRATIONS,
        Engine::Postgres => &POSTGRES_MIGRATIONS,
    };
    migrator.iter().map(|m| m.version).max().unwrap_or(0)
}

async fn open(path: &Path, read_only: bool) -> sqlx::Result<SqliteConnection> {
    SqliteConnectOptions::new()
        .filename(path)
        .read_only(read_only)
        .busy_timeout(std::time::Duration::from_secs(30))
        .connect()
        .await
}

/// Writes a consistent copy of the live database at `source` to `dest` (which must not exist)
/// with `VACUUM INTO`: one read transaction, so writers in WAL mode go on meanwhile and the
/// copy holds exactly the commits before it began.
pub async fn vacuum_into(source: &Path, dest: &Path) -> sqlx::Result<()> {
    let mut conn = open(source, false).await?;
    let dest = dest.to_string_lossy().into_owned();
    let result = sqlx::query("VACUUM INTO $1")
        .bind(dest.clone())
        .execute(&mut conn)
        .await;
    conn.close().await?;
    result?;
    // The copy carries the source's WAL mode in its header; as a rollback-journal file it is
    // the whole database in one file, and opening it read-only later creates nothing beside it.
    let mut copy = open(Path::new(&dest), false).await?;
    sqlx::query("PRAGMA journal_mode = DELETE")
        .execute(&mut copy)
        .await?;
    copy.close().await
}

/// What a copy holds, read before it is trusted.
#[derive(Debug, Clone)]
pub struct CopyFacts {
    /// `PRAGMA integrity_check`'s answer: `["ok"]` when sound.
    pub integrity: Vec<String>,
    /// The newest migration applied to it (0 when it has none).
    pub schema_version: i64,
    /// Every attachment's stored object: key, size and SHA-256 hex.
    pub files: Vec<StoredFile>,
}

#[derive(Debug, Clone, sqlx_macros::FromRow)]
pub struct StoredFile {
    pub storage_key: String,
    pub size_bytes: i64,
    pub sha256: String,
}

impl CopyFacts {
    pub fn is_sound(&self) -> bool {
        self.integrity == ["ok"]
    }
}

/// Opens the copy at `path` read-only and reads its facts; nothing in it is changed.
pub async fn inspect(path: &Path) -> sqlx::Result<CopyFacts> {
    let mut conn = open(path, true).await?;
    let integrity: Vec<String> = sqlx::query("PRAGMA integrity_check")
        .fetch_all(&mut conn)
        .await?
        .iter()
        .map(|row| row.try_get::<String, _>(0))
        .collect::<sqlx::Result<_>>()?;
    let mut facts = CopyFacts {
        integrity,
        schema_version: 0,
        files: Vec::new(),
    };
    if facts.is_sound() {
        facts.schema_version = sqlx::query_scalar(
            "SELECT COALESCE(MAX(version), 0) FROM _sqlx_migrations WHERE success = 1",
        )
        .fetch_one(&mut conn)
        .await?;
        facts.files = sqlx::query_as(
            "SELECT storage_key, size_bytes, sha256 FROM attachments ORDER BY storage_key",
        )
        .fetch_all(&mut conn)
        .await?;
    }
    conn.close().await?;
    Ok(facts)
}

/// Folds the WAL of the database at `path` into the main file and empties it, so the file
/// alone is the whole database (before it is moved aside). Only when no one else has it open.
pub async fn checkpoint(path: &Path) -> sqlx::Result<()> {
    let mut conn = open(path, false).await?;
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .execute(&mut conn)
        .await?;
    conn.close().await
}
