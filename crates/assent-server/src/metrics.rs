//! Prometheus metrics (the series are listed in docs/api.md), recorded through the `metrics` facade.
//!
//! The recorder is process-wide and installed once, by the first
//! [`crate::Server`] to start: every gateway in the process (tests start
//! many) reports into it. Counts of created and decided approvals come from
//! the store's commit notices ([`crate::commits`]), so no route records them.

use std::collections::HashSet;
use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use assent_domain::{Approval, EventType};
use assent_store::Committed;
use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use metrics::{counter, gauge, histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// Distinct `action` label values kept; later actions are counted as `other`.
/// Actions are chosen by clients, so their number must not grow the series
/// without bound.
pub const MAX_ACTION_LABELS: usize = 100;

pub const CREATED: &str = "assent_approvals_created_total";
pub const DECIDED: &str = "assent_approvals_decided_total";
pub const PENDING: &str = "assent_approvals_pending";
pub const WAITERS: &str = "assent_waiters";
pub const TIME_TO_DECISION: &str = "assent_time_to_decision_seconds";
pub const WAKEUP: &str = "assent_decision_wakeup_seconds";
pub const POLICY_EVALUATION: &str = "assent_policy_evaluation_seconds";
pub const HTTP_REQUESTS: &str = "assent_http_requests_total";

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the process-wide recorder if no gateway has yet, and returns the
/// handle that renders it. If the embedding program installed a recorder of
/// its own, ours stays empty and `/metrics` shows nothing.
pub fn install() -> &'static PrometheusHandle {
    HANDLE.get_or_init(|| {
        let recorder = buckets(PrometheusBuilder::new()).build_recorder();
        let handle = recorder.handle();
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!("a metrics recorder was already installed; /metrics stays empty");
        }
        describe();
        handle
    })
}

fn buckets(builder: PrometheusBuilder) -> PrometheusBuilder {
    let fast = [
        0.000_01, 0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05,
        0.1, 0.25, 0.5, 1.0,
    ];
    let human = [
        1.0,
        5.0,
        15.0,
        30.0,
        60.0,
        300.0,
        900.0,
        1800.0,
        3600.0,
        4.0 * 3600.0,
        24.0 * 3600.0,
        7.0 * 24.0 * 3600.0,
    ];
    [
        (WAKEUP, &fast[..]),
        (POLICY_EVALUATION, &fast[..]),
        (TIME_TO_DECISION, &human[..]),
    ]
    .into_iter()
    .fold(builder, |b, (name, buckets)| {
        b.set_buckets_for_metric(Matcher::Full(name.into()), buckets)
            .unwrap_or_else(|_| unreachable!("bucket lists are constant and non-empty"))
    })
}

fn describe() {
    use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
    describe_counter!(CREATED, "Approvals created, by action.");
    describe_counter!(
        DECIDED,
        "Approvals that reached a terminal status, by action and outcome."
    );
    describe_gauge!(
        PENDING,
        "Approvals pending now (read from the store at each scrape)."
    );
    describe_gauge!(
        WAITERS,
        "Long-polls and WebSocket calls waiting for a decision now, on this instance (at each scrape)."
    );
    describe_histogram!(
        TIME_TO_DECISION,
        Unit::Seconds,
        "From creation to the terminal status."
    );
    describe_histogram!(
        WAKEUP,
        Unit::Seconds,
        "From a decision's commit notice to its long-poll or WebSocket waiters resuming."
    );
    describe_histogram!(POLICY_EVALUATION, Unit::Seconds, "One policy evaluation.");
    describe_counter!(
        HTTP_REQUESTS,
        "HTTP requests by method, route template and status."
    );
}

/// Text exposition of every series.
pub fn render() -> String {
    install().render()
}

/// Counts what one commit created and decided.
pub fn committed(committed: &Committed) {
    for event in &committed.events {
        if event.kind == EventType::ApprovalRequested {
            let action = event.data["approval"]["action"].as_str().unwrap_or("");
            counter!(CREATED, "action" => action_label(action)).increment(1);
        }
    }
    committed.decided.iter().for_each(decided);
}

fn decided(approval: &Approval) {
    let outcome = approval.status.as_str();
    counter!(DECIDED, "action" => action_label(&approval.action), "outcome" => outcome)
        .increment(1);
    if let Some(at) = approval.decided_at {
        let took = (at - approval.created_at).as_seconds_f64().max(0.0);
        histogram!(TIME_TO_DECISION, "outcome" => outcome).record(took);
    }
}

pub fn pending(count: u64) {
    gauge!(PENDING).set(count as f64);
}

pub fn waiters(count: usize) {
    gauge!(WAITERS).set(count as f64);
}

pub fn waiter_woken(since_commit: Instant) {
    histogram!(WAKEUP).record(since_commit.elapsed().as_secs_f64());
}

pub fn policy_evaluated(took: Duration) {
    histogram!(POLICY_EVALUATION).record(took.as_secs_f64());
}

/// The action as a label value: itself while fewer than
/// [`MAX_ACTION_LABELS`] actions have been seen, else `other`.
fn action_label(action: &str) -> String {
    static SEEN: OnceLock<Mutex<HashSet<String>>> = OnceLock::new();
    let mut seen = SEEN
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    if seen.contains(action) {
        return action.to_owned();
    }
    if seen.len() < MAX_ACTION_LABELS {
        seen.insert(action.to_owned());
        return action.to_owned();
    }
    "other".to_owned()
}

/// Middleware counting requests by the matched route template (never the
/// raw path, which holds ids), method and status.
pub async fn track_http(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method: &'static str = match request.method().as_str() {
        "GET" => "GET",
        "POST" => "POST",
        "PUT" => "PUT",
        "PATCH" => "PATCH",
        "DELETE" => "DELETE",
        "HEAD" => "HEAD",
        "OPTIONS" => "OPTIONS",
        _ => "other",
    };
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    counter!(HTTP_REQUESTS, "route" => route, "method" => method, "status" => status).increment(1);
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_action_label_is_capped() {
        let labels: Vec<String> = (0..MAX_ACTION_LABELS + 5)
            .map(|i| action_label(&format!("cap-test-{i}")))
            .collect();
        assert!(labels.iter().filter(|l| *l == "other").count() >= 5);
        // An action seen before the cap keeps its name.
        assert_eq!(action_label("cap-test-0"), "cap-test-0");
    }
}
