//! `assent mcp-proxy` between software nobody here wrote: the official
//! Python SDK's client (PyPI `mcp`) drives the proxy, which runs the
//! reference server `@modelcontextprotocol/server-everything` (npm) as its
//! child, against a real gateway. The child runs behind `tee`, so each test
//! can read exactly what the server received.

mod interop;
mod support;

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use interop::Interop;
use support::*;

const POLICY: &str = r#"
default = "ask"

[[rule]]
name = "echo-is-harmless"
effect = "allow"
action = "mcp.*.echo"

[[rule]]
name = "modern-echo"
effect = "allow"
action = "mcp.modern-demo.echo"

[[rule]]
name = "no-env"
effect = "deny"
action = "mcp.*.get-env"
reason = "the environment holds secrets"
"#;

/// How long a waiting call may take to report progress again (the proxy
/// promises at least every 10 s).
const PROGRESS_WITHIN: Duration = Duration::from_secs(11);

struct Proxied {
    gw: Gateway,
    agent: String,
    alice: String,
    mcp: Interop,
    /// Everything the server received on stdin, one message a line.
    received: PathBuf,
}

fn proxied(test: &str) -> Option<Proxied> {
    let mcp = interop::available(test)?;
    let gw = Gateway::start_with_policy(POLICY);
    let agent = gw.token("mcp-agent", "agent");
    let alice = gw.token("alice", "approver");
    let received = gw.path("server-stdin.jsonl");
    Some(Proxied {
        gw,
        agent,
        alice,
        mcp,
        received,
    })
}

impl Proxied {
    /// The server alone, as an MCP client would start it.
    fn server(&self) -> Vec<String> {
        vec![self.mcp.server.display().to_string(), "stdio".into()]
    }

    /// The proxy in front of the server, which reads through `tee`.
    fn proxy(&self, name: Option<&str>) -> Vec<String> {
        let mut command = vec![BIN.to_owned(), "mcp-proxy".to_owned()];
        if let Some(name) = name {
            command.extend(["--name".to_owned(), name.to_owned()]);
        }
        command.extend([
            "--".to_owned(),
            "sh".to_owned(),
            "-c".to_owned(),
            r#"tee -a "$0" | "$1" stdio"#.to_owned(),
            self.received.display().to_string(),
            self.mcp.server.display().to_string(),
        ]);
        command
    }

    /// The Python client running `plan` against `command`.
    fn client(&self, plan: Value, command: &[String], url: &str) -> Client {
        let mut cmd = Command::new("python3");
        cmd.arg(&self.mcp.client_script)
            .arg(plan.to_string())
            .arg("--")
            .args(command)
            .current_dir(self.gw.dir.path())
            .env("ASSENT_URL", url)
            .env("ASSENT_TOKEN", &self.agent)
            .env_remove("ASSENT_DATA_DIR")
            .stdin(Stdio::null());
        Client(Running::spawn(cmd))
    }

    /// The `tools/call`s the server received, by tool name.
    fn calls_received(&self) -> Vec<String> {
        std::fs::read_to_string(&self.received)
            .unwrap_or_default()
            .lines()
            .filter_map(|line| serde_json::from_str::<Value>(line).ok())
            .filter(|m| m["method"] == "tools/call")
            .map(|m| m["params"]["name"].as_str().unwrap_or_default().to_owned())
            .collect()
    }

    fn approvals(&self) -> Vec<Value> {
        let page: Value =
            serde_json::from_str(&self.gw.ok(&self.alice, &["list", "--json"]).stdout).unwrap();
        page["items"].as_array().unwrap().clone()
    }

    fn approval(&self, id: &str) -> Value {
        serde_json::from_str(&self.gw.ok(&self.alice, &["show", id, "--json"]).stdout).unwrap()
    }
}

/// The Python client's records, one JSON object a line.
struct Client(Running);

impl Client {
    fn next(&self, within: Duration) -> Value {
        let line = self
            .0
            .lines
            .recv_timeout(within)
            .unwrap_or_else(|_| panic!("the MCP client reported nothing within {within:?}"));
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"))
    }

    /// The next record that has `key`.
    fn next_with(&self, key: &str, within: Duration) -> Value {
        let deadline = Instant::now() + within;
        loop {
            let record = self.next(deadline.saturating_duration_since(Instant::now()));
            if record.get(key).is_some() {
                return record;
            }
        }
    }

    fn finish(self) -> Finished {
        let done = self.0.finish(Duration::from_secs(30));
        assert_eq!(done.code, Some(0), "the MCP client failed: {done:?}");
        done
    }
}

