//! Assent's HTTP gateway: routes, auth, long-poll waiters and the expiry sweep.

pub mod app;
pub mod auth;
pub mod commits;
pub mod config;
pub mod error;
pub mod json;
pub mod policy;
pub mod routes;
pub mod serve;
pub mod sweeper;
pub mod waiters;
pub mod webhooks;

pub use config::Config;
pub use serve::{ServeError, ServeOptions, Server, run};
