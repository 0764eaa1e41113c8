//! The HTTP client: one method per API call, plus the long-poll loop that
//! waits out a decision across gateway restarts.

use std::time::Duration;

use assent_api::{
    ApprovalList, AuditPage, CancelRequest, CheckResult, CreateToken, CreatedToken, GrantList,
    ReceiptCheck, ReceiptVerdict, TokenInfo, TokenList,
};
use assent_domain::{Approval, CreateApproval, EventType, Grant, ReviewRequest, Role};
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderValue};
use reqwest::{Method, RequestBuilder, Response, Url};
use serde::de::DeserializeOwned;
use tokio::time::Instant;
use uuid::Uuid;

use crate::backoff::Backoff;
use crate::endpoints::{Endpoints, ListQuery};
use crate::{Error, Jwks};

/// The longest wait the gateway holds one long-poll open for.
pub const MAX_LONG_POLL: Duration = Duration::from_secs(300);

/// How long an ordinary (not long-polling) request may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Added to a long-poll's wait for its request timeout, so a slow answer at
/// the end of the wait is not mistaken for a dead gateway.
const LONG_POLL_GRACE: Duration = Duration::from_secs(30);

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

const USER_AGENT: &str = concat!("assent-client/", env!("CARGO_PKG_VERSION"));

/// A client of one gateway, acting as the principal its token names.
/// Cloning is cheap and shares the connection pool.
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    endpoints: Endpoints,
}

impl Client {
    /// A client for the gateway at `base_url` (e.g. `http://127.0.0.1:8470`)
    /// that sends `token` as its bearer credential.
    pub fn new(base_url: &str, token: &str) -> Result<Self, Error> {
        let endpoints = Endpoints::new(base_url)?;
        let mut auth =
            HeaderValue::from_str(&format!("Bearer {token}")).map_err(|_| Error::InvalidToken)?;
        auth.set_sensitive(true);
        let mut http = reqwest::Client::builder()
            .user_agent(USER_AGENT)
            .default_headers(HeaderMap::from_iter([(AUTHORIZATION, auth)]))
            .connect_timeout(CONNECT_TIMEOUT);
        if endpoints.base().scheme() == "http" {
            // A plain-HTTP gateway needs no TLS: not loading the system's
            // root certificates saves milliseconds at every start of a
            // short-lived client (the Claude Code hook runs once per tool
            // call). A redirect to HTTPS then fails instead of being followed.
            http = http.tls_certs_only(Vec::new());
        }
        Ok(Self {
            http: http.build()?,
            endpoints,
        })
    }

    /// The gateway's base URL.
    pub fn base_url(&self) -> &Url {
        self.endpoints.base()
    }

    /// Asks for approval. The answer is pending unless policy or a grant
    /// decided at once.
    pub async fn request(&self, create: &CreateApproval) -> Result<Approval, Error> {
        self.create(create, None).await
    }

    /// Like [`request`](Self::request), but a retry with the same `key` and
    /// body returns the approval the first call made instead of a new one.
    pub async fn request_idempotent(
        &self,
        create: &CreateApproval,
        key: &str,
    ) -> Result<Approval, Error> {
        self.create(create, Some(key)).await
    }

    pub async fn get(&self, id: Uuid) -> Result<Approval, Error> {
        self.send(self.call(Method::GET, self.endpoints.approval(id)))
            .await
    }

    /// Waits until the approval is decided or `timeout` passes (`None`: until
    /// decided, which its expiry bounds), and returns it as last seen — still
    /// pending if time ran out. Long-polls the gateway; while it is
    /// unreachable or restarting, retries with backoff until the deadline.
    pub async fn wait(&self, id: Uuid, timeout: Option<Duration>) -> Result<Approval, Error> {
        self.wait_until(id, timeout.map(|t| Instant::now() + t))
            .await
    }

    /// Asks for approval and waits for the decision, `timeout` covering both.
    pub async fn request_and_wait(
        &self,
        create: &CreateApproval,
        timeout: Option<Duration>,
    ) -> Result<Approval, Error> {
        let deadline = timeout.map(|t| Instant::now() + t);
        let approval = self.request(create).await?;
        if approval.status.is_terminal() {
            return Ok(approval);
        }
        self.wait_until(approval.id, deadline).await
    }

    /// One page of approvals, newest first.
    pub async fn list(&self, query: &ListQuery) -> Result<ApprovalList, Error> {
        self.send(self.call(Method::GET, self.endpoints.list(query)))
            .await
    }

