//! Group commit: one task owns this instance's writing connection and runs
//! every change queued while the previous commit was on disk in one
//! transaction, so one fsync acknowledges many changes.
//!
//! Each batch first takes the backend's write lock (`Backend::begin_batch`):
//! on SQLite the database's own, on PostgreSQL an advisory lock that
//! serializes every instance's batches, so `seq` stays gapless and the hash
//! chain linear across instances while reads run in parallel. A connection
//! that failed is replaced before the next batch.
//!
//! A change answers its caller with an [`Answer`] — a result or a refusal.
//! A refusal is decided before the change writes anything it does not mean
//! to commit, so refused and accepted changes share the batch without
//! savepoints. A database failure fails the whole batch: it is rolled back
//! and every caller in it gets the error. Events are buffered and written
//! with one multi-row INSERT per batch, together with their webhook deliveries. Replies go out only after COMMIT
//! returns, so a 2xx answer means the change is durable.

use std::mem;
use std::sync::Arc;

use assent_domain::event::ChainHead;
use assent_domain::{Approval, NewEvent};
use async_trait::async_trait;
use sqlx::{AnyConnection, Connection};
use time::OffsetDateTime;
use tokio::sync::{mpsc, oneshot};

use super::backend::Backend;
use super::feed::Feed;
use super::outbox::Outbox;
use crate::{Committed, StoreError};

/// Most changes one transaction takes; bounds the latency a batch adds.
const MAX_BATCH: usize = 512;
/// Changes waiting for the writer before callers wait for room.
const QUEUE_DEPTH: usize = 8_192;

/// Events written per INSERT statement (8 bound values each).
const EVENTS_PER_STATEMENT: usize = 500;

/// The writer's state, handed to each change in turn.
pub(crate) struct WriteCtx {
    pub conn: AnyConnection,
    head: ChainHead,
    committed: Committed,
    /// Where committed events fan out to as webhook deliveries.
    pub(super) outbox: Outbox,
    /// Appended to the SELECT that picks rows to expire, escalate or
    /// deliver: `FOR UPDATE SKIP LOCKED` on PostgreSQL, so instances never
    /// pick the same row (SQLite has one writer and needs nothing).
    pub claim: &'static str,
}

impl WriteCtx {
    /// Appends an event at the end of the chain; it is written with the batch.
    pub fn append(&mut self, new: NewEvent, at: OffsetDateTime) {
        let event = self.head.append(new, at);
        self.committed.events.push(event);
    }

    /// Records that this change decided an approval (its waiters wake after commit).
    pub fn decided(&mut self, approval: &Approval) {
        self.committed.decided.push(approval.clone());
    }

    async fn flush_events(&mut self) -> Result<(), sqlx::Error> {
        for chunk in self.committed.events.chunks(EVENTS_PER_STATEMENT) {
            super::rows::insert_events(&mut self.conn, chunk).await?;
        }
        self.outbox
            .enqueue(&mut self.conn, &self.committed.events)
            .await
    }
}

/// What a change tells its caller: its result, or why it was refused
/// (`NotFound`, `Conflict`, `Lifecycle`, `IdempotencyMismatch`).
pub(crate) type Answer<T> = Result<T, StoreError>;

/// One change to the store, run by the writer inside the batch transaction.
/// `Err` means the database failed (or held data that does not decode) and
/// fails the whole batch.
#[async_trait]
pub(crate) trait Change: Send + 'static {
    type Output: Send + 'static;
    async fn apply(self, ctx: &mut WriteCtx) -> Result<Answer<Self::Output>, StoreError>;
}

type Reply = Box<dyn FnOnce(Result<(), StoreError>) + Send>;

/// A change with its caller's reply channel, its output type erased.
#[async_trait]
trait Queued: Send {
    /// Runs the change. The reply is called with the batch's outcome; the
    /// error, when present, means the database failed and the batch must too.
    async fn run(self: Box<Self>, ctx: &mut WriteCtx) -> (Reply, Option<StoreError>);
    /// Answers without running (the batch could not start).
    fn fail(self: Box<Self>, error: StoreError);
}

