//! Bodies of `POST /v1/receipts/verify` and `/redeem`.

use assent_domain::receipt::ReceiptClaims;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A receipt and the action and args it is meant to allow.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ReceiptCheck {
    pub receipt: String,
    pub action: String,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub args: Map<String, Value>,
}

/// `{valid: true, claims}` or `{valid: false, reason}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReceiptVerdict {
    pub valid: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claims: Option<ReceiptClaims>,
    /// Why not, when not valid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}
