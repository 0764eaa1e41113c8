//! Bodies of `/v1/policy` and `/v1/check`.

use assent_domain::policy::Effect;
use assent_domain::policy::shell::CommandPart;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The loaded policy as `GET /v1/policy` shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PolicyView {
    /// The file it was loaded from; empty when none is configured.
    pub source: String,
    pub default: Effect,
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Object>))]
    pub rules: Vec<serde_json::Value>,
}

/// What a request would get, and why (`POST /v1/check`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CheckResult {
    pub effect: Effect,
    /// The deciding rule; null when the policy's default applied.
    pub rule: Option<String>,
    pub reason: Option<String>,
    /// The grant that would answer instead of a person, if any.
    pub grant: Option<Uuid>,
    /// When `args.command` is a shell command line: the simple commands the
    /// policy saw, each with its redirections. Absent for other requests
    /// and for lines that cannot be split (which no rule allows).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parts: Option<Vec<CommandPart>>,
}
