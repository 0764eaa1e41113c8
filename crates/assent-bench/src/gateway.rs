//! The gateway under test: `assent serve` (the release binary) in its own
//! process, so the harness is a separate load generator and the gateway's
//! CPU time and memory can be read from `/proc`.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::{Value, json};
use tempfile::TempDir;

use crate::error::Error;

/// How a gateway is started.
#[derive(Default)]
pub struct Settings {
    /// Policy file text (none: every request is asked).
    pub policy: Option<String>,
    /// `ASSENT_*` configuration variables.
    pub env: Vec<(&'static str, String)>,
    /// A database other than SQLite in the data dir.
    pub database_url: Option<String>,
    /// Tokens of a gateway already on the same database (a second instance).
    pub tokens: Option<Tokens>,
}

#[derive(Clone)]
pub struct Tokens {
    pub agent: String,
    pub approver: String,
}

/// `assent serve` in a temporary data dir, killed on drop.
pub struct Gateway {
    child: Child,
    pub url: String,
    pub tokens: Tokens,
    /// Dropped after the process is killed.
    _dir: TempDir,
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The `assent` binary: `path`, or else the release build, brought up to
/// date first when the harness runs under `cargo run` (which sets `CARGO`).
pub fn binary(path: Option<PathBuf>) -> Result<PathBuf, Error> {
    let path = match path {
        Some(path) => path,
        None => {
            if let Some(cargo) = std::env::var_os("CARGO") {
                println!("building the gateway: cargo build --release -p assent");
                let built = Command::new(cargo)
                    .args(["build", "--release", "--locked", "-p", "assent"])
                    .status()?;
                if !built.success() {
                    return Err("cargo build --release -p assent failed".into());
                }
            }
            PathBuf::from("target/release/assent")
        }
    };
    if path.exists() {
        Ok(path.to_path_buf())
    } else {
        Err(format!(
            "{} not found: build it first (cargo build --release -p assent) or pass --assent",
            path.display()
        )
        .into())
    }
}

impl Gateway {
    pub async fn start(assent: &Path, settings: Settings) -> Result<Gateway, Error> {
        // Under the current directory: the project's disk, not a tmpfs.
        let dir = tempfile::tempdir_in(".")?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            // The gateway refuses a data dir others can read.
            std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700))?;
        }
        let mut command = Command::new(assent);
        command
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(dir.path())
            .env_remove("ASSENT_CONFIG")
            .envs(settings.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        if let Some(policy) = &settings.policy {
            let path = dir.path().join("policy.toml");
            std::fs::write(&path, policy)?;
            command.arg("--policy").arg(path);
        }
        if let Some(url) = &settings.database_url {
            command.args(["--database", url]);
        }
        let mut child = command.spawn()?;
        let stderr = child.stderr.take().ok_or("no stderr")?;
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            // Read to the end so the gateway never blocks on a full pipe.
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(at) = line.find("assent listening on http://") {
                    let _ = tx.send(line[at + "assent listening on ".len()..].trim().to_owned());
                }
            }
        });
        let Ok(url) = rx.recv_timeout(Duration::from_secs(60)) else {
            let _ = child.kill();
            return Err("assent serve did not start".into());
        };
        let tokens = match settings.tokens {
            Some(tokens) => tokens,
            None => {
                let admin = std::fs::read_to_string(dir.path().join("admin.token"))?
                    .trim()
                    .to_owned();
                Tokens {
                    agent: token(&url, &admin, "bench-agent", "agent").await?,
                    approver: token(&url, &admin, "bench-approver", "approver").await?,
                }
            }
        };
        Ok(Gateway {
            child,
            url,
            tokens,
            _dir: dir,
        })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

async fn token(url: &str, admin: &str, name: &str, role: &str) -> Result<String, Error> {
    let http = reqwest::Client::new();
    let body = json!({"name": name, "role": role});
    post_for_field(&http, &format!("{url}/v1/tokens"), admin, body, "token").await
}

/// Creates one pending approval on `gateway`; its id.
pub async fn create_one(
    http: &reqwest::Client,
    gateway: &Gateway,
    action: &str,
) -> Result<String, Error> {
    create_at(http, &gateway.url, &gateway.tokens.agent, action).await
}

pub async fn create_at(
    http: &reqwest::Client,
    url: &str,
    agent: &str,
    action: &str,
) -> Result<String, Error> {
    let body = json!({"action": action, "args": {"service": "billing", "env": "prod"}});
    post_for_field(http, &format!("{url}/v1/approvals"), agent, body, "id").await
}

/// Approves approval `id` on the gateway at `url` as `approver`.
pub async fn approve(
    http: &reqwest::Client,
    url: &str,
    approver: &str,
    id: &str,
) -> Result<(), Error> {
    http.post(format!("{url}/v1/approvals/{id}/reviews"))
        .bearer_auth(approver)
        .json(&json!({"decision": "approve"}))
        .send()
        .await?
        .error_for_status()?
        .bytes()
        .await?;
    Ok(())
}

/// POSTs `body` to `url` as the holder of `bearer`; the string `field` of
/// the JSON answer.
async fn post_for_field(
    http: &reqwest::Client,
    url: &str,
    bearer: &str,
    body: Value,
    field: &str,
) -> Result<String, Error> {
    let answer: Value = http
        .post(url)
        .bearer_auth(bearer)
        .json(&body)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    answer[field]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| format!("no {field} in the answer").into())
}
