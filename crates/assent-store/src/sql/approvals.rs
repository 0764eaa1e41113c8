//! Approvals: the changes that create and move them (each reads what it
//! needs inside the batch transaction, lets the domain decide, then writes
//! the row and its events; every status update is guarded by
//! `AND status = 'pending'`), and the reads that list them.

use assent_domain::timestamp::{from_unix_millis, unix_millis};
use assent_domain::{Approval, Principal, ReviewRequest, Status, lifecycle};
use async_trait::async_trait;
use sqlx::{AnyPool, AssertSqlSafe, Row};
use time::OffsetDateTime;
use uuid::Uuid;

use super::change::{Applied, Change, WriteCtx, refuse};
use super::grants;
use super::statement::Statement;
use crate::{ApprovalFilter, ApprovalPage, CreateOutcome, IdempotencyKey, StoreError};

/// An approval is stored whole, as JSON, beside the columns it is found by.
pub(crate) fn from_doc(doc: &str) -> Result<Approval, StoreError> {
    Ok(serde_json::from_str(doc)?)
}

pub(crate) async fn get(readers: &AnyPool, id: Uuid) -> Result<Option<Approval>, StoreError> {
    let doc: Option<String> = sqlx::query_scalar("SELECT doc FROM approvals WHERE id = $1")
        .bind(id.to_string())
        .fetch_optional(readers)
        .await?;
    doc.as_deref().map(from_doc).transpose()
}

/// Newest first, one page.
pub(crate) async fn list(
    readers: &AnyPool,
    filter: &ApprovalFilter,
) -> Result<ApprovalPage, StoreError> {
    let mut q = Statement::new("SELECT a.id, a.doc FROM approvals a WHERE 1 = 1");
    if let Some(status) = filter.status {
        q.push(" AND a.status = ").bind(status.as_str());
    }
    for (column, value) in [
        ("action", &filter.action),
        ("requester", &filter.requester),
        ("session_id", &filter.session_id),
        ("run_id", &filter.run_id),
    ] {
        if let Some(value) = value {
            q.push(format_args!(" AND a.{column} = "))
                .bind(value.clone());
        }
    }
    for (key, value) in &filter.labels {
        q.push(
            " AND EXISTS (SELECT 1 FROM approval_labels l WHERE l.approval_id = a.id AND l.key = ",
        )
        .bind(key.clone())
        .push(" AND l.value = ")
        .bind(value.clone())
        .push(")");
    }
    if let Some(before) = filter.before {
        q.push(" AND a.id < ").bind(before.to_string());
    }
    q.push(" ORDER BY a.id DESC LIMIT ")
        .bind(i64::from(filter.limit) + 1);
    let rows = q.query()?.fetch_all(readers).await?;
    let mut items = rows
        .iter()
        .map(|row| from_doc(&row.try_get::<String, _>("doc")?))
        .collect::<Result<Vec<_>, _>>()?;
    let next = if items.len() > filter.limit as usize {
        items.truncate(filter.limit as usize);
        items.last().map(|a| a.id)
    } else {
        None
    };
    Ok(ApprovalPage { items, next })
}

/// The earliest expiry or escalation due among pending approvals.
pub(crate) async fn next_deadline(readers: &AnyPool) -> Result<Option<OffsetDateTime>, StoreError> {
    // Each MIN is one probe of its partial index.
    let ms: Option<i64> = sqlx::query_scalar(
        "SELECT MIN(due) FROM (\
           SELECT MIN(expires_at) AS due FROM approvals WHERE status = 'pending' \
           UNION ALL \
           SELECT MIN(escalate_at) FROM approvals WHERE status = 'pending' AND escalate_at IS NOT NULL) AS deadlines",
    )
    .fetch_one(readers)
    .await?;
    Ok(ms.map(from_unix_millis))
}

async fn load(ctx: &mut WriteCtx, id: Uuid) -> Result<Option<Approval>, StoreError> {
    let doc: Option<String> = sqlx::query_scalar("SELECT doc FROM approvals WHERE id = $1")
        .bind(id.to_string())
        .fetch_optional(&mut ctx.conn)
        .await?;
    doc.as_deref().map(from_doc).transpose()
}

/// Writes a pending approval's new state. With one writer the approval cannot
/// have moved since it was read; the guard makes that a checked fact.
async fn save_transition(ctx: &mut WriteCtx, approval: &Approval) -> Applied<()> {
    let updated = sqlx::query(
        "UPDATE approvals SET status = $1, doc = $2 WHERE id = $3 AND status = 'pending'",
    )
    .bind(approval.status.as_str())
    .bind(serde_json::to_string(approval)?)
    .bind(approval.id.to_string())
    .execute(&mut ctx.conn)
    .await?;
    if updated.rows_affected() != 1 {
        return refuse(StoreError::Conflict(
            "the approval changed concurrently".into(),
        ));
    }
    if approval.status.is_terminal() {
        ctx.decided(approval);
    }
    Ok(())
}

