//! The binary under an operator's mistakes and a requester's tricks: text
//! meant to take over a reviewer's terminal, an empty `ASSENT_TOKEN`, a
//! data dir others can read, a second gateway on the same database, and
//! token rotation.

mod support;

use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;
use support::{BIN, Gateway, Running, launch_with, setup};

/// Characters a terminal acts on or hides, as the gateway lets them through
/// (inside args, and invisible ones in a summary).
const SNEAKY: [char; 3] = ['\u{9b}', '\u{202e}', '\u{7f}'];

#[test]
fn show_and_list_escape_what_a_terminal_would_act_on() {
    let s = setup();
    let created = s.gw.ok(
        &s.agent,
        &[
            "request",
            "deploy",
            "--summary",
            "ship it \u{202e}txt.exe",
            "--args",
            "{\"cmd\": \"rm -rf /\u{9b}2K\u{7f}\", \"esc\": \"\\u001b[2J\"}",
            "--json",
        ],
    );
    let id = serde_json::from_str::<Value>(&created.stdout).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(!created.stdout.contains(SNEAKY), "{created:?}");
    for args in [
        vec!["show", id.as_str()],
        vec!["show", id.as_str(), "--json"],
        vec!["list"],
        vec!["list", "--json"],
    ] {
        let done = s.gw.ok(&s.alice, &args);
        assert!(
            !done.stdout.contains(SNEAKY) && !done.stdout.contains('\u{1b}'),
            "{args:?}: {:?}",
            done.stdout
        );
    }
    let shown = s.gw.ok(&s.alice, &["show", &id]).stdout;
    assert!(shown.contains("ship it \\u{202e}txt.exe"), "{shown}");
    assert!(shown.contains("\\u{009b}2K\\x7f"), "{shown}");
    // The JSON stays JSON: escaped, the same strings.
    let json: Value =
        serde_json::from_str(&s.gw.ok(&s.alice, &["show", &id, "--json"]).stdout).unwrap();
    assert_eq!(json["summary"], "ship it \u{202e}txt.exe");
    assert_eq!(json["args"]["cmd"], "rm -rf /\u{9b}2K\u{7f}");
}

#[test]
fn an_empty_assent_token_says_which_token_is_used() {
    let gw = Gateway::start();
    let mut cmd = gw.command("", &["token", "list"]);
    cmd.env("ASSENT_TOKEN", "")
        .env("ASSENT_DATA_DIR", gw.dir.path());
    let done = Running::spawn(cmd).finish(Duration::from_secs(30));
    assert_eq!(done.code, Some(0), "{done:?}");
    assert!(
        done.stderr.contains("ASSENT_TOKEN is set but empty")
            && done.stderr.contains("admin.token"),
        "{done:?}"
    );
}

#[test]
fn rotating_a_token_replaces_its_secret_and_names_are_never_reused() {
    let s = setup();
    let id = s.request_deploy();
    let rotated = s.gw.ok(&s.gw.admin, &["token", "rotate", "ci-bot"]);
    let fresh = rotated.stdout.trim().to_owned();
    assert!(
        fresh.starts_with("assent_") && fresh != s.agent,
        "{rotated:?}"
    );
    assert!(rotated.stderr.contains("rotated token"), "{rotated:?}");
    assert_eq!(s.gw.run(&s.agent, &["show", &id]).code, Some(1));
    s.gw.ok(&fresh, &["show", &id]);

    s.gw.ok(&s.gw.admin, &["token", "revoke", "alice"]);
    let done = s.gw.run(
        &s.gw.admin,
        &["token", "create", "alice", "--role", "admin"],
    );
    assert_eq!(done.code, Some(1), "{done:?}");
    assert!(done.stderr.contains("never reused"), "{done:?}");
}

/// `assent serve` on `dir` that is expected to refuse: its exit code and stderr.
fn serve_refused(dir: &std::path::Path, args: &[&str]) -> (Option<i32>, String) {
    let mut cmd = Command::new(BIN);
    cmd.args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir)
        .args(args)
        .env_remove("ASSENT_CONFIG")
        .stdin(Stdio::null());
    let done = Running::spawn(cmd).finish(Duration::from_secs(30));
    (done.code, done.stderr)
}

#[test]
fn a_second_gateway_on_the_same_database_refuses_and_names_the_first() {
    let gw = Gateway::start();
    let (code, stderr) = serve_refused(gw.dir.path(), &[]);
    assert_eq!(code, Some(1), "{stderr}");
    let first = gw.url.trim_start_matches("http://");
    assert!(
        stderr.contains("in use by another gateway")
            && stderr.contains(&format!("pid {}", gw.child.id()))
            && stderr.contains(first),
        "{stderr}"
    );
    // The first is unharmed.
    let agent = gw.token("ci-bot", "agent");
    gw.ok(&agent, &["request", "deploy"]);
}

#[cfg(unix)]
#[test]
fn data_files_are_private_and_shared_ones_are_refused() {
    use std::os::unix::fs::PermissionsExt;
    let mode =
        |path: &std::path::Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    let mut gw = Gateway::start();
    let agent = gw.token("ci-bot", "agent");
    gw.ok(&agent, &["request", "deploy"]);
    for file in ["assent.db", "assent.db-wal", "assent.db-shm", "admin.token"] {
        assert_eq!(mode(&gw.path(file)), 0o600, "{file}");
    }
    let db = gw.path("assent.db");
    gw.child.kill().unwrap();
    gw.child.wait().unwrap();

    // A data dir others can enter is refused, naming the path and the fix.
    let shared = tempfile::tempdir().unwrap();
    std::fs::set_permissions(shared.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let (code, stderr) = serve_refused(shared.path(), &[]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains(&shared.path().display().to_string())
            && stderr.contains("chmod 700")
            && stderr.contains("--insecure-permissions"),
        "{stderr}"
    );
    // So is a world-readable database, unless told otherwise.
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).unwrap();
    let (code, stderr) = serve_refused(gw.dir.path(), &[]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!("chmod 600 {}", db.display())),
        "{stderr}"
    );
    let (mut child, _) = launch_with(gw.dir.path(), "127.0.0.1:0", &["--insecure-permissions"]);
    let _ = child.kill();
    let _ = child.wait();
}