fn text_of(result: &Value) -> String {
    result["content"][0]["text"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[test]
fn the_handshake_and_tools_list_are_the_servers_own() {
    let Some(p) = proxied("the_handshake_and_tools_list_are_the_servers_own") else {
        return;
    };
    let plan = json!({"list_tools": true});
    let seen = |command: &[String]| {
        let client = p.client(plan.clone(), command, &p.gw.url);
        let server = client.next_with("server", START_TIMEOUT);
        let tools = client.next_with("tools", START_TIMEOUT);
        client.finish();
        (server, tools)
    };
    let (direct_server, direct_tools) = seen(&p.server());
    let (proxied_server, proxied_tools) = seen(&p.proxy(None));
    assert_eq!(proxied_server, direct_server);
    assert_eq!(direct_server["protocol_version"], "2025-11-25");
    assert_eq!(proxied_tools, direct_tools);
    let names: Vec<&str> = direct_tools["tools"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert!(
        names.contains(&"echo") && names.contains(&"get-sum"),
        "{names:?}"
    );
}

#[test]
fn messages_it_does_not_gate_pass_through_byte_for_byte() {
    let Some(p) = proxied("messages_it_does_not_gate_pass_through_byte_for_byte") else {
        return;
    };
    let requests = [
        r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"raw","version":"0"}}}"#,
        r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
        r#"{"jsonrpc":"2.0","id":2,"method":"tools/list","params":{"_meta":{"x-unknown":[1,2]}}}"#,
        r#"{"jsonrpc":"2.0","id":3,"method":"resources/list"}"#,
        r#"{"jsonrpc":"2.0","id":4,"method":"no/such-method"}"#,
    ];
    let direct = raw_exchange(&p.server(), &requests, 4);
    let proxied = raw_exchange(&p.proxy(Some("everything")), &requests, 4);
    assert_eq!(proxied, direct);
    let received: Vec<String> = std::fs::read_to_string(&p.received)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    assert_eq!(received, requests, "the server got the client's bytes");
}

#[test]
fn an_allowed_call_runs_at_once_and_a_denied_one_never_reaches_the_server() {
    let Some(p) = proxied("an_allowed_call_runs_at_once_and_a_denied_one_never_reaches_the_server")
    else {
        return;
    };
    let plan = json!({"calls": [
        {"tool": "echo", "arguments": {"message": "hello"}},
        {"tool": "get-env", "arguments": {}},
    ]});
    let client = p.client(plan, &p.proxy(None), &p.gw.url);
    let echo = client.next_with("result", START_TIMEOUT);
    assert_eq!(echo["result"]["isError"], false, "{echo}");
    assert_eq!(text_of(&echo["result"]), "Echo: hello");
    let env = client.next_with("result", PROMPT);
    assert_eq!(env["result"]["isError"], true, "{env}");
    let text = text_of(&env["result"]);
    assert!(
        text.contains("rejected by policy rule no-env: the environment holds secrets"),
        "{text}"
    );
    client.finish();

    assert_eq!(p.calls_received(), ["echo"]);
    let approvals = p.approvals();
    let by_action = |action: &str| {
        approvals
            .iter()
            .find(|a| a["action"] == action)
            .unwrap_or_else(|| panic!("no approval for {action}: {approvals:?}"))
    };
    // Without --name the action carries the name the server gives itself.
    let echo = by_action("mcp.mcp-servers/everything.echo");
    assert_eq!(echo["status"], "approved");
    assert_eq!(echo["decision"]["by"], json!(["policy:echo-is-harmless"]));
    assert_eq!(echo["args"], json!({"message": "hello"}));
    assert_eq!(echo["context"]["mcp_tool"], "echo");
    let env = by_action("mcp.mcp-servers/everything.get-env");
    assert_eq!(env["status"], "rejected");
    let session = echo["session_id"].as_str().unwrap();
    assert!(session.starts_with("mcp-proxy-"), "{session}");
    assert_eq!(env["session_id"], session, "one session per proxy process");
}

