//! Group commit: one task owns the only writing connection and runs every
//! change queued while the previous commit was on disk in one transaction,
//! so one fsync acknowledges many changes.
//!
//! Each change runs inside its own SAVEPOINT: a change that fails is rolled
//! back alone and the rest of the batch still commits. Replies go out only
//! after COMMIT returns, so a 2xx answer means the change is durable.

use std::mem;
use std::sync::Arc;

use assent_domain::event::ChainHead;
use assent_domain::{Approval, NewEvent};
use async_trait::async_trait;
use sqlx::{Connection, SqliteConnection};
use time::OffsetDateTime;
use tokio::sync::{broadcast, mpsc, oneshot};

use crate::{Committed, StoreError};

/// Most changes one transaction takes; bounds the latency a batch adds.
const MAX_BATCH: usize = 512;
/// Changes waiting for the writer before callers wait for room.
const QUEUE_DEPTH: usize = 8_192;

/// The writer's state, handed to each change in turn.
pub(crate) struct WriteCtx {
    pub conn: SqliteConnection,
    head: ChainHead,
    committed: Committed,
}

impl WriteCtx {
    /// Appends an event at the end of the chain, in the current transaction.
    pub async fn append(&mut self, new: NewEvent, at: OffsetDateTime) -> Result<(), StoreError> {
        let event = self.head.append(new, at);
        super::rows::insert_event(&mut self.conn, &event).await?;
        self.committed.events.push(event);
        Ok(())
    }

    /// Records that this change decided an approval (its waiters wake after commit).
    pub fn decided(&mut self, approval: &Approval) {
        self.committed.decided.push(approval.clone());
    }
}

/// One change to the store, run by the writer inside the batch transaction.
#[async_trait]
pub(crate) trait Change: Send + 'static {
    type Output: Send + 'static;
    async fn apply(self, ctx: &mut WriteCtx) -> Result<Self::Output, StoreError>;
}

type Reply = Box<dyn FnOnce(Result<(), StoreError>) + Send>;

/// A change with its caller's reply channel, its output type erased.
#[async_trait]
trait Queued: Send {
    /// Runs the change in a savepoint; the returned reply is called with the commit's outcome.
    async fn run(self: Box<Self>, ctx: &mut WriteCtx) -> Reply;
    /// Answers without running (the batch could not start).
    fn fail(self: Box<Self>, error: StoreError);
}

struct WithReply<C: Change> {
    change: C,
    reply: oneshot::Sender<Result<C::Output, StoreError>>,
}

#[async_trait]
impl<C: Change> Queued for WithReply<C> {
    async fn run(self: Box<Self>, ctx: &mut WriteCtx) -> Reply {
        let WithReply { change, reply } = *self;
        let result = in_savepoint(ctx, change).await;
        Box::new(move |commit: Result<(), StoreError>| {
            let _ = reply.send(commit.and(result));
        })
    }

    fn fail(self: Box<Self>, error: StoreError) {
        let _ = self.reply.send(Err(error));
    }
}

async fn in_savepoint<C: Change>(ctx: &mut WriteCtx, change: C) -> Result<C::Output, StoreError> {
    sqlx::query("SAVEPOINT change")
        .execute(&mut ctx.conn)
        .await?;
    let head = ctx.head.clone();
    let (events, decided) = (ctx.committed.events.len(), ctx.committed.decided.len());
    let result = change.apply(ctx).await;
    if result.is_ok() {
        sqlx::query("RELEASE change").execute(&mut ctx.conn).await?;
    } else {
        sqlx::query("ROLLBACK TO change")
            .execute(&mut ctx.conn)
            .await?;
        sqlx::query("RELEASE change").execute(&mut ctx.conn).await?;
        ctx.head = head;
        ctx.committed.events.truncate(events);
        ctx.committed.decided.truncate(decided);
    }
    result
}

/// The handle callers use to queue changes.
#[derive(Clone)]
pub(crate) struct Writer {
    queue: mpsc::Sender<Box<dyn Queued>>,
}

impl Writer {
    /// Starts the writer task on `conn`, whose chain ends at `head`.
    pub fn start(
        conn: SqliteConnection,
        head: ChainHead,
        changes: broadcast::Sender<Arc<Committed>>,
    ) -> Writer {
        let (queue, rx) = mpsc::channel(QUEUE_DEPTH);
        let ctx = WriteCtx {
            conn,
            head,
            committed: Committed::default(),
        };
        tokio::spawn(run(ctx, rx, changes));
        Writer { queue }
    }

    /// Queues a change and waits until it is committed (or refused).
    pub async fn submit<C: Change>(&self, change: C) -> Result<C::Output, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.queue
            .send(Box::new(WithReply { change, reply }))
            .await
            .map_err(|_| StoreError::Unavailable("the store is shutting down".into()))?;
        answer
            .await
            .map_err(|_| StoreError::Unavailable("the writer stopped".into()))?
    }
}

async fn run(
    mut ctx: WriteCtx,
    mut rx: mpsc::Receiver<Box<dyn Queued>>,
    changes: broadcast::Sender<Arc<Committed>>,
) {
    let mut batch: Vec<Box<dyn Queued>> = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
        if let Err(e) = sqlx::query("BEGIN IMMEDIATE").execute(&mut ctx.conn).await {
            let error = StoreError::from(e);
            batch.drain(..).for_each(|q| q.fail(error.clone()));
            continue;
        }
        let head = ctx.head.clone();
        let mut replies = Vec::with_capacity(batch.len());
        for queued in batch.drain(..) {
            replies.push(queued.run(&mut ctx).await);
        }
        let committed = mem::take(&mut ctx.committed);
        match sqlx::query("COMMIT").execute(&mut ctx.conn).await {
            Ok(_) => {
                if !committed.is_empty() {
                    let _ = changes.send(Arc::new(committed));
                }
                replies.into_iter().for_each(|reply| reply(Ok(())));
            }
            Err(e) => {
                tracing::error!(error = %e, "commit failed; the batch is rolled back");
                let _ = sqlx::query("ROLLBACK").execute(&mut ctx.conn).await;
                ctx.head = head;
                let error = StoreError::from(e);
                replies
                    .into_iter()
                    .for_each(|reply| reply(Err(error.clone())));
            }
        }
    }
    let _ = ctx.conn.close().await;
}
