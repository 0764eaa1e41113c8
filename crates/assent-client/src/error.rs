//! The SDK's one error type, and the reading of the gateway's RFC 9457
//! problem documents into it.

use assent_api::Problem;
use reqwest::StatusCode;

/// The most of a non-problem error body kept as `detail`, so an HTML error
/// page from a proxy does not flood a terminal.
const MAX_FALLBACK_DETAIL: usize = 500;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The gateway answered with an error status.
    #[error("{}", api_message(title, detail))]
    Api {
        status: u16,
        title: String,
        detail: String,
    },
    /// The request never got an answer: connection refused, reset, timed out.
    #[error("request to the gateway failed")]
    Transport(#[from] reqwest::Error),
    #[error("invalid gateway URL {url:?}: {reason}")]
    InvalidUrl { url: String, reason: String },
    /// The token cannot be sent in an HTTP header.
    #[error("invalid token: it must be printable ASCII")]
    InvalidToken,
    /// Writing what the gateway sent (an audit export) failed.
    #[error("cannot write the gateway's answer")]
    Write(#[source] std::io::Error),
    /// A success answer whose body is not what this client expects.
    #[error("unexpected answer from the gateway")]
    Decode(#[source] serde_json::Error),
}

fn api_message(title: &str, detail: &str) -> String {
    if detail.is_empty() {
        title.to_owned()
    } else {
        format!("{title}: {detail}")
    }
}

impl Error {
    /// The HTTP status the gateway answered with, when it answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Api { status, .. } => Some(*status),
            Error::Transport(e) => e.status().map(|s| s.as_u16()),
            _ => None,
        }
    }

    /// Whether retrying may help: the gateway was unreachable, restarting, or
    /// behind a proxy that could not reach it.
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Transport(_) => true,
            Error::Api { status, .. } => matches!(status, 502..=504),
            _ => false,
        }
    }

    /// An error answer: the problem document's title and detail, or the status
    /// text and the body when the body is not a problem document.
    pub(crate) fn from_answer(status: StatusCode, body: &[u8]) -> Error {
        let fallback_title = status.canonical_reason().unwrap_or("error").to_owned();
        match serde_json::from_slice::<Problem>(body) {
            Ok(problem) => Error::Api {
                status: status.as_u16(),
                title: Some(problem.title)
                    .filter(|t| !t.is_empty())
                    .unwrap_or(fallback_title),
                detail: problem.detail,
            },
            Err(_) => {
                let text = String::from_utf8_lossy(body);
                let text = text.trim();
                let detail = match text.char_indices().nth(MAX_FALLBACK_DETAIL) {
                    Some((cut, _)) => format!("{}…", &text[..cut]),
                    None => text.to_owned(),
                };
                Error::Api {
                    status: status.as_u16(),
                    title: fallback_title,
                    detail,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problem_documents_give_title_and_detail() {
        let body = br#"{"type":"about:blank","title":"Conflict","status":409,"detail":"approval already decided"}"#;
        let err = Error::from_answer(StatusCode::CONFLICT, body);
        assert_eq!(err.status(), Some(409));
        assert_eq!(err.to_string(), "Conflict: approval already decided");
    }

    #[test]
    fn a_problem_without_detail_shows_its_title_alone() {
        let err = Error::from_answer(
            StatusCode::UNAUTHORIZED,
            br#"{"title":"Unauthorized","status":401}"#,
        );
        assert_eq!(err.to_string(), "Unauthorized");
    }

    #[test]
    fn other_bodies_fall_back_to_status_text_and_body() {
        let err = Error::from_answer(StatusCode::BAD_GATEWAY, b"  upstream down\n");
        assert_eq!(err.to_string(), "Bad Gateway: upstream down");
        assert!(err.is_transient());

        let err = Error::from_answer(StatusCode::NOT_FOUND, b"");
        assert_eq!(err.to_string(), "Not Found");
        assert!(!err.is_transient());
    }

    #[test]
    fn long_non_problem_bodies_are_cut() {
        let body = "é".repeat(2 * MAX_FALLBACK_DETAIL);
        let Error::Api { detail, .. } =
            Error::from_answer(StatusCode::INTERNAL_SERVER_ERROR, body.as_bytes())
        else {
            panic!("not an API error");
        };
        assert_eq!(detail.chars().count(), MAX_FALLBACK_DETAIL + 1);
    }
}
