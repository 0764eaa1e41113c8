//! Checking what the gateway signs, offline: receipts and audit export
//! trailers (docs/audit.md), against its JWKS (`Client::jwks`, or a copy).

use assent_domain::audit_export::ExportTrailer;
use assent_domain::jose::{self, Jwks, SignatureError};
use assent_domain::receipt::{self, ReceiptClaims, ReceiptInvalid};
use aws_lc_rs::signature::{ED25519, UnparsedPublicKey};
use serde_json::{Map, Value};
use time::OffsetDateTime;

/// Checks, without asking the gateway, that `receipt` was signed by a key in
/// `jwks`, has not expired, and covers exactly `action` with `args`.
pub fn verify_receipt(
    receipt: &str,
    jwks: &Jwks,
    action: &str,
    args: &Map<String, Value>,
) -> Result<ReceiptClaims, ReceiptInvalid> {
    receipt::verify(
        receipt,
        jwks,
        action,
        args,
        OffsetDateTime::now_utc(),
        verify_ed25519,
    )
}

/// Checks an export trailer's signature over its head hash.
pub fn verify_export_trailer(trailer: &ExportTrailer, jwks: &Jwks) -> Result<(), SignatureError> {
    let signature = jose::decode(&trailer.signature).ok_or(SignatureError::BadSignature)?;
    jwks.verify(
        &trailer.kid,
        ExportTrailer::signed_bytes(&trailer.head_hash),
        &signature,
        verify_ed25519,
    )
}

fn verify_ed25519(public_key: &[u8], message: &[u8], signature: &[u8]) -> bool {
    UnparsedPublicKey::new(&ED25519, public_key)
        .verify(message, signature)
        .is_ok()
}
