//! Assent's domain: what an approval is, how it moves through its lifecycle,
//! who may review it, what the policy answers for it, and how the audit log
//! chains its events.
//!
//! Nothing here performs I/O or reads the clock: callers pass `now` in, so
//! every rule is a pure function that tests can drive exhaustively.

pub mod approval;
pub mod audit_export;
pub mod canonical;
pub mod event;
pub mod grant;
pub mod jose;
pub mod lifecycle;
pub mod policy;
pub mod principal;
pub mod receipt;
pub mod request;
#[cfg(test)]
mod testing;
pub mod timestamp;

pub use approval::{
    Approval, Decision, GrantMatch, QuorumStage, Review, Risk, Scope, Status, Verdict,
};
pub use event::{Event, EventType, NewEvent};
pub use grant::{Grant, GrantEffect};
pub use lifecycle::{LifecycleError, ReviewOutcome};
pub use policy::{Effect, Evaluation, Policy, PolicyError};
pub use principal::{Principal, Role};
pub use request::{CreateApproval, InvalidField, ReviewRequest};
