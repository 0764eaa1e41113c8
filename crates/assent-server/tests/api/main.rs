//! HTTP integration tests: the real server on port 0 over real SQLite files.

mod support;

mod auth_matrix;
mod bad_input;
mod durability;
mod events;
mod grants;
mod lifecycle;
mod policy;
mod races;
mod webhooks;
