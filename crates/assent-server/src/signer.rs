//! The gateway's Ed25519 signing key, shared by every instance through the
//! store: each start offers a freshly generated key, the store keeps the
//! first one ever offered, and everyone signs with that. Receipts and audit
//! export trailers are signed with it; its public half is the JWKS.

use assent_domain::jose::{self, Jwk, Jwks};
use assent_store::{SigningKey, Store, StoreError};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ED25519, Ed25519KeyPair, KeyPair, UnparsedPublicKey};
use sha2::{Digest, Sha256};

pub struct Signer {
    key: Ed25519KeyPair,
    kid: String,
    jwks: Jwks,
}

impl Signer {
    /// Loads the store's active key, creating it on the very first start.
    pub async fn load(store: &dyn Store) -> Result<Signer, StoreError> {
        let stored = store.ensure_signing_key(candidate()?).await?;
        let corrupt =
            |what: &str| StoreError::Corrupt(format!("signing key {}: {what}", stored.kid));
        let pkcs8 = jose::decode(&stored.private_key).ok_or_else(|| corrupt("not base64url"))?;
        let key = Ed25519KeyPair::from_pkcs8(&pkcs8).map_err(|_| corrupt("not Ed25519 PKCS#8"))?;
        if jose::encode(key.public_key().as_ref()) != stored.public_key {
            return Err(corrupt("public key does not match the private key"));
        }
        let jwks = Jwks {
            keys: vec![Jwk::ed25519(&stored.kid, key.public_key().as_ref())],
        };
        Ok(Signer {
            key,
            kid: stored.kid,
            jwks,
        })
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The public keys, as `/.well-known/jwks.json` publishes them.
    pub fn jwks(&self) -> &Jwks {
        &self.jwks
    }

    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        self.key.sign(message).as_ref().to_vec()
    }
}

/// Ed25519 verification with the backend the gateway signs with.
pub fn verify_ed25519(public_key: &[u8], message: &[u8], signature: &[u8]) -> bool {
    UnparsedPublicKey::new(&ED25519, public_key)
        .verify(message, signature)
        .is_ok()
}

/// A new key pair, offered to the store in case it has none yet. Its `kid`
/// is the RFC 7638 thumbprint of its JWK.
fn candidate() -> Result<SigningKey, StoreError> {
    let failed = || StoreError::Unavailable("could not generate an Ed25519 key".into());
    let pkcs8 = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).map_err(|_| failed())?;
    let key = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).map_err(|_| failed())?;
    let x = jose::encode(key.public_key().as_ref());
    let thumbprint = Sha256::digest(format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}"#));
    Ok(SigningKey {
        kid: jose::encode(&thumbprint),
        private_key: jose::encode(pkcs8.as_ref()),
        public_key: x,
        created_at: crate::clock::now(),
    })
}
