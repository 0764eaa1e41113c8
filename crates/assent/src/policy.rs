//! `assent policy check` and `assent policy test`: the policy from the command
//! line, against a file here or the gateway's.

use std::path::Path;
use std::process::ExitCode;

use assent_client::{CheckResult, Client, CreateApproval};
use assent_domain::policy::shell::command_parts;
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
                        parts: command_parts(&request.args),
                    }
                }
                None => connect()?.check(&request).await?,
            };
            out.check(&result)?;
        }
        PolicyCommand::Test { file } => {
            let text = read(&file)?;
            let policy = Policy::compile(&text, &file.display().to_string())
                .map_err(|e| CliError::Failed(e.to_string()))?;
            let failures = policy.run_examples();
            for failure in &failures {
                eprintln!(
                    "{}: rule {:?}: {}: {failure}",
                    file.display(),
                    failure.rule,
                    failure.field()
                );
            }
            if !failures.is_empty() {
                return Err(CliError::Failed(format!(
                    "{} example(s) failed",
                    failures.len()
                )));
            }
            output::status(&format!(
                "{}: {} rules load and every example passes",
                file.display(),
                policy.rules().len()
            ));
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn read(path: &Path) -> Result<String, CliError> {
    std::fs::read_to_string(path).map_err(|e| CliError::Failed(format!("{}: {e}", path.display())))
}

/// Loads a policy file as the gateway would (its examples must pass).
fn load(path: &Path) -> Result<Policy, CliError> {
    Policy::from_toml(&read(path)?, &path.display().to_string())
        .map_err(|e| CliError::Failed(e.to_string()))
}
