//! Where each request goes: the gateway's base URL joined with the API's
//! paths, and the query strings of listings and long-polls.

use std::time::Duration;

use assent_domain::{EventType, Status};
use reqwest::Url;
use uuid::Uuid;

use crate::Error;

/// The gateway's base URL, which may carry a path prefix (a reverse proxy's
/// `/assent/`, say) that every API path goes under.
#[derive(Debug, Clone)]
pub(crate) struct Endpoints {
    base: Url,
}

impl Endpoints {
    pub(crate) fn new(base_url: &str) -> Result<Self, Error> {
        let invalid = |reason: &str| Error::InvalidUrl {
            url: base_url.to_owned(),
            reason: reason.to_owned(),
        };
        let mut base = Url::parse(base_url).map_err(|e| invalid(&e.to_string()))?;
        if !matches!(base.scheme(), "http" | "https") {
            return Err(invalid("the scheme must be http or https"));
        }
        if base.cannot_be_a_base() || base.host_str().is_none() {
            return Err(invalid("it needs a host"));
        }
        if base.query().is_some() || base.fragment().is_some() {
            return Err(invalid("it must not have a query or fragment"));
        }
        base.path_segments_mut()
            .map_err(|()| invalid("it needs a host"))?
            .pop_if_empty();
        Ok(Self { base })
    }

    pub(crate) fn base(&self) -> &Url {
        &self.base
    }

    /// The base URL followed by `segments`, each percent-encoded as one path segment.
    pub(crate) fn url(&self, segments: &[&str]) -> Url {
        let mut url = self.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.extend(segments);
        }
        url
    }

    pub(crate) fn approval(&self, id: Uuid) -> Url {
        self.url(&["v1", "approvals", &id.to_string()])
    }

    /// `GET /v1/approvals/{id}?wait=…`, the wait in milliseconds so no precision is lost.
    pub(crate) fn long_poll(&self, id: Uuid, wait: Duration) -> Url {
        let mut url = self.approval(id);
        url.query_pairs_mut()
            .append_pair("wait", &format!("{}ms", wait.as_millis()));
        url
    }

    pub(crate) fn approval_action(&self, id: Uuid, action: &str) -> Url {
        self.url(&["v1", "approvals", &id.to_string(), action])
    }

    pub(crate) fn list(&self, query: &ListQuery) -> Url {
        let mut url = self.url(&["v1", "approvals"]);
        let pairs = query.pairs();
        if !pairs.is_empty() {
            url.query_pairs_mut().extend_pairs(pairs);
        }
        url
    }

    pub(crate) fn audit(&self, after: Option<i64>, limit: Option<u32>) -> Url {
        with_query(
            self.url(&["v1", "audit"]),
            [
                ("after", after.map(|a| a.to_string())),
                ("limit", limit.map(|l| l.to_string())),
            ],
        )
    }

    pub(crate) fn audit_export(&self, after: Option<i64>) -> Url {
        with_query(
            self.url(&["v1", "audit", "export"]),
            [("after", after.map(|a| a.to_string()))],
        )
    }

    pub(crate) fn events(&self, after: Option<i64>, types: &[EventType]) -> Url {
        let types = (!types.is_empty()).then(|| {
            types
                .iter()
                .map(|t| t.as_str())
                .collect::<Vec<_>>()
                .join(",")
        });
        with_query(
            self.url(&["v1", "events"]),
            [("after", after.map(|a| a.to_string())), ("types", types)],
        )
    }
}

/// `url` with the given parameters that have values.
fn with_query<const N: usize>(mut url: Url, pairs: [(&str, Option<String>); N]) -> Url {
    let present: Vec<(&str, String)> = pairs
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k, v)))
        .collect();
    if !present.is_empty() {
        url.query_pairs_mut().extend_pairs(present);
    }
    url
}

/// Filters and paging for [`Client::list`](crate::Client::list). Empty filters
/// are left out, so the default lists every approval the caller may see.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListQuery {
    /// One status; `None` lists all of them.
    pub status: Option<Status>,
    pub action: Option<String>,
    pub requester: Option<String>,
    pub session_id: Option<String>,
    pub run_id: Option<String>,
    /// `(key, value)` pairs an approval's labels must all contain.
    pub labels: Vec<(String, String)>,
    /// The server's default is 50 and its maximum 500.
    pub limit: Option<u32>,
    /// A previous page's `next_cursor`.
    pub cursor: Option<String>,
}

