//! The SQLite backend: the zero-setup default.
//!
//! WAL with `synchronous=FULL`, so an acknowledged change is on disk; one
//! writing connection with group commit ([`writer`]); a pool of read-only
//! connections that read in parallel with it.

mod changes;
mod outbox;
mod rows;
mod writer;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use assent_domain::event::ChainHead;
use assent_domain::timestamp::from_unix_millis;
use assent_domain::timestamp::unix_millis;
use assent_domain::{Approval, Event, Grant, NewEvent, Principal, ReviewRequest};
use async_trait::async_trait;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Connection, QueryBuilder, Row, Sqlite, SqliteConnection};
use time::OffsetDateTime;
use tokio::sync::broadcast;
use uuid::Uuid;

use self::rows::{
    approval_from_doc, event_columns, event_from_row, grant_columns, grant_from_row, token_columns,
    token_from_row,
};
use self::writer::Writer;
use crate::webhooks::{Delivery, DeliveryOutcome, DeliveryRecord, WebhookTarget};
use crate::{
    ApprovalFilter, ApprovalPage, CHANGE_CHANNEL_CAPACITY, Committed, CreateOutcome,
    IdempotencyKey, NewToken, Store, StoreError, TokenRecord,
};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");

const BUSY_TIMEOUT: Duration = Duration::from_secs(10);
const READERS: u32 = 8;

pub struct SqliteStore {
    readers: SqlitePool,
    writer: Writer,
    changes: broadcast::Sender<Arc<Committed>>,
}

impl SqliteStore {
    /// Opens (creating if missing) the database at `url` (`sqlite://PATH` or
    /// `sqlite:PATH`), runs migrations, and starts the writer.
    pub async fn open(url: &str) -> Result<SqliteStore, StoreError> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|e| StoreError::Unavailable(format!("bad SQLite URL {url:?}: {e}")))?
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(BUSY_TIMEOUT)
            .foreign_keys(true);
        let mut conn =
            SqliteConnection::connect_with(&options.clone().create_if_missing(true)).await?;
        MIGRATOR
            .run(&mut conn)
            .await
            .map_err(|e| StoreError::Unavailable(format!("migrating {url:?}: {e}")))?;
        let head = chain_head(&mut conn).await?;
        let readers = SqlitePoolOptions::new()
            .max_connections(READERS)
            .connect_with(options.read_only(true))
            .await?;
        let (changes, _) = broadcast::channel(CHANGE_CHANNEL_CAPACITY);
        let writer = Writer::start(conn, head, changes.clone());
        Ok(SqliteStore {
            readers,
            writer,
            changes,
        })
    }
}

async fn chain_head(conn: &mut SqliteConnection) -> Result<ChainHead, StoreError> {
    let row = sqlx::query("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1")
        .fetch_optional(conn)
        .await?;
    Ok(match row {
        Some(row) => ChainHead {
            seq: row.try_get("seq")?,
            hash: row.try_get("hash")?,
        },
        None => ChainHead::default(),
    })
}

#[async_trait]
impl Store for SqliteStore {
    async fn create_approval(
        &self,
        approval: Approval,
        idempotency: Option<IdempotencyKey>,
    ) -> Result<CreateOutcome, StoreError> {
        self.writer
            .submit(changes::CreateApproval {
                approval,
                idempotency,
            })
            .await
    }

