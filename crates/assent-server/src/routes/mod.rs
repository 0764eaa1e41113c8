//! One module per resource; each exports its `router()`.

pub mod approvals;
pub mod audit;
pub mod console;
pub mod events;
pub mod grants;
pub mod health;
pub mod keys;
pub mod metrics;
pub mod policy;
pub mod query;
pub mod receipts;
pub mod session;
pub mod stats;
pub mod timeline;
pub mod tokens;
pub mod ws;

use crate::error::ApiError;

pub async fn not_found() -> ApiError {
    ApiError::NotFound("route")
}
