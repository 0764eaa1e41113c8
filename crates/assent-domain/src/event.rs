//! Events: the immutable, sequenced, hash-chained records of everything that
//! happened. They are both the audit log and the feed for real-time clients.
//!
//! `hash = SHA-256(prev_hash ‖ JCS(event without "hash"))`, hex-encoded, where
//! `prev_hash` is the previous event's hash as 64 ASCII hex characters and the
//! first event's `prev_hash` is 64 zeros.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::canonical::canonical_json;

/// `prev_hash` of the first event.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Every kind of event the gateway records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum EventType {
    #[serde(rename = "approval.requested")]
    ApprovalRequested,
    #[serde(rename = "approval.reviewed")]
    ApprovalReviewed,
    #[serde(rename = "approval.approved")]
    ApprovalApproved,
    #[serde(rename = "approval.rejected")]
    ApprovalRejected,
    #[serde(rename = "approval.expired")]
    ApprovalExpired,
    #[serde(rename = "approval.cancelled")]
    ApprovalCancelled,
    #[serde(rename = "approval.escalated")]
    ApprovalEscalated,
    #[serde(rename = "grant.created")]
    GrantCreated,
    #[serde(rename = "grant.revoked")]
    GrantRevoked,
    #[serde(rename = "policy.reloaded")]
    PolicyReloaded,
    #[serde(rename = "token.created")]
    TokenCreated,
    #[serde(rename = "token.revoked")]
    TokenRevoked,
}

impl EventType {
    pub const ALL: [EventType; 12] = [
        EventType::ApprovalRequested,
        EventType::ApprovalReviewed,
        EventType::ApprovalApproved,
        EventType::ApprovalRejected,
        EventType::ApprovalExpired,
        EventType::ApprovalCancelled,
        EventType::ApprovalEscalated,
        EventType::GrantCreated,
        EventType::GrantRevoked,
        EventType::PolicyReloaded,
        EventType::TokenCreated,
        EventType::TokenRevoked,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventType::ApprovalRequested => "approval.requested",
            EventType::ApprovalReviewed => "approval.reviewed",
            EventType::ApprovalApproved => "approval.approved",
            EventType::ApprovalRejected => "approval.rejected",
            EventType::ApprovalExpired => "approval.expired",
            EventType::ApprovalCancelled => "approval.cancelled",
            EventType::ApprovalEscalated => "approval.escalated",
            EventType::GrantCreated => "grant.created",
            EventType::GrantRevoked => "grant.revoked",
            EventType::PolicyReloaded => "policy.reloaded",
            EventType::TokenCreated => "token.created",
            EventType::TokenRevoked => "token.revoked",
        }
    }

    pub fn parse(s: &str) -> Option<EventType> {
        EventType::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// Whether this event ends an approval's lifecycle (and so wakes its waiters).
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            EventType::ApprovalApproved
                | EventType::ApprovalRejected
                | EventType::ApprovalExpired
                | EventType::ApprovalCancelled
        )
    }
}

/// An event about to be appended: everything but its place in the chain.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    pub kind: EventType,
    pub actor: String,
    pub approval_id: Option<Uuid>,
    pub data: Value,
}

/// One appended event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Event {
    pub seq: i64,
    #[serde(rename = "type")]
    pub kind: EventType,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub at: OffsetDateTime,
    pub actor: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval_id: Option<Uuid>,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub data: Value,
    pub prev_hash: String,
    pub hash: String,
}

/// The end of the chain: the last event's `seq` and `hash` (0 and 64 zeros when empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainHead {
    pub seq: i64,
    pub hash: String,
}

impl Default for ChainHead {
    fn default() -> Self {
        Self {
            seq: 0,
            hash: GENESIS_HASH.to_owned(),
        }
    }
}

impl ChainHead {
    /// Appends `new` at `at`, advancing the head.
    pub fn append(&mut self, new: NewEvent, at: OffsetDateTime) -> Event {
        let mut event = Event {
            seq: self.seq + 1,
            kind: new.kind,
            at,
            actor: new.actor,
            approval_id: new.approval_id,
            data: new.data,
            prev_hash: self.hash.clone(),
            hash: String::new(),
        };
        event.hash = event.computed_hash();
        self.seq = event.seq;
        self.hash = event.hash.clone();
        event
    }
}

impl Event {
    /// The hash this event should carry, from all its other fields.
    pub fn computed_hash(&self) -> String {
        let mut body = match serde_json::to_value(self) {
            Ok(Value::Object(map)) => map,
            _ => serde_json::Map::new(),
        };
        body.remove("hash");
        let mut hasher = Sha256::new();
        hasher.update(self.prev_hash.as_bytes());
        hasher.update(canonical_json(&body));
        hex::encode(hasher.finalize())
    }
}

