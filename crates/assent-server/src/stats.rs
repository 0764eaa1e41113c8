//! Approval statistics over a window (`GET /v1/stats`), computed from the
//! store's [`StatsSample`]: counts, approval rate, time-to-decision
//! percentiles, and the same per action and per reviewer.

use std::collections::BTreeMap;

use assent_domain::{Approval, Status, Verdict};
use assent_store::StatsSample;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// Statistics of the approvals created in `[since, until]`.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Stats {
    #[serde(with = "time::serde::rfc3339")]
    pub since: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
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
#[derive(Debug, Default, Serialize, Deserialize, utoipa::ToSchema)]
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

/// From creation to decision, over approvals decided by reviewers (those a
/// policy rule or grant decided at once are left out). Nearest-rank percentiles.
#[derive(Debug, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TimeToDecision {
    pub count: u64,
    pub p50_seconds: Option<f64>,
    pub p90_seconds: Option<f64>,
}

#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ActionStats {
    pub action: String,
    #[serde(flatten)]
    pub counts: Counts,
}

#[derive(Debug, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ReviewerStats {
    pub principal: String,
    pub approve: u64,
    pub reject: u64,
}

/// The outcomes that happened on one UTC day.
#[derive(Debug, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DayStats {
    /// `YYYY-MM-DD` (UTC).
    pub day: String,
    pub approved: u64,
    pub rejected: u64,
    pub expired: u64,
    pub cancelled: u64,
}

impl Counts {
    fn add(&mut self, status: Status) {
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

pub fn summarize(sample: StatsSample, since: OffsetDateTime, until: OffsetDateTime) -> Stats {
    let mut counts = Counts::default();
    let mut actions: BTreeMap<String, Counts> = BTreeMap::new();
    let mut reviewers: BTreeMap<String, ReviewerStats> = BTreeMap::new();
    let mut durations = Vec::new();
    let mut days = Days::new(since, until);
    for approval in &sample.approvals {
        days.add(approval);
        counts.add(approval.status);
        actions
            .entry(approval.action.clone())
            .or_default()
            .add(approval.status);
        for review in &approval.reviews {
            let entry = reviewers.entry(review.principal.clone()).or_default();
            match review.decision {
                Verdict::Approve => entry.approve += 1,
                Verdict::Reject => entry.reject += 1,
            }
        }
        if let Some(seconds) = reviewed_decision_seconds(approval) {
            durations.push(seconds);
        }
    }
    durations.sort_by(f64::total_cmp);
    let mut by_action: Vec<ActionStats> = actions
        .into_iter()
        .map(|(action, counts)| ActionStats { action, counts })
        .collect();
    by_action.sort_by_key(|a| std::cmp::Reverse(a.counts.created));
    Stats {
        since,
        until,
        pending: sample.pending,
        approval_rate: (counts.decided > 0).then(|| counts.approved as f64 / counts.decided as f64),
        counts,
        time_to_decision: TimeToDecision {
            count: durations.len() as u64,
            p50_seconds: percentile(&durations, 50),
            p90_seconds: percentile(&durations, 90),
        },
        by_action,
        by_reviewer: reviewers
            .into_iter()
            .map(|(principal, r)| ReviewerStats { principal, ..r })
            .collect(),
        by_day: days.0,
        truncated: sample.truncated,
    }
}

/// One entry per UTC day from `since` to `until`.
struct Days(Vec<DayStats>);

impl Days {
    fn new(since: OffsetDateTime, until: OffsetDateTime) -> Days {
        let (first, last) = (since.date(), until.date());
        let mut days = Vec::new();
        let mut day = first;
        while day <= last {
            days.push(DayStats {
                day: day.to_string(),
                ..DayStats::default()
            });
            match day.next_day() {
                Some(next) => day = next,
                None => break,
            }
        }
        Days(days)
    }

    fn add(&mut self, approval: &Approval) {
        let Some(at) = approval.decided_at else {
            return;
        };
        let key = at.to_offset(time::UtcOffset::UTC).date().to_string();
        let Some(day) = self.0.iter_mut().find(|d| d.day == key) else {
            return;
        };
        match approval.status {
            Status::Approved => day.approved += 1,
            Status::Rejected => day.rejected += 1,
            Status::Expired => day.expired += 1,
            Status::Cancelled => day.cancelled += 1,
            Status::Pending => {}
        }
    }
}

/// Seconds from creation to an approval or rejection that reviewers made.
fn reviewed_decision_seconds(approval: &Approval) -> Option<f64> {
    let decided_by_people = matches!(approval.status, Status::Approved | Status::Rejected)
        && !approval.reviews.is_empty();
    let decided_at = approval.decided_at.filter(|_| decided_by_people)?;
    Some((decided_at - approval.created_at).as_seconds_f64().max(0.0))
}

/// Nearest-rank percentile of sorted values.
fn percentile(sorted: &[f64], p: usize) -> Option<f64> {
    let rank = (p * sorted.len()).div_ceil(100).max(1);
    sorted.get(rank - 1).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_day_of_the_window_is_listed_in_order() {
        let since = time::macros::datetime!(2026-11-20 10:00 UTC);
        let until = time::macros::datetime!(2026-11-22 09:00 UTC);
        let days: Vec<String> = Days::new(since, until)
            .0
            .into_iter()
            .map(|d| d.day)
            .collect();
        assert_eq!(days, ["2026-11-20", "2026-11-21", "2026-11-22"]);
    }

    #[test]
    fn nearest_rank_percentiles() {
        let values: Vec<f64> = (1..=10).map(f64::from).collect();
        assert_eq!(percentile(&values, 50), Some(5.0));
        assert_eq!(percentile(&values, 90), Some(9.0));
        assert_eq!(percentile(&[7.0], 90), Some(7.0));
        assert_eq!(percentile(&[], 50), None);
    }
}
