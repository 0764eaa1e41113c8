//! What every request handler, WebSocket method and background task of one
//! gateway shares.

use std::sync::Arc;

use assent_store::Store;
use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::live_streams::LiveStreams;
use crate::rate_limit::RateLimits;
use crate::receipt_issuer::Receipts;
use crate::running_policy::RunningPolicy;
use crate::signer::Signer;
use crate::sweeper::Schedule;
use crate::token_cache::TokenCache;
use crate::waiters::Waiters;

#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub config: Arc<Config>,
    pub waiters: Arc<Waiters>,
    pub tokens: Arc<TokenCache>,
    /// SSE streams, WebSockets and long-polls, by the credential that opened them.
    pub streams: Arc<LiveStreams>,
    pub policy: Arc<RunningPolicy>,
    /// Signs receipts and audit exports; its public keys are the JWKS.
    pub signer: Arc<Signer>,
    pub receipts: Arc<Receipts>,
    /// The expiry sweep's wake-up, moved earlier by approvals that expire sooner.
    pub sweep: Arc<Schedule>,
    /// Failed authentications per address, requests per token.
    pub limits: Arc<RateLimits>,
    /// Cancelled on shutdown: long-polls return at once so clients reconnect elsewhere.
    pub shutdown: CancellationToken,
}
