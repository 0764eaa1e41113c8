//! Long-poll waiters, woken by the commit of the decision itself.
//!
//! A waiter registers for an approval id, then reads the approval, then
//! waits: registering first means a decision committed between the read and
//! the wait is not missed. [`crate::commits`] feeds decisions in.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use assent_domain::Approval;
use assent_store::Store;
use tokio::sync::watch;
use uuid::Uuid;

/// The decided approval, and when its commit notice arrived (for the
/// wake-up latency metric).
type Decided = Option<(Arc<Approval>, Instant)>;
type Slot = Arc<watch::Sender<Decided>>;

#[derive(Default)]
pub struct Waiters {
    slots: Mutex<HashMap<Uuid, (Slot, usize)>>,
}

/// One waiter's interest in one approval; unregisters when dropped.
pub struct Registration {
    waiters: Arc<Waiters>,
    id: Uuid,
    slot: Slot,
    rx: watch::Receiver<Decided>,
}

impl Registration {
    /// Resolves with the terminal approval once its decision is committed,
    /// recording how long the wake-up took.
    pub async fn decided(&mut self) -> Option<Arc<Approval>> {
        let (approval, committed) = self.rx.wait_for(Option::is_some).await.ok()?.clone()?;
        crate::metrics::waiter_woken(committed);
        Some(approval)
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        let mut slots = self
            .waiters
            .slots
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some((slot, count)) = slots.get_mut(&self.id)
            && Arc::ptr_eq(slot, &self.slot)
        {
            *count -= 1;
            if *count == 0 {
                slots.remove(&self.id);
            }
        }
    }
}

impl Waiters {
    pub fn register(self: &Arc<Self>, id: Uuid) -> Registration {
        let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
        let (slot, count) = slots
            .entry(id)
            .or_insert_with(|| (Arc::new(watch::Sender::new(None)), 0));
        *count += 1;
        let slot = slot.clone();
        let rx = slot.subscribe();
        Registration {
            waiters: self.clone(),
            id,
            slot,
            rx,
        }
    }

    /// How many calls are waiting for a decision now.
    pub fn waiting(&self) -> usize {
        let slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
        slots.values().map(|(_, count)| count).sum()
    }

    /// Wakes everyone waiting on this (terminal) approval.
    pub fn decided(&self, approval: &Approval) {
        let slot = self
            .slots
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&approval.id);
        if let Some((slot, _)) = slot {
            slot.send_replace(Some((Arc::new(approval.clone()), Instant::now())));
        }
    }

    /// How many approvals have at least one waiter.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.slots
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    #[cfg(test)]
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Re-reads every waited-on approval and wakes the waiters of decided
    /// ones: the catch-up after commit notices were missed.
    pub async fn recheck(&self, store: &dyn Store) {
        let ids: Vec<Uuid> = self
            .slots
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .keys()
            .copied()
            .collect();
        for id in ids {
            match store.get_approval(id).await {
                Ok(Some(a)) if a.status.is_terminal() => self.decided(&a),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "re-reading a waited-on approval failed"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use assent_domain::request::{Placement, TimeoutLimits};
    use assent_domain::{CreateApproval, Status};
    use std::time::Duration;

    fn approval() -> Approval {
        let limits = TimeoutLimits {
            default: Duration::from_secs(60),
            max: Duration::from_secs(60),
        };
        CreateApproval {
            action: "x".into(),
            ..Default::default()
        }
        .into_pending(
            Uuid::now_v7(),
            "bot",
            Placement::default(),
            limits,
            time::OffsetDateTime::UNIX_EPOCH,
        )
    }

    #[tokio::test]
    async fn a_decision_wakes_every_waiter_of_that_approval_only() {
        let waiters = Arc::new(Waiters::default());
        let mut a = approval();
        let other = approval();
        let mut first = waiters.register(a.id);
        let mut second = waiters.register(a.id);
        let _unrelated = waiters.register(other.id);
        assert_eq!(waiters.len(), 2);
        a.status = Status::Approved;
        waiters.decided(&a);
        assert_eq!(first.decided().await.unwrap().status, Status::Approved);
        assert_eq!(second.decided().await.unwrap().status, Status::Approved);
        assert_eq!(waiters.len(), 1);
    }

    #[tokio::test]
    async fn dropping_the_last_registration_frees_the_slot() {
        let waiters = Arc::new(Waiters::default());
        let a = approval();
        let r1 = waiters.register(a.id);
        let r2 = waiters.register(a.id);
        assert_eq!(waiters.waiting(), 2, "two calls on one approval");
        drop(r1);
        assert_eq!(waiters.len(), 1);
        assert_eq!(waiters.waiting(), 1);
        drop(r2);
        assert_eq!(waiters.waiting(), 0);
        assert!(waiters.is_empty());
    }
}
