//! What `POST /v1/check` answers.

use assent_domain::policy::Effect;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The effect a request would get, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckResult {
    pub effect: Effect,
    /// The deciding rule; `None` when the policy's default applied.
    pub rule: Option<String>,
    pub reason: Option<String>,
    /// The grant that would answer instead of a person.
    pub grant: Option<Uuid>,
}
