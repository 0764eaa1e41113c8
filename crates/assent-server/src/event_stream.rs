//! The event feed behind `GET /v1/events` (SSE) and `events.subscribe`
//! (WebSocket): history after a starting point, then live, in `seq` order.
//!
//! A feed subscribes to commit notices *before* reading history, so nothing
//! committed in between is missed; seqs already sent are skipped. A feed that
//! falls behind the notices (or sees a gap) goes back to reading the store
//! from its last seq, so it never blocks the gateway and never loses an
//! event. Agents see only events about their own approvals.

use std::collections::HashMap;

use assent_domain::{Event, EventType, Principal};
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::mpsc;
use uuid::Uuid;

use crate::state::AppState;

/// Events read from the store per page while catching up.
const PAGE: u32 = 500;
/// Events buffered per feed before the reader waits for the client.
const BUFFER: usize = 256;

/// Which events a feed sends, and from where.
pub struct Subscription {
    /// Send events after this seq; `None` starts with the next event.
    pub after: Option<i64>,
    /// Only these types; `None` for all.
    pub types: Option<Vec<EventType>>,
    pub viewer: Principal,
}

/// Starts a feed; it ends when the receiver is dropped, the store cannot be
/// read, or the gateway shuts down.
pub fn start(state: AppState, subscription: Subscription) -> mpsc::Receiver<Event> {
    let (tx, rx) = mpsc::channel(BUFFER);
    tokio::spawn(feed(state, subscription, tx));
    rx
}

/// Whether the viewer may see an event: agents only those about approvals
/// they requested (remembered per approval for the stream's life).
struct Visibility {
    viewer: Principal,
    owned: HashMap<Uuid, bool>,
}

impl Visibility {
    async fn allows(&mut self, state: &AppState, event: &Event) -> bool {
        if self.viewer.sees_all_approvals() {
            return true;
        }
        let Some(id) = event.approval_id else {
            return false;
        };
        if let Some(owned) = self.owned.get(&id) {
            return *owned;
        }
        let owned = match event.data["approval"]["requester"].as_str() {
            Some(requester) => requester == self.viewer.name,
            None => {
                matches!(state.store.get_approval(id).await, Ok(Some(a)) if a.requester == self.viewer.name)
            }
        };
        self.owned.insert(id, owned);
        owned
    }
}

/// Sends history after the starting point, then live events, until the
/// client goes away or the gateway shuts down.
async fn feed(state: AppState, sub: Subscription, tx: mpsc::Sender<Event>) {
    let mut notices = state.store.subscribe();
    let mut visibility = Visibility {
        viewer: sub.viewer,
        owned: HashMap::new(),
    };
    let wanted = |e: &Event| sub.types.as_ref().is_none_or(|t| t.contains(&e.kind));
    // `None` until the first live event tells us where "now" is.
    let mut last = sub.after;
    loop {
        if let Some(from) = last {
            match catch_up(&state, from, &tx, &mut visibility, &wanted).await {
                Some(seq) => last = Some(seq),
                None => return,
            }
        }
        loop {
            let committed = tokio::select! {
                notice = notices.recv() => notice,
                () = state.shutdown.cancelled() => return,
                () = tx.closed() => return,
            };
            match committed {
                Ok(committed) => {
                    let mut gap = false;
                    for event in &committed.events {
                        let expected = last.map_or(event.seq, |l| l + 1);
                        if event.seq < expected {
                            continue;
                        }
                        if event.seq > expected {
                            gap = true;
                            break;
                        }
                        last = Some(event.seq);
                        if wanted(event)
                            && visibility.allows(&state, event).await
                            && tx.send(event.clone()).await.is_err()
                        {
                            return;
                        }
                    }
                    if gap {
                        break;
                    }
                }
                Err(RecvError::Lagged(_)) if last.is_some() => break,
                Err(RecvError::Lagged(_)) => {}
                Err(RecvError::Closed) => return,
            }
        }
    }
}

/// Sends stored events after `from`; returns the last seq read, or `None`
/// when the stream should end.
async fn catch_up(
    state: &AppState,
    from: i64,
    tx: &mpsc::Sender<Event>,
    visibility: &mut Visibility,
    wanted: &impl Fn(&Event) -> bool,
) -> Option<i64> {
    let mut last = from;
    loop {
        let page = match state.store.events_after(last, PAGE).await {
            Ok(page) => page,
            Err(e) => {
                tracing::warn!(error = %e, "event stream could not read the store; closing it");
                return None;
            }
        };
        for event in &page {
            last = event.seq;
            if wanted(event)
                && visibility.allows(state, event).await
                && tx.send(event.clone()).await.is_err()
            {
                return None;
            }
        }
        if page.len() < PAGE as usize {
            return Some(last);
        }
    }
}
