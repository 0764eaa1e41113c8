//! `assent audit export` and `assent audit verify` as a user runs them: an
//! untouched export verifies (with its signature, against the gateway's
//! JWKS); each kind of tampering fails and names the line; a large export
//! verifies in flat memory.

mod support;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use assent_domain::timestamp::to_millis_precision;
use assent_domain::{EventType, NewEvent};
use assent_store::Store;
use assent_store::{SqlStore, StoreOptions};
use serde_json::json;
use support::{BIN, Finished, Gateway, Running};
use time::OffsetDateTime;

/// A gateway with some history, exported to `export.ndjson` in its dir.
fn exported() -> (Gateway, Vec<String>) {
    let gw = Gateway::start();
    let agent = gw.token("ci-bot", "agent");
    let alice = gw.token("alice", "approver");
    for n in 0..3 {
        let id = gw
            .ok(
                &agent,
                &["request", "deploy", "--args", &format!(r#"{{"n":{n}}}"#)],
            )
            .stdout
            .trim()
            .to_owned();
        gw.ok(&alice, &["approve", &id]);
    }
    gw.ok(&gw.admin, &["audit", "export", "-o", "export.ndjson"]);
    let text = std::fs::read_to_string(gw.path("export.ndjson")).unwrap();
    let lines = text.lines().map(str::to_owned).collect();
    (gw, lines)
}

fn jwks_url(gw: &Gateway) -> String {
    format!("{}/.well-known/jwks.json", gw.url)
}

/// `assent audit verify FILE --jwks URL` on `lines` written to a file.
fn verify(gw: &Gateway, lines: &[String]) -> Finished {
    let path = gw.path("tampered.ndjson");
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    gw.run(
        "",
        &[
            "audit",
            "verify",
            path.to_str().unwrap(),
            "--jwks",
            &jwks_url(gw),
        ],
    )
}

fn assert_bad_line(done: &Finished, line: usize, why: &str) {
    assert_eq!(done.code, Some(1), "{done:?}");
    assert!(
        done.stderr.contains(&format!("line {line}: ")),
        "expected line {line} to be named: {}",
        done.stderr
    );
    assert!(
        done.stderr.contains(why),
        "expected {why:?}: {}",
        done.stderr
    );
}

#[test]
fn an_untouched_export_verifies_with_its_signature() {
    let (gw, lines) = exported();
    let done = gw.ok(
        "",
        &["audit", "verify", "export.ndjson", "--jwks", &jwks_url(&gw)],
    );
    let count = lines.len() - 1;
    assert!(
        done.stdout.starts_with(&format!("OK: {count} events")),
        "{done:?}"
    );
    assert!(done.stdout.contains("signature by key"), "{done:?}");

    // A JWKS file works as well as the URL, and --json says the same.
    let jwks = tokio::runtime::Runtime::new().unwrap().block_on(async {
        reqwest::get(jwks_url(&gw))
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    });
    std::fs::write(gw.path("jwks.json"), jwks).unwrap();
    let done = gw.ok(
        "",
        &[
            "--json",
            "audit",
            "verify",
            "export.ndjson",
            "--jwks",
            "jwks.json",
        ],
    );
    let summary: serde_json::Value = serde_json::from_str(&done.stdout).unwrap();
    assert_eq!(summary["valid"], true);
    assert_eq!(summary["signature_checked"], true);
    assert_eq!(summary["count"], count);

    // Without keys the chain is still checked, and the output says what was not.
    let done = gw.ok("", &["audit", "verify", "export.ndjson"]);
    assert!(done.stderr.contains("NOT checked"), "{done:?}");
}

#[test]
fn every_kind_of_tampering_is_detected_and_the_line_named() {
    let (gw, lines) = exported();
    let trailer = lines.len();

    let mut flipped = lines.clone();
    let mut bytes = flipped[2].clone().into_bytes();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    flipped[2] = String::from_utf8_lossy(&bytes).into_owned();
    let done = verify(&gw, &flipped);
    assert_eq!(done.code, Some(1), "{done:?}");
    assert!(done.stderr.contains("line 3: "), "{}", done.stderr);

    let mut deleted = lines.clone();
    deleted.remove(3);
    assert_bad_line(&verify(&gw, &deleted), 4, "expected seq 4, found 5");

    let mut swapped = lines.clone();
    swapped.swap(1, 2);
    assert_bad_line(&verify(&gw, &swapped), 2, "expected seq 2, found 3");

    let mut edited = lines.clone();
    edited[1] = edited[1].replacen("\"actor\":\"", "\"actor\":\"x", 1);
    assert_bad_line(&verify(&gw, &edited), 2, "hash does not match");

    let mut recounted = lines.clone();
    recounted[trailer - 1] = recounted[trailer - 1].replacen("\"count\":", "\"count\":1", 1);
    assert_bad_line(&verify(&gw, &recounted), trailer, "trailer count");

    let mut resigned = lines.clone();
    let signature_at = resigned[trailer - 1].find("\"signature\":\"").unwrap() + 13;
    let mut bytes = resigned[trailer - 1].clone().into_bytes();
    bytes[signature_at] = if bytes[signature_at] == b'A' {
        b'B'
    } else {
        b'A'
    };
    resigned[trailer - 1] = String::from_utf8(bytes).unwrap();
    assert_bad_line(&verify(&gw, &resigned), trailer, "bad signature");

    let mut truncated = lines.clone();
    truncated.pop();
    assert_bad_line(&verify(&gw, &truncated), trailer, "trailer is missing");
}

/// Appends `n` events straight through the store: far faster than the API.
fn record_events(db: &Path, n: usize) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let url = format!("sqlite://{}", db.display());
        let store =
            std::sync::Arc::new(SqlStore::open(&url, StoreOptions::default()).await.unwrap());
        let now = to_millis_precision(OffsetDateTime::now_utc());
        let mut tasks = tokio::task::JoinSet::new();
        for chunk in 0..n / 1_000 {
            let store = store.clone();
            tasks.spawn(async move {
                for i in 0..1_000 {
                    let event = NewEvent {
                        kind: EventType::PolicyReloaded,
                        actor: "load".into(),
                        approval_id: None,
                        data: json!({"n": chunk * 1_000 + i, "pad": "x".repeat(200)}),
                    };
                    store.record_event(event, now).await.unwrap();
                }
            });
        }
        while let Some(done) = tasks.join_next().await {
            done.unwrap();
        }
    });
}

