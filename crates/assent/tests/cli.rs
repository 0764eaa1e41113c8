//! The `assent` binary end to end: a real gateway (`assent serve` on a free
//! port with a fresh data dir) driven by the client subcommands as separate
//! processes, the way scripts and agents use them.

mod support;

use std::path::Path;
use std::process::Command;
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;

use support::*;

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

#[test]
fn request_wait_exits_0_once_approved() {
    let s = setup();
    let waiting = s.gw.spawn(
        &s.agent,
        &["request", "deploy", "--args", r#"{"env":"prod"}"#, "--wait"],
    );
    let id = waiting.next_line(Duration::from_secs(10));
    assert_eq!(s.the_pending_one(), id);

    s.gw.ok(&s.alice, &["approve", &id]);
    let done = waiting.finish(PROMPT);
    assert_eq!(done.code, Some(0), "{done:?}");
    assert!(done.stderr.contains("approved by alice"), "{done:?}");
    assert!(
        done.stderr.contains("decide at http://")
            && done.stderr.contains(&format!("/#/approvals/{id}")),
        "the waiting line links to the console: {done:?}"
    );

    let shown = json(&s.gw.ok(&s.alice, &["show", &id, "--json"]).stdout);
    assert_eq!(
        (shown["status"].as_str(), shown["args"]["env"].as_str()),
        (Some("approved"), Some("prod"))
    );
}

#[test]
fn request_wait_exits_10_when_rejected_or_denied() {
    let s = setup();
    for verb in ["reject", "deny"] {
        let waiting = s.gw.spawn(&s.agent, &["request", "deploy", "--wait"]);
        let id = waiting.next_line(Duration::from_secs(10));
        s.gw.ok(&s.alice, &[verb, &id, "--reason", "no"]);
        let done = waiting.finish(PROMPT);
        assert_eq!(done.code, Some(EXIT_REJECTED), "{verb}: {done:?}");
        assert!(
            done.stderr.contains("rejected by alice: no"),
            "{verb}: {done:?}"
        );
    }
}

#[test]
fn request_wait_exits_11_when_nobody_answers_in_time() {
    let s = setup();
    let started = Instant::now();
    let done =
        s.gw.spawn(&s.agent, &["request", "x", "--timeout", "2s", "--wait"])
            .finish(Duration::from_secs(15));
    let took = started.elapsed();
    assert_eq!(done.code, Some(EXIT_EXPIRED), "{done:?}");
    assert!(
        took >= Duration::from_millis(1500) && took < Duration::from_secs(8),
        "took {took:?}"
    );
}

#[test]
fn wait_exits_12_when_cancelled_and_13_when_still_pending() {
    let s = setup();
    let id = s.request_deploy();
    let waiting = s.gw.spawn(&s.agent, &["wait", &id]);
    thread::sleep(Duration::from_millis(300));
    s.gw.ok(&s.agent, &["cancel", &id, "--reason", "changed my mind"]);
    let done = waiting.finish(PROMPT);
    assert_eq!(done.code, Some(EXIT_CANCELLED), "{done:?}");
    assert!(
        done.stderr.contains("cancelled by ci-bot: changed my mind"),
        "{done:?}"
    );

    let id = s.request_deploy();
    let started = Instant::now();
    let done =
        s.gw.spawn(&s.agent, &["wait", &id, "--timeout", "1s"])
            .finish(PROMPT);
    assert_eq!(done.code, Some(EXIT_PENDING), "{done:?}");
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "returned after {:?}",
        started.elapsed()
    );
}

#[test]
fn a_wait_survives_a_gateway_crash() {
    let mut s = setup();
    let waiting = s.gw.spawn(&s.agent, &["request", "deploy", "--wait"]);
    let id = waiting.next_line(Duration::from_secs(10));
    thread::sleep(Duration::from_millis(300));
    s.gw.crash_and_restart();
    s.gw.ok(&s.alice, &["approve", &id]);
    let done = waiting.finish(PROMPT);
    assert_eq!(done.code, Some(0), "{done:?}");
}

