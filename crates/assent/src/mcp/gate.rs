//! Gating one `tools/call`: ask the gateway, forward the call when it is
//! approved, answer it with an `isError` result when it is not, and keep
//! the client informed while a person decides.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use assent_client::{Approval, Client, CreateApproval, Status};
use serde_json::{Map, Value, json};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinSet;
use uuid::Uuid;

use super::message::{self, ToolCall};
use crate::output::status;
use crate::{fitting, outcome, verdict};

/// How often a waiting call's client hears progress. MCP clients commonly
/// give up on a request after 60 s unless progress arrives; 5 s keeps
/// even impatient ones waiting.
pub const PROGRESS_EVERY: Duration = Duration::from_secs(5);

/// Longest server name kept in an action (`mcp.<server>.<tool>`), so that
/// with the longest tool name the action stays within 200 characters.
const MAX_SERVER_NAME: usize = 64;
/// MCP's own limit on tool names.
const MAX_TOOL_NAME: usize = 128;

/// How long shutting down waits for waiting calls to withdraw their approvals.
const WITHDRAW_BUDGET: Duration = Duration::from_secs(3);

/// What goes to the child's stdin.
#[derive(Debug)]
pub enum ToChild {
    Line(Vec<u8>),
    /// The client has gone: close the child's stdin.
    Close,
}

/// The server's name in action names: `--name`, else what the server calls
/// itself when the client connects, else its command's file name.
#[derive(Debug)]
pub struct ServerName {
    given: Option<String>,
    learned: OnceLock<String>,
    fallback: String,
}

impl ServerName {
    pub fn new(given: Option<String>, command: &[String]) -> Self {
        let fallback = command
            .first()
            .and_then(|program| Path::new(program).file_name())
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_default();
        Self {
            given,
            learned: OnceLock::new(),
            fallback,
        }
    }

    /// Whether the name is still to be learned from the server's answers.
    pub fn unknown(&self) -> bool {
        self.given.is_none() && self.learned.get().is_none()
    }

    pub fn learn(&self, name: String) {
        let _ = self.learned.set(name);
    }

    fn get(&self) -> &str {
        self.given
            .as_deref()
            .or_else(|| self.learned.get().map(String::as_str))
            .unwrap_or(&self.fallback)
    }
}

/// Every call the proxy is gating, and what it needs to gate them.
pub struct Gatekeeper {
    /// The gateway, or why there is none (every call is then refused).
    gateway: Result<Client, String>,
    /// One session per proxy process: session grants last as long as it.
    session: String,
    name: Arc<ServerName>,
    /// The child's command line, shown to reviewers.
    command_line: String,
    to_client: mpsc::UnboundedSender<Vec<u8>>,
    to_child: mpsc::UnboundedSender<ToChild>,
    /// Calls not yet forwarded nor answered, by request id; sending on the
    /// entry withdraws the call with that reason.
    waiting: Mutex<HashMap<String, oneshot::Sender<String>>>,
    /// The gating tasks, so shutting down can wait for their withdrawals.
    tasks: Mutex<JoinSet<()>>,
}

/// How a gated call ends.
enum Outcome {
    Forward,
    Refuse(String),
    /// The client cancelled it: no answer at all.
    Withdrawn,
}

impl Gatekeeper {
    pub fn new(
        gateway: Result<Client, String>,
        name: Arc<ServerName>,
        command_line: String,
        to_client: mpsc::UnboundedSender<Vec<u8>>,
        to_child: mpsc::UnboundedSender<ToChild>,
    ) -> Self {
        Self {
            gateway,
            session: format!("mcp-proxy-{}", Uuid::now_v7()),
            name,
            command_line,
            to_client,
            to_child,
            waiting: Mutex::new(HashMap::new()),
            tasks: Mutex::new(JoinSet::new()),
        }
    }

    /// Starts gating `call`; `line` is what the server gets if it is approved.
    pub fn admit(self: &Arc<Self>, call: ToolCall, line: Vec<u8>) {
        let key = message::id_key(&call.id);
        let (cancel, cancelled) = oneshot::channel();
        {
            let mut waiting = self.waiting();
            if waiting.contains_key(&key) {
                let _ = self.to_client.send(message::rpc_error(
                    &call.id,
                    message::INVALID_REQUEST,
                    "a request with this id is still in progress",
                ));
                return;
            }
            waiting.insert(key.clone(), cancel);
        }
        let gate = Arc::clone(self);
        let mut tasks = self.tasks.lock().unwrap_or_else(PoisonError::into_inner);
        while tasks.try_join_next().is_some() {}
        tasks.spawn(async move {
            let outcome = gate.decide(&call, cancelled).await;
            gate.conclude(&key, &call, line, outcome);
        });
    }

