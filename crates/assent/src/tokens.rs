//! `assent token`: create, list, revoke and rotate API tokens.

use std::process::ExitCode;

use assent_client::Client;

use crate::cli::TokenCommand;
use crate::error::CliError;
use crate::output::{self, Output};

pub async fn run(
    client: &Client,
    out: Output,
    command: TokenCommand,
) -> Result<ExitCode, CliError> {
    match command {
        TokenCommand::Create { name, role, groups } => {
            out.created_token(&client.create_token(&name, role, &groups).await?)?;
        }
        TokenCommand::List => out.tokens(&client.list_tokens().await?)?,
        TokenCommand::Revoke { name } => {
            client.revoke_token(&name).await?;
            output::status(&format!("revoked token {name:?}"));
        }
        TokenCommand::Rotate { name } => {
            out.rotated_token(&client.rotate_token(&name).await?)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
