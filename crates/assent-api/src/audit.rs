//! Body of `GET /v1/audit`.

use assent_domain::Event;
use serde::{Deserialize, Serialize};

/// Events in `seq` order, each with `prev_hash` and `hash`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditPage {
    pub items: Vec<Event>,
    /// Pass as `after` for the next page; null when this page reached the end.
    pub next_after: Option<i64>,
}