    /// Records this principal's review.
    pub async fn review(&self, id: Uuid, review: &ReviewRequest) -> Result<Approval, Error> {
        self.send(
            self.call(Method::POST, self.endpoints.approval_action(id, "reviews"))
                .json(review),
        )
        .await
    }

    /// Approves once, the narrowest scope.
    pub async fn approve(&self, id: Uuid) -> Result<Approval, Error> {
        self.review(id, &ReviewRequest::approve()).await
    }

    pub async fn reject(&self, id: Uuid, reason: Option<String>) -> Result<Approval, Error> {
        self.review(
            id,
            &ReviewRequest {
                reason,
                ..ReviewRequest::reject()
            },
        )
        .await
    }

    /// Withdraws a pending approval; only its requester or an admin may.
    pub async fn cancel(&self, id: Uuid, reason: Option<String>) -> Result<Approval, Error> {
        let body = CancelRequest { reason };
        self.send(
            self.call(Method::POST, self.endpoints.approval_action(id, "cancel"))
                .json(&body),
        )
        .await
    }

    /// Creates a token (admin only); its secret is in the answer and nowhere else.
    pub async fn create_token(
        &self,
        name: &str,
        role: Role,
        groups: &[String],
    ) -> Result<CreatedToken, Error> {
        let body = CreateToken {
            name: name.to_owned(),
            role,
            groups: groups.to_vec(),
        };
        self.send(
            self.call(Method::POST, self.endpoints.url(&["v1", "tokens"]))
                .json(&body),
        )
        .await
    }

    pub async fn list_tokens(&self) -> Result<Vec<TokenInfo>, Error> {
        let tokens: TokenList = self
            .send(self.call(Method::GET, self.endpoints.url(&["v1", "tokens"])))
            .await?;
        Ok(tokens.items)
    }

    pub async fn revoke_token(&self, name: &str) -> Result<(), Error> {
        let url = self.endpoints.url(&["v1", "tokens", name]);
        self.answer(self.call(Method::DELETE, url)).await.map(drop)
    }

    /// Gives token `name`'s principal a new secret and revokes the old one
    /// (admin only); the new secret is in the answer and nowhere else.
    pub async fn rotate_token(&self, name: &str) -> Result<CreatedToken, Error> {
        let url = self.endpoints.url(&["v1", "tokens", name, "rotate"]);
        self.send(self.call(Method::POST, url)).await
    }

    /// Live grants, newest first (approvers see the ones they created).
    pub async fn list_grants(&self) -> Result<Vec<Grant>, Error> {
        let grants: GrantList = self
            .send(self.call(Method::GET, self.endpoints.url(&["v1", "grants"])))
            .await?;
        Ok(grants.items)
    }

    /// Revokes a grant; it stops answering requests at once.
    pub async fn revoke_grant(&self, id: Uuid) -> Result<(), Error> {
        let url = self.endpoints.url(&["v1", "grants", &id.to_string()]);
        self.answer(self.call(Method::DELETE, url)).await.map(drop)
    }

    /// Audit events after `after` (a `seq`), oldest first.
    pub async fn audit(&self, after: Option<i64>, limit: Option<u32>) -> Result<AuditPage, Error> {
        self.send(self.call(Method::GET, self.endpoints.audit(after, limit)))
            .await
    }

    /// Streams the signed NDJSON audit export (events after `after`, then the
    /// trailer) into `out`; returns the bytes written. No overall timeout:
    /// an export takes as long as the log is long.
    pub async fn audit_export<W: tokio::io::AsyncWrite + Unpin>(
        &self,
        after: Option<i64>,
        out: &mut W,
    ) -> Result<u64, Error> {
        use tokio::io::AsyncWriteExt;
        let mut response = self
            .http
            .get(self.endpoints.audit_export(after))
            .send()
            .await?;
        let status = response.status();
        if !status.is_success() {
            let body = response.bytes().await.unwrap_or_default();
            return Err(Error::from_answer(status, &body));
        }
        let mut written = 0;
        while let Some(chunk) = response.chunk().await? {
            out.write_all(&chunk).await.map_err(Error::Write)?;
            written += chunk.len() as u64;
        }
        out.flush().await.map_err(Error::Write)?;
        Ok(written)
    }

    /// The gateway's public signing keys, for checking receipts and exports offline.
    pub async fn jwks(&self) -> Result<Jwks, Error> {
        let url = self.endpoints.url(&[".well-known", "jwks.json"]);
        self.send(self.call(Method::GET, url)).await
    }

