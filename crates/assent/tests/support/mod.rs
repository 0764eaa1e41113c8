//! The `assent` binary as a test harness: `assent serve` on a free port in a
//! temporary data dir, and client subcommands run as separate processes.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use serde_json::Value;
use tempfile::TempDir;

pub const BIN: &str = env!("CARGO_BIN_EXE_assent");
pub const START_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a command may take to notice a decision and exit.
pub const PROMPT: Duration = Duration::from_secs(5);
pub const EXIT_REJECTED: i32 = 10;
pub const EXIT_EXPIRED: i32 = 11;
pub const EXIT_CANCELLED: i32 = 12;
pub const EXIT_PENDING: i32 = 13;

/// `assent serve` in a temporary data dir, killed on drop.
pub struct Gateway {
    pub child: Child,
    pub url: String,
    /// The bootstrap admin token; empty when the database already had
    /// tokens (a second instance on a shared database).
    pub admin: String,
    pub dir: TempDir,
    /// The extra `serve` flags, kept for restarts.
    args: Vec<String>,
}

impl Gateway {
    pub fn start() -> Gateway {
        Gateway::start_in(tempfile::tempdir().unwrap())
    }

    /// A gateway running `policy` (written to `<dir>/policy.toml`).
    pub fn start_with_policy(policy: &str) -> Gateway {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("policy.toml"), policy).unwrap();
        Gateway::start_in(dir)
    }

    /// A gateway on the database at `database_url` (several may share one),
    /// with more `serve` flags.
    pub fn start_on(database_url: &str, args: &[&str]) -> Gateway {
        let args: Vec<&str> = ["--database", database_url]
            .into_iter()
            .chain(args.iter().copied())
            .collect();
        Gateway::start_with_args(tempfile::tempdir().unwrap(), &args)
    }

    /// A gateway on an existing data dir (a database prepared beforehand, say).
    pub fn start_in(dir: TempDir) -> Gateway {
        Gateway::start_with_args(dir, &[])
    }

    fn start_with_args(dir: TempDir, args: &[&str]) -> Gateway {
        let (child, url) = launch_with(dir.path(), "127.0.0.1:0", args);
        let admin = std::fs::read_to_string(dir.path().join("admin.token"))
            .map(|token| token.trim().to_owned())
            .unwrap_or_default();
        Gateway {
            child,
            url,
            admin,
            dir,
            args: args.iter().map(|a| a.to_string()).collect(),
        }
    }

    /// Kills the gateway without warning and starts it again on the same address and data.
    pub fn crash_and_restart(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
        let listen = self.url.trim_start_matches("http://").to_owned();
        let args: Vec<&str> = self.args.iter().map(String::as_str).collect();
        let (child, url) = launch_with(self.dir.path(), &listen, &args);
        assert_eq!(url, self.url);
        self.child = child;
    }

    /// `assent ARGS` as the holder of `token`, from the gateway's data dir.
    pub fn command(&self, token: &str, args: &[&str]) -> Command {
        let mut cmd = Command::new(BIN);
        cmd.args(args)
            .current_dir(self.dir.path())
            .env("ASSENT_URL", &self.url)
            .env("ASSENT_TOKEN", token)
            .env_remove("ASSENT_DATA_DIR")
            .stdin(Stdio::null());
        cmd
    }

    pub fn spawn(&self, token: &str, args: &[&str]) -> Running {
        Running::spawn(self.command(token, args))
    }

    pub fn run(&self, token: &str, args: &[&str]) -> Finished {
        self.spawn(token, args).finish(Duration::from_secs(30))
    }

    /// Runs and insists on exit 0.
    pub fn ok(&self, token: &str, args: &[&str]) -> Finished {
        let done = self.run(token, args);
        assert_eq!(done.code, Some(0), "assent {args:?} failed: {done:?}");
        done
    }

    /// Creates a token with the admin token and returns its secret.
    pub fn token(&self, name: &str, role: &str) -> String {
        self.ok(&self.admin, &["token", "create", name, "--role", role])
            .stdout
            .trim()
            .to_owned()
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `assent serve` (with `dir/policy.toml` when there is one) and
/// returns it with its URL once it accepts connections.
pub fn launch(dir: &Path, listen: &str) -> (Child, String) {
    launch_with(dir, listen, &[])
}

/// `launch` with more `serve` flags.
pub fn launch_with(dir: &Path, listen: &str, args: &[&str]) -> (Child, String) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // The gateway refuses a data dir others can read.
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    }
    let mut serve = Command::new(BIN);
    serve
        .args(["serve", "--listen", listen, "--data-dir"])
        .arg(dir)
        .args(args);
    if dir.join("policy.toml").exists() {
        serve.arg("--policy").arg(dir.join("policy.toml"));
    }
    let mut child = serve
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
pub struct Setup {
    pub gw: Gateway,
    pub agent: String,
    pub alice: String,
}

pub fn setup() -> Setup {
    let gw = Gateway::start();
    let agent = gw.token("ci-bot", "agent");
    let alice = gw.token("alice", "approver");
    Setup { gw, agent, alice }
}

impl Setup {
    /// Asks, as the agent, for a `deploy` approval and returns its id.
    pub fn request_deploy(&self) -> String {
        self.gw
            .ok(&self.agent, &["request", "deploy"])
            .stdout
            .trim()
            .to_owned()
    }

    /// The ids of pending approvals, as alice lists them.
    pub fn pending(&self) -> Vec<String> {
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
    pub fn the_pending_one(&self) -> String {
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
pub struct Running {
    pub child: Child,
    pub lines: Receiver<String>,
    pub stdout: JoinHandle<String>,
    pub stderr: JoinHandle<String>,
}

#[derive(Debug)]
pub struct Finished {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Running {
    pub fn spawn(mut cmd: Command) -> Running {
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

    pub fn next_line(&self, within: Duration) -> String {
        self.lines
            .recv_timeout(within)
            .expect("no line on stdout in time")
    }

    /// Waits for the exit, failing the test if it takes longer than `within`.
    pub fn finish(mut self, within: Duration) -> Finished {
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

/// The gateway's whole audit log read as `admin`, checked to be one
/// unbroken hash chain.
pub async fn verified_audit_log(url: &str, admin: &str) -> Vec<assent_domain::Event> {
    let http = reqwest::Client::new();
    let mut events: Vec<assent_domain::Event> = Vec::new();
    loop {
        let after = events.last().map_or(0, |e| e.seq);
        let page: Value = http
            .get(format!("{url}/v1/audit?after={after}&limit=10000"))
            .bearer_auth(admin)
            .send()
            .await
            .unwrap()
            .error_for_status()
            .unwrap()
            .json()
            .await
            .unwrap();
        let items: Vec<assent_domain::Event> =
            serde_json::from_value(page["items"].clone()).unwrap();
        if items.is_empty() {
            break;
        }
        events.extend(items);
    }
    assent_domain::event::verify_chain(assent_domain::event::ChainHead::default(), &events)
        .unwrap();
    events
}
