//! Rust SDK for the Assent approval gateway: ask before a sensitive action,
//! wait for a person's answer, and manage approvals, tokens and the audit log.
//!
//! ```no_run
//! # async fn demo() -> Result<(), assent_client::Error> {
//! use assent_client::{Client, CreateApproval, Status};
//!
//! let client = Client::new("http://127.0.0.1:8470", "token")?;
//! let ask = CreateApproval { action: "deploy".into(), ..Default::default() };
//! let approval = client.request_and_wait(&ask, None).await?;
//! if approval.status == Status::Approved {
//!     // deploy
//! }
//! # Ok(())
//! # }
//! ```

mod backoff;
mod client;
mod endpoints;
mod error;
mod events;
mod signatures;

pub use assent_api::{
    ApprovalList, AuditPage, CheckResult, CreatedToken, Effect, Problem, ReceiptVerdict, TokenInfo,
};
pub use assent_domain::audit_export::ExportTrailer;
pub use assent_domain::jose::{Jwk, Jwks, SignatureError};
pub use assent_domain::receipt::{ReceiptClaims, ReceiptInvalid};
pub use assent_domain::{
    Approval, CreateApproval, Decision, Event, EventType, Grant, GrantEffect, GrantMatch,
    Principal, QuorumStage, Review, ReviewRequest, Risk, Role, Scope, Status, Verdict,
};
pub use client::{Client, MAX_LONG_POLL};
pub use endpoints::ListQuery;
pub use error::Error;
pub use events::EventStream;
pub use signatures::{verify_export_trailer, verify_receipt};