/// Peak resident memory of `assent audit verify` on `file`, in KiB, by GNU time.
fn verify_peak_kib(gw: &Gateway, file: &str) -> u64 {
    let mut cmd = Command::new("/usr/bin/time");
    cmd.args([
        "-f",
        "peak-kib %M",
        BIN,
        "audit",
        "verify",
        file,
        "--jwks",
        &jwks_url(gw),
    ])
    .current_dir(gw.dir.path());
    let done = Running::spawn(cmd).finish(Duration::from_secs(120));
    assert_eq!(done.code, Some(0), "{done:?}");
    done.stderr
        .lines()
        .find_map(|l| l.strip_prefix("peak-kib "))
        .and_then(|kib| kib.trim().parse().ok())
        .unwrap_or_else(|| panic!("no peak memory in {:?}", done.stderr))
}

#[test]
fn a_hundred_thousand_events_verify_in_flat_memory() {
    if !Path::new("/usr/bin/time").exists() {
        println!("SKIPPED: /usr/bin/time (GNU time) is needed to measure peak memory");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    record_events(&dir.path().join("assent.db"), 10_000);
    let gw = Gateway::start_in(dir);
    gw.ok(&gw.admin, &["audit", "export", "-o", "small.ndjson"]);
    let small = verify_peak_kib(&gw, "small.ndjson");
    drop(gw);

    let dir = tempfile::tempdir().unwrap();
    record_events(&dir.path().join("assent.db"), 100_000);
    let gw = Gateway::start_in(dir);
    gw.ok(&gw.admin, &["audit", "export", "-o", "large.ndjson"]);
    let size = std::fs::metadata(gw.path("large.ndjson")).unwrap().len();
    assert!(size > 25_000_000, "the export is {size} bytes");
    let large = verify_peak_kib(&gw, "large.ndjson");
    println!("peak memory: 10k events {small} KiB, 100k events {large} KiB; export {size} bytes");
    assert!(
        large < small + 4 * 1024,
        "verifying 10x the events took {large} KiB against {small} KiB"
    );
    assert!(
        large * 1024 < size / 2,
        "the file ({size} bytes) was not held in memory"
    );
}
