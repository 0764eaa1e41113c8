//! The audit export (docs/audit.md): NDJSON, one event a line, then one trailer
//! line whose Ed25519 signature covers the chain's head hash. This module
//! defines the trailer and checks an export line by line in constant memory;
//! checking the signature itself is left to the caller's crypto backend.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::Event;
use crate::event::{ChainHead, verify_chain};

/// What the last line of an export says about the lines before it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ExportTrailer {
    /// Event lines in the export.
    pub count: u64,
    /// `seq` of the first and last event; null when the export is empty.
    pub first_seq: Option<i64>,
    pub last_seq: Option<i64>,
    /// `hash` of the last event (for an empty export, the hash the chain
    /// stood at); the signature covers its 64 ASCII hex characters.
    pub head_hash: String,
    /// The signing key, as published at `/.well-known/jwks.json`.
    pub kid: String,
    /// Ed25519 over [`ExportTrailer::signed_bytes`], base64url without padding.
    pub signature: String,
}

impl ExportTrailer {
    /// The exact bytes signed: the head hash as 64 lower-case ASCII hex characters.
    pub fn signed_bytes(head_hash: &str) -> &[u8] {
        head_hash.as_bytes()
    }
}

/// The trailer as it appears on its line: `{"trailer": {...}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrailerLine {
    pub trailer: ExportTrailer,
}

/// Where an export stops verifying: 1-based line number and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {reason}")]
pub struct BadLine {
    pub line: u64,
    pub reason: String,
}

/// An export whose every line checked out (except, still, the signature).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedExport {
    pub trailer: ExportTrailer,
    /// The trailer's line number.
    pub trailer_line: u64,
    /// Whether the first event is the very first of the log (its
    /// `prev_hash` is 64 zeros) rather than a suffix from `?after=`.
    pub from_genesis: bool,
}

/// Checks an export fed one line at a time.
#[derive(Debug, Default)]
pub struct ExportVerifier {
    /// `first_seq` from the trailer, read ahead, so a missing first line is
    /// named at line 1 rather than at the trailer.
    expected_first_seq: Option<i64>,
    line: u64,
    head: Option<ChainHead>,
    from_genesis: bool,
    count: u64,
    first_seq: Option<i64>,
    trailer: Option<(u64, ExportTrailer)>,
}

impl ExportVerifier {
    /// `announced` is the trailer when the caller could read it ahead (the
    /// last line of a file); it is checked again when its line comes.
    pub fn new(announced: Option<&ExportTrailer>) -> ExportVerifier {
        ExportVerifier {
            expected_first_seq: announced.and_then(|t| t.first_seq),
            ..ExportVerifier::default()
        }
    }

    /// Checks the next line (without its line ending).
    pub fn line(&mut self, bytes: &[u8]) -> Result<(), BadLine> {
        self.line += 1;
        let line = self.line;
        let bad = move |reason: String| BadLine { line, reason };
        if self.trailer.is_some() {
            return Err(bad("a line after the trailer".into()));
        }
        let value: Value =
            serde_json::from_slice(bytes).map_err(|e| bad(format!("not JSON: {e}")))?;
        if value.get("trailer").is_some() {
            let line: TrailerLine = serde_json::from_value(value)
                .map_err(|e| bad(format!("malformed trailer: {e}")))?;
            self.check_trailer(&line.trailer).map_err(bad)?;
            self.trailer = Some((self.line, line.trailer));
            return Ok(());
        }
        let event: Event =
            serde_json::from_value(value).map_err(|e| bad(format!("not an event: {e}")))?;
        let head = match self.head.take() {
            Some(head) => head,
            None => self.start(&event).map_err(bad)?,
        };
        let head = verify_chain(head, std::iter::once(&event)).map_err(|e| bad(e.reason))?;
        self.head = Some(head);
        self.count += 1;
        Ok(())
    }

    /// Ends the export: it must have had its trailer.
    pub fn finish(self) -> Result<CheckedExport, BadLine> {
        let (trailer_line, trailer) = self.trailer.ok_or(BadLine {
            line: self.line + 1,
            reason: "the trailer is missing (the export is truncated)".into(),
        })?;
        Ok(CheckedExport {
            trailer,
            trailer_line,
            from_genesis: self.from_genesis,
        })
    }

