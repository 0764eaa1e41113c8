//! Bearer-token authentication: tokens are random, shown once, stored only
//! as SHA-256, compared in constant time, and cached in memory until revoked.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Mutex, PoisonError};

use assent_domain::{Principal, Role};
use assent_store::{NewToken, Store, StoreError, TokenRecord};
use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::app::{AppState, now};
use crate::error::ApiError;
use crate::session::{self, SignedIn};

/// Every token starts with this, so leaked tokens are easy to scan for.
pub const TOKEN_PREFIX: &str = "assent_";
/// The name of the token created on first start.
pub const BOOTSTRAP_ADMIN: &str = "admin";

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

/// The principal making the request.
pub struct Caller(pub Principal);

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        Authenticated::from_request_parts(parts, state)
            .await
            .map(|a| Caller(a.principal))
    }
}

/// The caller and how it authenticated: a bearer token (which wins when a
/// request carries both) or the console's session cookie.
pub struct Authenticated {
    pub principal: Principal,
    /// The console session, when the cookie authenticated the request.
    pub session: Option<SignedIn>,
}

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if let Some(token) = bearer_token(parts) {
            let principal = principal_by_digest(state, &token_sha256(token)).await?;
            return Ok(Authenticated {
                principal,
                session: None,
            });
        }
        let secret = session::cookie_secret(&parts.headers).ok_or(ApiError::Unauthorized)?;
        let (principal, signed_in) = session::authenticate(parts, state, secret).await?;
        Ok(Authenticated {
            principal,
            session: Some(signed_in),
        })
    }
}

/// The token of an `Authorization: Bearer` header.
fn bearer_token(parts: &Parts) -> Option<&str> {
    parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

/// The principal of the token with this SHA-256: from the cache, else the
/// store (then cached). 401 when no such token exists.
pub async fn principal_by_digest(
    state: &AppState,
    digest: &[u8; 32],
) -> Result<Principal, ApiError> {
    if let Some(principal) = state.tokens.get(digest) {
        return Ok(principal);
    }
    let generation = state.tokens.generation();
    let record = state
        .store
        .token_by_hash(&hex::encode(digest))
        .await?
        .ok_or(ApiError::Unauthorized)?;
    // The lookup is by hash; compare again in constant time so no code path
    // depends on how much of a guessed token matched.
    let stored = hex::decode(&record.token_sha256).map_err(|_| ApiError::Internal)?;
    if !bool::from(stored.ct_eq(digest)) {
        return Err(ApiError::Unauthorized);
    }
    let principal = Principal {
        name: record.name,
        role: record.role,
        groups: record.groups,
    };
    state.tokens.insert(*digest, principal.clone(), generation);
    Ok(principal)
}

impl Caller {
    pub fn require(&self, role: Role) -> Result<&Principal, ApiError> {
        if self.0.role >= role {
            Ok(&self.0)
        } else {
            Err(ApiError::Forbidden(format!(
                "this needs the {} role",
                role.as_str()
            )))
        }
    }
}

/// On first start (no tokens at all), creates the `admin` token and writes it
/// to `<data_dir>/admin.token`, readable only by its owner.
pub async fn bootstrap_admin(
    store: &dyn Store,
    data_dir: &Path,
) -> Result<Option<std::path::PathBuf>, String> {
    if !store
        .list_tokens()
        .await
        .map_err(|e| e.to_string())?
        .is_empty()
    {
        return Ok(None);
    }
    let token = generate_token().map_err(|e| format!("no randomness for the admin token: {e}"))?;
    // Written before the token exists, so a crash in between cannot leave
    // an admin token nobody holds; named per process, so instances racing
    // on a shared data dir cannot overwrite each other's.
    let path = data_dir.join("admin.token");
    let pending = data_dir.join(format!("admin.token.{}.tmp", std::process::id()));
    write_secret(&pending, &token).map_err(|e| format!("writing {}: {e}", pending.display()))?;
    let created = store
        .create_token(
            NewToken {
                name: BOOTSTRAP_ADMIN.into(),
                token_sha256: hex::encode(token_sha256(&token)),
                role: Role::Admin,
                groups: vec![],
                created_by: "system:bootstrap".into(),
            },
            now(),
        )
        .await;
    let record: TokenRecord = match created {
        Ok(record) => record,
        // Another instance on the same database bootstrapped first.
        Err(StoreError::Conflict(_)) => {
            let _ = std::fs::remove_file(&pending);
            return Ok(None);
        }
        Err(e) => return Err(e.to_string()),
    };
    std::fs::rename(&pending, &path).map_err(|e| format!("writing {}: {e}", path.display()))?;
    tracing::info!(name = %record.name, "created the bootstrap admin token");
    Ok(Some(path))
}

fn write_secret(path: &Path, secret: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(secret.as_bytes())?;
    file.write_all(b"\n")?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

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
