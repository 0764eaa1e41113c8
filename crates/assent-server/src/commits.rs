//! Follows the store's commit notices and fans them out: created and decided
//! approvals are counted in the metrics, decided ones wake their long-poll
//! waiters, revoked tokens leave the token cache and end the streams they opened. When
//! notices were missed (the stream lagged), waiters and tokens catch up from
//! the store.

use std::sync::Arc;

use assent_domain::EventType;
use assent_store::Store;
use tokio::sync::broadcast::error::RecvError;

use crate::live_streams::LiveStreams;
use crate::token_cache::TokenCache;
use crate::waiters::Waiters;

pub async fn follow(
    store: Arc<dyn Store>,
    waiters: Arc<Waiters>,
    tokens: Arc<TokenCache>,
    streams: Arc<LiveStreams>,
) {
    let mut notices = store.subscribe();
    loop {
        match notices.recv().await {
            Ok(committed) => {
                crate::metrics::committed(&committed);
                committed.decided.iter().for_each(|a| waiters.decided(a));
                for event in committed
                    .events
                    .iter()
                    .filter(|e| e.kind == EventType::TokenRevoked)
                {
                    let name = event.data["name"].as_str().map(str::to_owned);
                    match &name {
                        Some(name) => tokens.forget(name),
                        None => tokens.clear(),
                    }
                    end_streams(&store, &streams, name);
                }
            }
            Err(RecvError::Lagged(missed)) => {
                tracing::warn!(missed, "commit notices lagged; catching up from the store");
                tokens.clear();
                end_streams(&store, &streams, None);
                waiters.recheck(store.as_ref()).await;
            }
            Err(RecvError::Closed) => return,
        }
    }
}

/// Ends the open streams of a revoked token (of every revoked token when
/// `principal` is `None`), off the notice loop so waiters are not held up.
fn end_streams(store: &Arc<dyn Store>, streams: &Arc<LiveStreams>, principal: Option<String>) {
    let (store, streams) = (store.clone(), streams.clone());
    tokio::spawn(async move {
        streams
            .token_revoked(store.as_ref(), principal.as_deref())
            .await;
    });
}
