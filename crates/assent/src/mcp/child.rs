//! The real MCP server, run as the proxy's child: its stdin and stdout are
//! the proxy's to relay, its stderr is the proxy's own.

use std::io::ErrorKind;
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};
use tokio::sync::mpsc;

use super::gate::{ServerName, ToChild};
use super::message;

/// How long a server has to exit on its own once its stdin is closed, as
/// MCP's stdio shutdown asks, before it is killed.
const EXIT_GRACE: Duration = Duration::from_secs(5);

/// Starts the server; on failure, the message and the exit code a shell
/// would give (127 not found, 126 cannot run).
pub fn spawn(command: &[String]) -> Result<Child, (String, u8)> {
    let Some((program, rest)) = command.split_first() else {
        return Err(("no command given".to_owned(), 127));
    };
    Command::new(program)
        .args(rest)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| {
            let code = if e.kind() == ErrorKind::NotFound {
                127
            } else {
                126
            };
            (format!("cannot run {program}: {e}"), code)
        })
}

/// Writes what the client sends (and approved calls) to the server, in the
/// order it arrives; closing the server's stdin at `Close`.
pub async fn feed(mut stdin: ChildStdin, mut lines: mpsc::UnboundedReceiver<ToChild>) {
    while let Some(ToChild::Line(line)) = lines.recv().await {
        if stdin.write_all(&line).await.is_err() || stdin.flush().await.is_err() {
            break;
        }
    }
}

/// Passes the server's stdout to the client line by line, learning the
/// server's name from its answers while the name is unknown.
pub async fn relay(
    stdout: ChildStdout,
    name: &ServerName,
    to_client: mpsc::UnboundedSender<Vec<u8>>,
) {
    let mut stdout = BufReader::new(stdout);
    loop {
        let mut line = Vec::new();
        match stdout.read_until(b'\n', &mut line).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        if !line.ends_with(b"\n") {
            line.push(b'\n');
        }
        if name.unknown()
            && let Some(learned) = message::server_name(&line)
        {
            name.learn(learned);
        }
        if to_client.send(line).is_err() {
            return;
        }
    }
}

/// Waits for a server whose stdin was closed to exit, killing it after
/// [`EXIT_GRACE`].
pub async fn wait_after_close(child: &mut Child) -> std::io::Result<ExitStatus> {
    match tokio::time::timeout(EXIT_GRACE, child.wait()).await {
        Ok(status) => status,
        Err(_) => {
            crate::output::status(&format!(
                "the MCP server did not exit within {}s of its stdin closing; killing it",
                EXIT_GRACE.as_secs()
            ));
            child.kill().await?;
            child.wait().await
        }
    }
}
