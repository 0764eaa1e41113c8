//! The Claude Code hook figure: the wall time of a whole
//! `assent hook claude-code` process, from spawning it to its exit with the
//! answer read, for a call the policy allows. Also measured, for context:
//! the same binary starting and exiting with nothing to do (`--version`).

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::ctx::{Ctx, SCENARIO_HOOK as SCENARIO};
use crate::error::Error;
use crate::figure::{Figure, Report, Target, percentile_ms};
use crate::gateway::{Gateway, Settings};

const WARM_UP: usize = 10;

/// Allows the tool call the hook is fed.
const POLICY: &str = r#"
default = "ask"

[[rule]]
name = "bench-claude-read"
effect = "allow"
action = "claude.Read"
"#;

fn run_once(assent: &Path, url: &str, token: &str, input: &[u8]) -> Result<Duration, Error> {
    let started = Instant::now();
    let mut child = Command::new(assent)
        .args(["hook", "claude-code"])
        .env("ASSENT_URL", url)
        .env("ASSENT_TOKEN", token)
        .env_remove("ASSENT_DATA_DIR")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    child.stdin.take().ok_or("no stdin")?.write_all(input)?;
    let out = child.wait_with_output()?;
    let took = started.elapsed();
    let text = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() || !text.contains(r#""permissionDecision":"allow""#) {
        return Err(format!("the hook did not allow: {text}").into());
    }
    Ok(took)
}

fn start_only(assent: &Path) -> Result<Duration, Error> {
    let started = Instant::now();
    let status = Command::new(assent)
        .arg("--version")
        .stdout(Stdio::null())
        .status()?;
    if !status.success() {
        return Err("assent --version failed".into());
    }
    Ok(started.elapsed())
}

pub async fn run(ctx: &Ctx, report: &mut Report) -> Result<(), Error> {
    let runs = ctx.hook_runs;
    let gateway = Gateway::start(
        &ctx.assent,
        Settings {
            policy: Some(POLICY.to_owned()),
            ..Settings::default()
        },
    )
    .await?;
    let input = json!({
        "session_id": "bench-session",
        "transcript_path": "/tmp/bench.jsonl",
        "cwd": "/tmp",
        "permission_mode": "default",
        "hook_event_name": "PreToolUse",
        "tool_name": "Read",
        "tool_input": {"file_path": "/tmp/bench.txt"},
        "tool_use_id": "toolu_bench",
    })
    .to_string();
    let assent = ctx.assent.clone();
    let (url, token) = (gateway.url.clone(), gateway.tokens.agent.clone());
    let (mut hook, mut bare) = tokio::task::spawn_blocking(move || {
        let run = || run_once(&assent, &url, &token, input.as_bytes());
        for _ in 0..WARM_UP {
            run()?;
            start_only(&assent)?;
        }
        let (mut hook, mut bare) = (Vec::with_capacity(runs), Vec::with_capacity(runs));
        for _ in 0..runs {
            hook.push(run()?);
            bare.push(start_only(&assent)?);
        }
        Ok::<_, Error>((hook, bare))
    })
    .await??;
    hook.sort();
    bare.sort();
    println!("hook: assent hook claude-code, allowed by policy, whole process, {runs} runs");
    for (figure, value, target) in [
        (
            "hook process, allowed, median",
            percentile_ms(&hook, 50.0),
            Target::AtMost(20.0),
        ),
        (
            "hook process, allowed, p90",
            percentile_ms(&hook, 90.0),
            Target::None,
        ),
        (
            "hook process, allowed, p99",
            percentile_ms(&hook, 99.0),
            Target::None,
        ),
        (
            "assent --version process, median (start-up floor)",
            percentile_ms(&bare, 50.0),
            Target::None,
        ),
    ] {
        report.add(Figure::new(SCENARIO, figure, value, "ms", target));
    }
    Ok(())
}
