//! Receipts (docs/api.md, "Receipts"): what an approved approval's signed token claims, and
//! the checks a receipt must pass beyond its signature — that it covers
//! exactly the action and args about to run, and has not expired.
//!
//! A receipt is a function of the approval, the issuer and the TTL, and
//! Ed25519 signatures are deterministic, so every read of an approval yields
//! the same token: nothing about a receipt needs storing except its spending.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use time::OffsetDateTime;

use crate::grant::args_sha256;
use crate::jose::{ALG_EDDSA, CompactJws, Jwks, SignatureError, VerifyEd25519};
use crate::{Approval, Scope, Status};

/// Checks a receipt completely: well-formed, EdDSA, signed by a key in
/// `jwks`, unexpired at `now`, and for exactly `action` and `args`.
pub fn verify(
    receipt: &str,
    jwks: &Jwks,
    action: &str,
    args: &Map<String, Value>,
    now: OffsetDateTime,
    ed25519: VerifyEd25519,
) -> Result<ReceiptClaims, ReceiptInvalid> {
    let jws = CompactJws::parse(receipt).map_err(|e| ReceiptInvalid::Malformed(e.0.into()))?;
    if jws.header.alg != ALG_EDDSA {
        return Err(ReceiptInvalid::UnsupportedAlgorithm(jws.header.alg));
    }
    jwks.verify(
        &jws.header.kid,
        jws.signing_input.as_bytes(),
        &jws.signature,
        ed25519,
    )
    .map_err(|e| match e {
        SignatureError::UnknownKey(kid) => ReceiptInvalid::UnknownKey(kid),
        SignatureError::BadSignature => ReceiptInvalid::BadSignature,
    })?;
    let claims: ReceiptClaims = serde_json::from_slice(&jws.payload)
        .map_err(|e| ReceiptInvalid::Malformed(format!("claims: {e}")))?;
    claims.check(action, args, now)?;
    Ok(claims)
}

/// The claims of a receipt, as signed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReceiptClaims {
    /// Who issued it (the gateway's `receipt_issuer`).
    pub iss: String,
    /// The approval's id.
    pub sub: String,
    /// The approved action.
    pub act: String,
    /// Lower-case hex SHA-256 of the RFC 8785 canonical JSON of the args.
    pub args_sha256: String,
    /// The approving decision's scope (`once` when policy or a grant decided).
    pub scope: Scope,
    /// The decision time, seconds since the Unix epoch.
    pub iat: i64,
    /// `iat` plus the receipt TTL.
    pub exp: i64,
    /// Unique per approval: the approval's id. Redeeming spends it.
    pub jti: String,
}

/// The protected header a receipt is signed with.
pub fn header(kid: &str) -> crate::jose::JwsHeader {
    crate::jose::JwsHeader {
        alg: ALG_EDDSA.into(),
        kid: kid.to_owned(),
        typ: Some("JWT".into()),
    }
}

impl ReceiptClaims {
    /// The claims of an approved approval's receipt; `None` for any other.
    pub fn for_approval(approval: &Approval, issuer: &str, ttl: Duration) -> Option<ReceiptClaims> {
        let decision = approval.decision.as_ref()?;
        if approval.status != Status::Approved || decision.status != Status::Approved {
            return None;
        }
        let iat = decision.at.unix_timestamp();
        let ttl = i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX);
        Some(ReceiptClaims {
            iss: issuer.to_owned(),
            sub: approval.id.to_string(),
            act: approval.action.clone(),
            args_sha256: args_sha256(&approval.args),
            scope: decision.scope.unwrap_or(Scope::Once),
            iat,
            exp: iat.saturating_add(ttl),
            jti: approval.id.to_string(),
        })
    }

    /// Whether these (signature-checked) claims allow running `action` with
    /// `args` at `now`.
    pub fn check(
        &self,
        action: &str,
        args: &Map<String, Value>,
        now: OffsetDateTime,
    ) -> Result<(), ReceiptInvalid> {
        if now.unix_timestamp() >= self.exp {
            return Err(ReceiptInvalid::Expired);
        }
        if self.act != action {
            return Err(ReceiptInvalid::ActionMismatch);
        }
        if self.args_sha256 != args_sha256(args) {
            return Err(ReceiptInvalid::ArgsMismatch);
        }
        Ok(())
    }
}

