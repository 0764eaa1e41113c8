//! Bodies of `/v1/session`, the web console's sign-in.

use assent_domain::Principal;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// Body of a sign-in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SignIn {
    /// An API token (`assent_…`); it is checked, never stored again.
    pub token: String,
}

/// Who is signed in, and what the console needs to act for them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SessionInfo {
    pub principal: Principal,
    /// Send as `X-CSRF-Token` on every POST, PUT, PATCH or DELETE made with
    /// the session cookie. Null when the request used a bearer token.
    pub csrf_token: Option<String>,
    /// When the session ends; null for a bearer token.
    #[serde(with = "time::serde::rfc3339::option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub expires_at: Option<OffsetDateTime>,
}
