//! The database section: the connection URL and the engine it selects.

use std::path::Path;

use serde::Serialize;

use super::load::RawConfig;
use super::{ConfigError, Secret, invalid};

/// Which relational engine a database URL selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Engine {
    Sqlite,
    Postgres,
}

#[derive(Debug, Clone)]
pub struct DatabaseConfig {
    /// Default: the embedded SQLite file `<data_dir>/kanri.db`.
    pub url: Secret<String>,
    pub engine: Engine,
    /// `KANRI_DATABASE_MAX_CONNECTIONS`: the Postgres pool's size per instance, or the SQLite
    /// read pool's (SQLite writes go through one connection whatever this says).
    pub max_connections: u32,
}

/// Above this a pool only queues inside Postgres instead of here; N instances need
/// N × this many of the server's `max_connections` (100 by default).
const MAX_POOL: u32 = 500;

impl DatabaseConfig {
    pub(super) fn from_raw(raw: &RawConfig) -> Result<Self, ConfigError> {
        let url = match &raw.database_url {
            Some(url) => url.clone(),
            None => Secret::new(default_sqlite_url(&raw.data_dir)),
        };
        let engine = engine_of(url.expose())?;
        let max_connections = raw.database_max_connections;
        if !(1..=MAX_POOL).contains(&max_connections) {
            return Err(invalid(
                "KANRI_DATABASE_MAX_CONNECTIONS",
                format!("must be 1–{MAX_POOL}"),
            ));
        }
        Ok(Self {
            url,
            engine,
            max_connections,
        })
    }
}

fn default_sqlite_url(data_dir: &Path) -> String {
    format!("sqlite://{}?mode=rwc", data_dir.join("kanri.db").display())
}

pub fn engine_of(url: &str) -> Result<Engine, ConfigError> {
    if url.starts_with("sqlite:") {
        Ok(Engine::Sqlite)
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Engine::Postgres)
    } else {
        Err(invalid(
            "KANRI_DATABASE_URL",
            "must start with sqlite:, postgres:// or postgresql://",
        ))
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
    fn the_pool_size_is_a_setting_within_bounds() {
        assert_eq!(
            Config::from_raw(raw()).unwrap().database.max_connections,
            16
        );
        let mut r = raw();
        r.database_max_connections = 40;
        assert_eq!(Config::from_raw(r).unwrap().database.max_connections, 40);
        for bad in [0, 501] {
            let mut r = raw();
            r.database_max_connections = bad;
            let err = Config::from_raw(r).unwrap_err().to_string();
            assert!(err.contains("KANRI_DATABASE_MAX_CONNECTIONS"), "{err}");
        }
    }

    #[test]
    fn postgres_url_selects_postgres_and_is_redacted() {
        let mut r = raw();
        r.database_url = Some(Secret::new("postgres://kanri:hunter2@db:5432/kanri".into()));
        let c = Config::from_raw(r).unwrap();
        assert_eq!(c.database.engine, Engine::Postgres);
        let shown = c.redacted().to_string();
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("***"));
        assert!(!format!("{c:?}").contains("hunter2"));

        let mut r = raw();
        r.database_url = Some(Secret::new(
            "postgres://db/kanri?user=k&password=hunter2&sslmode=require".into(),
        ));
        let shown = Config::from_raw(r).unwrap().redacted().to_string();
        assert!(
            !shown.contains("hunter2") && shown.contains("sslmode=require"),
            "{shown}"
        );
    }
}
