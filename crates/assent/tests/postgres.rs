//! Several `assent serve` processes on one PostgreSQL database, and a
//! gateway riding out a database outage. Runs in the PostgreSQL suite
//! (`ASSENT_TEST_POSTGRES_URL`); otherwise it reports that it was skipped.

#[cfg(not(postgres_suite))]
#[test]
fn postgres_suite_skipped() {
    assent_testdb::report_postgres_suite_skipped("multi-instance");
}

#[cfg(postgres_suite)]
mod support;

#[cfg(postgres_suite)]
mod shared_database {
    use std::collections::{HashMap, HashSet};
    use std::path::Path;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::{Duration, Instant};

    use assent_testdb::{Backend, TestDb};
    use reqwest::{Client, StatusCode};
    use serde_json::{Value, json};
    use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
    use tokio::net::{TcpListener, TcpStream};
    use tokio::task::JoinSet;

    use super::support::Gateway;

    /// An HTTP client for one gateway and one token.
    #[derive(Clone)]
    struct Api {
        http: Client,
        base: String,
        token: String,
    }

    impl Api {
        fn new(gateway: &Gateway, token: &str) -> Api {
            Api {
                http: Client::new(),
                base: gateway.url.clone(),
                token: token.to_owned(),
            }
        }

        fn as_(&self, token: &str) -> Api {
            Api {
                token: token.to_owned(),
                ..self.clone()
            }
        }

        async fn call(
            &self,
            method: reqwest::Method,
            path: &str,
            body: Option<Value>,
        ) -> (StatusCode, Value) {
            let mut req = self
                .http
                .request(method, format!("{}{path}", self.base))
                .bearer_auth(&self.token)
                .timeout(Duration::from_secs(60));
            if let Some(body) = body {
                req = req.json(&body);
            }
            match req.send().await {
                Ok(res) => {
                    let status = res.status();
                    let problem = res
                        .headers()
                        .get("content-type")
                        .is_some_and(|ct| ct.as_bytes().starts_with(b"application/problem+json"));
                    let body = res.json().await.unwrap_or(Value::Null);
                    if !status.is_success() {
                        assert!(problem, "{status} must be problem+json: {body}");
                    }
                    (status, body)
                }
                Err(e) => panic!("{path}: no answer: {e}"),
            }
        }

        async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
            self.call(reqwest::Method::POST, path, Some(body)).await
        }

        async fn get(&self, path: &str) -> (StatusCode, Value) {
            self.call(reqwest::Method::GET, path, None).await
        }

        async fn token(&self, name: &str, role: &str) -> String {
            let (status, body) = self
                .post("/v1/tokens", json!({"name": name, "role": role}))
                .await;
            assert_eq!(status, StatusCode::CREATED, "{body}");
            body["token"].as_str().unwrap().to_owned()
        }

        async fn create(&self, body: Value) -> String {
            let (status, body) = self.post("/v1/approvals", body).await;
            assert_eq!(status, StatusCode::CREATED, "{body}");
            body["id"].as_str().unwrap().to_owned()
        }

        async fn review(&self, id: &str, decision: &str) -> StatusCode {
            self.post(
                &format!("/v1/approvals/{id}/reviews"),
                json!({"decision": decision}),
            )
            .await
            .0
        }