    /// Withdraws a waiting call the client cancelled; false when no call
    /// with that id is waiting (the cancellation is then the server's).
    pub fn cancel(&self, key: &str, reason: Option<String>) -> bool {
        let Some(cancel) = self.waiting().remove(key) else {
            return false;
        };
        let reason = match reason {
            Some(why) => format!("the MCP client cancelled the call: {why}"),
            None => "the MCP client cancelled the call".to_owned(),
        };
        let _ = cancel.send(reason);
        true
    }

    /// Withdraws every waiting call (the client or the server has gone) and
    /// waits a little for their approvals to be cancelled.
    pub async fn abandon_all(&self, reason: &str) {
        let waiting: Vec<_> = self.waiting().drain().collect();
        for (_, cancel) in waiting {
            let _ = cancel.send(reason.to_owned());
        }
        let mut tasks =
            std::mem::take(&mut *self.tasks.lock().unwrap_or_else(PoisonError::into_inner));
        let _ = tokio::time::timeout(WITHDRAW_BUDGET, async {
            while tasks.join_next().await.is_some() {}
        })
        .await;
    }

    fn waiting(&self) -> std::sync::MutexGuard<'_, HashMap<String, oneshot::Sender<String>>> {
        self.waiting.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Forwards or answers the call, unless it was withdrawn meanwhile. The
    /// check and the send happen under the lock a cancellation takes, so a
    /// cancellation either stops the call or reaches the server after it.
    fn conclude(&self, key: &str, call: &ToolCall, line: Vec<u8>, outcome: Outcome) {
        let mut waiting = self.waiting();
        if waiting.remove(key).is_none() {
            return;
        }
        match outcome {
            Outcome::Forward => {
                let _ = self.to_child.send(ToChild::Line(line));
            }
            Outcome::Refuse(text) => {
                let _ = self.to_client.send(message::tool_error(call, &text));
            }
            Outcome::Withdrawn => {}
        }
    }

    async fn decide(&self, call: &ToolCall, mut cancelled: oneshot::Receiver<String>) -> Outcome {
        let client = match &self.gateway {
            Ok(client) => client,
            Err(why) => return Outcome::Refuse(not_run(&call.name, why)),
        };
        let url = client.base_url().as_str().trim_end_matches('/').to_owned();
        let approval = match client.request(&self.approval_request(call)).await {
            Ok(approval) => approval,
            Err(e) => {
                return Outcome::Refuse(not_run(&call.name, &verdict::gateway_failure(&e, &url)));
            }
        };
        if let Ok(reason) = cancelled.try_recv() {
            withdraw(client, &approval, reason).await;
            return Outcome::Withdrawn;
        }
        let approval = if approval.status == Status::Pending {
            match self.wait(client, call, approval, &mut cancelled).await {
                Some(Ok(approval)) => approval,
                Some(Err(e)) => {
                    return Outcome::Refuse(not_run(
                        &call.name,
                        &verdict::gateway_failure(&e, &url),
                    ));
                }
                None => return Outcome::Withdrawn,
            }
        } else {
            approval
        };
        match approval.status {
            Status::Approved => Outcome::Forward,
            Status::Rejected | Status::Cancelled => Outcome::Refuse(format!(
                "Assent did not run {}: approval {} was {}. Ask the user how to proceed \
                 rather than retrying the same call.",
                call.name,
                approval.id,
                verdict::outcome(&approval)
            )),
            Status::Expired | Status::Pending => Outcome::Refuse(format!(
                "Assent did not run {}: nobody decided on approval {} in time. Ask the user \
                 to approve the call in the Assent console, then retry it.",
                call.name, approval.id
            )),
        }
    }

