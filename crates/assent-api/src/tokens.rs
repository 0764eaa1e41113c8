//! Bodies of `/v1/tokens`.

use assent_domain::Role;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// Body of `POST /v1/tokens`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateToken {
    /// 1–100 characters of `[A-Za-z0-9._@-]`; never used before (names of
    /// revoked tokens stay taken).
    #[cfg_attr(
        feature = "openapi",
        schema(
            pattern = r"^[A-Za-z0-9._@-]{1,100}$",
            min_length = 1,
            max_length = 100
        )
    )]
    pub name: String,
    pub role: Role,
    /// At most 32 group names, each 1–100 characters of `[A-Za-z0-9._@-]`.
    #[serde(default)]
    pub groups: Vec<String>,
}

/// A token's public fields: everything but the secret, which the gateway
/// keeps only hashed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TokenInfo {
    pub name: String,
    pub role: Role,
    pub groups: Vec<String>,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: OffsetDateTime,
    /// The admin who created it; `system:bootstrap` for the first admin token.
    pub created_by: String,
}

/// A new token: its public fields plus the secret, shown only this once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreatedToken {
    #[serde(flatten)]
    pub info: TokenInfo,
    pub token: String,
}

/// Body of `GET /v1/tokens`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TokenList {
    pub items: Vec<TokenInfo>,
}