#[test]
fn exec_runs_the_command_only_when_approved() {
    let s = setup();
    let ran = s.gw.path("ran");
    let script = format!("echo ran > {}", ran.display());

    let waiting = s.gw.spawn(&s.agent, &["exec", "--", "sh", "-c", &script]);
    let id = s.the_pending_one();
    let shown = json(&s.gw.ok(&s.alice, &["show", &id, "--json"]).stdout);
    assert_eq!(shown["action"], "shell");
    assert_eq!(
        shown["args"]["argv"],
        serde_json::json!(["sh", "-c", script])
    );
    assert_eq!(shown["args"]["command"], format!("sh -c '{script}'"));
    assert_eq!(
        shown["args"]["cwd"].as_str().map(Path::new),
        Some(s.gw.dir.path())
    );
    assert!(!ran.exists(), "ran before approval");
    s.gw.ok(&s.alice, &["approve", &id]);
    let done = waiting.finish(PROMPT);
    assert_eq!(done.code, Some(0), "{done:?}");
    assert!(
        done.stderr
            .contains(&format!("waiting for approval {id} (http://")),
        "{done:?}"
    );
    assert!(
        done.stderr.contains(&format!("/#/approvals/{id}) to run")),
        "the waiting line links to the console: {done:?}"
    );
    assert_eq!(std::fs::read_to_string(&ran).unwrap(), "ran\n");

    let never = s.gw.path("never");
    let waiting = s.gw.spawn(
        &s.agent,
        &[
            "exec",
            "--",
            "sh",
            "-c",
            &format!("echo ran > {}", never.display()),
        ],
    );
    s.gw.ok(
        &s.alice,
        &["reject", &s.the_pending_one(), "--reason", "not today"],
    );
    let done = waiting.finish(PROMPT);
    assert_eq!(done.code, Some(EXIT_REJECTED), "{done:?}");
    assert!(
        done.stderr.contains("rejected by alice: not today"),
        "{done:?}"
    );
    assert!(!never.exists(), "a rejected command ran");

    let waiting = s.gw.spawn(&s.agent, &["exec", "--", "sh", "-c", "exit 7"]);
    s.gw.ok(&s.alice, &["approve", &s.the_pending_one()]);
    assert_eq!(waiting.finish(PROMPT).code, Some(7));
}

#[test]
fn json_output_tokens_and_usage_errors() {
    let s = setup();
    let created = json(
        &s.gw
            .ok(
                &s.agent,
                &["request", "deploy", "--label", "team=payments", "--json"],
            )
            .stdout,
    );
    assert_eq!(
        (created["status"].as_str(), created["requester"].as_str()),
        (Some("pending"), Some("ci-bot"))
    );
    assert_eq!(created["labels"]["team"], "payments");
    let id = created["id"].as_str().unwrap();
    assert_eq!(
        json(&s.gw.ok(&s.alice, &["show", id, "--json"]).stdout)["id"],
        id
    );
    let listed = json(&s.gw.ok(&s.alice, &["list", "--json"]).stdout);
    assert_eq!(listed["items"][0]["id"], id);

    let human = s.gw.ok(&s.alice, &["list"]).stdout;
    assert!(human.contains("REQUESTER") && human.contains(id), "{human}");
    let human = s.gw.ok(&s.alice, &["show", id]).stdout;
    assert!(
        human.contains("status:") && human.contains("pending"),
        "{human}"
    );

    let tokens = s.gw.ok(&s.gw.admin, &["token", "list"]).stdout;
    assert!(
        tokens.contains("ci-bot") && tokens.contains("alice"),
        "{tokens}"
    );
    let tokens = json(&s.gw.ok(&s.gw.admin, &["token", "list", "--json"]).stdout);
    let names: Vec<&str> = tokens["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert!(
        names.contains(&"ci-bot") && names.contains(&"alice"),
        "{names:?}"
    );

    for bad in ["[1]", "{", "\"text\""] {
        let done = s.gw.run(&s.agent, &["request", "deploy", "--args", bad]);
        assert_eq!(done.code, Some(2), "{bad}: {done:?}");
        assert!(done.stderr.contains("--args"), "{bad}: {done:?}");
    }
}

