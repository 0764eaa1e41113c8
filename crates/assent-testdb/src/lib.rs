//! A fresh database for one test: a SQLite file in a temporary directory, or
//! a uniquely named PostgreSQL database on the server named by
//! `ASSENT_TEST_POSTGRES_URL`, dropped when the test ends.

use std::io::Write;
use std::path::Path;

pub use assent_testdb_macros::backends;
use sqlx::{AssertSqlSafe, Connection, Executor, PgConnection};

/// The variable naming the PostgreSQL server the PostgreSQL suites use.
pub const POSTGRES_URL_VAR: &str = "ASSENT_TEST_POSTGRES_URL";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A database that exists for as long as this value does.
pub struct TestDb {
    url: String,
    /// (server URL, database name) of a PostgreSQL database to drop.
    postgres: Option<(String, String)>,
    _dir: Option<tempfile::TempDir>,
}

impl TestDb {
    /// A new empty database. SQLite's file lives in `dir` when given (next
    /// to the test's other files), else in a temporary directory.
    ///
    /// # Panics
    /// When PostgreSQL is asked for but `ASSENT_TEST_POSTGRES_URL` is unset
    /// or the server cannot be reached: a PostgreSQL suite must fail, not
    /// skip, once it was asked to run.
    pub async fn create(backend: Backend, dir: Option<&Path>) -> TestDb {
        match backend {
            Backend::Sqlite => {
                let (dir, owned) = match dir {
                    Some(dir) => (dir.to_path_buf(), None),
                    None => {
                        let tmp = tempfile::tempdir().expect("a temporary directory");
                        (tmp.path().to_path_buf(), Some(tmp))
                    }
                };
                TestDb {
                    url: format!("sqlite://{}", dir.join("assent.db").display()),
                    postgres: None,
                    _dir: owned,
                }
            }
            Backend::Postgres => {
                let server = std::env::var(POSTGRES_URL_VAR)
                    .unwrap_or_else(|_| panic!("{POSTGRES_URL_VAR} is not set"));
                TestDb::postgres(&server).await
            }
        }
    }

    /// A new database on the PostgreSQL server at `server` (a URL naming
    /// any database there that can run CREATE DATABASE).
    ///
    /// # Panics
    /// When the server cannot be reached or refuses.
    pub async fn postgres(server: &str) -> TestDb {
        let name = format!("assent_test_{}", uuid::Uuid::now_v7().simple());
        let mut admin = PgConnection::connect(server)
            .await
            .unwrap_or_else(|e| panic!("PostgreSQL at {server}: cannot connect: {e}"));
        admin
            .execute(AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .await
            .expect("CREATE DATABASE");
        let _ = admin.close().await;
        let mut url = url::Url::parse(server).expect("a PostgreSQL URL");
        url.set_path(&name);
        TestDb {
            url: url.to_string(),
            postgres: Some((server.to_owned(), name)),
            _dir: None,
        }
    }

    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some((server, name)) = self.postgres.take() else {
            return;
        };
        // Drop runs inside the test's runtime; the database is dropped from
        // a thread of its own so this works on any runtime flavour.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime.block_on(async {
                let mut admin = PgConnection::connect(&server).await?;
                admin
                    .execute(AssertSqlSafe(format!(
                        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                    )))
                    .await?;
                admin.close().await
            })?;
            Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            let _ = writeln!(std::io::stderr(), "warning: could not drop test database");
        }
    }
}

/// Says, past the test harness's output capture, that a PostgreSQL suite
/// was not run and how to run it.
pub fn report_postgres_suite_skipped(suite: &str) {
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED the PostgreSQL {suite} suite: {POSTGRES_URL_VAR} is not set. To run it: \
         {POSTGRES_URL_VAR}=postgres://postgres@127.0.0.1:5432/postgres cargo test --workspace"
    );
}

/// A temporary directory only its owner can enter (0700), as the gateway
/// requires of its data directory (tempfile makes 0755 ones on some systems).
pub fn private_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a temporary directory");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700))
            .expect("a temporary directory made private");
    }
    dir
}
