//! Bodies of `/v1/approvals` besides the approval itself.

use assent_domain::Approval;
use serde::{Deserialize, Serialize};

/// A page of approvals, newest first (`GET /v1/approvals`, `approvals.list`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApprovalList {
    pub items: Vec<Approval>,
    /// Pass as `cursor` for the next page; null on the last.
    pub next_cursor: Option<String>,
}

/// Body of `POST /v1/approvals/{id}/cancel`; it may be left out.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CancelRequest {
    /// At most 2,000 characters, no control characters but newline and tab.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        schema(
            pattern = r"^[^\u0000-\u0008\u000B-\u001F\u007F-\u009F]*$",
            max_length = 2000
        )
    )]
    pub reason: Option<String>,
}
