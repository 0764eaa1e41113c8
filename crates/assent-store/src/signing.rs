//! What the store keeps for receipts and signed exports: the signing key
//! every instance shares, and the receipts already spent.

use time::OffsetDateTime;
use uuid::Uuid;

/// An Ed25519 key pair as stored. The store treats the key material as
/// opaque text; the server encodes and decodes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningKey {
    pub kid: String,
    /// PKCS#8 DER, base64url.
    pub private_key: String,
    /// The raw 32-byte public key, base64url.
    pub public_key: String,
    pub created_at: OffsetDateTime,
}

/// One receipt spent by `POST /v1/receipts/redeem`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redemption {
    pub jti: String,
    pub approval_id: Uuid,
    pub redeemed_by: String,
    pub redeemed_at: OffsetDateTime,
}
