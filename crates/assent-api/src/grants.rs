//! Body of `GET /v1/grants`.

use assent_domain::Grant;
use serde::{Deserialize, Serialize};

/// Live grants, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GrantList {
    pub items: Vec<Grant>,
}
