//! Webhook delivery: workers that drain the store's durable outbox.
//!
//! The store writes one delivery row per (event, webhook that wants it) in
//! the event's own transaction, so the request path never waits on a
//! receiver and nothing is lost across restarts. The worker claims due rows
//! with a lease, POSTs each event with Standard Webhooks headers, and
//! settles the row: delivered on 2xx, otherwise retried with exponential
//! backoff and full jitter until `webhook_retry_for` after the event, then
//! failed. It sleeps until a commit notice or the next due time — never a
//! polling loop. Delivery is at least once: receivers dedupe by `webhook-id`.

mod settings;
mod sign;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use assent_store::Store;
use assent_store::webhooks::{Delivery, DeliveryOutcome};
use time::OffsetDateTime;
use tokio::sync::broadcast::error::{RecvError, TryRecvError};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

pub use settings::{Webhook, WebhookConfig, WebhookSecret, resolve_all};
pub use sign::SigningKey;

use crate::clock::now;

/// The longest a retry waits, however many attempts failed before.
const MAX_RETRY_DELAY: Duration = Duration::from_secs(3600);
/// How long a claim outlives the request timeout: time to settle the row.
const LEASE_MARGIN: Duration = Duration::from_secs(30);
/// Longest sleep with nothing due: a safety net for rows another instance
/// left behind, not a polling loop (commits and due times wake us sooner).
const IDLE: Duration = Duration::from_secs(60);
/// How long to back off after the store failed.
const STORE_RETRY: Duration = Duration::from_secs(1);

/// How deliveries are attempted and retried (from the config).
#[derive(Debug, Clone)]
pub struct DeliverySettings {
    /// Upper bound of the first retry delay; doubles with each failure.
    pub retry_base: Duration,
    /// How long after its event a delivery keeps being retried.
    pub retry_for: Duration,
    /// Per-request timeout.
    pub timeout: Duration,
    /// Requests in flight at most.
    pub concurrency: usize,
}

/// The delivery worker of one gateway instance.
pub struct Sender {
    store: Arc<dyn Store>,
    /// Turns an approval id into its console page, added to payloads.
    links: ConsoleLinks,
    hooks: HashMap<String, Webhook>,
    http: reqwest::Client,
    settings: DeliverySettings,
}

impl Sender {
    pub fn new(
        store: Arc<dyn Store>,
        hooks: Vec<Webhook>,
        settings: DeliverySettings,
        console_base: String,
    ) -> Result<Sender, String> {
        let http = reqwest::Client::builder()
            .timeout(settings.timeout)
            // A redirect is an answer that is not 2xx: retried, never followed
            // to a host the admin did not configure.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("assent/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("webhook HTTP client: {e}"))?;
        Ok(Sender {
            store,
            links: ConsoleLinks { base: console_base },
            hooks: hooks.into_iter().map(|h| (h.id.clone(), h)).collect(),
            http,
            settings,
        })
    }

    /// Delivers until `shutdown`; then abandons in-flight attempts, releasing
    /// their claims so the next start retries them at once.
    pub async fn run(self: Arc<Self>, shutdown: CancellationToken) {
        // Subscribed before the first claim, so no commit falls in between.
        let mut notices = self.store.subscribe();
        let mut inflight = JoinSet::new();
        loop {
            let wait = self.claim(&mut inflight, &shutdown).await;
            tokio::select! {
                () = shutdown.cancelled() => break,
                Some(_) = inflight.join_next(), if !inflight.is_empty() => {}
                // Without webhooks nothing new is ever queued; only rows of
                // webhooks removed since (claimed at start) remain.
                notice = notices.recv(), if !self.hooks.is_empty() => match notice {
                    Ok(_) | Err(RecvError::Lagged(_)) => drain(&mut notices),
                    Err(RecvError::Closed) => break,
                },
                () = tokio::time::sleep(wait) => {}
            }
        }
        while inflight.join_next().await.is_some() {}
    }

    /// Claims what is due while there is room, starts each attempt, and
    /// returns how long to sleep before the next delivery falls due.
    async fn claim(
        self: &Arc<Self>,
        inflight: &mut JoinSet<()>,
        shutdown: &CancellationToken,
    ) -> Duration {
        let room = self.settings.concurrency.saturating_sub(inflight.len());
        if room == 0 {
            // Nothing can be claimed until an attempt ends, which wakes us.
            return IDLE;
        }
        let at = now();
        let lease = self.settings.timeout + LEASE_MARGIN;
        let limit = u32::try_from(room).unwrap_or(u32::MAX);
        match self.store.claim_deliveries(at, at + lease, limit).await {
            Ok(claimed) => {
                for delivery in claimed {
                    inflight.spawn(Arc::clone(self).attempt(delivery, shutdown.clone()));
                }
            }
            Err(error) => {
                tracing::warn!(%error, "claiming webhook deliveries failed; retrying");
                return STORE_RETRY;
            }
        }
        match self.store.next_delivery_due().await {
            // The store counts in milliseconds: wake just after the due one.
            Ok(Some(due)) => (due - now() + time::Duration::milliseconds(1))
                .try_into()
                .unwrap_or(Duration::ZERO)
                .min(IDLE),
            Ok(None) => IDLE,
            Err(error) => {
                tracing::warn!(%error, "reading the webhook outbox failed; retrying");
                STORE_RETRY
            }
        }
    }

