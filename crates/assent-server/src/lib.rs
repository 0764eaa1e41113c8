//! Assent's gateway: the HTTP API and WebSocket, authentication, the
//! running policy, long-poll waiters, event streams, the expiry sweep,
//! receipts and webhook delivery, over a [`assent_store::Store`].
//!
//! The crate's surface is small: [`Server`] to run a gateway (and [`run`]
//! for `assent serve`), its [`Config`], the OpenAPI document, and the
//! webhook configuration types that tests and tools share.

mod auth;
mod body;
mod clock;
mod commits;
mod config;
mod console_session;
mod data_files;
mod error;
mod event_stream;
mod live_streams;
mod metrics;
mod operations;
mod params;
mod rate_limit;
mod receipt_issuer;
mod routes;
mod running_policy;
mod serve;
mod signer;
mod state;
mod sweeper;
mod token_cache;
mod waiters;
pub mod webhooks;
mod ws;

pub use config::{Config, LogFormat, ServeOptions};
pub use routes::openapi;
pub use serve::{ServeError, Server, run};