    /// Asks the gateway whether `receipt` covers exactly `action` with `args`
    /// now. [`verify_receipt`](crate::verify_receipt) answers the same offline.
    pub async fn verify_receipt_online(
        &self,
        receipt: &str,
        action: &str,
        args: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<ReceiptVerdict, Error> {
        self.receipt_call("verify", receipt, action, args).await
    }

    /// Spends a valid receipt: succeeds once; then [`Error::Api`] with status 409.
    pub async fn redeem_receipt(
        &self,
        receipt: &str,
        action: &str,
        args: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<ReceiptVerdict, Error> {
        self.receipt_call("redeem", receipt, action, args).await
    }

    /// `POST /v1/receipts/{verify|redeem}`.
    async fn receipt_call(
        &self,
        call: &str,
        receipt: &str,
        action: &str,
        args: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<ReceiptVerdict, Error> {
        let url = self.endpoints.url(&["v1", "receipts", call]);
        let body = ReceiptCheck {
            receipt: receipt.to_owned(),
            action: action.to_owned(),
            args: args.clone(),
        };
        self.send(self.call(Method::POST, url).json(&body)).await
    }

    /// What the policy (and any grant) would answer for this request, without
    /// recording anything.
    pub async fn check(&self, request: &CreateApproval) -> Result<CheckResult, Error> {
        self.send(
            self.call(Method::POST, self.endpoints.url(&["v1", "check"]))
                .json(request),
        )
        .await
    }

    /// Opens `GET /v1/events` after `after`; the body is the stream.
    pub(crate) async fn open_events(
        &self,
        after: Option<i64>,
        types: &[EventType],
    ) -> Result<Response, Error> {
        let response = self
            .http
            .get(self.endpoints.events(after, types))
            .send()
            .await?;
        if response.status().is_success() {
            return Ok(response);
        }
        let status = response.status();
        let body = response.bytes().await.unwrap_or_default();
        Err(Error::from_answer(status, &body))
    }

    /// Succeeds when the gateway is up.
    pub async fn health(&self) -> Result<(), Error> {
        self.answer(self.call(Method::GET, self.endpoints.url(&["healthz"])))
            .await
            .map(drop)
    }

    async fn wait_until(&self, id: Uuid, deadline: Option<Instant>) -> Result<Approval, Error> {
        let mut last_seen = None;
        let mut backoff = Backoff::default();
        loop {
            let remaining = deadline.map(|d| d.saturating_duration_since(Instant::now()));
            let poll = remaining.map_or(MAX_LONG_POLL, |r| r.min(MAX_LONG_POLL));
            let url = self.endpoints.long_poll(id, poll);
            match self
                .send::<Approval>(self.http.get(url).timeout(poll + LONG_POLL_GRACE))
                .await
            {
                Ok(approval) => {
                    if approval.status.is_terminal()
                        || deadline.is_some_and(|d| Instant::now() >= d)
                    {
                        return Ok(approval);
                    }
                    backoff.reset();
                    last_seen = Some(approval);
                }
                Err(e) if e.is_transient() => {
                    let remaining = deadline.map(|d| d.saturating_duration_since(Instant::now()));
                    if remaining == Some(Duration::ZERO) {
                        return last_seen.ok_or(e);
                    }
                    let pause = backoff.next_pause();
                    tokio::time::sleep(remaining.map_or(pause, |r| r.min(pause))).await;
                }
                Err(e) => return Err(e),
            }
        }
    }

    async fn create(&self, create: &CreateApproval, key: Option<&str>) -> Result<Approval, Error> {
        let mut builder = self.call(Method::POST, self.endpoints.url(&["v1", "approvals"]));
        if let Some(key) = key {
            builder = builder.header("Idempotency-Key", key);
        }
        self.send(builder.json(create)).await
    }

    /// An ordinary request, one that should be answered promptly.
    fn call(&self, method: Method, url: Url) -> RequestBuilder {
        self.http.request(method, url).timeout(REQUEST_TIMEOUT)
    }

    /// Sends and decodes a success answer's JSON body.
    async fn send<T: DeserializeOwned>(&self, builder: RequestBuilder) -> Result<T, Error> {
        let body = self.answer(builder).await?;
        serde_json::from_slice(&body).map_err(Error::Decode)
    }

    /// Sends and returns a success answer's body; error answers become [`Error::Api`].
    async fn answer(&self, builder: RequestBuilder) -> Result<Vec<u8>, Error> {
        let response = builder.send().await?;
        let status = response.status();
        let body = response.bytes().await?;
        if status.is_success() {
            Ok(body.to_vec())
        } else {
            Err(Error::from_answer(status, &body))
        }
    }
}
