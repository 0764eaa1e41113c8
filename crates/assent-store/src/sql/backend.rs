//! What differs between SQLite and PostgreSQL: connecting, migrating, and
//! opening a write batch. Every change and read runs the same SQL on both
//! (through `sqlx::Any`); this module is the whole of the difference.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use assent_domain::event::ChainHead;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::postgres::PgConnectOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sqlx::{AnyConnection, AnyPool, ConnectOptions, Connection, Executor, Row};

use crate::StoreError;

static SQLITE_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

/// Migrations whose comments were reworded after release, with the checksum
/// (SHA-384, hex) their earlier text left in `_sqlx_migrations`. sqlx
/// checksums the whole file, comments included, and refuses a database whose
/// recorded checksum differs; the SQL of these is unchanged, so a database
/// migrated with the earlier text gets the current checksum before migrating.
const REWORDED_SQLITE: &[(i64, &str)] = &[(
    20261122000002,
    "a37f5db57c44b22856f940241427fd2a2bf8931fc765af1fa29b52f0201f43f9c4f869cb38eecabb185f55b8d8fbc32c",
)];
const REWORDED_POSTGRES: &[(i64, &str)] = &[(
    20261122000002,
    "53c5bc496e2407cb339b43b2268f24301da222e28ec0d473c6ecd125c12ca5afb6a6a8bc05b5edf0b0af5db7d932e5da",
)];

/// How long SQLite waits on a lock held by another connection.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(10);
/// Read connections on SQLite (WAL lets them read beside the writer).
const SQLITE_READERS: u32 = 8;
/// How SQLite's writer waits for the disk at commit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SqliteSync {
    /// Every commit is on disk before it is acknowledged (fsync per batch).
    #[default]
    Full,
    /// Survives the gateway's crash but may lose the last commits on a
    /// power loss or an operating-system crash.
    Normal,
    /// No fsync at all: for measurements and throwaway gateways only.
    Off,
}

/// The per-connection settings every SQLite connection needs for
/// concurrency and integrity.
const SQLITE_PRAGMAS: &str = "PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON;";

impl SqliteSync {
    /// The statement that sets it (static: sqlx runs only static SQL text).
    fn pragma(self) -> &'static str {
        match self {
            SqliteSync::Full => "PRAGMA synchronous = FULL",
            SqliteSync::Normal => "PRAGMA synchronous = NORMAL",
            SqliteSync::Off => "PRAGMA synchronous = OFF",
        }
    }
}

/// The PostgreSQL advisory lock every instance's write batch holds: it
/// serializes appends to the event chain (gapless `seq`, one hash chain)
/// without blocking reads. The key is arbitrary but fixed ("assent" in ASCII).
const CHAIN_LOCK: i64 = 0x61_73_73_65_6e_74;
/// The NOTIFY channel that tells other instances new events committed.
pub(crate) const NOTIFY_CHANNEL: &str = "assent_events";

/// Settings for the store's connections.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// Most read connections (PostgreSQL; SQLite uses a fixed small pool).
    pub max_connections: u32,
    /// How long a request waits for a connection (or for PostgreSQL to
    /// answer a connect) before the store reports itself unavailable.
    pub connect_timeout: Duration,
    /// SQLite's `synchronous` setting (PostgreSQL ignores it).
    pub sqlite_sync: SqliteSync,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            max_connections: 16,
            connect_timeout: Duration::from_secs(5),
            sqlite_sync: SqliteSync::Full,
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) enum Backend {
    Sqlite { url: String, sync: SqliteSync },
    Postgres { url: String, options: StoreOptions },
}

