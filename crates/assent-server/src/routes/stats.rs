//! `GET /v1/stats`: approval statistics for approvers and admins, computed
//! from the store's sample of the window: counts, approval rate,
//! time-to-decision percentiles, and the same per action and per reviewer.

use std::time::Duration;

use std::collections::BTreeMap;

use assent_api::{ActionStats, Counts, DayStats, ReviewerStats, Stats, TimeToDecision};
use assent_domain::{Approval, Role, Status, Verdict};
use assent_store::StatsSample;
use axum::Json;
use axum::extract::{RawQuery, State};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Caller;
use crate::clock::now;
use crate::error::{ApiError, ApiResult, Problem};
use crate::params::QueryParams;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(stats))
}

/// The window when `since` is not given.
const DEFAULT_WINDOW: Duration = Duration::from_secs(24 * 3600);
/// The longest window; an earlier `since` is clamped to it.
pub const MAX_WINDOW: Duration = Duration::from_secs(30 * 24 * 3600);
/// Most approvals read for one answer (the newest in the window).
pub const MAX_SAMPLE: u32 = 10_000;

/// Statistics of the approvals created since `since` (default: the last
/// 24 h; at most 30 days back, earlier is clamped): counts by outcome,
/// approval rate, time-to-decision p50/p90, by action and by reviewer. At
/// most the newest 10,000 approvals of the window are counted
/// (`truncated` says when there were more).
#[utoipa::path(get, path = "/v1/stats", tag = "stats",
    params(("since" = Option<String>, Query,
        description = "RFC 3339 instant, or a duration back from now (e.g. 1h, 7d); default 24h, max 30d")),
    responses((status = 200, body = Stats), (status = 400, body = Problem), (status = 403, body = Problem)))]
async fn stats(
    State(state): State<AppState>,
    caller: Caller,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<Stats>> {
    caller.require(Role::Approver)?;
    let until = now();
    let earliest = until - MAX_WINDOW;
    let since = match QueryParams::parse(raw.as_deref(), &["since"])?.one("since")? {
        None => until - DEFAULT_WINDOW,
        Some(raw) => parse_since(raw, until)?,
    }
    .max(earliest);
    let sample = state.store.stats_sample(since, MAX_SAMPLE).await?;
    Ok(Json(summarize(sample, since, until)))
}

fn parse_since(raw: &str, now: OffsetDateTime) -> ApiResult<OffsetDateTime> {
    if let Ok(at) = OffsetDateTime::parse(raw, &Rfc3339) {
        return Ok(at);
    }
    crate::params::duration(raw)
        .map(|back| {
            time::Duration::try_from(back.min(MAX_WINDOW))
                .map_or(now - MAX_WINDOW, |back| now - back)
        })
        .ok_or_else(|| {
            ApiError::BadRequest(format!(
                "since: {raw:?} is neither an RFC 3339 time nor a duration like 24h"
            ))
        })
}

fn summarize(sample: StatsSample, since: OffsetDateTime, until: OffsetDateTime) -> Stats {
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
        let mut days = Vec::new();
        let mut day = since.date();
        while day <= until.date() {
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
