//! HTTP integration tests: the real server on port 0 over real SQLite
//! files. `tests/api_postgres` runs the same modules on PostgreSQL.

/// The database every `TestApp` of this suite runs on.
const BACKEND: assent_testdb::Backend = assent_testdb::Backend::Sqlite;

mod support;

mod audit_export;
mod auth_matrix;
mod bad_input;
mod console;
mod durability;
mod events;
mod grants;
mod lifecycle;
mod metrics;
mod policy;
mod races;
mod receipts;
mod session;
mod stats;
mod webhooks;
mod ws;
