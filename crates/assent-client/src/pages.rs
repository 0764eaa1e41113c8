//! One page of a listing, with what to send to get the next one.

use assent_domain::{Approval, Event};
use serde::{Deserialize, Serialize};

/// A page of `GET /v1/approvals`, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Page {
    pub items: Vec<Approval>,
    /// Pass as [`ListQuery::cursor`](crate::ListQuery::cursor) for the next page; `None` on the last.
    pub next_cursor: Option<String>,
}

/// A page of `GET /v1/audit`, in `seq` order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditPage {
    pub items: Vec<Event>,
    /// Pass as `after` for the next page; `None` when the log has no more events.
    pub next_after: Option<i64>,
}
