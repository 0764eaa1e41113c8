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
//! Each change answers its caller (see [`super::change`]). A database
//! failure fails the whole batch: it is rolled back and every caller in it
//! gets the error. Events are buffered and written with one multi-row INSERT
//! per batch, together with their webhook deliveries. Replies go out only
//! after COMMIT returns, so a 2xx answer means the change is durable.
//!
//! A failed batch may mean the chain head this writer holds is stale (on
//! SQLite only another process writing the same file could do that): the
//! next batch reads the head again inside its transaction. While batches
//! fail the writer counts as unhealthy ([`Writer::failing`], which readiness
//! reports); an idle unhealthy writer probes the database every second
//! (reconnect, lock, re-read the head) so it turns healthy again without
//! waiting for traffic.

use std::mem;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use assent_domain::event::ChainHead;
use async_trait::async_trait;
use sqlx::{AnyConnection, Connection};
use tokio::sync::{mpsc, oneshot};

use super::backend::Backend;
use super::change::{Change, ChangeError, WriteCtx};
use super::notices::Notices;
use super::{events, outbox};
use crate::{Committed, StoreError};

/// Most changes one transaction takes; bounds the latency a batch adds.
const MAX_BATCH: usize = 512;
/// Changes waiting for the writer before callers wait for room.
const QUEUE_DEPTH: usize = 8_192;
/// How often an idle writer whose last batch failed tries to recover.
const PROBE_EVERY: Duration = Duration::from_secs(1);

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
    reply: oneshot::Sender<Result<C::Output, StoreError>>,
}

#[async_trait]
impl<C: Change> Queued for WithReply<C> {
    async fn run(self: Box<Self>, ctx: &mut WriteCtx) -> (Reply, Option<StoreError>) {
        let WithReply { change, reply } = *self;
        let answer = match change.apply(ctx).await {
            Ok(output) => Ok(output),
            Err(ChangeError::Refused(refusal)) => Err(refusal),
            Err(ChangeError::Failed(error)) => {
                let own = error.clone();
                return (
                    Box::new(move |batch: Result<(), StoreError>| {
                        drop(reply.send(Err(batch.err().unwrap_or(own))))
                    }),
                    Some(error),
                );
            }
        };
        (
            Box::new(move |batch: Result<(), StoreError>| drop(reply.send(batch.and(answer)))),
            None,
        )
    }

    fn fail(self: Box<Self>, error: StoreError) {
        let _ = self.reply.send(Err(error));
    }
}

/// The handle callers use to queue changes.
#[derive(Clone)]
pub(crate) struct Writer {
    queue: mpsc::Sender<Box<dyn Queued>>,
    /// Batches failed in a row since the last commit or successful probe.
    failing: Arc<AtomicU32>,
}

impl Writer {
    /// Starts the writer task on `conn`, whose chain ends at `head`; it
    /// publishes each commit to `notices`.
    pub fn start(
        backend: Backend,
        conn: AnyConnection,
        head: ChainHead,
        notices: Arc<Notices>,
    ) -> Writer {
        let (queue, rx) = mpsc::channel(QUEUE_DEPTH);
        let ctx = WriteCtx {
            conn,
            head,
            committed: Committed::default(),
            webhook_targets: Vec::new(),
            claim: backend.claim_clause(),
            live_grants: None,
        };
        let failing = Arc::new(AtomicU32::new(0));
        tokio::spawn(run(backend, ctx, rx, notices, failing.clone()));
        Writer { queue, failing }
    }

    /// How many batches failed in a row (0 when the last one committed or
    /// a probe since found the database writable).
    pub fn failing(&self) -> u32 {
        self.failing.load(Ordering::Relaxed)
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
    backend: Backend,
    mut ctx: WriteCtx,
    mut rx: mpsc::Receiver<Box<dyn Queued>>,
    notices: Arc<Notices>,
    failing: Arc<AtomicU32>,
) {
    let mut batch: Vec<Box<dyn Queued>> = Vec::with_capacity(MAX_BATCH);
    // Set when the connection failed so badly it could not roll back.
    let mut broken = false;
    // Set when a batch failed: the head may be stale, read it again.
    let mut stale = false;
    loop {
        let unhealthy = failing.load(Ordering::Relaxed) > 0;
        tokio::select! {
            received = rx.recv_many(&mut batch, MAX_BATCH) => {
                if received == 0 {
                    break;
                }
            }
            () = tokio::time::sleep(PROBE_EVERY), if unhealthy => {
                match probe(&backend, &mut ctx, &mut broken).await {
                    Ok(()) => {
                        stale = false;
                        failing.store(0, Ordering::Relaxed);
                        tracing::info!("the store is writable again");
                    }
                    Err(error) => tracing::warn!(%error, "the store is still not writable"),
                }
                continue;
            }
        }
        let began = async {
            if broken {
                ctx.conn = backend.connect_writer().await?;
                broken = false;
            }
            backend.begin_batch(&mut ctx.conn, &mut ctx.head).await?;
            if stale {
                backend.reload_head(&mut ctx.conn, &mut ctx.head).await?;
                stale = false;
            }
            Ok::<(), StoreError>(())
        };
        if let Err(error) = began.await {
            tracing::error!(%error, "cannot start a write batch");
            broken = true;
            failing.fetch_add(1, Ordering::Relaxed);
            batch.drain(..).for_each(|q| q.fail(error.clone()));
            continue;
        }
        let head = ctx.head.clone();
        ctx.live_grants = None;
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
                failing.store(0, Ordering::Relaxed);
                if !committed.is_empty() {
                    notices.publish_local(committed);
                }
                replies.into_iter().for_each(|reply| reply(Ok(())));
            }
            Err(error) => {
                tracing::error!(%error, "write batch failed; rolled back");
                failing.fetch_add(1, Ordering::Relaxed);
                ctx.head = head;
                stale = true;
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

/// Checks that a batch could start: a connection, the write lock, the
/// chain head read again; then lets go without writing.
async fn probe(backend: &Backend, ctx: &mut WriteCtx, broken: &mut bool) -> Result<(), StoreError> {
    if *broken {
        ctx.conn = backend.connect_writer().await?;
        *broken = false;
    }
    let locked = async {
        backend.begin_batch(&mut ctx.conn, &mut ctx.head).await?;
        backend.reload_head(&mut ctx.conn, &mut ctx.head).await
    }
    .await;
    let released = sqlx::query("ROLLBACK").execute(&mut ctx.conn).await;
    if released.is_err() {
        *broken = true;
    }
    locked?;
    released?;
    Ok(())
}

/// Writes the batch's events and their webhook deliveries, tells other
/// instances, and commits.
async fn commit(backend: &Backend, ctx: &mut WriteCtx) -> Result<(), StoreError> {
    events::insert(&mut ctx.conn, &ctx.committed.events).await?;
    outbox::enqueue(&mut ctx.conn, &ctx.webhook_targets, &ctx.committed.events).await?;
    if let Some(last) = ctx.committed.events.last() {
        backend.announce(&mut ctx.conn, last.seq).await?;
    }
    sqlx::query("COMMIT").execute(&mut ctx.conn).await?;
    Ok(())
}
