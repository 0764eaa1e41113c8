//! Bodies of `GET /v1/audit` and of an approval's timeline.

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

/// Body of `GET /v1/approvals/{id}/events`: the events of one approval.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Timeline {
    /// In `seq` order, each as `GET /v1/audit` shows it.
    pub items: Vec<Event>,
}
