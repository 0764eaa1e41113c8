//! The MCP proxy figure: an allowed `tools/call` through `assent mcp-proxy`
//! against the same server called directly, in the same run. The two
//! sessions run side by side and take turns call by call, so both see the
//! same machine.

use std::ffi::OsString;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::ctx::{Ctx, SCENARIO_MCP as SCENARIO};
use crate::error::Error;
use crate::figure::{Figure, Report, Target, percentile_ms};
use crate::gateway::{Gateway, Settings};

const WARM_UP: usize = 50;

/// Where the pinned MCP server is installed from (npm).
const INTEROP: &str = "tests/interop";

/// Allows the call measured, so it takes the path of every allowed call.
const POLICY: &str = r#"
default = "ask"

[[rule]]
name = "bench-mcp-echo"
effect = "allow"
action = "mcp.everything.echo"
"#;

/// A minimal MCP client over stdio: one request at a time, timed from
/// writing the request to reading its answer.
struct Session {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    next_id: u64,
}

impl Session {
    fn start(command: &[OsString], env: &[(&str, &str)]) -> Result<Session, Error> {
        let (program, args) = command.split_first().ok_or("no command")?;
        let mut child = Command::new(program)
            .args(args)
            .envs(env.iter().copied())
            .env_remove("ASSENT_DATA_DIR")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()?;
        let stdin = child.stdin.take().ok_or("no stdin")?;
        let stdout = BufReader::new(child.stdout.take().ok_or("no stdout")?);
        let mut session = Session {
            child,
            stdin,
            stdout,
            next_id: 0,
        };
        session.request(
            "initialize",
            json!({"protocolVersion": "2025-11-25", "capabilities": {},
                   "clientInfo": {"name": "assent-bench", "version": "0"}}),
        )?;
        writeln!(
            session.stdin,
            "{}",
            json!({"jsonrpc": "2.0", "method": "notifications/initialized"})
        )?;
        Ok(session)
    }

    fn request(&mut self, method: &str, params: Value) -> Result<(Value, Duration), Error> {
        self.next_id += 1;
        let id = self.next_id;
        let line = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        let sent = Instant::now();
        writeln!(self.stdin, "{line}")?;
        self.stdin.flush()?;
        let mut text = String::new();
        loop {
            text.clear();
            if self.stdout.read_line(&mut text)? == 0 {
                return Err(format!("the server closed its stdout during {method}").into());
            }
            let message: Value = serde_json::from_str(&text)?;
            if message["id"] == id {
                return Ok((message, sent.elapsed()));
            }
        }
    }

    /// Calls `echo` and checks that it ran.
    fn echo(&mut self) -> Result<Duration, Error> {
        let (answer, took) = self.request(
            "tools/call",
            json!({"name": "echo", "arguments": {"message": "bench"}}),
        )?;
        if answer["result"]["content"][0]["text"] != "Echo: bench" {
            return Err(format!("echo did not run: {answer}").into());
        }
        Ok(took)
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub async fn run(ctx: &Ctx, report: &mut Report) -> Result<(), Error> {
    let (assent, server, calls) = (
        ctx.assent.as_path(),
        ctx.mcp_server.as_path(),
        ctx.mcp_calls,
    );
    if !server.exists() && server.starts_with(INTEROP) {
        println!("installing the pinned MCP server: npm ci --prefix {INTEROP}");
        Command::new("npm")
            .args(["ci", "--prefix", INTEROP, "--no-audit", "--no-fund"])
            .status()?;
    }
    if !server.exists() {
        return Err(format!(
            "{} not found: npm ci --prefix {INTEROP}, or pass --mcp-server",
            server.display()
        )
        .into());
    }
    let direct_command: Vec<OsString> = vec![server.into(), "stdio".into()];
    let mut proxy_command: Vec<OsString> = vec![
        assent.into(),
        "mcp-proxy".into(),
        "--name".into(),
        "everything".into(),
        "--".into(),
    ];
    proxy_command.extend(direct_command.iter().cloned());
    let gateway = Gateway::start(
        assent,
        Settings {
            policy: Some(POLICY.to_owned()),
            ..Settings::default()
        },
    )
    .await?;
    let (url, token) = (gateway.url.clone(), gateway.tokens.agent.clone());
    let (direct, proxied) = tokio::task::spawn_blocking(move || {
        let env = [
            ("ASSENT_URL", url.as_str()),
            ("ASSENT_TOKEN", token.as_str()),
        ];
        let mut direct = Session::start(&direct_command, &[])?;
        let mut proxied = Session::start(&proxy_command, &env)?;
        for _ in 0..WARM_UP {
            direct.echo()?;
            proxied.echo()?;
        }
        let (mut d, mut p) = (Vec::with_capacity(calls), Vec::with_capacity(calls));
        for _ in 0..calls {
            d.push(direct.echo()?);
            p.push(proxied.echo()?);
        }
        d.sort();
        p.sort();
        Ok::<_, Error>((d, p))
    })
    .await??;
    let (d50, d99) = (percentile_ms(&direct, 50.0), percentile_ms(&direct, 99.0));
    let (p50, p99) = (percentile_ms(&proxied, 50.0), percentile_ms(&proxied, 99.0));
    println!(
        "mcp: an allowed tools/call (echo on server-everything), {calls} calls each, direct and proxied alternating"
    );
    for (figure, value, target) in [
        ("direct tools/call p50", d50, Target::None),
        ("direct tools/call p99", d99, Target::None),
        (
            "proxied allowed tools/call p50 (target: direct p50 + 2 ms)",
            p50,
            Target::AtMost(d50 + 2.0),
        ),
        (
            "proxied allowed tools/call p99 (target: direct p99 + 5 ms)",
            p99,
            Target::AtMost(d99 + 5.0),
        ),
    ] {
        report.add(Figure::new(SCENARIO, figure, value, "ms", target));
    }
    Ok(())
}
