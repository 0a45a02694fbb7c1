//! The data layer: one set of SQL texts run through sqlx's `Any` driver on SQLite or
//! Postgres. Query functions take any executor (a pool or `&mut *tx`) so a use case can
//! run them inside its own transaction. See ARCHITECTURE.md for why `Any`.

pub mod activity;
pub mod admin_sessions;
pub mod api_keys;
pub mod attachments;
pub mod backup;
pub mod comments;
pub mod exports;
pub mod idempotency;
pub mod identity;
pub mod imports;
pub mod instance_lock;
pub mod invitations;
pub mod jobs;
pub mod labels;
pub mod oidc;
pub mod password_resets;
pub mod plans;
pub mod project_members;
pub mod projects;
pub mod roles;
pub mod search;
pub mod sessions;
pub mod subscriptions;
pub mod task_relations;
pub mod tasks;
pub mod tenants;
pub mod time_entries;
pub mod transfer;
pub mod two_factor;
pub mod usage;
pub mod users;
pub mod webhook_deliveries;
pub mod webhook_endpoints;
pub mod webhook_receipts;
pub mod workspace_members;
pub mod workspaces;

use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::migrate::Migrator;
use sqlx::{Any, AnyPool, Connection, Executor, Transaction};

use crate::config::{Config, Engine};

static SQLITE_MIGRATIONS: Migrator = sqlx_macros::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx_macros::migrate!("./migrations/postgres");

/// Per-connection SQLite settings: WAL so readers never block the writer, a busy timeout so
/// another process's writer makes us wait rather than fail, and enforced foreign keys.
const SQLITE_PRAGMAS: [&str; 4] = [
    "PRAGMA journal_mode = WAL",
    "PRAGMA busy_timeout = 5000",
    "PRAGMA foreign_keys = ON",
    "PRAGMA synchronous = NORMAL",
];

/// Connection pools. On SQLite, writes go through a single-connection pool so writers queue in
/// the pool instead of colliding on the file lock, and reads use a separate read-only pool.
/// On Postgres both handles are the same pool.
#[derive(Clone, Debug)]
pub struct Db {
    read: AnyPool,
    write: AnyPool,
    engine: Engine,
    /// SQLite: this process's share of the database's instance lock (`instance_lock`), held
    /// until `close`, so `kanri restore` cannot replace the file under it.
    lock: Option<instance_lock::InstanceLock>,
}

impl Db {
    pub async fn connect(config: &Config) -> anyhow::Result<Self> {
        sqlx::any::install_default_drivers();
        let url = config.database.url.expose();
        let options: AnyConnectOptions = url.parse()?;
        match config.database.engine {
            Engine::Sqlite => {
                std::fs::create_dir_all(&config.data_dir)?;
                let lock = instance_lock::InstanceLock::shared(&backup::sqlite_path(url)?)?;
                let write = sqlite_pool(1, false).connect_with(options.clone()).await?;
                let read = sqlite_pool(config.database.max_connections, true)
                    .connect_with(options)
                    .await?;
                Ok(Self {
                    read,
                    write,
                    engine: Engine::Sqlite,
                    lock: Some(lock),
                })
            }
            Engine::Postgres => {
                let pool = AnyPoolOptions::new()
                    .max_connections(config.database.max_connections)
                    .acquire_timeout(Duration::from_secs(5))
                    // A ping on every acquire is a round trip before every statement; only a
                    // connection idle long enough to have been dropped (a server restart, a
                    // proxy's idle cut) is checked before it is handed out.
                    .test_before_acquire(false)
                    .before_acquire(|conn, meta| {
                        Box::pin(async move {
                            if meta.idle_for >= PING_IF_IDLE_FOR {
                                conn.ping().await?;
                            }
                            Ok(true)
                        })
                    })
                    .connect_with(options)
                    .await?;
                Ok(Self {
                    read: pool.clone(),
                    write: pool,
                    engine: Engine::Postgres,
                    lock: None,
                })
            }
        }
    }

    pub fn engine(&self) -> Engine {
        self.engine
    }

    /// Pool for queries that only read.
    pub fn read(&self) -> &AnyPool {
        &self.read
    }

    /// Pool for single writes outside a transaction.
    pub fn write(&self) -> &AnyPool {
        &self.write
    }

    /// Open connections across the pools: `(in use, idle)`. Postgres's two handles are one
    /// pool, counted once.
    pub fn pool_connections(&self) -> (u64, u64) {
        let pools: &[&AnyPool] = match self.engine {
            Engine::Sqlite => &[&self.read, &self.write],
            Engine::Postgres => &[&self.write],
        };
        pools.iter().fold((0, 0), |(busy, idle), pool| {
            let open = u64::from(pool.size());
            let free = u64::try_from(pool.num_idle()).unwrap_or(0).min(open);
            (busy + open - free, idle + free)
        })
    }

    /// Starts a write transaction. On SQLite it takes the write lock up front (`BEGIN
    /// IMMEDIATE`), so a transaction that reads before it writes cannot fail to upgrade when
    /// another process has written in between.
    pub async fn begin(&self) -> sqlx::Result<Transaction<'static, Any>> {
        match self.engine {
            Engine::Sqlite => self.write.begin_with("BEGIN IMMEDIATE").await,
            Engine::Postgres => self.write.begin().await,
        }
    }

    pub async fn migrate(&self) -> anyhow::Result<()> {
        let migrator = match self.engine {
            Engine::Sqlite => &SQLITE_MIGRATIONS,
            Engine::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator.run(&self.write).await?;
        Ok(())
    }

    /// Is the database reachable for both reads and writes?
    pub async fn ping(&self) -> sqlx::Result<()> {
        self.read.execute("SELECT 1").await?;
        self.write.execute("SELECT 1").await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.write.close().await;
        self.read.close().await;
        if let Some(lock) = &self.lock {
            lock.release();
        }
    }
}

/// How long a Postgres connection may sit idle before it is pinged on its way out of the pool.
const PING_IF_IDLE_FOR: Duration = Duration::from_secs(5);

fn sqlite_pool(max_connections: u32, read_only: bool) -> AnyPoolOptions {
    AnyPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(10))
        // A SQLite connection is a file handle in this process: it cannot be dropped by a
        // server, and the ping sqlx would send on every acquire is a round trip to the
        // connection's thread before every statement.
        .test_before_acquire(false)
        .after_connect(move |conn, _meta| {
            Box::pin(async move {
                for pragma in SQLITE_PRAGMAS {
                    conn.execute(pragma).await?;
                }
                if read_only {
                    conn.execute("PRAGMA query_only = ON").await?;
                }
                Ok(())
            })
        })
}

/// True when `err` is a unique-constraint violation, for call sites that map it to a conflict.
pub fn is_unique_violation(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(e) if e.is_unique_violation())
}
