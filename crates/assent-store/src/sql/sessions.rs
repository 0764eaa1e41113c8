//! Console sessions: created and deleted through the writer, read from the
//! pool. Expired rows are removed whenever a new session is stored, so the
//! table holds little more than the sessions that are live.

use assent_domain::timestamp::{from_unix_millis, unix_millis};
use async_trait::async_trait;
use sqlx::{AnyPool, Row};
use time::OffsetDateTime;

use super::change::{Applied, Change, WriteCtx, refuse};
use crate::{Session, StoreError};

pub(crate) struct CreateSession {
    pub session: Session,
}

#[async_trait]
impl Change for CreateSession {
    type Output = ();

    async fn apply(self, ctx: &mut WriteCtx) -> Applied<()> {
        let s = self.session;
        sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
            .bind(unix_millis(s.created_at))
            .execute(&mut ctx.conn)
            .await?;
        sqlx::query(
            "INSERT INTO sessions (id_sha256, token_sha256, principal, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&s.id_sha256)
        .bind(&s.token_sha256)
        .bind(&s.principal)
        .bind(unix_millis(s.created_at))
        .bind(unix_millis(s.expires_at))
        .execute(&mut ctx.conn)
        .await?;
        Ok(())
    }
}

/// Sign-out: the row goes, so the cookie stops working on every instance.
pub(crate) struct DeleteSession {
    pub id_sha256: String,
}

#[async_trait]
impl Change for DeleteSession {
    type Output = ();

    async fn apply(self, ctx: &mut WriteCtx) -> Applied<()> {
        let deleted = sqlx::query("DELETE FROM sessions WHERE id_sha256 = $1")
            .bind(&self.id_sha256)
            .execute(&mut ctx.conn)
            .await?;
        if deleted.rows_affected() == 0 {
            return refuse(StoreError::NotFound);
        }
        Ok(())
    }
}

/// The session with this secret hash, unless it has expired at `now`.
pub(crate) async fn live(
    readers: &AnyPool,
    id_sha256: &str,
    now: OffsetDateTime,
) -> Result<Option<Session>, StoreError> {
    let row = sqlx::query(
        "SELECT id_sha256, token_sha256, principal, created_at, expires_at \
         FROM sessions WHERE id_sha256 = $1 AND expires_at > $2",
    )
    .bind(id_sha256)
    .bind(unix_millis(now))
    .fetch_optional(readers)
    .await?;
    row.map(|row| {
        Ok(Session {
            id_sha256: row.try_get("id_sha256")?,
            token_sha256: row.try_get("token_sha256")?,
            principal: row.try_get("principal")?,
            created_at: from_unix_millis(row.try_get("created_at")?),
            expires_at: from_unix_millis(row.try_get("expires_at")?),
        })
    })
    .transpose()
}