impl Backend {
    pub fn from_url(url: &str, options: StoreOptions) -> Result<Backend, StoreError> {
        sqlx::any::install_default_drivers();
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite {
                url: url.into(),
                sync: options.sqlite_sync,
            })
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Ok(Backend::Postgres {
                url: url.into(),
                options,
            })
        } else {
            Err(StoreError::Unavailable(
                "database_url must start with sqlite: or postgres:".into(),
            ))
        }
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self, Backend::Postgres { .. })
    }

    pub fn url(&self) -> &str {
        match self {
            Backend::Sqlite { url, .. } | Backend::Postgres { url, .. } => url,
        }
    }

    /// Creates the database when SQLite's file is missing and runs pending
    /// migrations (on PostgreSQL sqlx holds an advisory lock while it does,
    /// so instances starting together migrate once).
    pub async fn migrate(&self) -> Result<(), StoreError> {
        let failed = |e: sqlx::migrate::MigrateError| {
            StoreError::Unavailable(format!("migrating the database: {e}"))
        };
        match self {
            Backend::Sqlite { url, .. } => {
                if let Some(path) = sqlite_file(url) {
                    create_private(&path)?;
                }
                let mut conn = sqlite_options(url)?
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .connect()
                    .await?;
                let recorded: Option<String> = sqlx::query_scalar(
                    "SELECT name FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'",
                )
                .fetch_optional(&mut conn)
                .await?;
                if recorded.is_some() {
                    for (version, old, new) in reworded(&SQLITE_MIGRATOR, REWORDED_SQLITE) {
                        sqlx::query(
                            "UPDATE _sqlx_migrations SET checksum = ? \
                             WHERE version = ? AND lower(hex(checksum)) = ?",
                        )
                        .bind(new)
                        .bind(version)
                        .bind(old)
                        .execute(&mut conn)
                        .await?;
                    }
                }
                SQLITE_MIGRATOR.run(&mut conn).await.map_err(failed)?;
                conn.close().await?;
            }
            Backend::Postgres { url, options } => {
                let connect_options =
                    PgConnectOptions::from_str(url).map_err(|e| bad_url(url, e))?;
                let mut conn =
                    tokio::time::timeout(options.connect_timeout, connect_options.connect())
                        .await
                        .map_err(|_| unreachable_db(url))??;
                let recorded: Option<String> =
                    sqlx::query_scalar("SELECT to_regclass('_sqlx_migrations')::text")
                        .fetch_one(&mut conn)
                        .await?;
                if recorded.is_some() {
                    for (version, old, new) in reworded(&POSTGRES_MIGRATOR, REWORDED_POSTGRES) {
                        sqlx::query(
                            "UPDATE _sqlx_migrations SET checksum = $1 \
                             WHERE version = $2 AND encode(checksum, 'hex') = $3",
                        )
                        .bind(new)
                        .bind(version)
                        .bind(old)
                        .execute(&mut conn)
                        .await?;
                    }
                }
                POSTGRES_MIGRATOR.run(&mut conn).await.map_err(failed)?;
                conn.close().await?;
            }
        }
        Ok(())
    }

    /// The pool that serves reads (and the feed's catch-up).
    pub fn readers(&self) -> Result<AnyPool, StoreError> {
        let pool = match self {
            Backend::Sqlite { url, sync } => {
                let sync = *sync;
                AnyPoolOptions::new()
                    .max_connections(SQLITE_READERS)
                    .after_connect(move |conn, _| {
                        Box::pin(async move {
                            conn.execute(SQLITE_PRAGMAS).await?;
                            conn.execute(sync.pragma()).await?;
                            Ok(())
                        })
                    })
                    .connect_lazy_with(any_options(&read_only(url))?)
            }
            Backend::Postgres { url, options } => AnyPoolOptions::new()
                .max_connections(options.max_connections)
                .acquire_timeout(options.connect_timeout)
                .connect_lazy_with(any_options(url)?),
        };
        Ok(pool)
    }

    /// A new connection for the writer.
    pub async fn connect_writer(&self) -> Result<AnyConnection, StoreError> {
        let timeout = match self {
            Backend::Sqlite { .. } => SQLITE_BUSY_TIMEOUT,
            Backend::Postgres { options, .. } => options.connect_timeout,
        };
        let mut conn = tokio::time::timeout(timeout, AnyConnection::connect(self.url()))
            .await
            .map_err(|_| unreachable_db(self.url()))??;
        if let Backend::Sqlite { sync, .. } = self {
            conn.execute(SQLITE_PRAGMAS).await?;
            conn.execute(sync.pragma()).await?;
        }
        Ok(conn)
    }

    /// Reads the end of the event chain.
    pub async fn reload_head(
        &self,
        conn: &mut AnyConnection,
        head: &mut ChainHead,
    ) -> Result<(), StoreError> {
        let row = sqlx::query("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1")
            .fetch_optional(&mut *conn)
            .await?;
        *head = match row {
            Some(row) => ChainHead {
                seq: row.try_get("seq")?,
                hash: row.try_get("hash")?,
            },
            None => ChainHead::default(),
        };
        Ok(())
    }

    /// Begins a write batch holding the write lock. On PostgreSQL other
    /// instances may have appended since the last batch, so the chain head
    /// is read again under the lock.
    pub async fn begin_batch(
        &self,
        conn: &mut AnyConnection,
        head: &mut ChainHead,
    ) -> Result<(), StoreError> {
        match self {
            Backend::Sqlite { .. } => {
                sqlx::query("BEGIN IMMEDIATE").execute(&mut *conn).await?;
            }
            Backend::Postgres { .. } => {
                sqlx::query("BEGIN").execute(&mut *conn).await?;
                sqlx::query("SELECT pg_advisory_xact_lock($1)")
                    .bind(CHAIN_LOCK)
                    .execute(&mut *conn)
                    .await?;
                self.reload_head(conn, head).await?;
            }
        }
        Ok(())
    }

    /// What a SELECT that claims rows for work ends with.
    pub fn claim_clause(&self) -> &'static str {
        match self {
            Backend::Sqlite { .. } => "",
            Backend::Postgres { .. } => " FOR UPDATE SKIP LOCKED",
        }
    }

    /// Tells other instances, at commit, that events up to `seq` exist.
    pub async fn announce(&self, conn: &mut AnyConnection, seq: i64) -> Result<(), StoreError> {
        if let Backend::Postgres { .. } = self {
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind(NOTIFY_CHANNEL)
                .bind(seq.to_string())
                .execute(conn)
                .await?;
        }
        Ok(())
    }
}

