//! Assent's HTTP gateway: routes, auth, long-poll waiters and the expiry sweep.

pub mod app;
pub mod auth;
pub mod commits;
pub mod config;
pub mod error;
pub mod feed;
pub mod json;
pub mod metrics;
pub mod operations;
pub mod policy;
pub mod receipted_store;
pub mod receipts;
pub mod routes;
pub mod serve;
pub mod session;
pub mod signing;
pub mod stats;
pub mod sweeper;
pub mod waiters;
pub mod webhooks;
pub mod ws;

pub use config::Config;
pub use serve::{ServeError, ServeOptions, Server, run};
