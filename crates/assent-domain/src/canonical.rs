//! RFC 8785 canonical JSON and SHA-256, the two primitives behind the audit
//! chain, idempotency keys and (later) receipts' `args_sha256`.

use serde::Serialize;
use sha2::{Digest, Sha256};

/// RFC 8785 (JCS) canonical bytes of a serialisable value.
pub fn canonical_json<T: Serialize>(value: &T) -> Vec<u8> {
    // JCS only fails for values JSON cannot represent (non-finite floats),
    // which serde_json::Value never holds; fall back to plain JSON regardless.
    serde_json_canonicalizer::to_vec(value)
        .or_else(|_| serde_json::to_vec(value))
        .unwrap_or_default()
}

/// Lower-case hex SHA-256 of some bytes.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn canonical_json_sorts_keys_and_drops_whitespace() {
        let a = json!({"b": 1, "a": {"y": [1, 2], "x": "é"}});
        assert_eq!(
            String::from_utf8(canonical_json(&a)).unwrap(),
            r#"{"a":{"x":"é","y":[1,2]},"b":1}"#
        );
    }

    #[test]
    fn equal_values_hash_equal_whatever_their_key_order() {
        let a: serde_json::Value = serde_json::from_str(r#"{"a":1,"b":2.0}"#).unwrap();
        let b: serde_json::Value = serde_json::from_str(r#"{ "b": 2, "a": 1 }"#).unwrap();
        assert_eq!(
            sha256_hex(&canonical_json(&a)),
            sha256_hex(&canonical_json(&b))
        );
    }

    #[test]
    fn sha256_of_empty_input_is_the_known_digest() {
        assert_eq!(
            sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
