//! `assent grants`: list and revoke remembered decisions.

use std::process::ExitCode;

use assent_client::Client;

use crate::cli::GrantsCommand;
use crate::error::CliError;
use crate::output::{self, Output};

pub async fn run(
    client: &Client,
    out: Output,
    command: GrantsCommand,
) -> Result<ExitCode, CliError> {
    match command {
        GrantsCommand::List => out.grants(&client.list_grants().await?)?,
        GrantsCommand::Revoke { id } => {
            client.revoke_grant(id).await?;
            output::status(&format!("revoked grant {id}"));
        }
    }
    Ok(ExitCode::SUCCESS)
}
