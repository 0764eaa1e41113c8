//! `assent policy check` and `assent policy test`: the policy from the command
//! line, against a file here or the gateway's.

use std::path::Path;
use std::process::ExitCode;

use assent_client::{CheckResult, Client, CreateApproval};
use assent_domain::policy::{Input, Policy};

use crate::cli::PolicyCommand;
use crate::error::CliError;
use crate::output::{self, Output};

pub async fn run(
    connect: impl FnOnce() -> Result<Client, CliError>,
    out: Output,
    command: PolicyCommand,
) -> Result<ExitCode, CliError> {
    match command {
        PolicyCommand::Check {
            action,
            args,
            session_id,
            labels,
            file,
            requester,
        } => {
            let request = CreateApproval {
                action,
                args: args.unwrap_or_default(),
                session_id,
                labels: labels.into_iter().collect(),
                ..CreateApproval::default()
            };
            let result = match file {
                Some(file) => {
                    let evaluation = load(&file)?.evaluate(&Input::new(&request, &requester));
                    CheckResult {
                        effect: evaluation.effect,
                        rule: evaluation.rule,
                        reason: evaluation.reason,
                        grant: None,
                    }
                }
                None => connect()?.check(&request).await?,
            };
            out.check(&result)?;
        }
        PolicyCommand::Test { file } => {
            let policy = load(&file)?;
            output::status(&format!(
                "{}: {} rules load and every example passes",
                file.display(),
                policy.rules().len()
            ));
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Loads a policy file; loading runs every rule's examples.
pub fn load(path: &Path) -> Result<Policy, CliError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| CliError::Failed(format!("{}: {e}", path.display())))?;
    Policy::from_toml(&text, &path.display().to_string())
        .map_err(|e| CliError::Failed(e.to_string()))
}
