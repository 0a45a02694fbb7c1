//! Who has the SQLite database open. Every process that opens it (`kanri serve`, `kanri
//! worker`, the admin commands, `kanri backup`) holds a shared advisory lock on
//! `<database>-lock` for as long as it does; `kanri restore` takes it exclusively, so it
//! refuses while any of them runs, and they refuse to start while a restore is replacing
//! the file. The operating system drops the lock with the process, so a crash leaves none.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// A held lock; dropping it (or `release`) lets go.
#[derive(Debug, Clone)]
pub struct InstanceLock(Arc<Mutex<Option<File>>>);

/// Why a lock could not be had.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("{0}")]
    Busy(String),
    #[error("cannot lock {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
}

/// The lock file beside the database file.
pub fn lock_path(db_path: &Path) -> PathBuf {
    let mut name = db_path.as_os_str().to_owned();
    name.push("-lock");
    PathBuf::from(name)
}

fn open(db_path: &Path) -> Result<(File, PathBuf), LockError> {
    let path = lock_path(db_path);
    let io = |source| LockError::Io {
        path: path.display().to_string(),
        source,
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(io)?;
    Ok((file, path))
}

impl InstanceLock {
    /// Held by every process using the database; many may hold it at once.
    pub fn shared(db_path: &Path) -> Result<Self, LockError> {
        let (file, path) = open(db_path)?;
        match file.try_lock_shared() {
            Ok(()) => Ok(Self(Arc::new(Mutex::new(Some(file))))),
            Err(TryLockError::WouldBlock) => Err(LockError::Busy(format!(
                "{} is being restored (kanri restore holds {}); try again when it is done",
                db_path.display(),
                path.display()
            ))),
            Err(TryLockError::Error(source)) => Err(LockError::Io {
                path: path.display().to_string(),
                source,
            }),
        }
    }

    /// Held by `kanri restore` alone: refused while any other process has the database open.
    pub fn exclusive(db_path: &Path) -> Result<Self, LockError> {
        let (file, path) = open(db_path)?;
        match file.try_lock() {
            Ok(()) => Ok(Self(Arc::new(Mutex::new(Some(file))))),
            Err(TryLockError::WouldBlock) => Err(LockError::Busy(format!(
                "{} is in use: a kanri server, worker or command has it open (it holds a lock \
                 on {}); stop it before restoring",
                db_path.display(),
                path.display()
            ))),
            Err(TryLockError::Error(source)) => Err(LockError::Io {
                path: path.display().to_string(),
                source,
            }),
        }
    }

    /// Lets go now, for every clone.
    pub fn release(&self) {
        if let Ok(mut file) = self.0.lock() {
            file.take();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_holders_coexist_and_keep_the_exclusive_one_out() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("kanri.db");
        let a = InstanceLock::shared(&db).unwrap();
        let b = InstanceLock::shared(&db).unwrap();
        assert!(matches!(
            InstanceLock::exclusive(&db),
            Err(LockError::Busy(_))
        ));
        a.release();
        assert!(InstanceLock::exclusive(&db).is_err(), "b still holds it");
        drop(b);
        let only = InstanceLock::exclusive(&db).unwrap();
        assert!(matches!(InstanceLock::shared(&db), Err(LockError::Busy(_))));
        only.release();
        InstanceLock::shared(&db).unwrap();
    }
}