#[test]
fn a_gated_call_reports_progress_while_it_waits_and_runs_once_approved() {
    let Some(p) = proxied("a_gated_call_reports_progress_while_it_waits_and_runs_once_approved")
    else {
        return;
    };
    let plan = json!({"calls": [{"tool": "get-sum", "arguments": {"a": 2, "b": 3}}]});
    let client = p.client(plan, &p.proxy(Some("everything")), &p.gw.url);
    let first = client.next_with("progress", START_TIMEOUT);
    let pending: Vec<Value> = p.approvals();
    let [approval] = pending.as_slice() else {
        panic!("{pending:?}")
    };
    assert_eq!(approval["status"], "pending");
    assert_eq!(approval["action"], "mcp.everything.get-sum");
    assert_eq!(approval["args"], json!({"a": 2, "b": 3}));
    let id = approval["id"].as_str().unwrap();
    let message = first["message"].as_str().unwrap();
    assert!(message.contains(id), "{message}");
    assert!(
        message.contains(&format!("{}/#/approvals/{id}", p.gw.url)),
        "{message}"
    );
    // Progress keeps coming while nobody decides, and the server has not
    // seen the call.
    let second = client.next_with("progress", PROGRESS_WITHIN);
    assert!(
        second["progress"].as_f64() > first["progress"].as_f64(),
        "{first} then {second}"
    );
    assert!(p.calls_received().is_empty());

    p.gw.ok(&p.alice, &["approve", id, "--reason", "fine"]);
    let sum = client.next_with("result", PROMPT);
    assert_eq!(sum["result"]["isError"], false, "{sum}");
    assert_eq!(text_of(&sum["result"]), "The sum of 2 and 3 is 5.");
    client.finish();
    assert_eq!(p.calls_received(), ["get-sum"]);
}

