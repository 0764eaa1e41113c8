//! The `assent` binary as the agent integrations use it: a gateway started
//! as `assent serve` in its own process, and the release binary whose
//! `mcp-proxy` and `hook` subcommands are measured.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::{Value, json};

use crate::error::Error;

/// A policy that allows what the integration figures call, so they
/// measure the path every allowed agent call takes.
const POLICY: &str = r#"
default = "ask"

[[rule]]
name = "bench-mcp-echo"
effect = "allow"
action = "mcp.everything.echo"

[[rule]]
name = "bench-claude-read"
effect = "allow"
action = "claude.Read"
"#;

/// `assent serve` in `dir`, killed on drop, with an agent token.
pub struct ServeProcess {
    child: Child,
    pub url: String,
    pub agent: String,
}

impl Drop for ServeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The release `assent` binary, or an error saying how to build it.
pub fn binary(path: &Path) -> Result<PathBuf, Error> {
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

impl ServeProcess {
    pub async fn start(assent: &Path, dir: &Path) -> Result<ServeProcess, Error> {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            // The gateway refuses a data dir others can read.
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
        }
        let policy = dir.join("policy.toml");
        std::fs::write(&policy, POLICY)?;
        let mut child = Command::new(assent)
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(dir)
            .arg("--policy")
            .arg(&policy)
            .env_remove("ASSENT_CONFIG")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()?;
        let stderr = child.stderr.take().ok_or("no stderr")?;
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(at) = line.find("assent listening on http://") {
                    let _ = tx.send(line[at + "assent listening on ".len()..].trim().to_owned());
                }
            }
        });
        let url = rx
            .recv_timeout(Duration::from_secs(30))
            .map_err(|_| "assent serve did not start")?;
        let admin = std::fs::read_to_string(dir.join("admin.token"))?
            .trim()
            .to_owned();
        let created: Value = reqwest::Client::new()
            .post(format!("{url}/v1/tokens"))
            .bearer_auth(&admin)
            .json(&json!({"name": "bench-integrations", "role": "agent"}))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let agent = created["token"]
            .as_str()
            .ok_or("no token in the answer")?
            .to_owned();
        Ok(ServeProcess { child, url, agent })
    }
}
