//! RFC 9457 problem details: every error answer of the API.

use serde::{Deserialize, Serialize};

/// An error answer (`application/problem+json`). The gateway always sends
/// every field; a client reading one tolerates missing fields (a proxy's
/// error page may be a problem document of its own).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Problem {
    /// `urn:assent:problem:<kind>`; stable for programs to branch on.
    #[serde(rename = "type", default)]
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub kind: String,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub title: String,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub status: u16,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub detail: String,
}
