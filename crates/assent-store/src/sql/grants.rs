//! Grants: remembered decisions that answer later requests without a
//! person. Made by the decision that leaves them (in its batch), matched
//! against every new pending approval, listed and revoked.

use assent_domain::grant::{self, GrantRequest, SESSION_QUIET};
use assent_domain::timestamp::{from_unix_millis, unix_millis};
use assent_domain::{Approval, Grant, GrantEffect};
use async_trait::async_trait;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, AnyPool, Row};
use time::OffsetDateTime;
use uuid::Uuid;

use super::change::{Applied, Change, WriteCtx, refuse};
use crate::StoreError;

/// The columns [`grant_from_row`] reads, for `concat!` into static SQL.
macro_rules! grant_columns {
    () => {
        "id, effect, action, args_sha256, session_id, requester, command_prefix, expires_at, approval_id, created_by, created_at"
    };
}

fn uuid_column(row: &AnyRow, column: &str) -> Result<Uuid, StoreError> {
    let text: String = row.try_get(column)?;
    Uuid::parse_str(&text).map_err(|e| StoreError::Corrupt(format!("{column}: {e}")))
}

fn grant_from_row(row: &AnyRow) -> Result<Grant, StoreError> {
    let effect: String = row.try_get("effect")?;
    let mut grant = Grant {
        id: uuid_column(row, "id")?,
        effect: GrantEffect::parse(&effect)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown grant effect {effect}")))?,
        action: row.try_get("action")?,
        args_sha256: row.try_get("args_sha256")?,
        session_id: row.try_get("session_id")?,
        requester: row.try_get("requester")?,
        command_prefix: row.try_get("command_prefix")?,
        covers: String::new(),
        expires_at: from_unix_millis(row.try_get("expires_at")?),
        approval_id: uuid_column(row, "approval_id")?,
        created_by: row.try_get("created_by")?,
        created_at: from_unix_millis(row.try_get("created_at")?),
    };
    grant.covers = grant.describe();
    Ok(grant)
}

async fn insert(conn: &mut AnyConnection, g: &Grant) -> Result<(), StoreError> {
    sqlx::query(concat!(
        "INSERT INTO grants (",
        grant_columns!(),
        ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
    ))
    .bind(g.id.to_string())
    .bind(g.effect.as_str())
    .bind(&g.action)
    .bind(&g.args_sha256)
    .bind(&g.session_id)
    .bind(&g.requester)
    .bind(&g.command_prefix)
    .bind(unix_millis(g.expires_at))
    .bind(g.approval_id.to_string())
    .bind(&g.created_by)
    .bind(unix_millis(g.created_at))
    .execute(conn)
    .await?;
    Ok(())
}

/// The live grants that may answer a request, deny grants first, oldest
/// first among equals; [`first_answering`] applies the checks SQL cannot
/// (a command grant's prefix).
fn candidates_query<'q>(
    request: &GrantRequest<'q>,
    now_ms: i64,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
    sqlx::query(concat!(
        "SELECT ",
        grant_columns!(),
        " FROM grants WHERE action = $1 AND expires_at > $2",
        " AND (args_sha256 IS NULL OR args_sha256 = $3) AND (session_id IS NULL OR session_id = $4)",
        " AND (requester IS NULL OR requester = $5)",
        " ORDER BY CASE effect WHEN 'deny' THEN 0 ELSE 1 END, created_at, id"
    ))
    .bind(request.action)
    .bind(now_ms)
    .bind(request.args_sha256)
    .bind(request.session_id)
    .bind(request.requester)
}

fn first_answering(
    rows: &[AnyRow],
    request: &GrantRequest<'_>,
    now: OffsetDateTime,
) -> Result<Option<Grant>, StoreError> {
    for row in rows {
        let grant = grant_from_row(row)?;
        if grant.answers(request, now) {
            return Ok(Some(grant));
        }
    }
    Ok(None)
}

/// The live grant that would answer a request now, changing nothing.
pub(crate) async fn matching(
    readers: &AnyPool,
    request: &GrantRequest<'_>,
    now: OffsetDateTime,
) -> Result<Option<Grant>, StoreError> {
    let rows = candidates_query(request, unix_millis(now))
        .fetch_all(readers)
        .await?;
    first_answering(&rows, request, now)
}

