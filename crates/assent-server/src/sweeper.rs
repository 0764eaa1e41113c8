//! The expiry sweep: expires pending approvals when their deadline passes.
//!
//! It sleeps until the earliest pending deadline (re-checked at least every
//! second, and at once when a new approval is created), so approvals expire
//! within milliseconds of their deadline. The expiry goes through the store
//! like any decision, so its commit wakes the waiters.

use std::sync::Arc;
use std::time::Duration;

use assent_store::Store;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::app::now;

/// Longest sleep between sweeps, so deadlines set elsewhere are noticed.
const MAX_SLEEP: Duration = Duration::from_secs(1);
/// Approvals expired per transaction.
const BATCH: u32 = 500;

pub async fn run(store: Arc<dyn Store>, new_deadline: Arc<Notify>, shutdown: CancellationToken) {
    loop {
        let sleep = match sweep(store.as_ref()).await {
            Ok(sleep) => sleep,
            Err(e) => {
                tracing::warn!(error = %e, "expiry sweep failed; retrying");
                MAX_SLEEP
            }
        };
        tokio::select! {
            () = tokio::time::sleep(sleep) => {}
            () = new_deadline.notified() => {}
            () = shutdown.cancelled() => return,
        }
    }
}

/// Expires everything due and returns how long to sleep before the next deadline.
async fn sweep(store: &dyn Store) -> Result<Duration, assent_store::StoreError> {
    loop {
        let expired = store.expire_due(now(), BATCH).await?;
        if !expired.is_empty() {
            tracing::debug!(count = expired.len(), "expired approvals");
        }
        if expired.len() < BATCH as usize {
            break;
        }
    }
    let until_next = match store.next_deadline().await? {
        Some(deadline) => (deadline - now()).try_into().unwrap_or(Duration::ZERO),
        None => MAX_SLEEP,
    };
    Ok(until_next.min(MAX_SLEEP))
}
