//! Publishes commit notices in `seq` order, each event exactly once.
//!
//! This instance's own commits are published by the writer as they commit.
//! Other instances' commits (PostgreSQL) arrive as NOTIFY wake-ups, after
//! which the catch-up re-reads the store from the last `seq` it published — so a
//! lost or coalesced NOTIFY delays a notice but never loses one, and a local
//! commit that lands after another instance's is held back until the
//! catch-up has published what came before it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use assent_domain::{Approval, Event};
use sqlx::AnyPool;
use tokio::sync::{Notify, broadcast};
use uuid::Uuid;

use super::{approvals, events};
use crate::{Committed, StoreError};

/// How many committed notices a slow subscriber may fall behind before it
/// sees `Lagged` and must re-read the store.
const CHANNEL_CAPACITY: usize = 16_384;
/// Events read per catch-up query.
const CATCH_UP_PAGE: u32 = 1_000;

pub(crate) struct Notices {
    /// The last `seq` published; held only while deciding and sending.
    published: Mutex<i64>,
    notices: broadcast::Sender<Arc<Committed>>,
    /// Woken when a catch-up from the store is needed.
    behind: Notify,
}

impl Notices {
    pub fn new(last_seq: i64) -> Arc<Notices> {
        let (notices, _) = broadcast::channel(CHANNEL_CAPACITY);
        Arc::new(Notices {
            published: Mutex::new(last_seq),
            notices,
            behind: Notify::new(),
        })
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Committed>> {
        self.notices.subscribe()
    }

    /// A commit made by this instance's writer.
    pub fn publish_local(&self, committed: Committed) {
        let mut published = self
            .published
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        match (committed.events.first(), committed.events.last()) {
            (Some(first), Some(last)) if first.seq == *published + 1 => {
                *published = last.seq;
                let _ = self.notices.send(Arc::new(committed));
            }
            // Another instance committed in between: the catch-up publishes
            // its events and then these, in order.
            _ => self.behind.notify_one(),
        }
    }

    /// Asks for a catch-up (a NOTIFY arrived, or the listener reconnected).
    pub fn wake(&self) {
        self.behind.notify_one();
    }

    /// Waits until a catch-up is asked for.
    pub async fn needed(&self) {
        self.behind.notified().await;
    }

    /// Publishes everything the store holds after the last published `seq`.
    pub async fn catch_up(&self, readers: &AnyPool) -> Result<(), StoreError> {
        loop {
            let after = *self
                .published
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            let events = events::after(readers, after, CATCH_UP_PAGE).await?;
            let Some(last) = events.last().map(|e| e.seq) else {
                return Ok(());
            };
            let full_page = events.len() == CATCH_UP_PAGE as usize;
            let mut decided = decided_approvals(readers, &events).await?;
            {
                let mut published = self
                    .published
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner);
                let fresh: Vec<Event> = events.into_iter().filter(|e| e.seq > *published).collect();
                if fresh.first().is_some_and(|e| e.seq == *published + 1) {
                    *published = last;
                    let decided = fresh
                        .iter()
                        .filter(|e| e.kind.is_terminal())
                        .filter_map(|e| e.approval_id.and_then(|id| decided.remove(&id)))
                        .collect();
                    let _ = self.notices.send(Arc::new(Committed {
                        events: fresh,
                        decided,
                    }));
                }
            }
            if !full_page {
                return Ok(());
            }
        }
    }
}

/// The approvals that `events` decided, as the store holds them now.
async fn decided_approvals(
    readers: &AnyPool,
    events: &[Event],
) -> Result<HashMap<Uuid, Approval>, StoreError> {
    let mut decided = HashMap::new();
    for id in events
        .iter()
        .filter(|e| e.kind.is_terminal())
        .filter_map(|e| e.approval_id)
    {
        if let Some(approval) = approvals::get(readers, id).await? {
            decided.insert(id, approval);
        }
    }
    Ok(decided)
}