impl ListQuery {
    fn pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = Vec::new();
        if let Some(status) = self.status {
            pairs.push(("status", status.as_str().to_owned()));
        }
        let texts = [
            ("action", &self.action),
            ("requester", &self.requester),
            ("session_id", &self.session_id),
            ("run_id", &self.run_id),
        ];
        pairs.extend(
            texts
                .into_iter()
                .filter_map(|(k, v)| v.clone().map(|v| (k, v))),
        );
        pairs.extend(
            self.labels
                .iter()
                .map(|(k, v)| ("label", format!("{k}:{v}"))),
        );
        if let Some(limit) = self.limit {
            pairs.push(("limit", limit.to_string()));
        }
        if let Some(cursor) = &self.cursor {
            pairs.push(("cursor", cursor.clone()));
        }
        pairs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "0192f5c4-6f7a-7d3c-9a51-3c1f2b8e4d10";

    fn id() -> Uuid {
        ID.parse().unwrap()
    }

    #[test]
    fn paths_join_the_base_with_or_without_a_trailing_slash() {
        for base in ["http://127.0.0.1:8470", "http://127.0.0.1:8470/"] {
            let e = Endpoints::new(base).unwrap();
            assert_eq!(
                e.approval(id()).as_str(),
                format!("http://127.0.0.1:8470/v1/approvals/{ID}")
            );
            assert_eq!(
                e.url(&["healthz"]).as_str(),
                "http://127.0.0.1:8470/healthz"
            );
        }
    }

    #[test]
    fn a_path_prefix_is_kept() {
        for base in ["https://gw.example/assent", "https://gw.example/assent/"] {
            let e = Endpoints::new(base).unwrap();
            assert_eq!(
                e.approval_action(id(), "cancel").as_str(),
                format!("https://gw.example/assent/v1/approvals/{ID}/cancel")
            );
        }
    }

    #[test]
    fn segments_are_percent_encoded() {
        let e = Endpoints::new("http://localhost:8470").unwrap();
        assert_eq!(
            e.url(&["v1", "tokens", "a/b c?"]).as_str(),
            "http://localhost:8470/v1/tokens/a%2Fb%20c%3F"
        );
    }

    #[test]
    fn bad_base_urls_are_refused() {
        for bad in [
            "",
            "127.0.0.1:8470",
            "ftp://host",
            "mailto:x@y",
            "http://host/?q=1",
            "http://host/#f",
        ] {
            assert!(
                matches!(Endpoints::new(bad), Err(Error::InvalidUrl { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn long_poll_sends_the_wait_in_milliseconds() {
        let e = Endpoints::new("http://localhost:8470").unwrap();
        assert_eq!(
            e.long_poll(id(), Duration::from_millis(1500)).as_str(),
            format!("http://localhost:8470/v1/approvals/{ID}?wait=1500ms")
        );
    }

    #[test]
    fn list_query_sends_only_what_is_set() {
        let e = Endpoints::new("http://localhost:8470").unwrap();
        assert_eq!(
            e.list(&ListQuery::default()).as_str(),
            "http://localhost:8470/v1/approvals"
        );

        let query = ListQuery {
            status: Some(Status::Pending),
            action: Some("deploy".into()),
            requester: Some("ci bot".into()),
            labels: vec![
                ("team".into(), "payments".into()),
                ("env".into(), "prod&eu".into()),
            ],
            limit: Some(10),
            cursor: Some("abc=".into()),
            ..Default::default()
        };
        assert_eq!(
            e.list(&query).query(),
            Some(
                "status=pending&action=deploy&requester=ci+bot&label=team%3Apayments&label=env%3Aprod%26eu&limit=10&cursor=abc%3D"
            )
        );
    }

    #[test]
    fn audit_query_sends_only_what_is_set() {
        let e = Endpoints::new("http://localhost:8470").unwrap();
        assert_eq!(
            e.audit(None, None).as_str(),
            "http://localhost:8470/v1/audit"
        );
        assert_eq!(e.audit(Some(42), Some(7)).query(), Some("after=42&limit=7"));
    }
}