        /// The whole audit log, checked to be one unbroken chain.
        async fn verified_log(&self) -> Vec<assent_domain::Event> {
            crate::support::verified_audit_log(&self.base, &self.token).await
        }
    }

    /// Instances A and B on one database, started at the same moment: one of
    /// them bootstraps the admin token (`admin`), the other finds it made.
    struct Pair {
        a: Gateway,
        b: Gateway,
        admin: String,
        _db: TestDb,
    }

    /// Both run `config` (a path to an `assent.toml`) when given.
    async fn pair(config: Option<&Path>) -> Pair {
        let db = TestDb::create(Backend::Postgres, None).await;
        let args: Vec<&str> = match config {
            Some(path) => vec!["--config", path.to_str().unwrap()],
            None => vec![],
        };
        let (a, b) = std::thread::scope(|s| {
            let a = s.spawn(|| Gateway::start_on(db.url(), &args));
            let b = s.spawn(|| Gateway::start_on(db.url(), &args));
            (a.join().unwrap(), b.join().unwrap())
        });
        let admins: Vec<&str> = [&a, &b]
            .iter()
            .map(|g| g.admin.as_str())
            .filter(|token| !token.is_empty())
            .collect();
        assert_eq!(admins.len(), 1, "exactly one instance bootstraps the admin");
        let admin = admins[0].to_owned();
        Pair {
            a,
            b,
            admin,
            _db: db,
        }
    }

    #[tokio::test]
    async fn a_decision_on_one_instance_answers_a_waiter_on_the_other() {
        let p = pair(None).await;
        let admin_a = Api::new(&p.a, &p.admin);
        let agent = admin_a.token("bot", "agent").await;
        let alice = admin_a.token("alice", "approver").await;
        let bob = admin_a.token("bob", "approver").await;
        let (agent_a, alice_a) = (admin_a.as_(&agent), admin_a.as_(&alice));
        let agent_b = Api::new(&p.b, &agent);

        // Create on A, long-poll on B, approve on A.
        let id = agent_a.create(json!({"action": "deploy"})).await;
        let waiter = {
            let agent_b = agent_b.clone();
            let id = id.clone();
            tokio::spawn(async move { agent_b.get(&format!("/v1/approvals/{id}?wait=30s")).await })
        };
        tokio::time::sleep(Duration::from_millis(300)).await;
        let decided_at = Instant::now();
        assert_eq!(alice_a.review(&id, "approve").await, StatusCode::OK);
        let (status, answered) = waiter.await.unwrap();
        assert_eq!(
            (status, answered["status"].as_str()),
            (StatusCode::OK, Some("approved"))
        );
        assert!(
            decided_at.elapsed() < Duration::from_secs(5),
            "B answered its waiter from A's commit, not a timeout"
        );

        // Racing reviews through A and B: one decision.
        for _ in 0..5 {
            let id = agent_a.create(json!({"action": "deploy"})).await;
            let bob_b = Api::new(&p.b, &bob);
            let (on_a, on_b) =
                tokio::join!(alice_a.review(&id, "approve"), bob_b.review(&id, "reject"));
            let mut outcomes = [on_a, on_b];
            outcomes.sort();
            assert_eq!(outcomes, [StatusCode::OK, StatusCode::CONFLICT]);
        }

        // One expiry for an approval both instances' sweepers see come due.
        let short = agent_b
            .create(json!({"action": "deploy", "timeout_seconds": 1}))
            .await;
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let (_, a) = agent_a.get(&format!("/v1/approvals/{short}")).await;
            if a["status"] == "expired" {
                break;
            }
            assert!(Instant::now() < deadline, "never expired: {a}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let log = admin_a.verified_log().await;
        let expiries = log
            .iter()
            .filter(|e| {
                e.kind == assent_domain::EventType::ApprovalExpired
                    && e.approval_id.map(|id| id.to_string()) == Some(short.clone())
            })
            .count();
        assert_eq!(expiries, 1);
        let decisions = log.iter().filter(|e| e.kind.is_terminal()).count();
        assert_eq!(decisions, 7, "one decision per approval");

        // SSE on B replays and streams A's events in seq order, gapless.
        let admin_b = Api::new(&p.b, &p.admin);
        let last = log.last().unwrap().seq;
        let next = agent_a.create(json!({"action": "deploy"})).await;
        let seqs = sse_seqs(&admin_b, last + 1).await;
        assert_eq!(seqs, (1..=last + 1).collect::<Vec<_>>());
        let (_, created) = admin_b.get(&format!("/v1/approvals/{next}")).await;
        assert_eq!(created["status"], "pending");
    }

    /// The `id:`s an SSE stream from the start delivers until `through`.
    async fn sse_seqs(api: &Api, through: i64) -> Vec<i64> {
        let mut res = api
            .http
            .get(format!("{}/v1/events?after=0", api.base))
            .bearer_auth(&api.token)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let mut text = String::new();
        let mut seqs = Vec::new();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while seqs.last() != Some(&through) {
            let chunk = tokio::time::timeout_at(deadline, res.chunk())
                .await
                .expect("the stream stalled")
                .unwrap()
                .expect("the stream ended");
            text.push_str(&String::from_utf8_lossy(&chunk));
            while let Some(end) = text.find('\n') {
                let line: String = text.drain(..=end).collect();
                if let Some(id) = line.trim_end().strip_prefix("id:") {
                    seqs.push(id.trim().parse().unwrap());
                }
            }
        }
        seqs
    }

    /// A TCP proxy in front of PostgreSQL that can cut every connection and
    /// refuse new ones, then let them through again: an outage the gateway
    /// cannot tell from the real thing.
    struct Proxy {
        port: u16,
        up: Arc<AtomicBool>,
        connections: Arc<tokio::sync::Mutex<JoinSet<()>>>,
    }

    impl Proxy {
        async fn start(target: String) -> Proxy {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let port = listener.local_addr().unwrap().port();
            let up = Arc::new(AtomicBool::new(true));
            let connections = Arc::new(tokio::sync::Mutex::new(JoinSet::new()));
            let (accept_up, accept_conns) = (up.clone(), connections.clone());
            tokio::spawn(async move {
                while let Ok((mut client, _)) = listener.accept().await {
                    if !accept_up.load(Ordering::SeqCst) {
                        let _ = client.shutdown().await;
                        continue;
                    }
                    let target = target.clone();
                    accept_conns.lock().await.spawn(async move {
                        if let Ok(mut server) = TcpStream::connect(target).await {
                            let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                        }
                    });
                }
            });
            Proxy {
                port,
                up,
                connections,
            }
        }

        async fn cut(&self) {
            self.up.store(false, Ordering::SeqCst);
            self.connections.lock().await.abort_all();
        }

        fn restore(&self) {
            self.up.store(true, Ordering::SeqCst);
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn an_outage_gives_503_then_recovers_without_losing_anything() {
        let db = TestDb::create(Backend::Postgres, None).await;
        let mut url = url::Url::parse(db.url()).unwrap();
        let target = format!("{}:{}", url.host_str().unwrap(), url.port().unwrap_or(5432));
        let proxy = Proxy::start(target).await;
        url.set_host(Some("127.0.0.1")).unwrap();
        url.set_port(Some(proxy.port)).unwrap();
        let gateway = Gateway::start_on(url.as_str(), &[]);
        let admin = Api::new(&gateway, &gateway.admin);
        let agent = admin.as_(&admin.token("bot", "agent").await);
        let alice = admin.as_(&admin.token("alice", "approver").await);

        let waited = agent.create(json!({"action": "deploy"})).await;
        let waiter = {
            let agent = agent.clone();
            let waited = waited.clone();
            tokio::spawn(async move {
                agent
                    .get(&format!("/v1/approvals/{waited}?wait=120s"))
                    .await
            })
        };

        // Load: creates that record every acknowledged id, and every status seen.
        let stop = Arc::new(AtomicBool::new(false));
        let mut load = JoinSet::new();
        for _ in 0..4 {
            let (agent, stop) = (agent.clone(), stop.clone());
            load.spawn(async move {
                let mut acknowledged = Vec::new();
                let mut statuses = HashSet::new();
                while !stop.load(Ordering::SeqCst) {
                    let (status, body) = agent
                        .post("/v1/approvals", json!({"action": "deploy"}))
                        .await;
                    statuses.insert(status);
                    if status == StatusCode::CREATED {
                        acknowledged.push(body["id"].as_str().unwrap().to_owned());
                    } else {
                        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                }
                (acknowledged, statuses)
            });
        }
        tokio::time::sleep(Duration::from_secs(1)).await;

        proxy.cut().await;
        tokio::time::sleep(Duration::from_secs(2)).await;
        let (ready, body) = admin.get("/readyz").await;
        assert_eq!(ready, StatusCode::SERVICE_UNAVAILABLE, "{body}");
        let (live, _) = admin.get("/healthz").await;
        assert_eq!(live, StatusCode::OK, "the process stays up");
        tokio::time::sleep(Duration::from_secs(1)).await;

        proxy.restore();
        let deadline = Instant::now() + Duration::from_secs(30);
        while admin.get("/readyz").await.0 != StatusCode::OK {
            assert!(Instant::now() < deadline, "the gateway did not recover");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        // Writes work again, and a waiter from before the outage gets its decision.
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let status = alice.review(&waited, "approve").await;
            if status == StatusCode::OK {
                break;
            }
            assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
            assert!(Instant::now() < deadline, "writes did not recover");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let (status, answered) = tokio::time::timeout(Duration::from_secs(10), waiter)
            .await
            .expect("the waiter was not answered")
            .unwrap();
        assert_eq!(
            (status, answered["status"].as_str()),
            (StatusCode::OK, Some("approved"))
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
        stop.store(true, Ordering::SeqCst);

        let mut acknowledged = Vec::new();
        let mut statuses = HashSet::new();
        while let Some(done) = load.join_next().await {
            let (ids, seen) = done.unwrap();
            acknowledged.extend(ids);
            statuses.extend(seen);
        }
        assert!(
            statuses.contains(&StatusCode::SERVICE_UNAVAILABLE),
            "the outage was seen as 503"
        );
        let log = admin.verified_log().await;
        let requested: HashSet<String> = log
            .iter()
            .filter(|e| e.kind == assent_domain::EventType::ApprovalRequested)
            .filter_map(|e| e.approval_id.map(|id| id.to_string()))
            .collect();
        for id in &acknowledged {
            assert!(requested.contains(id), "acknowledged {id} is missing");
        }
        assert!(
            acknowledged.len() > 10,
            "the load made progress: {}",
            acknowledged.len()
        );
    }

    /// Each event's deliveries as a webhook receiver counts them: how many
    /// requests carried it.
    type Received = Arc<std::sync::Mutex<HashMap<i64, usize>>>;

    /// A plain HTTP/1.1 receiver that answers 204 to every POST and counts
    /// the event `seq` of each body.
    async fn receiver() -> (u16, Received) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let received: Received = Arc::default();
        let counts = received.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let counts = counts.clone();
                tokio::spawn(async move {
                    let mut stream = BufReader::new(stream);
                    loop {
                        let mut length = 0;
                        let mut line = String::new();
                        loop {
                            line.clear();
                            if stream.read_line(&mut line).await.unwrap_or(0) == 0 {
                                return;
                            }
                            if line == "\r\n" {
                                break;
                            }
                            if let Some((name, value)) = line.split_once(':')
                                && name.eq_ignore_ascii_case("content-length")
                            {
                                length = value.trim().parse().unwrap();
                            }
                        }
                        let mut body = vec![0; length];
                        stream.read_exact(&mut body).await.unwrap();
                        let event: Value = serde_json::from_slice(&body).unwrap();
                        *counts
                            .lock()
                            .unwrap()
                            .entry(event["seq"].as_i64().unwrap())
                            .or_default() += 1;
                        let reply = b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n";
                        if stream.get_mut().write_all(reply).await.is_err() {
                            return;
                        }
                    }
                });
            }
        });
        (port, received)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn two_instances_deliver_each_event_to_a_webhook_once() {
        let (port, received) = receiver().await;
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("assent.toml");
        std::fs::write(
            &config,
            format!(
                "webhook_retry_base = \"100ms\"\n\n[[webhook]]\nurl = \"http://127.0.0.1:{port}/hook\"\n\
                 secret = \"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"\n"
            ),
        )
        .unwrap();
        let p = pair(Some(&config)).await;
        let admin_a = Api::new(&p.a, &p.admin);
        let agent = admin_a.token("bot", "agent").await;
        let alice = admin_a.token("alice", "approver").await;
        let (agent_a, agent_b) = (admin_a.as_(&agent), Api::new(&p.b, &agent));
        let alice_b = Api::new(&p.b, &alice);
        for i in 0..20 {
            let creator = if i % 2 == 0 { &agent_a } else { &agent_b };
            let id = creator.create(json!({"action": "deploy"})).await;
            assert_eq!(alice_b.review(&id, "approve").await, StatusCode::OK);
        }
        let last = admin_a.verified_log().await.last().unwrap().seq;
        let deadline = Instant::now() + Duration::from_secs(30);
        while received.lock().unwrap().len() < last as usize {
            assert!(Instant::now() < deadline, "not every event was delivered");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        // Time for any duplicate claim to arrive too.
        tokio::time::sleep(Duration::from_secs(1)).await;
        let counts = received.lock().unwrap().clone();
        let expected: HashMap<i64, usize> = (1..=last).map(|seq| (seq, 1)).collect();
        assert_eq!(
            counts, expected,
            "one delivery per event across both instances"
        );
    }
}
