//! HTTP integration tests: the real server on port 0, each test on a real
//! SQLite file and, in the PostgreSQL suite, on a fresh PostgreSQL database
//! (`#[assent_testdb::backends]` runs every test on both).

mod support;

mod audit_export;
mod auth_matrix;
mod bad_input;
mod connections;
mod console;
mod durability;
mod events;
mod grants;
mod hardening;
mod lifecycle;
mod metrics;
mod policy;
mod races;
mod rate_limits;
mod receipts;
mod revocation;
mod session;
mod shell_policy;
mod stats;
mod tls;
mod webhooks;
mod ws;

#[cfg(not(postgres_suite))]
#[test]
fn postgres_suite_skipped() {
    assent_testdb::report_postgres_suite_skipped("HTTP API");
}
