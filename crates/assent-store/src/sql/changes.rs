//! The changes the writer runs: each reads what it needs inside the batch
//! transaction, lets the domain decide, then writes rows and events. A
//! refusal is always decided before anything is written that should not
//! commit. Every status update is guarded by `AND status = 'pending'`.

use assent_domain::event::EventType;
use assent_domain::grant::{self, SESSION_QUIET};
use assent_domain::timestamp::unix_millis;
use assent_domain::{Approval, Grant, NewEvent, Principal, ReviewRequest, Status, lifecycle};
use async_trait::async_trait;
use serde_json::json;
use sqlx::{AssertSqlSafe, Row};
use time::OffsetDateTime;
use uuid::Uuid;

use super::rows::{
    approval_from_doc, grant_columns, grant_from_row, insert_grant, token_columns, token_from_row,
};
use super::writer::{Answer, Change, WriteCtx};
use crate::{CreateOutcome, IdempotencyKey, NewToken, StoreError, TokenRecord};

async fn load(ctx: &mut WriteCtx, id: Uuid) -> Result<Option<Approval>, StoreError> {
    let doc: Option<String> = sqlx::query_scalar("SELECT doc FROM approvals WHERE id = $1")
        .bind(id.to_string())
        .fetch_optional(&mut ctx.conn)
        .await?;
    doc.as_deref().map(approval_from_doc).transpose()
}

/// Writes a pending approval's new state. With one writer the approval cannot
/// have moved since it was read; the guard makes that a checked fact.
async fn save_transition(
    ctx: &mut WriteCtx,
    approval: &Approval,
) -> Result<Answer<()>, StoreError> {
    let updated = sqlx::query(
        "UPDATE approvals SET status = $1, doc = $2 WHERE id = $3 AND status = 'pending'",
    )
    .bind(approval.status.as_str())
    .bind(serde_json::to_string(approval)?)
    .bind(approval.id.to_string())
    .execute(&mut ctx.conn)
    .await?;
    if updated.rows_affected() != 1 {
        return Ok(Err(StoreError::Conflict(
            "the approval changed concurrently".into(),
        )));
    }
    if approval.status.is_terminal() {
        ctx.decided(approval);
    }
    Ok(Ok(()))
}

pub(crate) struct CreateApproval {
    pub approval: Approval,
    pub idempotency: Option<IdempotencyKey>,
}

#[async_trait]
impl Change for CreateApproval {
    type Output = CreateOutcome;

