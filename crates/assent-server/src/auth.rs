//! Who is calling: the bearer token of a request, checked against the
//! token cache and the store; and the first admin token, made on first start.

use std::path::Path;

use assent_domain::{Principal, Role};
use assent_store::{NewToken, Store, StoreError, TokenRecord};
use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use subtle::ConstantTimeEq;

use crate::clock::now;
use crate::error::ApiError;
use crate::state::AppState;
use crate::token_cache::{generate_token, token_sha256};

/// The name of the token created on first start.
pub const BOOTSTRAP_ADMIN: &str = "admin";

/// The principal making the request.
pub struct Caller(pub Principal);

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or(ApiError::Unauthorized)?;
        let digest = token_sha256(token);
        if let Some(principal) = state.tokens.get(&digest) {
            return Ok(Caller(principal));
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
        if !bool::from(stored.ct_eq(&digest)) {
            return Err(ApiError::Unauthorized);
        }
        let principal = Principal {
            name: record.name,
            role: record.role,
            groups: record.groups,
        };
        state.tokens.insert(digest, principal.clone(), generation);
        Ok(Caller(principal))
    }
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
