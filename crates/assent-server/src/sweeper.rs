//! The sweep: expires pending approvals when their deadline passes and
//! emits `approval.escalated` when their `escalate_at` does.
//!
//! It sleeps until the earliest pending deadline (re-checked at least every
//! second), and a new approval wakes it only when its deadline comes before
//! the planned wake-up — so a stream of creates costs the sweep nothing.
//! The expiry goes through the store like any decision, so its commit wakes
//! the waiters.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use assent_domain::timestamp::unix_millis;
use assent_store::Store;
use time::OffsetDateTime;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::clock::now;

/// Longest sleep between sweeps, so deadlines set elsewhere are noticed.
const MAX_SLEEP: Duration = Duration::from_secs(1);
/// Approvals expired per transaction.
const BATCH: u32 = 500;

/// When the sweeper next wakes, and the means to wake it sooner.
#[derive(Default)]
pub struct Schedule {
    /// Unix milliseconds of the planned wake-up (0 while sweeping).
    wake_at: AtomicI64,
    sooner: Notify,
}

impl Schedule {
    /// A new pending approval: wakes the sweeper if it would sleep past `deadline`.
    pub fn deadline_added(&self, deadline: OffsetDateTime) {
        if unix_millis(deadline) < self.wake_at.load(Ordering::Acquire) {
            self.sooner.notify_one();
        }
    }
}

pub async fn run(store: Arc<dyn Store>, schedule: Arc<Schedule>, shutdown: CancellationToken) {
    loop {
        schedule.wake_at.store(0, Ordering::Release);
        let sleep = match sweep(store.as_ref()).await {
            Ok(sleep) => sleep,
            Err(e) => {
                tracing::warn!(error = %e, "expiry sweep failed; retrying");
                MAX_SLEEP
            }
        };
        let wake_at = now() + sleep;
        schedule
            .wake_at
            .store(unix_millis(wake_at), Ordering::Release);
        tokio::select! {
            () = tokio::time::sleep(sleep) => {}
            () = schedule.sooner.notified() => {}
            () = shutdown.cancelled() => return,
        }
    }
}

/// Expires everything due and returns how long to sleep before the next deadline.
async fn sweep(store: &dyn Store) -> Result<Duration, assent_store::StoreError> {
    loop {
        let expired = store.expire_due(now(), BATCH).await?;
        let escalated = store.escalate_due(now(), BATCH).await?;
        if !expired.is_empty() || !escalated.is_empty() {
            tracing::debug!(
                expired = expired.len(),
                escalated = escalated.len(),
                "sweep"
            );
        }
        if expired.len() < BATCH as usize && escalated.len() < BATCH as usize {
            break;
        }
    }
    let until_next = match store.next_deadline().await? {
        Some(deadline) => (deadline - now()).try_into().unwrap_or(Duration::ZERO),
        None => MAX_SLEEP,
    };
    Ok(until_next.min(MAX_SLEEP))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn only_an_earlier_deadline_wakes_the_sweeper() {
        let schedule = Schedule::default();
        let base = now();
        schedule.wake_at.store(
            unix_millis(base + time::Duration::seconds(1)),
            Ordering::Release,
        );
        schedule.deadline_added(base + time::Duration::hours(1));
        let woken =
            tokio::time::timeout(Duration::from_millis(50), schedule.sooner.notified()).await;
        assert!(woken.is_err(), "a later deadline leaves the sweeper asleep");
        schedule.deadline_added(base + time::Duration::milliseconds(200));
        tokio::time::timeout(Duration::from_millis(50), schedule.sooner.notified())
            .await
            .unwrap();
    }
}
