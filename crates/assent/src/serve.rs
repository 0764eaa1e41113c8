//! `assent serve`: hands its flags to the gateway.

use std::process::ExitCode;

use assent_server::ServeOptions;

use crate::cli::{LogFormat, ServeArgs};
use crate::error::CliError;

pub async fn run(args: ServeArgs) -> Result<ExitCode, CliError> {
    let options = ServeOptions {
        config: args.config,
        listen: args.listen,
        database_url: args.database_url,
        data_dir: args.data_dir,
        policy: args.policy,
        log_format: args.log_format.map(|f| {
            match f {
                LogFormat::Human => "human",
                LogFormat::Json => "json",
            }
            .to_owned()
        }),
        insecure_permissions: args.insecure_permissions,
    };
    assent_server::run(options).await?;
    Ok(ExitCode::SUCCESS)
}
