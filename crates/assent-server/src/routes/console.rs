//! The web console: static files compiled into the binary, served at `/`
//! (the page) and `/console/…` (its scripts, styles and icon).
//!
//! The files are listed one by one with `include_bytes!` rather than
//! embedded by a crate that walks the folder: the list is short, nothing
//! reads the disk at run time in any build profile, and a test checks the
//! list against the folder so no file is forgotten. Every answer carries a
//! strict Content-Security-Policy (no inline script or style, nothing from
//! another origin) and an ETag; browsers revalidate (`no-cache`) and get
//! 304 while the binary is the same.

use std::sync::LazyLock;

use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::ApiError;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(page))
        .route("/console/{*file}", axum::routing::get(file))
}

/// What the console may load: only its own files and its own API.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
    style-src 'self'; img-src 'self'; connect-src 'self'; manifest-src 'self'; \
    base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// One embedded file.
pub struct Asset {
    /// Path under `console/` (and under `/console/` in URLs).
    pub path: &'static str,
    pub content_type: &'static str,
    pub body: &'static [u8],
}

macro_rules! assets {
    ($($path:literal => $content_type:expr),* $(,)?) => {
        &[$(Asset {
            path: $path,
            content_type: $content_type,
            body: include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/console/", $path)),
        }),*]
    };
}

const HTML: &str = "text/html; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";
const SVG: &str = "image/svg+xml";

/// Every file of the console.
pub const ASSETS: &[Asset] = assets![
    "index.html" => HTML,
    "console.css" => CSS,
    "icon.svg" => SVG,
    "js/api.js" => JS,
    "js/app.js" => JS,
    "js/audit.js" => JS,
    "js/card.js" => JS,
    "js/chain.js" => JS,
    "js/charts.js" => JS,
    "js/command.js" => JS,
    "js/detail.js" => JS,
    "js/dom.js" => JS,
    "js/format.js" => JS,
    "js/grants.js" => JS,
    "js/help.js" => JS,
    "js/history.js" => JS,
    "js/insights.js" => JS,
    "js/json_view.js" => JS,
    "js/keyboard.js" => JS,
    "js/live.js" => JS,
    "js/notify.js" => JS,
    "js/pending.js" => JS,
    "js/queue.js" => JS,
    "js/router.js" => JS,
    "js/scope.js" => JS,
    "js/signin.js" => JS,
];

/// Strong ETags: the first 128 bits of each file's SHA-256, computed once.
static ETAGS: LazyLock<Vec<HeaderValue>> = LazyLock::new(|| {
    ASSETS
        .iter()
        .map(|asset| {
            let digest = Sha256::digest(asset.body);
            HeaderValue::from_str(&format!("\"{}\"", hex::encode(&digest[..16])))
                .unwrap_or_else(|_| HeaderValue::from_static("\"\""))
        })
        .collect()
});

/// The web console (HTML). Sign in with a token; see also `/docs`.
#[utoipa::path(get, path = "/", tag = "console", security(()),
    responses((status = 200, content_type = "text/html", description = "the console page")))]
async fn page(headers: HeaderMap) -> Response {
    serve("index.html", &headers)
}

async fn file(Path(file): Path<String>, headers: HeaderMap) -> Response {
    serve(&file, &headers)
}

fn serve(path: &str, request: &HeaderMap) -> Response {
    let Some(index) = ASSETS.iter().position(|a| a.path == path) else {
        return ApiError::NotFound("console file").into_response();
    };
    let asset = &ASSETS[index];
    let etag = ETAGS[index].clone();
    let fresh = request
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|tags| {
            tags.split(',')
                .any(|t| t.trim() == "*" || t.trim().as_bytes() == etag.as_bytes())
        });
    let mut response = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static(asset.content_type),
            )],
            asset.body,
        )
            .into_response()
    };
    let headers = response.headers_mut();
    headers.insert(header::ETAG, etag);
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every file in `console/` is embedded, and every embedded file exists.
    #[test]
    fn the_asset_list_matches_the_folder() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("console");
        let mut on_disk = Vec::new();
        let mut dirs = vec![root.clone()];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    dirs.push(path);
                } else {
                    let relative = path.strip_prefix(&root).unwrap();
                    on_disk.push(relative.to_string_lossy().replace('\\', "/"));
                }
            }
        }
        on_disk.sort();
        let mut listed: Vec<String> = ASSETS.iter().map(|a| a.path.to_owned()).collect();
        listed.sort();
        assert_eq!(listed, on_disk);
    }
}