/// Records the expiry of an overdue approval found while handling another
/// request: the expiry commits even though that request is refused.
async fn expire_overdue(
    ctx: &mut WriteCtx,
    approval: &mut Approval,
    now: OffsetDateTime,
) -> Applied<()> {
    if let Some(event) = lifecycle::expire(approval, now) {
        save_transition(ctx, approval).await?;
        ctx.append(event, now);
    }
    Ok(())
}

pub(crate) struct CreateApproval {
    pub approval: Approval,
    pub idempotency: Option<IdempotencyKey>,
}

#[async_trait]
impl Change for CreateApproval {
    type Output = CreateOutcome;

    async fn apply(self, ctx: &mut WriteCtx) -> Applied<CreateOutcome> {
        let mut a = self.approval;
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
                    return refuse(StoreError::IdempotencyMismatch);
                }
                let id: String = row.try_get("approval_id")?;
                let id = Uuid::parse_str(&id).map_err(|e| StoreError::Corrupt(e.to_string()))?;
                return match load(ctx, id).await? {
                    Some(earlier) => Ok(CreateOutcome::Replayed(earlier)),
                    None => refuse(StoreError::NotFound),
                };
            }
        }
        let at = a.created_at;
        let decided_by_grant = match a.status {
            Status::Pending => grants::answering(ctx, &a)
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
        Ok(CreateOutcome::Created(a))
    }
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

    async fn apply(self, ctx: &mut WriteCtx) -> Applied<Approval> {
        let Some(mut approval) = load(ctx, self.id).await? else {
            return refuse(StoreError::NotFound);
        };
        match lifecycle::review(&mut approval, &self.reviewer, self.review, self.now) {
            Ok((_, events)) => {
                save_transition(ctx, &approval).await?;
                events.into_iter().for_each(|e| ctx.append(e, self.now));
                grants::remember_decision(ctx, &approval, self.now).await?;
                Ok(approval)
            }
            Err(refused) => {
                expire_overdue(ctx, &mut approval, self.now).await?;
                refuse(StoreError::Lifecycle(refused))
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

    async fn apply(self, ctx: &mut WriteCtx) -> Applied<Approval> {
        let Some(mut approval) = load(ctx, self.id).await? else {
            return refuse(StoreError::NotFound);
        };
        match lifecycle::cancel(&mut approval, &self.by, self.reason, self.now) {
            Ok(event) => {
                save_transition(ctx, &approval).await?;
                ctx.append(event, self.now);
                Ok(approval)
            }
            Err(refused) => {
                expire_overdue(ctx, &mut approval, self.now).await?;
                refuse(StoreError::Lifecycle(refused))
            }
        }
    }
}

/// The two deadlines a pending approval can pass.
#[derive(Clone, Copy)]
enum Deadline {
    Expiry,
    Escalation,
}

impl Deadline {
    fn column(self) -> &'static str {
        match self {
            Deadline::Expiry => "expires_at",
            Deadline::Escalation => "escalate_at",
        }
    }
}

/// Up to `limit` pending approvals whose `deadline` is at or before `now`,
/// earliest first, claimed for this batch (see `WriteCtx::claim`).
async fn pending_due(
    ctx: &mut WriteCtx,
    deadline: Deadline,
    now: OffsetDateTime,
    limit: u32,
) -> Applied<Vec<Approval>> {
    let column = deadline.column();
    let docs: Vec<String> = sqlx::query_scalar(AssertSqlSafe(format!(
        "SELECT doc FROM approvals WHERE status = 'pending' AND {column} <= $1 ORDER BY {column} LIMIT $2{}",
        ctx.claim
    )))
    .bind(unix_millis(now))
    .bind(i64::from(limit))
    .fetch_all(&mut ctx.conn)
    .await?;
    Ok(docs
        .iter()
        .map(|doc| from_doc(doc))
        .collect::<Result<_, _>>()?)
}

pub(crate) struct ExpireDue {
    pub now: OffsetDateTime,
    pub limit: u32,
}

#[async_trait]
impl Change for ExpireDue {
    type Output = Vec<Approval>;

    async fn apply(self, ctx: &mut WriteCtx) -> Applied<Vec<Approval>> {
        let due = pending_due(ctx, Deadline::Expiry, self.now, self.limit).await?;
        let mut expired = Vec::with_capacity(due.len());
        for mut approval in due {
            expire_overdue(ctx, &mut approval, self.now).await?;
            expired.push(approval);
        }
        Ok(expired)
    }
}

pub(crate) struct EscalateDue {
    pub now: OffsetDateTime,
    pub limit: u32,
}

#[async_trait]
impl Change for EscalateDue {
    type Output = Vec<Approval>;

    async fn apply(self, ctx: &mut WriteCtx) -> Applied<Vec<Approval>> {
        let due = pending_due(ctx, Deadline::Escalation, self.now, self.limit).await?;
        let mut escalated = Vec::with_capacity(due.len());
        for mut approval in due {
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
        Ok(escalated)
    }
}
