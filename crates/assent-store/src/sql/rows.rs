//! Turning rows into domain values and back.

use assent_domain::timestamp::{from_unix_millis, unix_millis};
use assent_domain::{Approval, Event, EventType, Grant, GrantEffect, Role};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use uuid::Uuid;

use super::statement::Statement;
use crate::{StoreError, TokenRecord};

/// The columns `event_from_row` reads, for `concat!` into static SQL.
macro_rules! event_columns {
    () => {
        "seq, type, at, actor, approval_id, data, prev_hash, hash"
    };
}
/// The columns `token_from_row` reads, for `concat!` into static SQL.
macro_rules! token_columns {
    () => {
        "name, token_sha256, role, groups, created_at, created_by"
    };
}
/// The columns `grant_from_row` reads, for `concat!` into static SQL.
macro_rules! grant_columns {
    () => {
        "id, effect, action, args_sha256, session_id, expires_at, approval_id, created_by, created_at"
    };
}
pub(crate) use {event_columns, grant_columns, token_columns};

pub(crate) fn approval_from_doc(doc: &str) -> Result<Approval, StoreError> {
    Ok(serde_json::from_str(doc)?)
}

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

/// Writes events with one multi-row INSERT.
pub(crate) async fn insert_events(
    conn: &mut AnyConnection,
    events: &[Event],
) -> Result<(), sqlx::Error> {
    if events.is_empty() {
        return Ok(());
    }
    let mut q = Statement::new(
        "INSERT INTO events (seq, type, at, actor, approval_id, data, prev_hash, hash) VALUES ",
    );
    for (i, e) in events.iter().enumerate() {
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
    q.query()?.execute(conn).await?;
    Ok(())
}

pub(crate) fn token_from_row(row: &AnyRow) -> Result<TokenRecord, StoreError> {
    let role: String = row.try_get("role")?;
    let groups: String = row.try_get("groups")?;
    Ok(TokenRecord {
        name: row.try_get("name")?,
        token_sha256: row.try_get("token_sha256")?,
        role: Role::parse(&role)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown role {role}")))?,
        groups: serde_json::from_str(&groups)?,
        created_at: from_unix_millis(row.try_get("created_at")?),
        created_by: row.try_get("created_by")?,
    })
}

fn uuid_column(row: &AnyRow, column: &str) -> Result<Uuid, StoreError> {
    let text: String = row.try_get(column)?;
    Uuid::parse_str(&text).map_err(|e| StoreError::Corrupt(format!("{column}: {e}")))
}

pub(crate) fn grant_from_row(row: &AnyRow) -> Result<Grant, StoreError> {
    let effect: String = row.try_get("effect")?;
    Ok(Grant {
        id: uuid_column(row, "id")?,
        effect: GrantEffect::parse(&effect)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown grant effect {effect}")))?,
        action: row.try_get("action")?,
        args_sha256: row.try_get("args_sha256")?,
        session_id: row.try_get("session_id")?,
        expires_at: from_unix_millis(row.try_get("expires_at")?),
        approval_id: uuid_column(row, "approval_id")?,
        created_by: row.try_get("created_by")?,
        created_at: from_unix_millis(row.try_get("created_at")?),
    })
}

pub(crate) async fn insert_grant(conn: &mut AnyConnection, g: &Grant) -> Result<(), StoreError> {
    sqlx::query(concat!(
        "INSERT INTO grants (",
        grant_columns!(),
        ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
    ))
    .bind(g.id.to_string())
    .bind(g.effect.as_str())
    .bind(&g.action)
    .bind(&g.args_sha256)
    .bind(&g.session_id)
    .bind(unix_millis(g.expires_at))
    .bind(g.approval_id.to_string())
    .bind(&g.created_by)
    .bind(unix_millis(g.created_at))
    .execute(conn)
    .await?;
    Ok(())
}
