//! `assent exec`: ask to run a command, then run it only if approved. Its
//! stdout and stderr stay the command's; assent speaks on stderr only.

use std::io::ErrorKind;
use std::process::{ExitCode, ExitStatus};

use assent_client::Client;
use assent_domain::{CreateApproval, Status, request::MAX_SUMMARY_CHARS};
use serde_json::{Map, Value, json};

use crate::cli::ExecArgs;
use crate::error::CliError;
use crate::outcome;
use crate::output::status;
use crate::parse::whole_seconds;

pub async fn run(client: &Client, args: ExecArgs) -> Result<ExitCode, CliError> {
    let command_line = shlex::try_join(args.command.iter().map(String::as_str))
        .map_err(|e| CliError::Usage(format!("cannot quote the command: {e}")))?;
    let cwd = std::env::current_dir()
        .map_err(|e| CliError::Failed(format!("cannot read the current directory: {e}")))?;
    let create = CreateApproval {
        action: args.action,
        args: command_args(&command_line, &args.command, &cwd.to_string_lossy()),
        summary: Some(
            args.summary
                .unwrap_or_else(|| command_line.chars().take(MAX_SUMMARY_CHARS).collect()),
        ),
        timeout_seconds: args.timeout.map(whole_seconds),
        ..Default::default()
    };
    let mut approval = client.request(&create).await?;
    if !approval.status.is_terminal() {
        status(&format!(
            "waiting for approval {} ({}) to run: {command_line}",
            approval.id,
            outcome::console_link(client, approval.id)
        ));
        approval = client
            .wait(approval.id, Some(outcome::wait_bound(&approval)))
            .await?;
    }
    status(&outcome::describe(&approval));
    if approval.status != Status::Approved {
        return Ok(outcome::exit_code(approval.status));
    }
    Ok(spawn(&args.command).await)
}

/// `{command, argv, cwd}`: the command line for policy and reviewers, the
/// exact argv that will run, and where.
fn command_args(command_line: &str, argv: &[String], cwd: &str) -> Map<String, Value> {
    let mut args = Map::new();
    args.insert("command".into(), json!(command_line));
    args.insert("argv".into(), json!(argv));
    args.insert("cwd".into(), json!(cwd));
    args
}

/// Runs the command with our stdio and returns its exit code, 128 + the
/// signal if a signal ended it, or 126/127 as a shell would when it cannot start.
async fn spawn(argv: &[String]) -> ExitCode {
    let Some((program, rest)) = argv.split_first() else {
        return ExitCode::from(127);
    };
    let mut child = match tokio::process::Command::new(program).args(rest).spawn() {
        Ok(child) => child,
        Err(e) => {
            status(&format!("cannot run {program}: {e}"));
            return ExitCode::from(if e.kind() == ErrorKind::NotFound {
                127
            } else {
                126
            });
        }
    };
    loop {
        tokio::select! {
            finished = child.wait() => return match finished {
                Ok(exit) => ExitCode::from(exit_code(exit)),
                Err(e) => {
                    status(&format!("lost track of {program}: {e}"));
                    ExitCode::FAILURE
                }
            },
            // Ctrl-C reaches the command too; let it decide, and report how it ended.
            Ok(()) = tokio::signal::ctrl_c() => {}
        }
    }
}

/// The exit code a shell reports for a finished child.
pub(crate) fn exit_code(exit: ExitStatus) -> u8 {
    if let Some(code) = exit.code() {
        return u8::try_from(code & 0xff).unwrap_or(1);
    }
    #[cfg(unix)]
    if let Some(signal) = std::os::unix::process::ExitStatusExt::signal(&exit) {
        return u8::try_from(128 + signal).unwrap_or(1);
    }
    1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn args_carry_a_quoted_command_line_the_argv_and_the_cwd() {
        let argv: Vec<String> = ["sh", "-c", "echo ran > out"].map(String::from).into();
        let line = shlex::try_join(argv.iter().map(String::as_str)).unwrap();
        assert_eq!(line, "sh -c 'echo ran > out'");
        let args = command_args(&line, &argv, "/tmp");
        assert_eq!(
            Value::Object(args),
            json!({"command": line, "argv": argv, "cwd": "/tmp"})
        );
    }

    #[cfg(unix)]
    #[test]
    fn exit_codes_follow_the_shell_convention() {
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(exit_code(ExitStatus::from_raw(7 << 8)), 7);
        assert_eq!(exit_code(ExitStatus::from_raw(9)), 128 + 9);
    }
}
