//! The event log: appending a batch's events (the writer does, at commit),
//! reading them back in `seq` order, and recording an event that belongs
//! to no other change.

use assent_domain::timestamp::{from_unix_millis, unix_millis};
use assent_domain::{Event, EventType, NewEvent};
use async_trait::async_trait;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, AnyPool, Row};
use time::OffsetDateTime;
use uuid::Uuid;

use super::change::{Applied, Change, WriteCtx};
use super::statement::Statement;
use crate::StoreError;

/// The columns [`event_from_row`] reads, for `concat!` into static SQL.
macro_rules! event_columns {
    () => {
        "seq, type, at, actor, approval_id, data, prev_hash, hash"
    };
}
pub(crate) use event_columns;

/// Events written per INSERT statement (8 bound values each).
const EVENTS_PER_STATEMENT: usize = 500;

pub(crate) fn event_from_row(row: &AnyRow) -> Result<Event, StoreError> {
    let kind: String = row.try_get("type")?;
    let approval_id: Option<String> = row.try_get("approval_id")?;
    let data: String = row.try_get("data")?;
    Ok(Event {
        seq: row.try_get("seq")?,
        kind: EventType::parse(&kind)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown event type {kind}")))?,
        at: from_unix_millis(row.try_get("at")?),
        actor: row.try_get("actor")?,
        approval_id: approval_id
            .map(|id| Uuid::parse_str(&id))
            .transpose()
            .map_err(|e| StoreError::Corrupt(e.to_string()))?,
        data: serde_json::from_str(&data)?,
        prev_hash: row.try_get("prev_hash")?,
        hash: row.try_get("hash")?,
    })
}

/// Writes events with one multi-row INSERT per [`EVENTS_PER_STATEMENT`].
pub(crate) async fn insert(conn: &mut AnyConnection, events: &[Event]) -> Result<(), sqlx::Error> {
    for chunk in events.chunks(EVENTS_PER_STATEMENT) {
        let mut q = Statement::new(
            "INSERT INTO events (seq, type, at, actor, approval_id, data, prev_hash, hash) VALUES ",
        );
        for (i, e) in chunk.iter().enumerate() {
            q.push(if i == 0 { "(" } else { ", (" })
                .bind(e.seq)
                .push(", ")
                .bind(e.kind.as_str())
                .push(", ")
                .bind(unix_millis(e.at))
                .push(", ")
                .bind(e.actor.clone())
                .push(", ")
                .bind(e.approval_id.map(|id| id.to_string()))
                .push(", ")
                .bind(e.data.to_string())
                .push(", ")
                .bind(e.prev_hash.clone())
                .push(", ")
                .bind(e.hash.clone())
                .push(")");
        }
        q.query()?.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Events with `seq > after`, in order, at most `limit`.
pub(crate) async fn after(
    readers: &AnyPool,
    after: i64,
    limit: u32,
) -> Result<Vec<Event>, StoreError> {
    let rows = sqlx::query(concat!(
        "SELECT ",
        event_columns!(),
        " FROM events WHERE seq > $1 ORDER BY seq LIMIT $2"
    ))
    .bind(after)
    .bind(i64::from(limit))
    .fetch_all(readers)
    .await?;
    rows.iter().map(event_from_row).collect()
}

/// Every event about one approval, in `seq` order (its timeline).
pub(crate) async fn of_approval(readers: &AnyPool, id: Uuid) -> Result<Vec<Event>, StoreError> {
    let rows = sqlx::query(concat!(
        "SELECT ",
        event_columns!(),
        " FROM events WHERE approval_id = $1 ORDER BY seq"
    ))
    .bind(id.to_string())
    .fetch_all(readers)
    .await?;
    rows.iter().map(event_from_row).collect()
}

/// An event that records something outside any approval (a policy reload).
pub(crate) struct RecordEvent {
    pub event: NewEvent,
    pub now: OffsetDateTime,
}

#[async_trait]
impl Change for RecordEvent {
    type Output = ();

    async fn apply(self, ctx: &mut WriteCtx) -> Applied<()> {
        ctx.append(self.event, self.now);
        Ok(())
    }
}