    /// The chain head before the first event: genesis for seq 1, else what
    /// the event links to (an export from `?after=`).
    fn start(&mut self, first: &Event) -> Result<ChainHead, String> {
        if let Some(expected) = self.expected_first_seq
            && first.seq != expected
        {
            return Err(format!(
                "expected seq {expected} (the trailer's first_seq), found {}",
                first.seq
            ));
        }
        self.first_seq = Some(first.seq);
        self.from_genesis = first.seq == 1;
        Ok(if first.seq == 1 {
            ChainHead::default()
        } else {
            ChainHead {
                seq: first.seq - 1,
                hash: first.prev_hash.clone(),
            }
        })
    }

    fn check_trailer(&self, t: &ExportTrailer) -> Result<(), String> {
        if t.count != self.count {
            return Err(format!(
                "trailer count is {} but {} events precede it",
                t.count, self.count
            ));
        }
        let last_seq = self.head.as_ref().map(|h| h.seq);
        if (t.first_seq, t.last_seq) != (self.first_seq, last_seq) {
            return Err(format!(
                "trailer says seq {:?}..{:?} but the events are {:?}..{:?}",
                t.first_seq, t.last_seq, self.first_seq, last_seq
            ));
        }
        if let Some(head) = &self.head
            && head.hash != t.head_hash
        {
            return Err("trailer head_hash is not the last event's hash".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::GENESIS_HASH;
    use crate::testing::t;
    use crate::{EventType, NewEvent};
    use serde_json::json;

    fn events(n: usize) -> Vec<Event> {
        let mut head = ChainHead::default();
        (0..n)
            .map(|i| {
                head.append(
                    NewEvent {
                        kind: EventType::PolicyReloaded,
                        actor: "admin".into(),
                        approval_id: None,
                        data: json!({"i": i}),
                    },
                    t(i as i64),
                )
            })
            .collect()
    }

    /// The lines of an export of `events` (unsigned: the signature is not checked here).
    fn export(events: &[Event]) -> Vec<String> {
        let mut lines: Vec<String> = events
            .iter()
            .map(|e| serde_json::to_string(e).unwrap())
            .collect();
        let trailer = TrailerLine {
            trailer: ExportTrailer {
                count: events.len() as u64,
                first_seq: events.first().map(|e| e.seq),
                last_seq: events.last().map(|e| e.seq),
                head_hash: events
                    .last()
                    .map_or(GENESIS_HASH.to_owned(), |e| e.hash.clone()),
                kid: "k".into(),
                signature: "sig".into(),
            },
        };
        lines.push(serde_json::to_string(&trailer).unwrap());
        lines
    }

    fn check(lines: &[String]) -> Result<CheckedExport, BadLine> {
        let announced = lines
            .last()
            .and_then(|l| serde_json::from_str::<TrailerLine>(l).ok())
            .map(|l| l.trailer);
        let mut verifier = ExportVerifier::new(announced.as_ref());
        for line in lines {
            verifier.line(line.as_bytes())?;
        }
        verifier.finish()
    }

    fn bad_line(lines: &[String]) -> u64 {
        check(lines).unwrap_err().line
    }

    #[test]
    fn an_intact_export_and_a_suffix_verify() {
        let all = events(5);
        let checked = check(&export(&all)).unwrap();
        assert_eq!((checked.trailer.count, checked.trailer_line), (5, 6));
        assert!(checked.from_genesis);
        let suffix = check(&export(&all[2..])).unwrap();
        assert!(!suffix.from_genesis);
        assert!(check(&export(&[])).is_ok());
    }

    #[test]
    fn every_tampering_is_named_at_its_line() {
        let lines = export(&events(6));

        let mut flipped = lines.clone();
        flipped[2] = flipped[2].replacen("\"i\":2", "\"i\":3", 1);
        assert_eq!(bad_line(&flipped), 3);

        let mut deleted = lines.clone();
        deleted.remove(3);
        assert_eq!(bad_line(&deleted), 4);

        let mut first_deleted = lines.clone();
        first_deleted.remove(0);
        assert_eq!(bad_line(&first_deleted), 1);

        let mut swapped = lines.clone();
        swapped.swap(1, 2);
        assert_eq!(bad_line(&swapped), 2);

        let mut last_deleted = lines.clone();
        last_deleted.remove(5);
        assert_eq!(bad_line(&last_deleted), 6, "the trailer no longer matches");

        let mut recounted = lines.clone();
        recounted[6] = recounted[6].replace("\"count\":6", "\"count\":7");
        assert_eq!(bad_line(&recounted), 7);

        let mut truncated = lines.clone();
        truncated.pop();
        let err = check(&truncated).unwrap_err();
        assert_eq!(err.line, 7);
        assert!(err.reason.contains("trailer is missing"), "{err}");

        let mut appended = lines.clone();
        appended.push(lines[0].clone());
        assert_eq!(bad_line(&appended), 8);
    }
}
