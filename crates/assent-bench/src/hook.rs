//! The Claude Code hook figure: the wall time of a whole
//! `assent hook claude-code` process, from spawning it to its exit with the
//! answer read, for a call the policy allows. Also measured, for context:
//! the same binary starting and exiting with nothing to do (`--version`).

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::assent_process::ServeProcess;
use crate::error::Error;
use crate::figure::{Figure, percentile_ms};

const WARM_UP: usize = 10;

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

pub async fn measure(assent: &Path, gateway: &ServeProcess, runs: usize) -> Result<(), Error> {
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
    let assent = assent.to_path_buf();
    let (url, token) = (gateway.url.clone(), gateway.agent.clone());
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
    println!("Claude Code hook, allowed by policy, whole process, {runs} runs:");
    for (figure, value, target, target_text) in [
        (
            "hook process, allowed, median",
            percentile_ms(&hook, 50.0),
            Some(20.0),
            "<= 20 ms",
        ),
        (
            "hook process, allowed, p90",
            percentile_ms(&hook, 90.0),
            None,
            "",
        ),
        (
            "hook process, allowed, p99",
            percentile_ms(&hook, 99.0),
            None,
            "",
        ),
        (
            "assent --version process, median (start-up floor)",
            percentile_ms(&bare, 50.0),
            None,
            "",
        ),
    ] {
        Figure::ms("claude-code-hook", figure, value, target, target_text).print();
    }
    Ok(())
}
