//! The request and response bodies of Assent's API, defined once: the
//! gateway serves them (HTTP and WebSocket), the Rust client reads and sends
//! them, and with the `openapi` feature they describe themselves in the
//! OpenAPI document. The domain's own types (an approval, an event, a grant)
//! travel as they are and are re-exported here.

mod approvals;
mod audit;
mod grants;
mod policy;
mod problem;
mod receipts;
mod session;
mod stats;
mod tokens;

pub use approvals::{ApprovalList, CancelRequest};
pub use audit::{AuditPage, Timeline};
pub use grants::GrantList;
pub use policy::{CheckResult, PolicyView};
pub use problem::Problem;
pub use receipts::{ReceiptCheck, ReceiptVerdict};
pub use session::{SessionInfo, SignIn};
pub use stats::{ActionStats, Counts, DayStats, ReviewerStats, Stats, TimeToDecision};
pub use tokens::{CreateToken, CreatedToken, TokenInfo, TokenList};

pub use assent_domain::policy::Effect;
pub use assent_domain::policy::shell::{CommandPart, Redirect};
pub use assent_domain::{
    Approval, CreateApproval, Decision, Event, EventType, Grant, GrantEffect, GrantMatch,
    Principal, QuorumStage, Review, ReviewRequest, Risk, Role, Scope, Status, Verdict,
};
