//! The store as the gateway's handlers see it: every approval it hands out
//! carries its receipt. Whatever path returns an approval — HTTP, long-poll,
//! lists, WebSocket — reads it through here and so gets the receipt without
//! knowing about receipts.

use std::sync::Arc;

use assent_domain::{Approval, Event, Grant, NewEvent, Principal, ReviewRequest};
use assent_store::webhooks::{Delivery, DeliveryOutcome, DeliveryRecord, WebhookTarget};
use assent_store::{
    ApprovalFilter, ApprovalPage, Committed, CreateOutcome, IdempotencyKey, NewToken, Redemption,
    Session, SigningKey, StatsSample, Store, StoreError, TokenRecord,
};
use async_trait::async_trait;
use time::OffsetDateTime;
use tokio::sync::broadcast;
use uuid::Uuid;

use crate::receipts::Receipts;

pub struct ReceiptedStore {
    inner: Arc<dyn Store>,
    receipts: Arc<Receipts>,
}

impl ReceiptedStore {
    pub fn new(inner: Arc<dyn Store>, receipts: Arc<Receipts>) -> ReceiptedStore {
        ReceiptedStore { inner, receipts }
    }

    fn attach(&self, mut approval: Approval) -> Approval {
        self.receipts.attach(&mut approval);
        approval
    }

    fn attach_all(&self, approvals: Vec<Approval>) -> Vec<Approval> {
        approvals.into_iter().map(|a| self.attach(a)).collect()
    }
}

#[async_trait]
impl Store for ReceiptedStore {
    async fn create_approval(
        &self,
        approval: Approval,
        idempotency: Option<IdempotencyKey>,
    ) -> Result<CreateOutcome, StoreError> {
        Ok(
            match self.inner.create_approval(approval, idempotency).await? {
                CreateOutcome::Created(a) => CreateOutcome::Created(self.attach(a)),
                CreateOutcome::Replayed(a) => CreateOutcome::Replayed(self.attach(a)),
            },
        )
    }

    async fn get_approval(&self, id: Uuid) -> Result<Option<Approval>, StoreError> {
        Ok(self.inner.get_approval(id).await?.map(|a| self.attach(a)))
    }

    async fn list_approvals(&self, filter: &ApprovalFilter) -> Result<ApprovalPage, StoreError> {
        let page = self.inner.list_approvals(filter).await?;
        Ok(ApprovalPage {
            items: self.attach_all(page.items),
            next: page.next,
        })
    }

    async fn review(
        &self,
        id: Uuid,
        reviewer: Principal,
        review: ReviewRequest,
        now: OffsetDateTime,
    ) -> Result<Approval, StoreError> {
        let approval = self.inner.review(id, reviewer, review, now).await?;
        Ok(self.attach(approval))
    }

    async fn cancel(
        &self,
        id: Uuid,
        by: Principal,
        reason: Option<String>,
        now: OffsetDateTime,
    ) -> Result<Approval, StoreError> {
        self.inner.cancel(id, by, reason, now).await
    }

    async fn expire_due(
        &self,
        now: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<Approval>, StoreError> {
        self.inner.expire_due(now, limit).await
    }

    async fn escalate_due(
        &self,
        now: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<Approval>, StoreError> {
        self.inner.escalate_due(now, limit).await
    }

    async fn next_deadline(&self) -> Result<Option<OffsetDateTime>, StoreError> {
        self.inner.next_deadline().await
    }

    async fn create_token(
        &self,
        token: NewToken,
        now: OffsetDateTime,
    ) -> Result<TokenRecord, StoreError> {
        self.inner.create_token(token, now).await
    }

    async fn token_by_hash(&self, token_sha256: &str) -> Result<Option<TokenRecord>, StoreError> {
        self.inner.token_by_hash(token_sha256).await
    }

    async fn list_tokens(&self) -> Result<Vec<TokenRecord>, StoreError> {
        self.inner.list_tokens().await
    }

    async fn revoke_token(
        &self,
        name: &str,
        actor: &str,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        self.inner.revoke_token(name, actor, now).await
    }

    async fn list_grants(
        &self,
        now: OffsetDateTime,
        created_by: Option<&str>,
    ) -> Result<Vec<Grant>, StoreError> {
        self.inner.list_grants(now, created_by).await
    }

    async fn get_grant(&self, id: Uuid) -> Result<Option<Grant>, StoreError> {
        self.inner.get_grant(id).await
    }

    async fn matching_grant(
        &self,
        action: &str,
        args_sha256: &str,
        session_id: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<Option<Grant>, StoreError> {
        self.inner
            .matching_grant(action, args_sha256, session_id, now)
            .await
    }

    async fn revoke_grant(
        &self,
        id: Uuid,
        actor: &str,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        self.inner.revoke_grant(id, actor, now).await
    }

    async fn record_event(&self, event: NewEvent, now: OffsetDateTime) -> Result<(), StoreError> {
        self.inner.record_event(event, now).await
    }

    async fn events_after(&self, after: i64, limit: u32) -> Result<Vec<Event>, StoreError> {
        self.inner.events_after(after, limit).await
    }

    async fn approval_events(&self, id: Uuid) -> Result<Vec<Event>, StoreError> {
        self.inner.approval_events(id).await
    }

    async fn create_session(&self, session: Session) -> Result<(), StoreError> {
        self.inner.create_session(session).await
    }

    async fn session_by_hash(
        &self,
        id_sha256: &str,
        now: OffsetDateTime,
    ) -> Result<Option<Session>, StoreError> {
        self.inner.session_by_hash(id_sha256, now).await
    }

    async fn delete_session(&self, id_sha256: &str) -> Result<(), StoreError> {
        self.inner.delete_session(id_sha256).await
    }

    async fn stats_sample(
        &self,
        since: OffsetDateTime,
        limit: u32,
    ) -> Result<StatsSample, StoreError> {
        self.inner.stats_sample(since, limit).await
    }

    async fn set_webhook_targets(&self, targets: Vec<WebhookTarget>) -> Result<(), StoreError> {
        self.inner.set_webhook_targets(targets).await
    }

    async fn claim_deliveries(
        &self,
        now: OffsetDateTime,
        until: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<Delivery>, StoreError> {
        self.inner.claim_deliveries(now, until, limit).await
    }

    async fn settle_delivery(
        &self,
        id: i64,
        outcome: DeliveryOutcome,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        self.inner.settle_delivery(id, outcome, now).await
    }

    async fn next_delivery_due(&self) -> Result<Option<OffsetDateTime>, StoreError> {
        self.inner.next_delivery_due().await
    }

    async fn webhook_deliveries(
        &self,
        after: i64,
        limit: u32,
    ) -> Result<Vec<DeliveryRecord>, StoreError> {
        self.inner.webhook_deliveries(after, limit).await
    }

    async fn ensure_signing_key(&self, candidate: SigningKey) -> Result<SigningKey, StoreError> {
        self.inner.ensure_signing_key(candidate).await
    }

    async fn redeem_receipt(&self, redemption: Redemption) -> Result<(), StoreError> {
        self.inner.redeem_receipt(redemption).await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.inner.ping().await
    }

    /// Raw notices: their decided approvals get receipts in [`crate::commits`].
    fn subscribe(&self) -> broadcast::Receiver<Arc<Committed>> {
        self.inner.subscribe()
    }
}
