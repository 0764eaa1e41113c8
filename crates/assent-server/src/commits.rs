//! Follows the store's commit notices and fans them out: created and decided
//! approvals are counted in the metrics, decided ones wake their long-poll
//! waiters, revoked tokens leave the token cache. When
//! notices were missed (the stream lagged), waiters and tokens catch up from
//! the store.

use std::sync::Arc;

use assent_domain::EventType;
use assent_store::Store;
use tokio::sync::broadcast::error::RecvError;

use crate::token_cache::TokenCache;
use crate::waiters::Waiters;

pub async fn follow(store: Arc<dyn Store>, waiters: Arc<Waiters>, tokens: Arc<TokenCache>) {
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
                    match event.data["name"].as_str() {
                        Some(name) => tokens.forget(name),
                        None => tokens.clear(),
                    }
                }
            }
            Err(RecvError::Lagged(missed)) => {
                tracing::warn!(missed, "commit notices lagged; catching up from the store");
                tokens.clear();
                waiters.recheck(store.as_ref()).await;
            }
            Err(RecvError::Closed) => return,
        }
    }
}