/// The file of a `sqlite:` URL; `None` for other URLs and in-memory databases.
pub fn sqlite_file(url: &str) -> Option<PathBuf> {
    if !url.starts_with("sqlite:") || url.contains(":memory:") || url.contains("mode=memory") {
        return None;
    }
    let options = SqliteConnectOptions::from_str(url).ok()?;
    Some(options.get_filename().to_path_buf())
}

/// Creates a missing database file readable and writable by its owner only.
/// SQLite gives its `-wal` and `-shm` files the database file's mode, so
/// they are private too.
fn create_private(path: &Path) -> Result<(), StoreError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(StoreError::Unavailable(format!(
            "creating {}: {e}",
            path.display()
        ))),
    }
}

fn sqlite_options(url: &str) -> Result<SqliteConnectOptions, StoreError> {
    Ok(SqliteConnectOptions::from_str(url)
        .map_err(|e| bad_url(url, e))?
        .busy_timeout(SQLITE_BUSY_TIMEOUT)
        .synchronous(SqliteSynchronous::Full))
}

fn any_options(url: &str) -> Result<AnyConnectOptions, StoreError> {
    AnyConnectOptions::from_str(url).map_err(|e| bad_url(url, e))
}

/// SQLite readers open the file read-only, so only the writer can write.
fn read_only(url: &str) -> String {
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}mode=ro")
}

fn bad_url(url: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Unavailable(format!("bad database_url {:?}: {e}", redact(url)))
}

fn unreachable_db(url: &str) -> StoreError {
    StoreError::Unavailable(format!("database {:?} did not answer in time", redact(url)))
}

/// The URL without its password, for messages and logs.
pub(crate) fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}

/// `(version, earlier checksum, current checksum)` for each reworded migration.
fn reworded<'a>(
    migrator: &'a sqlx::migrate::Migrator,
    earlier: &'a [(i64, &'a str)],
) -> impl Iterator<Item = (i64, &'a str, Vec<u8>)> + 'a {
    earlier.iter().filter_map(|&(version, old)| {
        let current = migrator.iter().find(|m| m.version == version)?;
        Some((version, old, current.checksum.to_vec()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The writer's `PRAGMA synchronous` for a store opened with `sync`.
    async fn writer_synchronous(sync: SqliteSync) -> i64 {
        let dir = assent_testdb::private_dir();
        let url = format!("sqlite://{}", dir.path().join("sync.db").display());
        let options = StoreOptions {
            sqlite_sync: sync,
            ..StoreOptions::default()
        };
        let backend = Backend::from_url(&url, options).unwrap();
        backend.migrate().await.unwrap();
        let mut writer = backend.connect_writer().await.unwrap();
        sqlx::query_scalar("PRAGMA synchronous")
            .fetch_one(&mut writer)
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn the_writer_waits_for_the_disk_as_configured() {
        // SQLite's codes: 0 OFF, 1 NORMAL, 2 FULL.
        assert_eq!(writer_synchronous(SqliteSync::default()).await, 2);
        assert_eq!(writer_synchronous(SqliteSync::Normal).await, 1);
        assert_eq!(writer_synchronous(SqliteSync::Off).await, 0);
    }
}
