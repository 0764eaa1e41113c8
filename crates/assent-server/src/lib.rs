//! Assent's HTTP gateway.

pub mod serve;

pub use serve::{ServeError, ServeOptions, run};