    async fn apply(self, ctx: &mut WriteCtx) -> Result<Answer<CreateOutcome>, StoreError> {
        let a = self.approval;
        if let Some(key) = &self.idempotency {
            let earlier = sqlx::query(
                "SELECT body_sha256, approval_id FROM idempotency_keys WHERE requester = $1 AND key = $2",
            )
            .bind(&a.requester)
            .bind(&key.key)
            .fetch_optional(&mut ctx.conn)
            .await?;
            if let Some(row) = earlier {
                let body: String = row.try_get("body_sha256")?;
                if body != key.body_sha256 {
                    return Ok(Err(StoreError::IdempotencyMismatch));
                }
                let id: String = row.try_get("approval_id")?;
                let id = Uuid::parse_str(&id).map_err(|e| StoreError::Corrupt(e.to_string()))?;
                return Ok(load(ctx, id)
                    .await?
                    .map(CreateOutcome::Replayed)
                    .ok_or(StoreError::NotFound));
            }
        }
        let mut a = a;
        let at = a.created_at;
        let decided_by_grant = match a.status {
            Status::Pending => answering_grant(ctx, &a)
                .await?
                .map(|g| g.decide(&mut a, at)),
            _ => None,
        };
        let id = a.id.to_string();
        sqlx::query(
            "INSERT INTO approvals (id, status, action, requester, session_id, run_id, created_at, expires_at, escalate_at, doc) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(&id)
        .bind(a.status.as_str())
        .bind(&a.action)
        .bind(&a.requester)
        .bind(&a.session_id)
        .bind(&a.run_id)
        .bind(unix_millis(a.created_at))
        .bind(unix_millis(a.expires_at))
        .bind(a.escalate_at.map(unix_millis))
        .bind(serde_json::to_string(&a)?)
        .execute(&mut ctx.conn)
        .await?;
        for (key, value) in &a.labels {
            sqlx::query(
                "INSERT INTO approval_labels (approval_id, key, value) VALUES ($1, $2, $3)",
            )
            .bind(&id)
            .bind(key)
            .bind(value)
            .execute(&mut ctx.conn)
            .await?;
        }
        if let Some(key) = &self.idempotency {
            sqlx::query(
                "INSERT INTO idempotency_keys (requester, key, body_sha256, approval_id, created_at) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(&a.requester)
            .bind(&key.key)
            .bind(&key.body_sha256)
            .bind(&id)
            .bind(unix_millis(a.created_at))
            .execute(&mut ctx.conn)
            .await?;
        }
        ctx.append(lifecycle::requested_event(&a), a.created_at);
        // Decided before it got here (by policy), or by a grant just now.
        if let Some(event) = decided_by_grant.or_else(|| lifecycle::decision_event(&a)) {
            ctx.append(event, a.created_at);
        }
        if a.status.is_terminal() {
            ctx.decided(&a);
        }
        Ok(Ok(CreateOutcome::Created(a)))
    }
}

/// The live grant that answers a new request, deny grants first. Any new
/// approval in a session keeps that session's grants alive (SPEC: they end
/// when the session has been quiet for 24 h).
async fn answering_grant(ctx: &mut WriteCtx, a: &Approval) -> Result<Option<Grant>, StoreError> {
    let now = unix_millis(a.created_at);
    if let Some(session) = &a.session_id {
        sqlx::query("UPDATE grants SET expires_at = $1 WHERE session_id = $2 AND expires_at > $3")
            .bind(unix_millis(a.created_at + SESSION_QUIET))
            .bind(session)
            .bind(now)
            .execute(&mut ctx.conn)
            .await?;
    }
    let hash = grant::args_sha256(&a.args);
    let row = matching_grant_query(&a.action, &hash, a.session_id.as_deref(), now)
        .fetch_optional(&mut ctx.conn)
        .await?;
    row.as_ref().map(grant_from_row).transpose()
}

/// The live grant answering a request, deny grants first.
pub(crate) fn matching_grant_query<'q>(
    action: &'q str,
    args_sha256: &'q str,
    session_id: Option<&'q str>,
    now_ms: i64,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
    sqlx::query(concat!(
        "SELECT ",
        grant_columns!(),
        " FROM grants WHERE action = $1 AND expires_at > $2",
        " AND (args_sha256 IS NULL OR args_sha256 = $3) AND (session_id IS NULL OR session_id = $4)",
        " ORDER BY CASE effect WHEN 'deny' THEN 0 ELSE 1 END, created_at LIMIT 1"
    ))
    .bind(action)
    .bind(now_ms)
    .bind(args_sha256)
    .bind(session_id)
}

/// Stores the grant a decision leaves behind, if any.
async fn remember_decision(
    ctx: &mut WriteCtx,
    approval: &Approval,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    if let Some(g) = grant::from_decision(approval, Uuid::now_v7(), now) {
        insert_grant(&mut ctx.conn, &g).await?;
        ctx.append(g.created_event(), now);
    }
    Ok(())
}

/// Records the expiry of an overdue approval found while handling another
/// request: the expiry commits even though that request is refused.
async fn expire_overdue(
    ctx: &mut WriteCtx,
    approval: &mut Approval,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    if let Some(event) = lifecycle::expire(approval, now) {
        save_transition(ctx, approval).await??;
        ctx.append(event, now);
    }
    Ok(())
}

pub(crate) struct Review {
    pub id: Uuid,
    pub reviewer: Principal,
    pub review: ReviewRequest,
    pub now: OffsetDateTime,
}

#[async_trait]
impl Change for Review {
    type Output = Approval;

    async fn apply(self, ctx: &mut WriteCtx) -> Result<Answer<Approval>, StoreError> {
        let Some(mut approval) = load(ctx, self.id).await? else {
            return Ok(Err(StoreError::NotFound));
        };
        match lifecycle::review(&mut approval, &self.reviewer, self.review, self.now) {
            Ok((_, events)) => {
                if let Err(refused) = save_transition(ctx, &approval).await? {
                    return Ok(Err(refused));
                }
                events.into_iter().for_each(|e| ctx.append(e, self.now));
                remember_decision(ctx, &approval, self.now).await?;
                Ok(Ok(approval))
            }
            Err(refused) => {
                expire_overdue(ctx, &mut approval, self.now).await?;
                Ok(Err(StoreError::Lifecycle(refused)))
            }
        }
    }
}

pub(crate) struct Cancel {
    pub id: Uuid,
    pub by: Principal,
    pub reason: Option<String>,
    pub now: OffsetDateTime,
}

#[async_trait]
impl Change for Cancel {
    type Output = Approval;

    async fn apply(self, ctx: &mut WriteCtx) -> Result<Answer<Approval>, StoreError> {
        let Some(mut approval) = load(ctx, self.id).await? else {
            return Ok(Err(StoreError::NotFound));
        };
        match lifecycle::cancel(&mut approval, &self.by, self.reason, self.now) {
            Ok(event) => {
                if let Err(refused) = save_transition(ctx, &approval).await? {
                    return Ok(Err(refused));
                }
                ctx.append(event, self.now);
                Ok(Ok(approval))
            }
            Err(refused) => {
                expire_overdue(ctx, &mut approval, self.now).await?;
                Ok(Err(StoreError::Lifecycle(refused)))
            }
        }
    }
}

pub(crate) struct ExpireDue {
    pub now: OffsetDateTime,
    pub limit: u32,
}

#[async_trait]
impl Change for ExpireDue {
    type Output = Vec<Approval>;

