//! docs/integrations.md and examples/: every snippet in the doc is the
//! example file it names, and every example runs here as its users would
//! run it, against a real gateway. (The Rust agent loop runs in its own
//! crate's tests, examples/agent-loop.)

mod interop;
mod support;

use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use support::*;

const POLICY: &str = r#"
default = "ask"

[[rule]]
name = "echo-is-harmless"
effect = "allow"
action = "mcp.everything.echo"

[[rule]]
name = "reads"
effect = "allow"
action = "claude.Read"
"#;

/// Every example the doc must show, each exactly as the file has it.
const SNIPPETS: [&str; 4] = [
    "examples/mcp.json",
    "examples/claude-code-settings.json",
    "examples/deploy.sh",
    "examples/agent-loop/src/main.rs",
];

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn read(path: &str) -> String {
    std::fs::read_to_string(repo().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// `PATH` with the directory of the `assent` under test first, then `more`.
fn path_with_assent(more: &[&Path]) -> OsString {
    let bin_dir = Path::new(BIN).parent().unwrap().to_path_buf();
    let mut dirs = vec![bin_dir];
    dirs.extend(more.iter().map(|p| p.to_path_buf()));
    dirs.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    std::env::join_paths(dirs).unwrap()
}

/// The code blocks that follow `<!-- snippet: PATH -->` markers.
fn doc_snippets(doc: &str) -> Vec<(String, String)> {
    let mut snippets = Vec::new();
    let mut rest = doc;
    while let Some(at) = rest.find("<!-- snippet: ") {
        rest = &rest[at + "<!-- snippet: ".len()..];
        let (path, after) = rest.split_once(" -->").expect("an unclosed snippet marker");
        let fence = after.find("```").expect("a code block after the marker");
        let body = &after[fence..];
        let body = &body[body.find('\n').unwrap() + 1..];
        let end = body.find("\n```").expect("an unclosed code block");
        snippets.push((path.to_owned(), body[..end + 1].to_owned()));
        rest = &body[end..];
    }
    snippets
}

#[test]
fn every_snippet_in_the_integrations_doc_is_its_example_file() {
    let doc = read("docs/integrations.md");
    let snippets = doc_snippets(&doc);
    let shown: Vec<&str> = snippets.iter().map(|(path, _)| path.as_str()).collect();
    for path in SNIPPETS {
        assert!(
            shown.contains(&path),
            "docs/integrations.md does not show {path}"
        );
    }
    for (path, body) in &snippets {
        assert_eq!(
            body,
            &read(path),
            "docs/integrations.md's copy of {path} differs"
        );
    }
    assert!(
        doc.contains("## Python and TypeScript SDKs"),
        "the section the SDKs fill in is there"
    );
}

#[test]
fn every_policy_in_the_integrations_doc_loads() {
    let doc = read("docs/integrations.md");
    let dir = tempfile::tempdir().unwrap();
    let policies: Vec<&str> = doc
        .split("```toml\n")
        .skip(1)
        .map(|block| &block[..block.find("```").expect("an unclosed code block")])
        .collect();
    assert!(!policies.is_empty());
    for (i, policy) in policies.iter().enumerate() {
        let file = dir.path().join(format!("policy-{i}.toml"));
        std::fs::write(&file, policy).unwrap();
        let out = Command::new(BIN)
            .args(["policy", "test"])
            .arg(&file)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{policy}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn the_claude_code_settings_example_is_what_print_settings_prints_and_works() {
    let gw = Gateway::start_with_policy(POLICY);
    let agent = gw.token("claude-agent", "agent");
    let example = read("examples/claude-code-settings.json");
    let printed = gw
        .ok("", &["hook", "claude-code", "--print-settings"])
        .stdout;
    assert_eq!(printed, example);

    let settings: Value = serde_json::from_str(&example).unwrap();
    let command = settings["hooks"]["PreToolUse"][0]["hooks"][0]["command"]
        .as_str()
        .unwrap();
    let input = json!({
        "session_id": "s1", "transcript_path": "/tmp/t.jsonl", "cwd": "/tmp",
        "permission_mode": "default", "hook_event_name": "PreToolUse",
        "tool_name": "Read", "tool_input": {"file_path": "/tmp/notes.txt"},
        "tool_use_id": "toolu_1",
    });
    let mut child = Command::new("sh")
        .args(["-c", command])
        .env("PATH", path_with_assent(&[]))
        .env("ASSENT_URL", &gw.url)
        .env("ASSENT_TOKEN", &agent)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let answer: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(answer["hookSpecificOutput"]["permissionDecision"], "allow");
}

#[test]
fn the_deploy_script_deploys_only_what_a_person_approved() {
    let s = setup();
    let script = repo().join("examples/deploy.sh");
    for (verdict, code) in [("approve", 0), ("reject", EXIT_REJECTED)] {
        let work = tempfile::tempdir().unwrap();
        let mut cmd = Command::new("sh");
        cmd.arg(&script)
            .args(["billing", "staging"])
            .current_dir(work.path())
            .env("PATH", path_with_assent(&[]))
            .env("ASSENT_URL", &s.gw.url)
            .env("ASSENT_TOKEN", &s.agent)
            .env_remove("ASSENT_DATA_DIR")
            .stdin(Stdio::null());
        let running = Running::spawn(cmd);
        let id = s.the_pending_one();
        let shown: Value =
            serde_json::from_str(&s.gw.ok(&s.alice, &["show", &id, "--json"]).stdout).unwrap();
        assert_eq!(shown["action"], "deploy.billing");
        assert_eq!(shown["summary"], "Deploy billing to staging");
        s.gw.ok(&s.alice, &[verdict, &id, "--reason", "checked"]);
        let done = running.finish(PROMPT);
        assert_eq!(done.code, Some(code), "{verdict}: {done:?}");
        let log = std::fs::read_to_string(work.path().join("deployments.log")).ok();
        if code == 0 {
            assert_eq!(log.as_deref(), Some("billing -> staging\n"));
            assert!(
                done.stdout.contains("deployed billing to staging"),
                "{done:?}"
            );
        } else {
            assert_eq!(log, None, "a rejected deploy runs nothing");
            assert!(!done.stdout.contains("deployed"), "{done:?}");
        }
    }
}

#[test]
fn the_mcp_config_example_starts_a_gated_server() {
    let Some(mcp) = interop::available("the_mcp_config_example_starts_a_gated_server") else {
        return;
    };
    let gw = Gateway::start_with_policy(POLICY);
    let agent = gw.token("mcp-agent", "agent");
    let config: Value = serde_json::from_str(&read("examples/mcp.json")).unwrap();
    let server = &config["mcpServers"]["everything"];
    let mut command = vec![server["command"].as_str().unwrap().to_owned()];
    command.extend(
        server["args"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap().to_owned()),
    );
    let node_bin = mcp.node_modules.join(".bin");
    let mut client = Command::new("python3");
    client
        .arg(&mcp.client_script)
        .arg(
            json!({"calls": [{"tool": "echo", "arguments": {"message": "from the config"}}]})
                .to_string(),
        )
        .arg("--")
        .args(&command)
        .env("PATH", path_with_assent(&[&node_bin]))
        .stdin(Stdio::null());
    for (key, value) in server["env"].as_object().unwrap() {
        client.env(key, value.as_str().unwrap());
    }
    // The placeholders are for the reader; this gateway is the test's.
    client
        .env("ASSENT_URL", &gw.url)
        .env("ASSENT_TOKEN", &agent);
    let running = Running::spawn(client);
    let deadline = Instant::now() + START_TIMEOUT;
    let result = loop {
        let line = running.next_line(deadline.saturating_duration_since(Instant::now()));
        let record: Value = serde_json::from_str(&line).unwrap();
        if record.get("result").is_some() {
            break record["result"].clone();
        }
    };
    assert_eq!(result["isError"], false, "{result}");
    assert_eq!(result["content"][0]["text"], "Echo: from the config");
    let done = running.finish(Duration::from_secs(30));
    assert_eq!(done.code, Some(0), "{done:?}");
}
