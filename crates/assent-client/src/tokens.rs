//! API tokens as the admin endpoints show them.

use assent_domain::Role;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// A token as listed: everything but the secret, which the gateway keeps only hashed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenInfo {
    pub name: String,
    pub role: Role,
    #[serde(default)]
    pub groups: Vec<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// Who created it; `None` for the bootstrap admin token.
    #[serde(default)]
    pub created_by: Option<String>,
}

/// A newly created token, with its secret shown only this once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedToken {
    pub name: String,
    pub role: Role,
    #[serde(default)]
    pub groups: Vec<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    pub token: String,
}

/// Body of `POST /v1/tokens`.
#[derive(Debug, Serialize)]
pub(crate) struct NewToken<'a> {
    pub name: &'a str,
    pub role: Role,
    pub groups: &'a [String],
}
