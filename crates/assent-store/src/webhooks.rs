//! The webhook outbox as the store sees it: which webhooks want which
//! events, and the delivery rows the server's workers claim and settle.
//!
//! The store never sends anything; it only guarantees that every committed
//! event has its delivery rows (written in the same transaction) and that a
//! claimed row is handed to one worker at a time until its lease runs out.

use assent_domain::{Event, EventType};
use time::OffsetDateTime;

/// A configured webhook as far as the outbox cares: a stable id and the
/// events it wants. The URL and secret stay with the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookTarget {
    /// Stays the same across restarts for the same webhook, so pending
    /// deliveries find it again.
    pub id: String,
    /// `None`: every event type.
    pub events: Option<Vec<EventType>>,
}

impl WebhookTarget {
    pub fn wants(&self, kind: EventType) -> bool {
        self.events
            .as_ref()
            .is_none_or(|events| events.contains(&kind))
    }
}

/// A delivery a worker has claimed: send `event` to webhook `webhook_id`.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub id: i64,
    pub webhook_id: String,
    /// Attempts settled before this one.
    pub attempts: i64,
    pub event: Event,
}

/// How one attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryOutcome {
    /// The receiver answered 2xx.
    Delivered,
    /// Not delivered; try again at `at`.
    Retry { at: OffsetDateTime, error: String },
    /// Not delivered and never will be: this attempt failed and retries are exhausted.
    Failed { error: String },
    /// Failed without an attempt: the webhook is no longer configured.
    Abandoned { error: String },
    /// The attempt was abandoned before it ended (shutdown): the claim is
    /// dropped and the attempt does not count.
    Released,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryStatus {
    Pending,
    Delivered,
    Failed,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<DeliveryStatus> {
        [
            DeliveryStatus::Pending,
            DeliveryStatus::Delivered,
            DeliveryStatus::Failed,
        ]
        .into_iter()
        .find(|status| status.as_str() == s)
    }
}

/// One outbox row, for operators and tests.
#[derive(Debug, Clone)]
pub struct DeliveryRecord {
    pub id: i64,
    pub webhook_id: String,
    pub event_seq: i64,
    pub status: DeliveryStatus,
    pub attempts: i64,
    pub next_attempt_at: OffsetDateTime,
    pub last_error: Option<String>,
    pub finished_at: Option<OffsetDateTime>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_target_without_a_filter_wants_everything() {
        let all = WebhookTarget {
            id: "a".into(),
            events: None,
        };
        let some = WebhookTarget {
            id: "b".into(),
            events: Some(vec![EventType::ApprovalApproved]),
        };
        assert!(EventType::ALL.iter().all(|&k| all.wants(k)));
        assert!(some.wants(EventType::ApprovalApproved));
        assert!(!some.wants(EventType::ApprovalRequested));
    }
}
