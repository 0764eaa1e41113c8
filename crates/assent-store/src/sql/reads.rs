//! Reads shared by the store's API and its feed.

use assent_domain::{Approval, Event};
use sqlx::AnyPool;
use uuid::Uuid;

use super::rows::{approval_from_doc, event_columns, event_from_row};
use crate::StoreError;

pub(crate) async fn approval(readers: &AnyPool, id: Uuid) -> Result<Option<Approval>, StoreError> {
    let doc: Option<String> = sqlx::query_scalar("SELECT doc FROM approvals WHERE id = $1")
        .bind(id.to_string())
        .fetch_optional(readers)
        .await?;
    doc.as_deref().map(approval_from_doc).transpose()
}

pub(crate) async fn events_after(
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

pub(crate) async fn approval_events(readers: &AnyPool, id: Uuid) -> Result<Vec<Event>, StoreError> {
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