    /// `mcp.<server>.<tool>` with the tool's arguments as args.
    fn approval_request(&self, call: &ToolCall) -> CreateApproval {
        let server = self.name.get();
        let action = format!(
            "mcp.{}.{}",
            fitting::action_segment(server, MAX_SERVER_NAME, "server"),
            fitting::action_segment(&call.name, MAX_TOOL_NAME, "tool"),
        );
        let mut context = Map::new();
        context.insert("mcp_server".into(), json!(server));
        context.insert("mcp_tool".into(), json!(call.name));
        context.insert("mcp_command".into(), json!(self.command_line));
        let mut summary = format!("{} on MCP server {server}", call.name);
        if !call.arguments.is_empty() {
            summary.push_str(&format!(": {}", Value::Object(call.arguments.clone())));
        }
        CreateApproval {
            action,
            args: call.arguments.clone(),
            summary: Some(fitting::summary(&summary)),
            context,
            session_id: Some(self.session.clone()),
            ..Default::default()
        }
    }

    /// Waits for a person's decision, telling the client about it every
    /// [`PROGRESS_EVERY`]. `None` when the call was withdrawn.
    async fn wait(
        &self,
        client: &Client,
        call: &ToolCall,
        approval: Approval,
        cancelled: &mut oneshot::Receiver<String>,
    ) -> Option<Result<Approval, assent_client::Error>> {
        let link = verdict::console_link(client, &approval);
        status(&format!(
            "tool call {} waits for approval {} ({}): decide at {link}",
            call.name, approval.id, approval.action
        ));
        let decision = client.wait(approval.id, Some(outcome::wait_bound(&approval)));
        tokio::pin!(decision);
        let mut ticks = tokio::time::interval(PROGRESS_EVERY);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut waited = 0;
        let decided = loop {
            tokio::select! {
                decided = &mut decision => break decided,
                _ = ticks.tick() => {
                    if let Some(token) = &call.progress_token {
                        let text = format!(
                            "Waiting for a person to approve {} in Assent (approval {}): decide at {link}",
                            call.name, approval.id
                        );
                        let _ = self.to_client.send(message::progress(token, waited, &text));
                    }
                    waited += PROGRESS_EVERY.as_secs();
                }
                reason = &mut *cancelled => {
                    let reason = reason.unwrap_or_else(|_| "the proxy stopped".to_owned());
                    withdraw(client, &approval, reason).await;
                    return None;
                }
            }
        };
        if let Ok(approval) = &decided {
            status(&format!(
                "tool call {}: approval {} {}",
                call.name,
                approval.id,
                verdict::outcome(approval)
            ));
        }
        Some(decided)
    }
}

/// The text a refused call's result carries.
fn not_run(tool: &str, why: &str) -> String {
    format!(
        "Assent did not run {tool}: {why}. Tell the user; the call can be retried once \
         Assent can be asked."
    )
}

/// Cancels the approval of a call nobody waits for any more.
async fn withdraw(client: &Client, approval: &Approval, reason: String) {
    if approval.status != Status::Pending {
        return;
    }
    match client.cancel(approval.id, Some(reason.clone())).await {
        Ok(_) => status(&format!("approval {} cancelled: {reason}", approval.id)),
        Err(e) => status(&format!("cannot cancel approval {}: {e}", approval.id)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gatekeeper(given: Option<&str>, command: &[&str]) -> Gatekeeper {
        let command: Vec<String> = command.iter().map(|s| s.to_string()).collect();
        let name = Arc::new(ServerName::new(given.map(str::to_owned), &command));
        Gatekeeper::new(
            Err("no gateway".into()),
            name,
            command.join(" "),
            mpsc::unbounded_channel().0,
            mpsc::unbounded_channel().0,
        )
    }

    fn call(name: &str) -> ToolCall {
        ToolCall {
            id: json!(1),
            name: name.into(),
            arguments: Map::new(),
            progress_token: None,
            stateless: false,
        }
    }

    #[test]
    fn actions_name_the_server_and_the_tool() {
        let gate = gatekeeper(None, &["/usr/bin/mcp-server-everything", "stdio"]);
        assert_eq!(
            gate.approval_request(&call("echo")).action,
            "mcp.mcp-server-everything.echo"
        );
        gate.name.learn("mcp-servers/everything".into());
        assert!(!gate.name.unknown());
        let ask = gate.approval_request(&call("get sum"));
        assert_eq!(ask.action, "mcp.mcp-servers/everything.get_sum");
        assert_eq!(ask.context["mcp_tool"], "get sum");
        let given = gatekeeper(Some("Git Hub"), &["npx", "server"]);
        given.name.learn("ignored".into());
        assert_eq!(given.approval_request(&call("x")).action, "mcp.Git_Hub.x");
    }
}
