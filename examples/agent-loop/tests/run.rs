//! The example agent loop, built and run as its users would run it, against
//! a real gateway: the first planned call is approved, the second rejected.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use assent_client::{Client, ListQuery, Role, Status};
use assent_server::{Config, Server};

/// The one pending approval, once the loop has asked for it.
async fn next_pending(approver: &Client) -> assent_client::Approval {
    let deadline = Instant::now() + Duration::from_secs(20);
    let query = ListQuery {
        status: Some(Status::Pending),
        ..Default::default()
    };
    loop {
        let page = approver.list(&query).await.unwrap();
        if let [one] = page.items.as_slice() {
            return one.clone();
        }
        assert!(Instant::now() < deadline, "no pending approval in time");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn the_loop_runs_the_approved_call_and_skips_the_rejected_one() {
    let dir = tempfile::tempdir().unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // The gateway refuses a data dir others can read.
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
    }
    let server = Server::start(Config {
        listen: "127.0.0.1:0".into(),
        data_dir: dir.path().to_path_buf(),
        ..Config::default()
    })
    .await
    .unwrap();
    let url = format!("http://{}", server.addr());
    let admin_token = std::fs::read_to_string(dir.path().join("admin.token")).unwrap();
    let admin = Client::new(&url, admin_token.trim()).unwrap();
    let agent = admin
        .create_token("agent-loop", Role::Agent, &[])
        .await
        .unwrap();
    let alice = admin
        .create_token("alice", Role::Approver, &[])
        .await
        .unwrap();
    let alice = Client::new(&url, &alice.token).unwrap();

    let mut child = Command::new(env!("CARGO_BIN_EXE_agent-loop"))
        .env("ASSENT_URL", &url)
        .env("ASSENT_TOKEN", &agent.token)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let lines = std::thread::spawn(move || {
        BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .collect::<Vec<_>>()
    });

    let read = next_pending(&alice).await;
    assert_eq!(read.action, "fs.read");
    alice.approve(read.id).await.unwrap();
    let deploy = next_pending(&alice).await;
    assert_eq!(deploy.action, "deploy");
    assert_eq!(deploy.session_id, read.session_id, "one session per run");
    alice
        .reject(deploy.id, Some("prod is frozen".into()))
        .await
        .unwrap();

    let status = tokio::task::spawn_blocking(move || child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "{status}");
    let lines = lines.join().unwrap();
    assert_eq!(
        lines,
        [
            "fs.read: approved by alice; running it",
            r#"fs.read: ran with {"path":"README.md"}"#,
            "deploy: rejected by alice: prod is frozen; skipped",
        ]
    );
    server.shutdown().await.unwrap();
}