/// Why a receipt does not allow what is about to run. The `Display` text is
/// the `reason` the verify endpoint answers with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReceiptInvalid {
    #[error("malformed receipt: {0}")]
    Malformed(String),
    #[error("unsupported algorithm {0:?} (only EdDSA)")]
    UnsupportedAlgorithm(String),
    #[error("unknown key id {0:?}")]
    UnknownKey(String),
    #[error("bad signature")]
    BadSignature,
    #[error("expired")]
    Expired,
    #[error("the receipt is for another action")]
    ActionMismatch,
    #[error("the receipt is for other args")]
    ArgsMismatch,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::{CreateApproval, Placement};
    use crate::testing::{LIMITS, t};
    use crate::timestamp::from_unix_millis;
    use crate::{Decision, lifecycle};
    use serde_json::json;
    use uuid::Uuid;

    const HOUR: Duration = Duration::from_secs(3600);

    fn pending() -> Approval {
        CreateApproval {
            action: "deploy".into(),
            args: args(json!({"service": "billing", "env": "prod"})),
            ..Default::default()
        }
        .into_pending(Uuid::now_v7(), "bot", Placement::default(), LIMITS, t(0))
    }

    fn approved() -> Approval {
        let mut a = pending();
        let at = from_unix_millis(1_795_000_123_456);
        lifecycle::decide_by_policy(&mut a, true, Some("r"), None, at);
        a
    }

    fn args(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn claims_name_the_approval_action_args_and_decision_time() {
        let a = approved();
        let c = ReceiptClaims::for_approval(&a, "https://gw.example", HOUR).unwrap();
        assert_eq!(c.iss, "https://gw.example");
        assert_eq!(
            (c.sub.as_str(), c.jti.as_str()),
            (&*a.id.to_string(), &*a.id.to_string())
        );
        assert_eq!(c.act, "deploy");
        assert_eq!((c.iat, c.exp), (1_795_000_123, 1_795_003_723));
        assert_eq!(c.scope, Scope::Once);
        let json = serde_json::to_value(&c).unwrap();
        assert_eq!(json["scope"], "once");
        for claim in [
            "iss",
            "sub",
            "act",
            "args_sha256",
            "scope",
            "iat",
            "exp",
            "jti",
        ] {
            assert!(json.get(claim).is_some(), "{claim}");
        }
    }

    #[test]
    fn args_hash_is_sha256_of_the_canonical_json_whatever_the_key_order() {
        let c = ReceiptClaims::for_approval(&approved(), "i", HOUR).unwrap();
        assert_eq!(
            c.args_sha256,
            crate::canonical::sha256_hex(br#"{"env":"prod","service":"billing"}"#)
        );
        let reordered: Map<String, Value> =
            serde_json::from_str(r#"{ "service" : "billing", "env": "prod" }"#).unwrap();
        assert_eq!(c.args_sha256, args_sha256(&reordered));
    }

    #[test]
    fn only_approved_approvals_have_claims() {
        let mut a = approved();
        a.decision = Some(Decision {
            status: Status::Rejected,
            ..a.decision.unwrap()
        });
        a.status = Status::Rejected;
        assert_eq!(ReceiptClaims::for_approval(&a, "i", HOUR), None);
        assert_eq!(ReceiptClaims::for_approval(&pending(), "i", HOUR), None);
    }

    #[test]
    fn check_refuses_another_action_other_args_and_expiry() {
        let c = ReceiptClaims::for_approval(&approved(), "i", HOUR).unwrap();
        let ok = args(json!({"env": "prod", "service": "billing"}));
        let before_exp = OffsetDateTime::from_unix_timestamp(c.exp - 1).unwrap();
        assert_eq!(c.check("deploy", &ok, before_exp), Ok(()));
        assert_eq!(
            c.check("deploy.rollback", &ok, before_exp),
            Err(ReceiptInvalid::ActionMismatch)
        );
        let changed = args(json!({"env": "staging", "service": "billing"}));
        assert_eq!(
            c.check("deploy", &changed, before_exp),
            Err(ReceiptInvalid::ArgsMismatch)
        );
        let extra = args(json!({"env": "prod", "service": "billing", "force": true}));
        assert_eq!(
            c.check("deploy", &extra, before_exp),
            Err(ReceiptInvalid::ArgsMismatch)
        );
        let at_exp = OffsetDateTime::from_unix_timestamp(c.exp).unwrap();
        assert_eq!(c.check("deploy", &ok, at_exp), Err(ReceiptInvalid::Expired));
    }

    /// A stand-in signature scheme: SHA-256 of key and message.
    fn fake_sign(key: &[u8], message: &[u8]) -> Vec<u8> {
        let mut bytes = key.to_vec();
        bytes.extend_from_slice(message);
        crate::canonical::sha256_hex(&bytes).into_bytes()
    }

    fn fake_verify(key: &[u8], message: &[u8], signature: &[u8]) -> bool {
        fake_sign(key, message) == signature
    }

    fn token(claims: &ReceiptClaims, alg: &str, key: &[u8]) -> String {
        let mut h = header("k1");
        h.alg = alg.into();
        let input = CompactJws::signing_input(&h, &serde_json::to_vec(claims).unwrap());
        CompactJws::assemble(&input, &fake_sign(key, input.as_bytes()))
    }

    #[test]
    fn verify_checks_algorithm_key_signature_then_claims() {
        let key = [3u8; 32];
        let jwks = Jwks {
            keys: vec![crate::jose::Jwk::ed25519("k1", &key)],
        };
        let claims = ReceiptClaims::for_approval(&approved(), "i", HOUR).unwrap();
        let ok = args(json!({"env": "prod", "service": "billing"}));
        let now = OffsetDateTime::from_unix_timestamp(claims.iat).unwrap();
        let good = token(&claims, ALG_EDDSA, &key);
        assert_eq!(
            verify(&good, &jwks, "deploy", &ok, now, fake_verify),
            Ok(claims.clone())
        );
        assert_eq!(
            verify(&good, &jwks, "deploy", &args(json!({})), now, fake_verify),
            Err(ReceiptInvalid::ArgsMismatch)
        );
        let none = token(&claims, "none", &key);
        assert!(matches!(
            verify(&none, &jwks, "deploy", &ok, now, fake_verify),
            Err(ReceiptInvalid::UnsupportedAlgorithm(_))
        ));
        let other_key = token(&claims, ALG_EDDSA, &[4u8; 32]);
        assert_eq!(
            verify(&other_key, &jwks, "deploy", &ok, now, fake_verify),
            Err(ReceiptInvalid::BadSignature)
        );
        assert_eq!(
            verify(&good, &Jwks::default(), "deploy", &ok, now, fake_verify),
            Err(ReceiptInvalid::UnknownKey("k1".into()))
        );
        assert!(matches!(
            verify("x.y", &jwks, "deploy", &ok, now, fake_verify),
            Err(ReceiptInvalid::Malformed(_))
        ));
    }
}