#[test]
fn api_errors_print_title_and_detail_and_exit_1() {
    let s = setup();
    let id = s.request_deploy();
    s.gw.ok(&s.alice, &["approve", &id]);
    let done = s.gw.run(&s.alice, &["reject", &id]);
    assert_eq!(done.code, Some(1), "{done:?}");
    assert!(done.stderr.starts_with("assent: "), "{done:?}");

    let done = s.gw.run(&s.agent, &["token", "list"]);
    assert_eq!(done.code, Some(1), "{done:?}");
}

#[test]
fn a_local_gateway_needs_no_token() {
    let gw = Gateway::start();
    let mut cmd = gw.command("", &["token", "list"]);
    cmd.env_remove("ASSENT_TOKEN")
        .env("ASSENT_DATA_DIR", gw.dir.path());
    let done = Running::spawn(cmd).finish(Duration::from_secs(30));
    assert_eq!(done.code, Some(0), "{done:?}");
    assert!(done.stdout.contains("admin"), "{done:?}");
}

#[test]
fn a_remote_gateway_needs_a_token() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(BIN);
    cmd.args(["list"])
        .current_dir(dir.path())
        .env_remove("ASSENT_TOKEN")
        .env("ASSENT_URL", "https://gateway.invalid");
    let done = Running::spawn(cmd).finish(Duration::from_secs(30));
    assert_eq!(done.code, Some(1), "{done:?}");
    assert!(done.stderr.contains("ASSENT_TOKEN"), "{done:?}");
}

#[test]
fn approve_with_a_session_scope_leaves_a_grant_that_can_be_listed_and_revoked() {
    let s = setup();
    let args = ["request", "deploy", "--session", "s1", "--json"];
    let id = json(&s.gw.ok(&s.agent, &args).stdout)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    s.gw.ok(&s.alice, &["approve", &id, "--scope", "session"]);
    let listed = json(&s.gw.ok(&s.alice, &["grants", "list", "--json"]).stdout);
    let grant = listed["items"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(listed["items"][0]["session_id"], "s1");
    let table = s.gw.ok(&s.alice, &["grants", "list"]).stdout;
    assert!(
        table.contains(&grant) && table.contains("deploy"),
        "{table}"
    );

    // The same request in the same session is answered by the grant at once.
    let again = json(&s.gw.ok(&s.agent, &args).stdout);
    assert_eq!(again["status"], "approved");
    assert_eq!(again["decision"]["by"][0], format!("grant:{grant}"));

    s.gw.ok(&s.alice, &["grants", "revoke", &grant]);
    let after = json(&s.gw.ok(&s.agent, &args).stdout);
    assert_eq!(after["status"], "pending");
}

#[test]
fn watch_prints_events_live_and_resumes_after_a_gateway_crash() {
    let mut s = setup();
    let mut watcher = s.gw.spawn(
        &s.alice,
        &["watch", "--json", "--types", "approval.requested"],
    );
    thread::sleep(Duration::from_millis(500));
    s.gw.ok(&s.agent, &["request", "first"]);
    let first = json(&watcher.next_line(PROMPT));
    assert_eq!(
        (
            first["type"].as_str(),
            first["data"]["approval"]["action"].as_str()
        ),
        (Some("approval.requested"), Some("first"))
    );

    s.gw.crash_and_restart();
    s.gw.ok(&s.agent, &["request", "second"]);
    let second = json(&watcher.next_line(Duration::from_secs(15)));
    assert_eq!(second["data"]["approval"]["action"], "second");
    assert!(second["seq"].as_i64() > first["seq"].as_i64());
    watcher.child.kill().unwrap();
}