    /// One attempt at one delivery, settled in the store however it ends.
    async fn attempt(self: Arc<Self>, delivery: Delivery, shutdown: CancellationToken) {
        let outcome = match self.hooks.get(&delivery.webhook_id) {
            None => DeliveryOutcome::Abandoned {
                error: "the webhook is no longer configured".into(),
            },
            Some(hook) => tokio::select! {
                sent = self.post(hook, &delivery) => self.judge(&delivery, sent),
                () = shutdown.cancelled() => DeliveryOutcome::Released,
            },
        };
        let result = match &outcome {
            DeliveryOutcome::Delivered => Some("delivered"),
            DeliveryOutcome::Retry { .. } => Some("retry"),
            DeliveryOutcome::Failed { .. } | DeliveryOutcome::Abandoned { .. } => Some("failed"),
            DeliveryOutcome::Released => None,
        };
        if let Some(result) = result {
            metrics::counter!("assent_webhook_deliveries_total", "result" => result).increment(1);
        }
        if let DeliveryOutcome::Failed { error } | DeliveryOutcome::Abandoned { error } = &outcome {
            tracing::warn!(
                webhook = %delivery.webhook_id,
                seq = delivery.event.seq,
                %error,
                "webhook delivery failed for good"
            );
        }
        if let Err(error) = self
            .store
            .settle_delivery(delivery.id, outcome, now())
            .await
        {
            // The claim runs out and the delivery is tried again.
            tracing::warn!(%error, delivery = delivery.id, "settling a webhook delivery failed");
        }
    }

    /// POSTs the event; `Err` says why it does not count as delivered.
    async fn post(&self, hook: &Webhook, delivery: &Delivery) -> Result<(), String> {
        let body = self.links.payload(&delivery.event)?;
        let id = message_id(delivery);
        let timestamp = OffsetDateTime::now_utc().unix_timestamp();
        let signature = hook.key.sign(&id, timestamp, &body);
        let response = self
            .http
            .post(hook.url.clone())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header("webhook-id", id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(body)
            .send()
            .await
            // The URL may carry credentials; errors are logged and stored.
            .map_err(|e| e.without_url().to_string())?;
        let status = response.status();
        if status.is_success() {
            Ok(())
        } else {
            Err(format!("the receiver answered {status}"))
        }
    }

    /// Delivered, or when to try again, or failed once `retry_for` has
    /// passed since the event.
    fn judge(&self, delivery: &Delivery, sent: Result<(), String>) -> DeliveryOutcome {
        let Err(error) = sent else {
            return DeliveryOutcome::Delivered;
        };
        let at = now();
        let give_up = delivery.event.at + self.settings.retry_for;
        if at >= give_up {
            return DeliveryOutcome::Failed { error };
        }
        let failures = u32::try_from(delivery.attempts + 1).unwrap_or(u32::MAX);
        let next = at + backoff(self.settings.retry_base, failures, random_fraction());
        DeliveryOutcome::Retry {
            at: next.min(give_up),
            error,
        }
    }
}

/// Deep links into the web console for webhook payloads.
struct ConsoleLinks {
    /// `public_url` without a trailing `/`.
    base: String,
}

impl ConsoleLinks {
    /// The body of a delivery: the event as the audit log has it, plus
    /// `console_url` (the approval's page) for events about an approval.
    fn payload(&self, event: &assent_domain::Event) -> Result<Vec<u8>, String> {
        let mut body = serde_json::to_value(event).map_err(|e| e.to_string())?;
        if let (Some(id), Some(fields)) = (event.approval_id, body.as_object_mut()) {
            fields.insert(
                "console_url".into(),
                format!("{}/#/approvals/{id}", self.base).into(),
            );
        }
        serde_json::to_vec(&body).map_err(|e| e.to_string())
    }
}

/// `webhook-id`: the same for every attempt at one delivery, different for
/// each (event, webhook) pair.
fn message_id(delivery: &Delivery) -> String {
    format!("msg_{}_{}", delivery.webhook_id, delivery.event.seq)
}

/// Full jitter: uniformly between zero and `base · 2^(failures−1)`, that
/// ceiling capped at [`MAX_RETRY_DELAY`]. `fraction` is in `[0, 1)`.
fn backoff(base: Duration, failures: u32, fraction: f64) -> Duration {
    let doublings = failures.saturating_sub(1).min(31);
    let ceiling = base
        .checked_mul(1 << doublings)
        .unwrap_or(MAX_RETRY_DELAY)
        .min(MAX_RETRY_DELAY);
    ceiling.mul_f64(fraction)
}

/// A uniform random number in `[0, 1)`; jitter needs no cryptographic
/// strength, and without the OS generator the ceiling is used.
fn random_fraction() -> f64 {
    getrandom::u64().map_or(1.0, |bits| (bits >> 11) as f64 / (1u64 << 53) as f64)
}

/// Empties the notices already queued: one claim answers them all.
fn drain(notices: &mut tokio::sync::broadcast::Receiver<Arc<assent_store::Committed>>) {
    while !matches!(
        notices.try_recv(),
        Err(TryRecvError::Empty | TryRecvError::Closed)
    ) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap_with_full_jitter() {
        let base = Duration::from_secs(5);
        assert_eq!(backoff(base, 1, 0.999_999), base.mul_f64(0.999_999));
        assert_eq!(backoff(base, 3, 0.5), Duration::from_secs(10));
        assert_eq!(backoff(base, 3, 0.0), Duration::ZERO);
        assert_eq!(backoff(base, 40, 0.5), MAX_RETRY_DELAY / 2);
        assert_eq!(backoff(Duration::MAX, 2, 1.0), MAX_RETRY_DELAY);
    }

    #[test]
    fn random_fractions_stay_below_one() {
        assert!(
            (0..1000)
                .map(|_| random_fraction())
                .all(|f| (0.0..1.0).contains(&f))
        );
    }
}
