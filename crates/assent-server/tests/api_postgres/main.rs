//! The HTTP integration suite of `tests/api` again, on PostgreSQL: the same
//! modules, compiled with `BACKEND` = PostgreSQL. Runs when
//! `ASSENT_TEST_POSTGRES_URL` names a server (CI sets it); otherwise it
//! reports that it was skipped.

#[cfg(postgres_suite)]
const BACKEND: assent_testdb::Backend = assent_testdb::Backend::Postgres;

#[cfg(postgres_suite)]
#[path = "../api/audit_export.rs"]
mod audit_export;
#[cfg(postgres_suite)]
#[path = "../api/auth_matrix.rs"]
mod auth_matrix;
#[cfg(postgres_suite)]
#[path = "../api/bad_input.rs"]
mod bad_input;
#[cfg(postgres_suite)]
#[path = "../api/console.rs"]
mod console;
#[cfg(postgres_suite)]
#[path = "../api/durability.rs"]
mod durability;
#[cfg(postgres_suite)]
#[path = "../api/events.rs"]
mod events;
#[cfg(postgres_suite)]
#[path = "../api/grants.rs"]
mod grants;
#[cfg(postgres_suite)]
#[path = "../api/lifecycle.rs"]
mod lifecycle;
#[cfg(postgres_suite)]
#[path = "../api/metrics.rs"]
mod metrics;
#[cfg(postgres_suite)]
#[path = "../api/policy.rs"]
mod policy;
#[cfg(postgres_suite)]
#[path = "../api/races.rs"]
mod races;
#[cfg(postgres_suite)]
#[path = "../api/receipts.rs"]
mod receipts;
#[cfg(postgres_suite)]
#[path = "../api/session.rs"]
mod session;
#[cfg(postgres_suite)]
#[path = "../api/stats.rs"]
mod stats;
#[cfg(postgres_suite)]
#[path = "../api/support.rs"]
mod support;
#[cfg(postgres_suite)]
#[path = "../api/webhooks.rs"]
mod webhooks;
#[cfg(postgres_suite)]
#[path = "../api/ws.rs"]
mod ws;

#[cfg(not(postgres_suite))]
#[test]
fn postgres_suite_skipped() {
    assent_testdb::report_postgres_suite_skipped("HTTP API");
}