struct WithReply<C: Change> {
    change: C,
    reply: oneshot::Sender<Answer<C::Output>>,
}

#[async_trait]
impl<C: Change> Queued for WithReply<C> {
    async fn run(self: Box<Self>, ctx: &mut WriteCtx) -> (Reply, Option<StoreError>) {
        let WithReply { change, reply } = *self;
        match change.apply(ctx).await {
            Ok(answer) => (
                Box::new(move |batch: Result<(), StoreError>| drop(reply.send(batch.and(answer)))),
                None,
            ),
            Err(error) => {
                let own = error.clone();
                (
                    Box::new(move |batch: Result<(), StoreError>| {
                        drop(reply.send(Err(batch.err().unwrap_or(own))))
                    }),
                    Some(error),
                )
            }
        }
    }

    fn fail(self: Box<Self>, error: StoreError) {
        let _ = self.reply.send(Err(error));
    }
}

/// The handle callers use to queue changes.
#[derive(Clone)]
pub(crate) struct Writer {
    queue: mpsc::Sender<Box<dyn Queued>>,
}

impl Writer {
    /// Starts the writer task on `conn`, whose chain ends at `head`; it
    /// publishes each commit to `feed`.
    pub fn start(
        backend: Backend,
        conn: AnyConnection,
        head: ChainHead,
        feed: Arc<Feed>,
    ) -> Writer {
        let (queue, rx) = mpsc::channel(QUEUE_DEPTH);
        let ctx = WriteCtx {
            conn,
            head,
            committed: Committed::default(),
            outbox: Outbox::default(),
            claim: backend.claim_clause(),
        };
        tokio::spawn(run(backend, ctx, rx, feed));
        Writer { queue }
    }

    /// Queues a change and waits until it is committed (or refused).
    pub async fn submit<C: Change>(&self, change: C) -> Answer<C::Output> {
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
    backend: Backend,
    mut ctx: WriteCtx,
    mut rx: mpsc::Receiver<Box<dyn Queued>>,
    feed: Arc<Feed>,
) {
    let mut batch: Vec<Box<dyn Queued>> = Vec::with_capacity(MAX_BATCH);
    // Set when the connection failed so badly it could not roll back.
    let mut broken = false;
    while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let began = async {
            if broken {
                ctx.conn = backend.connect_writer().await?;
                broken = false;
            }
            backend.begin_batch(&mut ctx.conn, &mut ctx.head).await
        };
        if let Err(error) = began.await {
            tracing::error!(%error, "cannot start a write batch");
            broken = true;
            batch.drain(..).for_each(|q| q.fail(error.clone()));
            continue;
        }
        let head = ctx.head.clone();
        let mut replies = Vec::with_capacity(batch.len());
        let mut failure = None;
        for queued in batch.drain(..) {
            if let Some(error) = &failure {
                queued.fail(StoreError::clone(error));
                continue;
            }
            let (reply, failed) = queued.run(&mut ctx).await;
            replies.push(reply);
            failure = failed;
        }
        let outcome = match failure {
            Some(error) => Err(error),
            None => commit(&backend, &mut ctx).await,
        };
        let committed = mem::take(&mut ctx.committed);
        match outcome {
            Ok(()) => {
                if !committed.is_empty() {
                    feed.publish_local(committed);
                }
                replies.into_iter().for_each(|reply| reply(Ok(())));
            }
            Err(error) => {
                tracing::error!(%error, "write batch failed; rolled back");
                ctx.head = head;
                broken = sqlx::query("ROLLBACK")
                    .execute(&mut ctx.conn)
                    .await
                    .is_err();
                replies
                    .into_iter()
                    .for_each(|reply| reply(Err(error.clone())));
            }
        }
    }
    let _ = ctx.conn.close().await;
}

async fn commit(backend: &Backend, ctx: &mut WriteCtx) -> Result<(), StoreError> {
    ctx.flush_events().await?;
    if let Some(last) = ctx.committed.events.last() {
        backend.announce(&mut ctx.conn, last.seq).await?;
    }
    sqlx::query("COMMIT").execute(&mut ctx.conn).await?;
    Ok(())
}
