//! API tokens: created and revoked through the writer (each with its
//! event), read by hash on every uncached authentication.

use assent_domain::event::EventType;
use assent_domain::timestamp::{from_unix_millis, unix_millis};
use assent_domain::{NewEvent, Role};
use async_trait::async_trait;
use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row};
use time::OffsetDateTime;

use super::change::{Applied, Change, WriteCtx, refuse};
use crate::{NewToken, StoreError, TokenRecord};

/// The columns [`token_from_row`] reads, for `concat!` into static SQL.
macro_rules! token_columns {
    () => {
        "name, token_sha256, role, groups, created_at, created_by"
    };
}

fn token_from_row(row: &AnyRow) -> Result<TokenRecord, StoreError> {
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

pub(crate) async fn by_hash(
    readers: &AnyPool,
    token_sha256: &str,
) -> Result<Option<TokenRecord>, StoreError> {
    let row = sqlx::query(concat!(
        "SELECT ",
        token_columns!(),
        " FROM tokens WHERE token_sha256 = $1"
    ))
    .bind(token_sha256)
    .fetch_optional(readers)
    .await?;
    row.as_ref().map(token_from_row).transpose()
}

pub(crate) async fn list(readers: &AnyPool) -> Result<Vec<TokenRecord>, StoreError> {
    let rows = sqlx::query(concat!(
        "SELECT ",
        token_columns!(),
        " FROM tokens ORDER BY name"
    ))
    .fetch_all(readers)
    .await?;
    rows.iter().map(token_from_row).collect()
}

pub(crate) struct CreateToken {
    pub token: NewToken,
    pub now: OffsetDateTime,
}

#[async_trait]
impl Change for CreateToken {
    type Output = TokenRecord;

    async fn apply(self, ctx: &mut WriteCtx) -> Applied<TokenRecord> {
        let t = self.token;
        // A name is never reused: not while its token lives, nor after it
        // was revoked (the new token would inherit the old one's approvals).
        let live: Option<String> = sqlx::query_scalar("SELECT name FROM tokens WHERE name = $1")
            .bind(&t.name)
            .fetch_optional(&mut ctx.conn)
            .await?;
        if live.is_some() {
            return refuse(StoreError::Conflict(format!(
                "a token named {:?} already exists; to give it a new secret, rotate it",
                t.name
            )));
        }
        let used: Option<String> =
            sqlx::query_scalar("SELECT name FROM token_names WHERE name = $1")
                .bind(&t.name)
                .fetch_optional(&mut ctx.conn)
                .await?;
        if used.is_some() {
            return refuse(StoreError::Conflict(format!(
                "the name {:?} belonged to a revoked token; token names are never reused",
                t.name
            )));
        }
        sqlx::query("INSERT INTO token_names (name, first_used) VALUES ($1, $2)")
            .bind(&t.name)
            .bind(unix_millis(self.now))
            .execute(&mut ctx.conn)
            .await?;
        let row = sqlx::query(concat!(
            "INSERT INTO tokens (name, token_sha256, role, groups, created_at, created_by) ",
            "VALUES ($1, $2, $3, $4, $5, $6) RETURNING ",
            token_columns!()
        ))
        .bind(&t.name)
        .bind(&t.token_sha256)
        .bind(t.role.as_str())
        .bind(serde_json::to_string(&t.groups)?)
        .bind(unix_millis(self.now))
        .bind(&t.created_by)
        .fetch_one(&mut ctx.conn)
        .await?;
        let record = token_from_row(&row)?;
        let event = NewEvent {
            kind: EventType::TokenCreated,
            actor: t.created_by,
            approval_id: None,
            data: json!({ "name": record.name, "role": record.role, "groups": record.groups }),
        };
        ctx.append(event, self.now);
        Ok(record)
    }
}

pub(crate) struct RevokeToken {
    pub name: String,
    pub actor: String,
    pub now: OffsetDateTime,
}

#[async_trait]
impl Change for RevokeToken {
    type Output = ();

    async fn apply(self, ctx: &mut WriteCtx) -> Applied<()> {
        let deleted = sqlx::query("DELETE FROM tokens WHERE name = $1")
            .bind(&self.name)
            .execute(&mut ctx.conn)
            .await?;
        if deleted.rows_affected() == 0 {
            return refuse(StoreError::NotFound);
        }
        let event = NewEvent {
            kind: EventType::TokenRevoked,
            actor: self.actor,
            approval_id: None,
            data: json!({ "name": self.name }),
        };
        ctx.append(event, self.now);
        Ok(())
    }
}

/// A new secret for a live token's principal: the old secret stops
/// authenticating in the same transaction. Recorded as the old secret's
/// `token.revoked` followed by the new one's `token.created`, both marked
/// `rotated`, so everything that follows revocations (token caches, open
/// streams) lets go of the old secret.
pub(crate) struct RotateToken {
    pub name: String,
    pub token_sha256: String,
    pub actor: String,
    pub now: OffsetDateTime,
}

#[async_trait]
impl Change for RotateToken {
    type Output = TokenRecord;

    async fn apply(self, ctx: &mut WriteCtx) -> Applied<TokenRecord> {
        let row = sqlx::query(concat!(
            "UPDATE tokens SET token_sha256 = $2, created_at = $3, created_by = $4 ",
            "WHERE name = $1 RETURNING ",
            token_columns!()
        ))
        .bind(&self.name)
        .bind(&self.token_sha256)
        .bind(unix_millis(self.now))
        .bind(&self.actor)
        .fetch_optional(&mut ctx.conn)
        .await?;
        let Some(row) = row else {
            return refuse(StoreError::NotFound);
        };
        let record = token_from_row(&row)?;
        ctx.append(
            NewEvent {
                kind: EventType::TokenRevoked,
                actor: self.actor.clone(),
                approval_id: None,
                data: json!({ "name": record.name, "rotated": true }),
            },
            self.now,
        );
        ctx.append(
            NewEvent {
                kind: EventType::TokenCreated,
                actor: self.actor,
                approval_id: None,
                data: json!({
                    "name": record.name, "role": record.role, "groups": record.groups,
                    "rotated": true,
                }),
            },
            self.now,
        );
        Ok(record)
    }
}
