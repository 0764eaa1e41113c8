//! Body of `GET /v1/stats`.

use assent_domain::Status;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// Statistics of the approvals created in `[since, until]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Stats {
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub since: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub until: OffsetDateTime,
    /// Pending now, whenever created.
    pub pending: u64,
    #[serde(flatten)]
    pub counts: Counts,
    /// `approved / (approved + rejected)`; null when nothing was decided.
    pub approval_rate: Option<f64>,
    pub time_to_decision: TimeToDecision,
    pub by_action: Vec<ActionStats>,
    pub by_reviewer: Vec<ReviewerStats>,
    /// Outcomes per UTC day of the window, oldest first, every day listed:
    /// the window's approvals counted on the day they were decided,
    /// expired or cancelled.
    pub by_day: Vec<DayStats>,
    /// More approvals were created in the window than the stats read (the
    /// newest ones were used).
    pub truncated: bool,
}

/// How the approvals created in the window stand.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Counts {
    pub created: u64,
    /// Still pending.
    pub open: u64,
    /// Approved or rejected.
    pub decided: u64,
    pub approved: u64,
    pub rejected: u64,
    pub expired: u64,
    pub cancelled: u64,
}

impl Counts {
    /// Counts one more approval, now in `status`.
    pub fn add(&mut self, status: Status) {
        self.created += 1;
        match status {
            Status::Pending => self.open += 1,
            Status::Approved => self.approved += 1,
            Status::Rejected => self.rejected += 1,
            Status::Expired => self.expired += 1,
            Status::Cancelled => self.cancelled += 1,
        }
        self.decided = self.approved + self.rejected;
    }
}

/// From creation to decision, over approvals decided by reviewers (those a
/// policy rule or grant decided at once are left out). Nearest-rank percentiles.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TimeToDecision {
    pub count: u64,
    pub p50_seconds: Option<f64>,
    pub p90_seconds: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ActionStats {
    pub action: String,
    #[serde(flatten)]
    pub counts: Counts,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReviewerStats {
    pub principal: String,
    pub approve: u64,
    pub reject: u64,
}

/// The outcomes that happened on one UTC day.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DayStats {
    /// `YYYY-MM-DD` (UTC).
    pub day: String,
    pub approved: u64,
    pub rejected: u64,
    pub expired: u64,
    pub cancelled: u64,
}
