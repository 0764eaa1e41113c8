//! What the agent integrations (the MCP proxy and the Claude Code hook) tell
//! an agent, and the person reading along, about a decision or about a
//! gateway they could not ask: who decided and why, or what went wrong and
//! what to do about it.

use assent_client::{Approval, Client, Status};

/// The console page where people decide on `approval`.
pub fn console_link(client: &Client, approval: &Approval) -> String {
    format!(
        "{}/#/approvals/{}",
        client.base_url().as_str().trim_end_matches('/'),
        approval.id
    )
}

/// Who decided, in words: `alice`, `policy rule reads`, `a remembered
/// decision (grant 0192…)`, several joined with "and".
pub fn decided_by(approval: &Approval) -> String {
    let by = approval.decision.as_ref().map_or(&[][..], |d| &d.by[..]);
    let names: Vec<String> = by
        .iter()
        .map(|who| match who.split_once(':') {
            Some(("policy", "default")) => "the policy's default".to_owned(),
            Some(("policy", rule)) => format!("policy rule {rule}"),
            Some(("grant", id)) => format!("a remembered decision (grant {id})"),
            Some(("system", "expiry")) => "expiry".to_owned(),
            _ => who.clone(),
        })
        .collect();
    if names.is_empty() {
        "the gateway".to_owned()
    } else {
        names.join(" and ")
    }
}

/// The decision's reason as `: why`, or nothing.
pub fn because(approval: &Approval) -> String {
    approval
        .decision
        .as_ref()
        .and_then(|d| d.reason.as_deref())
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map_or_else(String::new, |r| format!(": {r}"))
}

/// One sentence on how a decided approval ended, e.g. `rejected by alice:
/// not during the freeze`, `nobody decided in time (it expired)`.
pub fn outcome(approval: &Approval) -> String {
    match approval.status {
        Status::Expired => "expired: nobody decided in time".to_owned(),
        Status::Pending => "still pending: nobody decided in time".to_owned(),
        status => format!(
            "{} by {}{}",
            status.as_str(),
            decided_by(approval),
            because(approval)
        ),
    }
}

/// What went wrong talking to the gateway, and what to do about it.
pub fn gateway_failure(error: &assent_client::Error, url: &str) -> String {
    match error {
        assent_client::Error::Api { status: 401, .. } => format!(
            "the Assent gateway at {url} refused the token ({error}); set ASSENT_TOKEN to a valid agent token"
        ),
        assent_client::Error::Api { status: 403, .. } => format!(
            "the Assent gateway at {url} does not let this token ask for approvals ({error}); use an agent token"
        ),
        assent_client::Error::Api { .. } => {
            format!("the Assent gateway at {url} refused the request ({error})")
        }
        assent_client::Error::InvalidUrl { .. } | assent_client::Error::InvalidToken => {
            format!("{error}; fix ASSENT_URL / ASSENT_TOKEN")
        }
        _ => format!(
            "cannot reach the Assent gateway at {url} ({}); start it (assent serve) or fix ASSENT_URL",
            root_cause(error)
        ),
    }
}

/// The innermost cause of an error: the part that says what actually
/// happened ("Connection refused (os error 111)"), not the layers above it.
fn root_cause(error: &assent_client::Error) -> String {
    let mut cause: &dyn std::error::Error = error;
    while let Some(inner) = cause.source() {
        cause = inner;
    }
    cause.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::tests::approval as decided;

    #[test]
    fn outcomes_say_who_decided_and_why_in_words() {
        let cases = [
            (
                decided(Status::Rejected, &["alice"], Some("freeze week")),
                "rejected by alice: freeze week",
            ),
            (
                decided(Status::Approved, &["policy:reads"], None),
                "approved by policy rule reads",
            ),
            (
                decided(Status::Rejected, &["policy:default"], Some("  ")),
                "rejected by the policy's default",
            ),
            (
                decided(Status::Approved, &["grant:0192"], None),
                "approved by a remembered decision (grant 0192)",
            ),
            (
                decided(Status::Approved, &["alice", "bob"], Some("ok")),
                "approved by alice and bob: ok",
            ),
            (
                decided(Status::Expired, &["system:expiry"], None),
                "expired: nobody decided in time",
            ),
        ];
        for (approval, expected) in cases {
            assert_eq!(outcome(&approval), expected);
        }
    }

    #[test]
    fn console_links_point_at_the_approval_under_any_path_prefix() {
        let a = decided(Status::Approved, &["alice"], None);
        for (base, link) in [
            (
                "http://127.0.0.1:8470",
                "http://127.0.0.1:8470/#/approvals/0192f5c4-6f7a-7d3c-9a51-3c1f2b8e4d10",
            ),
            (
                "https://gw.example/assent/",
                "https://gw.example/assent/#/approvals/0192f5c4-6f7a-7d3c-9a51-3c1f2b8e4d10",
            ),
        ] {
            let client = Client::new(base, "t").unwrap();
            assert_eq!(console_link(&client, &a), link);
        }
    }

    #[test]
    fn refused_tokens_say_which_variable_to_fix() {
        let err = assent_client::Error::Api {
            status: 401,
            title: "Unauthorized".into(),
            detail: "unknown or revoked token".into(),
        };
        let text = gateway_failure(&err, "http://gw");
        assert!(text.contains("refused the token"), "{text}");
        assert!(text.contains("ASSENT_TOKEN"), "{text}");
    }
}
