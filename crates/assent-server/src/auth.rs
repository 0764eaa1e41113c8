//! Who is calling: the bearer token of a request, checked against the
//! token cache and the store, or the web console's session cookie (with
//! its CSRF header for changes); and the first admin token, made on first start.

use std::net::SocketAddr;
use std::path::Path;

use assent_domain::{Principal, Role};
use assent_store::{NewToken, Store, StoreError, TokenRecord};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{Extensions, header};
use subtle::ConstantTimeEq;

use crate::clock::now;
use crate::console_session::{self, SignedIn};
use crate::error::ApiError;
use crate::live_streams::Credential;
use crate::state::AppState;
use crate::token_cache::{generate_token, token_sha256};

/// The name of the token created on first start.
pub const BOOTSTRAP_ADMIN: &str = "admin";

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

/// A caller with at least the role its type names, checked before any body
/// is read: a caller without the role gets 403 whatever it sent.
macro_rules! role_extractor {
    ($name:ident, $role:expr, $doc:literal) => {
        #[doc = $doc]
        pub struct $name(pub Caller);

        impl FromRequestParts<AppState> for $name {
            type Rejection = ApiError;

            async fn from_request_parts(
                parts: &mut Parts,
                state: &AppState,
            ) -> Result<Self, ApiError> {
                let caller = Caller::from_request_parts(parts, state).await?;
                caller.require($role)?;
                Ok($name(caller))
            }
        }
    };
}

role_extractor!(AdminCaller, Role::Admin, "A caller with the admin role.");
role_extractor!(
    ApproverCaller,
    Role::Approver,
    "A caller with the approver or admin role."
);

/// The caller and how it authenticated: a bearer token (which wins when a
/// request carries both) or the console's session cookie.
pub struct Authenticated {
    pub principal: Principal,
    /// The console session, when the cookie authenticated the request.
    pub session: Option<SignedIn>,
    /// The SHA-256 of the token: the bearer token's, or the one the
    /// console session was made from.
    pub token_sha256: [u8; 32],
}

impl Authenticated {
    /// What a stream opened by this request is registered under, so that
    /// revoking the token or ending the session ends the stream.
    pub fn credential(&self) -> Credential {
        Credential {
            principal: self.principal.name.clone(),
            token_sha256: self.token_sha256,
            session_sha256: self.session.as_ref().map(|s| s.record.id_sha256.clone()),
        }
    }
}

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = ApiError;

    /// Failed attempts count against the client address's limit, and the
    /// authenticated ones against the token's request rate (429 beyond).
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        match authenticate(parts, state).await {
            Ok(auth) => {
                state.limits.request(&auth.principal.name)?;
                Ok(auth)
            }
            Err(e) => Err(limit_failure(parts, state, e)),
        }
    }
}

/// A request that presented a token or session which was refused counts
/// against its client address; beyond the limit the answer is 429.
fn limit_failure(parts: &Parts, state: &AppState, error: ApiError) -> ApiError {
    let presented =
        bearer_token(parts).is_some() || console_session::cookie_secret(&parts.headers).is_some();
    if presented {
        failed_authentication(state, &parts.extensions, error)
    } else {
        error
    }
}

/// Counts a refused credential against the client address of the request
/// with these extensions: `error` itself while within the limit, else 429.
pub fn failed_authentication(
    state: &AppState,
    extensions: &Extensions,
    error: ApiError,
) -> ApiError {
    if !matches!(error, ApiError::Unauthorized | ApiError::SessionEnded) {
        return error;
    }
    match extensions.get::<ConnectInfo<SocketAddr>>() {
        Some(ConnectInfo(client)) => state.limits.failed_auth(client.ip()).err().unwrap_or(error),
        None => error,
    }
}

async fn authenticate(parts: &Parts, state: &AppState) -> Result<Authenticated, ApiError> {
    if let Some(token) = bearer_token(parts) {
        let digest = token_sha256(token);
        let principal = principal_by_digest(state, &digest).await?;
        return Ok(Authenticated {
            principal,
            session: None,
            token_sha256: digest,
        });
    }
    let secret = console_session::cookie_secret(&parts.headers).ok_or(ApiError::Unauthorized)?;
    let (principal, signed_in, digest) = by_session_cookie(parts, state, secret).await?;
    Ok(Authenticated {
        principal,
        session: Some(signed_in),
        token_sha256: digest,
    })
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

/// Authenticates a request by the console's session cookie: the session
/// must be live and the token it was made from must still authenticate
/// (revoking the token ends its sessions). State-changing methods need the
/// CSRF header; WebSocket upgrades are refused (they take a bearer token).
async fn by_session_cookie(
    parts: &Parts,
    state: &AppState,
    secret: String,
) -> Result<(Principal, SignedIn, [u8; 32]), ApiError> {
    if parts.headers.contains_key(header::UPGRADE) {
        return Err(ApiError::Unauthorized);
    }
    let record = state
        .store
        .session_by_hash(&console_session::secret_sha256(&secret), now())
        .await?
        .ok_or(ApiError::SessionEnded)?;
    let mut digest = [0u8; 32];
    hex::decode_to_slice(&record.token_sha256, &mut digest).map_err(|_| {
        tracing::error!("a stored session names a malformed token hash");
        ApiError::Internal
    })?;
    let principal = match principal_by_digest(state, &digest).await {
        Ok(principal) => principal,
        Err(ApiError::Unauthorized) => return Err(ApiError::SessionEnded),
        Err(e) => return Err(e),
    };
    let signed_in = SignedIn::new(record, secret);
    if console_session::changes_state(&parts.method) && !signed_in.csrf_matches(&parts.headers) {
        return Err(ApiError::Forbidden(
            "X-CSRF-Token: missing or wrong; requests made with the console's session \
             cookie must send the csrf_token that POST or GET /v1/session returned"
                .into(),
        ));
    }
    Ok((principal, signed_in, digest))
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
/// to `<data_dir>/admin.token`, readable only by its owner. Names are never
/// reused, so when every token was revoked (no live token left) the new
/// admin is `admin-2`, `admin-3`, … — the first name never used.
pub async fn bootstrap_admin(
    store: &dyn Store,
    data_dir: &Path,
) -> Result<Option<std::path::PathBuf>, String> {
    for n in 1..=1000u32 {
        if !store
            .list_tokens()
            .await
            .map_err(|e| e.to_string())?
            .is_empty()
        {
            // Bootstrapped already, or by another instance on the same database.
            return Ok(None);
        }
        let name = match n {
            1 => BOOTSTRAP_ADMIN.to_owned(),
            n => format!("{BOOTSTRAP_ADMIN}-{n}"),
        };
        if let Some(path) = try_bootstrap(store, data_dir, name).await? {
            return Ok(Some(path));
        }
    }
    Err("every bootstrap admin name is taken; create a token with another admin".into())
}

/// Creates the bootstrap admin `name`; `None` when the name is taken.
async fn try_bootstrap(
    store: &dyn Store,
    data_dir: &Path,
    name: String,
) -> Result<Option<std::path::PathBuf>, String> {
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
                name,
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
        // Taken: by another instance bootstrapping first, or used before.
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
