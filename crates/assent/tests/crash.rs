//! Crash safety of the real binary: SIGKILL under create + review load, then
//! restart on the same data; and a graceful SIGTERM.

mod support;

use std::collections::HashSet;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use assent_domain::Event;
use assent_domain::event::{ChainHead, verify_chain};
use serde_json::{Value, json};
use support::Gateway;

#[derive(Default)]
struct Acknowledged {
    creates: HashSet<String>,
    reviews: HashSet<String>,
}

async fn load(url: String, agent: String, approver: String, acked: Arc<Mutex<Acknowledged>>) {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let mut last: Option<String> = None;
    loop {
        let created = http
            .post(format!("{url}/v1/approvals"))
            .bearer_auth(&agent)
            .json(&json!({"action": "deploy", "args": {"n": 1}}))
            .send()
            .await;
        let Ok(response) = created else { return };
        if response.status() != 201 {
            return;
        }
        let Ok(body) = response.json::<Value>().await else {
            return;
        };
        let id = body["id"].as_str().unwrap().to_owned();
        acked.lock().unwrap().creates.insert(id.clone());
        if let Some(previous) = last.replace(id) {
            let reviewed = http
                .post(format!("{url}/v1/approvals/{previous}/reviews"))
                .bearer_auth(&approver)
                .json(&json!({"decision": "approve"}))
                .send()
                .await;
            match reviewed {
                Ok(r) if r.status() == 200 => {
                    acked.lock().unwrap().reviews.insert(previous);
                }
                _ => return,
            }
        }
    }
}

/// Sends a request and decodes its JSON answer.
async fn json_of(request: reqwest::RequestBuilder) -> Value {
    request.send().await.unwrap().json().await.unwrap()
}

async fn all_events(url: &str, admin: &str) -> Vec<Event> {
    let http = reqwest::Client::new();
    let mut events = Vec::new();
    let mut after = 0;
    loop {
        let page: Value = json_of(
            http.get(format!("{url}/v1/audit?after={after}&limit=10000"))
                .bearer_auth(admin),
        )
        .await;
        let items: Vec<Event> = serde_json::from_value(page["items"].clone()).unwrap();
        events.extend(items);
        match page["next_after"].as_i64() {
            Some(next) => after = next,
            None => return events,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_under_load_loses_nothing_acknowledged() {
    let mut gw = Gateway::start();
    let agent = gw.token("ci-bot", "agent");
    let approver = gw.token("alice", "approver");
    let http = reqwest::Client::new();
    let expiring: Value = json_of(
        http.post(format!("{}/v1/approvals", gw.url))
            .bearer_auth(&agent)
            .json(&json!({"action": "deploy", "timeout_seconds": 3})),
    )
    .await;
    let acked = Arc::new(Mutex::new(Acknowledged::default()));
    let workers: Vec<_> = (0..16)
        .map(|_| {
            tokio::spawn(load(
                gw.url.clone(),
                agent.clone(),
                approver.clone(),
                acked.clone(),
            ))
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    // SIGKILL mid-load, then start again on the same address and data dir.
    tokio::task::block_in_place(|| gw.crash_and_restart());
    for worker in workers {
        worker.await.unwrap();
    }

    let acked = Arc::try_unwrap(acked).ok().unwrap().into_inner().unwrap();
    assert!(
        acked.creates.len() > 50,
        "the load ran: {} creates",
        acked.creates.len()
    );
    let events = all_events(&gw.url, &gw.admin).await;
    verify_chain(ChainHead::default(), &events).unwrap();
    let count = |kind: &str, id: &str| {
        events
            .iter()
            .filter(|e| {
                e.kind.as_str() == kind
                    && e.approval_id.map(|a| a.to_string()).as_deref() == Some(id)
            })
            .count()
    };
    // The approval created before the crash still expires on time.
    let expired: Value = http
        .get(format!(
            "{}/v1/approvals/{}?wait=10s",
            gw.url,
            expiring["id"].as_str().unwrap()
        ))
        .bearer_auth(&agent)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(expired["status"], "expired");
    let at = |field: &str| {
        time::OffsetDateTime::parse(
            expired[field].as_str().unwrap(),
            &time::format_description::well_known::Rfc3339,
        )
        .unwrap()
    };
    let late = at("decided_at") - at("expires_at");
    assert!(
        late >= time::Duration::ZERO && late < time::Duration::seconds(1),
        "expired {late} after its deadline"
    );
    for id in &acked.creates {
        assert_eq!(
            count("approval.requested", id),
            1,
            "{id} requested exactly once"
        );
        let approval: Value = json_of(
            http.get(format!("{}/v1/approvals/{id}", gw.url))
                .bearer_auth(&gw.admin),
        )
        .await;
        if acked.reviews.contains(id) {
            assert_eq!(approval["status"], "approved", "{approval}");
            assert_eq!(approval["reviews"].as_array().unwrap().len(), 1);
            assert_eq!(
                (
                    count("approval.reviewed", id),
                    count("approval.approved", id)
                ),
                (1, 1)
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_returns_long_polls_and_exits_0() {
    let mut gw = Gateway::start();
    let agent = gw.token("ci-bot", "agent");
    let http = reqwest::Client::new();
    let created: Value = json_of(
        http.post(format!("{}/v1/approvals", gw.url))
            .bearer_auth(&agent)
            .json(&json!({"action": "deploy"})),
    )
    .await;
    let id = created["id"].as_str().unwrap().to_owned();
    let poll = http
        .get(format!("{}/v1/approvals/{id}?wait=120s", gw.url))
        .bearer_auth(&agent)
        .send();
    let waiter = tokio::spawn(poll);
    tokio::time::sleep(Duration::from_millis(200)).await;

    let started = Instant::now();
    let sent = Command::new("kill")
        .args(["-TERM", &gw.child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let answer = tokio::time::timeout(Duration::from_secs(10), waiter)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(
        answer.json::<Value>().await.unwrap()["status"],
        "pending",
        "told to come back"
    );
    let status = tokio::task::block_in_place(|| gw.child.wait().unwrap());
    assert_eq!(status.code(), Some(0));
    assert!(started.elapsed() < Duration::from_secs(10));
}
