//! What a decision means to a script waiting on it: its exit code, and one
//! line saying who decided and why.

use std::process::ExitCode;
use std::time::Duration;

use assent_domain::{Approval, Status};

/// How long after an approval's expiry a waiter keeps trying, for the
/// gateway's expiry sweep and for a gateway that is restarting.
const EXPIRY_GRACE: Duration = Duration::from_secs(30);

/// `request --wait`, `wait` and `exec` exit with these (0 when approved).
pub fn exit_code(status: Status) -> ExitCode {
    ExitCode::from(match status {
        Status::Approved => 0,
        Status::Rejected => 10,
        Status::Expired => 11,
        Status::Cancelled => 12,
        Status::Pending => 13,
    })
}

/// How long to wait on a just-created approval: its lifetime by the
/// gateway's own clock (so clock skew does not matter) plus a grace, so a
/// gateway that never comes back does not hold the caller forever.
pub fn wait_bound(approval: &Approval) -> Duration {
    Duration::try_from(approval.expires_at - approval.created_at).unwrap_or_default() + EXPIRY_GRACE
}

/// The approval's page in the gateway's web console.
pub fn console_link(client: &assent_client::Client, id: uuid::Uuid) -> String {
    let base = client.base_url().as_str().trim_end_matches('/');
    format!("{base}/#/approvals/{id}")
}

/// E.g. `approval 0192… rejected by alice: not on a Friday`.
pub fn describe(approval: &Approval) -> String {
    let id = approval.id;
    let Some(decision) = approval
        .decision
        .as_ref()
        .filter(|_| approval.status.is_terminal())
    else {
        return format!(
            "approval {id} is still pending (expires {})",
            assent_domain::timestamp::rfc3339(approval.expires_at)
        );
    };
    let mut line = match approval.status {
        Status::Expired => format!("approval {id} expired: nobody decided in time"),
        status => format!(
            "approval {id} {} by {}",
            status.as_str(),
            decision.by.join(", ")
        ),
    };
    if let Some(reason) = decision.reason.as_deref().filter(|r| !r.is_empty()) {
        line.push_str(": ");
        line.push_str(reason);
    }
    line
}

#[cfg(test)]
pub(crate) mod tests {
    use assent_domain::Decision;
    use time::macros::datetime;

    use super::*;

    /// An approval in `status`, decided (when terminal) by `by` for `reason`.
    pub(crate) fn approval(status: Status, by: &[&str], reason: Option<&str>) -> Approval {
        let json = serde_json::json!({
            "id": "0192f5c4-6f7a-7d3c-9a51-3c1f2b8e4d10", "status": "pending", "action": "deploy",
            "args": {}, "summary": null, "context": {}, "risk": "medium", "requester": "ci-bot",
            "session_id": null, "run_id": null, "labels": {}, "rule": null, "quorum": [], "reviews": [],
            "decision": null, "created_at": "2026-11-22T10:00:00Z", "expires_at": "2026-11-22T10:30:00Z",
            "decided_at": null, "receipt": null
        });
        let mut a: Approval = serde_json::from_value(json).unwrap();
        a.status = status;
        if status.is_terminal() {
            a.decision = Some(Decision {
                status,
                by: by.iter().map(|s| s.to_string()).collect(),
                reason: reason.map(str::to_owned),
                scope: None,
                at: datetime!(2026-11-22 10:01 UTC),
            });
        }
        a
    }

    #[test]
    fn each_status_has_its_exit_code() {
        let codes: Vec<ExitCode> = Status::ALL.into_iter().map(exit_code).collect();
        let expected: Vec<ExitCode> = [13u8, 0, 10, 11, 12]
            .into_iter()
            .map(ExitCode::from)
            .collect();
        assert_eq!(codes, expected);
    }

    #[test]
    fn waits_are_bounded_by_the_lifetime_plus_grace() {
        let a = approval(Status::Pending, &[], None);
        assert_eq!(wait_bound(&a), Duration::from_secs(30 * 60) + EXPIRY_GRACE);
    }

    #[test]
    fn descriptions_say_who_and_why() {
        let id = "0192f5c4-6f7a-7d3c-9a51-3c1f2b8e4d10";
        assert_eq!(
            describe(&approval(Status::Rejected, &["alice"], Some("no"))),
            format!("approval {id} rejected by alice: no")
        );
        assert_eq!(
            describe(&approval(Status::Approved, &["alice", "bob"], None)),
            format!("approval {id} approved by alice, bob")
        );
        assert_eq!(
            describe(&approval(Status::Expired, &["system:expiry"], None)),
            format!("approval {id} expired: nobody decided in time")
        );
        assert_eq!(
            describe(&approval(Status::Pending, &[], None)),
            format!("approval {id} is still pending (expires 2026-11-22T10:30:00Z)")
        );
    }
}
