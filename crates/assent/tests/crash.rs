//! Crash safety of the real binary: forty SIGKILLs at random moments of a
//! mixed create / approve / reject / cancel load, restarting on the same data
//! each time; and a graceful SIGTERM.

mod support;

use std::collections::{HashMap, HashSet};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::Gateway;

/// SIGKILLs in one run; each lands at a random moment of the load.
const KILLS: usize = 40;
/// Clients sending the mixed load between kills.
const CLIENTS: usize = 8;

/// What the gateway acknowledged (a 2xx answer) before it was killed.
#[derive(Default)]
struct Acknowledged {
    creates: HashSet<String>,
    /// Approval id → the decision acknowledged for it.
    decided: HashMap<String, Decision>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Decision {
    Approve,
    Reject,
    Cancel,
}

impl Decision {
    fn status(self) -> &'static str {
        match self {
            Decision::Approve => "approved",
            Decision::Reject => "rejected",
            Decision::Cancel => "cancelled",
        }
    }

    fn event(self) -> &'static str {
        match self {
            Decision::Approve => "approval.approved",
            Decision::Reject => "approval.rejected",
            Decision::Cancel => "approval.cancelled",
        }
    }
}

/// A small deterministic generator, so a failing run can be repeated with
/// its printed seed (`ASSENT_CRASH_SEED`).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Creates approvals and decides earlier ones (approve, reject or cancel,
/// chosen at random) until a request fails, which is when the gateway died.
async fn load(
    url: String,
    agent: String,
    approver: String,
    seed: u64,
    acked: Arc<Mutex<Acknowledged>>,
) {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let mut rng = Rng(seed | 1);
    let mut pending: Vec<String> = Vec::new();
    loop {
        if pending.len() > 2 || (!pending.is_empty() && rng.below(2) == 0) {
            let id = pending.swap_remove(rng.below(pending.len() as u64) as usize);
            let decision = match rng.below(3) {
                0 => Decision::Approve,
                1 => Decision::Reject,
                _ => Decision::Cancel,
            };
            let request = match decision {
                Decision::Cancel => http
                    .post(format!("{url}/v1/approvals/{id}/cancel"))
                    .bearer_auth(&agent),
                review => http
                    .post(format!("{url}/v1/approvals/{id}/reviews"))
                    .bearer_auth(&approver)
                    .json(&json!({"decision": if review == Decision::Approve { "approve" } else { "reject" }})),
            };
            match request.send().await {
                Ok(r) if r.status() == 200 => {
                    acked.lock().unwrap().decided.insert(id, decision);
                }
                _ => return,
            }
        } else {
            let created = http
                .post(format!("{url}/v1/approvals"))
                .bearer_auth(&agent)
                .json(&json!({"action": "deploy", "args": {"n": rng.below(1000)}}))
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
            pending.push(id);
        }
    }
}

/// Sends a request and decodes its JSON answer.
async fn json_of(request: reqwest::RequestBuilder) -> Value {
    request.send().await.unwrap().json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_under_load_loses_nothing_acknowledged() {
    let seed = std::env::var("ASSENT_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
        });
    eprintln!("crash test seed {seed} (repeat with ASSENT_CRASH_SEED={seed})");
    let mut rng = Rng(seed | 1);
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
    for _ in 0..KILLS {
        let workers: Vec<_> = (0..CLIENTS)
            .map(|_| {
                tokio::spawn(load(
                    gw.url.clone(),
                    agent.clone(),
                    approver.clone(),
                    rng.next(),
                    acked.clone(),
                ))
            })
            .collect();
        // SIGKILL at a random moment of the load, then start again on the
        // same address and data dir.
        tokio::time::sleep(Duration::from_millis(50 + rng.below(250))).await;
        tokio::task::block_in_place(|| gw.crash_and_restart());
        for worker in workers {
            worker.await.unwrap();
        }
    }

    let acked = Arc::try_unwrap(acked).ok().unwrap().into_inner().unwrap();
    let tally = |d: Decision| acked.decided.values().filter(|&&x| x == d).count();
    eprintln!(
        "{KILLS} kills; acknowledged {} creates, {} approvals, {} rejections, {} cancels",
        acked.creates.len(),
        tally(Decision::Approve),
        tally(Decision::Reject),
        tally(Decision::Cancel)
    );
    assert!(
        acked.creates.len() >= 200,
        "the load ran: {} creates",
        acked.creates.len()
    );
    for decision in [Decision::Approve, Decision::Reject, Decision::Cancel] {
        assert!(
            tally(decision) >= 20,
            "too few {decision:?}: {}",
            tally(decision)
        );
    }

    let events = support::verified_audit_log(&gw.url, &gw.admin).await;
    let mut per_approval: HashMap<(String, &str), usize> = HashMap::new();
    for event in &events {
        if let Some(id) = event.approval_id {
            *per_approval
                .entry((id.to_string(), event.kind.as_str()))
                .or_default() += 1;
        }
    }
    let count = |id: &str, kind: &'static str| {
        per_approval
            .get(&(id.to_owned(), kind))
            .copied()
            .unwrap_or(0)
    };
    // Whatever landed, acknowledged or not, landed once.
    for ((id, kind), n) in &per_approval {
        assert_eq!(*n, 1, "{id}: {n} × {kind}");
    }
    for id in &acked.creates {
        assert_eq!(count(id, "approval.requested"), 1, "{id} requested once");
    }
    for (id, decision) in &acked.decided {
        let approval: Value = json_of(
            http.get(format!("{}/v1/approvals/{id}", gw.url))
                .bearer_auth(&gw.admin),
        )
        .await;
        assert_eq!(approval["status"], decision.status(), "{approval}");
        assert_eq!(count(id, decision.event()), 1, "{id}: one {decision:?}");
        if *decision != Decision::Cancel {
            assert_eq!(approval["reviews"].as_array().unwrap().len(), 1);
            assert_eq!(count(id, "approval.reviewed"), 1, "{id}: one review");
        }
    }

    // The approval created before the first crash still expires on time.
    let expired: Value = json_of(
        http.get(format!(
            "{}/v1/approvals/{}?wait=10s",
            gw.url,
            expiring["id"].as_str().unwrap()
        ))
        .bearer_auth(&agent),
    )
    .await;
    assert_eq!(expired["status"], "expired");
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
