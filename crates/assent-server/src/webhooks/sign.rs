//! Standard Webhooks signatures: `v1,<base64 HMAC-SHA256(key,
//! "{webhook-id}.{webhook-timestamp}.{body}")>`, the key being the base64
//! part of a `whsec_` secret — so the spec's reference libraries verify us.

use std::fmt;

use base64::Engine;
use base64::alphabet::STANDARD;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::{DecodePaddingMode, general_purpose};
use hmac::{Hmac, Mac};
use sha2::Sha256;

const PREFIX: &str = "whsec_";
/// Key sizes the Standard Webhooks spec allows.
const KEY_BYTES: std::ops::RangeInclusive<usize> = 24..=64;

/// Secrets are often written without `=` padding; the reference libraries
/// accept both, so we do too.
const SECRET_BASE64: GeneralPurpose = GeneralPurpose::new(
    &STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// The decoded HMAC key of one webhook. `Debug` never shows it.
#[derive(Clone)]
pub struct SigningKey(Vec<u8>);

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SigningKey(<redacted>)")
    }
}

impl SigningKey {
    /// Decodes `whsec_<base64>`. The error never repeats the secret.
    pub fn from_secret(secret: &str) -> Result<SigningKey, String> {
        let encoded = secret
            .strip_prefix(PREFIX)
            .ok_or("must start with \"whsec_\" followed by the base64 key")?;
        let key = SECRET_BASE64
            .decode(encoded)
            .map_err(|_| "the part after \"whsec_\" is not valid base64")?;
        if !KEY_BYTES.contains(&key.len()) {
            return Err(format!(
                "the key is {} bytes; Standard Webhooks keys are 24 to 64 bytes",
                key.len()
            ));
        }
        Ok(SigningKey(key))
    }

    /// The `webhook-signature` header value for one request.
    pub fn sign(&self, id: &str, timestamp: i64, body: &[u8]) -> String {
        // HMAC takes keys of any length, so this cannot fail.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.0)
            .unwrap_or_else(|_| unreachable!("HMAC accepts every key length"));
        mac.update(id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        let tag = mac.finalize().into_bytes();
        format!("v1,{}", general_purpose::STANDARD.encode(tag))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The Standard Webhooks spec's own example (its README), checked
    /// byte for byte.
    #[test]
    fn matches_the_spec_example() {
        let key = SigningKey::from_secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let body = br#"{"test": 2432232314}"#;
        assert_eq!(
            key.sign("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn padding_is_optional() {
        let padded = SigningKey::from_secret("whsec_QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQQ==").unwrap();
        let bare = SigningKey::from_secret("whsec_QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQQ").unwrap();
        assert_eq!(padded.sign("m", 1, b"x"), bare.sign("m", 1, b"x"));
    }
}