    async fn get_approval(&self, id: Uuid) -> Result<Option<Approval>, StoreError> {
        let doc: Option<String> = sqlx::query_scalar("SELECT doc FROM approvals WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(&self.readers)
            .await?;
        doc.as_deref().map(approval_from_doc).transpose()
    }

    async fn list_approvals(&self, filter: &ApprovalFilter) -> Result<ApprovalPage, StoreError> {
        let mut q: QueryBuilder<Sqlite> =
            QueryBuilder::new("SELECT a.id, a.doc FROM approvals a WHERE 1 = 1");
        if let Some(status) = filter.status {
            q.push(" AND a.status = ").push_bind(status.as_str());
        }
        for (column, value) in [
            ("action", &filter.action),
            ("requester", &filter.requester),
            ("session_id", &filter.session_id),
            ("run_id", &filter.run_id),
        ] {
            if let Some(value) = value {
                q.push(format_args!(" AND a.{column} = "))
                    .push_bind(value.clone());
            }
        }
        for (key, value) in &filter.labels {
            q.push(" AND EXISTS (SELECT 1 FROM approval_labels l WHERE l.approval_id = a.id AND l.key = ")
                .push_bind(key.clone())
                .push(" AND l.value = ")
                .push_bind(value.clone())
                .push(")");
        }
        if let Some(before) = filter.before {
            q.push(" AND a.id < ").push_bind(before.to_string());
        }
        q.push(" ORDER BY a.id DESC LIMIT ")
            .push_bind(i64::from(filter.limit) + 1);
        let rows = q.build().fetch_all(&self.readers).await?;
        let mut items = rows
            .iter()
            .map(|row| approval_from_doc(&row.try_get::<String, _>("doc")?))
            .collect::<Result<Vec<_>, _>>()?;
        let next = if items.len() > filter.limit as usize {
            items.truncate(filter.limit as usize);
            items.last().map(|a| a.id)
        } else {
            None
        };
        Ok(ApprovalPage { items, next })
    }

    async fn review(
        &self,
        id: Uuid,
        reviewer: Principal,
        review: ReviewRequest,
        now: OffsetDateTime,
    ) -> Result<Approval, StoreError> {
        self.writer
            .submit(changes::Review {
                id,
                reviewer,
                review,
                now,
            })
            .await
    }

    async fn cancel(
        &self,
        id: Uuid,
        by: Principal,
        reason: Option<String>,
        now: OffsetDateTime,
    ) -> Result<Approval, StoreError> {
        self.writer
            .submit(changes::Cancel {
                id,
                by,
                reason,
                now,
            })
            .await
    }

    async fn expire_due(
        &self,
        now: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<Approval>, StoreError> {
        self.writer.submit(changes::ExpireDue { now, limit }).await
    }

    async fn escalate_due(
        &self,
        now: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<Approval>, StoreError> {
        self.writer
            .submit(changes::EscalateDue { now, limit })
            .await
    }

    async fn next_deadline(&self) -> Result<Option<OffsetDateTime>, StoreError> {
        // Each MIN is one probe of its partial index.
        let ms: Option<i64> = sqlx::query_scalar(
            "SELECT MIN(due) FROM (\
               SELECT MIN(expires_at) AS due FROM approvals WHERE status = 'pending' \
               UNION ALL \
               SELECT MIN(escalate_at) FROM approvals WHERE status = 'pending' AND escalate_at IS NOT NULL)",
        )
        .fetch_one(&self.readers)
        .await?;
        Ok(ms.map(from_unix_millis))
    }

    async fn create_token(
        &self,
        token: NewToken,
        now: OffsetDateTime,
    ) -> Result<TokenRecord, StoreError> {
        self.writer
            .submit(changes::CreateToken { token, now })
            .await
    }

    async fn token_by_hash(&self, token_sha256: &str) -> Result<Option<TokenRecord>, StoreError> {
        let row = sqlx::query(concat!(
            "SELECT ",
            token_columns!(),
            " FROM tokens WHERE token_sha256 = $1"
        ))
        .bind(token_sha256)
        .fetch_optional(&self.readers)
        .await?;
        row.as_ref().map(token_from_row).transpose()
    }

    async fn list_tokens(&self) -> Result<Vec<TokenRecord>, StoreError> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            token_columns!(),
            " FROM tokens ORDER BY name"
        ))
        .fetch_all(&self.readers)
        .await?;
        rows.iter().map(token_from_row).collect()
    }

    async fn revoke_token(
        &self,
        name: &str,
        actor: &str,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let change = changes::RevokeToken {
            name: name.to_owned(),
            actor: actor.to_owned(),
            now,
        };
        self.writer.submit(change).await
    }

    async fn list_grants(
        &self,
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
        .fetch_all(&self.readers)
        .await?;
        rows.iter().map(grant_from_row).collect()
    }

    async fn get_grant(&self, id: Uuid) -> Result<Option<Grant>, StoreError> {
        let row = sqlx::query(concat!(
            "SELECT ",
            grant_columns!(),
            " FROM grants WHERE id = $1"
        ))
        .bind(id.to_string())
        .fetch_optional(&self.readers)
        .await?;
        row.as_ref().map(grant_from_row).transpose()
    }

    async fn matching_grant(
        &self,
        action: &str,
        args_sha256: &str,
        session_id: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<Option<Grant>, StoreError> {
        let row = changes::matching_grant_query(action, args_sha256, session_id, unix_millis(now))
            .fetch_optional(&self.readers)
            .await?;
        row.as_ref().map(grant_from_row).transpose()
    }

    async fn record_event(&self, event: NewEvent, now: OffsetDateTime) -> Result<(), StoreError> {
        self.writer
            .submit(changes::RecordEvent { event, now })
            .await
    }

    async fn revoke_grant(
        &self,
        id: Uuid,
        actor: &str,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        self.writer
            .submit(changes::RevokeGrant {
                id,
                actor: actor.to_owned(),
                now,
            })
            .await
    }

    async fn events_after(&self, after: i64, limit: u32) -> Result<Vec<Event>, StoreError> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            event_columns!(),
            " FROM events WHERE seq > $1 ORDER BY seq LIMIT $2"
        ))
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(&self.readers)
        .await?;
        rows.iter().map(event_from_row).collect()
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.readers).await?;
        Ok(())
    }

    async fn set_webhook_targets(&self, targets: Vec<WebhookTarget>) -> Result<(), StoreError> {
        self.writer.submit(outbox::SetTargets { targets }).await
    }

    async fn claim_deliveries(
        &self,
        now: OffsetDateTime,
        until: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<Delivery>, StoreError> {
        self.writer
            .submit(outbox::Claim { now, until, limit })
            .await
    }

    async fn settle_delivery(
        &self,
        id: i64,
        outcome: DeliveryOutcome,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        self.writer
            .submit(outbox::Settle { id, outcome, now })
            .await
    }

    async fn next_delivery_due(&self) -> Result<Option<OffsetDateTime>, StoreError> {
        outbox::next_due(&self.readers).await
    }

    async fn webhook_deliveries(
        &self,
        after: i64,
        limit: u32,
    ) -> Result<Vec<DeliveryRecord>, StoreError> {
        outbox::list(&self.readers, after, limit).await
    }

    fn subscribe(&self) -> broadcast::Receiver<Arc<Committed>> {
        self.changes.subscribe()
    }
}
