//! `manifest.json`: what a backup holds, written last. A backup without one is not complete,
//! and `check` is the rule a restore applies before it replaces anything.

use serde::{Deserialize, Serialize};

use crate::db::backup::CopyFacts;

/// The manifest's own format; a newer one is refused by an older binary.
pub const FORMAT: u32 = 1;

/// The file name inside a backup.
pub const FILE: &str = "manifest.json";

/// The database copy's name inside a backup.
pub const DATABASE_FILE: &str = "kanri.db";

/// The folder (or key prefix) attachment objects are copied under, by their storage keys.
pub const FILES_DIR: &str = "files";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: u32,
    /// The kanri version that wrote it.
    pub kanri_version: String,
    /// RFC 3339 UTC.
    pub created_at: String,
    pub engine: String,
    /// The newest migration applied to the copied database.
    pub schema_version: i64,
    pub database: DatabaseEntry,
    pub files: FilesEntry,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatabaseEntry {
    pub file: String,
    pub bytes: u64,
    /// Lowercase hex.
    pub sha256: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FilesEntry {
    /// Where attachments were stored when it was taken: `local` or `s3`.
    pub storage: String,
    /// Objects copied into the backup.
    pub count: u64,
    pub bytes: u64,
    /// Attachment rows whose object was already gone when copied (deleted and purged after
    /// the snapshot): their keys.
    pub missing: Vec<String>,
}

/// Why a backup is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("manifest format {0} is newer than this kanri understands ({FORMAT})")]
    Format(u32),
    #[error("the backup is of a {0} database; kanri restore restores SQLite backups")]
    Engine(String),
    #[error("the database copy is {actual} bytes, the manifest says {expected}")]
    Size { expected: u64, actual: u64 },
    #[error("the database copy's SHA-256 is {actual}, the manifest says {expected}")]
    Checksum { expected: String, actual: String },
    #[error("the database copy fails integrity_check: {0}")]
    Integrity(String),
    #[error(
        "the backup's schema is at migration {backup}, newer than this kanri's {binary}; \
         restore it with a kanri at least as new as {kanri_version}"
    )]
    Newer {
        backup: i64,
        binary: i64,
        kanri_version: String,
    },
    #[error("the copy is at migration {actual}, the manifest says {expected}")]
    SchemaMismatch { expected: i64, actual: i64 },
}

/// The database copy as found on disk.
#[derive(Debug, Clone)]
pub struct Found {
    pub bytes: u64,
    pub sha256: String,
}

impl Manifest {
    /// Everything a restore checks about the database before it touches the live one: format,
    /// engine, size and checksum against the manifest, then (from the opened copy) integrity
    /// and a schema level this binary can run.
    pub fn check_database(
        &self,
        found: &Found,
        facts: &CopyFacts,
        binary_level: i64,
    ) -> Result<(), Refusal> {
        self.check_file(found)?;
        if !facts.is_sound() {
            return Err(Refusal::Integrity(facts.integrity.join("; ")));
        }
        if facts.schema_version != self.schema_version {
            return Err(Refusal::SchemaMismatch {
                expected: self.schema_version,
                actual: facts.schema_version,
            });
        }
        if facts.schema_version > binary_level {
            return Err(Refusal::Newer {
                backup: facts.schema_version,
                binary: binary_level,
                kanri_version: self.kanri_version.clone(),
            });
        }
        Ok(())
    }

    /// The checks that need only the file's bytes (done before the copy is opened at all).
    pub fn check_file(&self, found: &Found) -> Result<(), Refusal> {
        if self.format > FORMAT {
            return Err(Refusal::Format(self.format));
        }
        if self.engine != "sqlite" {
            return Err(Refusal::Engine(self.engine.clone()));
        }
        if found.bytes != self.database.bytes {
            return Err(Refusal::Size {
                expected: self.database.bytes,
                actual: found.bytes,
            });
        }
        if !found.sha256.eq_ignore_ascii_case(&self.database.sha256) {
            return Err(Refusal::Checksum {
                expected: self.database.sha256.clone(),
                actual: found.sha256.clone(),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest() -> Manifest {
        Manifest {
            format: FORMAT,
            kanri_version: "0.1.0".into(),
            created_at: "2026-01-01T00:00:00.000Z".into(),
            engine: "sqlite".into(),
            schema_version: 15,
            database: DatabaseEntry {
                file: DATABASE_FILE.into(),
                bytes: 4096,
                sha256: "ab".repeat(32),
            },
            files: FilesEntry {
                storage: "local".into(),
                count: 0,
                bytes: 0,
                missing: vec![],
            },
        }
    }

    fn found() -> Found {
        Found {
            bytes: 4096,
            sha256: "AB".repeat(32),
        }
    }

    fn facts(integrity: &str, schema_version: i64) -> CopyFacts {
        CopyFacts {
            integrity: vec![integrity.into()],
            schema_version,
            files: vec![],
        }
    }

    #[test]
    fn a_matching_sound_copy_passes() {
        assert_eq!(
            manifest().check_database(&found(), &facts("ok", 15), 15),
            Ok(())
        );
        // An older schema is fine: the binary migrates it when it next starts.
        let mut m = manifest();
        m.schema_version = 9;
        assert_eq!(m.check_database(&found(), &facts("ok", 9), 15), Ok(()));
    }

    #[test]
    fn every_mismatch_is_refused() {
        let m = manifest();
        let mut f = found();
        f.bytes = 4095;
        assert!(matches!(
            m.check_database(&f, &facts("ok", 15), 15),
            Err(Refusal::Size { .. })
        ));
        let mut f = found();
        f.sha256 = "cd".repeat(32);
        assert!(matches!(
            m.check_database(&f, &facts("ok", 15), 15),
            Err(Refusal::Checksum { .. })
        ));
        assert!(matches!(
            m.check_database(&found(), &facts("*** in database main ***", 15), 15),
            Err(Refusal::Integrity(_))
        ));
        assert!(matches!(
            m.check_database(&found(), &facts("ok", 16), 16),
            Err(Refusal::SchemaMismatch { .. })
        ));
        assert!(matches!(
            m.check_database(&found(), &facts("ok", 15), 14),
            Err(Refusal::Newer {
                backup: 15,
                binary: 14,
                ..
            })
        ));
        let mut newer = manifest();
        newer.format = FORMAT + 1;
        assert_eq!(newer.check_file(&found()), Err(Refusal::Format(FORMAT + 1)));
        let mut pg = manifest();
        pg.engine = "postgres".into();
        assert!(matches!(pg.check_file(&found()), Err(Refusal::Engine(_))));
    }

    #[test]
    fn it_round_trips_as_json() {
        let m = manifest();
        let text = serde_json::to_string(&m).unwrap();
        assert_eq!(serde_json::from_str::<Manifest>(&text).unwrap(), m);
    }
}
