//! The `assent` binary end to end: a real gateway (`assent serve` on a free
//! port with a fresh data dir) driven by the client subcommands as separate
//! processes, the way scripts and agents use them.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use serde_json::Value;
use tempfile::TempDir;

const BIN: &str = env!("CARGO_BIN_EXE_assent");
const START_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a command may take to notice a decision and exit.
const PROMPT: Duration = Duration::from_secs(5);
const EXIT_REJECTED: i32 = 10;
const EXIT_EXPIRED: i32 = 11;
const EXIT_CANCELLED: i32 = 12;
const EXIT_PENDING: i32 = 13;

/// `assent serve` in a temporary data dir, killed on drop.
struct Gateway {
    child: Child,
    url: String,
    admin: String,
    dir: TempDir,
}

impl Gateway {
    fn start() -> Gateway {
        let dir = tempfile::tempdir().unwrap();
        let (child, url) = launch(dir.path(), "127.0.0.1:0");
        let admin = std::fs::read_to_string(dir.path().join("admin.token"))
            .unwrap()
            .trim()
            .to_owned();
        Gateway {
            child,
            url,
            admin,
            dir,
        }
    }

    /// Kills the gateway without warning and starts it again on the same address and data.
    fn crash_and_restart(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
        let listen = self.url.trim_start_matches("http://").to_owned();
        let (child, url) = launch(self.dir.path(), &listen);
        assert_eq!(url, self.url);
        self.child = child;
    }

    /// `assent ARGS` as the holder of `token`, from the gateway's data dir.
    fn command(&self, token: &str, args: &[&str]) -> Command {
        let mut cmd = Command::new(BIN);
        cmd.args(args)
            .current_dir(self.dir.path())
            .env("ASSENT_URL", &self.url)
            .env("ASSENT_TOKEN", token)
            .env_remove("ASSENT_DATA_DIR")
            .stdin(Stdio::null());
        cmd
    }

    fn spawn(&self, token: &str, args: &[&str]) -> Running {
        Running::spawn(self.command(token, args))
    }

    fn run(&self, token: &str, args: &[&str]) -> Finished {
        self.spawn(token, args).finish(Duration::from_secs(30))
    }

    /// Runs and insists on exit 0.
    fn ok(&self, token: &str, args: &[&str]) -> Finished {
        let done = self.run(token, args);
        assert_eq!(done.code, Some(0), "assent {args:?} failed: {done:?}");
        done
    }

    /// Creates a token with the admin token and returns its secret.
    fn token(&self, name: &str, role: &str) -> String {
        self.ok(&self.admin, &["token", "create", name, "--role", role])
            .stdout
            .trim()
            .to_owned()
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `assent serve` and returns it with its URL once it accepts connections.
fn launch(dir: &Path, listen: &str) -> (Child, String) {
    let mut child = Command::new(BIN)
        .args(["serve", "--listen", listen, "--data-dir"])
        .arg(dir)
        .current_dir(dir)
        .env_remove("ASSENT_CONFIG")
        .env_remove("ASSENT_TOKEN")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let log = Arc::new(Mutex::new(String::new()));
    let (tx, rx) = mpsc::channel();
    let thread_log = Arc::clone(&log);
    // Keeps draining stderr for the gateway's whole life, so its logging never blocks.
    thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(at) = line.find("assent listening on http://") {
                let _ = tx.send(line[at + "assent listening on ".len()..].trim().to_owned());
            }
            let mut log = thread_log.lock().unwrap();
            log.push_str(&line);
            log.push('\n');
        }
    });
    match rx.recv_timeout(START_TIMEOUT) {
        Ok(url) => (child, url),
        Err(_) => {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "the gateway did not start; its stderr:\n{}",
                log.lock().unwrap()
            );
        }
    }
}

/// A gateway with an agent (`ci-bot`) and an approver (`alice`).
struct Setup {
    gw: Gateway,
    agent: String,
    alice: String,
}

fn setup() -> Setup {
    let gw = Gateway::start();
    let agent = gw.token("ci-bot", "agent");
    let alice = gw.token("alice", "approver");
    Setup { gw, agent, alice }
}

impl Setup {
    /// The ids of pending approvals, as alice lists them.
    fn pending(&self) -> Vec<String> {
        let done = self
            .gw
            .ok(&self.alice, &["list", "--status", "pending", "--json"]);
        let page: Value = serde_json::from_str(&done.stdout).unwrap();
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["id"].as_str().unwrap().to_owned())
            .collect()
    }

    /// Waits for exactly one pending approval to appear and returns its id.
    fn the_pending_one(&self) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let ids = self.pending();
            match ids.as_slice() {
                [id] => return id.clone(),
                [] if Instant::now() < deadline => thread::sleep(Duration::from_millis(50)),
                _ => panic!("expected one pending approval, found {ids:?}"),
            }
        }
    }
}

/// A running `assent` whose stdout arrives line by line.
struct Running {
    child: Child,
    lines: Receiver<String>,
    stdout: JoinHandle<String>,
    stderr: JoinHandle<String>,
}

#[derive(Debug)]
struct Finished {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Running {
    fn spawn(mut cmd: Command) -> Running {
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let out = child.stdout.take().unwrap();
        let mut err = child.stderr.take().unwrap();
        let (tx, lines) = mpsc::channel();
        let stdout = thread::spawn(move || {
            let mut all = String::new();
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                all.push_str(&line);
                all.push('\n');
                let _ = tx.send(line);
            }
            all
        });
        let stderr = thread::spawn(move || {
            let mut all = String::new();
            let _ = err.read_to_string(&mut all);
            all
        });
        Running {
            child,
            lines,
            stdout,
            stderr,
        }
    }

    fn next_line(&self, within: Duration) -> String {
        self.lines
            .recv_timeout(within)
            .expect("no line on stdout in time")
    }

    /// Waits for the exit, failing the test if it takes longer than `within`.
    fn finish(mut self, within: Duration) -> Finished {
        let deadline = Instant::now() + within;
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            if Instant::now() >= deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!(
                    "assent did not exit within {within:?}; stderr: {}",
                    self.stderr.join().unwrap()
                );
            }
            thread::sleep(Duration::from_millis(20));
        };
        Finished {
            code: status.code(),
            stdout: self.stdout.join().unwrap(),
            stderr: self.stderr.join().unwrap(),
        }
    }
}

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
    let id =
        s.gw.ok(&s.agent, &["request", "deploy"])
            .stdout
            .trim()
            .to_owned();
    let waiting = s.gw.spawn(&s.agent, &["wait", &id]);
    thread::sleep(Duration::from_millis(300));
    s.gw.ok(&s.agent, &["cancel", &id, "--reason", "changed my mind"]);
    let done = waiting.finish(PROMPT);
    assert_eq!(done.code, Some(EXIT_CANCELLED), "{done:?}");
    assert!(
        done.stderr.contains("cancelled by ci-bot: changed my mind"),
        "{done:?}"
    );

    let id =
        s.gw.ok(&s.agent, &["request", "deploy"])
            .stdout
            .trim()
            .to_owned();
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
    let id =
        s.gw.ok(&s.agent, &["request", "deploy"])
            .stdout
            .trim()
            .to_owned();
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
