//! `/v1/audit`: the hash-chained event log, in `seq` order (admin), and its
//! signed NDJSON export.

use std::sync::Arc;

use assent_api::AuditPage;
use assent_domain::Role;
use assent_domain::audit_export::{ExportTrailer, TrailerLine};
use assent_domain::event::GENESIS_HASH;
use assent_domain::jose;
use assent_store::Store;
use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::{RawQuery, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, Problem};
use crate::params::QueryParams;
use crate::signer::Signer;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(audit))
        .routes(routes!(export))
}

/// Events read from the store per step of an export: bounds its memory.
const EXPORT_PAGE: u32 = 1_000;

const DEFAULT_PAGE: u32 = 100;
const MAX_PAGE: u32 = 10_000;

/// Events after `after`, each with `prev_hash` and `hash`.
#[utoipa::path(get, path = "/v1/audit", tag = "audit",
    params(("after" = Option<i64>, Query), ("limit" = Option<u32>, Query, description = "default 100, max 10000 (clamped)")),
    responses((status = 200, body = AuditPage), (status = 400, body = Problem), (status = 403, body = Problem)))]
async fn audit(
    State(state): State<AppState>,
    caller: Caller,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<AuditPage>> {
    caller.require(Role::Admin)?;
    let q = QueryParams::parse(raw.as_deref(), &["after", "limit"])?;
    let after = parse_after(&q)?;
    let limit = q.limit("limit", DEFAULT_PAGE, MAX_PAGE)?;
    let items = state.store.events_after(after, limit).await?;
    let next_after = (items.len() == limit as usize)
        .then(|| items.last().map(|e| e.seq))
        .flatten();
    Ok(Json(AuditPage { items, next_after }))
}

fn parse_after(q: &QueryParams) -> ApiResult<i64> {
    match q.one("after")? {
        None => Ok(0),
        Some(v) => v
            .parse::<i64>()
            .ok()
            .filter(|n| *n >= 0)
            .ok_or_else(|| ApiError::BadRequest("after: must be a whole number ≥ 0".into())),
    }
}

/// The whole log (or the part after `after`) as NDJSON: one event a line,
/// as `GET /v1/audit` items, then `{"trailer": {...}}` signed over the last
/// event's hash. Streamed page by page, so its size does not matter.
#[utoipa::path(get, path = "/v1/audit/export", tag = "audit",
    params(("after" = Option<i64>, Query, description = "export only events after this seq")),
    responses(
        (status = 200, content_type = "application/x-ndjson", body = String,
         description = "event lines, then one trailer line (see docs/audit.md)"),
        (status = 400, body = Problem), (status = 403, body = Problem),
        (status = 404, description = "`after` names no event of the log", body = Problem),
    ))]
async fn export(
    State(state): State<AppState>,
    caller: Caller,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    caller.require(Role::Admin)?;
    let after = parse_after(&QueryParams::parse(raw.as_deref(), &["after"])?)?;
    let start_hash = if after == 0 {
        GENESIS_HASH.to_owned()
    } else {
        match state.store.events_after(after - 1, 1).await?.pop() {
            Some(event) if event.seq == after => event.hash,
            _ => {
                // Well formed, but past the end of the log (or never written).
                return Err(ApiError::NotFound(
                    "event (after names no event of the log)",
                ));
            }
        }
    };
    let export = Export {
        store: state.store.clone(),
        signer: state.signer.clone(),
        after,
        count: 0,
        first_seq: None,
        head_hash: start_hash,
        finished: false,
    };
    let body = Body::from_stream(futures::stream::try_unfold(export, Export::next_chunk));
    Ok(([(header::CONTENT_TYPE, "application/x-ndjson")], body).into_response())
}

/// An export in progress: where it is in the log and what the trailer will say.
struct Export {
    store: Arc<dyn Store>,
    signer: Arc<Signer>,
    after: i64,
    count: u64,
    first_seq: Option<i64>,
    head_hash: String,
    finished: bool,
}

impl Export {
    /// The next page of event lines; after the page that reaches the end of
    /// the log, the trailer; then nothing. A store failure ends the body
    /// early, so the export lacks its trailer and fails verification.
    async fn next_chunk(mut self) -> Result<Option<(Bytes, Export)>, std::io::Error> {
        if self.finished {
            return Ok(None);
        }
        let events = self
            .store
            .events_after(self.after, EXPORT_PAGE)
            .await
            .map_err(std::io::Error::other)?;
        let mut chunk = Vec::new();
        for event in &events {
            serde_json::to_writer(&mut chunk, event)?;
            chunk.push(b'\n');
            self.first_seq.get_or_insert(event.seq);
            self.after = event.seq;
            self.head_hash.clone_from(&event.hash);
            self.count += 1;
        }
        if events.len() < EXPORT_PAGE as usize {
            serde_json::to_writer(&mut chunk, &self.trailer())?;
            chunk.push(b'\n');
            self.finished = true;
        }
        Ok(Some((Bytes::from(chunk), self)))
    }

    fn trailer(&self) -> TrailerLine {
        let signature = self
            .signer
            .sign(ExportTrailer::signed_bytes(&self.head_hash));
        TrailerLine {
            trailer: ExportTrailer {
                count: self.count,
                first_seq: self.first_seq,
                last_seq: self.first_seq.map(|_| self.after),
                head_hash: self.head_hash.clone(),
                kid: self.signer.kid().to_owned(),
                signature: jose::encode(&signature),
            },
        }
    }
}
