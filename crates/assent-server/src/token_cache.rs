//! API tokens as secrets: how they are made and hashed, and the in-memory
//! cache of principals by token hash. Tokens are random, shown once, stored
//! only as SHA-256, and cached until revoked.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use assent_domain::Principal;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

/// Every token starts with this, so leaked tokens are easy to scan for.
pub const TOKEN_PREFIX: &str = "assent_";
/// A fresh token: the prefix and 256 random bits, base64url.
pub fn generate_token() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)?;
    Ok(format!("{TOKEN_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes)))
}

pub fn token_sha256(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// Most tokens the cache holds before it starts over.
const CACHE_CAPACITY: usize = 10_000;

/// Principals by token hash, so a request needs no store read to authenticate.
/// Entries leave when their token is revoked (see [`crate::commits`]); a
/// generation counter keeps a lookup that raced a revocation from re-adding it.
#[derive(Default)]
pub struct TokenCache {
    inner: Mutex<CacheInner>,
}

#[derive(Default)]
struct CacheInner {
    by_hash: HashMap<[u8; 32], Principal>,
    generation: u64,
}

impl TokenCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, CacheInner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn get(&self, digest: &[u8; 32]) -> Option<Principal> {
        self.lock().by_hash.get(digest).cloned()
    }

    pub fn generation(&self) -> u64 {
        self.lock().generation
    }

    /// Caches a principal read at `generation`, unless a revocation came since.
    pub fn insert(&self, digest: [u8; 32], principal: Principal, generation: u64) {
        let mut inner = self.lock();
        if inner.generation != generation {
            return;
        }
        if inner.by_hash.len() >= CACHE_CAPACITY {
            inner.by_hash.clear();
        }
        inner.by_hash.insert(digest, principal);
    }

    /// Drops every cached token of principal `name`.
    pub fn forget(&self, name: &str) {
        let mut inner = self.lock();
        inner.by_hash.retain(|_, p| p.name != name);
        inner.generation += 1;
    }

    pub fn clear(&self) {
        let mut inner = self.lock();
        inner.by_hash.clear();
        inner.generation += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use assent_domain::Role;

    fn principal(name: &str) -> Principal {
        Principal {
            name: name.into(),
            role: Role::Agent,
            groups: vec![],
        }
    }

    #[test]
    fn revoking_forgets_the_principal_and_stale_lookups_are_not_cached() {
        let cache = TokenCache::default();
        let (a, b) = (token_sha256("a"), token_sha256("b"));
        let generation = cache.generation();
        cache.insert(a, principal("alice"), generation);
        cache.insert(b, principal("bob"), generation);
        cache.forget("alice");
        assert_eq!(cache.get(&a), None);
        assert_eq!(cache.get(&b).map(|p| p.name), Some("bob".to_string()));
        // A lookup that started before the revocation must not re-add it.
        cache.insert(a, principal("alice"), generation);
        assert_eq!(cache.get(&a), None);
    }

    #[test]
    fn tokens_are_prefixed_and_carry_256_random_bits() {
        let a = generate_token().unwrap();
        let b = generate_token().unwrap();
        assert!(a.starts_with(TOKEN_PREFIX));
        assert_eq!(
            URL_SAFE_NO_PAD
                .decode(&a[TOKEN_PREFIX.len()..])
                .unwrap()
                .len(),
            32
        );
        assert_ne!(a, b);
    }
}