#[test]
fn progress_keeps_a_client_with_a_short_request_timeout_waiting() {
    let Some(p) = proxied("progress_keeps_a_client_with_a_short_request_timeout_waiting") else {
        return;
    };
    // The TypeScript SDK's client gives up after 8 s unless progress
    // resets its timer; the person decides after more than 10 s.
    let mut cmd = Command::new("node");
    cmd.arg(p.mcp.node_modules.join("../mcp_ts_client.mjs"))
        .args(["8000", "get-sum", r#"{"a": 20, "b": 22}"#, "--"])
        .args(p.proxy(Some("everything")))
        .current_dir(p.gw.dir.path())
        .env("ASSENT_URL", &p.gw.url)
        .env("ASSENT_TOKEN", &p.agent)
        .stdin(Stdio::null());
    let client = Client(Running::spawn(cmd));
    let started = client.next_with("progress", START_TIMEOUT);
    let asked = Instant::now();
    for _ in 0..2 {
        client.next_with("progress", PROGRESS_WITHIN);
    }
    assert!(asked.elapsed() > Duration::from_secs(8), "{started}");
    let id = p.approvals()[0]["id"].as_str().unwrap().to_owned();
    p.gw.ok(&p.alice, &["approve", &id]);
    let sum = client.next_with("result", PROMPT);
    assert_eq!(
        text_of(&sum["result"]),
        "The sum of 20 and 22 is 42.",
        "{sum}"
    );
    client.finish();
}

#[test]
fn the_stateless_protocol_passes_through_and_is_gated_alike() {
    let Some(p) = proxied("the_stateless_protocol_passes_through_and_is_gated_alike") else {
        return;
    };
    // The Python SDK's own server speaks 2026-07-28 (no `initialize`: a
    // `server/discover` probe, then self-contained requests), and its
    // client negotiates it.
    let server = vec![
        "python3".to_owned(),
        interop::dir()
            .join("mcp_modern_server.py")
            .display()
            .to_string(),
    ];
    let mut proxy = vec![BIN.to_owned(), "mcp-proxy".to_owned(), "--".to_owned()];
    proxy.extend(server.iter().cloned());
    let client = p.client(json!({"list_tools": true}), &server, &p.gw.url);
    let direct = (
        client.next_with("server", START_TIMEOUT),
        client.next_with("tools", START_TIMEOUT),
    );
    client.finish();
    assert_eq!(direct.0["protocol_version"], "2026-07-28");

    let plan = json!({"list_tools": true, "calls": [
        {"tool": "echo", "arguments": {"message": "stateless"}},
        {"tool": "add", "arguments": {"a": 1, "b": 2}},
    ]});
    let client = p.client(plan, &proxy, &p.gw.url);
    let proxied = (
        client.next_with("server", START_TIMEOUT),
        client.next_with("tools", START_TIMEOUT),
    );
    assert_eq!(proxied, direct);
    let echo = client.next_with("result", START_TIMEOUT);
    assert_eq!(echo["result"]["isError"], false, "{echo}");
    assert_eq!(text_of(&echo["result"]), "Echo: stateless");
    client.next_with("progress", PROMPT);
    let pending = p.approvals();
    let add = pending
        .iter()
        .find(|a| a["status"] == "pending")
        .unwrap_or_else(|| panic!("{pending:?}"));
    // The name comes from the server info stateless answers carry.
    assert_eq!(add["action"], "mcp.modern-demo.add");
    let id = add["id"].as_str().unwrap();
    p.gw.ok(&p.alice, &["reject", id, "--reason", "adding is risky"]);
    let refused = client.next_with("result", PROMPT);
    assert_eq!(refused["result"]["isError"], true, "{refused}");
    assert_eq!(refused["result"]["resultType"], "complete");
    assert!(text_of(&refused["result"]).contains("rejected by alice: adding is risky"));
    client.finish();
}

#[test]
fn a_rejected_call_is_an_error_result_with_the_reviewers_reason() {
    let Some(p) = proxied("a_rejected_call_is_an_error_result_with_the_reviewers_reason") else {
        return;
    };
    let plan = json!({"calls": [{"tool": "get-sum", "arguments": {"a": 1, "b": 1}}]});
    let client = p.client(plan, &p.proxy(Some("everything")), &p.gw.url);
    client.next_with("progress", START_TIMEOUT);
    let id = p.approvals()[0]["id"].as_str().unwrap().to_owned();
    p.gw.ok(
        &p.alice,
        &["reject", &id, "--reason", "not during the freeze"],
    );
    let refused = client.next_with("result", PROMPT);
    assert_eq!(refused["result"]["isError"], true, "{refused}");
    let text = text_of(&refused["result"]);
    assert!(
        text.contains(&format!(
            "approval {id} was rejected by alice: not during the freeze"
        )),
        "{text}"
    );
    client.finish();
    assert!(
        p.calls_received().is_empty(),
        "the server never saw the call"
    );
}

#[test]
fn a_call_the_client_cancels_cancels_its_approval() {
    let Some(p) = proxied("a_call_the_client_cancels_cancels_its_approval") else {
        return;
    };
    let plan = json!({"calls": [
        {"tool": "get-sum", "arguments": {"a": 4, "b": 4}, "cancel_on_progress": true},
    ]});
    let client = p.client(plan, &p.proxy(Some("everything")), &p.gw.url);
    client.next_with("progress", START_TIMEOUT);
    client.next_with("cancelled", PROMPT);
    let id = p.approvals()[0]["id"].as_str().unwrap().to_owned();
    let deadline = Instant::now() + PROMPT;
    let approval = loop {
        let approval = p.approval(&id);
        if approval["status"] != "pending" || Instant::now() > deadline {
            break approval;
        }
        thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(approval["status"], "cancelled", "{approval}");
    assert_eq!(approval["decision"]["by"], json!(["mcp-agent"]));
    let reason = approval["decision"]["reason"].as_str().unwrap_or_default();
    assert!(
        reason.contains("the MCP client cancelled the call"),
        "{reason}"
    );
    client.finish();
    assert!(
        p.calls_received().is_empty(),
        "the server never saw the call"
    );
}

#[test]
fn an_unreachable_gateway_refuses_every_call() {
    let Some(p) = proxied("an_unreachable_gateway_refuses_every_call") else {
        return;
    };
    let unused = unused_port_url();
    let plan = json!({"calls": [{"tool": "echo", "arguments": {"message": "hi"}}]});
    let client = p.client(plan, &p.proxy(Some("everything")), &unused);
    let refused = client.next_with("result", START_TIMEOUT);
    assert_eq!(refused["result"]["isError"], true, "{refused}");
    let text = text_of(&refused["result"]);
    assert!(
        text.contains(&format!("cannot reach the Assent gateway at {unused}")),
        "{text}"
    );
    client.finish();
    assert!(p.calls_received().is_empty());
}

#[test]
fn the_proxy_exits_with_its_server_and_passes_its_stderr_through() {
    let Some(p) = proxied("the_proxy_exits_with_its_server_and_passes_its_stderr_through") else {
        return;
    };
    let server = p.mcp.server.display().to_string();
    let mut cmd =
        p.gw.command(&p.agent, &["mcp-proxy", "--", &server, "stdio"]);
    cmd.stdin(Stdio::piped());
    let mut running = Running::spawn(cmd);
    let mut client = running.child.stdin.take().unwrap();
    writeln!(client, r#"{{"jsonrpc":"2.0","id":1,"method":"ping"}}"#).unwrap();
    running.next_line(START_TIMEOUT);
    // The server ends (killed by a signal) while the client stays connected.
    let server_pid = children_of(running.child.id());
    let [server_pid] = server_pid.as_slice() else {
        panic!("the proxy should have one child: {server_pid:?}")
    };
    let killed = Command::new("kill")
        .arg(server_pid.to_string())
        .status()
        .unwrap();
    assert!(killed.success());
    let done = running.finish(Duration::from_secs(15));
    assert_eq!(
        done.code,
        Some(128 + 15),
        "the server's status, as a shell gives it: {done:?}"
    );
    assert!(
        done.stderr.contains("Starting default (STDIO) server"),
        "the server's stderr: {done:?}"
    );
    drop(client);
}

/// The ids of a process's children (Linux).
fn children_of(pid: u32) -> Vec<u32> {
    let mut children = Vec::new();
    for task in std::fs::read_dir(format!("/proc/{pid}/task")).unwrap() {
        let listed =
            std::fs::read_to_string(task.unwrap().path().join("children")).unwrap_or_default();
        children.extend(
            listed
                .split_whitespace()
                .filter_map(|c| c.parse::<u32>().ok()),
        );
    }
    children
}

#[test]
fn the_proxy_exits_when_the_client_disconnects() {
    let Some(p) = proxied("the_proxy_exits_when_the_client_disconnects") else {
        return;
    };
    let direct = disconnect(p.server());
    let proxied = disconnect(p.proxy(Some("everything")));
    assert_eq!(
        proxied.code, direct.code,
        "the server's own status: {proxied:?}"
    );
}

#[test]
fn stopping_the_proxy_withdraws_the_calls_that_wait() {
    let Some(p) = proxied("stopping_the_proxy_withdraws_the_calls_that_wait") else {
        return;
    };
    let mut cmd = Command::new(BIN);
    cmd.args(p.proxy(Some("everything")).into_iter().skip(1))
        .env("ASSENT_URL", &p.gw.url)
        .env("ASSENT_TOKEN", &p.agent)
        .stdin(Stdio::piped());
    let mut running = Running::spawn(cmd);
    let mut client = running.child.stdin.take().unwrap();
    writeln!(
        client,
        r#"{{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{{"name":"get-sum","arguments":{{"a":1,"b":2}},"_meta":{{"progressToken":"p7"}}}}}}"#
    )
    .unwrap();
    let progress = loop {
        let message: Value = serde_json::from_str(&running.next_line(START_TIMEOUT)).unwrap();
        if message["method"] == "notifications/progress" {
            break message;
        }
    };
    assert_eq!(progress["params"]["progressToken"], "p7");
    let killed = Command::new("kill")
        .args(["-TERM", &running.child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let done = running.finish(Duration::from_secs(15));
    assert!(
        done.code.is_some(),
        "it exits, not dies of the signal: {done:?}"
    );
    let approval = &p.approvals()[0];
    assert_eq!(approval["status"], "cancelled", "{approval}");
    assert_eq!(approval["decision"]["reason"], "the MCP proxy was stopped");
    assert!(p.calls_received().is_empty());
    drop(client);
}

/// Starts `command`, says hello, closes its stdin and waits for it to exit.
fn disconnect(command: Vec<String>) -> Finished {
    let mut cmd = Command::new(&command[0]);
    cmd.args(&command[1..]).stdin(Stdio::piped());
    let mut running = Running::spawn(cmd);
    let mut stdin = running.child.stdin.take().unwrap();
    writeln!(stdin, r#"{{"jsonrpc":"2.0","id":1,"method":"ping"}}"#).unwrap();
    running.next_line(START_TIMEOUT);
    drop(stdin);
    running.finish(Duration::from_secs(15))
}

/// Sends `requests` to a fresh `command` and returns every line it wrote
/// until `answers` responses came back.
fn raw_exchange(command: &[String], requests: &[&str], answers: usize) -> Vec<String> {
    let mut child = Command::new(&command[0])
        .args(&command[1..])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, lines) = mpsc::channel();
    thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut seen = Vec::new();
    for request in requests {
        writeln!(stdin, "{request}").unwrap();
    }
    while seen
        .iter()
        .filter(|l: &&String| l.contains(r#""id":"#))
        .count()
        < answers
    {
        seen.push(
            lines
                .recv_timeout(START_TIMEOUT)
                .expect("an answer in time"),
        );
    }
    drop(stdin);
    let _ = child.kill();
    let _ = child.wait();
    seen
}

/// A loopback URL nothing listens on.
fn unused_port_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    url
}
