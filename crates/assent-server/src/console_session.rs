//! Web console sessions: a token is exchanged once for an HttpOnly,
//! SameSite=Strict cookie holding a random secret; the store keeps only the
//! secret's SHA-256. State-changing requests made with the cookie must also
//! carry the CSRF token, which is derived from the secret (HMAC), so it needs
//! no storage and a page that reloads can ask for it again.

use assent_domain::Principal;
use assent_store::Session;
use aws_lc_rs::hmac;
use axum::http::{HeaderMap, HeaderValue, Method, header};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use cookie::{Cookie, SameSite};
use subtle::ConstantTimeEq;

use crate::clock::now;
use crate::error::ApiError;
use crate::token_cache::token_sha256;

/// The cookie that carries the session secret.
pub const COOKIE: &str = "assent_session";
/// The header that carries the CSRF token on state-changing requests.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// A console session, as the request that presented its cookie sees it.
/// Not `Debug`: it holds the secret, which must never reach a log.
#[derive(Clone)]
pub struct SignedIn {
    pub record: Session,
    /// The secret from the cookie; the CSRF token is derived from it.
    secret: String,
}

impl SignedIn {
    pub fn new(record: Session, secret: String) -> SignedIn {
        SignedIn { record, secret }
    }

    pub fn csrf_token(&self) -> String {
        csrf_token(&self.secret)
    }

    /// Whether the request carries this session's CSRF token (compared in
    /// constant time).
    pub fn csrf_matches(&self, headers: &HeaderMap) -> bool {
        let sent = headers
            .get(CSRF_HEADER)
            .map(HeaderValue::as_bytes)
            .unwrap_or_default();
        bool::from(sent.ct_eq(self.csrf_token().as_bytes()))
    }
}

/// A fresh session secret: 256 random bits, base64url.
pub fn new_secret() -> Result<String, ApiError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| {
        tracing::error!(error = %e, "no randomness for a session secret");
        ApiError::Internal
    })?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// The stored identity of a secret: its SHA-256, lower-case hex.
pub fn secret_sha256(secret: &str) -> String {
    hex::encode(token_sha256(secret))
}

/// HMAC-SHA256 keyed by the session secret: only someone who holds the
/// secret (the browser that signed in, never a page on another site) can
/// know it, and it changes with every session.
pub fn csrf_token(secret: &str) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes());
    URL_SAFE_NO_PAD.encode(hmac::sign(&key, b"assent console csrf v1"))
}

/// The new session's row: valid for `ttl` from now.
pub fn new_session(
    secret: &str,
    token_digest: &[u8; 32],
    principal: &Principal,
    ttl: std::time::Duration,
) -> Session {
    let created_at = now();
    Session {
        id_sha256: secret_sha256(secret),
        token_sha256: hex::encode(token_digest),
        principal: principal.name.clone(),
        created_at,
        expires_at: created_at + ttl,
    }
}

/// `Set-Cookie` for a new session: HttpOnly (scripts cannot read it),
/// SameSite=Strict (other sites' pages never send it), `Secure` when the
/// gateway is reached over https; it lasts as long as the session.
pub fn set_cookie(secret: &str, max_age: time::Duration, secure: bool) -> HeaderValue {
    cookie_header(
        Cookie::build((COOKIE, secret.to_owned()))
            .max_age(max_age)
            .secure(secure),
    )
}

/// `Set-Cookie` that makes the browser forget the session.
pub fn clear_cookie(secure: bool) -> HeaderValue {
    cookie_header(
        Cookie::build((COOKIE, ""))
            .max_age(time::Duration::ZERO)
            .secure(secure),
    )
}

fn cookie_header(cookie: cookie::CookieBuilder<'static>) -> HeaderValue {
    let cookie = cookie
        .http_only(true)
        .same_site(SameSite::Strict)
        .path("/")
        .build();
    // Built from base64url and fixed attributes only: always a valid header.
    HeaderValue::from_str(&cookie.to_string()).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// The session secret in the request's `Cookie` header, if any.
pub fn cookie_secret(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == COOKIE && !c.value().is_empty())
        .map(|c| c.value().to_owned())
}

/// Methods that may change state; only these need the CSRF token.
pub fn changes_state(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cookie_is_http_only_strict_and_secure_only_when_asked() {
        let plain = set_cookie("s3cret", time::Duration::hours(1), false);
        let plain = plain.to_str().unwrap();
        assert!(plain.starts_with("assent_session=s3cret"), "{plain}");
        for attribute in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=3600"] {
            assert!(plain.contains(attribute), "{plain} lacks {attribute}");
        }
        assert!(!plain.contains("Secure"), "{plain}");
        let secure = set_cookie("s3cret", time::Duration::hours(1), true);
        assert!(secure.to_str().unwrap().contains("Secure"));
        assert!(clear_cookie(false).to_str().unwrap().contains("Max-Age=0"));
    }

    #[test]
    fn the_secret_is_found_among_other_cookies() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("theme=dark; assent_session=abc; other=1"),
        );
        assert_eq!(cookie_secret(&headers).as_deref(), Some("abc"));
        headers.insert(header::COOKIE, HeaderValue::from_static("theme=dark"));
        assert_eq!(cookie_secret(&headers), None);
    }

    #[test]
    fn csrf_tokens_differ_per_session_and_are_not_the_secret() {
        let a = csrf_token("secret-a");
        assert_eq!(a, csrf_token("secret-a"));
        assert_ne!(a, csrf_token("secret-b"));
        assert!(!a.contains("secret-a"));
        assert_ne!(secret_sha256("secret-a"), a);
    }
}