/// Where a chain stops verifying.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("event {index} (seq {seq}): {reason}")]
pub struct ChainBreak {
    /// Position in the sequence checked, from 0.
    pub index: usize,
    pub seq: i64,
    pub reason: String,
}

/// Checks a run of consecutive events, starting after `head`: gapless seqs,
/// each `prev_hash` equal to the previous hash, each `hash` recomputing.
/// Returns the new head.
pub fn verify_chain<'a>(
    head: ChainHead,
    events: impl IntoIterator<Item = &'a Event>,
) -> Result<ChainHead, ChainBreak> {
    let mut head = head;
    for (index, event) in events.into_iter().enumerate() {
        let fail = |reason: String| ChainBreak {
            index,
            seq: event.seq,
            reason,
        };
        if event.seq != head.seq + 1 {
            return Err(fail(format!(
                "expected seq {}, found {}",
                head.seq + 1,
                event.seq
            )));
        }
        if event.prev_hash != head.hash {
            return Err(fail(
                "prev_hash does not match the previous event's hash".into(),
            ));
        }
        if event.computed_hash() != event.hash {
            return Err(fail("hash does not match the event's content".into()));
        }
        head = ChainHead {
            seq: event.seq,
            hash: event.hash.clone(),
        };
    }
    Ok(head)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::timestamp::from_unix_millis;
    use serde_json::json;

    fn chain(n: usize) -> Vec<Event> {
        let mut head = ChainHead::default();
        (0..n)
            .map(|i| {
                head.append(
                    NewEvent {
                        kind: EventType::ApprovalRequested,
                        actor: format!("bot-{i}"),
                        approval_id: Some(Uuid::now_v7()),
                        data: json!({"i": i, "nested": {"b": 1, "a": [1, 2]}}),
                    },
                    from_unix_millis(1_795_000_000_000 + i as i64 * 1_001),
                )
            })
            .collect()
    }

    #[test]
    fn first_event_links_to_sixty_four_zeros() {
        let events = chain(1);
        assert_eq!(events[0].seq, 1);
        assert_eq!(events[0].prev_hash, GENESIS_HASH);
        assert_eq!(GENESIS_HASH.len(), 64);
    }

    #[test]
    fn hash_is_sha256_of_prev_hash_and_canonical_event() {
        let e = &chain(1)[0];
        let mut body = serde_json::to_value(e).unwrap();
        body.as_object_mut().unwrap().remove("hash");
        let mut bytes = GENESIS_HASH.as_bytes().to_vec();
        bytes.extend(canonical_json(&body));
        assert_eq!(e.hash, crate::canonical::sha256_hex(&bytes));
    }

    #[test]
    fn an_intact_chain_verifies_and_survives_a_json_round_trip() {
        let events = chain(20);
        let reparsed: Vec<Event> = events
            .iter()
            .map(|e| serde_json::from_str(&serde_json::to_string(e).unwrap()).unwrap())
            .collect();
        let head = verify_chain(ChainHead::default(), &reparsed).unwrap();
        assert_eq!(head.seq, 20);
        assert_eq!(head.hash, events[19].hash);
    }

    #[test]
    fn editing_removing_or_reordering_is_detected_at_the_right_event() {
        let events = chain(10);

        let mut edited = events.clone();
        edited[4].data = json!({"i": 999});
        assert_eq!(
            verify_chain(ChainHead::default(), &edited)
                .unwrap_err()
                .index,
            4
        );

        let mut removed = events.clone();
        removed.remove(6);
        assert_eq!(
            verify_chain(ChainHead::default(), &removed)
                .unwrap_err()
                .index,
            6
        );

        let mut swapped = events.clone();
        swapped.swap(2, 3);
        assert_eq!(
            verify_chain(ChainHead::default(), &swapped)
                .unwrap_err()
                .index,
            2
        );

        let mut rehashed = events.clone();
        rehashed[5].actor = "mallory".into();
        rehashed[5].hash = rehashed[5].computed_hash();
        let err = verify_chain(ChainHead::default(), &rehashed).unwrap_err();
        assert_eq!(
            (err.index, err.reason.contains("prev_hash")),
            (6, true),
            "re-hashing one event breaks the next link"
        );
    }

    #[test]
    fn event_type_names_round_trip_through_serde_and_parse() {
        for t in EventType::ALL {
            assert_eq!(serde_json::to_value(t).unwrap(), json!(t.as_str()));
            assert_eq!(EventType::parse(t.as_str()), Some(t));
        }
        let terminal: Vec<_> = EventType::ALL
            .into_iter()
            .filter(|t| t.is_terminal())
            .collect();
        assert_eq!(terminal.len(), 4);
    }
}
