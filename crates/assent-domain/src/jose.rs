//! The slice of JOSE that receipts and audit exports use: Ed25519 public
//! keys as OKP JWKs (RFC 8037) and compact JWS (RFC 7515) with `alg` EdDSA.
//! Only encoding and parsing live here; signing and checking signatures is
//! done by whoever holds the crypto backend.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

/// The only algorithm Assent signs with or accepts.
pub const ALG_EDDSA: &str = "EdDSA";

/// One public key, as published at `/.well-known/jwks.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Jwk {
    /// Always `OKP`.
    pub kty: String,
    /// Always `Ed25519`.
    pub crv: String,
    /// The 32-byte public key, base64url without padding.
    pub x: String,
    pub kid: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alg: Option<String>,
    #[serde(rename = "use", default, skip_serializing_if = "Option::is_none")]
    pub use_: Option<String>,
}

impl Jwk {
    /// The JWK of an Ed25519 public key.
    pub fn ed25519(kid: &str, public_key: &[u8]) -> Jwk {
        Jwk {
            kty: "OKP".into(),
            crv: "Ed25519".into(),
            x: encode(public_key),
            kid: kid.to_owned(),
            alg: Some(ALG_EDDSA.into()),
            use_: Some("sig".into()),
        }
    }

    /// The raw public key, when this is a well-formed Ed25519 key.
    pub fn ed25519_public_key(&self) -> Option<Vec<u8>> {
        if self.kty != "OKP" || self.crv != "Ed25519" {
            return None;
        }
        decode(&self.x).filter(|key| key.len() == 32)
    }
}

/// Checks an Ed25519 signature: `(public_key, message, signature)`. The
/// caller supplies it from its crypto backend, keeping this crate free of one.
pub type VerifyEd25519 = fn(&[u8], &[u8], &[u8]) -> bool;

/// Why a signature did not verify against a key set.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("unknown key id {0:?}")]
    UnknownKey(String),
    #[error("bad signature")]
    BadSignature,
}

/// A JWK Set.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Jwks {
    pub keys: Vec<Jwk>,
}

impl Jwks {
    pub fn find(&self, kid: &str) -> Option<&Jwk> {
        self.keys.iter().find(|k| k.kid == kid)
    }

    /// Checks that the Ed25519 key `kid` signed `message`.
    pub fn verify(
        &self,
        kid: &str,
        message: &[u8],
        signature: &[u8],
        ed25519: VerifyEd25519,
    ) -> Result<(), SignatureError> {
        let key = self
            .find(kid)
            .and_then(Jwk::ed25519_public_key)
            .ok_or_else(|| SignatureError::UnknownKey(kid.to_owned()))?;
        if ed25519(&key, message, signature) {
            Ok(())
        } else {
            Err(SignatureError::BadSignature)
        }
    }
}

/// The protected header of a compact JWS.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JwsHeader {
    pub alg: String,
    pub kid: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub typ: Option<String>,
}

/// A compact JWS taken apart; nothing about it is trusted yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompactJws {
    pub header: JwsHeader,
    pub payload: Vec<u8>,
    /// `BASE64URL(header) "." BASE64URL(payload)`: the bytes the signature covers.
    pub signing_input: String,
    pub signature: Vec<u8>,
}

/// Why a compact JWS could not even be taken apart.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed JWS: {0}")]
pub struct MalformedJws(pub &'static str);

impl CompactJws {
    /// `BASE64URL(header) "." BASE64URL(payload)`, ready to be signed.
    pub fn signing_input(header: &JwsHeader, payload: &[u8]) -> String {
        let header = serde_json::to_vec(header).unwrap_or_default();
        format!("{}.{}", encode(&header), encode(payload))
    }

    /// The compact serialization of a signed input.
    pub fn assemble(signing_input: &str, signature: &[u8]) -> String {
        format!("{signing_input}.{}", encode(signature))
    }

    pub fn parse(token: &str) -> Result<CompactJws, MalformedJws> {
        let mut parts = token.split('.');
        let (Some(header), Some(payload), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(MalformedJws("expected three dot-separated parts"));
        };
        let header_json = decode(header).ok_or(MalformedJws("header is not base64url"))?;
        let header: JwsHeader = serde_json::from_slice(&header_json)
            .map_err(|_| MalformedJws("header is not a JSON object with alg and kid"))?;
        Ok(CompactJws {
            header,
            payload: decode(payload).ok_or(MalformedJws("payload is not base64url"))?,
            signing_input: token[..header_len(token)].to_owned(),
            signature: decode(signature).ok_or(MalformedJws("signature is not base64url"))?,
        })
    }
}

/// Where the second dot is: the end of the signing input.
fn header_len(token: &str) -> usize {
    token.rfind('.').unwrap_or(token.len())
}

/// base64url without padding, as JOSE writes binary values.
pub fn encode(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

pub fn decode(text: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_jwk_carries_the_key_base64url_and_gives_it_back() {
        let key = [7u8; 32];
        let jwk = Jwk::ed25519("k1", &key);
        let json = serde_json::to_value(&jwk).unwrap();
        assert_eq!(json["kty"], "OKP");
        assert_eq!(json["crv"], "Ed25519");
        assert_eq!(json["use"], "sig");
        assert_eq!(json["alg"], "EdDSA");
        assert!(!json["x"].as_str().unwrap().contains('='));
        assert_eq!(jwk.ed25519_public_key().unwrap(), key);
        let short = Jwk {
            x: encode(&[1, 2, 3]),
            ..jwk.clone()
        };
        assert_eq!(short.ed25519_public_key(), None);
        let rsa = Jwk {
            kty: "RSA".into(),
            ..jwk
        };
        assert_eq!(rsa.ed25519_public_key(), None);
    }

    #[test]
    fn compact_jws_round_trips_and_refuses_other_shapes() {
        let header = JwsHeader {
            alg: ALG_EDDSA.into(),
            kid: "k1".into(),
            typ: Some("JWT".into()),
        };
        let input = CompactJws::signing_input(&header, br#"{"a":1}"#);
        let token = CompactJws::assemble(&input, &[9; 64]);
        let parsed = CompactJws::parse(&token).unwrap();
        assert_eq!(parsed.header, header);
        assert_eq!(parsed.payload, br#"{"a":1}"#);
        assert_eq!(parsed.signing_input, input);
        assert_eq!(parsed.signature, [9; 64]);

        for bad in ["", "a.b", "a.b.c.d", "!!.e30.AA", &format!("{input}.@@")] {
            assert!(CompactJws::parse(bad).is_err(), "{bad:?}");
        }
    }
}
