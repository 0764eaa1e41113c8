//! Policies through the binary: `init`, `policy test|check`, a broken file
//! at start, and SIGHUP reloads.

mod support;

use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;
use support::{BIN, Gateway};

fn assent(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .env_remove("ASSENT_TOKEN")
        .env_remove("ASSENT_CONFIG")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

#[test]
fn init_writes_a_starter_that_tests_clean_and_checks_offline() {
    let dir = tempfile::tempdir().unwrap();
    let init = assent(dir.path(), &["init"]);
    assert!(init.status.success(), "{init:?}");
    assert!(dir.path().join("assent.toml").exists() && dir.path().join("policy.toml").exists());
    assert_eq!(
        assent(dir.path(), &["init"]).status.code(),
        Some(1),
        "refuses to overwrite"
    );

    let test = assent(dir.path(), &["policy", "test"]);
    assert!(test.status.success(), "{test:?}");
    let check = |args: &[&str]| -> Value {
        let mut all = vec!["policy", "check", "--file", "policy.toml", "--json"];
        all.extend_from_slice(args);
        let out = assent(dir.path(), &all);
        assert!(out.status.success(), "{out:?}");
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let read = check(&["fs.read", "--args", r#"{"path": "/etc/hosts"}"#]);
    assert_eq!(
        (read["effect"].as_str(), read["rule"].as_str()),
        (Some("allow"), Some("reads"))
    );
    let rm = check(&[
        "shell",
        "--args",
        r#"{"command": "env X=1 bash -c 'rm -rf /'"}"#,
    ]);
    assert_eq!(
        (rm["effect"].as_str(), rm["rule"].as_str()),
        (Some("deny"), Some("destructive-shell"))
    );
    let chained = check(&[
        "shell",
        "--args",
        r#"{"command": "npm test && curl x | sh"}"#,
    ]);
    assert_eq!(
        chained["effect"], "ask",
        "an allow rule never covers what is chained after it"
    );

    let two_failing = "[[rule]]\nname = \"r\"\neffect = \"allow\"\naction = \"a\"\nexamples.match = [{ action = \"b\" }, { action = \"c\" }]\n";
    std::fs::write(dir.path().join("failing.toml"), two_failing).unwrap();
    let failing = assent(dir.path(), &["policy", "test", "failing.toml"]);
    let stderr = String::from_utf8_lossy(&failing.stderr);
    assert_eq!(failing.status.code(), Some(1));
    assert!(
        stderr.contains("examples.match[0]")
            && stderr.contains("examples.match[1]")
            && stderr.contains("2 example(s) failed"),
        "{stderr}"
    );

    std::fs::write(
        dir.path().join("broken.toml"),
        "[[rule]]\nname = \"r\"\neffect = \"allow\"\nargs = { env = \"re:(\" }\n",
    )
    .unwrap();
    let broken = assent(dir.path(), &["policy", "test", "broken.toml"]);
    let stderr = String::from_utf8_lossy(&broken.stderr);
    assert_eq!(broken.status.code(), Some(1));
    assert!(
        stderr.contains("broken.toml") && stderr.contains("\"r\"") && stderr.contains("args.env"),
        "{stderr}"
    );
}

#[test]
fn a_broken_policy_stops_the_gateway_at_start_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // The gateway refuses a data dir others can read.
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
    }
    std::fs::write(dir.path().join("policy.toml"), "default = \"maybe\"\n").unwrap();
    let out = Command::new(BIN)
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
            ".",
            "--policy",
            "policy.toml",
        ])
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("policy.toml") && stderr.contains("default"),
        "{stderr}"
    );
}

#[test]
fn sighup_reloads_the_policy_and_a_broken_file_keeps_the_old_one() {
    let gw = Gateway::start_with_policy("default = \"deny\"\n");
    let agent = gw.token("ci-bot", "agent");
    let effect = || -> String {
        let out = gw.run(&agent, &["policy", "check", "deploy", "--json"]);
        assert_eq!(out.code, Some(0), "{out:?}");
        serde_json::from_str::<Value>(&out.stdout).unwrap()["effect"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let hangup = || {
        assert!(
            Command::new("kill")
                .args(["-HUP", &gw.child.id().to_string()])
                .status()
                .unwrap()
                .success()
        )
    };
    assert_eq!(effect(), "deny");

    std::fs::write(gw.path("policy.toml"), "default = \"sometimes\"\n").unwrap();
    hangup();
    thread::sleep(Duration::from_millis(500));
    assert_eq!(effect(), "deny", "a broken file keeps the running policy");

    std::fs::write(gw.path("policy.toml"), "default = \"allow\"\n").unwrap();
    hangup();
    let deadline = Instant::now() + Duration::from_secs(5);
    while effect() != "allow" {
        assert!(
            Instant::now() < deadline,
            "the good policy never took effect"
        );
        thread::sleep(Duration::from_millis(50));
    }
}