    async fn apply(self, ctx: &mut WriteCtx) -> Result<Answer<Vec<Approval>>, StoreError> {
        let docs: Vec<String> = sqlx::query_scalar(AssertSqlSafe(format!(
            "SELECT doc FROM approvals WHERE status = 'pending' AND expires_at <= $1 ORDER BY expires_at LIMIT $2{}",
            ctx.claim
        )))
        .bind(unix_millis(self.now))
        .bind(i64::from(self.limit))
        .fetch_all(&mut ctx.conn)
        .await?;
        let mut expired = Vec::with_capacity(docs.len());
        for doc in docs {
            let mut approval = approval_from_doc(&doc)?;
            expire_overdue(ctx, &mut approval, self.now).await?;
            expired.push(approval);
        }
        Ok(Ok(expired))
    }
}

pub(crate) struct CreateToken {
    pub token: NewToken,
    pub now: OffsetDateTime,
}

#[async_trait]
impl Change for CreateToken {
    type Output = TokenRecord;

    async fn apply(self, ctx: &mut WriteCtx) -> Result<Answer<TokenRecord>, StoreError> {
        let t = self.token;
        let taken: Option<String> = sqlx::query_scalar("SELECT name FROM tokens WHERE name = $1")
            .bind(&t.name)
            .fetch_optional(&mut ctx.conn)
            .await?;
        if taken.is_some() {
            return Ok(Err(StoreError::Conflict(format!(
                "a token named {:?} already exists",
                t.name
            ))));
        }
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
        Ok(Ok(record))
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

    async fn apply(self, ctx: &mut WriteCtx) -> Result<Answer<()>, StoreError> {
        let deleted = sqlx::query("DELETE FROM tokens WHERE name = $1")
            .bind(&self.name)
            .execute(&mut ctx.conn)
            .await?;
        if deleted.rows_affected() == 0 {
            return Ok(Err(StoreError::NotFound));
        }
        let event = NewEvent {
            kind: EventType::TokenRevoked,
            actor: self.actor,
            approval_id: None,
            data: json!({ "name": self.name }),
        };
        ctx.append(event, self.now);
        Ok(Ok(()))
    }
}

pub(crate) struct RevokeGrant {
    pub id: Uuid,
    pub actor: String,
    pub now: OffsetDateTime,
}

#[async_trait]
impl Change for RevokeGrant {
    type Output = ();

    async fn apply(self, ctx: &mut WriteCtx) -> Result<Answer<()>, StoreError> {
        let row = sqlx::query(concat!(
            "SELECT ",
            grant_columns!(),
            " FROM grants WHERE id = $1"
        ))
        .bind(self.id.to_string())
        .fetch_optional(&mut ctx.conn)
        .await?;
        let Some(grant) = row.as_ref().map(grant_from_row).transpose()? else {
            return Ok(Err(StoreError::NotFound));
        };
        sqlx::query("DELETE FROM grants WHERE id = $1")
            .bind(self.id.to_string())
            .execute(&mut ctx.conn)
            .await?;
        ctx.append(grant.revoked_event(&self.actor), self.now);
        Ok(Ok(()))
    }
}

/// An event that records something outside any approval (a policy reload).
pub(crate) struct RecordEvent {
    pub event: NewEvent,
    pub now: OffsetDateTime,
}

#[async_trait]
impl Change for RecordEvent {
    type Output = ();

    async fn apply(self, ctx: &mut WriteCtx) -> Result<Answer<()>, StoreError> {
        ctx.append(self.event, self.now);
        Ok(Ok(()))
    }
}

pub(crate) struct EscalateDue {
    pub now: OffsetDateTime,
    pub limit: u32,
}

#[async_trait]
impl Change for EscalateDue {
    type Output = Vec<Approval>;

    async fn apply(self, ctx: &mut WriteCtx) -> Result<Answer<Vec<Approval>>, StoreError> {
        let docs: Vec<String> = sqlx::query_scalar(AssertSqlSafe(format!(
            "SELECT doc FROM approvals WHERE status = 'pending' AND escalate_at <= $1 ORDER BY escalate_at LIMIT $2{}",
            ctx.claim
        )))
        .bind(unix_millis(self.now))
        .bind(i64::from(self.limit))
        .fetch_all(&mut ctx.conn)
        .await?;
        let mut escalated = Vec::with_capacity(docs.len());
        for doc in docs {
            let mut approval = approval_from_doc(&doc)?;
            let event = lifecycle::escalate(&mut approval, self.now);
            sqlx::query("UPDATE approvals SET escalate_at = NULL, doc = $1 WHERE id = $2 AND status = 'pending'")
                .bind(serde_json::to_string(&approval)?)
                .bind(approval.id.to_string())
                .execute(&mut ctx.conn)
                .await?;
            if let Some(event) = event {
                ctx.append(event, self.now);
                escalated.push(approval);
            }
        }
        Ok(Ok(escalated))
    }
}
