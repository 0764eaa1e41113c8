//! `assent mcp-proxy`: a stdio MCP server that runs the real one as a child
//! and relays every message both ways untouched, except the client's
//! `tools/call` requests, which wait for Assent's approval first.
//!
//! Messages the proxy does not gate go through at once and in order; a
//! gated call waits on its own, so answers may come back in another order
//! than the requests went out, as JSON-RPC allows. The proxy keeps no
//! protocol session of its own (it learns only the server's name from its
//! answers), so stateless protocol versions pass through as well as the
//! `initialize` handshake does.
//!
//! The proxy ends when the server exits (with its status), or when the
//! client closes stdin or stops the proxy with SIGTERM/SIGINT (then it
//! withdraws waiting calls, closes the server's stdin and waits for it).

mod child;
mod gate;
mod message;

use std::io::BufRead;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::sync::mpsc;

use self::gate::{Gatekeeper, ServerName, ToChild};
use self::message::FromClient;
use crate::cli::{Global, McpProxyArgs};
use crate::connect;
use crate::error::CliError;
use crate::output::status;

/// How long the server's last output may take to reach the client after it exited.
const DRAIN_BUDGET: Duration = Duration::from_secs(2);

pub async fn run(global: &Global, args: McpProxyArgs) -> Result<ExitCode, CliError> {
    let gateway = connect::client(global).map_err(|e| e.report());
    if let Err(why) = &gateway {
        status(&format!(
            "cannot ask for approvals ({why}); every tool call will be refused"
        ));
    }
    let mut child = match child::spawn(&args.command) {
        Ok(child) => child,
        Err((why, code)) => {
            status(&why);
            return Ok(ExitCode::from(code));
        }
    };
    let (Some(child_stdin), Some(child_stdout)) = (child.stdin.take(), child.stdout.take()) else {
        return Err(CliError::Failed(
            "the MCP server's stdio is not available".to_owned(),
        ));
    };
    let (to_client, client_lines) = mpsc::unbounded_channel();
    let (to_child, child_lines) = mpsc::unbounded_channel();
    let writer = tokio::spawn(write_lines(client_lines));
    tokio::spawn(child::feed(child_stdin, child_lines));
    let name = Arc::new(ServerName::new(args.name, &args.command));
    let relay = tokio::spawn({
        let (name, to_client) = (Arc::clone(&name), to_client.clone());
        async move { child::relay(child_stdout, &name, to_client).await }
    });
    let command_line = shlex::try_join(args.command.iter().map(String::as_str))
        .unwrap_or_else(|_| args.command.join(" "));
    let gate = Arc::new(Gatekeeper::new(
        gateway,
        name,
        command_line,
        to_client.clone(),
        to_child.clone(),
    ));
    let mut from_client = read_client();
    let stop = stop_requested();
    tokio::pin!(stop);

    let exited = loop {
        let ended = tokio::select! {
            exited = child.wait() => {
                gate.abandon_all("the MCP server exited before the call was decided").await;
                break exited;
            }
            line = from_client.recv() => match line {
                Some(line) => {
                    route(&gate, &to_client, &to_child, line);
                    continue;
                }
                None => "the MCP client disconnected",
            },
            stopped = &mut stop => stopped,
        };
        gate.abandon_all(ended).await;
        let _ = to_child.send(ToChild::Close);
        break child::wait_after_close(&mut child).await;
    };
    let exited =
        exited.map_err(|e| CliError::Failed(format!("lost track of the MCP server: {e}")))?;
    // What the server wrote before it exited still reaches the client.
    let _ = tokio::time::timeout(DRAIN_BUDGET, relay).await;
    drop((gate, to_client));
    let _ = tokio::time::timeout(DRAIN_BUDGET, writer).await;
    Ok(ExitCode::from(crate::exec::exit_code(exited)))
}

/// Resolves when the proxy is asked to stop (SIGTERM, Ctrl-C), saying how;
/// that ends it as the client closing stdin does.
async fn stop_requested() -> &'static str {
    #[cfg(unix)]
    if let Ok(mut terminate) =
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
    {
        tokio::select! {
            Some(()) = terminate.recv() => return "the MCP proxy was stopped",
            Ok(()) = tokio::signal::ctrl_c() => return "the MCP proxy was interrupted",
            else => {}
        }
    }
    if tokio::signal::ctrl_c().await.is_err() {
        std::future::pending::<()>().await;
    }
    "the MCP proxy was interrupted"
}

/// Handles one line from the client.
fn route(
    gate: &Arc<Gatekeeper>,
    to_client: &mpsc::UnboundedSender<Vec<u8>>,
    to_child: &mpsc::UnboundedSender<ToChild>,
    line: Vec<u8>,
) {
    match message::classify(&line) {
        FromClient::Other => {
            let _ = to_child.send(ToChild::Line(line));
        }
        FromClient::ToolCall(call) => gate.admit(call, line),
        FromClient::Cancelled { request, reason } => {
            if !gate.cancel(&request, reason) {
                let _ = to_child.send(ToChild::Line(line));
            }
        }
        FromClient::Batch(items) => {
            for item in items {
                route(gate, to_client, to_child, message::line(&item));
            }
        }
        FromClient::Refused { id, code, message } => {
            status(&format!("refused a message from the MCP client: {message}"));
            if let Some(id) = id {
                let _ = to_client.send(message::rpc_error(&id, code, &message));
            }
        }
        FromClient::Blank => {}
    }
}

/// The client's lines, read on a thread of their own: a blocking read of
/// stdin must not hold the runtime open when the proxy exits.
fn read_client() -> mpsc::UnboundedReceiver<Vec<u8>> {
    let (lines, received) = mpsc::unbounded_channel();
    std::thread::spawn(move || {
        let mut stdin = std::io::stdin().lock();
        loop {
            let mut line = Vec::new();
            match stdin.read_until(b'\n', &mut line) {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
            if !line.ends_with(b"\n") {
                line.push(b'\n');
            }
            if lines.send(line).is_err() {
                return;
            }
        }
    });
    received
}

/// Writes lines to the client, each flushed at once.
async fn write_lines(mut lines: mpsc::UnboundedReceiver<Vec<u8>>) {
    let mut stdout = tokio::io::stdout();
    while let Some(line) = lines.recv().await {
        if stdout.write_all(&line).await.is_err() || stdout.flush().await.is_err() {
            return;
        }
    }
}