/// The live grant that answers a new request, deny grants first. Any new
/// approval in a session keeps that session's grants alive: they end when
/// the session has been quiet for [`SESSION_QUIET`].
pub(crate) async fn answering(
    ctx: &mut WriteCtx,
    a: &Approval,
) -> Result<Option<Grant>, StoreError> {
    let now = unix_millis(a.created_at);
    if !any_live(ctx, now).await? {
        return Ok(None);
    }
    if let Some(session) = &a.session_id {
        sqlx::query(
            "UPDATE grants SET expires_at = $1 WHERE session_id = $2 AND requester = $3 AND expires_at > $4",
        )
        .bind(unix_millis(a.created_at + SESSION_QUIET))
        .bind(session)
        .bind(&a.requester)
        .bind(now)
        .execute(&mut ctx.conn)
        .await?;
    }
    let hash = grant::args_sha256(&a.args);
    let request = GrantRequest {
        action: &a.action,
        args: &a.args,
        args_sha256: &hash,
        requester: &a.requester,
        session_id: a.session_id.as_deref(),
    };
    let rows = candidates_query(&request, now)
        .fetch_all(&mut ctx.conn)
        .await?;
    first_answering(&rows, &request, a.created_at)
}

/// How far before a request's own time a grant still counts as possibly
/// live when the batch first checks: the requests of one batch were
/// timestamped within moments of each other, not in order.
const LIVE_MARGIN_MS: i64 = 60_000;

/// Whether any grant may still be live in this batch, asking the database
/// only the first time (see [`WriteCtx::live_grants`]).
async fn any_live(ctx: &mut WriteCtx, now_ms: i64) -> Result<bool, StoreError> {
    if let Some(known) = ctx.live_grants {
        return Ok(known);
    }
    let live = sqlx::query("SELECT 1 FROM grants WHERE expires_at > $1 LIMIT 1")
        .bind(now_ms - LIVE_MARGIN_MS)
        .fetch_optional(&mut ctx.conn)
        .await?
        .is_some();
    ctx.live_grants = Some(live);
    Ok(live)
}

/// Stores the grant a decision leaves behind, if any.
pub(crate) async fn remember_decision(
    ctx: &mut WriteCtx,
    approval: &Approval,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    if let Some(g) = grant::from_decision(approval, Uuid::now_v7(), now) {
        insert(&mut ctx.conn, &g).await?;
        ctx.live_grants = Some(true);
        ctx.append(g.created_event(), now);
    }
    Ok(())
}

/// Live grants (not expired at `now`), newest first; only those made by
/// `created_by` when given.
pub(crate) async fn list(
    readers: &AnyPool,
    now: OffsetDateTime,
    created_by: Option<&str>,
) -> Result<Vec<Grant>, StoreError> {
    let rows = sqlx::query(concat!(
        "SELECT ",
        grant_columns!(),
        " FROM grants WHERE expires_at > $1 AND ($2 IS NULL OR created_by = $2) ORDER BY created_at DESC, id DESC"
    ))
    .bind(unix_millis(now))
    .bind(created_by)
    .fetch_all(readers)
    .await?;
    rows.iter().map(grant_from_row).collect()
}

pub(crate) async fn get(readers: &AnyPool, id: Uuid) -> Result<Option<Grant>, StoreError> {
    let row = sqlx::query(concat!(
        "SELECT ",
        grant_columns!(),
        " FROM grants WHERE id = $1"
    ))
    .bind(id.to_string())
    .fetch_optional(readers)
    .await?;
    row.as_ref().map(grant_from_row).transpose()
}

pub(crate) struct RevokeGrant {
    pub id: Uuid,
    pub actor: String,
    pub now: OffsetDateTime,
}

#[async_trait]
impl Change for RevokeGrant {
    type Output = ();

    async fn apply(self, ctx: &mut WriteCtx) -> Applied<()> {
        let row = sqlx::query(concat!(
            "SELECT ",
            grant_columns!(),
            " FROM grants WHERE id = $1"
        ))
        .bind(self.id.to_string())
        .fetch_optional(&mut ctx.conn)
        .await?;
        let Some(grant) = row.as_ref().map(grant_from_row).transpose()? else {
            return refuse(StoreError::NotFound);
        };
        sqlx::query("DELETE FROM grants WHERE id = $1")
            .bind(self.id.to_string())
            .execute(&mut ctx.conn)
            .await?;
        ctx.append(grant.revoked_event(&self.actor), self.now);
        Ok(())
    }
}
