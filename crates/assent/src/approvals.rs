//! The approval subcommands: request, wait, list, show, approve, reject, cancel.

use std::process::ExitCode;

use assent_client::{Client, ListQuery};
use assent_domain::{CreateApproval, GrantMatch, ReviewRequest, Scope, Status, Verdict};

use crate::cli::{ApproveArgs, ListArgs, ReasonArgs, RequestArgs, WaitArgs};
use crate::error::CliError;
use crate::outcome;
use crate::output::{self, Output};
use crate::parse::whole_seconds;

pub async fn request(
    client: &Client,
    out: Output,
    args: RequestArgs,
) -> Result<ExitCode, CliError> {
    let create = CreateApproval {
        action: args.action,
        args: args.args.unwrap_or_default(),
        summary: args.summary,
        risk: args.risk,
        session_id: args.session_id,
        run_id: args.run_id,
        labels: args.labels.into_iter().collect(),
        timeout_seconds: args.timeout.map(whole_seconds),
        ..Default::default()
    };
    let approval = match &args.idempotency_key {
        Some(key) => client.request_idempotent(&create, key).await?,
        None => client.request(&create).await?,
    };
    if !args.wait || !out.json {
        out.created(&approval)?;
    }
    if !args.wait {
        return Ok(ExitCode::SUCCESS);
    }
    if approval.status.is_terminal() {
        if out.json {
            out.decided(&approval)?;
        }
        return Ok(outcome::exit_code(approval.status));
    }
    output::status(&format!(
        "waiting for a decision; decide at {}",
        outcome::console_link(client, approval.id)
    ));
    let approval = client
        .wait(approval.id, Some(outcome::wait_bound(&approval)))
        .await?;
    out.decided(&approval)?;
    Ok(outcome::exit_code(approval.status))
}

pub async fn wait(client: &Client, out: Output, args: WaitArgs) -> Result<ExitCode, CliError> {
    let approval = client.wait(args.id, args.timeout).await?;
    out.decided(&approval)?;
    Ok(outcome::exit_code(approval.status))
}

pub async fn list(client: &Client, out: Output, args: ListArgs) -> Result<ExitCode, CliError> {
    let query = ListQuery {
        status: args.status.status(),
        action: args.action,
        requester: args.requester,
        limit: args.limit,
        cursor: args.cursor,
        ..Default::default()
    };
    out.page(&client.list(&query).await?)?;
    Ok(ExitCode::SUCCESS)
}

pub async fn show(client: &Client, out: Output, id: uuid::Uuid) -> Result<ExitCode, CliError> {
    out.approval(&client.get(id).await?)?;
    Ok(ExitCode::SUCCESS)
}

pub async fn approve(
    client: &Client,
    out: Output,
    args: ApproveArgs,
) -> Result<ExitCode, CliError> {
    let scope = match (args.scope, args.ttl) {
        (None, Some(_)) => Scope::Timeboxed,
        (Some(Scope::Once | Scope::Session), Some(_)) => {
            return Err(CliError::Usage(
                "--ttl only applies to --scope timeboxed".to_owned(),
            ));
        }
        (scope, _) => scope.unwrap_or_default(),
    };
    let review = ReviewRequest {
        decision: Verdict::Approve,
        reason: args.reason,
        scope,
        ttl_seconds: args.ttl.map(whole_seconds),
        grant_match: if args.any_args {
            GrantMatch::Action
        } else if args.command_prefix.is_some() {
            GrantMatch::Command
        } else {
            GrantMatch::Exact
        },
        command_prefix: args.command_prefix,
    };
    reviewed(out, &client.review(args.id, &review).await?)
}

pub async fn reject(client: &Client, out: Output, args: ReasonArgs) -> Result<ExitCode, CliError> {
    reviewed(out, &client.reject(args.id, args.reason).await?)
}

pub async fn cancel(client: &Client, out: Output, args: ReasonArgs) -> Result<ExitCode, CliError> {
    reviewed(out, &client.cancel(args.id, args.reason).await?)
}

/// After a review or cancel: the approval's JSON, or what it did to it.
fn reviewed(out: Output, approval: &assent_domain::Approval) -> Result<ExitCode, CliError> {
    if out.json || approval.status != Status::Pending {
        out.decided(approval)?;
    } else {
        crate::output::status(&format!(
            "review recorded; approval {} is still pending its quorum",
            approval.id
        ));
    }
    Ok(ExitCode::SUCCESS)
}
