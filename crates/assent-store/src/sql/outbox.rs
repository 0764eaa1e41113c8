//! The webhook outbox: delivery rows written with the events they carry, and
//! the writer changes that claim and settle them.
//!
//! Claiming sets `locked_until` (a lease) instead of a status, so a worker
//! that dies mid-delivery loses nothing: once the lease has passed, the row
//! is due again for any worker.

use assent_domain::Event;
use assent_domain::timestamp::{from_unix_millis, unix_millis};
use async_trait::async_trait;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, AnyPool, AssertSqlSafe, Row};
use time::OffsetDateTime;

use super::change::{Applied, Change, WriteCtx, refuse};
use super::events::{event_columns, event_from_row};
use super::statement::Statement;
use crate::StoreError;
use crate::webhooks::{Delivery, DeliveryOutcome, DeliveryRecord, DeliveryStatus, WebhookTarget};

/// Delivery rows written per INSERT statement (4 bound values each).
const ROWS_PER_STATEMENT: usize = 500;

/// Inserts one pending delivery per (event, webhook in `targets` that wants
/// it), due at once. Runs inside the transaction that inserts the events.
pub(crate) async fn enqueue(
    conn: &mut AnyConnection,
    targets: &[WebhookTarget],
    events: &[Event],
) -> Result<(), sqlx::Error> {
    let rows: Vec<(&str, i64, i64)> = events
        .iter()
        .flat_map(|e| {
            targets
                .iter()
                .filter(|t| t.wants(e.kind))
                .map(|t| (t.id.as_str(), e.seq, unix_millis(e.at)))
        })
        .collect();
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        let mut q = Statement::new(
            "INSERT INTO webhook_deliveries (webhook_id, event_seq, next_attempt_at, status) VALUES ",
        );
        for (i, (webhook, seq, due)) in chunk.iter().enumerate() {
            q.push(if i == 0 { "(" } else { ", (" })
                .bind(*webhook)
                .push(", ")
                .bind(*seq)
                .push(", ")
                .bind(*due)
                .push(", ")
                .bind(DeliveryStatus::Pending.as_str())
                .push(")");
        }
        q.query()?.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Replaces the webhooks events are fanned out to. Events committed in the
/// same batch after this change already use the new list.
pub(crate) struct SetTargets {
    pub targets: Vec<WebhookTarget>,
}

#[async_trait]
impl Change for SetTargets {
    type Output = ();

    async fn apply(self, ctx: &mut WriteCtx) -> Applied<()> {
        ctx.webhook_targets = self.targets;
        Ok(())
    }
}

/// Leases up to `limit` due deliveries until `until`, oldest due first.
pub(crate) struct Claim {
    pub now: OffsetDateTime,
    pub until: OffsetDateTime,
    pub limit: u32,
}

#[async_trait]
impl Change for Claim {
    type Output = Vec<Delivery>;

    async fn apply(self, ctx: &mut WriteCtx) -> Applied<Vec<Delivery>> {
        // The one place deliveries are claimed.
        let claimed = sqlx::query(AssertSqlSafe(format!(
            "UPDATE webhook_deliveries SET locked_until = $1 WHERE id IN (\
               SELECT id FROM webhook_deliveries \
               WHERE status = 'pending' AND next_attempt_at <= $2 \
                 AND (locked_until IS NULL OR locked_until <= $2) \
               ORDER BY next_attempt_at LIMIT $3{}) \
             RETURNING id, webhook_id, event_seq, attempts",
            ctx.claim
        )))
        .bind(unix_millis(self.until))
        .bind(unix_millis(self.now))
        .bind(i64::from(self.limit))
        .fetch_all(&mut ctx.conn)
        .await?;
        let mut deliveries = Vec::with_capacity(claimed.len());
        for row in claimed {
            let seq: i64 = row.try_get("event_seq")?;
            let event = sqlx::query(concat!(
                "SELECT ",
                event_columns!(),
                " FROM events WHERE seq = $1"
            ))
            .bind(seq)
            .fetch_one(&mut ctx.conn)
            .await?;
            deliveries.push(Delivery {
                id: row.try_get("id")?,
                webhook_id: row.try_get("webhook_id")?,
                attempts: row.try_get("attempts")?,
                event: event_from_row(&event)?,
            });
        }
        Ok(deliveries)
    }
}

/// Settles one attempt of a pending delivery and drops its claim.
pub(crate) struct Settle {
    pub id: i64,
    pub outcome: DeliveryOutcome,
    pub now: OffsetDateTime,
}

#[async_trait]
impl Change for Settle {
    type Output = ();

    async fn apply(self, ctx: &mut WriteCtx) -> Applied<()> {
        let now = unix_millis(self.now);
        let query = match &self.outcome {
            DeliveryOutcome::Delivered => sqlx::query(
                "UPDATE webhook_deliveries SET status = 'delivered', attempts = attempts + 1, \
                 locked_until = NULL, last_error = NULL, finished_at = $2 \
                 WHERE id = $1 AND status = 'pending'",
            )
            .bind(self.id)
            .bind(now),
            DeliveryOutcome::Retry { at, error } => sqlx::query(
                "UPDATE webhook_deliveries SET attempts = attempts + 1, next_attempt_at = $2, \
                 locked_until = NULL, last_error = $3 \
                 WHERE id = $1 AND status = 'pending'",
            )
            .bind(self.id)
            .bind(unix_millis(*at))
            .bind(error.as_str()),
            DeliveryOutcome::Failed { error } => sqlx::query(
                "UPDATE webhook_deliveries SET status = 'failed', attempts = attempts + 1, \
                 locked_until = NULL, last_error = $3, finished_at = $2 \
                 WHERE id = $1 AND status = 'pending'",
            )
            .bind(self.id)
            .bind(now)
            .bind(error.as_str()),
            DeliveryOutcome::Abandoned { error } => sqlx::query(
                "UPDATE webhook_deliveries SET status = 'failed', \
                 locked_until = NULL, last_error = $3, finished_at = $2 \
                 WHERE id = $1 AND status = 'pending'",
            )
            .bind(self.id)
            .bind(now)
            .bind(error.as_str()),
            DeliveryOutcome::Released => sqlx::query(
                "UPDATE webhook_deliveries SET locked_until = NULL WHERE id = $1 AND status = 'pending'",
            )
            .bind(self.id),
        };
        let updated = query.execute(&mut ctx.conn).await?;
        if updated.rows_affected() != 1 {
            return refuse(StoreError::NotFound);
        }
        Ok(())
    }
}

/// When the next pending delivery is due: its next attempt, or the end of
/// its current claim if that is later.
pub(crate) async fn next_due(pool: &AnyPool) -> Result<Option<OffsetDateTime>, StoreError> {
    let ms: Option<i64> = sqlx::query_scalar(
        "SELECT MIN(CASE WHEN locked_until > next_attempt_at THEN locked_until ELSE next_attempt_at END) \
         FROM webhook_deliveries WHERE status = 'pending'",
    )
    .fetch_one(pool)
    .await?;
    Ok(ms.map(from_unix_millis))
}

/// The outbox in insertion order, from `after` (an id), at most `limit`.
pub(crate) async fn list(
    pool: &AnyPool,
    after: i64,
    limit: u32,
) -> Result<Vec<DeliveryRecord>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, webhook_id, event_seq, status, attempts, next_attempt_at, last_error, finished_at \
         FROM webhook_deliveries WHERE id > $1 ORDER BY id LIMIT $2",
    )
    .bind(after)
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await?;
    rows.iter().map(record_from_row).collect()
}

fn record_from_row(row: &AnyRow) -> Result<DeliveryRecord, StoreError> {
    let status: String = row.try_get("status")?;
    let finished_at: Option<i64> = row.try_get("finished_at")?;
    Ok(DeliveryRecord {
        id: row.try_get("id")?,
        webhook_id: row.try_get("webhook_id")?,
        event_seq: row.try_get("event_seq")?,
        status: DeliveryStatus::parse(&status)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown delivery status {status}")))?,
        attempts: row.try_get("attempts")?,
        next_attempt_at: from_unix_millis(row.try_get("next_attempt_at")?),
        last_error: row.try_get("last_error")?,
        finished_at: finished_at.map(from_unix_millis),
    })
}
