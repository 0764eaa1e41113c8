//! `assent watch`: prints events as they happen, one per line. The stream
//! resumes after the last printed event when the gateway restarts.

use std::process::ExitCode;

use assent_client::Client;

use crate::cli::WatchArgs;
use crate::error::CliError;
use crate::output::Output;

pub async fn run(client: &Client, out: Output, args: WatchArgs) -> Result<ExitCode, CliError> {
    let mut events = client.events(args.after, &args.types);
    loop {
        let event = events.next().await?;
        out.event(&event)?;
    }
}
